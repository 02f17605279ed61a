//! The machine side for ministry and provincial one-stop systems: client credentials, dossier sync
//! both ways, the change feed, webhooks, and the national wire format.

use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use dvc_domain::auth::Role;
use dvc_domain::dossier::{national_code, Actor, Dossier};
use dvc_domain::workflow::DossierStatus;
use dvc_domain::FieldError;
use dvc_persistence::dossiers as d;
use dvc_persistence::files::{self, APPLICANT, RESULT};
use dvc_persistence::integration::{self as ig, ClientRow, Position, SyncFilter, WebhookRow};
use dvc_persistence::{new_id, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::rfc3339;
use crate::dossier::{self as svc, Access, DossierView, TransitionInput};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::{Body, RawBody};
use crate::guards::{Admin, IntegrationToken, Principal};
use crate::routes::{path_key, Page};
use crate::state::AppState;

mod feeds;
mod national;
mod push;
mod webhooks;

pub use feeds::*;
pub use national::*;
pub use push::*;
pub use webhooks::*;

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
#[utoipa::path(operation_id = "createIntegrationClient", tag = "integration", request_body = NewClient, security(("bearer" = [])), responses(
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
    let hash = state.hash_password(secret.clone()).await?;
    let t = state.clock.now();
    let row = state
        .tx(move |conn| {
            let agencies = crate::routes::agency_ids(conn, "agency_ids", &agencies)?;
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
#[utoipa::path(operation_id = "listIntegrationClients", tag = "integration", params(PageQuery), security(("bearer" = [])), responses(
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
#[utoipa::path(operation_id = "rotateIntegrationClientSecret", tag = "integration", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")), responses(
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
    let hash = state.hash_password(secret.clone()).await?;
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
#[utoipa::path(operation_id = "revokeIntegrationClient", tag = "integration", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")), responses(
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

/// Get a client-credentials token.
///
/// Exchange client credentials for a short-lived bearer token (RFC 6749 §4.4). Errors follow
/// RFC 6749 §5.2 (`{"error", "error_description"}`), not problem+json.
#[utoipa::path(operation_id = "issueClientToken", tag = "integration",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
    (status = 200, description = "A token", body = ClientToken),
    (status = 400, description = "invalid_request or unsupported_grant_type", body = OAuthError),
    (status = 401, description = "invalid_client", body = OAuthError),
    (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many password checks at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
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
    let valid = state.verify_password(client_secret, hash).await?;
    let client = match found {
        Some(c) if valid && c.active => c,
        _ => return Ok(oauth_error(401, "invalid_client", "Unknown client, wrong secret, or revoked")),
    };
    let ttl = state.config.integration_token_ttl.as_secs() as i64;
    let access_token = state.keys.issue_client(&client.id, secret_version(&client), ttl)?;
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

/// The version of a client's secret: when it was last rotated, in milliseconds (0 if never).
fn secret_version(client: &ClientRow) -> i64 {
    client.secret_rotated_at.map_or(0, |r| r.and_utc().timestamp_millis())
}

/// The integration client behind a token: active, and the token obtained with its present secret.
pub(crate) async fn caller(state: &AppState, me: &Principal) -> Result<ClientRow, ApiError> {
    if me.role() != Role::Integration {
        return Err(ApiError::forbidden());
    }
    let id = me.id().to_string();
    let version = me.0.sv;
    let client = state.db(move |conn| Ok(ig::find_client(conn, &id)?)).await?;
    match client {
        Some(c) if c.active && version == Some(secret_version(&c)) => Ok(c),
        _ => Err(ApiError::unauthorized(Msg::new(
            "Ứng dụng tích hợp đã bị thu hồi hoặc đổi khóa",
            "The integration client was revoked or its secret rotated",
        ))),
    }
}
