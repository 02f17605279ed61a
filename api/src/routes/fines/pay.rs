//! Paying a fine: a payment started for what the decision owes today, the sandbox's completion,
//! the settlement a provider's confirmation makes, and the electronic receipt.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use dvc_domain::fine::{owed, FineStatus};
use dvc_domain::payment::PaymentStatus;
use dvc_persistence::codes::Code;
use dvc_persistence::fines::{self as f, FinePaymentRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::receipts::ReceiptView;
use crate::state::AppState;

use super::{find_matching, FineLookup};
use crate::routes::payments::{not_pending, record_sandbox_callback, sandbox_txn};

/// Paying a fine.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFinePayment {
    #[schema(example = "12345/QĐ-XPHC")]
    pub decision_number: String,
    #[schema(example = "30A-123.45")]
    pub plate: Option<String>,
    pub id_number: Option<String>,
    /// `sandbox` (sandbox mode only) or `vnpay`.
    #[schema(example = "sandbox", pattern = "^(sandbox|vnpay)$")]
    pub provider: String,
}

/// A payment of a fine.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FinePaymentView {
    pub id: String,
    pub decision_number: String,
    pub provider: String,
    pub fine_vnd: i64,
    /// The late surcharge as of when the payment started.
    pub surcharge_vnd: i64,
    pub amount_vnd: i64,
    pub status: PaymentStatus,
    pub reference: String,
    pub redirect_url: Option<String>,
    /// VietQR (NAPAS, EMVCo) payload for a bank transfer of the same amount.
    pub vietqr: String,
    pub confirmed_at: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptView>,
}

fn payment_view(state: &AppState, row: FinePaymentRow, number: &str, redirect_url: Option<String>) -> FinePaymentView {
    FinePaymentView {
        vietqr: crate::routes::payments::vietqr(state, row.amount_vnd, number),
        id: row.id,
        decision_number: number.to_string(),
        provider: row.provider,
        fine_vnd: row.fine_vnd,
        surcharge_vnd: row.surcharge_vnd,
        amount_vnd: row.amount_vnd,
        status: row.status.0,
        reference: row.reference,
        redirect_url,
        confirmed_at: row.confirmed_at.map(rfc3339),
        created_at: rfc3339(row.created_at),
        receipt: None,
    }
}

/// Pay a fine.
///
/// Starts paying what the decision owes today (the fine and the late surcharge): a new attempt
/// supersedes an unfinished one; a paid decision is not paid again (409).
#[utoipa::path(operation_id = "payFine", tag = "fines", request_body = NewFinePayment, responses(
    (status = 201, description = "Payment started", body = FinePaymentView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such decision with that plate or ID number", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Already paid, or cancelled", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Provider not available", body = Problem, content_type = "application/problem+json"),
))]
#[post("/fines/payments")]
pub async fn pay_fine(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<NewFinePayment>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let lookup = FineLookup {
        decision_number: Some(input.decision_number.clone()),
        plate: input.plate.clone(),
        id_number: input.id_number.clone(),
    };
    let (number, plate, id) = lookup.checked()?;
    let gateway = match crate::payment::provider(&state.config, &input.provider) {
        Ok(Some(gateway)) => gateway,
        Ok(None) => {
            return Err(ApiError::unprocessable(
                "provider_unavailable",
                Msg::new("Kênh thanh toán này không được bật", "This payment provider is not enabled"),
            ))
        }
        Err(e) => return Err(ApiError::field(e)),
    };
    let ip = crate::ratelimit::client_address(&req, state.config.trust_forwarded);
    let today = state.clock.moment().today;
    let shared = state.clone();
    let view = state
        .tx(move |conn| {
            let fine = find_matching(conn, &number, plate.as_deref(), id.as_deref())?;
            if fine.status.0 != FineStatus::Unpaid {
                let mut e = ApiError::conflict(Msg::new(
                    "Quyết định này đã nộp phạt hoặc đã hủy",
                    "This decision is already paid, or cancelled",
                ));
                e.code = "already_paid";
                return Err(e);
            }
            let due = owed(fine.amount_vnd, fine.pay_by, today);
            let t = now();
            f::cancel_pending(conn, &fine.id, t)?;
            let payment = FinePaymentRow {
                id: new_id(),
                fine_id: fine.id.clone(),
                provider: gateway.name().to_string(),
                fine_vnd: due.fine_vnd,
                surcharge_vnd: due.surcharge_vnd,
                amount_vnd: due.total(),
                status: Code(PaymentStatus::Pending),
                reference: uuid::Uuid::new_v4().simple().to_string(),
                provider_txn_no: None,
                bank_code: None,
                confirmed_at: None,
                created_at: t,
                updated_at: t,
            };
            f::insert_payment(conn, &payment)?;
            let created = t.and_utc().with_timezone(&crate::calendar::vietnam()).format("%Y%m%d%H%M%S").to_string();
            let info = format!("Nop phat QD {}", fine.decision_number);
            let redirect = gateway.redirect_url(&payment.reference, payment.amount_vnd, &info, &ip, &created);
            Ok(payment_view(&shared, payment, &fine.decision_number, redirect))
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Records that a fine's payment was paid: the decision paid (once), its receipt, and the
/// `fine.paid` event for the issuing system. Whether the payment was pending.
pub(crate) fn settle(
    conn: &mut DbConn,
    payment: &FinePaymentRow,
    txn_no: Option<&str>,
    bank: Option<&str>,
) -> Result<bool, ApiError> {
    let at = now();
    if !f::settle_payment(conn, &payment.id, PaymentStatus::Paid, txn_no, bank, at)? {
        return Ok(false);
    }
    let fine = f::fine_by_id(conn, &payment.fine_id)?.ok_or_else(ApiError::internal)?;
    if !f::mark_fine_paid(conn, &fine.id, payment.amount_vnd, at)? {
        // Paid twice (a superseded attempt confirmed late): the money is recorded, the decision
        // stays as it was, and the reconciliation shows it for a refund.
        tracing::warn!(payment = %payment.id, "a fine decision that was not unpaid received a payment");
        return Ok(true);
    }
    let receipt = crate::receipts::issue(
        conn,
        crate::receipts::Paid {
            agency_id: &fine.agency_id,
            kind: "fine",
            payment_id: &payment.id,
            payer_name: &fine.violator_name,
            content: format!("Nộp phạt theo quyết định {}: {}", fine.decision_number, fine.violation),
            amount_vnd: payment.amount_vnd,
            at,
        },
    )?;
    crate::integration::emit(
        conn,
        "fine.paid",
        crate::integration::Subject { agency_id: &fine.agency_id, dossier_id: None, dossier_code: None },
        serde_json::json!({
            "decision_number": fine.decision_number, "fine_vnd": payment.fine_vnd,
            "surcharge_vnd": payment.surcharge_vnd, "amount_vnd": payment.amount_vnd,
            "provider": payment.provider, "paid_at": rfc3339(at),
            "receipt": {"series": receipt.series, "number": dvc_domain::fine::receipt_number(receipt.number),
                        "verification_code": receipt.verification_code},
        }),
    )?;
    Ok(true)
}

/// Sandbox mode only: settle a sandbox payment of a fine as if the bank had confirmed it.
#[utoipa::path(operation_id = "completeSandboxFinePayment", tag = "fines", params(("id" = String, Path, description = "Payment id")), responses(
    (status = 200, description = "Paid", body = FinePaymentView),
    (status = 404, description = "No such sandbox payment (or sandbox mode is off)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not pending", body = Problem, content_type = "application/problem+json"),
))]
#[post("/fines/payments/{id}/sandbox-complete")]
pub async fn sandbox_complete(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<web::Json<FinePaymentView>> {
    let id = crate::routes::path_key(id.into_inner(), "khoản thanh toán", "Payment")?;
    if !state.config.sandbox {
        return Err(ApiError::not_found("khoản thanh toán", "Payment"));
    }
    let shared = state.clone();
    let view = state
        .tx(move |conn| {
            let not_found = || ApiError::not_found("khoản thanh toán", "Payment");
            let payment = f::payment(conn, &id)?.filter(|p| p.provider == "sandbox").ok_or_else(not_found)?;
            if !settle(conn, &payment, Some(&sandbox_txn(&payment.reference)), Some("SANDBOX"))? {
                return Err(not_pending());
            }
            record_sandbox_callback(conn, &payment.reference)?;
            let payment = f::payment(conn, &id)?.ok_or_else(ApiError::internal)?;
            fine_payment_view(conn, &shared, payment)
        })
        .await?;
    Ok(web::Json(view))
}

/// A fine's payment with its decision number and receipt.
pub(crate) fn fine_payment_view(
    conn: &mut DbConn,
    state: &AppState,
    payment: FinePaymentRow,
) -> Result<FinePaymentView, ApiError> {
    let fine = f::fine_by_id(conn, &payment.fine_id)?.ok_or_else(ApiError::internal)?;
    let receipt = f::receipt_of_payment(conn, &payment.id)?;
    let mut view = payment_view(state, payment, &fine.decision_number, None);
    if let Some(r) = receipt {
        let agency = f::agency_of(conn, &r.agency_id)?.unwrap_or_default();
        view.receipt = Some(crate::receipts::view(&r, agency));
    }
    Ok(view)
}

/// Check an electronic receipt.
///
/// The receipt its verification code (printed on it, and in its QR code) names: the series,
/// number, collecting agency, amount and what it was for.
#[utoipa::path(operation_id = "getReceipt", tag = "payments", params(("code" = String, Path, description = "Verification code")), responses(
    (status = 200, description = "The receipt", body = ReceiptView),
    (status = 404, description = "No receipt has that code", body = Problem, content_type = "application/problem+json"),
))]
#[get("/receipts/{code}")]
pub async fn get_receipt(state: web::Data<AppState>, code: web::Path<String>) -> ApiResult<web::Json<ReceiptView>> {
    let code = crate::routes::path_key(code.into_inner(), "biên lai", "Receipt")?;
    let view = state
        .db(move |conn| {
            let row = f::receipt_by_code(conn, &code)?.ok_or_else(|| ApiError::not_found("biên lai", "Receipt"))?;
            let agency = f::agency_of(conn, &row.agency_id)?.unwrap_or_default();
            Ok(crate::receipts::view(&row, agency))
        })
        .await?;
    Ok(web::Json(view))
}

/// An electronic receipt as a PDF.
///
/// The receipt to print or keep, with a QR code of the address that checks it.
#[utoipa::path(operation_id = "getReceiptPdf", tag = "payments", params(("code" = String, Path, description = "Verification code")), responses(
    (status = 200, description = "The receipt", body = Vec<u8>, content_type = "application/pdf"),
    (status = 404, description = "No receipt has that code", body = Problem, content_type = "application/problem+json"),
))]
#[get("/receipts/{code}/pdf")]
pub async fn receipt_pdf(state: web::Data<AppState>, code: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = crate::routes::path_key(code.into_inner(), "biên lai", "Receipt")?;
    let (row, agency) = state
        .db(move |conn| {
            let row = f::receipt_by_code(conn, &code)?.ok_or_else(|| ApiError::not_found("biên lai", "Receipt"))?;
            let agency = f::agency_of(conn, &row.agency_id)?.unwrap_or_default();
            Ok((row, agency))
        })
        .await?;
    let url = format!("{}/api/v1/receipts/{}", state.config.public_url, row.verification_code);
    let name = format!("bien-lai-{}-{}.pdf", row.year, dvc_domain::fine::receipt_number(row.number));
    crate::documents::pdf_answer("a receipt", &name, "inline", move || crate::receipts::pdf(&row, &agency, &url)).await
}
