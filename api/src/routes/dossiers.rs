//! Applicants' dossiers: drafts, attachments, submission, withdrawal, history, and public tracking.

use actix_web::{get, http::header, patch, post, web, HttpRequest, HttpResponse};

use dvc_domain::dossier::DeliveryMethod;
use dvc_domain::workflow::{DossierAction, Side};
use dvc_domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dossier::intake::{NewDraft, Submission};
use crate::dossier::{DossierView, TransitionInput};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::guards::{Principal, Unchecked};
use crate::routes::{if_match, path_key};
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

/// The delivery as the domain holds it, or what is wrong with it.
fn parse_delivery(delivery: &Delivery) -> Result<dvc_domain::dossier::Delivery, ApiError> {
    let method = DeliveryMethod::parse_field("delivery.method", &delivery.method).map_err(ApiError::field)?;
    let mut errors = Vec::new();
    match &delivery.address {
        Some(a) => dvc_domain::catalogue::check_text("delivery.address", a, 500, &mut errors),
        None if method == DeliveryMethod::Post => errors.push(FieldError::required("delivery.address")),
        None => {}
    }
    match errors.pop() {
        Some(e) => Err(ApiError::field(e)),
        None => Ok(dvc_domain::dossier::Delivery { method, address: delivery.address.clone() }),
    }
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

fn respond((tag, view): (String, DossierView)) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, tag)).json(view)
}

/// Start a draft dossier.
///
/// Start a draft for a procedure offered online (level 3 and up); the applicant block is
/// prefilled from the profile.
#[utoipa::path(operation_id = "createDossier", tag = "dossiers", request_body = NewDossier, security(("bearer" = [])), responses(
    (status = 201, description = "Draft created", body = DossierView),
    (status = 400, description = "Invalid input, or the form breaks the procedure's schema", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an applicant account", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "The procedure is not offered online", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers")]
pub async fn create(
    state: web::Data<AppState>,
    me: Unchecked<Principal>,
    body: Body<NewDossier>,
) -> ApiResult<HttpResponse> {
    let (me, session) = me.into_parts();
    applicant_only(&me)?;
    let input = body.0;
    let delivery = parse_delivery(&input.delivery)?;
    let draft = NewDraft {
        owner: me.id().to_string(),
        procedure_id: input.procedure_id,
        agency_id: input.agency_id,
        form_data: input.form_data,
        delivery,
        at: state.clock.now(),
        today: state.clock.today(),
        assurance_level: me.0.assurance_level,
        session,
    };
    let (tag, view) = state.dossiers.create_draft(draft).await?;
    Ok(HttpResponse::Created().insert_header((header::ETAG, tag)).json(view))
}

/// One dossier: its owner, the handling agency's staff and administrators see it; others get 404.
#[utoipa::path(operation_id = "getDossier", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "The dossier", body = DossierView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's dossiers are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}")]
pub async fn get_dossier(state: web::Data<AppState>, me: Principal, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    Ok(respond(state.dossiers.get(me.caller(), id, state.clock.today()).await?))
}

/// What an applicant may change while the dossier is a draft or a supplement is requested.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DossierPatch {
    #[schema(value_type = Option<Object>)]
    pub form_data: Option<serde_json::Value>,
    pub delivery: Option<Delivery>,
}

/// Change the form or the delivery of a draft (or during a supplement request).
#[utoipa::path(operation_id = "updateDossier", tag = "dossiers", request_body = DossierPatch, security(("bearer" = [])),
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
    let delivery = input.delivery.as_ref().map(parse_delivery).transpose()?;
    let answer =
        state.dossiers.patch(me.caller(), id, if_match(&req), input.form_data, delivery, state.clock.moment()).await?;
    Ok(respond(answer))
}

/// Submit a draft (a code is assigned), or resubmit after a supplement request.
#[utoipa::path(operation_id = "submitDossier", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Submitted", body = DossierView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not a draft nor awaiting a supplement", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Mandatory documents missing, or the form is incomplete", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    me: Unchecked<Principal>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (me, session) = me.into_parts();
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let submission = Submission { me: me.caller(), id, at: state.clock.moment(), session };
    Ok(respond(state.dossiers.submit(submission).await?))
}

/// Why the applicant withdraws.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Withdraw a submitted dossier.
#[utoipa::path(operation_id = "withdrawDossier", tag = "dossiers", request_body = WithdrawRequest, security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
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
    let input = TransitionInput { reason: Some(body.0.reason), ..Default::default() };
    let moved = state
        .dossiers
        .make_move(me.caller(), id, Side::Applicant, DossierAction::Withdraw, input, state.clock.moment())
        .await?;
    Ok(respond(moved))
}
