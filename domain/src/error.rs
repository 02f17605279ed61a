//! Field-level errors that domain parsers report, rendered by the API in Vietnamese or English.

use serde::Serialize;

/// One invalid input field: where it is, a stable machine code, and a message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message_vi: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self { field: field.into(), code, message_vi: vi.into(), message_en: en.into() }
    }

    /// A required field is missing or empty.
    pub fn required(field: &str) -> Self {
        Self::new(field, "required", "Trường này là bắt buộc", "This field is required")
    }

    /// A value is not one of the allowed choices.
    pub fn one_of(field: &str, allowed: &[&str]) -> Self {
        let list = allowed.join(", ");
        Self::new(
            field,
            "invalid_choice",
            format!("Giá trị không hợp lệ; chọn một trong: {list}"),
            format!("Invalid value; expected one of: {list}"),
        )
    }

    /// A value is not an integer in the allowed range.
    pub fn int_range(field: &str, min: i64, max: i64) -> Self {
        Self::new(
            field,
            "out_of_range",
            format!("Phải là số nguyên từ {min} đến {max}"),
            format!("Must be an integer from {min} to {max}"),
        )
    }

    /// A text value is too long.
    pub fn too_long(field: &str, max: usize) -> Self {
        Self::new(
            field,
            "too_long",
            format!("Không được dài quá {max} ký tự"),
            format!("Must be at most {max} characters"),
        )
    }
}
