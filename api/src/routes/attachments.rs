//! Attachments of dossiers: upload, reuse ("declare once"), download, removal.

use actix_multipart::Multipart;
use actix_web::{delete, get, http::header, post, web, HttpResponse};
use dvc_domain::FieldError;
use dvc_persistence::files::{self as d, AttachmentRow, FileRow, APPLICANT};
use dvc_persistence::{new_id, now};

use crate::dossier::{self as svc, owner_editable, AttachmentView};
use crate::error::{ApiError, ApiResult, Problem};
use crate::guards::Principal;
use crate::routes::path_key;
use crate::state::AppState;

/// Attach a document to a dossier.
///
/// Attach a document: multipart with `document_id` (the required-document slot) and either
/// `file`, or `file_id` to reuse a file uploaded before ("declare once").
#[utoipa::path(operation_id = "uploadAttachment", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")),
    request_body(content = crate::openapi::AttachmentUpload, content_type = "multipart/form-data", description = "`document_id`, and `file` or `file_id`"),
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
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    payload: Multipart,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    // The caller's right to the dossier first: nobody else's upload is read at all.
    crate::upload::check_length(&req, state.config.max_file_bytes)?;
    let (check_caller, check_id) = (me.caller(), id.clone());
    state
        .db(move |conn| {
            let (row, access) = svc::load(conn, &check_caller, &check_id)?;
            owner_editable(&row, access)
        })
        .await?;
    let upload = crate::upload::read(payload, state.config.max_file_bytes, &["document_id", "file", "file_id"]).await?;
    let document_id = upload
        .text("document_id")
        .map(str::to_string)
        .ok_or_else(|| ApiError::field(FieldError::required("document_id")))?;
    let reuse = upload.text("file_id").map(str::to_string);
    let stored = match (&upload.file, &reuse) {
        (Some((_, bytes)), None) => {
            let content_type = crate::storage::sniff(bytes)?;
            Some((state.storage.put(bytes.clone()).await?, content_type))
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
    let caller = me.caller();
    let (stored, view) = state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &caller, &id)?;
            owner_editable(&row, access)?;
            let snap = &row.procedure;
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
            if d::attached_bytes(conn, row.id.as_str())? + file.size > max_total {
                return Err(ApiError::payload_too_large());
            }
            let attachment = AttachmentRow {
                id: new_id(),
                dossier_id: row.id.0.clone(),
                document_id,
                file_id: file.id.clone(),
                kind: APPLICANT.into(),
                created_by: Some(owner),
                created_at: now(),
            };
            d::insert_attachment(conn, &attachment)?;
            svc::touch_editable(conn, row.id.as_str(), now())?;
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
#[utoipa::path(operation_id = "downloadAttachment", tag = "dossiers", security(("bearer" = [])),
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
    download(&state, me, path.into_inner(), APPLICANT).await
}

/// A file attached (as `kind`, applicant or result) to a dossier the caller may see, with the
/// dossier; 404 to anyone else.
pub fn attached_file(
    conn: &mut dvc_persistence::DbConn,
    caller: &crate::auth::Caller,
    id: &str,
    aid: &str,
    kind: &str,
) -> Result<(dvc_domain::dossier::Dossier, FileRow), ApiError> {
    let (dossier, _) = svc::load(conn, caller, id)?;
    let file = d::attachments(conn, id, kind)?
        .into_iter()
        .find(|(a, _)| a.id == aid)
        .map(|(_, f)| f)
        .ok_or_else(|| ApiError::not_found("tệp", "File"))?;
    Ok((dossier, file))
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
    let caller = me.caller();
    let (_, file) = state.db(move |conn| attached_file(conn, &caller, &id, &aid, kind)).await?;
    let content = state.storage.get(&file.storage_key).await?;
    let ascii: String = file
        .filename
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}\"")))
        .insert_header(("X-Content-SHA256", file.sha256))
        .insert_header((header::CONTENT_LENGTH, file.size.to_string()))
        .streaming(content))
}

/// Remove an attachment while the dossier is editable.
#[utoipa::path(operation_id = "deleteAttachment", tag = "dossiers", security(("bearer" = [])),
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
    let caller = me.caller();
    state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &caller, &id)?;
            owner_editable(&row, access)?;
            if d::delete_attachment(conn, row.id.as_str(), &aid)? == 0 {
                return Err(ApiError::not_found("tệp", "File"));
            }
            svc::touch_editable(conn, row.id.as_str(), now())?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
