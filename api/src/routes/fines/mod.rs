//! Fines paid by decision number: the issuing authority's system registers its decisions, anyone
//! with the decision number and the plate or ID number looks one up and pays it (late payment
//! grows by 0.05% a day), once; the issuing system learns of the payment from the change feed and
//! the `fine.paid` webhook, and the payer gets an electronic receipt.

use actix_web::{get, put, web, HttpResponse};
use chrono::NaiveDate;
use dvc_domain::fine::{check_decision_number, masked_name, normalize_plate, owed, FineStatus};
use dvc_domain::identity::CitizenId;
use dvc_domain::payment::PaymentStatus;
use dvc_domain::FieldError;
use dvc_persistence::codes::Code;
use dvc_persistence::fines::{self as f, FinePaymentRow, FineRow};
use dvc_persistence::{new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::rfc3339;
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::guards::IntegrationToken;
use crate::receipts::ReceiptView;
use crate::state::AppState;

mod pay;

pub use pay::*;

/// Who was fined.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Violator {
    #[schema(example = "Nguyễn Văn An", min_length = 1, max_length = 200)]
    pub full_name: String,
    /// The 12-digit personal identification number, when known.
    #[schema(example = "001099012345")]
    pub id_number: Option<String>,
}

/// A fine decision as the issuing authority's system registers it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FineInput {
    /// The issuing agency (id or official code); one of the client's. Left out when the client
    /// acts for a single agency.
    pub agency_id: Option<String>,
    #[schema(value_type = String, format = Date, example = "2026-11-20")]
    pub decided_on: String,
    pub violator: Violator,
    /// The vehicle's plate, for traffic fines (`30A-123.45`).
    #[schema(example = "30A-123.45")]
    pub plate: Option<String>,
    #[schema(
        example = "Điều khiển xe ô tô chạy quá tốc độ quy định từ 10 km/h đến 20 km/h",
        min_length = 1,
        max_length = 1000
    )]
    pub violation: String,
    #[schema(example = "Điểm a khoản 5 Điều 7 Nghị định 168/2024/NĐ-CP", max_length = 500)]
    pub legal_basis: Option<String>,
    /// Whole đồng.
    #[schema(minimum = 1, example = 4_000_000)]
    pub amount_vnd: i64,
    /// The last day to pay without the late surcharge.
    #[schema(value_type = String, format = Date, example = "2026-11-30")]
    pub pay_by: String,
}

/// The issuing agency of a fine.
#[derive(Debug, Serialize, ToSchema)]
pub struct FineAgency {
    pub code: String,
    pub name: String,
}

/// A fine decision and what it owes today.
#[derive(Debug, Serialize, ToSchema)]
pub struct FineView {
    #[schema(example = "12345/QĐ-XPHC")]
    pub decision_number: String,
    #[schema(value_type = String, format = Date)]
    pub decided_on: NaiveDate,
    pub agency: FineAgency,
    /// The family name in full, the other names by their initial.
    #[schema(example = "Nguyễn V. A.")]
    pub violator: String,
    /// Without separators (`30A12345`).
    pub plate: Option<String>,
    pub violation: String,
    pub legal_basis: Option<String>,
    pub amount_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub pay_by: NaiveDate,
    /// `unpaid`, `paid` or `cancelled`.
    pub status: FineStatus,
    /// Days past the deadline today (0 when paid or not yet due).
    pub days_late: i64,
    /// 0.05% of the fine for each day late, in whole đồng.
    pub surcharge_vnd: i64,
    /// What paying today costs (0 once paid).
    pub total_due_vnd: i64,
    pub paid_at: Option<String>,
    pub paid_vnd: Option<i64>,
    pub receipt: Option<ReceiptView>,
    pub version: i32,
}

fn date(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| {
            errors.push(FieldError::new(field, "invalid_date", "Ngày có dạng YYYY-MM-DD", "Dates look like YYYY-MM-DD"))
        })
        .ok()
}

/// A fine's content, checked field by field.
struct Checked {
    decided_on: NaiveDate,
    pay_by: NaiveDate,
    plate: Option<String>,
    id_number: Option<String>,
}

fn check(input: &FineInput) -> Result<Checked, ApiError> {
    let mut errors = Vec::new();
    let decided_on = date("decided_on", &input.decided_on, &mut errors);
    let pay_by = date("pay_by", &input.pay_by, &mut errors);
    dvc_domain::catalogue::check_text("violator.full_name", &input.violator.full_name, 200, &mut errors);
    dvc_domain::catalogue::check_text("violation", &input.violation, 1000, &mut errors);
    if let Some(basis) = &input.legal_basis {
        dvc_domain::catalogue::check_text("legal_basis", basis, 500, &mut errors);
    }
    let plate = input
        .plate
        .as_deref()
        .map(|p| normalize_plate("plate", p))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let id_number = input
        .violator
        .id_number
        .as_deref()
        .map(|n| CitizenId::parse("violator.id_number", n, None).map(|c| c.as_str().to_string()))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if input.plate.is_none() && input.violator.id_number.is_none() {
        errors.push(FieldError::new(
            "plate",
            "required",
            "Cần biển số xe hoặc số định danh của người vi phạm để tra cứu",
            "A plate or the violator's ID number is needed for the lookup",
        ));
    }
    if !(1..=1_000_000_000_000).contains(&input.amount_vnd) {
        errors.push(FieldError::new(
            "amount_vnd",
            "invalid_amount",
            "Số tiền phạt là số nguyên đồng từ 1",
            "The fine is whole đồng from 1",
        ));
    }
    if let (Some(d), Some(by)) = (decided_on, pay_by) {
        if by < d {
            errors.push(FieldError::new(
                "pay_by",
                "before_decision",
                "Hạn nộp không thể trước ngày ra quyết định",
                "The deadline cannot be before the decision",
            ));
        }
    }
    match (decided_on, pay_by) {
        (Some(decided_on), Some(pay_by)) if errors.is_empty() => Ok(Checked { decided_on, pay_by, plate, id_number }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// A fine's view: what it owes on `today`, and its receipt once paid.
fn fine_view(conn: &mut DbConn, row: FineRow, today: NaiveDate) -> Result<FineView, ApiError> {
    let (code, name) = f::agency_of(conn, &row.agency_id)?.unwrap_or_default();
    let unpaid = row.status.0 == FineStatus::Unpaid;
    let due = owed(row.amount_vnd, row.pay_by, today);
    let receipt = match row.status.0 {
        FineStatus::Paid => paid_payment(conn, &row.id)?
            .map(|payment| f::receipt_of_payment(conn, &payment.id))
            .transpose()?
            .flatten()
            .map(|r| crate::receipts::view(&r, (code.clone(), name.clone()))),
        _ => None,
    };
    Ok(FineView {
        decision_number: row.decision_number,
        decided_on: row.decided_on,
        agency: FineAgency { code, name },
        violator: masked_name(&row.violator_name),
        plate: row.plate,
        violation: row.violation,
        legal_basis: row.legal_basis,
        amount_vnd: row.amount_vnd,
        pay_by: row.pay_by,
        status: row.status.0,
        days_late: if unpaid { due.days_late } else { 0 },
        surcharge_vnd: if unpaid { due.surcharge_vnd } else { 0 },
        total_due_vnd: if unpaid { due.total() } else { 0 },
        paid_at: row.paid_at.map(rfc3339),
        paid_vnd: row.paid_vnd,
        receipt,
        version: row.version,
    })
}

/// The payment that paid a fine.
fn paid_payment(conn: &mut DbConn, fine_id: &str) -> Result<Option<FinePaymentRow>, ApiError> {
    Ok(f::payments_of_fine(conn, fine_id)?.into_iter().find(|p| p.status.0 == PaymentStatus::Paid))
}

/// Register or update a fine decision.
///
/// The issuing authority's system registers a decision so that the violator can look it up and
/// pay it by its number. 201 when new, 200 when updated; a paid decision no longer changes (409).
/// The decision number goes in the path with its `/` written `%2F`.
#[utoipa::path(operation_id = "registerFine", tag = "integration", request_body = FineInput, security(("bearer" = [])),
    params(("decision_number" = String, Path, description = "The decision's number, such as `12345%2FQĐ-XPHC`")),
    responses(
    (status = 200, description = "Updated", body = FineView),
    (status = 201, description = "Registered", body = FineView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "A decision of another authority", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Already paid or cancelled", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[put("/integration/fines/{decision_number}")]
pub async fn register_fine(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    number: web::Path<String>,
    body: Body<FineInput>,
) -> ApiResult<HttpResponse> {
    let client = crate::routes::integration::caller(&state, &me).await?;
    let number = check_decision_number("decision_number", &number.into_inner()).map_err(ApiError::field)?;
    let input = body.0;
    let checked = check(&input)?;
    let today = state.clock.moment().today;
    let (created, view) = state
        .tx(move |conn| {
            let agencies = client.agencies();
            let agency_id = match &input.agency_id {
                Some(key) => dvc_persistence::catalogue::find_agency(conn, key.trim())?
                    .map(|a| a.id)
                    .filter(|id| agencies.contains(id))
                    .ok_or_else(|| {
                        ApiError::field(FieldError::new(
                            "agency_id",
                            "not_client_agency",
                            "Không phải cơ quan của ứng dụng tích hợp này",
                            "Not an agency this client acts for",
                        ))
                    })?,
                None => match agencies.as_slice() {
                    [only] => only.clone(),
                    _ => {
                        return Err(ApiError::field(FieldError::new(
                            "agency_id",
                            "required",
                            "Ứng dụng tích hợp này thuộc nhiều cơ quan: cho biết cơ quan ra quyết định",
                            "This client acts for several agencies: name the issuing one",
                        )))
                    }
                },
            };
            let at = now();
            let existing = f::find_fine(conn, &number)?;
            let mut row = FineRow {
                id: new_id(),
                decision_number: number.clone(),
                agency_id,
                decided_on: checked.decided_on,
                violator_name: input.violator.full_name.trim().to_string(),
                violator_id_number: checked.id_number,
                plate: checked.plate,
                violation: input.violation.trim().to_string(),
                legal_basis: input.legal_basis.as_deref().map(str::trim).map(str::to_string),
                amount_vnd: input.amount_vnd,
                pay_by: checked.pay_by,
                status: Code(FineStatus::Unpaid),
                paid_at: None,
                paid_vnd: None,
                registered_by: Some(client.id.clone()),
                version: 1,
                created_at: at,
                updated_at: at,
            };
            let created = match existing {
                None => {
                    f::insert_fine(conn, &row)?;
                    true
                }
                Some(old) if !agencies.contains(&old.agency_id) => {
                    return Err(ApiError::not_found("quyết định xử phạt", "Fine decision"))
                }
                Some(old) if old.status.0 != FineStatus::Unpaid => {
                    return Err(ApiError::conflict(Msg::new(
                        "Quyết định đã nộp phạt hoặc đã hủy: không sửa được",
                        "The decision is paid or cancelled: it no longer changes",
                    )))
                }
                Some(old) => {
                    row.id = old.id.clone();
                    row.created_at = old.created_at;
                    row.version = old.version + 1;
                    if !f::update_fine(conn, &row, old.version)? {
                        return Err(ApiError::conflict(Msg::new(
                            "Quyết định vừa thay đổi",
                            "The decision changed meanwhile",
                        )));
                    }
                    false
                }
            };
            Ok((created, fine_view(conn, row, today)?))
        })
        .await?;
    let mut res = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(res.json(view))
}

/// How the public names a decision: its number and the plate or the violator's ID number.
#[derive(Debug, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct FineLookup {
    #[param(example = "12345/QĐ-XPHC", required = true)]
    #[schema(example = "12345/QĐ-XPHC")]
    pub decision_number: Option<String>,
    #[param(example = "30A-123.45")]
    #[schema(example = "30A-123.45")]
    pub plate: Option<String>,
    pub id_number: Option<String>,
}

impl FineLookup {
    /// The decision number and what it must match, checked.
    fn checked(&self) -> Result<(String, Option<String>, Option<String>), ApiError> {
        let mut errors = Vec::new();
        let number = match &self.decision_number {
            Some(n) => check_decision_number("decision_number", n).map_err(|e| errors.push(e)).ok(),
            None => {
                errors.push(FieldError::required("decision_number"));
                None
            }
        };
        let plate = self
            .plate
            .as_deref()
            .map(|p| normalize_plate("plate", p))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let id = self.id_number.as_deref().map(str::trim).map(str::to_string);
        if self.plate.is_none() && self.id_number.is_none() {
            errors.push(FieldError::new(
                "plate",
                "required",
                "Cần biển số xe hoặc số định danh cá nhân ghi trên quyết định",
                "The plate or the ID number on the decision is needed",
            ));
        }
        match number {
            Some(n) if errors.is_empty() => Ok((n, plate, id)),
            _ => Err(ApiError::validation(errors)),
        }
    }
}

/// The decision a lookup names, if its plate or ID number matches (the same 404 otherwise).
fn find_matching(conn: &mut DbConn, number: &str, plate: Option<&str>, id: Option<&str>) -> Result<FineRow, ApiError> {
    let row = f::find_fine(conn, number)?;
    let matches = |r: &FineRow| {
        plate.is_some_and(|p| r.plate.as_deref() == Some(p))
            || id.is_some_and(|i| r.violator_id_number.as_deref() == Some(i))
    };
    row.filter(matches).ok_or_else(|| ApiError::not_found("quyết định xử phạt", "Fine decision"))
}

/// Look a fine decision up.
///
/// With its number and the plate or the violator's ID number it bears (the same 404 for an
/// unknown number and for one that does not match): what it owes today, late surcharge included.
#[utoipa::path(operation_id = "lookupFine", tag = "fines", params(FineLookup), responses(
    (status = 200, description = "The decision", body = FineView),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such decision with that plate or ID number", body = Problem, content_type = "application/problem+json"),
))]
#[get("/fines/lookup")]
pub async fn lookup_fine(state: web::Data<AppState>, query: web::Query<FineLookup>) -> ApiResult<web::Json<FineView>> {
    let (number, plate, id) = query.checked()?;
    let today = state.clock.moment().today;
    let view = state
        .db(move |conn| {
            let row = find_matching(conn, &number, plate.as_deref(), id.as_deref())?;
            fine_view(conn, row, today)
        })
        .await?;
    Ok(web::Json(view))
}
