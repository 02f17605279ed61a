//! The printable form of a procedure: the national motto, the form's title, one line to fill for
//! each field of the procedure's online form (required ones marked), and the place for the
//! applicant's signature. Printed, filled by hand and scanned, it is a document the upload takes.

use super::pdf::{Layout, PdfError, Style};

/// A form as the catalogue describes it.
pub struct FormSheet<'a> {
    pub title: &'a str,
    pub procedure_code: &'a str,
    pub procedure_name: &'a str,
    /// The JSON Schema of the online form, when the procedure has one.
    pub schema: Option<&'a serde_json::Value>,
    /// Free text the template carries (instructions, or fields the schema does not list).
    pub notes: Option<&'a str>,
}

/// The form as a PDF.
pub fn render(form: &FormSheet) -> Result<Vec<u8>, PdfError> {
    let mut page = Layout::new();
    page.text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Style::CENTER_BOLD);
    page.text("Độc lập - Tự do - Hạnh phúc", Style::CENTER_BOLD);
    page.gap(18.0);
    page.text(&form.title.to_uppercase(), Style::TITLE);
    page.text(&format!("Thủ tục {} — {}", form.procedure_code, form.procedure_name), Style::CENTER);
    page.gap(14.0);
    let properties = form.schema.and_then(|s| s.get("properties")).and_then(|p| p.as_object());
    let required: Vec<&str> = form
        .schema
        .and_then(|s| s.get("required"))
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for (key, property) in properties.into_iter().flatten() {
        let label = property.get("title").and_then(|t| t.as_str()).unwrap_or(key);
        let mark = if required.contains(&key.as_str()) { " (*)" } else { "" };
        let choices: Vec<&str> = property
            .get("enum")
            .and_then(|e| e.as_array())
            .map(|e| e.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if choices.is_empty() {
            page.blank(&format!("{label}{mark}:"));
        } else {
            page.blank(&format!("{label}{mark} ({}):", choices.join(" / ")));
        }
    }
    if let Some(notes) = form.notes.filter(|n| !n.trim().is_empty()) {
        page.gap(8.0);
        page.text(notes, Style::BODY);
    }
    page.gap(10.0);
    if !required.is_empty() {
        page.text("(*) Thông tin bắt buộc.", Style::SMALL);
    }
    page.gap(24.0);
    page.text(
        "..........., ngày ..... tháng ..... năm ..........",
        Style { align: super::pdf::Align::Right, ..Style::BODY },
    );
    page.text("NGƯỜI YÊU CẦU", Style { align: super::pdf::Align::Right, ..Style::LABEL });
    page.text("(Ký, ghi rõ họ, chữ đệm, tên)", Style { align: super::pdf::Align::Right, ..Style::SMALL });
    page.finish()
}
