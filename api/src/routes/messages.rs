//! Messages to people as operators see them, and SMS gateways' delivery receipts.

use std::collections::BTreeMap;

use actix_web::{get, post, web, HttpRequest};
use dvc_domain::notify::{Channel, NoticeStatus, Purpose};
use dvc_domain::page::PageRequest;
use dvc_domain::FieldError;
use dvc_persistence::outbox::{self, NotificationRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::rfc3339;
use crate::error::{ApiError, ApiResult, Problem};
use crate::guards::Admin;
use crate::notify::{ReceiptResult, Senders};
use crate::routes::gateway::{query_params, small_body};
use crate::state::AppState;

/// A message as operators see it: where it stands, never what it says.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub purpose: Purpose,
    pub status: NoticeStatus,
    /// The channel being tried, or the last one tried; none before the plan is fixed.
    pub channel: Option<Channel>,
    /// The channels to try, in order.
    pub plan: Vec<Channel>,
    /// The recipient with all but the last three characters hidden.
    #[schema(example = "*********678")]
    pub recipient: String,
    pub attempts: i32,
    /// The provider's id of the message, once a provider took it.
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    pub next_attempt_at: Option<String>,
}

fn masked(recipient: &str) -> String {
    let n = recipient.chars().count();
    recipient.chars().enumerate().map(|(i, c)| if i + 3 < n { '*' } else { c }).collect()
}

fn view(r: NotificationRow) -> NotificationView {
    let plan = r.channels();
    let waiting = matches!(r.status.0, NoticeStatus::Created | NoticeStatus::TemporaryFailure);
    NotificationView {
        purpose: r.purpose.0,
        status: r.status.0,
        channel: (!plan.is_empty()).then_some(r.channel.0),
        plan,
        recipient: masked(&r.recipient),
        attempts: r.attempts,
        provider_id: r.provider_id,
        last_error: r.last_error,
        created_at: rfc3339(r.created_at),
        sent_at: r.sent_at.map(rfc3339),
        delivered_at: r.delivered_at.map(rfc3339),
        next_attempt_at: r.next_attempt_at.filter(|_| waiting).map(rfc3339),
        id: r.id,
    }
}

/// A page of messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Filters of the message list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `created`, `sending`, `delivered`, `temporary_failure` or `permanent_failure`.
    #[param(value_type = Option<NoticeStatus>)]
    pub status: Option<String>,
    /// `sms`, `zalo`, `email` or `log`.
    #[param(value_type = Option<Channel>)]
    pub channel: Option<String>,
    #[param(value_type = Option<Purpose>)]
    pub purpose: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// Messages to people and their delivery, newest first.
///
/// OTPs and notices with their status, channels tried and provider ids, for operators; a
/// `permanent_failure` reached no one on any channel. Texts are never shown.
#[utoipa::path(operation_id = "listNotifications", tag = "admin", params(NotificationQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of messages", body = NotificationPage),
    (status = 400, description = "Invalid filter or paging", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
))]
#[get("/admin/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    query: web::Query<NotificationQuery>,
) -> ApiResult<web::Json<NotificationPage>> {
    let q = query.into_inner();
    let mut errors: Vec<FieldError> = Vec::new();
    let page = PageRequest::parse(q.page.as_deref(), q.per_page.as_deref()).map_err(|e| errors.extend(e)).ok();
    let status = q.status.as_deref().map(|s| NoticeStatus::parse_field("status", s).map_err(|e| errors.push(e)));
    let channel = q.channel.as_deref().map(|s| Channel::parse_field("channel", s).map_err(|e| errors.push(e)));
    let purpose = q.purpose.as_deref().map(|s| Purpose::parse_field("purpose", s).map_err(|e| errors.push(e)));
    let (Some(page), true) = (page, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let (status, channel, purpose) =
        (status.and_then(Result::ok), channel.and_then(Result::ok), purpose.and_then(Result::ok));
    let result = state
        .db(move |conn| {
            let (rows, total) = outbox::list(conn, status, channel, purpose, page.offset(), page.per_page)?;
            let items = rows.into_iter().map(view).collect();
            Ok(NotificationPage { items, total, page: page.page, per_page: page.per_page })
        })
        .await?;
    Ok(web::Json(result))
}

/// What a receipt did to the message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptAnswer {
    pub result: ReceiptResult,
}

async fn receipt(state: &AppState, params: BTreeMap<String, String>) -> ApiResult<web::Json<ReceiptAnswer>> {
    let (config, metrics) = (state.config.clone(), state.metrics.clone());
    let result = state
        .tx(move |conn| {
            let s = Senders { config: &config.notify, public_url: &config.public_url, metrics: &metrics };
            crate::notify::take_receipt(conn, &s, &params)
        })
        .await?;
    Ok(web::Json(ReceiptAnswer { result }))
}

/// An SMS gateway's delivery receipt, as a GET.
///
/// The receipt URL given to the gateway with each message carries the message (`n`) and its
/// signature (`sig`); the gateway adds its own fields (id, status). A delivered message is
/// settled; a failed one goes on to its next channel.
#[utoipa::path(operation_id = "smsReceiptGet", tag = "integration", responses(
    (status = 200, description = "Taken", body = ReceiptAnswer),
    (status = 401, description = "Missing or wrong signature", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Receipts are not set up, or no such message", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many callbacks from this address", body = Problem, content_type = "application/problem+json"),
))]
#[get("/gateway/sms/receipts")]
pub async fn receipt_get(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<web::Json<ReceiptAnswer>> {
    state.callbacks.check(&req, state.config.trust_forwarded)?;
    receipt(&state, query_params(&req)).await
}

/// An SMS gateway's delivery receipt, as a POST (form or flat JSON).
///
/// The same receipt with the gateway's fields in a form or a flat JSON object.
#[utoipa::path(operation_id = "smsReceiptPost", tag = "integration",
    request_body(content = BTreeMap<String, String>, description = "The gateway's fields"),
    responses(
    (status = 200, description = "Taken", body = ReceiptAnswer),
    (status = 401, description = "Missing or wrong signature", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "Receipts are not set up, or no such message", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "A body over 16 KiB", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many callbacks from this address", body = Problem, content_type = "application/problem+json"),
))]
#[post("/gateway/sms/receipts")]
pub async fn receipt_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<web::Json<ReceiptAnswer>> {
    state.callbacks.check(&req, state.config.trust_forwarded)?;
    let body = small_body(payload).await?;
    let mut params = query_params(&req);
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
        Ok(object) => {
            for (k, v) in object {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                params.entry(k).or_insert(text);
            }
        }
        Err(_) => {
            for (k, v) in form_urlencoded::parse(&body) {
                params.entry(k.into_owned()).or_insert(v.into_owned());
            }
        }
    }
    receipt(&state, params).await
}
