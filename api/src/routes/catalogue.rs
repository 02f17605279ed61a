//! The public catalogue: procedures, fields, agencies, administrative units, service levels.

use std::io::Write;

use actix_web::web::Bytes;
use actix_web::{get, http::header, web, HttpResponse};
use dvc_domain::catalogue::{service_level_descriptions, Audience, FormTemplate, OnlineMode, Tier};
use dvc_domain::page::{parse_int, PageRequest};
use dvc_domain::text::search_tokens;
use dvc_domain::FieldError;
use dvc_persistence::catalogue as q;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::{agencies_by_procedure, view_from_row, AgencyView, FieldView, ProcedureSummary, ProcedureView};
use crate::error::{ApiError, ApiResult, Problem};
use crate::routes::{filter_key, path_key, Page};
use crate::search::{Filter, Listed};
use crate::state::AppState;

/// Longest search text accepted.
const MAX_QUERY_CHARS: usize = 200;

/// Search and filters of the procedure list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureQuery {
    /// What people type: words of the name, code, field, agency or result, with or without
    /// Vietnamese marks, abbreviations and everyday names (`dky tam tru`, `doi gplx`).
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
    fn into_filter(self) -> Result<(String, Filter, PageRequest), ApiError> {
        let mut errors = Vec::new();
        let page = PageRequest::parse(self.page.as_deref(), self.per_page.as_deref()).unwrap_or_else(|mut e| {
            errors.append(&mut e);
            PageRequest::default()
        });
        let query = check_query(self.q.unwrap_or_default(), &mut errors);
        let tier = code_param("tier", self.tier, Tier::parse_field, &mut errors);
        let online = code_param("online", self.online, OnlineMode::parse_field, &mut errors);
        let audience = code_param("audience", self.audience, Audience::parse_field, &mut errors);
        let level = self.service_level.map(|s| parse_int("service_level", Some(&s), 0, 1, 4, &mut errors) as i32);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let filter = Filter {
            field: filter_key(self.field_id),
            agency: filter_key(self.agency_id),
            tier: tier.map(|t| t.as_str().to_string()),
            service_level: level,
            online: online.map(|o| o.as_str().to_string()),
            audience: audience.map(|a| a.as_str().to_string()),
        };
        Ok((query, filter, page))
    }
}

/// The query as search reads it: control characters (a pasted tab or line break) separate words
/// like spaces; a query over [`MAX_QUERY_CHARS`] is refused.
fn check_query(query: String, errors: &mut Vec<FieldError>) -> String {
    if query.chars().count() > MAX_QUERY_CHARS {
        errors.push(FieldError::too_long("q", MAX_QUERY_CHARS));
    }
    if query.chars().any(char::is_control) {
        query.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
    } else {
        query
    }
}

/// A page of procedures; when a search found nothing, a query that finds something.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedurePage {
    pub items: Vec<ProcedureSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// Present when `q` found nothing: the query with its unknown words replaced by the closest
    /// words of the catalogue (or left out), as the catalogue writes them, when that finds something.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "đăng ký khai sinh")]
    pub did_you_mean: Option<String>,
}

/// Search the catalogue of procedures.
///
/// `q` is read as people type: Vietnamese marks, case, `ký`/`kí`, abbreviations (GPLX, BHXH,
/// CCCD, `dky`), everyday names (`báo tử`, `sổ đỏ`) and one typing error in a long word do not
/// stop it finding the procedure; words such as `thủ tục`, `làm`, `ở đâu` need not match. Best
/// matches come first (the name weighs most); a query about nothing in the catalogue finds
/// nothing and may carry `did_you_mean`. Without `q`, procedures come by code. Filters combine
/// with the search.
#[utoipa::path(operation_id = "listProcedures", tag = "catalogue", params(ProcedureQuery), responses(
    (status = 200, description = "A page of procedures", body = ProcedurePage),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
))]
#[get("/procedures")]
pub async fn list_procedures(state: web::Data<AppState>, query: web::Query<ProcedureQuery>) -> ApiResult<HttpResponse> {
    let (text, filter, page) = query.into_inner().into_filter()?;
    let catalogue = state.catalogue_index().await?;
    let facets = filter.facets();
    let found = catalogue.index.search(&text, &facets, page.offset() as usize, page.per_page as usize);
    let did_you_mean =
        if found.total == 0 && !text.trim().is_empty() { catalogue.index.did_you_mean(&text, &facets) } else { None };
    // A [`ProcedurePage`] of the summaries the index keeps serialised, written once into a
    // buffer of its size.
    let items = || found.docs.iter().map(|&d| &catalogue.listed[d]);
    let mut body = Vec::with_capacity(items().map(|p| p.summary_len() + 1).sum::<usize>() + 256);
    body.extend_from_slice(b"{\"items\":");
    write_array(&mut body, items(), Listed::write_summary);
    write!(body, ",\"total\":{},\"page\":{},\"per_page\":{}", found.total, page.page, page.per_page)
        .map_err(|_| ApiError::internal())?;
    if let Some(word) = did_you_mean {
        body.extend_from_slice(b",\"did_you_mean\":");
        serde_json::to_writer(&mut body, &word).map_err(|_| ApiError::internal())?;
    }
    body.push(b'}');
    Ok(json_bytes(Bytes::from(body), Some(catalogue_etag(catalogue.stamp.0))))
}

/// What search-as-you-type asks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed so far; the last word may be unfinished.
    #[param(max_length = 200, example = "dang ky kh")]
    pub q: Option<String>,
}

/// A procedure name offered while typing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub id: String,
    #[schema(example = "1.001193")]
    pub code: String,
    #[schema(example = "Đăng ký khai sinh")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// Up to 10 distinct names.
    pub items: Vec<Suggestion>,
}

/// How many names search-as-you-type offers.
const SUGGESTIONS: usize = 10;

/// Names of procedures for search as you type.
///
/// Up to 10 distinct names whose words hold every word typed, the last one as the start of a
/// word, folded like the search (`dang ky kh` offers "Đăng ký khai sinh"); names that begin with
/// what was typed come first, then shorter ones.
#[utoipa::path(operation_id = "suggestProcedures", tag = "catalogue", params(SuggestQuery), responses(
    (status = 200, description = "Names to offer", body = Suggestions),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
))]
#[get("/procedures/suggest")]
pub async fn suggest_procedures(
    state: web::Data<AppState>,
    query: web::Query<SuggestQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let text = check_query(query.into_inner().q.unwrap_or_default(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let catalogue = state.catalogue_index().await?;
    // [`Suggestions`], from the texts the index keeps.
    let mut body = Vec::with_capacity(1024);
    body.extend_from_slice(b"{\"items\":");
    let offered = catalogue.index.suggest(&text, SUGGESTIONS);
    write_array(&mut body, offered.into_iter().map(|d| &catalogue.listed[d]), Listed::write_suggestion);
    body.push(b'}');
    Ok(json_bytes(Bytes::from(body), Some(catalogue_etag(catalogue.stamp.0))))
}

/// Writes a JSON array of what `write` writes of each procedure.
fn write_array<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a Listed>, write: fn(&Listed, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, p) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(p, out);
    }
    out.push(b']');
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
/// The procedure with everything an applicant needs, named by its id or its national code
/// (`1.001193`).
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
    crate::documents::pdf_answer("a form", &file_name, "attachment", move || {
        let schema: Option<serde_json::Value> = row.form_schema.as_deref().and_then(|s| serde_json::from_str(s).ok());
        crate::documents::forms::render(&crate::documents::forms::FormSheet {
            title: &form.name,
            procedure_code: &row.code,
            procedure_name: &row.name,
            schema: schema.as_ref(),
            notes: Some(&form.content),
        })
    })
    .await
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
