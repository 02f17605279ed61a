//! Identifiers people and businesses are known by, parsed once at the boundary.

use chrono::{Datelike, NaiveDate};

use crate::FieldError;

/// The 63 province codes in force before the 2025 merger; a CCCD starts with `0` and one of them
/// (the province where the birth was registered).
const PROVINCE_CODES_BEFORE_2025: [&str; 63] = [
    "01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24", "25", "26", "27", "30",
    "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45", "46", "48", "49", "51", "52", "54", "56", "58",
    "60", "62", "64", "66", "67", "68", "70", "72", "74", "75", "77", "79", "80", "82", "83", "84", "86", "87", "89",
    "91", "92", "93", "94", "95", "96",
];

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A 12-digit citizen ID number (CCCD / số định danh cá nhân).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenId(String);

impl CitizenId {
    /// Checks the length, the province code, and — when the date of birth is known — that the
    /// fourth digit (sex and century) and the two year digits agree with it.
    pub fn parse(field: &str, raw: &str, date_of_birth: Option<NaiveDate>) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.len() != 12 || !digits(s) {
            return Err(FieldError::new(
                field,
                "invalid_format",
                "Số định danh cá nhân gồm đúng 12 chữ số",
                "A citizen ID number is exactly 12 digits",
            ));
        }
        if !s.starts_with('0') || !PROVINCE_CODES_BEFORE_2025.contains(&&s[1..3]) {
            return Err(FieldError::new(
                field,
                "invalid_province",
                "Ba chữ số đầu không phải mã tỉnh nơi đăng ký khai sinh",
                "The first three digits are not a province code",
            ));
        }
        let century_digit = s.as_bytes()[3] - b'0';
        let century_start = match century_digit {
            0 | 1 => 1900,
            2 | 3 => 2000,
            4 | 5 => 2100,
            6 | 7 => 2200,
            _ => 2300,
        };
        if let Some(dob) = date_of_birth {
            let year = century_start + i32::from(s.as_bytes()[4] - b'0') * 10 + i32::from(s.as_bytes()[5] - b'0');
            if dob.year() != year {
                return Err(FieldError::new(
                    field,
                    "inconsistent_birth_year",
                    "Số định danh không khớp với năm sinh",
                    "The ID number does not match the year of birth",
                ));
            }
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Female when the sex-and-century digit is odd.
    pub fn is_female(&self) -> bool {
        (self.0.as_bytes()[3] - b'0') % 2 == 1
    }
}

/// A Vietnamese mobile number, kept in E.164 (`+84912345678`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `0xxxxxxxxx`, `84xxxxxxxxx` or `+84xxxxxxxxx` (spaces, dots and dashes ignored) for
    /// mobile prefixes 3, 5, 7, 8 and 9.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = compact
            .strip_prefix("+84")
            .or_else(|| compact.strip_prefix("84").filter(|r| r.len() == 9))
            .or_else(|| compact.strip_prefix('0'))
            .unwrap_or("");
        let ok = national.len() == 9
            && digits(national)
            && matches!(national.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9');
        if ok {
            Ok(Self(format!("+84{national}")))
        } else {
            Err(FieldError::new(
                field,
                "invalid_phone",
                "Số điện thoại di động có dạng 0xxxxxxxxx hoặc +84xxxxxxxxx",
                "A mobile number looks like 0xxxxxxxxx or +84xxxxxxxxx",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last three digits hidden, for logs and answers.
    pub fn masked(&self) -> String {
        format!("+84******{}", &self.0[self.0.len() - 3..])
    }
}

/// A 10-digit social insurance code (mã số BHXH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BhxhCode(String);

impl BhxhCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.len() == 10 && digits(s) {
            Ok(Self(s.to_string()))
        } else {
            Err(FieldError::new(
                field,
                "invalid_format",
                "Mã số BHXH gồm đúng 10 chữ số",
                "A social insurance code is exactly 10 digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tax code (mã số thuế): 10 digits, or 13 as `NNNNNNNNNN-NNN` for a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxCode(String);

impl TaxCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let ok = match s.split_once('-') {
            None => s.len() == 10 && digits(s),
            Some((head, branch)) => head.len() == 10 && digits(head) && branch.len() == 3 && digits(branch),
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(FieldError::new(
                field,
                "invalid_format",
                "Mã số thuế gồm 10 chữ số, hoặc 10-3 chữ số với đơn vị phụ thuộc",
                "A tax code is 10 digits, or 10-3 digits for a branch",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked for shape only (a message proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            })
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s.to_lowercase()))
        } else {
            Err(FieldError::new(field, "invalid_email", "Địa chỉ thư điện tử không hợp lệ", "Invalid e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An identity read from a certificate subject, the way Vietnamese CAs write the UID attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateIdentity {
    /// `CCCD:` — citizen ID number.
    Cccd(String),
    /// `CMND:` — the older identity card number.
    Cmnd(String),
    /// `MST:` — tax code of a business or organisation.
    Mst(String),
}

impl CertificateIdentity {
    /// Reads `CCCD:001099012345`, `CMND:012345678`, `MST:0101234567` (prefix case ignored).
    pub fn from_uid(value: &str) -> Option<Self> {
        let (prefix, id) = value.trim().split_once(':')?;
        let id = id.trim().to_string();
        if id.is_empty() {
            return None;
        }
        match prefix.trim().to_ascii_uppercase().as_str() {
            "CCCD" => Some(Self::Cccd(id)),
            "CMND" => Some(Self::Cmnd(id)),
            "MST" => Some(Self::Mst(id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn citizen_ids() {
        assert!(CitizenId::parse("id", "001099012345", date(1999, 5, 1)).is_ok());
        assert!(CitizenId::parse("id", "079301012345", date(2001, 1, 1)).expect("valid").is_female());
        assert_eq!(CitizenId::parse("id", "00109901234", None).expect_err("short").code, "invalid_format");
        assert_eq!(
            CitizenId::parse("id", "003099012345", None).expect_err("03 is no province").code,
            "invalid_province"
        );
        assert_eq!(
            CitizenId::parse("id", "001299012345", date(1999, 1, 1)).expect_err("2 means 2000s").code,
            "inconsistent_birth_year"
        );
        assert_eq!(
            CitizenId::parse("id", "001098012345", date(1999, 1, 1)).expect_err("year digits").code,
            "inconsistent_birth_year"
        );
        assert!(CitizenId::parse("id", "00109901234a", None).is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(PhoneNumber::parse("p", "0912345678").expect("ok").as_str(), "+84912345678");
        assert_eq!(PhoneNumber::parse("p", "+84 912 345 678").expect("ok").as_str(), "+84912345678");
        assert_eq!(PhoneNumber::parse("p", "84912345678").expect("ok").as_str(), "+84912345678");
        assert!(PhoneNumber::parse("p", "0212345678").is_err(), "landline prefix");
        assert!(PhoneNumber::parse("p", "091234567").is_err());
        assert!(PhoneNumber::parse("p", "+1912345678").is_err());
        assert_eq!(PhoneNumber::parse("p", "0912345678").expect("ok").masked(), "+84******678");
    }

    #[test]
    fn codes() {
        assert!(BhxhCode::parse("b", "0123456789").is_ok());
        assert!(BhxhCode::parse("b", "012345678").is_err());
        assert!(TaxCode::parse("t", "0101234567").is_ok());
        assert!(TaxCode::parse("t", "0101234567-001").is_ok());
        assert!(TaxCode::parse("t", "0101234567-01").is_err());
        assert!(TaxCode::parse("t", "010123456").is_err());
        assert!(Email::parse("e", "An.Nguyen@Example.vn").is_ok());
        assert!(Email::parse("e", "no-at-sign").is_err());
        assert!(Email::parse("e", "a@b").is_err());
    }

    #[test]
    fn certificate_uids() {
        assert_eq!(
            CertificateIdentity::from_uid("CCCD:001099012345"),
            Some(CertificateIdentity::Cccd("001099012345".into()))
        );
        assert_eq!(
            CertificateIdentity::from_uid("mst: 0101234567"),
            Some(CertificateIdentity::Mst("0101234567".into()))
        );
        assert_eq!(CertificateIdentity::from_uid("PASSPORT:B123"), None);
    }
}
