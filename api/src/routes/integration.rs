//! The machine side for ministry and provincial one-stop systems: client credentials, dossier sync
//! both ways, the change feed, webhooks, and the national wire format.

use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use dvc_domain::auth::{AccountType, Assurance, Role};
use dvc_domain::workflow::{Actor, DossierStatus};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::integration::{self as ig, ClientRow, Position, SyncFilter, WebhookRow};
use dvc_persistence::{new_id, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Admin, Principal};
use crate::catalogue::rfc3339;
use crate::dossier::{self as svc, Access, DossierView, TransitionInput};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::{Body, RawBody};
use crate::routes::{path_key, Page};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Clients (administrators)

/// A new integration client acting for some agencies.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The agencies whose dossiers it may read and move.
    #[schema(min_items = 1, max_items = 200)]
    pub agency_ids: Vec<String>,
}

/// An integration client (its secret is never shown again after creation or rotation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub agency_ids: Vec<String>,
    pub active: bool,
    pub created_at: String,
    pub secret_rotated_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A client with its secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCredentials {
    #[serde(flatten)]
    pub client: ClientView,
    /// Keep it safe: only its hash is stored.
    pub client_secret: String,
}

fn client_view(c: ClientRow) -> ClientView {
    ClientView {
        agency_ids: c.agencies(),
        id: c.id,
        client_id: c.client_id,
        name: c.name,
        active: c.active,
        created_at: rfc3339(c.created_at),
        secret_rotated_at: c.secret_rotated_at.map(rfc3339),
        revoked_at: c.revoked_at.map(rfc3339),
    }
}

fn new_secret() -> String {
    format!("dvcs_{}", crate::auth::random_token(32))
}

fn client_not_found() -> ApiError {
    ApiError::not_found("ứng dụng tích hợp", "Integration client")
}

/// Register a one-stop system; the answer holds its secret, shown this once.
#[utoipa::path(tag = "integration", request_body = NewClient, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = ClientCredentials),
    (status = 400, description = "Invalid name or unknown agencies", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/integration-clients")]
pub async fn create_client(state: web::Data<AppState>, admin: Admin, body: Body<NewClient>) -> ApiResult<HttpResponse> {
    let input = body.0;
    let mut errors = Vec::new();
    dvc_domain::catalogue::check_text("name", &input.name, 200, &mut errors);
    let mut agencies = input.agency_ids.clone();
    agencies.sort();
    agencies.dedup();
    if agencies.is_empty() || agencies.len() > 200 || !agencies.iter().all(|a| dvc_domain::text::is_lookup_key(a)) {
        errors.push(FieldError::new("agency_ids", "invalid", "Cần 1–200 cơ quan", "Give 1–200 agency ids"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let secret = new_secret();
    let hash = web::block({
        let secret = secret.clone();
        move || crate::auth::hash_password(&secret)
    })
    .await??;
    let t = state.clock.now();
    let row = state
        .tx(move |conn| {
            if dvc_persistence::catalogue::count_agencies_with_ids(conn, &agencies)? != agencies.len() as i64 {
                return Err(ApiError::field(FieldError::new(
                    "agency_ids",
                    "unknown",
                    "Có cơ quan không tồn tại",
                    "Some agencies do not exist",
                )));
            }
            let row = ClientRow {
                id: new_id(),
                client_id: format!("oss_{}", crate::auth::random_token(8)),
                name: input.name.trim().into(),
                secret_hash: hash,
                agency_ids: serde_json::to_string(&agencies).map_err(|_| ApiError::internal())?,
                active: true,
                created_by: Some(admin.0.id().into()),
                secret_rotated_at: None,
                revoked_at: None,
                version: 1,
                created_at: t,
                updated_at: t,
            };
            ig::insert_client(conn, &row)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(ClientCredentials { client: client_view(row), client_secret: secret }))
}

/// Paging of administrators' lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// The integration clients, oldest first.
#[utoipa::path(tag = "integration", params(PageQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of clients", body = Page<ClientView>),
    (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
))]
#[get("/admin/integration-clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    _admin: Admin,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<ClientView>>> {
    let page = dvc_domain::page::PageRequest::parse(query.page.as_deref(), query.per_page.as_deref())
        .map_err(ApiError::validation)?;
    let all = state.db(|conn| Ok(ig::list_clients(conn)?)).await?;
    let total = all.len() as i64;
    let items = all.into_iter().skip(page.offset() as usize).take(page.per_page as usize).map(client_view).collect();
    Ok(web::Json(Page::new(items, total, page)))
}

/// Issue a new secret; the old one and tokens issued with it stop working at once.
#[utoipa::path(tag = "integration", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")), responses(
    (status = 200, description = "The new secret, shown once", body = ClientCredentials),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The client is revoked", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/integration-clients/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> ApiResult<web::Json<ClientCredentials>> {
    let id = path_key(id.into_inner(), "ứng dụng tích hợp", "Integration client")?;
    let secret = new_secret();
    let hash = web::block({
        let secret = secret.clone();
        move || crate::auth::hash_password(&secret)
    })
    .await??;
    let row = state
        .tx(move |conn| {
            let mut row = ig::find_client(conn, &id)?.ok_or_else(client_not_found)?;
            if !row.active {
                return Err(ApiError::conflict(Msg::new("Ứng dụng đã bị thu hồi", "The client is revoked")));
            }
            // Whole seconds, as token issue times are.
            let t = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0)
                .map(|t| t.naive_utc())
                .unwrap_or_else(dvc_persistence::now);
            row.secret_hash = hash;
            row.secret_rotated_at = Some(t);
            row.version += 1;
            row.updated_at = t;
            ig::update_client(conn, &row)?;
            Ok(row)
        })
        .await?;
    Ok(web::Json(ClientCredentials { client: client_view(row), client_secret: secret }))
}

/// Revoke a client: its secret, tokens and webhooks stop working.
#[utoipa::path(tag = "integration", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")), responses(
    (status = 200, description = "Revoked", body = ClientView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/integration-clients/{id}/revoke")]
pub async fn revoke_client(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> ApiResult<web::Json<ClientView>> {
    let id = path_key(id.into_inner(), "ứng dụng tích hợp", "Integration client")?;
    let t = state.clock.now();
    let row = state
        .tx(move |conn| {
            let mut row = ig::find_client(conn, &id)?.ok_or_else(client_not_found)?;
            if row.active {
                row.active = false;
                row.revoked_at = Some(t);
                row.version += 1;
                row.updated_at = t;
                ig::update_client(conn, &row)?;
            }
            Ok(row)
        })
        .await?;
    Ok(web::Json(client_view(row)))
}

// ---------------------------------------------------------------------------------------------
// Tokens (RFC 6749 client credentials)

/// The token request, form-encoded. The client may instead authenticate with HTTP Basic.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `client_credentials`.
    pub grant_type: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A bearer token for the client's agencies.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientToken {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    /// The agencies the token reaches.
    pub agency_ids: Vec<String>,
}

/// An RFC 6749 error: `invalid_request`, `invalid_client`, `unsupported_grant_type`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    res.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    if status == 401 {
        res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"dvc\""));
    }
    res.json(OAuthError { error: error.into(), error_description: description.into() })
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    use base64::Engine;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

/// Exchange client credentials for a short-lived bearer token (RFC 6749 §4.4). Errors follow
/// RFC 6749 §5.2 (`{"error", "error_description"}`), not problem+json.
#[utoipa::path(tag = "integration",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
    (status = 200, description = "A token", body = ClientToken),
    (status = 400, description = "invalid_request or unsupported_grant_type", body = OAuthError),
    (status = 401, description = "invalid_client", body = OAuthError),
    (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
))]
#[post("/oauth/token")]
pub async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Ok(oauth_error(400, "invalid_request", "Send application/x-www-form-urlencoded"));
    }
    let mut grant_type = None;
    let (mut client_id, mut client_secret) = (None, None);
    for (key, value) in form_urlencoded::parse(&body) {
        let slot = match key.as_ref() {
            "grant_type" => &mut grant_type,
            "client_id" => &mut client_id,
            "client_secret" => &mut client_secret,
            _ => continue,
        };
        if slot.is_some() {
            return Ok(oauth_error(400, "invalid_request", "A parameter is repeated"));
        }
        *slot = Some(value.into_owned());
    }
    match grant_type.as_deref() {
        None => return Ok(oauth_error(400, "invalid_request", "grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => return Ok(oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported")),
    }
    let (client_id, client_secret) = match (basic_credentials(&req), client_id, client_secret) {
        (Some(basic), None, None) => basic,
        (None, Some(id), Some(secret)) => (id, secret),
        (Some(_), _, _) => return Ok(oauth_error(400, "invalid_request", "Use one way to authenticate the client")),
        _ => return Ok(oauth_error(400, "invalid_request", "client_id and client_secret are required")),
    };
    let found = if dvc_domain::text::is_lookup_key(&client_id) {
        state.db(move |conn| Ok(ig::find_client_by_client_id(conn, &client_id)?)).await?
    } else {
        None
    };
    let hash = found.as_ref().map(|c| c.secret_hash.clone()).unwrap_or_else(|| crate::auth::dummy_hash().to_string());
    let valid = web::block(move || crate::auth::verify_password(&client_secret, &hash)).await?;
    let client = match found {
        Some(c) if valid && c.active => c,
        _ => return Ok(oauth_error(401, "invalid_client", "Unknown client, wrong secret, or revoked")),
    };
    let ttl = state.config.integration_token_ttl.as_secs() as i64;
    let access_token =
        state.keys.issue_for(&client.id, Role::Integration, AccountType::Organization, Assurance::High, None, ttl)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(ClientToken {
            access_token,
            token_type: "Bearer".into(),
            expires_in: ttl,
            agency_ids: client.agencies(),
        }))
}

/// The integration client behind a token: active, and the token issued after its last rotation.
async fn caller(state: &AppState, me: &Principal) -> Result<ClientRow, ApiError> {
    if me.role() != Role::Integration {
        return Err(ApiError::forbidden());
    }
    let id = me.id().to_string();
    let issued = me.0.iat;
    let client = state.db(move |conn| Ok(ig::find_client(conn, &id)?)).await?;
    match client {
        Some(c) if c.active && c.secret_rotated_at.is_none_or(|r| issued >= r.and_utc().timestamp()) => Ok(c),
        _ => Err(ApiError::unauthorized(Msg::new(
            "Ứng dụng tích hợp đã bị thu hồi hoặc đổi khóa",
            "The integration client was revoked or its secret rotated",
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Pull: dossiers and events

/// A page of a machine feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `after` for what follows; none when this page is empty (keep your last cursor).
    pub next: Option<String>,
}

fn cursor(p: Position) -> String {
    format!("{}.{}", p.txid, p.seq)
}

fn parse_cursor(raw: Option<&str>) -> Result<Position, FieldError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(Position::default()) };
    let bad = || FieldError::new("after", "invalid_cursor", "Con trỏ không hợp lệ", "Not a cursor from this API");
    let (txid, seq) = raw.split_once('.').ok_or_else(bad)?;
    let txid: i64 = txid.parse().map_err(|_| bad())?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    if txid < 0 || seq < 0 {
        return Err(bad());
    }
    Ok(Position { txid, seq })
}

fn parse_limit(raw: Option<&str>, errors: &mut Vec<FieldError>) -> i64 {
    match raw.map(str::parse::<i64>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new("limit", "out_of_range", "limit từ 1 đến 1000", "limit is 1 to 1000"));
            100
        }
    }
}

/// Filters of the dossier sync.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    #[param(value_type = Option<DossierStatus>)]
    pub status: Option<String>,
    /// Only dossiers changed after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_after: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// Dossiers of the client's agencies in the order they last changed. Paging with `after` never
/// skips or repeats a dossier, even while others are being written; a dossier that changes again
/// comes again, later in the order.
#[utoipa::path(tag = "integration", params(SyncQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of dossiers", body = Feed<DossierView>),
    (status = 400, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/dossiers")]
pub async fn pull_dossiers(
    state: web::Data<AppState>,
    me: Principal,
    query: web::Query<SyncQuery>,
) -> ApiResult<web::Json<Feed<DossierView>>> {
    let client = caller(&state, &me).await?;
    let q = query.into_inner();
    let mut errors = Vec::new();
    let status = q
        .status
        .as_deref()
        .and_then(|s| DossierStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok())
        .map(|s| s.as_str().to_string());
    let updated_after = q.updated_after.as_deref().and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                errors.push(FieldError::new("updated_after", "invalid_time", "Thời điểm RFC 3339", "An RFC 3339 time"))
            })
            .ok()
    });
    let after = parse_cursor(q.after.as_deref()).map_err(|e| errors.push(e)).unwrap_or_default();
    let limit = parse_limit(q.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = SyncFilter { agencies: client.agencies(), status, updated_after };
    let today = state.clock.today();
    let cache = state.cache.clone();
    let feed = state
        .db(move |conn| {
            let horizon = ig::horizon(conn)?;
            let rows = ig::dossiers_after(conn, &filter, after, horizon, limit)?;
            let next = rows.last().map(|(_, p)| cursor(*p));
            let cal = cache.calendar(conn)?;
            let items = svc::views(conn, rows.into_iter().map(|(row, _)| row).collect(), Access::Agency, &cal, today)?;
            Ok(Feed { items, next })
        })
        .await?;
    Ok(web::Json(feed))
}

/// One change: a dossier submitted, moved or updated, a payment paid or refunded, feedback filed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEvent {
    pub id: String,
    /// `dossier.submitted`, `dossier.status_changed`, `dossier.updated`, `payment.paid`,
    /// `payment.refunded`, `feedback.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: String,
    pub agency_id: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// This event's position, usable as `after`.
    pub cursor: String,
}

/// Paging of the change feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The `next` (or an event's `cursor`) of the previous page.
    pub after: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// Every dossier, payment and feedback event of the client's agencies, in commit order. An
/// event appears only once every transaction that started before it has finished, so a cursor
/// never passes an event that is still to come.
#[utoipa::path(tag = "integration", params(EventsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of events", body = Feed<FeedEvent>),
    (status = 400, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/events")]
pub async fn event_feed(
    state: web::Data<AppState>,
    me: Principal,
    query: web::Query<EventsQuery>,
) -> ApiResult<web::Json<Feed<FeedEvent>>> {
    let client = caller(&state, &me).await?;
    let mut errors = Vec::new();
    let after = parse_cursor(query.after.as_deref()).map_err(|e| errors.push(e)).unwrap_or_default();
    let limit = parse_limit(query.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let agencies = client.agencies();
    let feed = state
        .db(move |conn| {
            let horizon = ig::horizon(conn)?;
            let rows = ig::events_after(conn, &agencies, after, horizon, limit)?;
            let next = rows.last().map(|e| cursor(Position { txid: e.txid, seq: e.seq }));
            let items = rows
                .into_iter()
                .map(|e| FeedEvent {
                    cursor: cursor(Position { txid: e.txid, seq: e.seq }),
                    data: serde_json::from_str(&e.data).unwrap_or_default(),
                    id: e.id,
                    event_type: e.event_type,
                    occurred_at: rfc3339(e.created_at),
                    agency_id: e.agency_id,
                    dossier_id: e.dossier_id,
                    dossier_code: e.dossier_code,
                })
                .collect();
            Ok(Feed { items, next })
        })
        .await?;
    Ok(web::Json(feed))
}

// ---------------------------------------------------------------------------------------------
// Push: transitions and counter registrations

/// A dossier of the client's agencies, by code; any other is not found.
fn client_dossier(conn: &mut DbConn, client: &ClientRow, code: &str) -> Result<DossierRow, ApiError> {
    d::find_dossier_by_code(conn, code)?
        .filter(|row| client.agencies().contains(&row.agency_id))
        .ok_or_else(svc::not_found)
}

/// Move a dossier through the same workflow officers use. Send an `Idempotency-Key`: a retry with
/// the same key and body gets the first answer and changes nothing; the same key with another
/// body is 422.
#[utoipa::path(tag = "integration", request_body = TransitionInput, security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code"), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
    (status = 200, description = "Moved", body = DossierView),
    (status = 400, description = "Missing reason, note or date", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier among the client's agencies", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The workflow does not allow this move now", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Results missing, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
))]
#[post("/integration/dossiers/{code}/transitions")]
pub async fn push_transition(
    state: web::Data<AppState>,
    me: Principal,
    req: HttpRequest,
    code: web::Path<String>,
    body: RawBody<TransitionInput>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let code = path_key(code.into_inner(), "hồ sơ", "Dossier")?;
    let RawBody(input, bytes) = body;
    let idem = crate::idempotency::from_request(&req, &client.id, &format!("integration-move:{code}"), &bytes)?;
    let action = input.action.ok_or_else(|| ApiError::field(FieldError::required("action")))?;
    let at = state.clock.moment();
    let cache = state.cache.clone();
    let (status, json) = state
        .tx(move |conn| {
            if let Some(stored) = idem.as_ref().map(|i| i.begin(conn)).transpose()?.flatten() {
                return Ok(stored);
            }
            let row = client_dossier(conn, &client, &code)?;
            let cal = cache.calendar(conn)?;
            let mover = svc::Mover { actor: Actor::Agency, id: Some(&client.id), role: Role::Integration.as_str() };
            let row = svc::apply(conn, row, action, &mover, &input, &cal, at)?;
            let view = svc::view(conn, row, Access::Agency, &cal, at.today)?;
            let json = serde_json::to_string(&view).map_err(|_| ApiError::internal())?;
            if let Some(i) = &idem {
                i.remember(conn, 200, &json)?;
            }
            Ok((200, json))
        })
        .await?;
    Ok(HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .content_type("application/json")
        .body(json))
}

/// The applicant of a dossier received at a counter or by post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterApplicant {
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A dossier received at a counter (`counter`, channel 1) or by post (`post`, channel 3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterDossier {
    /// Id or code of the procedure.
    pub procedure_id: String,
    /// `counter` or `post`.
    pub channel: String,
    pub applicant: CounterApplicant,
    /// Where it stands now (default `received`).
    #[schema(value_type = Option<DossierStatus>)]
    pub status: Option<String>,
    /// When it was received (RFC 3339; default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<String>,
    /// The appointed date (default: the procedure's working days from reception).
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
}

/// The agency whose code starts a dossier code `<agency code>-<yyMMdd>-<NNNN>`.
fn agency_of_code(conn: &mut DbConn, client: &ClientRow, code: &str) -> Result<String, ApiError> {
    let agency = match dvc_domain::workflow::parse_dossier_code(code) {
        Some((agency_code, _, _)) => dvc_persistence::catalogue::find_agency_by_code(conn, agency_code)?,
        None => None,
    };
    agency.map(|a| a.id).filter(|id| client.agencies().contains(id)).ok_or_else(svc::not_found)
}

fn check_counter(input: &CounterDossier) -> Result<(DossierStatus, Option<NaiveDateTime>), ApiError> {
    let mut errors = Vec::new();
    if !matches!(input.channel.as_str(), "counter" | "post") {
        errors.push(FieldError::one_of("channel", &["counter", "post"]));
    }
    dvc_domain::catalogue::check_text("applicant.full_name", &input.applicant.full_name, 200, &mut errors);
    if let Some(id) = input.applicant.id_number.as_deref().filter(|s| !s.is_empty()) {
        let _ = dvc_domain::identity::CitizenId::parse("applicant.id_number", id, None).map_err(|e| errors.push(e));
    }
    if let Some(phone) = input.applicant.phone.as_deref().filter(|s| !s.is_empty()) {
        let _ = dvc_domain::identity::PhoneNumber::parse("applicant.phone", phone).map_err(|e| errors.push(e));
    }
    if let Some(email) = input.applicant.email.as_deref().filter(|s| !s.is_empty()) {
        let _ = dvc_domain::identity::Email::parse("applicant.email", email).map_err(|e| errors.push(e));
    }
    let status = match input.status.as_deref() {
        None => Some(DossierStatus::Received),
        Some("draft") => {
            errors.push(FieldError::new("status", "invalid", "Không đồng bộ bản nháp", "Drafts are not synced"));
            None
        }
        Some(s) => DossierStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok(),
    };
    let received_at = input.received_at.as_deref().and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                errors.push(FieldError::new("received_at", "invalid_time", "Thời điểm RFC 3339", "An RFC 3339 time"))
            })
            .ok()
    });
    match status {
        Some(status) if errors.is_empty() => Ok((status, received_at)),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Register, or bring up to date, a dossier received at a counter or by post, so that its
/// applicant can track it by code like any other. 201 when new, 200 when updated.
#[utoipa::path(tag = "integration", request_body = CounterDossier, security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code, `<agency code>-<yyMMdd>-<NNNN>`")),
    responses(
    (status = 200, description = "Updated", body = DossierView),
    (status = 201, description = "Registered", body = DossierView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "The code is not of the client's agencies", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "An online dossier: move it with transitions", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[put("/integration/dossiers/{code}")]
pub async fn put_dossier(
    state: web::Data<AppState>,
    me: Principal,
    code: web::Path<String>,
    body: Body<CounterDossier>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let code = path_key(code.into_inner(), "hồ sơ", "Dossier")?;
    let input = body.0;
    let (status, received_at) = check_counter(&input)?;
    let at = state.clock.moment();
    let cache = state.cache.clone();
    let (created, view) = state
        .tx(move |conn| {
            let existing = d::find_dossier_by_code(conn, &code)?;
            let agency_id = match &existing {
                Some(row) if client.agencies().contains(&row.agency_id) => row.agency_id.clone(),
                Some(_) => return Err(svc::not_found()),
                None => agency_of_code(conn, &client, &code)?,
            };
            if existing.as_ref().is_some_and(|row| row.channel == "online") {
                return Err(ApiError::conflict(Msg::new(
                    "Hồ sơ nộp trực tuyến được cập nhật qua các bước xử lý (transitions)",
                    "Online dossiers move through transitions",
                )));
            }
            let (snapshot, version) =
                crate::routes::dossiers::procedure_snapshot(conn, &input.procedure_id, &agency_id, false)?;
            let cal = cache.calendar(conn)?;
            let received = received_at.unwrap_or(at.now);
            let due = input.due_date.unwrap_or_else(|| {
                cal.add_working_days(crate::calendar::local_date(received), snapshot.processing_days.max(0) as u32).0
            });
            let applicant = serde_json::json!({
                "full_name": input.applicant.full_name.trim(), "id_number": input.applicant.id_number,
                "phone": input.applicant.phone, "email": input.applicant.email,
            });
            let created = existing.is_none();
            let mut row = existing.unwrap_or_else(|| DossierRow {
                id: new_id(),
                code: Some(code.clone()),
                procedure_id: String::new(),
                procedure_version: version,
                procedure_snapshot: String::new(),
                agency_id: agency_id.clone(),
                applicant_id: None,
                applicant: String::new(),
                status: status.as_str().into(),
                channel: input.channel.clone(),
                form_data: "{}".into(),
                delivery: serde_json::json!({"method": "counter"}).to_string(),
                submitted_at: Some(received),
                received_at: Some(received),
                due_date: Some(due),
                working_days_allowed: snapshot.processing_days,
                working_days_spent: 0,
                clock_started_on: None,
                finished_at: None,
                timeliness: None,
                version: 0,
                created_at: at.now,
                updated_at: at.now,
                fee_vnd: 0,
            });
            let from = if created { None } else { DossierStatus::parse(&row.status) };
            row.procedure_id = dvc_persistence::catalogue::find_procedure(conn, &input.procedure_id)?
                .map(|p| p.id)
                .ok_or_else(ApiError::internal)?;
            row.procedure_snapshot = serde_json::to_string(&snapshot).map_err(|_| ApiError::internal())?;
            row.applicant = applicant.to_string();
            row.channel = input.channel.clone();
            row.status = status.as_str().into();
            row.received_at = Some(received);
            row.submitted_at = row.submitted_at.or(Some(received));
            row.due_date = Some(due);
            row.clock_started_on = status.clock_running().then_some(crate::calendar::local_date(received));
            if status.finished() || status == DossierStatus::Completed {
                row.finished_at = row.finished_at.or(Some(at.now)).filter(|_| status.finished());
                row.timeliness = row.timeliness.clone().or_else(|| Some(svc::timeliness(Some(due), at.today).into()));
            } else {
                row.finished_at = None;
                row.timeliness = None;
            }
            row.updated_at = at.now;
            if created {
                row.version = 1;
                d::insert_dossier(conn, &row)?;
            } else {
                let expected = row.version;
                row.version += 1;
                if !d::update_dossier(conn, &row, expected)? {
                    return Err(ApiError::conflict(Msg::new(
                        "Hồ sơ vừa thay đổi; hãy thử lại",
                        "The dossier changed meanwhile; try again",
                    )));
                }
            }
            let action = if created { "register" } else { "sync" };
            d::insert_event(
                conn,
                &EventRow {
                    id: new_id(),
                    dossier_id: row.id.clone(),
                    at: at.now,
                    action: action.into(),
                    from_status: from.map(|s| s.as_str().into()),
                    to_status: status.as_str().into(),
                    actor_id: Some(client.id.clone()),
                    actor_role: Role::Integration.as_str().into(),
                    note: None,
                    data: serde_json::json!({"channel": row.channel}).to_string(),
                },
            )?;
            let subject = crate::integration::Subject {
                agency_id: &row.agency_id,
                dossier_id: Some(&row.id),
                dossier_code: row.code.as_deref(),
            };
            let data = serde_json::json!({"action": action, "channel": row.channel, "from_status": from,
                                          "to_status": status, "national_status_code": status.national_code()});
            let kind = match (created, from == Some(status)) {
                (true, _) => "dossier.submitted",
                (false, true) => "dossier.updated",
                (false, false) => "dossier.status_changed",
            };
            crate::integration::emit(conn, kind, subject, data)?;
            Ok((created, svc::view(conn, row, Access::Agency, &cal, at.today)?))
        })
        .await?;
    let mut res = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(res.json(view))
}

// ---------------------------------------------------------------------------------------------
// The national wire format

/// The applicant block on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalApplicant {
    pub ho_ten: Option<String>,
    pub so_dinh_danh: Option<String>,
    pub so_dien_thoai: Option<String>,
    pub email: Option<String>,
}

/// A document on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalDocument {
    /// The required-document slot, or `result`.
    pub ma_giay_to: String,
    pub ten_tep: String,
    /// `1` submitted by the applicant, `2` result.
    pub loai: i32,
    /// 0 not digitised, 1 digitised, 2 reused, 3 reused from another dossier's result.
    pub trang_thai_so_hoa: i32,
    pub ma_bam_sha256: String,
}

/// A fee on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalFee {
    /// `1` phí (fee), `2` lệ phí (charge).
    pub loai_phi: i32,
    pub ten_phi: String,
    pub so_tien: i64,
    /// `before`, `after`, `exempt` or `free`.
    pub thoi_diem_nop: String,
}

/// A step of the history on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalStep {
    /// `yyyyMMddHHmmss`, Asia/Ho_Chi_Minh.
    pub thoi_diem: String,
    pub hanh_dong: String,
    pub trang_thai: Option<i32>,
    pub ghi_chu: Option<String>,
}

/// A dossier as one-stop systems exchange it with the national portal. Dates are
/// `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh; a due date (a day) is written at `000000`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NationalDossier {
    #[serde(rename = "MaHoSo")]
    pub ma_ho_so: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    #[serde(rename = "TenTTHC")]
    pub ten_tthc: String,
    #[serde(rename = "MaCoQuan")]
    pub ma_co_quan: String,
    /// 1–10, see the national status list (6: fees due before processing).
    #[serde(rename = "TrangThaiHoSo")]
    pub trang_thai_ho_so: Option<i32>,
    /// 1 in person, 2 online, 3 public post.
    #[serde(rename = "KenhThucHien")]
    pub kenh_thuc_hien: i32,
    #[serde(rename = "NgayNopHoSo")]
    pub ngay_nop_ho_so: Option<String>,
    #[serde(rename = "NgayTiepNhan")]
    pub ngay_tiep_nhan: Option<String>,
    #[serde(rename = "NgayHenTra")]
    pub ngay_hen_tra: Option<String>,
    #[serde(rename = "NgayKetThucXuLy")]
    pub ngay_ket_thuc_xu_ly: Option<String>,
    /// `early`, `on_time` or `late` once the agency has finished.
    #[serde(rename = "TinhTrangHan")]
    pub tinh_trang_han: Option<String>,
    #[serde(rename = "ChuHoSo")]
    pub chu_ho_so: NationalApplicant,
    #[serde(rename = "DanhSachGiayTo")]
    pub danh_sach_giay_to: Vec<NationalDocument>,
    #[serde(rename = "DanhSachLePhi")]
    pub danh_sach_le_phi: Vec<NationalFee>,
    #[serde(rename = "TongPhiDaThanhToan")]
    pub tong_phi_da_thanh_toan: i64,
    #[serde(rename = "QuaTrinhXuLy")]
    pub qua_trinh_xu_ly: Vec<NationalStep>,
}

/// `yyyyMMddHHmmss` in Vietnam of a stored (UTC) time.
pub fn wire_time(t: NaiveDateTime) -> String {
    t.and_utc().with_timezone(&crate::calendar::vietnam()).format("%Y%m%d%H%M%S").to_string()
}

fn national(conn: &mut DbConn, row: DossierRow) -> Result<NationalDossier, ApiError> {
    let snap = svc::snapshot(&row)?;
    let status = svc::status(&row)?;
    let fees = svc::fee_state(conn, &snap, &row.id)?;
    let applicant: serde_json::Value = serde_json::from_str(&row.applicant).unwrap_or_default();
    let text = |key: &str| applicant.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let mut documents = Vec::new();
    for kind in ["applicant", "result"] {
        for (a, f) in d::attachments(conn, &row.id, kind)? {
            documents.push(NationalDocument {
                ma_giay_to: a.document_id,
                ten_tep: f.filename,
                loai: if kind == "result" { 2 } else { 1 },
                trang_thai_so_hoa: f.digitization,
                ma_bam_sha256: f.sha256,
            });
        }
    }
    let steps = d::events(conn, &row.id)?
        .into_iter()
        .map(|e| NationalStep {
            thoi_diem: wire_time(e.at),
            hanh_dong: e.action,
            trang_thai: DossierStatus::parse(&e.to_status).and_then(|s| s.national_code()),
            ghi_chu: e.note,
        })
        .collect();
    Ok(NationalDossier {
        ma_ho_so: row.code.clone().unwrap_or_default(),
        ma_tthc: snap.code,
        ten_tthc: snap.name,
        ma_co_quan: snap.agency_code,
        trang_thai_ho_so: svc::national_code(status, &fees),
        kenh_thuc_hien: match row.channel.as_str() {
            "online" => 2,
            "post" => 3,
            _ => 1,
        },
        ngay_nop_ho_so: row.submitted_at.map(wire_time),
        ngay_tiep_nhan: row.received_at.map(wire_time),
        ngay_hen_tra: row.due_date.map(|d| format!("{}000000", d.format("%Y%m%d"))),
        ngay_ket_thuc_xu_ly: row.finished_at.map(wire_time),
        tinh_trang_han: row.timeliness,
        chu_ho_so: NationalApplicant {
            ho_ten: text("full_name"),
            so_dinh_danh: text("id_number").or_else(|| text("tax_code")),
            so_dien_thoai: text("phone"),
            email: text("email"),
        },
        danh_sach_giay_to: documents,
        danh_sach_le_phi: snap
            .fees
            .iter()
            .map(|f| NationalFee {
                loai_phi: if f.kind == dvc_domain::catalogue::FeeKind::Fee { 1 } else { 2 },
                ten_phi: f.name.clone(),
                so_tien: f.amount_vnd,
                thoi_diem_nop: f.mode.as_str().into(),
            })
            .collect(),
        tong_phi_da_thanh_toan: fees.paid_before + fees.paid_after,
        qua_trinh_xu_ly: steps,
    })
}

/// A dossier of the client's agencies in the national portal's exchange format.
#[utoipa::path(tag = "integration", security(("bearer" = [])), params(("code" = String, Path, description = "Dossier code")), responses(
    (status = 200, description = "The dossier", body = NationalDossier),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier among the client's agencies", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/dossiers/{code}/national")]
pub async fn national_dossier(
    state: web::Data<AppState>,
    me: Principal,
    code: web::Path<String>,
) -> ApiResult<web::Json<NationalDossier>> {
    let client = caller(&state, &me).await?;
    let code = path_key(code.into_inner(), "hồ sơ", "Dossier")?;
    let view = state
        .db(move |conn| {
            let row = client_dossier(conn, &client, &code)?;
            national(conn, row)
        })
        .await?;
    Ok(web::Json(view))
}

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

/// Register a webhook. Deliveries are POSTs of the event JSON with `X-DVC-Signature:
/// t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, `X-DVC-Event` and `X-DVC-Delivery`;
/// a 2xx answer ends it, anything else is retried with exponential backoff for a day.
#[utoipa::path(tag = "integration", request_body = NewWebhook, security(("bearer" = [])), responses(
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
    me: Principal,
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
#[utoipa::path(tag = "integration", security(("bearer" = [])), responses(
    (status = 200, description = "The webhooks", body = Vec<WebhookView>),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/webhooks")]
pub async fn list_webhooks(state: web::Data<AppState>, me: Principal) -> ApiResult<web::Json<Vec<WebhookView>>> {
    let client = caller(&state, &me).await?;
    let rows = state.db(move |conn| Ok(ig::webhooks_of(conn, &client.id)?)).await?;
    Ok(web::Json(rows.into_iter().map(webhook_view).collect()))
}

fn own_webhook(conn: &mut DbConn, client: &ClientRow, id: &str) -> Result<WebhookRow, ApiError> {
    ig::find_webhook(conn, id)?.filter(|w| w.client_id == client.id).ok_or_else(webhook_not_found)
}

/// Remove a webhook and its delivery history.
#[utoipa::path(tag = "integration", security(("bearer" = [])), params(("id" = String, Path, description = "Webhook id")), responses(
    (status = 204, description = "Removed"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such webhook of this client", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/integration/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    me: Principal,
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
#[utoipa::path(tag = "integration", params(("id" = String, Path, description = "Webhook id"), PageQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of deliveries", body = Page<DeliveryView>),
    (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such webhook of this client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    me: Principal,
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
#[utoipa::path(tag = "integration", security(("bearer" = [])),
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
    me: Principal,
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
