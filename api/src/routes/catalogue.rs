//! The public catalogue: procedures, fields, agencies, administrative units, service levels.

use actix_web::web::Bytes;
use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use dvc_domain::catalogue::{service_level_descriptions, Audience, FormTemplate, OnlineMode, Tier};
use dvc_domain::page::{parse_int, PageRequest};
use dvc_domain::text::{fold, search_tokens};
use dvc_domain::FieldError;
use dvc_persistence::catalogue as q;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::{
    agencies_by_procedure, summary_from_row, view_from_row, AgencyView, FieldView, ProcedureSummary, ProcedureView,
};
use crate::error::{ApiError, ApiResult, Problem};
use crate::routes::{filter_key, path_key, Page};
use crate::state::AppState;

/// Longest search text accepted.
const MAX_QUERY_CHARS: usize = 200;

/// Search and filters of the procedure list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// Words of the name or code; Vietnamese marks and case are ignored (`dang ky khai sinh`).
    #[param(max_length = 200, example = "dang ky khai sinh")]
    pub q: Option<String>,
    /// Only procedures of this field.
    pub field_id: Option<String>,
    /// Only procedures this agency handles.
    pub agency_id: Option<String>,
    #[param(value_type = Option<Tier>)]
    pub tier: Option<String>,
    #[param(value_type = Option<u8>, minimum = 1, maximum = 4)]
    pub service_level: Option<String>,
    #[param(value_type = Option<OnlineMode>)]
    pub online: Option<String>,
    #[param(value_type = Option<Audience>)]
    pub audience: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

fn code_param<T>(
    field: &str,
    raw: Option<String>,
    parse: fn(&str, &str) -> Result<T, FieldError>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    parse(field, &raw?).map_err(|e| errors.push(e)).ok()
}

impl ProcedureQuery {
    fn into_filter(self) -> Result<(q::ProcedureFilter, PageRequest), ApiError> {
        let mut errors = Vec::new();
        let page = PageRequest::parse(self.page.as_deref(), self.per_page.as_deref()).unwrap_or_else(|mut e| {
            errors.append(&mut e);
            PageRequest::default()
        });
        let query = self.q.unwrap_or_default();
        if query.chars().count() > MAX_QUERY_CHARS {
            errors.push(FieldError::too_long("q", MAX_QUERY_CHARS));
        }
        let tier = code_param("tier", self.tier, Tier::parse_field, &mut errors);
        let online = code_param("online", self.online, OnlineMode::parse_field, &mut errors);
        let audience = code_param("audience", self.audience, Audience::parse_field, &mut errors);
        let field_id = filter_key(self.field_id);
        let agency_id = filter_key(self.agency_id);
        let level = self.service_level.map(|s| parse_int("service_level", Some(&s), 0, 1, 4, &mut errors) as i32);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let tokens = search_tokens(&query, 8);
        let phrase = (!tokens.is_empty()).then(|| fold(&query));
        let filter = q::ProcedureFilter {
            tokens,
            phrase,
            field_id,
            agency_id,
            tier: tier.map(|t| t.as_str().to_string()),
            service_level: level,
            online: online.map(|o| o.as_str().to_string()),
            audience: audience.map(|a| a.as_str().to_string()),
        };
        Ok((filter, page))
    }
}

/// Search the catalogue of procedures.
///
/// `q` matches the name and code whatever the Vietnamese marks and case: `dang ky khai sinh` finds
/// "Đăng ký khai sinh". Best matches come first; filters combine with the search.
#[utoipa::path(operation_id = "listProcedures", tag = "catalogue", params(ProcedureQuery), responses(
    (status = 200, description = "A page of procedures", body = Page<ProcedureSummary>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
))]
#[get("/procedures")]
pub async fn list_procedures(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ProcedureQuery>,
) -> ApiResult<HttpResponse> {
    let key = format!("s:{}", req.query_string());
    let stamp = state.cache.stamp_now();
    if let Some(hit) = state.cache.get(&key) {
        return Ok(json_bytes(hit.body, Some(catalogue_etag(stamp.0))));
    }
    let (filter, page) = query.into_inner().into_filter()?;
    let result = state
        .read(move |conn| {
            let (rows, total) = q::search_procedures(conn, &filter, page.offset(), page.per_page)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut field_ids: Vec<String> = rows.iter().map(|r| r.field_id.clone()).collect();
            field_ids.sort();
            field_ids.dedup();
            let fields = q::fields_by_ids(conn, &field_ids)?;
            let mut agencies = agencies_by_procedure(q::agencies_of_procedures(conn, &ids)?);
            let items = rows
                .iter()
                .map(|r| {
                    let field = fields.iter().find(|f| f.id == r.field_id).cloned().map(FieldView::from);
                    summary_from_row(r, field, agencies.remove(&r.id).unwrap_or_default())
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(items, total, page))
        })
        .await?;
    let body = Bytes::from(serde_json::to_vec(&result).map_err(|_| ApiError::internal())?);
    state.cache.put(key, stamp, body.clone(), None);
    Ok(json_bytes(body, Some(catalogue_etag(stamp.0))))
}

/// The ETag of a catalogue answer that shows many records: the catalogue's version, which every
/// change to procedures, agencies, fields and holidays moves.
pub fn catalogue_etag(version: i64) -> String {
    format!("W/\"catalogue-{version}\"")
}

/// A catalogue answer read after the catalogue's version `stamp` was seen.
fn catalogue_json<T: Serialize>(stamp: i64, value: &T) -> ApiResult<HttpResponse> {
    let body = Bytes::from(serde_json::to_vec(value).map_err(|_| ApiError::internal())?);
    Ok(json_bytes(body, Some(catalogue_etag(stamp))))
}

/// How long clients may keep a catalogue answer before asking again (with its ETag).
pub const CATALOGUE_CACHE: &str = "public, max-age=60";

/// A JSON answer from bytes already serialised (and cached).
fn json_bytes(body: Bytes, etag: Option<String>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type("application/json").insert_header((header::CACHE_CONTROL, CATALOGUE_CACHE));
    if let Some(tag) = etag {
        res.insert_header((header::ETAG, tag));
    }
    res.body(body)
}

/// Loads one procedure with its field and agencies, from the primary (after a change).
pub async fn load_procedure(state: &AppState, id_or_code: String) -> ApiResult<ProcedureView> {
    state.db(move |conn| procedure_view(conn, &id_or_code)).await
}

fn procedure_view(conn: &mut dvc_persistence::DbConn, id_or_code: &str) -> ApiResult<ProcedureView> {
    let row = q::find_procedure(conn, id_or_code)?.ok_or_else(|| ApiError::not_found("thủ tục", "Procedure"))?;
    let field = q::find_field(conn, &row.field_id)?.map(FieldView::from);
    let mut agencies = agencies_by_procedure(q::agencies_of_procedures(conn, std::slice::from_ref(&row.id))?);
    let agencies = agencies.remove(&row.id).unwrap_or_default();
    view_from_row(row, field, agencies)
}

/// One procedure, by id or by code.
///
/// One procedure, by id or by code (`1.001193`).
#[utoipa::path(operation_id = "getProcedure", tag = "catalogue", params(("id" = String, Path, description = "Procedure id (UUID) or code")), responses(
    (status = 200, description = "The procedure", body = ProcedureView, headers(("ETag" = String))),
    (status = 404, description = "No such procedure", body = Problem, content_type = "application/problem+json"),
))]
#[get("/procedures/{id}")]
pub async fn get_procedure(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "thủ tục", "Procedure")?;
    let key = format!("p:{id}");
    if let Some(hit) = state.cache.get(&key) {
        return Ok(json_bytes(hit.body, hit.etag));
    }
    let stamp = state.cache.stamp_now();
    let view = state.read(move |conn| procedure_view(conn, &id)).await?;
    let tag = crate::page::shown_etag(&view.summary.id, view.version, stamp.0);
    let body = Bytes::from(serde_json::to_vec(&view).map_err(|_| ApiError::internal())?);
    state.cache.put(key, stamp, body.clone(), Some(tag.clone()));
    Ok(json_bytes(body, Some(tag)))
}

/// Download a form of a procedure, as a PDF to print and fill.
///
/// The form lists a line for each field of the procedure's online form, required ones marked;
/// filled by hand, signed and scanned (PDF or an image), it is attached like any other document.
#[utoipa::path(operation_id = "downloadForm", tag = "catalogue", params(
    ("id" = String, Path, description = "Procedure id or code"),
    ("form_id" = String, Path, description = "Form id"),
), responses(
    (status = 200, description = "The form", body = Vec<u8>, content_type = "application/pdf"),
    (status = 404, description = "No such procedure or form", body = Problem, content_type = "application/problem+json"),
))]
#[get("/procedures/{id}/forms/{form_id}")]
pub async fn download_form(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (id, form_id) = path.into_inner();
    let id = path_key(id, "thủ tục", "Procedure")?;
    let form_id = path_key(form_id, "biểu mẫu", "Form")?;
    let (row, form) = state
        .db(move |conn| {
            let row = q::find_procedure(conn, &id)?.ok_or_else(|| ApiError::not_found("thủ tục", "Procedure"))?;
            let forms: Vec<FormTemplate> = serde_json::from_str(&row.forms).map_err(|_| ApiError::internal())?;
            let form =
                forms.into_iter().find(|f| f.id == form_id).ok_or_else(|| ApiError::not_found("biểu mẫu", "Form"))?;
            Ok((row, form))
        })
        .await?;
    let file_name = crate::catalogue::pdf_file_name(&form.file_name);
    let pdf = web::block(move || {
        let schema: Option<serde_json::Value> = row.form_schema.as_deref().and_then(|s| serde_json::from_str(s).ok());
        crate::documents::forms::render(&crate::documents::forms::FormSheet {
            title: &form.name,
            procedure_code: &row.code,
            procedure_name: &row.name,
            schema: schema.as_ref(),
            notes: Some(&form.content),
        })
    })
    .await?
    .map_err(|e| {
        tracing::error!(error = ?e, "a form does not render");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")))
        .body(pdf))
}

/// All fields (lĩnh vực).
#[utoipa::path(operation_id = "listFields", tag = "catalogue", responses((status = 200, description = "Fields", body = Vec<FieldView>)))]
#[get("/fields")]
pub async fn list_fields(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let stamp = state.cache.stamp_now().0;
    let rows = state.db(|conn| Ok(q::list_fields(conn)?)).await?;
    catalogue_json(stamp, &rows.into_iter().map(FieldView::from).collect::<Vec<_>>())
}

/// Filters of the agency list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyQuery {
    #[param(value_type = Option<Tier>)]
    pub tier: Option<String>,
    /// Province (2 digits) or commune (5 digits) code.
    #[param(example = "01")]
    pub admin_unit_code: Option<String>,
    /// Words of the name or code, marks ignored.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// Agencies that handle procedures.
#[utoipa::path(operation_id = "listAgencies", tag = "catalogue", params(AgencyQuery), responses(
    (status = 200, description = "A page of agencies", body = Page<AgencyView>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
))]
#[get("/agencies")]
pub async fn list_agencies(state: web::Data<AppState>, query: web::Query<AgencyQuery>) -> ApiResult<HttpResponse> {
    let stamp = state.cache.stamp_now().0;
    let query = query.into_inner();
    let mut errors = Vec::new();
    let page = PageRequest::parse(query.page.as_deref(), query.per_page.as_deref()).unwrap_or_else(|mut e| {
        errors.append(&mut e);
        PageRequest::default()
    });
    let tier = code_param("tier", query.tier, Tier::parse_field, &mut errors);
    let admin_unit_code = filter_key(query.admin_unit_code);
    let text = query.q.unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        errors.push(FieldError::too_long("q", MAX_QUERY_CHARS));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = q::AgencyFilter {
        tier: tier.map(|t| t.as_str().to_string()),
        admin_unit_code,
        tokens: search_tokens(&text, 8),
    };
    let result = state
        .db(move |conn| {
            let (rows, total) = q::list_agencies(conn, &filter, page.offset(), page.per_page)?;
            let items = rows.into_iter().map(AgencyView::from_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(items, total, page))
        })
        .await?;
    catalogue_json(stamp, &result)
}

/// One agency.
#[utoipa::path(operation_id = "getAgency", tag = "catalogue", params(("id" = String, Path, description = "Agency id")), responses(
    (status = 200, description = "The agency", body = AgencyView),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/agencies/{id}")]
pub async fn get_agency(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let stamp = state.cache.stamp_now().0;
    let id = path_key(id.into_inner(), "cơ quan", "Agency")?;
    let row = state
        .db(move |conn| q::find_agency(conn, &id)?.ok_or_else(|| ApiError::not_found("cơ quan", "Agency")))
        .await?;
    catalogue_json(stamp, &AgencyView::from_row(row)?)
}

/// An administrative unit in force since 1 July 2025.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUnitView {
    /// GSO code: 2 digits for a province, 5 for a commune.
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub name: String,
    /// `thành phố trung ương`, `tỉnh`, `phường`, `xã`, `đặc khu`.
    pub unit_type: String,
    /// `province` or `commune`.
    pub level: String,
    pub parent_code: Option<String>,
}

/// Filter of the administrative units.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminUnitQuery {
    /// A province code: its communes and wards. Without it: the 34 provinces and cities.
    #[param(example = "01")]
    pub parent_code: Option<String>,
}

/// Provinces, or the communes of a province.
#[utoipa::path(operation_id = "listAdminUnits", tag = "catalogue", params(AdminUnitQuery), responses(
    (status = 200, description = "Units", body = Vec<AdminUnitView>),
    (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
))]
#[get("/admin-units")]
pub async fn list_admin_units(
    state: web::Data<AppState>,
    query: web::Query<AdminUnitQuery>,
) -> ApiResult<HttpResponse> {
    let stamp = state.cache.stamp_now().0;
    let parent = filter_key(query.into_inner().parent_code);
    let rows = state
        .db(move |conn| {
            if let Some(p) = &parent {
                if !q::admin_unit_exists(conn, p)? {
                    return Err(ApiError::not_found("đơn vị hành chính", "Administrative unit"));
                }
            }
            Ok(q::list_admin_units(conn, parent.as_deref())?)
        })
        .await?;
    let units: Vec<AdminUnitView> = rows
        .into_iter()
        .map(|r| AdminUnitView {
            code: r.code,
            name: r.name,
            unit_type: r.unit_type,
            level: r.level,
            parent_code: r.parent_code,
        })
        .collect();
    catalogue_json(stamp, &units)
}

/// A service level and the online mode it corresponds to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLevelView {
    #[schema(minimum = 1, maximum = 4)]
    pub level: u8,
    pub online: OnlineMode,
    pub description_vi: &'static str,
    pub description_en: &'static str,
}

/// The four service levels (Circular 26/2009/TT-BTTTT) mapped to Decree 42/2022's online modes.
#[utoipa::path(operation_id = "listServiceLevels", tag = "catalogue", responses((status = 200, description = "Levels", body = Vec<ServiceLevelView>)))]
#[get("/service-levels")]
pub async fn list_service_levels() -> ApiResult<HttpResponse> {
    let levels: Vec<ServiceLevelView> = service_level_descriptions()
        .into_iter()
        .map(|(level, online, vi, en)| ServiceLevelView { level, online, description_vi: vi, description_en: en })
        .collect();
    // Fixed by law, not by the catalogue: one tag for as long as this build serves.
    let body = Bytes::from(serde_json::to_vec(&levels).map_err(|_| ApiError::internal())?);
    Ok(json_bytes(body, Some(format!("W/\"service-levels-{}\"", env!("CARGO_PKG_VERSION")))))
}
