//! Sign-in through OpenID Connect providers: the web flow (dvc sends the browser to the provider
//! and finishes the sign-in when it comes back) and the native-app flow of RFC 8252 (the app runs
//! the authorization with PKCE itself and hands dvc the code).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use dvc_domain::auth::{AccountType, Assurance, Role};
use dvc_domain::FieldError;
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::federation::{self as fed, OidcStateRow};
use dvc_persistence::{new_id, now};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::random_token;
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::oidc::{Identity, ProviderConfig};
use crate::routes::auth::{issue_tokens, TokenResponse};
use crate::state::AppState;

/// An identity provider people may sign in with.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProvider {
    /// The name in `/auth/oidc/{provider}/...`.
    #[schema(example = "vneid")]
    pub name: String,
    #[schema(example = "Tài khoản định danh điện tử (VNeID)")]
    pub display_name: String,
    /// The address of the web flow's first step (add `?redirect_uri=`).
    #[schema(example = "/api/v1/auth/oidc/vneid/authorize")]
    pub authorize_path: String,
}

/// Identity providers to sign in with.
///
/// The OpenID Connect providers this server accepts sign-ins from (VNeID, the national portal's
/// single sign-on, ...); none when none is configured.
#[utoipa::path(operation_id = "listIdentityProviders", tag = "auth", responses(
    (status = 200, description = "The providers", body = Vec<IdentityProvider>),
))]
#[get("/auth/providers")]
pub async fn providers(state: web::Data<AppState>) -> web::Json<Vec<IdentityProvider>> {
    web::Json(
        state
            .federation
            .providers()
            .iter()
            .map(|p| IdentityProvider {
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                authorize_path: format!("/api/v1/auth/oidc/{}/authorize", p.name),
            })
            .collect(),
    )
}

fn provider<'a>(state: &'a AppState, name: &str) -> Result<&'a ProviderConfig, ApiError> {
    state.federation.provider(name).ok_or_else(|| ApiError::not_found("nhà cung cấp định danh", "Identity provider"))
}

fn allowed_redirect(state: &AppState, uri: &str) -> Result<(), ApiError> {
    if state.federation.redirect_allowed(uri) {
        return Ok(());
    }
    Err(ApiError::field(FieldError::new(
        "redirect_uri",
        "not_allowed",
        "Địa chỉ quay lại không nằm trong danh sách được phép",
        "Not one of the redirect URIs this server allows",
    )))
}

/// Where the provider sends the person back to.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// One of the redirect URIs the server allows (`DVC_OIDC_REDIRECT_URIS`), registered at the
    /// provider: this server's `/auth/oidc/{provider}/callback` or an app's page that passes
    /// `code` and `state` on to it.
    #[param(max_length = 2000)]
    pub redirect_uri: String,
}

/// Start signing in with a provider (web flow).
///
/// Answers 302 to the provider's sign-in page with a fresh `state`, a `nonce` and a PKCE S256
/// challenge. The sign-in is kept in the database for 10 minutes, so any server can finish it at
/// `/auth/oidc/{provider}/callback`, once.
#[utoipa::path(operation_id = "startFederatedSignIn", tag = "auth",
    params(("provider" = String, Path, description = "Provider name"), AuthorizeQuery),
    responses(
        (status = 302, description = "To the provider's sign-in page (`Location`)"),
        (status = 400, description = "A redirect URI that is not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The provider is not answering", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/auth/oidc/{provider}/authorize")]
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<AuthorizeQuery>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let p = provider(&state, &name)?;
    allowed_redirect(&state, &query.redirect_uri)?;
    let started = state.federation.start(p, &query.redirect_uri).await?;
    let row = OidcStateRow {
        state: started.state,
        provider: p.name.clone(),
        nonce: started.nonce,
        code_verifier: started.code_verifier,
        redirect_uri: query.redirect_uri.clone(),
        created_at: now(),
    };
    state.tx(move |conn| Ok(fed::insert_state(conn, &row)?)).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, started.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// What the provider sends back.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    #[param(max_length = 2000)]
    pub code: Option<String>,
    #[param(max_length = 200)]
    pub state: Option<String>,
    /// The provider's refusal (`access_denied`, ...), instead of a code.
    #[param(max_length = 200)]
    pub error: Option<String>,
}

fn invalid_state() -> ApiError {
    ApiError::field(FieldError::new(
        "state",
        "invalid_state",
        "Phiên đăng nhập không tồn tại, đã dùng hoặc đã hết hạn",
        "No such sign-in, or it was used or has expired",
    ))
}

/// Finish signing in with a provider (web flow).
///
/// Checks the `state` (once, within 10 minutes, on any server), exchanges the code with the PKCE
/// verifier, verifies the ID token (signature by the provider's keys, issuer, audience, expiry,
/// nonce) or, for VNeID, opens its encrypted token and userinfo answers, and answers dvc's tokens. The first sign-in of a person creates a verified account
/// (a citizen by the 12-digit personal ID number, an organisation by its tax code); an existing
/// account with that number is linked, never duplicated.
#[utoipa::path(operation_id = "finishFederatedSignIn", tag = "auth",
    params(("provider" = String, Path, description = "Provider name"), CallbackQuery),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "No code, or an unknown, used or expired state", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The provider refused, or its answer did not verify", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The provider is not answering", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/auth/oidc/{provider}/callback")]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let p = provider(&state, &name)?.clone();
    let q = query.into_inner();
    let Some(key) = q.state.filter(|s| !s.is_empty()) else { return Err(invalid_state()) };
    // The sign-in is used up whatever the provider answered.
    let provider_name = p.name.clone();
    let pending = state.tx(move |conn| Ok(fed::take_state(conn, &provider_name, &key, now())?)).await?;
    let pending = pending.ok_or_else(invalid_state)?;
    if let Some(error) = q.error {
        tracing::info!(provider = %p.name, error = %error.chars().take(200).collect::<String>(), "sign-in refused by the provider");
        return Err(crate::oidc::failed());
    }
    let code = q.code.filter(|c| !c.is_empty()).ok_or_else(|| ApiError::field(FieldError::required("code")))?;
    // A provider without nonces (VNeID) leaves it empty.
    let nonce = Some(pending.nonce.as_str()).filter(|n| !n.is_empty());
    let who = state.federation.finish(&p, &code, &pending.code_verifier, &pending.redirect_uri, nonce).await?;
    signed_in(&state, &p, who).await
}

/// A native app's code, after it ran the authorization with PKCE itself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeCodeRequest {
    #[schema(max_length = 2000)]
    pub code: String,
    /// The PKCE verifier (RFC 7636: 43 to 128 characters).
    #[schema(min_length = 43, max_length = 128)]
    pub code_verifier: String,
    /// The redirect URI the app used, one of those the server allows.
    #[schema(max_length = 2000)]
    pub redirect_uri: String,
    /// The nonce the app sent, when it sent one: the ID token must carry it.
    #[schema(max_length = 200)]
    pub nonce: Option<String>,
}

/// Sign in with a provider's code (native apps).
///
/// For mobile and desktop apps (RFC 8252): the app opens the provider's authorization page itself
/// with PKCE S256 and a loopback or app-claimed redirect URI, then posts the code and its verifier
/// here. dvc exchanges them with its own client credentials, verifies the ID token as in the web
/// flow, and answers its tokens.
#[utoipa::path(operation_id = "federatedSignInWithCode", tag = "auth",
    params(("provider" = String, Path, description = "Provider name")),
    request_body = NativeCodeRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed request or a redirect URI that is not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The provider refused the code, or its answer did not verify", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The provider is not answering", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/auth/oidc/{provider}/token")]
pub async fn native_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: Body<NativeCodeRequest>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let p = provider(&state, &name)?.clone();
    let b = body.0;
    let mut errors = Vec::new();
    let verifier_ok = (43..=128).contains(&b.code_verifier.len())
        && b.code_verifier.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c));
    if !verifier_ok {
        errors.push(FieldError::new("code_verifier", "invalid", "Mã PKCE không hợp lệ", "Not a PKCE code verifier"));
    }
    if b.code.is_empty() || b.code.len() > 2000 {
        errors.push(FieldError::required("code"));
    }
    if b.nonce.as_ref().is_some_and(|n| n.len() > 200) {
        errors.push(FieldError::new("nonce", "too_long", "Quá dài", "Too long"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    allowed_redirect(&state, &b.redirect_uri)?;
    let who = state.federation.finish(&p, &b.code, &b.code_verifier, &b.redirect_uri, b.nonce.as_deref()).await?;
    signed_in(&state, &p, who).await
}

/// The person's account (linked before, found by number, or created), and dvc's tokens for it
/// at the level the provider vouched for.
async fn signed_in(state: &AppState, p: &ProviderConfig, who: Identity) -> ApiResult<HttpResponse> {
    let assurance = if who.level >= 2 { Assurance::High } else { Assurance::Medium };
    // A password no one knows: the account signs in through its provider until its owner sets one.
    let hash = state.hash_password(random_token(24)).await?;
    let provider = p.name.clone();
    let shared = state.clone();
    let tokens = state
        .tx(move |conn| {
            let linked = fed::linked_account(conn, &provider, &who.subject)?;
            let known = match linked {
                Some(id) => Some(id),
                None => accounts::identity_owner(conn, who.id_number.as_deref(), who.tax_code.as_deref())?,
            };
            let t = now();
            let account = match known.map(|id| accounts::find(conn, &id)).transpose()?.flatten() {
                Some(account) => account,
                None => {
                    let (account_type, role, username) = match (&who.id_number, &who.tax_code) {
                        (Some(id), _) => (AccountType::Citizen, Role::Citizen, id.clone()),
                        (None, Some(tax)) => (AccountType::Organization, Role::Organization, tax.clone()),
                        (None, None) => return Err(crate::oidc::no_identity()),
                    };
                    let full_name = who.full_name.clone().unwrap_or_else(|| username.clone());
                    let mut row = AccountRow::staff(new_id(), role.as_str(), &username, &full_name, hash, None, t);
                    row.account_type = account_type.as_str().into();
                    row.assurance = assurance.as_str().into();
                    row.id_number = who.id_number.clone();
                    row.tax_code = who.tax_code.clone();
                    row.date_of_birth = who.birth_date;
                    row.registration_method = Some(format!("oidc:{provider}"));
                    accounts::insert(conn, &row)?;
                    row
                }
            };
            if account.disabled {
                return Err(ApiError::unauthorized(Msg::new("Tài khoản đã bị khóa", "The account is disabled")));
            }
            // The session is at the level this sign-in was vouched for (its refreshed tokens too);
            // the account's own assurance, for password sign-ins, stays as it was.
            fed::link(conn, &provider, &who.subject, &account.id, i32::from(who.level), t)?;
            accounts::record_successful_login(conn, &account.id)?;
            issue_tokens(conn, &shared, &account, None, Some(assurance))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(tokens))
}
