//! Public holidays and the working-day arithmetic the workflow uses.

use actix_web::{delete, get, put, web, HttpResponse};
use chrono::NaiveDate;
use dvc_domain::page::parse_int;
use dvc_domain::FieldError;
use dvc_persistence::calendar::{self as d, HolidayRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::guards::Admin;
use crate::state::AppState;

/// A day off, or a weekend day declared a working day.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    #[schema(value_type = String, format = Date, example = "2026-09-02")]
    pub date: NaiveDate,
    #[schema(example = "Quốc khánh")]
    pub name: String,
    /// True for a swapped working day (a weekend day worked), false for a day off.
    pub working: bool,
}

fn view(r: HolidayRow) -> HolidayView {
    HolidayView { date: r.day, name: r.name, working: r.working }
}

fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "invalid_date", "Ngày có dạng YYYY-MM-DD", "Dates look like YYYY-MM-DD"))
}

/// The year of the calendar.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[param(value_type = Option<i32>, minimum = 2000, maximum = 2100, example = 2026)]
    pub year: Option<String>,
}

/// Days off (and swapped working days) of a year; the current year by default.
#[utoipa::path(operation_id = "listHolidays", tag = "calendar", params(YearQuery), responses(
    (status = 200, description = "The year's entries", body = Vec<HolidayView>),
    (status = 400, description = "Invalid year", body = Problem, content_type = "application/problem+json"),
))]
#[get("/holidays")]
pub async fn list_holidays(
    state: web::Data<AppState>,
    query: web::Query<YearQuery>,
) -> ApiResult<web::Json<Vec<HolidayView>>> {
    let mut errors = Vec::new();
    let year = parse_int(
        "year",
        query.year.as_deref(),
        i64::from(chrono::Datelike::year(&crate::calendar::today())),
        2000,
        2100,
        &mut errors,
    ) as i32;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else {
        return Err(ApiError::internal());
    };
    let rows = state.db(move |conn| Ok(d::list_holidays(conn, from, to)?)).await?;
    Ok(web::Json(rows.into_iter().map(view).collect()))
}

/// A calendar entry as an administrator sets it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayInput {
    #[schema(example = "Nghỉ bù Quốc khánh", min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// True to declare a weekend day a working day (a swap).
    #[serde(default)]
    pub working: bool,
}

/// Add or change a day off (or a swapped working day). Deadlines computed afterwards follow it.
#[utoipa::path(operation_id = "putHoliday", tag = "calendar", request_body = HolidayInput, security(("bearer" = [])),
    params(("date" = String, Path, format = Date, description = "YYYY-MM-DD")), responses(
    (status = 200, description = "Changed", body = HolidayView),
    (status = 201, description = "Added", body = HolidayView),
    (status = 400, description = "Invalid date or input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[put("/admin/holidays/{date}")]
pub async fn put_holiday(
    state: web::Data<AppState>,
    _admin: Admin,
    date: web::Path<String>,
    body: Body<HolidayInput>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let day = parse_date("date", &date).map_err(|e| errors.push(e)).ok();
    dvc_domain::catalogue::check_text("name", &body.0.name, 200, &mut errors);
    let Some(day) = day.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let row = HolidayRow {
        day,
        name: body.0.name.trim().to_string(),
        working: body.0.working,
        updated_at: dvc_persistence::now(),
    };
    let stored = row.clone();
    let existed = state.db(move |conn| Ok(d::put_holiday(conn, &stored)?)).await?;
    crate::routes::catalogue_changed(&state).await;
    Ok(if existed { HttpResponse::Ok() } else { HttpResponse::Created() }.json(view(row)))
}

/// Remove a calendar entry.
#[utoipa::path(operation_id = "deleteHoliday", tag = "calendar", security(("bearer" = [])), params(("date" = String, Path, format = Date, description = "YYYY-MM-DD")), responses(
    (status = 204, description = "Removed"),
    (status = 400, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No entry on that date", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/admin/holidays/{date}")]
pub async fn delete_holiday(
    state: web::Data<AppState>,
    _admin: Admin,
    date: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let day = parse_date("date", &date).map_err(ApiError::field)?;
    let n = state.db(move |conn| Ok(d::delete_holiday(conn, day)?)).await?;
    crate::routes::catalogue_changed(&state).await;
    if n == 0 {
        return Err(ApiError::not_found("ngày nghỉ", "Calendar entry"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Start and length of a deadline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueDateQuery {
    /// The day of receipt, YYYY-MM-DD; counting starts the next working day.
    #[param(value_type = String, format = Date, example = "2026-11-20")]
    pub start: Option<String>,
    #[param(value_type = u32, minimum = 0, maximum = 365, example = 3)]
    pub working_days: Option<String>,
}

/// A due date and the days skipped to reach it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueDate {
    #[schema(value_type = String, format = Date, example = "2026-11-25")]
    pub due_date: NaiveDate,
    pub working_days: u32,
    #[schema(value_type = Vec<String>)]
    pub skipped: Vec<NaiveDate>,
}

/// Compute a due date in working days.
///
/// The due date `working_days` working days after `start`, skipping weekends and days off.
#[utoipa::path(operation_id = "computeDueDate", tag = "calendar", params(DueDateQuery), responses(
    (status = 200, description = "The due date", body = DueDate),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
))]
#[get("/calendar/due-date")]
pub async fn due_date(state: web::Data<AppState>, query: web::Query<DueDateQuery>) -> ApiResult<web::Json<DueDate>> {
    let mut errors = Vec::new();
    let start = match query.start.as_deref() {
        Some(s) => parse_date("start", s).map_err(|e| errors.push(e)).ok(),
        None => {
            errors.push(FieldError::required("start"));
            None
        }
    };
    if query.working_days.is_none() {
        errors.push(FieldError::required("working_days"));
    }
    let n = parse_int("working_days", query.working_days.as_deref(), 0, 0, 365, &mut errors) as u32;
    let Some(start) = start.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let cache = state.cache.clone();
    let cal = state.db(move |conn| Ok(cache.calendar(conn)?)).await?;
    let (due_date, skipped) = cal.add_working_days(start, n);
    Ok(web::Json(DueDate { due_date, working_days: n, skipped }))
}
