//! Settling a payment: the confirmation a provider or the sandbox gives, with its event on the
//! dossier, and refunds.

use actix_web::{post, web};
use dvc_domain::dossier::{Dossier, Step};
use dvc_domain::payment::PaymentStatus;
use dvc_persistence::codes::Code;
use dvc_persistence::dossiers::{self as d, EventRow};
use dvc_persistence::payments::{self as p, CallbackRow, PaymentRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::dossier::Access;
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::guards::Principal;
use crate::routes::path_key;
use crate::state::AppState;

use super::{load_payment, payment_view, PaymentView};

/// Records that a payment was paid, with a history event on its dossier.
pub(crate) fn settle(
    conn: &mut DbConn,
    payment: &PaymentRow,
    txn_no: Option<&str>,
    bank: Option<&str>,
    actor_role: &str,
) -> Result<bool, ApiError> {
    if !p::mark_paid(conn, &payment.id, PaymentStatus::Pending, txn_no, bank, now())? {
        return Ok(false);
    }
    let dossier = d::find(conn, &payment.dossier_id)?.ok_or_else(ApiError::internal)?;
    d::insert_event(
        conn,
        &payment_event(
            &dossier,
            Step::PaymentPaid,
            actor_role,
            serde_json::json!({"payment_id": payment.id, "amount_vnd": payment.amount_vnd, "provider": payment.provider}),
        ),
    )?;
    let payer = serde_json::from_str::<serde_json::Value>(dossier.applicant.get())
        .ok()
        .and_then(|a| a.get("full_name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_default();
    let code = dossier.code.as_deref().unwrap_or_default();
    crate::receipts::issue(
        conn,
        crate::receipts::Paid {
            agency_id: dossier.agency_id.as_str(),
            kind: "dossier",
            payment_id: &payment.id,
            payer_name: &payer,
            content: format!("Phí, lệ phí hồ sơ {code}: {}", dossier.procedure.name),
            amount_vnd: payment.amount_vnd,
            at: now(),
        },
    )?;
    crate::integration::emit(
        conn,
        "payment.paid",
        crate::integration::Subject {
            agency_id: dossier.agency_id.as_str(),
            dossier_id: Some(dossier.id.as_str()),
            dossier_code: dossier.code.as_deref(),
        },
        serde_json::json!({"payment_id": payment.id, "phase": payment.phase.0, "amount_vnd": payment.amount_vnd,
                           "provider": payment.provider}),
    )?;
    Ok(true)
}

fn payment_event(dossier: &Dossier, step: Step, role: &str, data: serde_json::Value) -> EventRow {
    EventRow {
        id: new_id(),
        dossier_id: dossier.id.0.clone(),
        at: now(),
        action: Code(step),
        from_status: Some(Code(dossier.status)),
        to_status: Code(dossier.status),
        actor_id: None,
        actor_role: role.into(),
        note: None,
        data: data.to_string(),
    }
}

/// Sandbox mode only: settle a sandbox payment as if the bank had confirmed it.
#[utoipa::path(operation_id = "completeSandboxPayment", tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
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
            if !settle(conn, &payment, Some(&sandbox_txn(&payment.reference)), Some("SANDBOX"), "sandbox")? {
                return Err(not_pending());
            }
            record_sandbox_callback(conn, &payment.reference)?;
            Ok((p::find(conn, &payment.id)?.ok_or_else(ApiError::internal)?, row))
        })
        .await?;
    Ok(web::Json(payment_view(&state, payment, row.code.as_deref().unwrap_or_default(), None)))
}

/// The transaction number the sandbox gives the payment with this reference.
pub(crate) fn sandbox_txn(reference: &str) -> String {
    format!("SANDBOX-{}", &reference[..8])
}

/// Records the sandbox's confirmation of a payment as a signed, successful callback.
pub(crate) fn record_sandbox_callback(conn: &mut DbConn, reference: &str) -> Result<(), ApiError> {
    p::record_callback(
        conn,
        &CallbackRow {
            id: new_id(),
            provider: "sandbox".into(),
            reference: Some(reference.to_string()),
            payload: "{}".into(),
            signature_valid: true,
            outcome: "00".into(),
            created_at: now(),
        },
    )?;
    Ok(())
}

/// A payment that is no longer waiting to be paid.
pub(crate) fn not_pending() -> ApiError {
    ApiError::conflict(Msg::new("Khoản thanh toán không ở trạng thái chờ", "The payment is not pending"))
}

/// Why a payment is refunded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Refund a paid payment (an administrator, or an officer of the dossier's agency); recorded.
#[utoipa::path(operation_id = "refundPayment", tag = "payments", request_body = RefundRequest, security(("bearer" = [])), params(("id" = String, Path, description = "Payment id")), responses(
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
            if payment.status.0 != PaymentStatus::Paid {
                return Err(ApiError::conflict(Msg::new(
                    "Chỉ hoàn tiền khoản đã thanh toán",
                    "Only paid payments can be refunded",
                )));
            }
            let t = now();
            payment.status = Code(PaymentStatus::Refunded);
            payment.refund_reason = Some(reason.clone());
            payment.refunded_by = Some(me.id().to_string());
            payment.refunded_at = Some(t);
            payment.updated_at = t;
            p::update(conn, &payment)?;
            d::insert_event(
                conn,
                &payment_event(
                    &row,
                    Step::PaymentRefunded,
                    me.role().as_str(),
                    serde_json::json!({"payment_id": payment.id, "amount_vnd": payment.amount_vnd, "reason": reason}),
                ),
            )?;
            crate::integration::emit(
                conn,
                "payment.refunded",
                crate::integration::Subject {
                    agency_id: row.agency_id.as_str(),
                    dossier_id: Some(row.id.as_str()),
                    dossier_code: row.code.as_deref(),
                },
                serde_json::json!({"payment_id": payment.id, "amount_vnd": payment.amount_vnd}),
            )?;
            Ok((payment, row))
        })
        .await?;
    Ok(web::Json(payment_view(&state, payment, row.code.as_deref().unwrap_or_default(), None)))
}
