//! Webhooks and their deliveries.

use super::*;

// ---------------------------------------------------------------------------------------------
// Webhooks

/// A webhook endpoint and the events it wants.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://...` (or `http://`); private addresses are refused unless the operator allows them.
    pub url: String,
    /// Event types, e.g. `dossier.status_changed`.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
    /// The key deliveries are signed with (16–200 characters).
    #[schema(min_length = 16, max_length = 200)]
    pub secret: String,
}

/// A registered webhook (the secret is not shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: String,
}

fn webhook_view(w: WebhookRow) -> WebhookView {
    WebhookView { events: w.event_types(), id: w.id, url: w.url, active: w.active, created_at: rfc3339(w.created_at) }
}

fn webhook_not_found() -> ApiError {
    ApiError::not_found("webhook", "Webhook")
}

/// Register a webhook.
///
/// Register a webhook. Deliveries are POSTs of the event JSON with `X-DVC-Signature:
/// t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, `X-DVC-Event` and `X-DVC-Delivery`;
/// a 2xx answer ends it, anything else is retried with exponential backoff for a day.
#[utoipa::path(operation_id = "createWebhook", tag = "integration", request_body = NewWebhook, security(("bearer" = [])), responses(
    (status = 201, description = "Registered", body = WebhookView),
    (status = 400, description = "Invalid URL, event types or secret", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/integration/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    body: Body<NewWebhook>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let input = body.0;
    let mut errors = Vec::new();
    let mut events = input.events.clone();
    events.sort();
    events.dedup();
    if events.is_empty() {
        errors.push(FieldError::required("events"));
    }
    for (i, e) in events.iter().enumerate() {
        if !crate::integration::EVENT_TYPES.contains(&e.as_str()) {
            errors.push(FieldError::one_of(&format!("events[{i}]"), crate::integration::EVENT_TYPES));
        }
    }
    let secret_len = input.secret.chars().count();
    if !(16..=200).contains(&secret_len) || dvc_domain::text::has_control_chars(&input.secret) {
        errors.push(FieldError::new(
            "secret",
            "invalid",
            "Khóa ký 16–200 ký tự",
            "A signing secret of 16–200 characters",
        ));
    }
    let deny = state.config.webhook_deny_private;
    let url = input.url.trim().to_string();
    let checked = web::block({
        let url = url.clone();
        move || crate::integration::check_url(&url, deny)
    })
    .await?;
    if let Err(e) = checked {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let t = state.clock.now();
    let row = WebhookRow {
        id: new_id(),
        client_id: client.id,
        url,
        events: serde_json::to_string(&events).map_err(|_| ApiError::internal())?,
        secret: input.secret,
        active: true,
        created_at: t,
        updated_at: t,
    };
    let stored = row.clone();
    state.tx(move |conn| Ok(ig::insert_webhook(conn, &stored)?)).await?;
    Ok(HttpResponse::Created().json(webhook_view(row)))
}

/// The client's webhooks.
#[utoipa::path(operation_id = "listWebhooks", tag = "integration", security(("bearer" = [])), responses(
    (status = 200, description = "The webhooks", body = Vec<WebhookView>),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
) -> ApiResult<web::Json<Vec<WebhookView>>> {
    let client = caller(&state, &me).await?;
    let rows = state.db(move |conn| Ok(ig::webhooks_of(conn, &client.id)?)).await?;
    Ok(web::Json(rows.into_iter().map(webhook_view).collect()))
}

fn own_webhook(conn: &mut DbConn, client: &ClientRow, id: &str) -> Result<WebhookRow, ApiError> {
    ig::find_webhook(conn, id)?.filter(|w| w.client_id == client.id).ok_or_else(webhook_not_found)
}

/// Remove a webhook and its delivery history.
#[utoipa::path(operation_id = "deleteWebhook", tag = "integration", security(("bearer" = [])), params(("id" = String, Path, description = "Webhook id")), responses(
    (status = 204, description = "Removed"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such webhook of this client", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/integration/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let id = path_key(id.into_inner(), "webhook", "Webhook")?;
    state
        .tx(move |conn| {
            own_webhook(conn, &client, &id)?;
            ig::delete_webhook(conn, &id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One attempt to deliver.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i32,
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// A delivery of one event to one webhook, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `sending`, `delivered` or `failed` (given up after a day).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub last_status: Option<i32>,
    pub created_at: String,
    pub history: Vec<AttemptView>,
}

fn delivery_views(conn: &mut DbConn, rows: Vec<ig::DeliveryRow>) -> Result<Vec<DeliveryView>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut attempts = ig::attempts_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let history = attempts
                .iter()
                .filter(|a| a.delivery_id == r.id)
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    at: rfc3339(a.at),
                    status_code: a.status_code,
                    error: a.error.clone(),
                    duration_ms: a.duration_ms,
                })
                .collect();
            attempts.retain(|a| a.delivery_id != r.id);
            DeliveryView {
                next_attempt_at: matches!(r.status.as_str(), "pending" | "sending").then(|| rfc3339(r.next_attempt_at)),
                delivered_at: r.delivered_at.map(rfc3339),
                created_at: rfc3339(r.created_at),
                id: r.id,
                event_id: r.event_id,
                event_type: r.event_type,
                status: r.status,
                attempts: r.attempts,
                last_status: r.last_status,
                history,
            }
        })
        .collect())
}

/// Deliveries of a webhook, newest first, each with every attempt.
#[utoipa::path(operation_id = "listWebhookDeliveries", tag = "integration", params(("id" = String, Path, description = "Webhook id"), PageQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of deliveries", body = Page<DeliveryView>),
    (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such webhook of this client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<DeliveryView>>> {
    let client = caller(&state, &me).await?;
    let id = path_key(id.into_inner(), "webhook", "Webhook")?;
    let page = dvc_domain::page::PageRequest::parse(query.page.as_deref(), query.per_page.as_deref())
        .map_err(ApiError::validation)?;
    let result = state
        .db(move |conn| {
            own_webhook(conn, &client, &id)?;
            let (rows, total) = ig::deliveries_of(conn, &id, page.offset(), page.per_page)?;
            Ok(Page::new(delivery_views(conn, rows)?, total, page))
        })
        .await?;
    Ok(web::Json(result))
}

/// Send a delivery again now (a failed one gets another day of retries).
#[utoipa::path(operation_id = "redeliverWebhook", tag = "integration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
    (status = 202, description = "Queued", body = DeliveryView),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such delivery of this client", body = Problem, content_type = "application/problem+json"),
))]
#[post("/integration/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let (id, delivery_id) = path.into_inner();
    let id = path_key(id, "webhook", "Webhook")?;
    let delivery_id = path_key(delivery_id, "lần gửi", "Delivery")?;
    let view = state
        .tx(move |conn| {
            own_webhook(conn, &client, &id)?;
            let mut row = ig::find_delivery(conn, &delivery_id)?
                .filter(|r| r.webhook_id == id)
                .ok_or_else(|| ApiError::not_found("lần gửi", "Delivery"))?;
            let t = dvc_persistence::now();
            row.status = "pending".into();
            row.next_attempt_at = t;
            row.give_up_at = row.give_up_at.max(t + chrono::Duration::hours(crate::integration::RETRY_FOR_HOURS));
            row.updated_at = t;
            ig::update_delivery(conn, &row)?;
            Ok(delivery_views(conn, vec![row])?.remove(0))
        })
        .await?;
    Ok(HttpResponse::Accepted().json(view))
}
