//! Applicants' dossiers: drafts, attachments, submission, withdrawal, history, and public tracking.

use actix_web::{get, http::header, patch, post, web, HttpRequest, HttpResponse};

use dvc_domain::workflow::{Actor, DossierAction, DossierStatus};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, DossierRow};
use dvc_persistence::{accounts, new_id, now};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::cache::CatalogueCache;
use crate::dossier::{self as svc, Access, AttachmentView, DossierView, Snapshot, TransitionInput};
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
    let owner = me.id().to_string();
    let t = state.clock.now();
    let today = state.clock.today();
    let cache = state.cache.clone();
    let (tag, view) = state
        .tx(move |conn| {
            let (snapshot, version, procedure_key) =
                current_snapshot(conn, &cache, &input.procedure_id, &input.agency_id)?;
            svc::check_form(snapshot.form_schema.as_deref(), &input.form_data)?;
            let account = accounts::find(conn, &owner)?.ok_or_else(ApiError::forbidden)?;
            let profile: serde_json::Value = serde_json::from_str(&account.profile).unwrap_or_default();
            let applicant = serde_json::json!({
                "account_type": account.account_type, "full_name": account.full_name, "id_number": account.id_number,
                "tax_code": account.tax_code, "date_of_birth": account.date_of_birth, "phone": account.phone,
                "email": account.email, "address": profile.get("address"),
            });
            let row = DossierRow {
                id: new_id(),
                code: None,
                procedure_id: procedure_key,
                procedure_version: version,
                procedure_snapshot: serde_json::to_string(&snapshot).map_err(|_| ApiError::internal())?,
                agency_id: input.agency_id.clone(),
                applicant_id: Some(owner),
                applicant: applicant.to_string(),
                status: DossierStatus::Draft.as_str().into(),
                channel: "online".into(),
                form_data: input.form_data.to_string(),
                delivery: serde_json::to_string(&input.delivery).map_err(|_| ApiError::internal())?,
                submitted_at: None,
                received_at: None,
                due_date: None,
                working_days_allowed: snapshot.processing_days,
                working_days_spent: 0,
                clock_started_on: None,
                finished_at: None,
                timeliness: None,
                version: 1,
                created_at: t,
                updated_at: t,
                fee_vnd: 0,
            };
            d::insert_dossier(conn, &row)?;
            d::insert_event(
                conn,
                &event(
                    &row,
                    "create",
                    None,
                    DossierStatus::Draft,
                    Some(&row.applicant_id.clone().unwrap_or_default()),
                    "applicant",
                    None,
                ),
            )?;
            let cal = cache.calendar(conn)?;
            Ok((etag(&row.id, row.version), svc::bare_view(row, Access::Owner, &cal, today)?))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((header::ETAG, tag)).json(view))
}

/// The procedure as it is now, for the agency chosen: refused when it is no longer offered online
/// or no longer handled by that agency.
fn current_snapshot(
    conn: &mut dvc_persistence::DbConn,
    cache: &CatalogueCache,
    procedure_id: &str,
    agency_id: &str,
) -> Result<svc::ProcedureVersion, ApiError> {
    svc::procedure_snapshot(conn, cache, procedure_id, agency_id, true)
}

fn event(
    row: &DossierRow,
    action: &str,
    from: Option<DossierStatus>,
    to: DossierStatus,
    actor: Option<&str>,
    role: &str,
    note: Option<String>,
) -> d::EventRow {
    d::EventRow {
        id: new_id(),
        dossier_id: row.id.clone(),
        at: now(),
        action: action.into(),
        from_status: from.map(|s| s.as_str().into()),
        to_status: to.as_str().into(),
        actor_id: actor.map(str::to_string),
        actor_role: role.into(),
        note,
        data: "{}".into(),
    }
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
    let at = state.clock.moment();
    let cache = state.cache.clone();
    let today = at.today;
    let view = state
        .db(move |conn| {
            // Checks first, reading only: a refused submission takes no number and no lock.
            let (row, action, snap, files) = check_submission(conn, &cache, &me, &id)?;
            // A code number is taken in a transaction of its own, so that the counter of an agency's
            // day is held for moments rather than for the whole submission; a submission that then
            // fails leaves a gap in the day's numbers, never a duplicate.
            let code = match action == DossierAction::Submit && row.status == DossierStatus::Draft.as_str() {
                true => {
                    let prefix = format!("{}-{}", snap.agency_code, today.format("%y%m%d"));
                    let n = d::take_code_number(conn, &prefix)?;
                    Some(format!("{prefix}-{n:04}"))
                }
                false => None,
            };
            let cal = cache.calendar(conn)?;
            dvc_persistence::db::write_transaction(conn, |conn| {
                let mut row = row;
                if let Some(code) = code {
                    row.code = Some(code);
                    row.submitted_at = Some(at.now);
                    let totals = dvc_domain::payment::totals(&snap.fees);
                    row.fee_vnd = totals.before + totals.after;
                }
                let actor_id = me.id().to_string();
                // The move updates the row only if it is still the version checked above.
                let row = svc::apply(
                    conn,
                    row,
                    action,
                    &svc::Mover { actor: Actor::Applicant, id: Some(&actor_id), role: me.role().as_str() },
                    &TransitionInput::default(),
                    &cal,
                    at,
                )?;
                let tag = etag(&row.id, row.version);
                // A draft has no results: the files checked above are all it has.
                let view = match (files, action) {
                    (Some(files), DossierAction::Submit) => {
                        svc::view_with_files(conn, row, files, Access::Owner, &cal, today)?
                    }
                    _ => svc::view(conn, row, Access::Owner, &cal, today)?,
                };
                Ok((tag, view))
            })
        })
        .await?;
    let (tag, view) = view;
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

/// Whether the caller may submit (or resubmit) the dossier now: its owner, in an editable state,
/// with the mandatory documents and a complete form. Returns the row to move (a draft takes the
/// procedure version in force now), the move, and the procedure version it is judged by.
fn check_submission(
    conn: &mut dvc_persistence::DbConn,
    cache: &CatalogueCache,
    me: &Principal,
    id: &str,
) -> Result<(DossierRow, DossierAction, Snapshot, Option<svc::Files>), ApiError> {
    let (mut row, access) = svc::load(conn, me, id)?;
    if access != Access::Owner {
        return Err(ApiError::forbidden());
    }
    let status = svc::status(&row)?;
    let action =
        if status == DossierStatus::SupplementRequested { DossierAction::Resubmit } else { DossierAction::Submit };
    if status == DossierStatus::Draft {
        // The dossier is judged by, and keeps, the procedure version in force at submission.
        let (snapshot, version, _) = current_snapshot(conn, cache, &row.procedure_id, &row.agency_id)?;
        row.procedure_snapshot = serde_json::to_string(&snapshot).map_err(|_| ApiError::internal())?;
        row.procedure_version = version;
        row.working_days_allowed = snapshot.processing_days;
    }
    let snap = svc::snapshot(&row)?;
    if !status.editable() {
        // Not a draft nor awaiting a supplement: the workflow table refuses the move with 409.
        return Ok((row, action, snap, None));
    }
    let files = d::attachments(conn, &row.id, "applicant")?;
    let attachments: Vec<AttachmentView> =
        files.iter().map(|(a, f)| svc::attachment_view(a.clone(), f.clone())).collect();
    let missing = svc::missing_documents(&snap, &attachments);
    if !missing.is_empty() {
        let mut e = ApiError::unprocessable(
            "documents_missing",
            Msg::new(
                format!("Thiếu thành phần hồ sơ bắt buộc: {}", missing.join(", ")),
                format!("Mandatory documents missing: {}", missing.join(", ")),
            ),
        );
        e.errors = missing
            .iter()
            .map(|m| {
                FieldError::new(
                    format!("attachments.{m}"),
                    "required",
                    "Thiếu giấy tờ bắt buộc",
                    "Mandatory document missing",
                )
            })
            .collect();
        return Err(e);
    }
    let form: serde_json::Value = serde_json::from_str(&row.form_data).unwrap_or_default();
    svc::check_form(snap.form_schema.as_deref(), &form).map_err(|mut e| {
        e.status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
        e.code = "form_incomplete";
        e
    })?;
    let files = (status == DossierStatus::Draft).then_some(files);
    Ok((row, action, snap, files))
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
