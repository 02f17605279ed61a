//! Officers' side of dossiers: the agency's inbox, workflow moves, and result documents.

use actix_multipart::Multipart;
use actix_web::{get, post, web, HttpResponse};
use dvc_domain::workflow::{DossierStatus, Side};
use dvc_domain::FieldError;
use dvc_persistence::dossier_lists::DossierFilter;
use dvc_persistence::files::{self as f, AttachmentRow, FileRow, RESULT};
use dvc_persistence::{new_id, now};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dossier::lists::ListRequest;
use crate::dossier::{self as svc, Access, DossierView, TransitionInput};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::guards::{Principal, Staff, Unchecked};
use crate::routes::{filter_key, path_key, Page};
use crate::state::AppState;

/// Filters of the agency inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    #[param(value_type = Option<DossierStatus>)]
    pub status: Option<String>,
    /// `true`: only dossiers past their due date.
    #[param(value_type = Option<bool>)]
    pub overdue: Option<String>,
    pub procedure_id: Option<String>,
    pub code: Option<String>,
    /// Administrators may choose one agency; officers always see their own.
    pub agency_id: Option<String>,
    /// The `next_cursor` of the page before: reads the next page from there, however deep (then
    /// `page` is not given).
    pub after: Option<String>,

    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// The agency's dossiers, nearest due date first (drafts are the applicants' own).
#[utoipa::path(operation_id = "listAgencyDossiers", tag = "agency", params(InboxQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of dossiers", body = Page<DossierView>),
    (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not staff of an agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/agency/dossiers")]
pub async fn inbox(
    state: web::Data<AppState>,
    staff: Unchecked<Staff>,
    query: web::Query<InboxQuery>,
) -> ApiResult<HttpResponse> {
    let (staff, session) = staff.into_parts();
    let q = query.into_inner();
    let mut errors = Vec::new();
    let (page, status) = crate::routes::page_and_status(&q.page, &q.per_page, &q.status, &mut errors);
    let overdue = match q.overdue.as_deref() {
        None => false,
        Some("true") => true,
        Some("false") => false,
        Some(_) => {
            errors.push(FieldError::one_of("overdue", &["true", "false"]));
            false
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // Officers see their own agency; administrators one agency, or all.
    let agency = match staff.0 .0.agency_id.clone() {
        Some(own) if staff.0.role() == dvc_domain::auth::Role::Officer => Some(own),
        _ if staff.0.role() == dvc_domain::auth::Role::Officer => return Err(ApiError::forbidden()),
        _ => crate::routes::agency_filter(&state, q.agency_id).await?,
    };
    let today = state.clock.today();
    let filter = DossierFilter {
        agency_id: agency,
        status,
        procedure_id: filter_key(q.procedure_id),
        code: filter_key(q.code),
        overdue_on: overdue.then_some(today),
        exclude_drafts: true,
        ..Default::default()
    };
    let access = if staff.0.role() == dvc_domain::auth::Role::Admin { Access::Admin } else { Access::Agency };
    let after = crate::routes::list_cursor(q.after.as_deref(), q.page.as_deref(), &filter)?;
    let page = state.dossiers.page(ListRequest { filter, page, access, today, after, session }).await?;
    Ok(crate::routes::list_answer(page))
}

/// Move a dossier through the workflow (officers).
///
/// Move a dossier through the workflow: `receive` (sets the due date), `reject` (reason),
/// `request_supplement` (what is missing), `start_processing`, `complete` (after uploading
/// results), `return_result`, `stop` (reason), `apologize` (`new_due_date` and reason). A move the
/// workflow does not allow is 409.
#[utoipa::path(operation_id = "moveDossier", tag = "agency", request_body = TransitionInput, security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Moved", body = DossierView),
    (status = 400, description = "Missing reason, note or date", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not staff of the handling agency", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The workflow does not allow this move now", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Results must be uploaded before completing", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: Body<TransitionInput>,
) -> ApiResult<web::Json<DossierView>> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let input = body.0;
    let action = svc::action_of(&input)?;
    let (_, view) =
        state.dossiers.make_move(me.caller(), id, Side::Agency, action, input, state.clock.moment()).await?;
    Ok(web::Json(view))
}

/// The dossier, when the caller is its handling agency and it is being processed or processed.
fn may_upload_result(
    conn: &mut dvc_persistence::DbConn,
    caller: &crate::auth::Caller,
    id: &str,
) -> Result<dvc_domain::dossier::Dossier, ApiError> {
    let (row, access) = svc::load(conn, caller, id)?;
    if access == Access::Owner {
        return Err(ApiError::forbidden());
    }
    if !matches!(row.status, DossierStatus::Processing | DossierStatus::Completed) {
        return Err(ApiError::conflict(crate::error::Msg::new(
            "Chỉ tải kết quả khi hồ sơ đang xử lý hoặc đã xử lý xong",
            "Results are uploaded while the dossier is processed",
        )));
    }
    Ok(row)
}

/// An issued result: the stored file and how anyone verifies it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct IssuedResult {
    #[serde(flatten)]
    pub attachment: svc::AttachmentView,
    #[schema(example = "K7QM-2XRD-9FHT")]
    pub verification_code: String,
    /// The public verification address (for the QR code on the document).
    pub verification_url: String,
    /// Whether the agency's key signed it (false when no key is configured for the agency).
    pub signed: bool,
}

/// Upload a result document.
///
/// Upload a result document (multipart `file`) while the dossier is processed or completed. It is
/// registered for verification and signed with the agency's key: its verification code and
/// address come back, to print on the document. A PDF is kept with the agency's signature inside
/// it (an incremental update that any PDF reader checks), and the registration is of that file.
#[utoipa::path(operation_id = "uploadResult", tag = "agency", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")),
    request_body(content = crate::openapi::ResultUpload, content_type = "multipart/form-data", description = "`file`"),
    responses(
    (status = 201, description = "Stored, registered and signed", body = IssuedResult),
    (status = 400, description = "No file", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not staff of the handling agency", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not being processed", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "File type not accepted", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/results")]
pub async fn upload_result(
    state: web::Data<AppState>,
    me: Principal,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    payload: Multipart,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    // The caller's right to the dossier first: nobody else's upload is read at all.
    crate::upload::check_length(&req, state.config.max_file_bytes)?;
    let (check_caller, check_id) = (me.caller(), id.clone());
    let (agency_code, agency_name) = state
        .db(move |conn| {
            may_upload_result(conn, &check_caller, &check_id)
                .map(|d| (d.procedure.agency_code, d.procedure.agency_name))
        })
        .await?;
    let upload = crate::upload::read(payload, state.config.max_file_bytes, &["file"]).await?;
    let (filename, mut bytes) = upload.file.ok_or_else(|| ApiError::field(FieldError::required("file")))?;
    let content_type = crate::storage::sniff(&bytes)?;
    if content_type == "application/pdf" && state.signers.has_key(&agency_code) {
        // The agency's signature inside the PDF itself; a PDF that cannot take one keeps the
        // detached signature of its registration only.
        let signers = state.signers.clone();
        let original = bytes.clone();
        let signed = web::block(move || {
            crate::pdfsign::sign_pdf(&signers, &agency_code, &original, &agency_name, chrono::Utc::now())
        })
        .await?;
        match signed {
            Ok(Some(signed)) => bytes = signed,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "a PDF result was not signed inside"),
        }
    }
    let stored = state.storage.put(bytes).await?;
    let (key, sha256, size) = (stored.key.clone(), stored.sha256.clone(), stored.size);
    let caller = me.caller();
    let (signers, public_url) = (state.signers.clone(), state.config.public_url.clone());
    let view = state
        .tx(move |conn| {
            let row = may_upload_result(conn, &caller, &id)?;
            let file = FileRow {
                id: new_id(),
                owner_id: row.applicant_id.as_ref().map(|a| a.0.clone()),
                filename,
                content_type: content_type.to_string(),
                size,
                sha256,
                storage_key: key,
                digitization: 3,
                created_at: now(),
            };
            f::insert_file(conn, &file)?;
            let attachment = AttachmentRow {
                id: new_id(),
                dossier_id: row.id.0.clone(),
                document_id: RESULT.into(),
                file_id: file.id.clone(),
                kind: RESULT.into(),
                created_by: Some(caller.id.clone()),
                created_at: now(),
            };
            f::insert_attachment(conn, &attachment)?;
            let registered = crate::routes::verify::register(conn, &signers, &row, &file, now())?;
            let verification_url = format!("{public_url}/api/v1/verify/{}", registered.verification_code);
            Ok(IssuedResult {
                attachment: svc::attachment_view(attachment, file),
                verification_code: registered.verification_code,
                verification_url,
                signed: registered.signature.is_some(),
            })
        })
        .await?;
    stored.commit();
    Ok(HttpResponse::Created().json(view))
}

/// Download a result document (the applicant, or the agency).
#[utoipa::path(operation_id = "downloadResult", tag = "dossiers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("rid" = String, Path, description = "Result id")),
    responses(
    (status = 200, description = "The file", content_type = "application/octet-stream"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's files are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such result for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/results/{rid}")]
pub async fn download_result(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    crate::routes::attachments::download(&state, me, path.into_inner(), RESULT).await
}
