//! The signed-in applicant's own profile: the "declare once" data that prefills dossiers.

use actix_web::{get, http::header, patch, web, HttpRequest, HttpResponse};
use dvc_domain::auth::{AccountType, Assurance, Role};
use dvc_domain::identity::{Email, PhoneNumber};
use dvc_domain::notify::{Channel, Language};
use dvc_domain::FieldError;
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::catalogue as q;
use dvc_persistence::now;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::guards::Principal;
use crate::routes::{check_if_match, etag, if_match};
use crate::state::AppState;

/// A postal address with its administrative-unit codes (since 1 July 2025).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Province code (2 digits).
    #[schema(example = "01")]
    pub province_code: Option<String>,
    /// Commune or ward code (5 digits).
    #[schema(example = "00070")]
    pub commune_code: Option<String>,
    /// House number, street, hamlet.
    #[schema(example = "Số 1 phố Tràng Tiền", max_length = 300)]
    pub street: Option<String>,
}

/// The stored profile document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Profile {
    #[serde(default)]
    address: Option<Address>,
    /// Channels chosen for notices (OTPs go to the phone regardless); none: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notification_channels: Option<Vec<Channel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<Language>,
}

/// The signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: String,
    pub account_type: AccountType,
    pub role: Role,
    pub username: String,
    pub full_name: String,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<chrono::NaiveDate>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub bhxh_code: Option<String>,
    pub address: Option<Address>,
    /// The channels notices about dossiers and feedback come by, in no order (the portal's order
    /// applies); empty: any channel the portal uses. One-time codes always go to the phone.
    pub notification_channels: Vec<Channel>,
    /// The language of messages.
    pub language: Language,
    pub assurance: Assurance,
    pub agency_id: Option<String>,
    /// Which fields came from a verified source and cannot be changed here.
    pub verified_fields: Vec<&'static str>,
    pub version: i32,
    pub created_at: String,
}

fn view(a: AccountRow) -> Result<MeView, ApiError> {
    let profile: Profile = serde_json::from_str(&a.profile).unwrap_or_default();
    let (Some(account_type), Some(role), Some(assurance)) =
        (AccountType::parse(&a.account_type), Role::parse(&a.role), Assurance::parse(&a.assurance))
    else {
        return Err(ApiError::internal());
    };
    Ok(MeView {
        id: a.id,
        account_type,
        role,
        username: a.username,
        full_name: a.full_name,
        id_number: a.id_number,
        tax_code: a.tax_code,
        date_of_birth: a.date_of_birth,
        phone: a.phone,
        email: a.email,
        bhxh_code: a.bhxh_code,
        address: profile.address,
        notification_channels: profile.notification_channels.unwrap_or_default(),
        language: profile.language.unwrap_or(Language::Vi),
        assurance,
        agency_id: a.agency_id,
        verified_fields: vec!["full_name", "id_number", "tax_code", "date_of_birth"],
        version: a.version,
        created_at: crate::catalogue::rfc3339(a.created_at),
    })
}

async fn load(state: &AppState, id: String) -> ApiResult<AccountRow> {
    // A valid token for an account that no longer exists is as good as no token.
    state
        .db(move |conn| {
            accounts::find(conn, &id)?.filter(|a| !a.disabled).ok_or_else(|| {
                ApiError::unauthorized(crate::error::Msg::new(
                    "Tài khoản không còn hoạt động",
                    "The account is no longer active",
                ))
            })
        })
        .await
}

/// Who is signed in, with the profile that prefills dossiers.
#[utoipa::path(operation_id = "getMe", tag = "accounts", security(("bearer" = [])), responses(
    (status = 200, description = "The account", body = MeView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: every signed-in account may read itself", body = Problem, content_type = "application/problem+json"),
))]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, me: Principal) -> ApiResult<HttpResponse> {
    let account = load(&state, me.id().to_string()).await?;
    let tag = etag(&account.id, account.version);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(view(account)?))
}

/// Fields of the profile an applicant may change. Verified identity fields cannot be changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[schema(example = "an.nguyen@example.vn")]
    pub email: Option<String>,
    #[schema(example = "0912345678")]
    pub phone: Option<String>,
    pub address: Option<Address>,
    /// `sms`, `zalo` and/or `email`; an empty list means any.
    #[schema(example = json!(["zalo", "email"]))]
    pub notification_channels: Option<Vec<Channel>>,
    pub language: Option<Language>,
    /// Refused: verified.
    #[schema(value_type = Option<String>)]
    pub full_name: Option<serde_json::Value>,
    /// Refused: verified.
    #[schema(value_type = Option<String>)]
    pub id_number: Option<serde_json::Value>,
    /// Refused: verified.
    #[schema(value_type = Option<String>)]
    pub tax_code: Option<serde_json::Value>,
    /// Refused: verified.
    #[schema(value_type = Option<String>)]
    pub date_of_birth: Option<serde_json::Value>,
}

fn check_address(
    conn: &mut dvc_persistence::DbConn,
    a: &Address,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if let Some(street) = &a.street {
        dvc_domain::catalogue::check_text("address.street", street, 300, errors);
    }
    let province = match &a.province_code {
        Some(p) if dvc_domain::text::is_lookup_key(p) && q::admin_unit_exists(conn, p)? => Some(p.clone()),
        Some(_) => {
            errors.push(FieldError::new(
                "address.province_code",
                "unknown",
                "Mã tỉnh không tồn tại",
                "No such province",
            ));
            None
        }
        None => None,
    };
    if let Some(commune) = &a.commune_code {
        let units = match &province {
            Some(p) => q::list_admin_units(conn, Some(p))?,
            None => Vec::new(),
        };
        if !units.iter().any(|u| &u.code == commune) {
            errors.push(FieldError::new(
                "address.commune_code",
                "unknown",
                "Mã xã, phường không thuộc tỉnh đã chọn",
                "No such commune in the chosen province",
            ));
        }
    }
    Ok(())
}

/// Update the profile.
///
/// Update the profile (email, phone, address, the channels and language of notices). `If-Match` with a stale ETag gives 412.
#[utoipa::path(operation_id = "updateMe", tag = "accounts", request_body = MePatch, security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "ETag read before")),
    responses(
    (status = 200, description = "Updated", body = MeView),
    (status = 400, description = "Invalid input, or a verified field", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: every signed-in account may update itself", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/me")]
pub async fn patch_me(
    state: web::Data<AppState>,
    me: Principal,
    req: HttpRequest,
    body: Body<MePatch>,
) -> ApiResult<HttpResponse> {
    let patch = body.0;
    let mut errors = Vec::new();
    for (field, value) in [
        ("full_name", &patch.full_name),
        ("id_number", &patch.id_number),
        ("tax_code", &patch.tax_code),
        ("date_of_birth", &patch.date_of_birth),
    ] {
        if value.is_some() {
            errors.push(FieldError::new(
                field,
                "immutable",
                "Thông tin đã xác thực, không sửa được",
                "Verified information cannot be changed",
            ));
        }
    }
    let email =
        patch.email.as_deref().map(|e| Email::parse("email", e)).transpose().map_err(|e| errors.push(e)).ok().flatten();
    let phone = patch
        .phone
        .as_deref()
        .map(|p| PhoneNumber::parse("phone", p))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if let Some(channels) = &patch.notification_channels {
        if channels.contains(&Channel::Log) {
            errors.push(FieldError::one_of("notification_channels", &["sms", "zalo", "email"]));
        }
    }
    let precondition = if_match(&req);
    let id = me.id().to_string();
    let account = state
        .tx(move |conn| {
            let mut account = accounts::find(conn, &id)?
                .filter(|a| !a.disabled)
                .ok_or_else(|| ApiError::not_found("tài khoản", "Account"))?;
            if let Some(address) = &patch.address {
                check_address(conn, address, &mut errors)?;
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            check_if_match(precondition.as_deref(), &account.id, account.version)?;
            let mut profile: Profile = serde_json::from_str(&account.profile).unwrap_or_default();
            if let Some(address) = patch.address {
                profile.address = Some(address);
            }
            if let Some(mut channels) = patch.notification_channels {
                let mut seen = Vec::new();
                channels.retain(|c| {
                    !seen.contains(c) && {
                        seen.push(*c);
                        true
                    }
                });
                profile.notification_channels = Some(channels);
            }
            if let Some(language) = patch.language {
                profile.language = Some(language);
            }
            if let Some(email) = email {
                account.email = Some(email.as_str().to_string());
            }
            if let Some(phone) = phone {
                account.phone = Some(phone.as_str().to_string());
            }
            account.profile = serde_json::to_string(&profile).map_err(|_| ApiError::internal())?;
            account.version += 1;
            account.updated_at = now();
            accounts::update(conn, &account)?;
            Ok(account)
        })
        .await?;
    let tag = etag(&account.id, account.version);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(view(account)?))
}
