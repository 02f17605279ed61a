//! Fees and online payment: payments per dossier, gateway callbacks, VietQR, refunds, reconciliation.

use std::collections::BTreeMap;

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate};
use dvc_domain::catalogue::FeeItem;
use dvc_domain::payment::{FeePhase, PaymentStatus};
use dvc_domain::workflow::DossierStatus;
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, EventRow};
use dvc_persistence::payments::{self as p, CallbackRow, PaymentRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Admin, Principal};
use crate::catalogue::rfc3339;
use crate::dossier::{self as svc, Access, FeeState};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::routes::path_key;
use crate::state::AppState;

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
}

fn vietqr(state: &AppState, amount: i64, purpose: &str) -> String {
    dvc_domain::vietqr::Transfer {
        bank_bin: state.config.vietqr_bin.clone(),
        account: state.config.vietqr_account.clone(),
        amount_vnd: amount,
        purpose: purpose.to_string(),
    }
    .payload()
}

fn payment_view(state: &AppState, row: PaymentRow, code: &str, redirect_url: Option<String>) -> PaymentView {
    PaymentView {
        vietqr: vietqr(state, row.amount_vnd, code),
        phase: FeePhase::parse(&row.phase).unwrap_or(FeePhase::Before),
        status: PaymentStatus::parse(&row.status).unwrap_or(PaymentStatus::Unpaid),
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
    }
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
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
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
    let (row, snap, fee_state, payments) = state
        .db(move |conn| {
            let (row, _) = svc::load(conn, &me, &id)?;
            let snap = svc::snapshot(&row)?;
            let fee_state = svc::fee_state(conn, &snap, &row.id)?;
            let payments = p::of_dossier(conn, &row.id)?;
            Ok((row, snap, fee_state, payments))
        })
        .await?;
    let code = row.code.unwrap_or_default();
    let payments = payments.into_iter().map(|p| payment_view(&state, p, &code, None)).collect();
    Ok(web::Json(FeesView { items: snap.fees, state: fee_state, payments }))
}

/// Which gateway to pay through.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// `sandbox` (sandbox mode only) or `vnpay`.
    #[schema(example = "sandbox", pattern = "^(sandbox|vnpay)$")]
    pub provider: String,
}

/// Start paying what the dossier owes now: the fees due before processing once submitted, the
/// rest once processed. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(tag = "payments", request_body = NewPayment, security(("bearer" = [])),
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
    let provider = input.provider;
    match provider.as_str() {
        "sandbox" if state.config.sandbox => {}
        "vnpay" if state.config.vnpay.is_some() => {}
        "sandbox" | "vnpay" => {
            return Err(ApiError::unprocessable(
                "provider_unavailable",
                Msg::new("Kênh thanh toán này không được bật", "This payment provider is not enabled"),
            ));
        }
        _ => return Err(ApiError::field(FieldError::one_of("provider", &["sandbox", "vnpay"]))),
    }
    let idem = crate::idempotency::from_request(&req, me.id(), &format!("payments:{id}"), &body)?;
    let ip = crate::ratelimit::client_address(&req, state.config.trust_forwarded);
    let shared = state.clone();
    let (status, json) = state
        .tx(move |conn| {
            if let Some(stored) = idem.as_ref().map(|i| i.replay(conn)).transpose()?.flatten() {
                return Ok(stored);
            }
            let (row, access) = svc::load(conn, &me, &id)?;
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            let snap = svc::snapshot(&row)?;
            let fees = svc::fee_state(conn, &snap, &row.id)?;
            let status = svc::status(&row)?;
            let (phase, amount) = match status {
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
            for old in p::of_dossier(conn, &row.id)? {
                if old.phase == phase.as_str() && old.status == "pending" {
                    let mut old = old;
                    old.status = PaymentStatus::Cancelled.as_str().into();
                    old.updated_at = now();
                    p::update(conn, &old)?;
                }
            }
            let t = now();
            let payment = PaymentRow {
                id: new_id(),
                dossier_id: row.id.clone(),
                phase: phase.as_str().into(),
                provider: provider.clone(),
                amount_vnd: amount,
                status: PaymentStatus::Pending.as_str().into(),
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
            let redirect = match (&provider[..], &shared.config.vnpay) {
                ("vnpay", Some(cfg)) => {
                    let created =
                        t.and_utc().with_timezone(&crate::calendar::vietnam()).format("%Y%m%d%H%M%S").to_string();
                    Some(crate::payment::payment_url(
                        cfg,
                        &payment.reference,
                        amount,
                        &format!("Thanh toan ho so {code}"),
                        &ip,
                        &created,
                    ))
                }
                _ => None,
            };
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
fn load_payment(conn: &mut DbConn, me: &Principal, id: &str) -> Result<(PaymentRow, d::DossierRow, Access), ApiError> {
    let not_found = || ApiError::not_found("khoản thanh toán", "Payment");
    let payment = p::find(conn, id)?.ok_or_else(not_found)?;
    let (row, access) = svc::load(conn, me, &payment.dossier_id).map_err(|_| not_found())?;
    Ok((payment, row, access))
}

/// One payment (its applicant and the agency's staff only).
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
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
    let (payment, row, _) = state.db(move |conn| load_payment(conn, &me, &id)).await?;
    Ok(web::Json(payment_view(&state, payment, row.code.as_deref().unwrap_or_default(), None)))
}

/// The VietQR of a payment as a PNG image, for a bank app to scan.
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
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

/// Records that a payment was paid, with a history event on its dossier.
fn settle(
    conn: &mut DbConn,
    payment: &PaymentRow,
    txn_no: Option<&str>,
    bank: Option<&str>,
    actor_role: &str,
) -> Result<bool, ApiError> {
    if !p::mark_paid(conn, &payment.id, "pending", txn_no, bank, now())? {
        return Ok(false);
    }
    let dossier = d::find_dossier(conn, &payment.dossier_id)?.ok_or_else(ApiError::internal)?;
    d::insert_event(
        conn,
        &payment_event(
            &dossier,
            "payment_paid",
            actor_role,
            serde_json::json!({"payment_id": payment.id, "amount_vnd": payment.amount_vnd, "provider": payment.provider}),
        ),
    )?;
    Ok(true)
}

fn payment_event(dossier: &d::DossierRow, action: &str, role: &str, data: serde_json::Value) -> EventRow {
    EventRow {
        id: new_id(),
        dossier_id: dossier.id.clone(),
        at: now(),
        action: action.into(),
        from_status: Some(dossier.status.clone()),
        to_status: dossier.status.clone(),
        actor_id: None,
        actor_role: role.into(),
        note: None,
        data: data.to_string(),
    }
}

/// Sandbox mode only: settle a sandbox payment as if the bank had confirmed it.
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
    (status = 200, description = "Paid", body = PaymentView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such sandbox payment (or sandbox mode is off)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not pending", body = Problem, content_type = "application/problem+json"),
))]
#[post("/payments/{id}/sandbox-complete")]
pub async fn sandbox_complete(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<PaymentView>> {
    let id = path_key(id.into_inner(), "khoản thanh toán", "Payment")?;
    if !state.config.sandbox {
        return Err(ApiError::not_found("khoản thanh toán", "Payment"));
    }
    let (payment, row) = state
        .tx(move |conn| {
            let (payment, row, access) = load_payment(conn, &me, &id)?;
            if payment.provider != "sandbox" {
                return Err(ApiError::not_found("khoản thanh toán", "Payment"));
            }
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            if !settle(
                conn,
                &payment,
                Some(&format!("SANDBOX-{}", &payment.reference[..8])),
                Some("SANDBOX"),
                "sandbox",
            )? {
                return Err(ApiError::conflict(Msg::new(
                    "Khoản thanh toán không ở trạng thái chờ",
                    "The payment is not pending",
                )));
            }
            p::record_callback(
                conn,
                &CallbackRow {
                    id: new_id(),
                    provider: "sandbox".into(),
                    reference: Some(payment.reference.clone()),
                    payload: "{}".into(),
                    signature_valid: true,
                    outcome: "00".into(),
                    created_at: now(),
                },
            )?;
            Ok((p::find(conn, &payment.id)?.ok_or_else(ApiError::internal)?, row))
        })
        .await?;
    Ok(web::Json(payment_view(&state, payment, row.code.as_deref().unwrap_or_default(), None)))
}

/// VNPay's answer to an IPN.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpnAnswer {
    /// `00` confirmed, `01` order not found, `02` already confirmed, `04` invalid amount,
    /// `97` invalid signature, `99` other.
    #[serde(rename = "RspCode")]
    pub rsp_code: &'static str,
    #[serde(rename = "Message")]
    pub message: &'static str,
}

fn ipn(conn: &mut DbConn, secret: &str, params: &BTreeMap<String, String>) -> Result<IpnAnswer, ApiError> {
    let reference = params.get("vnp_TxnRef").cloned();
    let valid = crate::payment::verify(secret, params);
    let answer = |code: &'static str, message: &'static str| IpnAnswer { rsp_code: code, message };
    let outcome = if !valid {
        answer("97", "Invalid signature")
    } else {
        match reference.as_deref().map(|r| p::find_by_reference(conn, r)).transpose()?.flatten() {
            None => answer("01", "Order not found"),
            Some(payment) => {
                let amount = params.get("vnp_Amount").and_then(|a| a.parse::<i64>().ok());
                if amount != Some(payment.amount_vnd * 100) {
                    answer("04", "Invalid amount")
                } else if payment.status != "pending" {
                    answer("02", "Order already confirmed")
                } else {
                    let success = params.get("vnp_ResponseCode").map(String::as_str) == Some("00")
                        && params.get("vnp_TransactionStatus").map(String::as_str) == Some("00");
                    if success {
                        settle(
                            conn,
                            &payment,
                            params.get("vnp_TransactionNo").map(String::as_str),
                            params.get("vnp_BankCode").map(String::as_str),
                            "vnpay",
                        )?;
                    } else {
                        let mut failed = payment.clone();
                        failed.status = PaymentStatus::Cancelled.as_str().into();
                        failed.updated_at = now();
                        p::update(conn, &failed)?;
                    }
                    answer("00", "Confirm Success")
                }
            }
        }
    };
    let payload = serde_json::to_string(params).unwrap_or_default();
    p::record_callback(
        conn,
        &CallbackRow {
            id: new_id(),
            provider: "vnpay".into(),
            reference,
            payload,
            signature_valid: valid,
            outcome: outcome.rsp_code.into(),
            created_at: now(),
        },
    )?;
    Ok(outcome)
}

fn query_params(req: &HttpRequest) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

async fn handle_ipn(
    state: &AppState,
    provider: &str,
    params: BTreeMap<String, String>,
) -> ApiResult<web::Json<IpnAnswer>> {
    let Some(cfg) = state.config.vnpay.clone().filter(|_| provider == "vnpay") else {
        return Err(ApiError::not_found("kênh thanh toán", "Payment provider"));
    };
    let answer = state.tx(move |conn| ipn(conn, &cfg.hash_secret, &params)).await;
    Ok(web::Json(answer.unwrap_or(IpnAnswer { rsp_code: "99", message: "Unknown error" })))
}

/// VNPay's IPN (server to server), as VNPay sends it: a signed GET. Answers `RspCode`.
#[utoipa::path(tag = "payments", params(("provider" = String, Path, description = "`vnpay`")), responses(
    (status = 200, description = "The gateway's answer", body = IpnAnswer),
    (status = 404, description = "Unknown or disabled provider", body = Problem, content_type = "application/problem+json"),
))]
#[get("/payments/callback/{provider}")]
pub async fn callback_get(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<web::Json<IpnAnswer>> {
    handle_ipn(&state, &provider, query_params(&req)).await
}

/// The same IPN, posted as a form. Answers `RspCode`.
#[utoipa::path(tag = "payments", params(("provider" = String, Path, description = "`vnpay`")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`vnp_*` parameters"),
    responses(
    (status = 200, description = "The gateway's answer", body = IpnAnswer),
    (status = 404, description = "Unknown or disabled provider", body = Problem, content_type = "application/problem+json"),
))]
#[post("/payments/callback/{provider}")]
pub async fn callback_post(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<web::Json<IpnAnswer>> {
    let mut params = query_params(&req);
    params.extend(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    handle_ipn(&state, &provider, params).await
}

/// Where VNPay sends the payer back: the signature is checked (400 when bad) and the payment's
/// state is shown. It changes nothing: only the IPN settles a payment.
#[utoipa::path(tag = "payments", responses(
    (status = 200, description = "The payment's state", body = PaymentView),
    (status = 400, description = "Bad signature", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Unknown payment or provider disabled", body = Problem, content_type = "application/problem+json"),
))]
#[get("/payments/return/vnpay")]
pub async fn vnpay_return(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<web::Json<PaymentView>> {
    let cfg = state.config.vnpay.clone().ok_or_else(|| ApiError::not_found("kênh thanh toán", "Payment provider"))?;
    let params = query_params(&req);
    if !crate::payment::verify(&cfg.hash_secret, &params) {
        return Err(ApiError::bad_request(Msg::new("Chữ ký không hợp lệ", "Invalid signature")));
    }
    let reference = params.get("vnp_TxnRef").cloned().unwrap_or_default();
    let (payment, code) = state
        .db(move |conn| {
            let payment = p::find_by_reference(conn, &reference)?
                .ok_or_else(|| ApiError::not_found("khoản thanh toán", "Payment"))?;
            let code = d::find_dossier(conn, &payment.dossier_id)?.and_then(|r| r.code).unwrap_or_default();
            Ok((payment, code))
        })
        .await?;
    Ok(web::Json(payment_view(&state, payment, &code, None)))
}

/// Why a payment is refunded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Refund a paid payment (an administrator, or an officer of the dossier's agency); recorded.
#[utoipa::path(tag = "payments", request_body = RefundRequest, security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
    (status = 200, description = "Refunded", body = PaymentView),
    (status = 400, description = "A reason is required", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not staff of the agency", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such payment for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not paid", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/payments/{id}/refund")]
pub async fn refund(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: crate::extract::Body<RefundRequest>,
) -> ApiResult<web::Json<PaymentView>> {
    let id = path_key(id.into_inner(), "khoản thanh toán", "Payment")?;
    let mut errors = Vec::new();
    dvc_domain::catalogue::check_text("reason", &body.0.reason, 2000, &mut errors);
    if let Some(e) = errors.pop() {
        return Err(ApiError::field(e));
    }
    let reason = body.0.reason.trim().to_string();
    let (payment, row) = state
        .tx(move |conn| {
            let (mut payment, row, access) = load_payment(conn, &me, &id)?;
            if access == Access::Owner {
                return Err(ApiError::forbidden());
            }
            if payment.status != "paid" {
                return Err(ApiError::conflict(Msg::new(
                    "Chỉ hoàn tiền khoản đã thanh toán",
                    "Only paid payments can be refunded",
                )));
            }
            let t = now();
            payment.status = PaymentStatus::Refunded.as_str().into();
            payment.refund_reason = Some(reason.clone());
            payment.refunded_by = Some(me.id().to_string());
            payment.refunded_at = Some(t);
            payment.updated_at = t;
            p::update(conn, &payment)?;
            d::insert_event(
                conn,
                &payment_event(
                    &row,
                    "payment_refunded",
                    me.role().as_str(),
                    serde_json::json!({"payment_id": payment.id, "amount_vnd": payment.amount_vnd, "reason": reason}),
                ),
            )?;
            Ok((payment, row))
        })
        .await?;
    Ok(web::Json(payment_view(&state, payment, row.code.as_deref().unwrap_or_default(), None)))
}

/// The business date to reconcile.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    #[param(value_type = String, format = Date, example = "2026-11-22")]
    pub date: String,
}

/// Totals of one provider and state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReconciliationGroup {
    pub provider: String,
    pub status: String,
    pub count: i64,
    pub amount_vnd: i64,
}

/// Something that does not add up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mismatch {
    /// `paid_without_confirmation` or `callback_for_unknown_reference`.
    pub kind: &'static str,
    pub reference: Option<String>,
    pub payment_id: Option<String>,
}

/// A day's payments, reconciled.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub groups: Vec<ReconciliationGroup>,
    pub mismatches: Vec<Mismatch>,
}

/// Payments of a day (Vietnam time) per provider and state, with what does not add up.
#[utoipa::path(tag = "admin", params(ReconciliationQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The day's reconciliation", body = Reconciliation),
    (status = 400, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
))]
#[get("/admin/payments/reconciliation")]
pub async fn reconciliation(
    state: web::Data<AppState>,
    _admin: Admin,
    query: web::Query<ReconciliationQuery>,
) -> ApiResult<web::Json<Reconciliation>> {
    let date = NaiveDate::parse_from_str(query.date.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::field(FieldError::new(
            "date",
            "invalid_date",
            "Ngày có dạng YYYY-MM-DD",
            "Dates look like YYYY-MM-DD",
        ))
    })?;
    // The Vietnamese day in UTC.
    let from = date.and_hms_opt(0, 0, 0).ok_or_else(ApiError::internal)? - Duration::hours(7);
    let to = from + Duration::days(1);
    let result = state
        .db(move |conn| {
            let payments = p::created_between(conn, from, to)?;
            let callbacks = p::callbacks_between(conn, from, to)?;
            let mut groups: Vec<ReconciliationGroup> = Vec::new();
            let mut mismatches = Vec::new();
            for pay in &payments {
                match groups.iter_mut().find(|g| g.provider == pay.provider && g.status == pay.status) {
                    Some(g) => {
                        g.count += 1;
                        g.amount_vnd += pay.amount_vnd;
                    }
                    None => groups.push(ReconciliationGroup {
                        provider: pay.provider.clone(),
                        status: pay.status.clone(),
                        count: 1,
                        amount_vnd: pay.amount_vnd,
                    }),
                }
                if matches!(pay.status.as_str(), "paid" | "refunded") && p::confirmations(conn, &pay.reference)? == 0 {
                    mismatches.push(Mismatch {
                        kind: "paid_without_confirmation",
                        reference: Some(pay.reference.clone()),
                        payment_id: Some(pay.id.clone()),
                    });
                }
            }
            for cb in callbacks.iter().filter(|c| c.signature_valid && c.outcome == "01") {
                mismatches.push(Mismatch {
                    kind: "callback_for_unknown_reference",
                    reference: cb.reference.clone(),
                    payment_id: None,
                });
            }
            Ok(Reconciliation { date, groups, mismatches })
        })
        .await?;
    Ok(web::Json(result))
}
