//! Sign-in, refresh-token rotation, logout and password reset.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Duration;
use dvc_domain::auth::{check_password, AccountType, Assurance, Role};
use dvc_domain::identity::PhoneNumber;
use dvc_domain::FieldError;
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::registrations::{self as regs, PasswordResetRow, RefreshTokenRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{dummy_hash, random_token};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::otp;
use crate::state::AppState;

/// Lifetime of a refresh token.
const REFRESH_TTL_DAYS: i64 = 30;

/// Credentials: the username is the ID number, tax code or phone (or a staff username).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "001099012345", max_length = 64)]
    pub username: String,
    #[schema(example = "Matkhau@2026", max_length = 128)]
    pub password: String,
}

/// Tokens issued at sign-in and on refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Single use: each refresh answers a new one. Reusing an old one revokes them all.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized(Msg::new("Tên đăng nhập hoặc mật khẩu không đúng", "Wrong username or password"))
}

/// 429 until a (username, address) pair's wait after repeated wrong passwords is over.
fn wait_before_trying(until: chrono::NaiveDateTime) -> ApiError {
    // Whole seconds, rounded up: the wait is over when they have passed.
    let wait = ((until - now()).num_milliseconds() + 999).div_euclid(1000).max(1) as u64;
    ApiError::later(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        Msg::new("Đăng nhập sai nhiều lần", "Repeated failed sign-ins"),
        Msg::new(
            "Đăng nhập sai nhiều lần liên tiếp; vui lòng thử lại sau thời gian chờ",
            "Repeated wrong passwords for this username from this address; try again after the wait",
        ),
        wait,
    )
}

/// Issues an access token and a new refresh token (in `family`, or a new family).
/// The token's assurance is the account's, or that of the sign-in (`assurance`) when a provider
/// vouched for it.
pub(crate) fn issue_tokens(
    conn: &mut DbConn,
    state: &AppState,
    account: &AccountRow,
    family: Option<String>,
    assurance: Option<Assurance>,
) -> Result<TokenResponse, ApiError> {
    let vouched = assurance;
    let (Some(role), Some(account_type), Some(assurance)) = (
        Role::parse(&account.role),
        AccountType::parse(&account.account_type),
        vouched.or_else(|| Assurance::parse(&account.assurance)),
    ) else {
        return Err(ApiError::internal());
    };
    let family = family.unwrap_or_else(new_id);
    let access_token =
        state.keys.issue(&account.id, role, account_type, assurance, account.agency_id.clone(), Some(&family))?;
    let refresh_token = random_token(32);
    let t = now();
    regs::insert_refresh(
        conn,
        &RefreshTokenRow {
            id: new_id(),
            account_id: account.id.clone(),
            family_id: family,
            token_hash: otp::token_hash(&refresh_token),
            expires_at: t + Duration::days(REFRESH_TTL_DAYS),
            used_at: None,
            revoked_at: None,
            created_at: t,
            assurance: vouched.map(|a| a.as_str().to_string()),
        },
    )?;
    Ok(TokenResponse { access_token, refresh_token, token_type: "Bearer", expires_in: state.keys.ttl_secs })
}

/// Sign in with a username (ID number, tax code, phone, or staff name) and password.
///
/// After three wrong passwords in a row for one username from one address, that pair waits
/// before its next try: 1 second, doubling with each failure up to 15 minutes (429 with
/// `Retry-After`). The account is never locked, and the answers are the same whether it exists.
#[utoipa::path(operation_id = "signIn", tag = "auth", request_body = TokenRequest, responses(
    (status = 200, description = "Signed in", body = TokenResponse),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Wrong credentials or disabled account", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many password checks at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<TokenRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let TokenRequest { username, password } = body.0;
    let username = username.trim().to_string();
    if username.len() > 64 || password.len() > 128 || !dvc_domain::text::is_lookup_key(&username) {
        return Err(bad_credentials());
    }
    let phone = PhoneNumber::parse("username", &username).ok().map(|p| p.as_str().to_string());
    // Failures count per (username, client address), whether or not the username is anyone's.
    let pair =
        format!("{}|{}", username.to_lowercase(), crate::ratelimit::client_address(&req, state.config.trust_forwarded));
    let (account, blocked) = {
        let pair = pair.clone();
        state
            .db(move |conn| {
                let blocked = accounts::sign_in_blocked_until(conn, &pair)?;
                Ok((accounts::find_for_sign_in(conn, &username, phone.as_deref())?, blocked))
            })
            .await?
    };
    if let Some(until) = blocked.filter(|u| *u > now()) {
        return Err(wait_before_trying(until));
    }
    let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let ok = state.verify_password(password, hash).await?;
    let shared = state.clone();
    let tokens = state
        .db(move |conn| match account {
            Some(account) if ok && !account.disabled => {
                accounts::forget_sign_in_failures(conn, &pair)?;
                accounts::record_successful_login(conn, &account.id)?;
                issue_tokens(conn, &shared, &account, None, None)
            }
            _ => {
                accounts::record_sign_in_failure(conn, &pair, now())?;
                Err(bad_credentials())
            }
        })
        .await?;
    Ok(web::Json(tokens))
}

/// A refresh token to rotate or revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn bad_refresh() -> ApiError {
    ApiError::unauthorized(Msg::new("Mã làm mới không hợp lệ hoặc đã bị thu hồi", "Invalid or revoked refresh token"))
}

/// Exchange a refresh token for new tokens.
///
/// Exchange a refresh token for new tokens. Each refresh token works once; presenting a used one
/// again revokes every token of its family.
#[utoipa::path(operation_id = "refreshToken", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "New tokens", body = TokenResponse),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Invalid, expired, reused or revoked token", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let hash = otp::token_hash(body.0.refresh_token.trim());
    let shared = state.clone();
    // Reuse detection must survive the refusal, so it commits on its own before answering 401.
    let outcome = state
        .tx(move |conn| {
            let Some(found) = regs::find_refresh(conn, &hash)? else {
                return Ok(Err(bad_refresh()));
            };
            let t = now();
            if found.revoked_at.is_some() || found.expires_at < t {
                return Ok(Err(bad_refresh()));
            }
            if found.used_at.is_some() || !regs::mark_refresh_used(conn, &found.id, t)? {
                regs::revoke_family(conn, &found.family_id, t)?;
                tracing::warn!(account = %found.account_id, "refresh token reused; family revoked");
                return Ok(Err(bad_refresh()));
            }
            let account = accounts::find(conn, &found.account_id)?.filter(|a| !a.disabled);
            let Some(account) = account else {
                return Ok(Err(bad_refresh()));
            };
            issue_tokens(
                conn,
                &shared,
                &account,
                Some(found.family_id),
                found.assurance.as_deref().and_then(Assurance::parse),
            )
            .map(Ok)
        })
        .await?;
    Ok(web::Json(outcome?))
}

/// Sign out: revoke the refresh token's whole family; the access tokens of that session stop at once.
#[utoipa::path(operation_id = "signOut", tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "Signed out"),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: Body<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = otp::token_hash(body.0.refresh_token.trim());
    state
        .db(move |conn| {
            if let Some(found) = regs::find_refresh(conn, &hash)? {
                regs::revoke_family(conn, &found.family_id, now())?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Password resets one client address may ask for in a day.
const PASSWORD_RESETS_PER_ADDRESS_PER_DAY: i32 = 10;
/// Reset codes sent to one phone in a day at the request of one address, and from all addresses.
const RESET_CODES_PER_PHONE_PER_ADDRESS: i32 = 5;
const RESET_CODES_PER_PHONE: i64 = 20;

/// A proof-of-work challenge.
///
/// Registration, OTP resend and password reset ask for a solved challenge (unless the server runs
/// with `DVC_CHALLENGE=off`). To solve one: try `n = 0, 1, 2, …, maxnumber` until the hex SHA-256
/// of `salt` followed by `n` in decimal equals `challenge`; then send
/// `X-Challenge-Solution: base64({"algorithm","challenge","number","salt","signature"})` (the
/// ALTCHA payload). A solution serves once and expires with its salt (10 minutes).
#[utoipa::path(operation_id = "getChallenge", tag = "auth", responses(
    (status = 200, description = "A challenge", body = crate::challenge::Challenge, headers(("Cache-Control" = String))),
    (status = 429, description = "Too many requests from this address (the sign-in endpoints' limit)", body = Problem, content_type = "application/problem+json"),
))]
#[get("/challenges")]
pub async fn get_challenge(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let c = crate::challenge::issue(
        &state.config.jwt_secret,
        state.config.challenge_max_number,
        chrono::Utc::now().timestamp(),
    );
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(c))
}

/// Sign out everywhere.
///
/// Ends every session of the signed-in account on every device: all its refresh tokens are
/// revoked and its access tokens stop working at once, this one included.
#[utoipa::path(operation_id = "signOutEverywhere", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "Every session ended"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "An integration client's token", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/logout-all")]
pub async fn logout_all(state: web::Data<AppState>, me: crate::guards::Principal) -> ApiResult<HttpResponse> {
    let id = me.id().to_string();
    state.db(move |conn| Ok(regs::revoke_account(conn, &id, now())?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who forgot their password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// ID number, tax code or phone.
    #[schema(example = "001099012345", min_length = 1, max_length = 64, pattern = r"\S")]
    pub username: String,
}

/// The reset started. The answer is the same whether or not the account exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetStarted {
    pub reset_id: String,
    pub otp_expires_at: String,
    /// Sandbox mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_otp: Option<String>,
}

/// Ask for a password-reset OTP, sent to the account's phone.
#[utoipa::path(operation_id = "requestPasswordReset", tag = "auth", request_body = PasswordResetRequest, params(("X-Challenge-Solution" = Option<String>, Header, description = "A solved challenge (`GET /challenges`), required unless the server runs with `DVC_CHALLENGE=off`")), responses(
    (status = 428, description = "A solved challenge is required", body = Problem, content_type = "application/problem+json"),
    (status = 202, description = "If the account exists, a code was sent", body = PasswordResetStarted),
    (status = 400, description = "Malformed request, or the challenge solution is not valid", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<PasswordResetRequest>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    crate::challenge::require(&state, &req).await?;
    let username = body.0.username.trim().to_string();
    if username.is_empty() {
        return Err(ApiError::field(FieldError::required("username")));
    }
    if username.chars().count() > 64 {
        return Err(ApiError::field(FieldError::too_long("username", 64)));
    }
    // A name that cannot be anyone's is answered like any unknown name.
    let lookup = dvc_domain::text::is_lookup_key(&username);
    let phone = PhoneNumber::parse("username", &username).ok().map(|p| p.as_str().to_string());
    let secret = state.config.jwt_secret.clone();
    let requester = crate::ratelimit::client_address(&req, state.config.trust_forwarded);
    let (row, code) = state
        .tx(move |conn| {
            // The day's share is the requester's, whoever the name belongs to.
            let unix = chrono::Utc::now().timestamp();
            let day = unix - unix.rem_euclid(86_400);
            if dvc_persistence::outbox::hit(conn, &format!("day:password-reset:{requester}"), day)?
                > PASSWORD_RESETS_PER_ADDRESS_PER_DAY
            {
                let mut e = ApiError::new(
                    actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    Msg::new("Quá nhiều yêu cầu", "Too many requests"),
                    Msg::new(
                        "Địa chỉ này đã yêu cầu lấy lại mật khẩu quá số lần cho phép trong ngày",
                        "This address has asked for its daily number of password resets",
                    ),
                );
                e.retry_after = Some(3600);
                return Err(e);
            }
            let account = match lookup {
                true => {
                    accounts::find_for_sign_in(conn, &username, phone.as_deref())?.filter(|a| a.account_type != "staff")
                }
                false => None,
            };
            let id = new_id();
            // Codes to a phone are counted per asking address, so that someone else's requests
            // never use up the owner's; a phone's overall share stops flooding. Past either,
            // no code is sent, and the answer does not say so.
            let purpose = dvc_domain::notify::Purpose::PasswordResetOtp;
            let code = match account.as_ref().and_then(|a| a.phone.clone()) {
                Some(phone) => {
                    let pair = dvc_persistence::outbox::hit(conn, &format!("day:reset-code:{phone}:{requester}"), day)?;
                    let since = now() - Duration::hours(24);
                    let all = dvc_persistence::outbox::count_sent_since(conn, &phone, purpose, since)?;
                    if pair <= RESET_CODES_PER_PHONE_PER_ADDRESS && all < RESET_CODES_PER_PHONE {
                        crate::routes::registrations::queue_otp(conn, &phone, purpose)?
                    } else {
                        otp::generate()
                    }
                }
                None => otp::generate(),
            };
            let row = PasswordResetRow {
                otp_hash: otp::hash(&secret, &id, &code),
                id,
                account_id: account.filter(|a| a.phone.is_some()).map(|a| a.id),
                otp_expires_at: now() + Duration::seconds(otp::OTP_TTL_SECS),
                otp_attempts: 0,
                used_at: None,
                created_at: now(),
            };
            regs::insert_reset(conn, &row)?;
            Ok((row, code))
        })
        .await?;
    Ok(HttpResponse::Accepted().json(PasswordResetStarted {
        reset_id: row.id,
        otp_expires_at: crate::catalogue::rfc3339(row.otp_expires_at),
        sandbox_otp: state.config.sandbox.then_some(code),
    }))
}

/// The OTP and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    pub reset_id: String,
    #[schema(example = "123456")]
    pub otp: String,
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Set a new password with the OTP; every session of the account is signed out.
#[utoipa::path(operation_id = "confirmPasswordReset", tag = "auth", request_body = PasswordResetConfirm, responses(
    (status = 204, description = "Password changed"),
    (status = 400, description = "Wrong or expired code, or a weak password", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many password checks at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<PasswordResetConfirm>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let input = body.0;
    let wrong = || {
        ApiError::field(FieldError::new(
            "otp",
            "wrong_otp",
            "Mã OTP không đúng hoặc đã hết hạn",
            "Wrong or expired code",
        ))
    };
    if !dvc_domain::text::is_lookup_key(&input.reset_id) {
        return Err(wrong());
    }
    let secret = state.config.jwt_secret.clone();
    let reset_id = input.reset_id.clone();
    let otp_code = input.otp.clone();
    let account = state
        .db(move |conn| {
            let Some(mut reset) = regs::find_reset(conn, &reset_id)? else { return Err(wrong()) };
            if reset.used_at.is_some() || reset.otp_expires_at < now() || reset.otp_attempts >= otp::MAX_OTP_ATTEMPTS {
                return Err(wrong());
            }
            if !otp::matches(&secret, &reset.id, otp_code.trim(), &reset.otp_hash) || reset.account_id.is_none() {
                reset.otp_attempts += 1;
                regs::update_reset(conn, &reset)?;
                return Err(wrong());
            }
            let account = accounts::find(conn, reset.account_id.as_deref().unwrap_or_default())?.ok_or_else(wrong)?;
            Ok((reset, account))
        })
        .await?;
    let (mut reset, mut account) = account;
    let identifiers: Vec<&str> =
        [account.id_number.as_deref(), account.tax_code.as_deref(), Some(account.username.as_str())]
            .into_iter()
            .flatten()
            .collect();
    check_password(&input.new_password, &identifiers).map_err(|mut e| {
        e.field = "new_password".into();
        ApiError::field(e)
    })?;
    let password = input.new_password;
    account.password_hash = state.hash_password(password).await?;
    state
        .tx(move |conn| {
            let t = now();
            reset.used_at = Some(t);
            regs::update_reset(conn, &reset)?;
            account.failed_logins = 0;
            account.locked_until = None;
            account.updated_at = t;
            accounts::update(conn, &account)?;
            regs::revoke_account(conn, &account.id, t)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
