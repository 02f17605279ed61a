//! Fees and online payment: payments per dossier, gateway callbacks, VietQR, refunds, reconciliation.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use dvc_domain::catalogue::FeeItem;
use dvc_domain::dossier::{Dossier, FeeState};
use dvc_domain::payment::{FeePhase, PaymentStatus};
use dvc_domain::workflow::DossierStatus;
use dvc_persistence::codes::Code;
use dvc_persistence::payments::{self as p, PaymentRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::dossier::{self as svc, Access};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::guards::Principal;
use crate::routes::path_key;
use crate::state::AppState;

mod settlement;

pub use settlement::*;

/// A payment of a dossier's fees.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    pub dossier_id: String,
    pub phase: FeePhase,
    /// `sandbox` or `vnpay`.
    pub provider: String,
    /// Whole đồng.
    pub amount_vnd: i64,
    pub status: PaymentStatus,
    /// The merchant reference sent to the gateway.
    pub reference: String,
    /// Where to send the payer (VNPay's payment page); none for the sandbox.
    pub redirect_url: Option<String>,
    /// VietQR (NAPAS, EMVCo) payload for a bank transfer of the same amount.
    pub vietqr: String,
    pub provider_txn_no: Option<String>,
    pub bank_code: Option<String>,
    pub confirmed_at: Option<String>,
    pub refunded_at: Option<String>,
    pub refund_reason: Option<String>,
    pub created_at: String,
    /// The electronic receipt, once paid (on a payment read by itself or with its dossier's fees).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<crate::receipts::ReceiptView>,
}

pub(crate) fn vietqr(state: &AppState, amount: i64, purpose: &str) -> String {
    dvc_domain::vietqr::Transfer {
        bank_bin: state.config.vietqr_bin.clone(),
        account: state.config.vietqr_account.clone(),
        amount_vnd: amount,
        purpose: purpose.to_string(),
    }
    .payload()
}

pub(crate) fn payment_view(state: &AppState, row: PaymentRow, code: &str, redirect_url: Option<String>) -> PaymentView {
    PaymentView {
        vietqr: vietqr(state, row.amount_vnd, code),
        phase: row.phase.0,
        status: row.status.0,
        id: row.id,
        dossier_id: row.dossier_id,
        provider: row.provider,
        amount_vnd: row.amount_vnd,
        reference: row.reference,
        redirect_url,
        provider_txn_no: row.provider_txn_no,
        bank_code: row.bank_code,
        confirmed_at: row.confirmed_at.map(rfc3339),
        refunded_at: row.refunded_at.map(rfc3339),
        refund_reason: row.refund_reason,
        created_at: rfc3339(row.created_at),
        receipt: None,
    }
}

/// Adds their receipts to payment views.
pub(crate) fn with_receipts(conn: &mut DbConn, views: &mut [PaymentView]) -> Result<(), ApiError> {
    let ids: Vec<String> = views.iter().map(|v| v.id.clone()).collect();
    for receipt in dvc_persistence::fines::receipts_of_payments(conn, &ids)? {
        let agency = dvc_persistence::fines::agency_of(conn, &receipt.agency_id)?.unwrap_or_default();
        if let Some(v) = views.iter_mut().find(|v| v.id == receipt.payment_id) {
            v.receipt = Some(crate::receipts::view(&receipt, agency));
        }
    }
    Ok(())
}

/// A dossier's fees and payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeesView {
    pub items: Vec<FeeItem>,
    #[serde(flatten)]
    pub state: FeeState,
    pub payments: Vec<PaymentView>,
}

/// What the dossier owes and what was paid.
#[utoipa::path(operation_id = "getDossierFees", tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Fees", body = FeesView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's dossiers are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/fees")]
pub async fn dossier_fees(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<FeesView>> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let caller = me.caller();
    let shared = state.clone();
    let view = state
        .db(move |conn| {
            let (row, _) = svc::load(conn, &caller, &id)?;
            let fee_state = svc::fee_state(conn, &row)?;
            let payments = p::of_dossier(conn, row.id.as_str())?;
            let items = row.fee_items();
            let code = row.code.unwrap_or_default();
            let mut payments: Vec<PaymentView> =
                payments.into_iter().map(|p| payment_view(&shared, p, &code, None)).collect();
            with_receipts(conn, &mut payments)?;
            Ok(FeesView { items, state: fee_state, payments })
        })
        .await?;
    Ok(web::Json(view))
}

/// Which gateway to pay through.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// `sandbox` (sandbox mode only) or `vnpay`.
    #[schema(example = "sandbox", pattern = "^(sandbox|vnpay)$")]
    pub provider: String,
}

/// Start paying a dossier's fees.
///
/// Start paying what the dossier owes now: the fees due before processing once submitted, the
/// rest once processed. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(operation_id = "createPayment", tag = "payments", request_body = NewPayment, security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry key")),
    responses(
    (status = 201, description = "Payment started", body = PaymentView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Nothing to pay now", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Provider not available, or the key was used for another request", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/payments")]
pub async fn create_payment(
    state: web::Data<AppState>,
    me: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    if !req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Msg::new("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
            Msg::new("Nội dung phải là application/json", "The body must be application/json"),
        ));
    }
    let input: NewPayment = crate::extract::parse_json(&body)?;
    let gateway = match crate::payment::provider(&state.config, &input.provider) {
        Ok(Some(gateway)) => gateway,
        Ok(None) => {
            return Err(ApiError::unprocessable(
                "provider_unavailable",
                Msg::new("Kênh thanh toán này không được bật", "This payment provider is not enabled"),
            ));
        }
        Err(e) => return Err(ApiError::field(e)),
    };
    let provider = gateway.name().to_string();
    let idem = crate::idempotency::from_request(&req, me.id(), &format!("payments:{id}"), &body)?;
    let ip = crate::ratelimit::client_address(&req, state.config.trust_forwarded);
    let shared = state.clone();
    let (status, json) = state
        .tx(move |conn| {
            if let Some(stored) = idem.as_ref().map(|i| i.begin(conn)).transpose()?.flatten() {
                return Ok(stored);
            }
            let (row, access) = svc::load(conn, &me.caller(), &id)?;
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            let fees = svc::fee_state(conn, &row)?;
            let (phase, amount) = match row.status {
                DossierStatus::Submitted if fees.outstanding_before > 0 => (FeePhase::Before, fees.outstanding_before),
                DossierStatus::Processing | DossierStatus::Completed if fees.outstanding_after > 0 => {
                    (FeePhase::After, fees.outstanding_after)
                }
                _ => {
                    let mut e = ApiError::conflict(Msg::new(
                        "Hồ sơ không có khoản phí nào cần thanh toán lúc này",
                        "Nothing is due on this dossier now",
                    ));
                    e.code = "nothing_due";
                    return Err(e);
                }
            };
            // A new attempt supersedes unfinished ones of the same phase.
            for old in p::of_dossier(conn, row.id.as_str())? {
                if old.phase.0 == phase && old.status.0 == PaymentStatus::Pending {
                    let mut old = old;
                    old.status = Code(PaymentStatus::Cancelled);
                    old.updated_at = now();
                    p::update(conn, &old)?;
                }
            }
            let t = now();
            let payment = PaymentRow {
                id: new_id(),
                dossier_id: row.id.0.clone(),
                phase: Code(phase),
                provider: provider.clone(),
                amount_vnd: amount,
                status: Code(PaymentStatus::Pending),
                reference: uuid::Uuid::new_v4().simple().to_string(),
                provider_txn_no: None,
                bank_code: None,
                confirmed_at: None,
                refund_reason: None,
                refunded_by: None,
                refunded_at: None,
                created_by: Some(me.id().to_string()),
                created_at: t,
                updated_at: t,
            };
            p::insert(conn, &payment)?;
            let code = row.code.clone().unwrap_or_default();
            let created = t.and_utc().with_timezone(&crate::calendar::vietnam()).format("%Y%m%d%H%M%S").to_string();
            let redirect = gateway.redirect_url(
                &payment.reference,
                payment.amount_vnd,
                &format!("Thanh toan ho so {code}"),
                &ip,
                &created,
            );
            let view = payment_view(&shared, payment, &code, redirect);
            let json = serde_json::to_string(&view).map_err(|_| ApiError::internal())?;
            if let Some(i) = &idem {
                i.remember(conn, 201, &json)?;
            }
            Ok((201, json))
        })
        .await?;
    Ok(HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .content_type("application/json")
        .body(json))
}

/// Loads a payment and its dossier, if the caller may see them.
fn load_payment(conn: &mut DbConn, me: &Principal, id: &str) -> Result<(PaymentRow, Dossier, Access), ApiError> {
    let not_found = || ApiError::not_found("khoản thanh toán", "Payment");
    let payment = p::find(conn, id)?.ok_or_else(not_found)?;
    let (row, access) = svc::load(conn, &me.caller(), &payment.dossier_id).map_err(|_| not_found())?;
    Ok((payment, row, access))
}

/// One payment (its applicant and the agency's staff only).
#[utoipa::path(operation_id = "getPayment", tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
    (status = 200, description = "The payment", body = PaymentView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's payments are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such payment for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/payments/{id}")]
pub async fn get_payment(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<PaymentView>> {
    let id = path_key(id.into_inner(), "khoản thanh toán", "Payment")?;
    let shared = state.clone();
    let view = state
        .db(move |conn| {
            let (payment, row, _) = load_payment(conn, &me, &id)?;
            let mut views = [payment_view(&shared, payment, row.code.as_deref().unwrap_or_default(), None)];
            with_receipts(conn, &mut views)?;
            let [view] = views;
            Ok(view)
        })
        .await?;
    Ok(web::Json(view))
}

/// The VietQR of a payment as a PNG image, for a bank app to scan.
#[utoipa::path(operation_id = "getPaymentVietqr", tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
    (status = 200, description = "PNG image", content_type = "image/png"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's payments are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such payment for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/payments/{id}/vietqr.png")]
pub async fn vietqr_png(state: web::Data<AppState>, me: Principal, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "khoản thanh toán", "Payment")?;
    let (payment, row, _) = state.db(move |conn| load_payment(conn, &me, &id)).await?;
    let payload = vietqr(&state, payment.amount_vnd, row.code.as_deref().unwrap_or_default());
    let png = web::block(move || crate::payment::qr_png(&payload)).await?.map_err(|e| {
        tracing::error!(error = %e, "cannot render a QR code");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}
