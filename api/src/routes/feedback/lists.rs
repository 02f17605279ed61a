//! Lists of feedback: the author's own, an agency's queue, and the public list of answered
//! reflections.

use actix_web::{get, web};
use dvc_domain::auth::Role;
use dvc_domain::feedback::{FeedbackKind, FeedbackStatus};
use dvc_domain::page::PageRequest;
use dvc_persistence::feedback::{self as fb, FeedbackFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{named_agency, named_procedure, view, FeedbackView, PublicFeedback, Viewer};
use crate::catalogue::rfc3339;
use crate::error::{ApiError, ApiResult, Problem};
use crate::guards::{Principal, Staff};
use crate::routes::{filter_key, Page};
use crate::state::AppState;

/// Filters of feedback lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    #[param(value_type = Option<FeedbackKind>)]
    pub kind: Option<String>,
    #[param(value_type = Option<FeedbackStatus>)]
    pub status: Option<String>,
    /// Administrators may choose one agency; officers always see their own.
    pub agency_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

fn parse_list(q: &FeedbackQuery) -> Result<(PageRequest, Option<FeedbackKind>, Option<FeedbackStatus>), ApiError> {
    let mut errors = Vec::new();
    let page = PageRequest::parse(q.page.as_deref(), q.per_page.as_deref()).unwrap_or_else(|mut e| {
        errors.append(&mut e);
        PageRequest::default()
    });
    let kind = q.kind.as_deref().and_then(|k| FeedbackKind::parse_field("kind", k).map_err(|e| errors.push(e)).ok());
    let status =
        q.status.as_deref().and_then(|s| FeedbackStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok());
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok((page, kind, status))
}

async fn list_for(
    state: &AppState,
    filter: FeedbackFilter,
    page: PageRequest,
    who: Viewer,
) -> ApiResult<web::Json<Page<FeedbackView>>> {
    let result = state
        .db(move |conn| {
            let (rows, total) = fb::list(conn, &filter, page.offset(), page.per_page)?;
            let items = rows.into_iter().map(|r| view(conn, r, who)).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(items, total, page))
        })
        .await?;
    Ok(web::Json(result))
}

/// The signed-in account's own complaints, reflections and support requests, newest first.
#[utoipa::path(operation_id = "listMyFeedback", tag = "feedback", params(FeedbackQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of feedback", body = Page<FeedbackView>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: every account lists its own", body = Problem, content_type = "application/problem+json"),
))]
#[get("/me/feedback")]
pub async fn mine(
    state: web::Data<AppState>,
    me: Principal,
    query: web::Query<FeedbackQuery>,
) -> ApiResult<web::Json<Page<FeedbackView>>> {
    let (page, kind, status) = parse_list(&query)?;
    let filter = FeedbackFilter { author_id: Some(me.id().into()), kind, status, ..Default::default() };
    list_for(&state, filter, page, Viewer::Author).await
}

/// The agency's queue: new feedback first, then oldest first.
#[utoipa::path(operation_id = "listAgencyFeedback", tag = "feedback", params(FeedbackQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of feedback", body = Page<FeedbackView>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not staff of an agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/agency/feedback")]
pub async fn queue(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<FeedbackQuery>,
) -> ApiResult<web::Json<Page<FeedbackView>>> {
    let (page, kind, status) = parse_list(&query)?;
    let agency_id = match (staff.0.role(), staff.0 .0.agency_id.clone()) {
        (Role::Officer, Some(own)) => Some(own),
        (Role::Officer, None) => return Err(ApiError::forbidden()),
        _ => crate::routes::agency_filter(&state, query.into_inner().agency_id).await?,
    };
    let filter = FeedbackFilter { agency_id, kind, status, ..Default::default() };
    list_for(&state, filter, page, Viewer::Agency).await
}

/// Filters of the public list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    pub agency_id: Option<String>,
    pub procedure_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// Answered reflections and recommendations, latest answer first, without their authors.
#[utoipa::path(operation_id = "listPublicFeedback", tag = "feedback", params(PublicQuery), responses(
    (status = 200, description = "A page of answered reflections", body = Page<PublicFeedback>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
))]
#[get("/feedback/public")]
pub async fn public(
    state: web::Data<AppState>,
    query: web::Query<PublicQuery>,
) -> ApiResult<web::Json<Page<PublicFeedback>>> {
    let q = query.into_inner();
    let page = PageRequest::parse(q.page.as_deref(), q.per_page.as_deref()).map_err(ApiError::validation)?;
    let filter = FeedbackFilter {
        agency_id: crate::routes::agency_filter(&state, q.agency_id).await?,
        procedure_id: filter_key(q.procedure_id),
        public: true,
        ..Default::default()
    };
    let result = state
        .db(move |conn| {
            let (rows, total) = fb::list(conn, &filter, page.offset(), page.per_page)?;
            let mut items = Vec::with_capacity(rows.len());
            for r in rows {
                items.push(PublicFeedback {
                    agency: named_agency(conn, &r.agency_id)?,
                    procedure: named_procedure(conn, r.procedure_id.as_deref())?,
                    code: r.code,
                    title: r.title,
                    content: r.content,
                    answer: r.answer.unwrap_or_default(),
                    answered_at: r.answered_at.map(rfc3339).unwrap_or_default(),
                    created_at: rfc3339(r.created_at),
                });
            }
            Ok(Page::new(items, total, page))
        })
        .await?;
    Ok(web::Json(result))
}
