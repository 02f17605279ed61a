//! The catalogue of administrative procedures (thủ tục hành chính) and the rules on its data.

use serde::{Deserialize, Serialize};

use crate::FieldError;

mod bundle;
pub use bundle::{Bundle, BundleStep};

/// Declares a closed set of string-coded values with parsing and display.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The codes accepted on the wire.
            pub const CODES: &'static [&'static str] = &[$($code),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }

            /// Parses `s` or reports which values `field` accepts.
            pub fn parse_field(field: &str, s: &str) -> Result<Self, $crate::FieldError> {
                Self::parse(s).ok_or_else(|| $crate::FieldError::one_of(field, Self::CODES))
            }
        }

        impl $crate::CodeEnum for $name {
            const CODES: &'static [&'static str] = &[$($code),+];

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }

            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use code_enum;

mod fees;
pub use fees::*;

code_enum! {
    /// Administrative tier (cấp thực hiện). The district tier was abolished on 1 July 2025 and is
    /// kept for historical data only.
    Tier { Central = "central", Province = "province", District = "district", Commune = "commune" }
}

code_enum! {
    /// Online mode under Decree 42/2022/NĐ-CP: full (toàn trình), partial (một phần) or not online.
    OnlineMode { Full = "full", Partial = "partial", None = "none" }
}

code_enum! {
    /// Who a procedure is for.
    Audience { Citizen = "citizen", Business = "business", Organization = "organization" }
}

/// Service level 1–4 of Circular 26/2009/TT-BTTTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceLevel(u8);

impl ServiceLevel {
    pub fn new(level: i64) -> Option<Self> {
        (1..=4).contains(&level).then_some(Self(level as u8))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The online mode a level corresponds to when only the level is known.
    pub fn default_online(self) -> OnlineMode {
        match self.0 {
            4 => OnlineMode::Full,
            3 => OnlineMode::Partial,
            _ => OnlineMode::None,
        }
    }

    /// Whether dossiers may be filled and submitted online (level 3 and up).
    pub fn allows_online_submission(self) -> bool {
        self.0 >= 3
    }
}

impl OnlineMode {
    /// The level a mode corresponds to when only the mode is known.
    pub fn default_level(self) -> ServiceLevel {
        match self {
            OnlineMode::Full => ServiceLevel(4),
            OnlineMode::Partial => ServiceLevel(3),
            OnlineMode::None => ServiceLevel(2),
        }
    }

    /// Whether a level and a mode describe the same procedure: full needs level 4, partial level 3
    /// or 4 (online submission with the result at the counter), none level 1 or 2.
    pub fn consistent_with(self, level: ServiceLevel) -> bool {
        match self {
            OnlineMode::Full => level.0 == 4,
            OnlineMode::Partial => level.0 >= 3,
            OnlineMode::None => level.0 <= 2,
        }
    }
}

/// Descriptions of the four service levels and what each lets the applicant do.
pub fn service_level_descriptions() -> [(u8, OnlineMode, &'static str, &'static str); 4] {
    [
        (
            1,
            OnlineMode::None,
            "Cung cấp đầy đủ thông tin về quy trình, thủ tục, hồ sơ, thời hạn, phí và lệ phí",
            "Full information on the procedure, documents, deadlines, fees and charges",
        ),
        (
            2,
            OnlineMode::None,
            "Mức độ 1 và cho phép tải về các mẫu văn bản; nộp hồ sơ trực tiếp hoặc qua bưu điện",
            "Level 1 plus downloadable forms; dossiers are filed in person or by post",
        ),
        (
            3,
            OnlineMode::Partial,
            "Mức độ 2 và cho phép điền, gửi hồ sơ trực tuyến; nộp phí và nhận kết quả tại cơ quan",
            "Level 2 plus online filling and submission; fees and results at the agency",
        ),
        (
            4,
            OnlineMode::Full,
            "Mức độ 3 và cho phép thanh toán phí trực tuyến, nhận kết quả trực tuyến hoặc qua bưu chính",
            "Level 3 plus online payment, with results online or by post",
        ),
    ]
}

/// A document the applicant must attach (thành phần hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequiredDocument {
    pub id: String,
    pub name: String,
    pub mandatory: bool,
    #[serde(default = "one")]
    pub copies: i32,
}

fn one() -> i32 {
    1
}

/// A downloadable form template (tờ khai, mẫu đơn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormTemplate {
    pub id: String,
    pub name: String,
    pub file_name: String,
    #[serde(default = "default_form_content_type")]
    pub content_type: String,
    /// The template's text (a printable form with blanks to fill).
    pub content: String,
}

fn default_form_content_type() -> String {
    "text/plain; charset=utf-8".into()
}

/// Checks a procedure code as the national catalogue writes it: `1.000948` or `1.000948.H38`.
pub fn check_procedure_code(code: &str) -> Result<(), FieldError> {
    let mut parts = code.split('.');
    let ok = matches!(parts.next(), Some(p) if p.len() == 1 && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(parts.next(), Some(p) if p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        && code.len() <= 32;
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "code",
            "invalid_format",
            "Mã thủ tục có dạng 1.000948 hoặc 1.000948.H38",
            "A procedure code looks like 1.000948 or 1.000948.H38",
        ))
    }
}

/// Checks an agency's official code: letters, digits, dots and dashes, e.g. `000.00.12.H26`.
pub fn check_agency_code(field: &str, code: &str) -> Result<(), FieldError> {
    let ok = (2..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && code.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid_format",
            "Mã chỉ gồm chữ, số, dấu chấm và gạch ngang (2–32 ký tự)",
            "Codes are 2–32 letters, digits, dots and dashes",
        ))
    }
}

/// Checks a required, trimmed, bounded text field.
pub fn check_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if crate::text::has_control_chars(value) {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "Có ký tự điều khiển không hợp lệ",
            "Contains control characters",
        ));
    } else if value.trim().is_empty() {
        errors.push(FieldError::required(field));
    } else if value.chars().count() > max {
        errors.push(FieldError::too_long(field, max));
    }
}

/// Checks the catalogue-level rules of the money, documents and forms of a procedure.
pub fn check_procedure_parts(
    fees: &[FeeItem],
    documents: &[RequiredDocument],
    forms: &[FormTemplate],
    errors: &mut Vec<FieldError>,
) {
    for (i, fee) in fees.iter().enumerate() {
        check_text(&format!("fees[{i}].name"), &fee.name, 300, errors);
        let free = matches!(fee.mode, FeeMode::Exempt | FeeMode::Free);
        if !(0..=1_000_000_000_000).contains(&fee.amount_vnd) || (free && fee.amount_vnd != 0) {
            errors.push(FieldError::new(
                format!("fees[{i}].amount_vnd"),
                "invalid_amount",
                "Số tiền là số nguyên đồng từ 0; bằng 0 khi miễn hoặc không thu",
                "Amounts are whole đồng from 0, and 0 when exempt or free",
            ));
        }
        if fee.cap_vnd.is_some_and(|cap| !(0..=1_000_000_000_000).contains(&cap)) {
            errors.push(FieldError::new(
                format!("fees[{i}].cap_vnd"),
                "invalid_amount",
                "Mức tối đa là số nguyên đồng từ 0",
                "A cap is whole đồng from 0",
            ));
        }
        let per_unit = fee.unit != FeeUnit::Dossier;
        if let Some(t) = &fee.tier {
            if !per_unit || t.from_unit < 2 || !(0..=1_000_000_000_000).contains(&t.amount_vnd) {
                errors.push(FieldError::new(
                    format!("fees[{i}].tier"),
                    "invalid_tier",
                    "Mức thu theo bậc chỉ dành cho khoản thu theo bản hoặc trang, từ đơn vị thứ 2, số tiền từ 0",
                    "A tier is for fees per copy or page, from the second unit, with an amount from 0",
                ));
            }
        }
        match &fee.copies_field {
            Some(_) if fee.unit != FeeUnit::Page => errors.push(FieldError::new(
                format!("fees[{i}].copies_field"),
                "not_per_page",
                "Chỉ khoản thu theo trang mới có trường số bản",
                "Only a fee per page has a copies field",
            )),
            Some(field) if !is_form_key(field) => errors.push(FieldError::new(
                format!("fees[{i}].copies_field"),
                "invalid_format",
                "Tên trường gồm chữ, số và _ (tối đa 64 ký tự)",
                "A field name is letters, digits and _ (64 at most)",
            )),
            _ => {}
        }
        match &fee.quantity_field {
            Some(_) if !per_unit => errors.push(FieldError::new(
                format!("fees[{i}].quantity_field"),
                "not_per_unit",
                "Chỉ khoản thu theo bản hoặc theo trang mới có trường số lượng",
                "Only a fee per copy or per page has a quantity field",
            )),
            Some(field) if !is_form_key(field) => errors.push(FieldError::new(
                format!("fees[{i}].quantity_field"),
                "invalid_format",
                "Tên trường gồm chữ, số và _ (tối đa 64 ký tự)",
                "A field name is letters, digits and _ (64 at most)",
            )),
            _ => {}
        }
        if fee.quantity.is_some() || fee.owed_vnd.is_some() {
            errors.push(FieldError::new(
                format!("fees[{i}]"),
                "assessed_fields",
                "`quantity` và `owed_vnd` chỉ do hệ thống tính cho từng hồ sơ",
                "`quantity` and `owed_vnd` are computed for each dossier, not set in the catalogue",
            ));
        }
        if let Some(source) = &fee.source {
            check_text(&format!("fees[{i}].source"), source, 500, errors);
        }
    }
    let mut ids = std::collections::HashSet::new();
    for (i, doc) in documents.iter().enumerate() {
        check_text(&format!("required_documents[{i}].name"), &doc.name, 500, errors);
        if let Err(e) = check_agency_code(&format!("required_documents[{i}].id"), &doc.id) {
            errors.push(e);
        }
        if !ids.insert(doc.id.as_str()) {
            errors.push(duplicate(&format!("required_documents[{i}].id")));
        }
        if !(1..=20).contains(&doc.copies) {
            errors.push(FieldError::int_range(&format!("required_documents[{i}].copies"), 1, 20));
        }
    }
    let mut ids = std::collections::HashSet::new();
    for (i, form) in forms.iter().enumerate() {
        check_text(&format!("forms[{i}].name"), &form.name, 300, errors);
        check_text(&format!("forms[{i}].file_name"), &form.file_name, 200, errors);
        if let Err(e) = check_agency_code(&format!("forms[{i}].id"), &form.id) {
            errors.push(e);
        }
        if !ids.insert(form.id.as_str()) {
            errors.push(duplicate(&format!("forms[{i}].id")));
        }
        if form.content.len() > 256 * 1024 {
            errors.push(FieldError::too_long(&format!("forms[{i}].content"), 256 * 1024));
        }
    }
}

fn is_form_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn duplicate(field: &str) -> FieldError {
    FieldError::new(field, "duplicate", "Mã bị trùng", "Duplicate identifier")
}

/// Checks that an online form schema is a JSON Schema object describing an object.
pub fn check_form_schema(schema: &serde_json::Value) -> Result<(), FieldError> {
    let ok = schema.as_object().is_some_and(|o| {
        o.get("type").and_then(|t| t.as_str()) == Some("object") && o.get("properties").is_none_or(|p| p.is_object())
    });
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "form_schema",
            "invalid_schema",
            "Biểu mẫu phải là JSON Schema có \"type\": \"object\"",
            "The form must be a JSON Schema with \"type\": \"object\"",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_codes() {
        assert!(check_procedure_code("1.000948").is_ok());
        assert!(check_procedure_code("1.000948.H38").is_ok());
        assert!(check_procedure_code("1.00948").is_err());
        assert!(check_procedure_code("x.000948").is_err());
        assert!(check_procedure_code("1.000948.h38").is_err());
        assert!(check_procedure_code("").is_err());
    }

    #[test]
    fn levels_and_modes_map_both_ways() {
        let l4 = ServiceLevel::new(4).expect("level 4");
        assert_eq!(l4.default_online(), OnlineMode::Full);
        assert_eq!(OnlineMode::Partial.default_level().get(), 3);
        assert!(OnlineMode::Partial.consistent_with(l4));
        assert!(!OnlineMode::Full.consistent_with(ServiceLevel::new(3).expect("level 3")));
        assert!(ServiceLevel::new(0).is_none() && ServiceLevel::new(5).is_none());
    }

    #[test]
    fn exempt_fee_must_be_zero() {
        let mut errors = Vec::new();
        let fee = FeeItem::flat(FeeKind::Charge, "Lệ phí", 5000, FeeMode::Exempt);
        check_procedure_parts(&[fee], &[], &[], &mut errors);
        assert_eq!(errors[0].field, "fees[0].amount_vnd");
    }
}
