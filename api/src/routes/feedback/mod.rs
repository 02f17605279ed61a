//! Citizen voice: complaints, reflections and support requests routed to the responsible agency,
//! answered by its officers; the public list of answered reflections.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use dvc_domain::auth::Role;
use dvc_domain::feedback::{
    check_content, decide, next_status, FeedbackAction, FeedbackKind, FeedbackStatus, Standing,
};
use dvc_domain::workflow::Side;
use dvc_domain::FieldError;
use dvc_persistence::catalogue as cat;
use dvc_persistence::codes::Code;
use dvc_persistence::dossiers as d;
use dvc_persistence::feedback::{self as fb, FeedbackEventRow, FeedbackRow};
use dvc_persistence::{new_id, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::guards::Principal;
use crate::routes::path_key;
use crate::state::AppState;

mod lists;
mod moves;

pub use lists::*;
pub use moves::*;

/// A new complaint, reflection or support request. Say what it is about: your dossier (by its
/// code), a procedure, or an agency; it goes to the agency responsible.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    #[schema(value_type = FeedbackKind)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 5000)]
    pub content: String,
    /// Id or code of the procedure concerned.
    pub procedure_id: Option<String>,
    /// Code of one of your own dossiers (complaints about a dossier).
    pub dossier_code: Option<String>,
    /// The agency concerned, when no dossier is named.
    pub agency_id: Option<String>,
    /// Whether the answer to a reflection may be published (default true). Authors are never shown.
    pub publish: Option<bool>,
}

/// A short reference to an agency or procedure.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    pub id: String,
    pub code: String,
    pub name: String,
}

/// One step in the life of a piece of feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackStep {
    pub at: String,
    pub action: String,
    pub from_status: Option<FeedbackStatus>,
    pub to_status: FeedbackStatus,
    /// `citizen`, `business`, `organization`, `officer`, `admin`.
    pub actor_role: String,
    pub note: Option<String>,
}

/// A piece of feedback as its author and the agency see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub id: String,
    /// `KN-`, `PA-` or `HT-` then `yyMMdd-NNNN`.
    pub code: String,
    pub kind: FeedbackKind,
    pub title: String,
    pub content: String,
    pub status: FeedbackStatus,
    pub agency: Named,
    pub procedure: Option<Named>,
    pub dossier_code: Option<String>,
    pub publish: bool,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub reopened: i32,
    /// What the caller may do now.
    pub allowed_actions: Vec<FeedbackAction>,
    pub history: Vec<FeedbackStep>,
    pub version: i32,
    pub created_at: String,
    pub updated_at: String,
}

/// An answered reflection as the public sees it: no author, no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicFeedback {
    pub code: String,
    pub title: String,
    pub content: String,
    pub agency: Named,
    pub procedure: Option<Named>,
    pub answer: String,
    pub answered_at: String,
    pub created_at: String,
}

/// Who is looking at a piece of feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Viewer {
    Author,
    Agency,
}

fn not_found() -> ApiError {
    ApiError::not_found("phản ánh, kiến nghị", "Feedback")
}

/// The author, officers of the agency it was routed to, and administrators see it; anyone else is
/// told it does not exist.
fn viewer(me: &Principal, row: &FeedbackRow) -> Result<Viewer, ApiError> {
    if row.author_id == me.id() {
        Ok(Viewer::Author)
    } else if me.role() == Role::Admin
        || (me.role() == Role::Officer && me.0.agency_id.as_deref() == Some(row.agency_id.as_str()))
    {
        Ok(Viewer::Agency)
    } else {
        Err(not_found())
    }
}

fn named_agency(conn: &mut DbConn, id: &str) -> Result<Named, ApiError> {
    let a = cat::find_agency(conn, id)?.ok_or_else(ApiError::internal)?;
    Ok(Named { id: a.id, code: a.code, name: a.name })
}

fn named_procedure(conn: &mut DbConn, id: Option<&str>) -> Result<Option<Named>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    Ok(cat::find_procedure(conn, id)?.map(|p| Named { id: p.id, code: p.code, name: p.name }))
}

fn view(conn: &mut DbConn, row: FeedbackRow, viewer: Viewer) -> Result<FeedbackView, ApiError> {
    let status = row.status.0;
    let side = if viewer == Viewer::Author { Side::Applicant } else { Side::Agency };
    let allowed_actions =
        FeedbackAction::ALL.iter().copied().filter(|a| next_status(status, *a, side, row.reopened).is_some()).collect();
    let history = fb::events(conn, &row.id)?
        .into_iter()
        .map(|e| FeedbackStep {
            at: rfc3339(e.at),
            action: e.action,
            from_status: e.from_status.map(|s| s.0),
            to_status: e.to_status.0,
            actor_role: e.actor_role,
            note: e.note,
        })
        .collect();
    let dossier_code = match &row.dossier_id {
        Some(id) => d::find(conn, id)?.and_then(|d| d.code),
        None => None,
    };
    Ok(FeedbackView {
        kind: row.kind.0,
        status,
        agency: named_agency(conn, &row.agency_id)?,
        procedure: named_procedure(conn, row.procedure_id.as_deref())?,
        dossier_code,
        allowed_actions,
        history,
        id: row.id,
        code: row.code,
        title: row.title,
        content: row.content,
        publish: row.publish,
        answer: row.answer,
        answered_at: row.answered_at.map(rfc3339),
        reopened: row.reopened,
        version: row.version,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    })
}

fn unknown(field: &str) -> FieldError {
    FieldError::new(field, "not_found", "Không tìm thấy", "Not found")
}

/// Where a new piece of feedback goes: `(agency, procedure, dossier)`.
fn route(
    conn: &mut DbConn,
    me: &Principal,
    kind: FeedbackKind,
    input: &NewFeedback,
) -> Result<(String, Option<String>, Option<String>), ApiError> {
    let key = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (procedure_key, dossier_code, agency_key) =
        (key(&input.procedure_id), key(&input.dossier_code), key(&input.agency_id));
    if let Some(code) = dossier_code {
        // Only the applicant's own dossier; someone else's looks the same as none at all.
        let dossier = match dvc_domain::text::is_lookup_key(&code) {
            true => d::find_by_code(conn, &code)?,
            false => None,
        }
        .filter(|row| row.applicant_id.as_ref().is_some_and(|a| a.as_str() == me.id()))
        .ok_or_else(|| ApiError::field(unknown("dossier_code")))?;
        return Ok((dossier.agency_id.0, Some(dossier.procedure_id.0), Some(dossier.id.0)));
    }
    let procedure = match procedure_key {
        Some(p) => Some(
            match dvc_domain::text::is_lookup_key(&p) {
                true => cat::find_procedure(conn, &p)?,
                false => None,
            }
            .ok_or_else(|| ApiError::field(unknown("procedure_id")))?,
        ),
        None => None,
    };
    let agency = match agency_key {
        Some(a) => Some(
            match dvc_domain::text::is_lookup_key(&a) {
                true => cat::find_agency(conn, &a)?,
                false => None,
            }
            .ok_or_else(|| ApiError::field(unknown("agency_id")))?
            .id,
        ),
        None => None,
    };
    if kind == FeedbackKind::Complaint && procedure.is_none() {
        return Err(ApiError::field(FieldError::new(
            "procedure_id",
            "required",
            "Khiếu nại phải nêu thủ tục (procedure_id) hoặc mã hồ sơ của bạn (dossier_code)",
            "A complaint names a procedure (procedure_id) or your dossier's code (dossier_code)",
        )));
    }
    let procedure_id = procedure.as_ref().map(|p| p.id.clone());
    let agency = match (agency, procedure) {
        (Some(a), _) => a,
        (None, Some(p)) => cat::agencies_of_procedures(conn, std::slice::from_ref(&p.id))?
            .into_iter()
            .next()
            .map(|a| a.id)
            .ok_or_else(|| ApiError::field(FieldError::required("agency_id")))?,
        (None, None) => {
            return Err(ApiError::field(FieldError::new(
                "agency_id",
                "required",
                "Nêu cơ quan (agency_id), thủ tục (procedure_id) hoặc mã hồ sơ (dossier_code)",
                "Name an agency (agency_id), a procedure (procedure_id) or a dossier code (dossier_code)",
            )))
        }
    };
    Ok((agency, procedure_id, None))
}

/// File a complaint, reflection or support request.
///
/// File a complaint (`complaint`: about a procedure or your own dossier), a reflection or
/// recommendation (`reflection`), or a support request (`support_request`). It gets a code and goes
/// to the responsible agency.
#[utoipa::path(operation_id = "createFeedback", tag = "feedback", request_body = NewFeedback, security(("bearer" = [])), responses(
    (status = 201, description = "Filed", body = FeedbackView),
    (status = 400, description = "Invalid input, or an unknown procedure, agency or dossier code", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an applicant account", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/feedback")]
pub async fn create(state: web::Data<AppState>, me: Principal, body: Body<NewFeedback>) -> ApiResult<HttpResponse> {
    if !me.role().is_applicant() {
        return Err(ApiError::forbidden());
    }
    let input = body.0;
    let mut errors = Vec::new();
    let kind = FeedbackKind::parse_field("kind", &input.kind).map_err(|e| errors.push(e)).ok();
    dvc_domain::catalogue::check_text("title", &input.title, 200, &mut errors);
    dvc_domain::catalogue::check_text("content", &input.content, 5000, &mut errors);
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let at = state.clock.moment();
    let view = state
        .tx(move |conn| {
            let (agency_id, procedure_id, dossier_id) = route(conn, &me, kind, &input)?;
            let prefix = format!("{}-{}", kind.code_prefix(), at.today.format("%y%m%d"));
            let n = d::next_code_number(conn, &prefix)?;
            let row = FeedbackRow {
                id: new_id(),
                code: format!("{prefix}-{n:04}"),
                kind: Code(kind),
                title: input.title.trim().into(),
                content: input.content.trim().into(),
                author_id: me.id().into(),
                agency_id,
                procedure_id,
                dossier_id,
                status: Code(FeedbackStatus::New),
                publish: input.publish.unwrap_or(true),
                answer: None,
                answered_by: None,
                answered_at: None,
                reopened: 0,
                closed_at: None,
                version: 1,
                created_at: at.now,
                updated_at: at.now,
            };
            fb::insert(conn, &row)?;
            record(conn, &row, fb::FILED, None, FeedbackStatus::New, &me, None, at.now)?;
            // The feed carries what the agency needs to pick it up, not who wrote it.
            crate::integration::emit(
                conn,
                "feedback.created",
                crate::integration::Subject { agency_id: &row.agency_id, dossier_id: row.dossier_id.as_deref(), dossier_code: None },
                serde_json::json!({"feedback_id": row.id, "code": row.code, "kind": row.kind.0, "procedure_id": row.procedure_id}),
            )?;
            view(conn, row, Viewer::Author)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/feedback/{}", view.id))).json(view))
}

#[allow(clippy::too_many_arguments)]
fn record(
    conn: &mut DbConn,
    row: &FeedbackRow,
    action: &str,
    from: Option<FeedbackStatus>,
    to: FeedbackStatus,
    me: &Principal,
    note: Option<String>,
    at: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    fb::insert_event(
        conn,
        &FeedbackEventRow {
            id: new_id(),
            feedback_id: row.id.clone(),
            at,
            action: action.into(),
            from_status: from.map(Code),
            to_status: Code(to),
            actor_id: Some(me.id().into()),
            actor_role: me.role().as_str().into(),
            note,
        },
    )?;
    Ok(())
}

/// A piece of feedback: its author, the agency it was routed to and administrators only.
#[utoipa::path(operation_id = "getFeedback", tag = "feedback", security(("bearer" = [])), params(("id" = String, Path, description = "Feedback id")), responses(
    (status = 200, description = "The feedback and its history", body = FeedbackView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: others are told it does not exist", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such feedback for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/feedback/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<FeedbackView>> {
    let id = path_key(id.into_inner(), "phản ánh, kiến nghị", "Feedback")?;
    let view = state
        .db(move |conn| {
            let row = fb::find(conn, &id)?.ok_or_else(not_found)?;
            let who = viewer(&me, &row)?;
            view(conn, row, who)
        })
        .await?;
    Ok(web::Json(view))
}
