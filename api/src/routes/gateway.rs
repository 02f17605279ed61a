//! Gateway callbacks (VNPay's IPN and return URL) and the daily reconciliation of payments.

use std::collections::BTreeMap;

use actix_web::{get, post, web, HttpRequest};
use chrono::{Duration, NaiveDate};
use dvc_domain::payment::PaymentStatus;
use dvc_domain::FieldError;
use dvc_persistence::dossiers as d;
use dvc_persistence::payments::{self as p, CallbackRow};
use dvc_persistence::{new_id, now, DbConn};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::guards::Admin;
use crate::routes::payments::{payment_view, settle, PaymentView};
use crate::state::AppState;

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
        let found = reference.as_deref().map(|r| p::find_by_reference(conn, r)).transpose()?.flatten();
        let fine_payment = match (&found, reference.as_deref()) {
            (None, Some(r)) => dvc_persistence::fines::payment_by_reference(conn, r)?,
            _ => None,
        };
        match found {
            // Not a dossier's payment: perhaps a fine's.
            None => fine_ipn(conn, fine_payment, params)?,
            Some(payment) => {
                let amount = params.get("vnp_Amount").and_then(|a| a.parse::<i64>().ok());
                if amount != Some(payment.amount_vnd * 100) {
                    answer("04", "Invalid amount")
                } else if payment.status.0 != PaymentStatus::Pending {
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
                        failed.status = dvc_persistence::codes::Code(PaymentStatus::Cancelled);
                        failed.updated_at = now();
                        p::update(conn, &failed)?;
                    }
                    answer("00", "Confirm Success")
                }
            }
        }
    };
    // A forged or broken notification is kept as evidence, not whole: its size and digest.
    let payload = if valid {
        serde_json::to_string(params).unwrap_or_default()
    } else {
        let whole = serde_json::to_string(params).unwrap_or_default();
        serde_json::json!({"kept": "digest", "bytes": whole.len(), "sha256": hex::encode(Sha256::digest(whole.as_bytes()))})
            .to_string()
    };
    let reference = reference.map(|r| r.chars().take(64).collect());
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

/// VNPay's IPN for the payment of a fine.
fn fine_ipn(
    conn: &mut DbConn,
    payment: Option<dvc_persistence::fines::FinePaymentRow>,
    params: &BTreeMap<String, String>,
) -> Result<IpnAnswer, ApiError> {
    let answer = |code: &'static str, message: &'static str| IpnAnswer { rsp_code: code, message };
    let Some(payment) = payment else { return Ok(answer("01", "Order not found")) };
    let amount = params.get("vnp_Amount").and_then(|a| a.parse::<i64>().ok());
    if amount != Some(payment.amount_vnd * 100) {
        return Ok(answer("04", "Invalid amount"));
    }
    if payment.status.0 != PaymentStatus::Pending {
        return Ok(answer("02", "Order already confirmed"));
    }
    let success = params.get("vnp_ResponseCode").map(String::as_str) == Some("00")
        && params.get("vnp_TransactionStatus").map(String::as_str) == Some("00");
    let txn = params.get("vnp_TransactionNo").map(String::as_str);
    let bank = params.get("vnp_BankCode").map(String::as_str);
    if success {
        crate::routes::fines::settle(conn, &payment, txn, bank)?;
    } else {
        dvc_persistence::fines::settle_payment(conn, &payment.id, PaymentStatus::Cancelled, txn, bank, now())?;
    }
    Ok(answer("00", "Confirm Success"))
}

pub fn query_params(req: &HttpRequest) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The largest notification body read: VNPay's are a few hundred bytes.
const MAX_CALLBACK_BYTES: usize = 16 * 1024;

/// The body of a posted notification, 413 past [`MAX_CALLBACK_BYTES`].
pub async fn small_body(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request(Msg::new("Nội dung lỗi", "Broken body")))?;
        if body.len() + chunk.len() > MAX_CALLBACK_BYTES {
            return Err(ApiError::payload_too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

/// VNPay's payment notification (IPN), as a GET.
///
/// VNPay's IPN (server to server), as VNPay sends it: a signed GET. Answers `RspCode`.
#[utoipa::path(operation_id = "paymentCallbackGet", tag = "payments", params(("provider" = String, Path, description = "`vnpay`")), responses(
    (status = 200, description = "The gateway's answer", body = IpnAnswer),
    (status = 404, description = "Unknown or disabled provider", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many notifications from this address", body = Problem, content_type = "application/problem+json"),
))]
#[get("/payments/callback/{provider}")]
pub async fn callback_get(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<web::Json<IpnAnswer>> {
    state.callbacks.check(&req, state.config.trust_forwarded)?;
    handle_ipn(&state, &provider, query_params(&req)).await
}

/// VNPay's payment notification (IPN), as a form POST.
///
/// The same IPN, posted as a form. Answers `RspCode`.
#[utoipa::path(operation_id = "paymentCallbackPost", tag = "payments", params(("provider" = String, Path, description = "`vnpay`")),
    request_body(content = crate::openapi::VnpayNotification, content_type = "application/x-www-form-urlencoded", description = "The `vnp_` parameters and their signature"),
    responses(
    (status = 200, description = "The gateway's answer", body = IpnAnswer),
    (status = 404, description = "Unknown or disabled provider", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "A body over 16 KiB", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many notifications from this address", body = Problem, content_type = "application/problem+json"),
))]
#[post("/payments/callback/{provider}")]
pub async fn callback_post(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<web::Json<IpnAnswer>> {
    state.callbacks.check(&req, state.config.trust_forwarded)?;
    let body = small_body(payload).await?;
    let mut params = query_params(&req);
    params.extend(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    handle_ipn(&state, &provider, params).await
}

/// Where VNPay sends the payer back.
///
/// Where VNPay sends the payer back: the signature is checked (400 when bad) and the payment's
/// state is shown. It changes nothing: only the IPN settles a payment.
#[utoipa::path(operation_id = "vnpayReturn", tag = "payments", responses(
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
            let code = d::find(conn, &payment.dossier_id)?.and_then(|r| r.code).unwrap_or_default();
            Ok((payment, code))
        })
        .await?;
    Ok(web::Json(payment_view(&state, payment, &code, None)))
}

/// The business date to reconcile.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    #[param(value_type = String, format = Date, example = "2026-11-22")]
    pub date: String,
}

/// Totals of one provider and state (fines' payments apart, as `<provider> (fines)`).
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
#[utoipa::path(operation_id = "getPaymentReconciliation", tag = "admin", params(ReconciliationQuery), security(("bearer" = [])), responses(
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
    let from = dvc_domain::time::utc_of_local(date.and_hms_opt(0, 0, 0).ok_or_else(ApiError::internal)?);
    let to = from + Duration::days(1);
    let result = state
        .db(move |conn| {
            let payments = p::created_between(conn, from, to)?;
            let callbacks = p::callbacks_between(conn, from, to)?;
            let mut groups: Vec<ReconciliationGroup> = Vec::new();
            let mut mismatches = Vec::new();
            for pay in &payments {
                let status = pay.status.0.as_str().to_string();
                match groups.iter_mut().find(|g| g.provider == pay.provider && g.status == status) {
                    Some(g) => {
                        g.count += 1;
                        g.amount_vnd += pay.amount_vnd;
                    }
                    None => groups.push(ReconciliationGroup {
                        provider: pay.provider.clone(),
                        status,
                        count: 1,
                        amount_vnd: pay.amount_vnd,
                    }),
                }
                let settled = matches!(pay.status.0, PaymentStatus::Paid | PaymentStatus::Refunded);
                if settled && p::confirmations(conn, &pay.reference)? == 0 {
                    mismatches.push(Mismatch {
                        kind: "paid_without_confirmation",
                        reference: Some(pay.reference.clone()),
                        payment_id: Some(pay.id.clone()),
                    });
                }
            }
            for pay in dvc_persistence::fines::payments_created_between(conn, from, to)? {
                let status = pay.status.0.as_str().to_string();
                let provider = format!("{} (fines)", pay.provider);
                match groups.iter_mut().find(|g| g.provider == provider && g.status == status) {
                    Some(g) => {
                        g.count += 1;
                        g.amount_vnd += pay.amount_vnd;
                    }
                    None => groups.push(ReconciliationGroup { provider, status, count: 1, amount_vnd: pay.amount_vnd }),
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
