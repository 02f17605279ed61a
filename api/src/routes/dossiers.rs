//! Applicants' dossiers: drafts, attachments, submission, withdrawal, history, and public tracking.

use actix_web::{get, http::header, patch, post, web, HttpRequest, HttpResponse};

use dvc_domain::workflow::{Actor, DossierAction};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, DossierRow};
use dvc_persistence::now;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::dossier::intake::{NewDraft, Submission};
use crate::dossier::{self as svc, Access, DossierView, TransitionInput};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::routes::{check_if_match, etag, if_match, path_key};
use crate::state::AppState;

/// How the result reaches the applicant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// `counter` (at the agency), `post` (public post to `address`) or `online`.
    #[schema(example = "online", pattern = "^(counter|post|online)$")]
    pub method: String,
    #[schema(max_length = 500)]
    pub address: Option<String>,
}

fn check_delivery(delivery: &Delivery) -> Result<(), ApiError> {
    if !matches!(delivery.method.as_str(), "counter" | "post" | "online") {
        return Err(ApiError::field(FieldError::one_of("delivery.method", &["counter", "post", "online"])));
    }
    let mut errors = Vec::new();
    match &delivery.address {
        Some(a) => dvc_domain::catalogue::check_text("delivery.address", a, 500, &mut errors),
        None if delivery.method == "post" => errors.push(FieldError::required("delivery.address")),
        None => {}
    }
    errors.pop().map_or(Ok(()), |e| Err(ApiError::field(e)))
}

/// A new draft dossier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDossier {
    /// Procedure id or code.
    #[schema(example = "1.001193")]
    pub procedure_id: String,
    /// One of the agencies that handle the procedure.
    pub agency_id: String,
    #[schema(value_type = Object)]
    #[serde(default = "empty_object")]
    pub form_data: serde_json::Value,
    pub delivery: Delivery,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

fn applicant_only(me: &Principal) -> Result<(), ApiError> {
    if me.role().is_applicant() {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

async fn respond(
    state: &AppState,
    row: DossierRow,
    access: Access,
    status: actix_web::http::StatusCode,
) -> ApiResult<HttpResponse> {
    let tag = etag(&row.id, row.version);
    let today = state.clock.today();
    let cache = state.cache.clone();
    let view = state
        .db(move |conn| {
            let cal = cache.calendar(conn)?;
            svc::view(conn, row, access, &cal, today)
        })
        .await?;
    Ok(HttpResponse::build(status).insert_header((header::ETAG, tag)).json(view))
}

/// Start a draft for a procedure offered online (level 3 and up); the applicant block is
/// prefilled from the profile.
#[utoipa::path(tag = "dossiers", request_body = NewDossier, security(("bearer" = [])), responses(
    (status = 201, description = "Draft created", body = DossierView),
    (status = 400, description = "Invalid input, or the form breaks the procedure's schema", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an applicant account", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "The procedure is not offered online", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers")]
pub async fn create(state: web::Data<AppState>, me: Principal, body: Body<NewDossier>) -> ApiResult<HttpResponse> {
    applicant_only(&me)?;
    let input = body.0;
    check_delivery(&input.delivery)?;
    let draft = NewDraft {
        owner: me.id().to_string(),
        procedure_id: input.procedure_id,
        agency_id: input.agency_id,
        form_data: input.form_data,
        delivery: serde_json::to_string(&input.delivery).map_err(|_| ApiError::internal())?,
        at: state.clock.now(),
        today: state.clock.today(),
    };
    let (tag, view) = state.batches.drafts.run(&state, draft).await?;
    Ok(HttpResponse::Created().insert_header((header::ETAG, tag)).json(view))
}

/// One dossier: its owner, the handling agency's staff and administrators see it; others get 404.
#[utoipa::path(tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "The dossier", body = DossierView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's dossiers are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}")]
pub async fn get_dossier(state: web::Data<AppState>, me: Principal, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let (row, access) = state.db(move |conn| svc::load(conn, &me, &id)).await?;
    respond(&state, row, access, actix_web::http::StatusCode::OK).await
}

/// What an applicant may change while the dossier is a draft or a supplement is requested.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DossierPatch {
    #[schema(value_type = Option<Object>)]
    pub form_data: Option<serde_json::Value>,
    pub delivery: Option<Delivery>,
}

pub(crate) fn owner_editable(row: &DossierRow, access: Access) -> Result<(), ApiError> {
    if access != Access::Owner {
        return Err(ApiError::forbidden());
    }
    if !svc::status(row)?.editable() {
        let mut e = ApiError::conflict(Msg::new(
            "Chỉ sửa được hồ sơ nháp hoặc hồ sơ đang được yêu cầu bổ sung",
            "Only drafts and dossiers awaiting a supplement can be changed",
        ));
        e.code = "not_editable";
        return Err(e);
    }
    Ok(())
}

/// Change the form or the delivery of a draft (or during a supplement request).
#[utoipa::path(tag = "dossiers", request_body = DossierPatch, security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("If-Match" = Option<String>, Header, description = "ETag read before")),
    responses(
    (status = 200, description = "Updated", body = DossierView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not editable in its status", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/dossiers/{id}")]
pub async fn patch_dossier(
    state: web::Data<AppState>,
    me: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body<DossierPatch>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let input = body.0;
    if let Some(delivery) = &input.delivery {
        check_delivery(delivery)?;
    }
    let precondition = if_match(&req);
    let row = state
        .tx(move |conn| {
            let (mut row, access) = svc::load(conn, &me, &id)?;
            owner_editable(&row, access)?;
            check_if_match(precondition.as_deref(), &row.id, row.version)?;
            if let Some(form) = &input.form_data {
                svc::check_form(svc::snapshot(&row)?.form_schema.as_deref(), form)?;
                row.form_data = form.to_string();
            }
            if let Some(delivery) = &input.delivery {
                row.delivery = serde_json::to_string(delivery).map_err(|_| ApiError::internal())?;
            }
            let expected = row.version;
            row.version += 1;
            row.updated_at = now();
            if !d::update_dossier(conn, &row, expected)? {
                return Err(ApiError::conflict(Msg::new(
                    "Hồ sơ vừa thay đổi; hãy thử lại",
                    "The dossier changed meanwhile; try again",
                )));
            }
            Ok(row)
        })
        .await?;
    respond(&state, row, Access::Owner, actix_web::http::StatusCode::OK).await
}

/// Submit a draft (a code is assigned), or resubmit after a supplement request.
#[utoipa::path(tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Submitted", body = DossierView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not a draft nor awaiting a supplement", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Mandatory documents missing, or the form is incomplete", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/submit")]
pub async fn submit(state: web::Data<AppState>, me: Principal, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let submission = Submission { me, id, at: state.clock.moment() };
    let (tag, view) = state.batches.submissions.run(&state, submission).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(view))
}

/// Records a change of an editable dossier's documents as a new version of the dossier, so that a
/// submission checked against the previous documents fails its version check instead of passing
/// with them; refused (409) once the dossier is no longer editable.
pub(crate) fn touch_editable(conn: &mut dvc_persistence::DbConn, id: &str) -> Result<(), ApiError> {
    if !d::touch_editable(conn, id, now())? {
        let mut e = ApiError::conflict(Msg::new(
            "Hồ sơ vừa được nộp hoặc thay đổi; hãy tải lại",
            "The dossier was submitted or changed meanwhile; reload it",
        ));
        e.code = "not_editable";
        return Err(e);
    }
    Ok(())
}

/// Why the applicant withdraws.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Withdraw a submitted dossier.
#[utoipa::path(tag = "dossiers", request_body = WithdrawRequest, security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Withdrawn", body = DossierView),
    (status = 400, description = "A reason is required", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Cannot be withdrawn in its status", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: Body<WithdrawRequest>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let reason = body.0.reason;
    let at = state.clock.moment();
    let cache = state.cache.clone();
    let row = state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &me, &id)?;
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            let cal = cache.calendar(conn)?;
            let input = TransitionInput { reason: Some(reason), ..Default::default() };
            let actor_id = me.id().to_string();
            let mover = svc::Mover { actor: Actor::Applicant, id: Some(&actor_id), role: me.role().as_str() };
            svc::apply(conn, row, DossierAction::Withdraw, &mover, &input, &cal, at)
        })
        .await?;
    respond(&state, row, Access::Owner, actix_web::http::StatusCode::OK).await
}
