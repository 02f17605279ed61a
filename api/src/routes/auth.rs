//! Sign-in: exchanging a username and password for an access token.

use actix_web::{post, web};
use dvc_domain::auth::{AccountType, Assurance, Role};
use dvc_persistence::accounts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{dummy_hash, verify_password};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::state::AppState;

/// Credentials: the username is the ID number, tax code or phone (or a staff username).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "admin", max_length = 64)]
    pub username: String,
    #[schema(example = "Admin@12345", max_length = 128)]
    pub password: String,
}

/// Tokens issued at sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized(Msg::new("Tên đăng nhập hoặc mật khẩu không đúng", "Wrong username or password"))
}

/// Sign in with a username and password.
#[utoipa::path(tag = "auth", request_body = TokenRequest, responses(
    (status = 200, description = "Signed in", body = TokenResponse),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Wrong credentials or disabled account", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/token")]
pub async fn token(state: web::Data<AppState>, body: Body<TokenRequest>) -> ApiResult<web::Json<TokenResponse>> {
    let TokenRequest { username, password } = body.0;
    if username.len() > 64 || password.len() > 128 || !dvc_domain::text::is_lookup_key(&username) {
        return Err(bad_credentials());
    }
    let account = state
        .db(move |conn| {
            let account = accounts::find_by_username(conn, username.trim())?;
            let hash = account.as_ref().map(|a| a.password_hash.as_str()).unwrap_or(dummy_hash());
            let ok = verify_password(&password, hash);
            Ok(account.filter(|a| ok && !a.disabled))
        })
        .await?
        .ok_or_else(bad_credentials)?;
    let (Some(role), Some(account_type), Some(assurance)) =
        (Role::parse(&account.role), AccountType::parse(&account.account_type), Assurance::parse(&account.assurance))
    else {
        return Err(ApiError::internal());
    };
    let access_token = state.keys.issue(&account.id, role, account_type, assurance, account.agency_id.clone())?;
    Ok(web::Json(TokenResponse {
        access_token,
        refresh_token: None,
        token_type: "Bearer",
        expires_in: state.keys.ttl_secs,
    }))
}
