//! Registration of applicant accounts: create, prove identity (OTP or signed challenge), complete.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate};
use dvc_domain::auth::{check_password, AccountType, Assurance, Role};
use dvc_domain::identity::{BhxhCode, CitizenId, Email, PhoneNumber, TaxCode};
use dvc_domain::registration::{missing_fields, Presence, Proof, RegistrationMethod, RegistrationStatus};
use dvc_domain::FieldError;
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::codes::Code;
use dvc_persistence::registrations::{self as regs, RegistrationRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::otp;
use crate::routes::path_key;
use crate::state::AppState;

mod proof;

pub use proof::{verify, RegistrationVerified, VerifyRequest};

/// How long a registration may stay unfinished.
const REGISTRATION_TTL_HOURS: i64 = 24;

/// The first step: who registers, how, and the fields the method needs (marked * on the portal).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    #[schema(value_type = String, example = "citizen", pattern = "^(citizen|business|organization)$")]
    pub account_type: AccountType,
    pub method: RegistrationMethod,
    /// Full name of the person, or the registered name of the business or organisation.
    #[schema(example = "Nguyễn Văn An", min_length = 1, max_length = 200)]
    pub full_name: String,
    /// CCCD, 12 digits (citizens).
    #[schema(example = "001099012345")]
    pub id_number: Option<String>,
    #[schema(value_type = Option<String>, format = Date, example = "1999-05-01")]
    pub date_of_birth: Option<NaiveDate>,
    /// Mobile number: `0912345678` or `+84912345678`.
    #[schema(example = "0912345678")]
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Social insurance code, 10 digits (method `bhxh`).
    pub bhxh_code: Option<String>,
    /// Tax code (businesses and organisations).
    pub tax_code: Option<String>,
}

/// What to do next.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationStarted {
    pub id: String,
    pub method: RegistrationMethod,
    /// `verify_otp` or `sign_challenge`.
    pub next: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp_expires_at: Option<String>,
    /// Where the OTP went, partly hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp_sent_to: Option<String>,
    /// For signature methods: the exact text to sign.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// Sandbox mode only: the OTP itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_otp: Option<String>,
}

struct Checked {
    row: RegistrationRow,
}

fn check_request(r: RegistrationRequest) -> Result<Checked, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    if r.account_type == AccountType::Staff {
        errors.push(FieldError::one_of("account_type", &["citizen", "business", "organization"]));
    } else if !r.method.allowed_for(r.account_type) {
        errors.push(FieldError::new(
            "method",
            "method_not_allowed",
            "Phương thức này không dành cho loại tài khoản đã chọn",
            "This method is not offered for the chosen account type",
        ));
    }
    dvc_domain::catalogue::check_text("full_name", &r.full_name, 200, &mut errors);
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (id_number, phone, email, bhxh, tax) =
        (blank(&r.id_number), blank(&r.phone), blank(&r.email), blank(&r.bhxh_code), blank(&r.tax_code));
    errors.extend(missing_fields(
        r.account_type,
        r.method,
        Presence {
            id_number: id_number.is_some(),
            date_of_birth: r.date_of_birth.is_some(),
            phone: phone.is_some(),
            bhxh_code: bhxh.is_some(),
            tax_code: tax.is_some(),
        },
    ));
    let mut parsed = |result: Result<String, FieldError>| result.map_err(|e| errors.push(e)).ok();
    let id_number = id_number
        .and_then(|v| parsed(CitizenId::parse("id_number", &v, r.date_of_birth).map(|c| c.as_str().to_string())));
    let phone = phone.and_then(|v| parsed(PhoneNumber::parse("phone", &v).map(|p| p.as_str().to_string())));
    let email = email.and_then(|v| parsed(Email::parse("email", &v).map(|e| e.as_str().to_string())));
    let bhxh = bhxh.and_then(|v| parsed(BhxhCode::parse("bhxh_code", &v).map(|b| b.as_str().to_string())));
    let tax = tax.and_then(|v| parsed(TaxCode::parse("tax_code", &v).map(|t| t.as_str().to_string())));
    if let Some(dob) = r.date_of_birth {
        if dob > chrono::Utc::now().date_naive() || dob < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(dob) {
            errors.push(FieldError::new(
                "date_of_birth",
                "out_of_range",
                "Ngày sinh không hợp lệ",
                "Invalid date of birth",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let t = now();
    Ok(Checked {
        row: RegistrationRow {
            id: new_id(),
            account_type: r.account_type.as_str().into(),
            method: r.method.as_str().into(),
            full_name: r.full_name.trim().to_string(),
            id_number,
            tax_code: tax,
            date_of_birth: r.date_of_birth,
            phone,
            email,
            bhxh_code: bhxh,
            status: Code(RegistrationStatus::Pending),
            assurance: None,
            otp_hash: None,
            otp_expires_at: None,
            otp_attempts: 0,
            otp_last_sent_at: None,
            challenge: None,
            certificate_subject: None,
            expires_at: t + Duration::hours(REGISTRATION_TTL_HOURS),
            created_at: t,
            updated_at: t,
        },
    })
}

fn rate_limited(detail: Msg, retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        Msg::new("Quá nhiều yêu cầu", "Too many requests"),
        detail,
    );
    e.retry_after = Some(retry_after);
    e
}

/// Puts an OTP message to `phone` in the outbox, within the daily cap; returns the code.
pub fn send_otp(conn: &mut DbConn, phone: &str, purpose: dvc_domain::notify::Purpose) -> Result<String, ApiError> {
    let day_ago = now() - Duration::hours(24);
    if dvc_persistence::outbox::count_sent_since(conn, phone, purpose, day_ago)? >= purpose.daily_cap() {
        return Err(rate_limited(
            Msg::new(
                "Số điện thoại đã nhận quá số mã OTP cho phép trong ngày",
                "This phone has had its daily number of codes",
            ),
            3600,
        ));
    }
    queue_otp(conn, phone, purpose)
}

/// Puts an OTP message to `phone` in the outbox (the caller has applied its caps); returns the code.
pub fn queue_otp(conn: &mut DbConn, phone: &str, purpose: dvc_domain::notify::Purpose) -> Result<String, ApiError> {
    let code = otp::generate();
    let notice = crate::notify::Notice {
        purpose,
        to: dvc_domain::notify::Addresses { phone: Some(phone.to_string()), email: None },
        chosen: None,
        language: dvc_domain::notify::Language::Vi,
        params: [("otp".to_string(), code.clone())].into(),
    };
    crate::notify::enqueue(conn, notice, now())?;
    Ok(code)
}

/// Registration codes one phone may be sent in a day (counted whether or not the identity is free).
const REGISTRATION_CODES_PER_PHONE_PER_DAY: i32 = 5;

/// The code of an OTP registration, stored hashed, and the code the requester could see. When the
/// identity is free, the code goes to the registration's phone. When an account already holds it,
/// no one gets a working code (the stored one is another random code) and the account's owner is
/// told instead: the requester's answer is the same either way, and so is the phone's daily share.
fn registration_code(conn: &mut DbConn, row: &RegistrationRow) -> Result<(String, String), ApiError> {
    let phone = row.phone.clone().unwrap_or_default();
    let unix = chrono::Utc::now().timestamp();
    let day = unix - unix.rem_euclid(86_400);
    if dvc_persistence::outbox::hit(conn, &format!("day:registration-otp:{phone}"), day)?
        > REGISTRATION_CODES_PER_PHONE_PER_DAY
    {
        return Err(rate_limited(
            Msg::new(
                "Số điện thoại đã nhận quá số mã OTP cho phép trong ngày",
                "This phone has had its daily number of codes",
            ),
            3600,
        ));
    }
    match accounts::identity_owner(conn, row.id_number.as_deref(), row.tax_code.as_deref())? {
        None => {
            let code = send_otp(conn, &phone, dvc_domain::notify::Purpose::RegistrationOtp)?;
            Ok((code.clone(), code))
        }
        Some(owner) => {
            let params = [("phone".to_string(), masked(&row.phone).unwrap_or_default())].into();
            if let Some(notice) =
                crate::notify::to_account(conn, &owner, dvc_domain::notify::Purpose::RegistrationAttempt, params)?
            {
                crate::notify::enqueue(conn, notice, now())?;
            }
            let shown = otp::generate();
            let stored = std::iter::repeat_with(otp::generate).find(|c| *c != shown).unwrap_or_default();
            Ok((stored, shown))
        }
    }
}

fn masked(phone: &Option<String>) -> Option<String> {
    phone.as_deref().and_then(|p| PhoneNumber::parse("phone", p).ok()).map(|p| p.masked())
}

fn started(state: &AppState, row: &RegistrationRow, code: Option<String>) -> RegistrationStarted {
    let method = RegistrationMethod::parse(&row.method).unwrap_or(RegistrationMethod::Phone);
    RegistrationStarted {
        id: row.id.clone(),
        method,
        next: if method.proof() == Proof::Otp { "verify_otp" } else { "sign_challenge" },
        otp_expires_at: row.otp_expires_at.map(crate::catalogue::rfc3339),
        otp_sent_to: code.as_ref().and(masked(&row.phone)),
        challenge: row.challenge.clone(),
        sandbox_otp: code.filter(|_| state.config.sandbox),
    }
}

fn duplicate() -> ApiError {
    ApiError::conflict(Msg::new(
        "Đã có tài khoản cho số định danh hoặc mã số thuế này; hãy đăng nhập hoặc lấy lại mật khẩu",
        "An account already exists for this identity; sign in or reset the password",
    ))
}

/// Start a registration (bước 1).
///
/// OTP methods (`phone`, `bhxh`, `vnpost`) send a 6-digit code to the phone, valid 5 minutes.
/// Signature methods (`usb_token`, `sim_ca`, `smartca`) answer a challenge to sign. The answer is
/// the same whether or not the identity already has an account: then no working code is sent,
/// and the account's owner is told of the attempt instead.
#[utoipa::path(operation_id = "startRegistration", tag = "accounts", request_body = RegistrationRequest, params(("X-Challenge-Solution" = Option<String>, Header, description = "A solved challenge (`GET /challenges`), required unless the server runs with `DVC_CHALLENGE=off`")), responses(
    (status = 428, description = "A solved challenge is required", body = Problem, content_type = "application/problem+json"),
    (status = 201, description = "Started", body = RegistrationStarted),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests, or the phone's daily codes", body = Problem, content_type = "application/problem+json"),
))]
#[post("/registrations")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<RegistrationRequest>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    crate::challenge::require(&state, &req).await?;
    let Checked { mut row } = check_request(body.0)?;
    let secret = state.config.jwt_secret.clone();
    let (row, code) = state
        .tx(move |conn| {
            let method = RegistrationMethod::parse(&row.method).unwrap_or(RegistrationMethod::Phone);
            let code = match method.proof() {
                Proof::Otp => {
                    let (stored, code) = registration_code(conn, &row)?;
                    row.otp_hash = Some(otp::hash(&secret, &row.id, &stored));
                    row.otp_expires_at = Some(now() + Duration::seconds(otp::OTP_TTL_SECS));
                    row.otp_last_sent_at = Some(now());
                    Some(code)
                }
                Proof::Signature => {
                    row.challenge = Some(format!("dvc-registration:{}:{}", row.id, crate::auth::random_token(32)));
                    None
                }
            };
            regs::insert(conn, &row)?;
            Ok((row, code))
        })
        .await?;
    Ok(HttpResponse::Created().json(started(&state, &row, code)))
}

fn not_found() -> ApiError {
    ApiError::not_found("hồ sơ đăng ký", "Registration")
}

fn closed() -> ApiError {
    let mut e = ApiError::conflict(Msg::new(
        "Phiên đăng ký đã kết thúc hoặc hết hạn; hãy đăng ký lại",
        "This registration is closed or expired; start again",
    ));
    e.code = "registration_closed";
    e
}

/// Loads a registration that is still open in the given status.
fn open_registration(conn: &mut DbConn, id: &str, status: RegistrationStatus) -> Result<RegistrationRow, ApiError> {
    let row = regs::find(conn, id)?.ok_or_else(not_found)?;
    if row.expires_at < now() || row.status.0 != status {
        return Err(closed());
    }
    Ok(row)
}

/// Send a new OTP (cool-down of a minute, at most 5 a day per phone).
#[utoipa::path(operation_id = "resendRegistrationOtp", tag = "accounts", params(("id" = String, Path, description = "Registration id"), ("X-Challenge-Solution" = Option<String>, Header, description = "A solved challenge (`GET /challenges`), required unless the server runs with `DVC_CHALLENGE=off`")), responses(
    (status = 400, description = "Invalid input, or the challenge solution is not valid (`challenge_failed`)", body = Problem, content_type = "application/problem+json"),
    (status = 428, description = "A solved challenge is required", body = Problem, content_type = "application/problem+json"),
    (status = 200, description = "Sent", body = RegistrationStarted),
    (status = 404, description = "No such registration", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Closed, or not an OTP method", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too soon, or the daily cap is reached", body = Problem, content_type = "application/problem+json"),
))]
#[post("/registrations/{id}/otp")]
pub async fn resend_otp(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    crate::challenge::require(&state, &req).await?;
    let id = path_key(id.into_inner(), "hồ sơ đăng ký", "Registration")?;
    let secret = state.config.jwt_secret.clone();
    let (row, code) = state
        .tx(move |conn| {
            let mut row = open_registration(conn, &id, RegistrationStatus::Pending)?;
            if RegistrationMethod::parse(&row.method).map(|m| m.proof()) != Some(Proof::Otp) {
                return Err(closed());
            }
            if let Some(last) = row.otp_last_sent_at {
                let wait = (last + Duration::seconds(otp::RESEND_COOLDOWN_SECS) - now()).num_seconds();
                if wait > 0 {
                    return Err(rate_limited(
                        Msg::new("Vui lòng chờ trước khi gửi lại mã", "Wait before asking for another code"),
                        wait as u64,
                    ));
                }
            }
            let (stored, code) = registration_code(conn, &row)?;
            row.otp_hash = Some(otp::hash(&secret, &row.id, &stored));
            row.otp_expires_at = Some(now() + Duration::seconds(otp::OTP_TTL_SECS));
            row.otp_last_sent_at = Some(now());
            row.updated_at = now();
            regs::update(conn, &row)?;
            Ok((row, code))
        })
        .await?;
    Ok(HttpResponse::Ok().json(started(&state, &row, Some(code))))
}

/// The password that completes the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// 8+ characters with upper and lower case, a digit and a symbol, not containing the ID number.
    #[schema(example = "Matkhau@2026", min_length = 8, max_length = 128)]
    pub password: String,
}

/// The new account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCreated {
    pub account_id: String,
    /// What to sign in with: the ID number, or the tax code.
    pub username: String,
}

/// Set the password and create the account (bước 3).
#[utoipa::path(operation_id = "completeRegistration", tag = "accounts", request_body = CompleteRequest, params(("id" = String, Path, description = "Registration id")), responses(
    (status = 201, description = "Account created", body = AccountCreated),
    (status = 400, description = "The password breaks the rules", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such registration", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not verified, closed, or the identity already has an account", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many password checks at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/registrations/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body<CompleteRequest>,
) -> ApiResult<HttpResponse> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let id = path_key(id.into_inner(), "hồ sơ đăng ký", "Registration")?;
    let password = body.0.password;
    let row = state.db(move |conn| open_registration(conn, &id, RegistrationStatus::Verified)).await?;
    let identifiers: Vec<&str> =
        [row.id_number.as_deref(), row.tax_code.as_deref(), row.phone.as_deref().map(|p| p.trim_start_matches("+84"))]
            .into_iter()
            .flatten()
            .collect();
    check_password(&password, &identifiers).map_err(ApiError::field)?;
    let hash = state.hash_password(password).await?;
    let created = state
        .tx(move |conn| {
            let mut row = open_registration(conn, &row.id, RegistrationStatus::Verified)?;
            if accounts::identity_owner(conn, row.id_number.as_deref(), row.tax_code.as_deref())?.is_some() {
                return Err(duplicate());
            }
            let account_type = AccountType::parse(&row.account_type).unwrap_or(AccountType::Citizen);
            let role = match account_type {
                AccountType::Business => Role::Business,
                AccountType::Organization => Role::Organization,
                _ => Role::Citizen,
            };
            let username = match account_type {
                AccountType::Citizen => row.id_number.clone(),
                _ => row.tax_code.clone(),
            }
            .unwrap_or_default();
            let t = now();
            let mut account = AccountRow::staff(new_id(), role.as_str(), &username, &row.full_name, hash, None, t);
            account.account_type = account_type.as_str().into();
            account.assurance = row.assurance.clone().unwrap_or_else(|| Assurance::Medium.as_str().into());
            account.id_number = row.id_number.clone();
            account.tax_code = row.tax_code.clone();
            account.phone = row.phone.clone();
            account.email = row.email.clone();
            account.date_of_birth = row.date_of_birth;
            account.bhxh_code = row.bhxh_code.clone();
            account.registration_method = Some(row.method.clone());
            accounts::insert(conn, &account).map_err(|e| match e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    duplicate()
                }
                other => other.into(),
            })?;
            row.status = Code(RegistrationStatus::Completed);
            row.updated_at = t;
            regs::update(conn, &row)?;
            Ok(AccountCreated { account_id: account.id, username })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}
