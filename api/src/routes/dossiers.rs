//! Applicants' dossiers: drafts, attachments, submission, withdrawal, history, and public tracking.

use actix_multipart::Multipart;
use actix_web::{delete, get, http::header, patch, post, web, HttpRequest, HttpResponse};

use dvc_domain::catalogue::{OnlineMode, ServiceLevel};
use dvc_domain::workflow::{Actor, DossierAction, DossierStatus};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, AttachmentRow, DossierRow, FileRow};
use dvc_persistence::{accounts, catalogue as q, new_id, now};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::catalogue::rfc3339;
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
    let view = state
        .db(move |conn| {
            let cal = crate::calendar::load(conn)?;
            svc::view(conn, row, access, &cal, crate::calendar::today())
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
    let row = state
        .tx(move |conn| {
            let procedure_key = match dvc_domain::text::is_lookup_key(&input.procedure_id) {
                true => q::find_procedure(conn, &input.procedure_id)?.map(|p| p.id),
                false => None,
            }
            .ok_or_else(|| unknown("procedure_id"))?;
            let (snapshot, version) = current_snapshot(conn, &procedure_key, &input.agency_id)?;
            svc::check_form(snapshot.form_schema.as_ref(), &input.form_data)?;
            let account = accounts::find(conn, &owner)?.ok_or_else(ApiError::forbidden)?;
            let profile: serde_json::Value = serde_json::from_str(&account.profile).unwrap_or_default();
            let applicant = serde_json::json!({
                "account_type": account.account_type, "full_name": account.full_name, "id_number": account.id_number,
                "tax_code": account.tax_code, "date_of_birth": account.date_of_birth, "phone": account.phone,
                "email": account.email, "address": profile.get("address"),
            });
            let t = now();
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
            Ok(row)
        })
        .await?;
    respond(&state, row, Access::Owner, actix_web::http::StatusCode::CREATED).await
}

/// A referenced record that does not exist.
fn unknown(field: &str) -> ApiError {
    ApiError::field(FieldError::new(field, "unknown", "Không tồn tại", "Does not exist"))
}

/// The procedure as it is now, for the agency chosen: refused when it is no longer offered online
/// or no longer handled by that agency.
fn current_snapshot(
    conn: &mut dvc_persistence::DbConn,
    procedure_id: &str,
    agency_id: &str,
) -> Result<(Snapshot, i32), ApiError> {
    let procedure = q::find_procedure(conn, procedure_id)?.ok_or_else(|| unknown("procedure_id"))?;
    let level = ServiceLevel::new(procedure.service_level.into());
    if !level.is_some_and(|l| l.allows_online_submission()) || procedure.online == OnlineMode::None.as_str() {
        return Err(ApiError::unprocessable(
            "not_online",
            Msg::new(
                "Thủ tục này chưa được cung cấp trực tuyến (mức độ 3 trở lên)",
                "This procedure is not offered online (level 3 and up)",
            ),
        ));
    }
    let agencies = q::agencies_of_procedures(conn, std::slice::from_ref(&procedure.id))?;
    let agency = agencies.into_iter().find(|a| a.id == agency_id).ok_or_else(|| unknown("agency_id"))?;
    let snapshot = Snapshot {
        code: procedure.code,
        name: procedure.name,
        processing_days: procedure.processing_days,
        fees: serde_json::from_str(&procedure.fees).map_err(|_| ApiError::internal())?,
        required_documents: serde_json::from_str(&procedure.required_documents).map_err(|_| ApiError::internal())?,
        form_schema: procedure.form_schema.as_deref().and_then(|s| serde_json::from_str(s).ok()),
        agency_code: agency.code,
        agency_name: agency.name,
    };
    Ok((snapshot, procedure.version))
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

fn owner_editable(row: &DossierRow, access: Access) -> Result<(), ApiError> {
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
                svc::check_form(svc::snapshot(&row)?.form_schema.as_ref(), form)?;
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

/// Attach a document: multipart with `document_id` (the required-document slot) and either
/// `file`, or `file_id` to reuse a file uploaded before ("declare once").
#[utoipa::path(tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")),
    request_body(content_type = "multipart/form-data", description = "`document_id`, and `file` or `file_id`"),
    responses(
    (status = 201, description = "Attached", body = AttachmentView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not editable in its status", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "File or dossier over its size limit", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "File type not accepted", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    payload: Multipart,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let upload = crate::upload::read(payload, state.config.max_file_bytes).await?;
    let document_id = upload
        .text("document_id")
        .map(str::to_string)
        .ok_or_else(|| ApiError::field(FieldError::required("document_id")))?;
    let reuse = upload.text("file_id").map(str::to_string);
    let stored = match (&upload.file, &reuse) {
        (Some((_, bytes)), None) => {
            let content_type = crate::storage::sniff(bytes)?;
            let dir = state.config.data_dir.clone();
            let bytes = bytes.clone();
            Some((web::block(move || crate::storage::store(&dir, &bytes)).await??, content_type))
        }
        (None, Some(_)) => None,
        _ => {
            return Err(ApiError::field(FieldError::new(
                "file",
                "file_or_file_id",
                "Gửi một tệp (file) hoặc mã tệp đã có (file_id)",
                "Send either `file` or `file_id`",
            )))
        }
    };
    let filename = upload.file.as_ref().map(|(n, _)| n.clone()).unwrap_or_default();
    let max_total = state.config.max_dossier_bytes;
    let owner = me.id().to_string();
    let (stored, view) = state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &me, &id)?;
            owner_editable(&row, access)?;
            let snap = svc::snapshot(&row)?;
            if !snap.required_documents.iter().any(|doc| doc.id == document_id) {
                let ids: Vec<&str> = snap.required_documents.iter().map(|d| d.id.as_str()).collect();
                return Err(ApiError::field(FieldError::one_of("document_id", &ids)));
            }
            let file = match (&stored, &reuse) {
                (Some((file, content_type)), _) => {
                    let row = FileRow {
                        id: new_id(),
                        owner_id: Some(owner.clone()),
                        filename: filename.clone(),
                        content_type: content_type.to_string(),
                        size: file.size,
                        sha256: file.sha256.clone(),
                        storage_key: file.key.clone(),
                        digitization: 1,
                        created_at: now(),
                    };
                    d::insert_file(conn, &row)?;
                    row
                }
                (None, Some(file_id)) => {
                    let existing = match dvc_domain::text::is_lookup_key(file_id) {
                        true => d::find_file(conn, file_id)?,
                        false => None,
                    };
                    existing.filter(|f| f.owner_id.as_deref() == Some(owner.as_str())).ok_or_else(|| {
                        ApiError::field(FieldError::new(
                            "file_id",
                            "unknown",
                            "Không có tệp này trong kho của bạn",
                            "No such file among yours",
                        ))
                    })?
                }
                (None, None) => return Err(ApiError::internal()),
            };
            if d::attached_bytes(conn, &row.id)? + file.size > max_total {
                return Err(ApiError::payload_too_large());
            }
            let attachment = AttachmentRow {
                id: new_id(),
                dossier_id: row.id.clone(),
                document_id,
                file_id: file.id.clone(),
                kind: "applicant".into(),
                created_by: Some(owner),
                created_at: now(),
            };
            d::insert_attachment(conn, &attachment)?;
            let mut view = svc::attachment_view(attachment, file);
            if reuse.is_some() {
                view.digitization = 2;
            }
            Ok((stored, view))
        })
        .await?;
    if let Some((file, _)) = stored {
        file.commit();
    }
    Ok(HttpResponse::Created().json(view))
}

/// Download an attachment of a dossier the caller may see.
#[utoipa::path(tag = "dossiers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("aid" = String, Path, description = "Attachment id")),
    responses(
    (status = 200, description = "The file", content_type = "application/octet-stream"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's files are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such attachment for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/attachments/{aid}")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    download(&state, me, path.into_inner(), "applicant").await
}

/// Sends a file attached to a dossier (`kind` applicant or result).
pub async fn download(
    state: &AppState,
    me: Principal,
    (id, aid): (String, String),
    kind: &'static str,
) -> ApiResult<HttpResponse> {
    let id = path_key(id, "hồ sơ", "Dossier")?;
    let aid = path_key(aid, "tệp", "File")?;
    let file = state
        .db(move |conn| {
            svc::load(conn, &me, &id)?;
            d::attachments(conn, &id, kind)?
                .into_iter()
                .find(|(a, _)| a.id == aid)
                .map(|(_, f)| f)
                .ok_or_else(|| ApiError::not_found("tệp", "File"))
        })
        .await?;
    let dir = state.config.data_dir.clone();
    let key = file.storage_key.clone();
    let bytes = web::block(move || crate::storage::read(&dir, &key)).await??;
    let ascii: String = file
        .filename
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}\"")))
        .insert_header(("X-Content-SHA256", file.sha256))
        .body(bytes))
}

/// Remove an attachment while the dossier is editable.
#[utoipa::path(tag = "dossiers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("aid" = String, Path, description = "Attachment id")),
    responses(
    (status = 204, description = "Removed"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such attachment for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not editable in its status", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/dossiers/{id}/attachments/{aid}")]
pub async fn delete_attachment(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, aid) = path.into_inner();
    let id = path_key(id, "hồ sơ", "Dossier")?;
    let aid = path_key(aid, "tệp", "File")?;
    state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &me, &id)?;
            owner_editable(&row, access)?;
            if d::delete_attachment(conn, &row.id, &aid)? == 0 {
                return Err(ApiError::not_found("tệp", "File"));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
    let row = state
        .tx(move |conn| {
            let (mut row, access) = svc::load(conn, &me, &id)?;
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            let status = svc::status(&row)?;
            let action = if status == DossierStatus::SupplementRequested {
                DossierAction::Resubmit
            } else {
                DossierAction::Submit
            };
            if status == DossierStatus::Draft {
                // The dossier is judged by, and keeps, the procedure version in force at submission.
                let (snapshot, version) = current_snapshot(conn, &row.procedure_id, &row.agency_id)?;
                row.procedure_snapshot = serde_json::to_string(&snapshot).map_err(|_| ApiError::internal())?;
                row.procedure_version = version;
                row.working_days_allowed = snapshot.processing_days;
            }
            let snap = svc::snapshot(&row)?;
            let attachments: Vec<AttachmentView> = d::attachments(conn, &row.id, "applicant")?
                .into_iter()
                .map(|(a, f)| svc::attachment_view(a, f))
                .collect();
            let missing = svc::missing_documents(&snap, &attachments);
            if status.editable() && !missing.is_empty() {
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
            if status.editable() {
                let form: serde_json::Value = serde_json::from_str(&row.form_data).unwrap_or_default();
                svc::check_form(snap.form_schema.as_ref(), &form).map_err(|mut e| {
                    e.status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
                    e.code = "form_incomplete";
                    e
                })?;
            }
            if action == DossierAction::Submit && status == DossierStatus::Draft {
                let today = crate::calendar::today();
                let prefix = format!("{}-{}", snap.agency_code, today.format("%y%m%d"));
                let n = d::next_code_number(conn, &prefix)?;
                row.code = Some(format!("{prefix}-{n:04}"));
                row.submitted_at = Some(now());
            }
            let cal = crate::calendar::load(conn)?;
            let actor_id = me.id().to_string();
            svc::apply(
                conn,
                row,
                action,
                &svc::Mover { actor: Actor::Applicant, id: Some(&actor_id), role: me.role().as_str() },
                &TransitionInput::default(),
                &cal,
                crate::calendar::today(),
            )
        })
        .await?;
    respond(&state, row, Access::Owner, actix_web::http::StatusCode::OK).await
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
    let row = state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &me, &id)?;
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            let cal = crate::calendar::load(conn)?;
            let input = TransitionInput { reason: Some(reason), ..Default::default() };
            let actor_id = me.id().to_string();
            let mover = svc::Mover { actor: Actor::Applicant, id: Some(&actor_id), role: me.role().as_str() };
            svc::apply(conn, row, DossierAction::Withdraw, &mover, &input, &cal, crate::calendar::today())
        })
        .await?;
    respond(&state, row, Access::Owner, actix_web::http::StatusCode::OK).await
}

/// One step of a dossier's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// The role that acted: `citizen`, `business`, `organization`, `officer`, `admin`, `integration`.
    pub actor: String,
    pub note: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The timeline of a dossier.
#[utoipa::path(tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Oldest first", body = Vec<HistoryEntry>),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's dossiers are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<HistoryEntry>>> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let events = state
        .db(move |conn| {
            svc::load(conn, &me, &id)?;
            Ok(d::events(conn, &id)?)
        })
        .await?;
    Ok(web::Json(
        events
            .into_iter()
            .map(|e| HistoryEntry {
                at: rfc3339(e.at),
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                actor: e.actor_role,
                note: e.note,
                data: serde_json::from_str(&e.data).unwrap_or_default(),
            })
            .collect(),
    ))
}

/// The public tracking query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// The dossier code printed on the receipt.
    #[param(example = "H26.00070-261120-0001", min_length = 1, max_length = 100)]
    pub code: String,
}

/// One step of the public timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStep {
    pub at: String,
    pub action: String,
    pub to_status: String,
}

/// What anyone with the code may see: no name, ID number, phone, e-mail or form content.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDossier {
    pub code: String,
    pub status: DossierStatus,
    pub national_status_code: Option<i32>,
    pub procedure: Ref2,
    pub agency: Ref2,
    pub submitted_at: Option<String>,
    pub received_at: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<chrono::NaiveDate>,
    pub overdue: bool,
    pub timeliness: Option<String>,
    pub timeline: Vec<PublicStep>,
}

/// A code and a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ref2 {
    pub code: String,
    pub name: String,
}

/// Track a dossier by its code, without signing in.
#[utoipa::path(tag = "dossiers", params(LookupQuery), responses(
    (status = 200, description = "The dossier's progress", body = PublicDossier),
    (status = 400, description = "No code given", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No dossier with this code", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/lookup")]
pub async fn lookup(state: web::Data<AppState>, query: web::Query<LookupQuery>) -> ApiResult<web::Json<PublicDossier>> {
    let code = query.into_inner().code.trim().to_string();
    if code.is_empty() {
        return Err(ApiError::field(FieldError::required("code")));
    }
    if !dvc_domain::text::is_lookup_key(&code) {
        return Err(svc::not_found());
    }
    let found = state
        .db(move |conn| {
            let row = d::find_dossier_by_code(conn, &code)?.ok_or_else(svc::not_found)?;
            let events = d::events(conn, &row.id)?;
            let cal = crate::calendar::load(conn)?;
            let snap = svc::snapshot(&row)?;
            let fees = svc::fee_state(conn, &snap, &row.id)?;
            Ok((row, events, cal, (snap, fees)))
        })
        .await?;
    let (row, events, cal, fees) = found;
    let (snap, fees) = fees;
    let status = svc::status(&row)?;
    let deadline = svc::deadline(&row, &cal, crate::calendar::today());
    Ok(web::Json(PublicDossier {
        code: row.code.unwrap_or_default(),
        status,
        national_status_code: svc::national_code(status, &fees),
        procedure: Ref2 { code: snap.code, name: snap.name },
        agency: Ref2 { code: snap.agency_code, name: snap.agency_name },
        submitted_at: row.submitted_at.map(rfc3339),
        received_at: row.received_at.map(rfc3339),
        due_date: row.due_date,
        overdue: deadline.overdue,
        timeliness: row.timeliness,
        timeline: events
            .into_iter()
            .filter(|e| e.action != "create")
            .map(|e| PublicStep { at: rfc3339(e.at), action: e.action, to_status: e.to_status })
            .collect(),
    }))
}
