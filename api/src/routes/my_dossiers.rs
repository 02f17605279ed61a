//! The applicant's own lists: dossiers, a summary by status, and reusable documents.

use actix_web::{get, web, HttpResponse};
use dvc_domain::page::PageRequest;
use dvc_domain::workflow::DossierStatus;
use dvc_persistence::dossier_lists::{self as d, DossierFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::rfc3339;
use crate::dossier::lists::ListRequest;
use crate::dossier::{Access, DossierView};
use crate::error::{ApiError, ApiResult, Problem};
use crate::guards::{Principal, Unchecked};
use crate::routes::Page;
use crate::state::AppState;

/// Filters of the applicant's dossiers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyDossiersQuery {
    #[param(value_type = Option<DossierStatus>)]
    pub status: Option<String>,
    /// The `next_cursor` of the page before: reads the next page from there, however deep (then
    /// `page` is not given).
    pub after: Option<String>,

    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// The signed-in applicant's dossiers, newest first.
#[utoipa::path(operation_id = "listMyDossiers", tag = "dossiers", params(MyDossiersQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of dossiers", body = Page<DossierView>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: every account lists its own", body = Problem, content_type = "application/problem+json"),
))]
#[get("/me/dossiers")]
pub async fn my_dossiers(
    state: web::Data<AppState>,
    me: Unchecked<Principal>,
    query: web::Query<MyDossiersQuery>,
) -> ApiResult<HttpResponse> {
    let (me, session) = me.into_parts();
    let q = query.into_inner();
    let mut errors = Vec::new();
    let (page, status) = crate::routes::page_and_status(&q.page, &q.per_page, &q.status, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = DossierFilter { applicant_id: Some(me.id().to_string()), status, ..Default::default() };
    let after = crate::routes::list_cursor(q.after.as_deref(), q.page.as_deref(), &filter)?;
    let request = ListRequest { filter, page, access: Access::Owner, today: state.clock.today(), after, session };
    let page = state.dossiers.page(request).await?;
    Ok(crate::routes::list_answer(page))
}

/// Counts of the applicant's dossiers.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Summary {
    pub total: i64,
    pub draft: i64,
    /// Submitted, received or being processed.
    pub processing: i64,
    pub supplement_requested: i64,
    /// Processed, result ready.
    pub completed: i64,
    pub returned: i64,
    pub rejected: i64,
    pub withdrawn: i64,
    pub stopped: i64,
    /// Past the due date and not finished.
    pub overdue: i64,
}

/// How many of the applicant's dossiers are in each state.
#[utoipa::path(operation_id = "getMySummary", tag = "dossiers", security(("bearer" = [])), responses(
    (status = 200, description = "Counts", body = Summary),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: every account sums its own", body = Problem, content_type = "application/problem+json"),
))]
#[get("/me/summary")]
pub async fn my_summary(state: web::Data<AppState>, me: Principal) -> ApiResult<web::Json<Summary>> {
    let id = me.id().to_string();
    let today = state.clock.today();
    let (counts, overdue) = state
        .db(move |conn| {
            let counts = d::count_by_status(conn, &id)?;
            let overdue = d::count(
                conn,
                &DossierFilter { applicant_id: Some(id), overdue_on: Some(today), ..Default::default() },
            )?;
            Ok((counts, overdue))
        })
        .await?;
    let mut s = Summary { overdue, ..Default::default() };
    for (status, n) in counts {
        s.total += n;
        match status.0 {
            DossierStatus::Draft => s.draft += n,
            DossierStatus::Submitted | DossierStatus::Received | DossierStatus::Processing => s.processing += n,
            DossierStatus::SupplementRequested => s.supplement_requested += n,
            DossierStatus::Completed => s.completed += n,
            DossierStatus::Returned => s.returned += n,
            DossierStatus::Rejected => s.rejected += n,
            DossierStatus::Withdrawn => s.withdrawn += n,
            DossierStatus::Stopped => s.stopped += n,
        }
    }
    Ok(web::Json(s))
}

/// A file the applicant uploaded or received, reusable in other dossiers by `file_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyDocument {
    pub file_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// 1 digitised by upload, 3 a result issued to the applicant.
    pub digitization: i32,
    pub created_at: String,
    /// For a result issued to the applicant: its verification code (`GET /verify/{code}`).
    pub verification_code: Option<String>,
}

/// Page parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// The applicant's reusable documents.
///
/// The applicant's documents ("declare once"): attach them to another dossier with `file_id`.
#[utoipa::path(operation_id = "listMyDocuments", tag = "dossiers", params(PageQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of documents", body = Page<MyDocument>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: every account lists its own", body = Problem, content_type = "application/problem+json"),
))]
#[get("/me/documents")]
pub async fn my_documents(
    state: web::Data<AppState>,
    me: Principal,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<MyDocument>>> {
    let page = PageRequest::parse(query.page.as_deref(), query.per_page.as_deref()).map_err(ApiError::validation)?;
    let id = me.id().to_string();
    let (rows, total, codes) = state
        .db(move |conn| {
            let (rows, total) = dvc_persistence::files::files_of_owner(conn, &id, page.offset(), page.per_page)?;
            let ids: Vec<String> = rows.iter().map(|f| f.id.clone()).collect();
            let codes = dvc_persistence::results::codes_of_files(conn, &ids)?;
            Ok((rows, total, codes))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|f| MyDocument {
            verification_code: codes.iter().find(|(file, _)| *file == f.id).map(|(_, code)| code.clone()),
            file_id: f.id,
            filename: f.filename,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            digitization: f.digitization,
            created_at: rfc3339(f.created_at),
        })
        .collect();
    Ok(web::Json(Page::new(items, total, page)))
}
