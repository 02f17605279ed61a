//! Staff accounts: officers bound to an agency, and administrators.

use actix_web::{get, post, web, HttpResponse};
use dvc_domain::auth::{check_password, Role};
use dvc_domain::page::PageRequest;
use dvc_domain::FieldError;
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::catalogue as q;
use dvc_persistence::{new_id, now};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::guards::Admin;
use crate::routes::{path_key, Page};
use crate::state::AppState;

/// A new staff account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    #[schema(example = "canbo.hoankiem", pattern = r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    pub username: String,
    #[schema(example = "Trần Thị Bình", min_length = 1, max_length = 200)]
    pub full_name: String,
    /// Required for officers: the agency whose dossiers they handle.
    pub agency_id: Option<String>,
    #[schema(value_type = String, pattern = "^(officer|admin)$", example = "officer")]
    pub role: Role,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

/// A staff account.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

fn staff_view(a: AccountRow) -> StaffView {
    StaffView {
        role: Role::parse(&a.role).unwrap_or(Role::Officer),
        id: a.id,
        username: a.username,
        full_name: a.full_name,
        agency_id: a.agency_id,
        disabled: a.disabled,
        created_at: crate::catalogue::rfc3339(a.created_at),
    }
}

/// Create an officer of an agency, or an administrator.
#[utoipa::path(operation_id = "createStaff", tag = "admin", request_body = StaffInput, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = StaffView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    _admin: Admin,
    body: Body<StaffInput>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let mut errors = Vec::new();
    let username = input.username.trim().to_lowercase();
    let valid_name = (3..=64).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if !valid_name {
        errors.push(FieldError::new(
            "username",
            "invalid_format",
            "Tên đăng nhập gồm 3–64 chữ thường, số, dấu chấm, gạch",
            "Usernames are 3–64 lower-case letters, digits, dots, dashes",
        ));
    }
    dvc_domain::catalogue::check_text("full_name", &input.full_name, 200, &mut errors);
    if !input.role.is_staff() {
        errors.push(FieldError::one_of("role", &["officer", "admin"]));
    }
    if input.role == Role::Officer && input.agency_id.is_none() {
        errors.push(FieldError::required("agency_id"));
    }
    if let Err(e) = check_password(&input.password, &[&username]) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let password = input.password.clone();
    let hash = state.hash_password(password).await?;
    let row = state
        .tx(move |conn| {
            // An agency named by id or by code.
            let agency = match &input.agency_id {
                Some(agency) => match dvc_domain::text::is_lookup_key(agency) {
                    true => q::find_agency(conn, agency)?,
                    false => None,
                }
                .map(|a| Some(a.id))
                .ok_or_else(|| {
                    ApiError::field(FieldError::new("agency_id", "unknown", "Cơ quan không tồn tại", "No such agency"))
                })?,
                None => None,
            };
            let row = AccountRow::staff(
                new_id(),
                input.role.as_str(),
                &username,
                input.full_name.trim(),
                hash,
                agency,
                now(),
            );
            accounts::insert(conn, &row)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(staff_view(row)))
}

/// Filters of the staff list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    pub agency_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// Staff accounts, newest first.
#[utoipa::path(operation_id = "listStaff", tag = "admin", params(StaffQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of staff", body = Page<StaffView>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
))]
#[get("/admin/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    _admin: Admin,
    query: web::Query<StaffQuery>,
) -> ApiResult<web::Json<Page<StaffView>>> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.page.as_deref(), query.per_page.as_deref()).map_err(ApiError::validation)?;
    let agency = crate::routes::agency_filter(&state, query.agency_id.clone()).await?;
    let (rows, total) =
        state.db(move |conn| Ok(accounts::list_staff(conn, agency.as_deref(), page.offset(), page.per_page)?)).await?;
    Ok(web::Json(Page::new(rows.into_iter().map(staff_view).collect(), total, page)))
}

async fn set_disabled(state: &AppState, admin: &Admin, id: String, disabled: bool) -> ApiResult<StaffView> {
    let id = path_key(id, "tài khoản", "Account")?;
    if disabled && id == admin.0.id() {
        return Err(ApiError::conflict(Msg::new(
            "Không thể tự khóa tài khoản của mình",
            "You cannot disable your own account",
        )));
    }
    state
        .tx(move |conn| {
            let mut row = accounts::find(conn, &id)?
                .filter(|a| a.account_type == "staff")
                .ok_or_else(|| ApiError::not_found("tài khoản cán bộ", "Staff account"))?;
            row.disabled = disabled;
            row.updated_at = now();
            accounts::update(conn, &row)?;
            if disabled {
                dvc_persistence::registrations::revoke_account(conn, &row.id, now())?;
            }
            Ok(staff_view(row))
        })
        .await
}

/// Disable a staff account: it can no longer sign in or refresh.
#[utoipa::path(operation_id = "disableStaff", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Account id")), responses(
    (status = 200, description = "Disabled", body = StaffView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such staff account", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Your own account", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff/{id}/disable")]
pub async fn disable_staff(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
) -> ApiResult<web::Json<StaffView>> {
    Ok(web::Json(set_disabled(&state, &admin, id.into_inner(), true).await?))
}

/// Enable a staff account again.
#[utoipa::path(operation_id = "enableStaff", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Account id")), responses(
    (status = 200, description = "Enabled", body = StaffView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such staff account", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff/{id}/enable")]
pub async fn enable_staff(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
) -> ApiResult<web::Json<StaffView>> {
    Ok(web::Json(set_disabled(&state, &admin, id.into_inner(), false).await?))
}
