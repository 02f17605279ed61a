//! Electronic receipts (biên lai điện tử): one for every payment, of a dossier's fees or of a
//! fine, numbered in a series per collecting agency and year, as JSON and as a PDF whose QR code
//! leads to the public check of it.

use chrono::{Datelike, NaiveDateTime};
use dvc_domain::fine::{masked_name, receipt_number, receipt_series};
use dvc_persistence::fines::{self as f, ReceiptRow};
use dvc_persistence::{new_id, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::documents::pdf::{Layout, PdfError, Style};
use crate::error::ApiError;

/// What a payment is, for its receipt.
pub struct Paid<'a> {
    /// The collecting agency.
    pub agency_id: &'a str,
    /// `dossier` or `fine`.
    pub kind: &'static str,
    pub payment_id: &'a str,
    pub payer_name: &'a str,
    pub content: String,
    pub amount_vnd: i64,
    pub at: NaiveDateTime,
}

/// Issues the receipt of a payment in the caller's transaction (once: a payment has one).
pub fn issue(conn: &mut DbConn, paid: Paid) -> Result<ReceiptRow, ApiError> {
    if let Some(existing) = f::receipt_of_payment(conn, paid.payment_id)? {
        return Ok(existing);
    }
    let year = crate::calendar::local_date(paid.at).year();
    let number = f::next_receipt_number(conn, paid.agency_id, year)?;
    let row = ReceiptRow {
        id: new_id(),
        agency_id: paid.agency_id.to_string(),
        year,
        number,
        series: receipt_series(year),
        payment_kind: paid.kind.to_string(),
        payment_id: paid.payment_id.to_string(),
        payer_name: paid.payer_name.trim().to_string(),
        content: paid.content,
        amount_vnd: paid.amount_vnd,
        issued_at: paid.at,
        verification_code: crate::auth::random_token(10).to_uppercase(),
    };
    f::insert_receipt(conn, &row)?;
    Ok(row)
}

/// A receipt as anyone holding its code sees it (the payer's name shortened).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    /// The receipt template (mẫu số).
    #[schema(example = "01BLP0-001")]
    pub template: String,
    /// The serial (ký hiệu): the year's last two digits, electronic.
    #[schema(example = "BL/26E")]
    pub series: String,
    /// Seven digits, from 1 in each agency and year.
    #[schema(example = "0000042")]
    pub number: String,
    pub agency: ReceiptAgency,
    #[schema(example = "Nguyễn V. A.")]
    pub payer: String,
    pub content: String,
    pub amount_vnd: i64,
    pub issued_at: String,
    /// What finds it again: in its QR code, and at `/api/v1/receipts/{verification_code}`.
    #[schema(example = "3F9A0C51D2E47B8A6C10")]
    pub verification_code: String,
    pub pdf_url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptAgency {
    pub code: String,
    pub name: String,
}

/// The template number of the receipts dvc issues.
pub const TEMPLATE: &str = "01BLP0-001";

pub fn view(row: &ReceiptRow, agency: (String, String)) -> ReceiptView {
    ReceiptView {
        template: TEMPLATE.to_string(),
        series: row.series.clone(),
        number: receipt_number(row.number),
        agency: ReceiptAgency { code: agency.0, name: agency.1 },
        payer: masked_name(&row.payer_name),
        content: row.content.clone(),
        amount_vnd: row.amount_vnd,
        issued_at: rfc3339(row.issued_at),
        verification_code: row.verification_code.clone(),
        pdf_url: format!("/api/v1/receipts/{}/pdf", row.verification_code),
    }
}

/// Whole đồng as Vietnamese write them: `1.234.000 đồng`.
pub fn dong(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}{out} đồng", if amount < 0 { "-" } else { "" })
}

/// The receipt as a PDF, with a QR code of the address that checks it.
pub fn pdf(row: &ReceiptRow, agency: &(String, String), verify_url: &str) -> Result<Vec<u8>, PdfError> {
    let mut page = Layout::new();
    page.text(&agency.1.to_uppercase(), Style::CENTER_BOLD);
    page.text(&format!("Mã đơn vị: {}", agency.0), Style::CENTER);
    page.gap(14.0);
    page.text("BIÊN LAI THU ĐIỆN TỬ", Style::TITLE);
    page.text(
        &format!("Mẫu số {TEMPLATE}   Ký hiệu {}   Số {}", row.series, receipt_number(row.number)),
        Style::CENTER,
    );
    page.gap(14.0);
    let qr = crate::payment::qr_png(verify_url).map_err(PdfError)?;
    page.image_right(qr, 90.0);
    page.field("Người nộp:", &row.payer_name);
    page.field("Nội dung thu:", &row.content);
    page.field("Số tiền:", &dong(row.amount_vnd));
    let local = row.issued_at.and_utc().with_timezone(&crate::calendar::vietnam());
    page.field("Thời điểm thu:", &local.format("%H:%M ngày %d/%m/%Y").to_string());
    page.field("Mã tra cứu:", &row.verification_code);
    page.gap(10.0);
    page.text(&format!("Tra cứu biên lai tại {verify_url}"), Style::SMALL);
    page.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_as_vietnamese_write_them() {
        assert_eq!(super::dong(1_234_000), "1.234.000 đồng");
        assert_eq!(super::dong(500), "500 đồng");
        assert_eq!(super::dong(0), "0 đồng");
    }
}
