//! Administrators' upkeep of the catalogue: procedures, agencies, fields and the search thesaurus.

use actix_web::{delete, get, http::header, post, put, web, HttpRequest, HttpResponse};
use dvc_domain::search::{thesaurus, Entry};
use dvc_domain::FieldError;
use dvc_persistence::codes::Json;
use dvc_persistence::search::SynonymRow;
use dvc_persistence::{catalogue as q, new_id, now, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::{AgencyInput, AgencyView, FieldInput, FieldView, ProcedureInput, ProcedureView};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::guards::Admin;
use crate::routes::catalogue::load_procedure;
use crate::routes::{check_if_match, etag, if_match, path_key};
use crate::state::AppState;

/// Checks that the field and agencies (by id or code) a procedure refers to exist; the agencies' ids.
fn check_procedure_refs(
    conn: &mut DbConn,
    field_id: &str,
    agency_ids: &[String],
    bundle: Option<&str>,
) -> ApiResult<Vec<String>> {
    let agencies = crate::routes::agency_ids(conn, "agency_ids", agency_ids);
    let mut errors = Vec::new();
    if q::find_field(conn, field_id)?.is_none() {
        errors.push(FieldError::new("field_id", "unknown", "Lĩnh vực không tồn tại", "No such field"));
    }
    // Each step of an interconnected procedure is an ordinary procedure of the catalogue.
    let steps = bundle.and_then(|b| serde_json::from_str::<dvc_domain::catalogue::Bundle>(b).ok());
    for (i, step) in steps.map(|b| b.steps).unwrap_or_default().iter().enumerate() {
        let ordinary = q::find_procedure(conn, &step.procedure_code)?.is_some_and(|p| p.bundle.is_none());
        if !ordinary {
            errors.push(FieldError::new(
                format!("bundle.steps[{i}].procedure_code"),
                "unknown",
                "Không có thủ tục (thông thường) với mã này",
                "No ordinary procedure has this code",
            ));
        }
    }
    match agencies {
        Ok(ids) if errors.is_empty() => Ok(ids),
        Ok(_) => Err(ApiError::validation(errors)),
        Err(mut e) => {
            e.errors.extend(errors);
            Err(e)
        }
    }
}

fn created(location: String, tag: String, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).insert_header((header::ETAG, tag)).json(body)
}

/// Create a procedure.
#[utoipa::path(operation_id = "createProcedure", tag = "admin", request_body = ProcedureInput, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = ProcedureView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/procedures")]
pub async fn create_procedure(
    state: web::Data<AppState>,
    _admin: Admin,
    body: Body<ProcedureInput>,
) -> ApiResult<HttpResponse> {
    let (row, agency_ids) = body.0.into_row(new_id(), 1, now())?;
    let id = row.id.clone();
    state
        .tx(move |conn| {
            let agency_ids = check_procedure_refs(conn, &row.field_id, &agency_ids, row.bundle.as_deref())?;
            Ok(q::insert_procedure(conn, &row, &agency_ids)?)
        })
        .await?;
    crate::routes::catalogue_changed(&state).await;
    let view = load_procedure(&state, id.clone()).await?;
    Ok(created(format!("/api/v1/procedures/{id}"), etag(&id, view.version), view))
}

/// Replace a procedure.
///
/// Replace a procedure; its version goes up by one. `If-Match` with a stale ETag gives 412.
#[utoipa::path(operation_id = "updateProcedure", tag = "admin", request_body = ProcedureInput, security(("bearer" = [])),
    params(("id" = String, Path, description = "Procedure id"), ("If-Match" = Option<String>, Header, description = "ETag read before")),
    responses(
    (status = 200, description = "Replaced", body = ProcedureView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such procedure", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
))]
#[put("/admin/procedures/{id}")]
pub async fn update_procedure(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body<ProcedureInput>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "thủ tục", "Procedure")?;
    let input = body.0;
    let key = id.clone();
    let precondition = if_match(&req);
    state
        .tx(move |conn| {
            let current = q::find_procedure(conn, &key)?
                .filter(|p| p.id == key)
                .ok_or_else(|| ApiError::not_found("thủ tục", "Procedure"))?;
            let (mut row, agency_ids) = input.into_row(current.id.clone(), current.version + 1, now())?;
            check_if_match(precondition.as_deref(), &current.id, current.version)?;
            row.created_at = current.created_at;
            let agency_ids = check_procedure_refs(conn, &row.field_id, &agency_ids, row.bundle.as_deref())?;
            q::update_procedure(conn, &row, &agency_ids)?;
            Ok(())
        })
        .await?;
    crate::routes::catalogue_changed(&state).await;
    let view = load_procedure(&state, id.clone()).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag(&id, view.version))).json(view))
}

/// Delete a procedure.
#[utoipa::path(operation_id = "deleteProcedure", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Procedure id")), responses(
    (status = 204, description = "Deleted"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such procedure", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Still referenced", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/admin/procedures/{id}")]
pub async fn delete_procedure(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "thủ tục", "Procedure")?;
    let n = state.db(move |conn| Ok(q::delete_procedure(conn, &id)?)).await?;
    crate::routes::catalogue_changed(&state).await;
    if n == 0 {
        return Err(ApiError::not_found("thủ tục", "Procedure"));
    }
    Ok(HttpResponse::NoContent().finish())
}

fn check_agency_refs(conn: &mut DbConn, row: &dvc_persistence::catalogue::AgencyRow) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(code) = &row.admin_unit_code {
        if !q::admin_unit_exists(conn, code)? {
            errors.push(FieldError::new(
                "admin_unit_code",
                "unknown",
                "Đơn vị hành chính không tồn tại",
                "No such administrative unit",
            ));
        }
    }
    if let Some(parent) = &row.parent_id {
        if parent == &row.id || q::find_agency(conn, parent)?.is_none_or(|p| p.id != *parent) {
            errors.push(FieldError::new(
                "parent_id",
                "unknown",
                "Cơ quan cấp trên không hợp lệ",
                "Invalid parent agency",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Create an agency.
#[utoipa::path(operation_id = "createAgency", tag = "admin", request_body = AgencyInput, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = AgencyView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/agencies")]
pub async fn create_agency(
    state: web::Data<AppState>,
    _admin: Admin,
    body: Body<AgencyInput>,
) -> ApiResult<HttpResponse> {
    let row = body.0.into_row(new_id(), 1, now())?;
    let row = state
        .tx(move |conn| {
            check_agency_refs(conn, &row)?;
            q::insert_agency(conn, &row)?;
            Ok(row)
        })
        .await?;
    crate::routes::catalogue_changed(&state).await;
    let (id, version) = (row.id.clone(), row.version);
    Ok(created(format!("/api/v1/agencies/{id}"), etag(&id, version), AgencyView::from_row(row)?))
}

/// Replace an agency.
#[utoipa::path(operation_id = "updateAgency", tag = "admin", request_body = AgencyInput, security(("bearer" = [])),
    params(("id" = String, Path, description = "Agency id"), ("If-Match" = Option<String>, Header, description = "ETag read before")),
    responses(
    (status = 200, description = "Replaced", body = AgencyView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
))]
#[put("/admin/agencies/{id}")]
pub async fn update_agency(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body<AgencyInput>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "cơ quan", "Agency")?;
    let input = body.0;
    let precondition = if_match(&req);
    let row = state
        .tx(move |conn| {
            let current = q::find_agency(conn, &id)?.ok_or_else(|| ApiError::not_found("cơ quan", "Agency"))?;
            let mut row = input.into_row(current.id.clone(), current.version + 1, now())?;
            check_if_match(precondition.as_deref(), &current.id, current.version)?;
            row.created_at = current.created_at;
            check_agency_refs(conn, &row)?;
            q::update_agency(conn, &row)?;
            Ok(row)
        })
        .await?;
    crate::routes::catalogue_changed(&state).await;
    let tag = etag(&row.id, row.version);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(AgencyView::from_row(row)?))
}

/// Delete an agency no procedure or account refers to.
#[utoipa::path(operation_id = "deleteAgency", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Agency id")), responses(
    (status = 204, description = "Deleted"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Still referenced", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/admin/agencies/{id}")]
pub async fn delete_agency(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "cơ quan", "Agency")?;
    let n = state.db(move |conn| Ok(q::delete_agency(conn, &id)?)).await?;
    crate::routes::catalogue_changed(&state).await;
    if n == 0 {
        return Err(ApiError::not_found("cơ quan", "Agency"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Create a field.
#[utoipa::path(operation_id = "createField", tag = "admin", request_body = FieldInput, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = FieldView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
))]
#[post("/admin/fields")]
pub async fn create_field(
    state: web::Data<AppState>,
    _admin: Admin,
    body: Body<FieldInput>,
) -> ApiResult<HttpResponse> {
    let row = body.0.into_row(new_id(), now())?;
    let row = state.db(move |conn| Ok(q::insert_field(conn, &row)?)).await?;
    crate::routes::catalogue_changed(&state).await;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, "/api/v1/fields")).json(FieldView::from(row)))
}

/// Rename a field.
#[utoipa::path(operation_id = "updateField", tag = "admin", request_body = FieldInput, security(("bearer" = [])), params(("id" = String, Path, description = "Field id")), responses(
    (status = 200, description = "Replaced", body = FieldView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such field", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
))]
#[put("/admin/fields/{id}")]
pub async fn update_field(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
    body: Body<FieldInput>,
) -> ApiResult<web::Json<FieldView>> {
    let id = path_key(id.into_inner(), "lĩnh vực", "Field")?;
    let input = body.0;
    let row = state
        .tx(move |conn| {
            let current = q::find_field(conn, &id)?.ok_or_else(|| ApiError::not_found("lĩnh vực", "Field"))?;
            let mut row = input.into_row(current.id, now())?;
            row.created_at = current.created_at;
            q::update_field(conn, &row)?;
            Ok(row)
        })
        .await?;
    crate::routes::catalogue_changed(&state).await;
    Ok(web::Json(FieldView::from(row)))
}

/// Delete a field no procedure uses.
#[utoipa::path(operation_id = "deleteField", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Field id")), responses(
    (status = 204, description = "Deleted"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such field", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Still used by procedures", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/admin/fields/{id}")]
pub async fn delete_field(state: web::Data<AppState>, _admin: Admin, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "lĩnh vực", "Field")?;
    state
        .tx(move |conn| {
            if q::find_field(conn, &id)?.is_none() {
                return Err(ApiError::not_found("lĩnh vực", "Field"));
            }
            if q::field_in_use(conn, &id)? {
                return Err(ApiError::conflict(crate::error::Msg::new(
                    "Lĩnh vực đang được thủ tục sử dụng",
                    "Procedures still use this field",
                )));
            }
            q::delete_field(conn, &id)?;
            Ok(())
        })
        .await?;
    crate::routes::catalogue_changed(&state).await;
    Ok(HttpResponse::NoContent().finish())
}

/// The search thesaurus: the entries dvc ships and those administrators added.
#[derive(Debug, Serialize, ToSchema)]
pub struct SynonymsView {
    /// Shipped with dvc (api/seed/search-thesaurus.txt); read only.
    pub shipped: Vec<Entry>,
    /// Added by administrators, in order.
    pub entries: Vec<Entry>,
}

/// The entries administrators add, replacing those added before.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SynonymsInput {
    #[schema(max_items = 1000)]
    pub entries: Vec<Entry>,
}

/// How many entries administrators may add.
const MAX_SYNONYMS: usize = 1000;

async fn synonyms_view(state: &AppState) -> ApiResult<SynonymsView> {
    let rows = state.db(|conn| Ok(dvc_persistence::search::list_synonyms(conn)?)).await?;
    Ok(SynonymsView {
        shipped: crate::search::shipped(),
        entries: rows.into_iter().map(crate::search::entry_of).collect(),
    })
}

/// The search thesaurus.
///
/// What catalogue search reads a query with besides the words themselves: abbreviations
/// (`GPLX = giấy phép lái xe`), everyday names (`báo tử => khai tử`) and words without meaning in
/// a query (`stop`). `shipped` comes with dvc; `entries` are the administrators'.
#[utoipa::path(operation_id = "getSearchSynonyms", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, description = "The thesaurus", body = SynonymsView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
))]
#[get("/admin/search/synonyms")]
pub async fn get_synonyms(state: web::Data<AppState>, _admin: Admin) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(synonyms_view(&state).await?))
}

/// Replace the administrators' thesaurus entries.
///
/// Each entry is `same` (its terms mean the same), `expands` (its one term also finds the
/// expansions) or `stop` (its terms carry no meaning in a query). Search on every server follows
/// within the catalogue's poll interval (at once on this one).
#[utoipa::path(operation_id = "putSearchSynonyms", tag = "admin", request_body = SynonymsInput, security(("bearer" = [])), responses(
    (status = 200, description = "Replaced", body = SynonymsView),
    (status = 400, description = "Invalid entries", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[put("/admin/search/synonyms")]
pub async fn put_synonyms(
    state: web::Data<AppState>,
    admin: Admin,
    body: Body<SynonymsInput>,
) -> ApiResult<HttpResponse> {
    let entries = body.0.entries;
    let mut errors = Vec::new();
    if entries.len() > MAX_SYNONYMS {
        errors.push(FieldError::new(
            "entries",
            "too_many",
            format!("Tối đa {MAX_SYNONYMS} mục"),
            format!("{MAX_SYNONYMS} entries at most"),
        ));
    }
    for (i, entry) in entries.iter().enumerate() {
        if let Err(mut e) = thesaurus::check(entry) {
            e.field = format!("entries[{i}]");
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let at = now();
    let by = admin.0.id().to_string();
    let rows: Vec<SynonymRow> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| SynonymRow {
            position: i as i32 + 1,
            kind: e.kind.into(),
            terms: Json(e.terms.iter().map(|t| t.trim().to_string()).collect()),
            expansions: Json(e.expansions.iter().map(|t| t.trim().to_string()).collect()),
            updated_by: Some(by.clone()),
            updated_at: at,
        })
        .collect();
    state.db(move |conn| Ok(dvc_persistence::search::replace_synonyms(conn, &rows)?)).await?;
    crate::routes::catalogue_changed(&state).await;
    Ok(HttpResponse::Ok().json(synonyms_view(&state).await?))
}
