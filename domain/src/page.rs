//! Page-number pagination for lists people browse.

use crate::FieldError;

/// The largest page a client may ask for.
pub const MAX_PER_PAGE: i64 = 100;
/// The page size when the client does not say.
pub const DEFAULT_PER_PAGE: i64 = 20;

/// A validated page request: `page` from 1, `per_page` from 1 to [`MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    /// Parses the raw query values; anything else than an integer in range is an error, never a clamp.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let page = parse_int("page", page, 1, 1, 100_000, &mut errors);
        let per_page = parse_int("per_page", per_page, DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, &mut errors);
        if errors.is_empty() {
            Ok(Self { page, per_page })
        } else {
            Err(errors)
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

/// Parses an optional integer query parameter within `[min, max]`, recording a field error otherwise
/// (an empty value included).
pub fn parse_int(
    field: &str,
    raw: Option<&str>,
    default: i64,
    min: i64,
    max: i64,
    errors: &mut Vec<FieldError>,
) -> i64 {
    match raw.map(str::trim) {
        None => default,
        Some(s) => match s.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => v,
            _ => {
                errors.push(FieldError::int_range(field, min, max));
                default
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_instead_of_clamping() {
        assert!(PageRequest::parse(None, Some("abc")).is_err());
        assert!(PageRequest::parse(None, Some("1000")).is_err());
        assert!(PageRequest::parse(Some("0"), None).is_err());
        let p = PageRequest::parse(Some("3"), Some("10")).unwrap_or_default();
        assert_eq!((p.page, p.per_page, p.offset()), (3, 10, 20));
        assert_eq!(PageRequest::parse(None, None), Ok(PageRequest::default()));
    }
}
