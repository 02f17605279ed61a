//! Results anyone can verify: each result an agency issues is registered with its hash and signed
//! by the agency's key; the public checks a verification code or the bytes themselves, and the
//! agency may revoke a result with a reason.

use actix_multipart::Multipart;
use actix_web::{get, post, web, HttpRequest};
use chrono::NaiveDateTime;
use dvc_domain::dossier::Dossier;
use dvc_domain::result::{masked_name, signed_text, verification_code};
use dvc_domain::FieldError;
use dvc_persistence::catalogue as cat;
use dvc_persistence::files::FileRow;
use dvc_persistence::results::{self, SignedResultRow};
use dvc_persistence::DbConn;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::dossier::Ref;
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::guards::Principal;
use crate::routes::path_key;
use crate::state::AppState;

/// Registers an issued result and signs it with the agency's key (unsigned when the agency has
/// no key on this server), in the caller's transaction.
pub fn register(
    conn: &mut DbConn,
    signers: &crate::signing::Signers,
    dossier: &Dossier,
    file: &FileRow,
    at: NaiveDateTime,
) -> Result<SignedResultRow, ApiError> {
    let agency = cat::find_agency(conn, dossier.agency_id.as_str())?.ok_or_else(ApiError::internal)?;
    let holder = serde_json::from_str::<serde_json::Value>(dossier.applicant.get())
        .ok()
        .and_then(|a| a.get("full_name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_default();
    let mut random = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let code = verification_code(random);
    let text = signed_text(&code, &file.sha256, &agency.code, dossier.code.as_deref().unwrap_or_default(), at);
    let signature = signers.sign(&agency.code, &text).map_err(|e| {
        tracing::error!(error = %e, agency = %agency.code, "result not signed");
        ApiError::internal()
    })?;
    let row = SignedResultRow {
        verification_code: code,
        file_id: file.id.clone(),
        dossier_id: dossier.id.as_str().to_string(),
        agency_id: agency.id,
        sha256: file.sha256.clone(),
        filename: file.filename.clone(),
        holder_name: holder,
        issued_at: at,
        signed_text: text,
        algorithm: signature.as_ref().map(|s| s.algorithm.to_string()),
        signature: signature.as_ref().map(|s| s.value.clone()),
        certificate_pem: signature.map(|s| s.certificate_pem),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    };
    results::insert(conn, &row)?;
    Ok(row)
}

/// What anyone may learn of a registered result.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    #[schema(example = "K7QM-2XRD-9FHT")]
    pub verification_code: String,
    /// What the document is: `result` (a result of a public service).
    pub kind: &'static str,
    pub filename: String,
    pub agency: Ref,
    /// When it was issued (RFC 3339).
    pub issued_at: String,
    /// SHA-256 of the document's bytes (hex).
    pub sha256: String,
    /// Whether it carries the agency's signature, and whether that signature checks out against the
    /// certificate below over `signed_text`.
    pub signed: bool,
    pub signature_valid: bool,
    pub revoked: bool,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
    /// The holder's name with all but each word's first letter hidden.
    #[schema(example = "N***** V** A*")]
    pub holder: String,
    /// What the signature covers, the algorithm (`ecdsa-p256-sha256` or `rsa-pkcs1-sha256`), the
    /// Base64 signature and the agency's certificate (PEM): enough to check it without dvc.
    pub signed_text: String,
    pub algorithm: Option<String>,
    pub signature: Option<String>,
    pub certificate_pem: Option<String>,
}

fn verification_view(conn: &mut DbConn, r: SignedResultRow) -> Result<VerificationView, ApiError> {
    let agency = cat::find_agency(conn, &r.agency_id)?.ok_or_else(ApiError::internal)?;
    let signature_valid = match (&r.certificate_pem, &r.algorithm, &r.signature) {
        (Some(cert), Some(alg), Some(sig)) => crate::signing::verify(cert, alg, &r.signed_text, sig),
        _ => false,
    };
    Ok(VerificationView {
        verification_code: r.verification_code,
        kind: "result",
        filename: r.filename,
        agency: Ref { id: agency.id, code: agency.code, name: agency.name },
        issued_at: rfc3339(r.issued_at),
        sha256: r.sha256,
        signed: r.signature.is_some(),
        signature_valid,
        revoked: r.revoked_at.is_some(),
        revoked_at: r.revoked_at.map(rfc3339),
        revoke_reason: r.revoke_reason,
        holder: masked_name(&r.holder_name),
        signed_text: r.signed_text,
        algorithm: r.algorithm,
        signature: r.signature,
        certificate_pem: r.certificate_pem,
    })
}

/// Verify a result by its verification code.
///
/// Public: what was issued, by which agency and when, its hash, whether the agency's signature
/// checks out, and whether it was revoked. The holder's name is masked.
#[utoipa::path(operation_id = "verifyResult", tag = "verification",
    params(("code" = String, Path, description = "The verification code printed on the result")),
    responses(
    (status = 200, description = "A registered result", body = VerificationView),
    (status = 404, description = "No result has this code", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many lookups from this address", body = Problem, content_type = "application/problem+json"),
))]
#[get("/verify/{code}")]
pub async fn verify_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> ApiResult<web::Json<VerificationView>> {
    state.lookups.check(&req, state.config.trust_forwarded)?;
    let code = path_key(code.into_inner().to_uppercase(), "mã xác thực", "Verification code")?;
    let view = state
        .db(move |conn| {
            let row = results::find(conn, &code)?
                .ok_or_else(|| ApiError::not_found("kết quả có mã xác thực này", "Result with this code"))?;
            verification_view(conn, row)
        })
        .await?;
    Ok(web::Json(view))
}

/// What uploaded bytes are.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileVerification {
    /// `genuine`: a registered result, not revoked, its signature valid (or unsigned);
    /// `revoked`: registered but revoked; `unknown`: these bytes were never issued as a result.
    pub verdict: Verdict,
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    pub result: Option<VerificationView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Genuine,
    Revoked,
    Unknown,
    /// Registered, but its signature does not check out.
    BadSignature,
}

/// Verify a document's bytes.
///
/// Public: upload a file (multipart `file`) to learn whether exactly these bytes are a result an
/// agency issued and has not revoked. One changed byte makes them unknown.
#[utoipa::path(operation_id = "verifyResultFile", tag = "verification",
    request_body(content = crate::openapi::ResultUpload, content_type = "multipart/form-data", description = "`file`"),
    responses(
    (status = 200, description = "The verdict", body = FileVerification),
    (status = 400, description = "No file", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many lookups from this address", body = Problem, content_type = "application/problem+json"),
))]
#[post("/verify")]
pub async fn verify_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: Multipart,
) -> ApiResult<web::Json<FileVerification>> {
    state.lookups.check(&req, state.config.trust_forwarded)?;
    crate::upload::check_length(&req, state.config.max_file_bytes)?;
    let upload = crate::upload::read(payload, state.config.max_file_bytes, &["file"]).await?;
    let (_, bytes) = upload.file.ok_or_else(|| ApiError::field(FieldError::required("file")))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let hash = sha256.clone();
    let result = state
        .db(move |conn| match results::find_by_sha256(conn, &hash)? {
            Some(row) => Ok(Some(verification_view(conn, row)?)),
            None => Ok(None),
        })
        .await?;
    let verdict = match &result {
        None => Verdict::Unknown,
        Some(v) if v.revoked => Verdict::Revoked,
        Some(v) if v.signed && !v.signature_valid => Verdict::BadSignature,
        Some(_) => Verdict::Genuine,
    };
    Ok(web::Json(FileVerification { verdict, sha256, result }))
}

/// Why a result is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[schema(example = "Cấp nhầm người", min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Revoke an issued result.
///
/// The handling agency's staff revoke a result they issued, with a reason; verification says
/// so from then on. A result is revoked once.
#[utoipa::path(operation_id = "revokeResult", tag = "agency", security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("rid" = String, Path, description = "Result id")),
    request_body = RevokeRequest,
    responses(
    (status = 200, description = "Revoked", body = VerificationView),
    (status = 400, description = "No reason", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not staff of the handling agency", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such result for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/results/{rid}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<(String, String)>,
    body: Body<RevokeRequest>,
) -> ApiResult<web::Json<VerificationView>> {
    let (id, rid) = path.into_inner();
    let id = path_key(id, "hồ sơ", "Dossier")?;
    let rid = path_key(rid, "kết quả", "Result")?;
    let reason = body.0.reason.trim().to_string();
    let mut errors = Vec::new();
    dvc_domain::catalogue::check_text("reason", &reason, 2000, &mut errors);
    if reason.is_empty() {
        errors.push(FieldError::required("reason"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let caller = me.caller();
    let view = state
        .tx(move |conn| {
            let (dossier, access) = crate::dossier::load(conn, &caller, &id)?;
            if access == crate::dossier::Access::Owner {
                return Err(ApiError::forbidden());
            }
            let attachment =
                dvc_persistence::files::attachments(conn, dossier.id.as_str(), dvc_persistence::files::RESULT)?
                    .into_iter()
                    .find(|(a, _)| a.id == rid)
                    .ok_or_else(|| ApiError::not_found("kết quả", "Result"))?;
            let row = results::find_by_file(conn, &attachment.1.id)?
                .ok_or_else(|| ApiError::not_found("kết quả", "Result"))?;
            if !results::revoke(conn, &row.verification_code, &caller.id, &reason, dvc_persistence::now())? {
                return Err(ApiError::conflict(Msg::new("Kết quả đã bị thu hồi", "The result is already revoked")));
            }
            let row = results::find(conn, &row.verification_code)?.ok_or_else(ApiError::internal)?;
            verification_view(conn, row)
        })
        .await?;
    Ok(web::Json(view))
}

/// The electronic copy of a result, with its verification QR code.
///
/// The result's pages (a PDF's own pages, or the image on an A4 page), each with a band below it:
/// the verification code, the issuing agency, the issue date, the dossier code, and the public
/// verification address as text and as a QR code. For whoever may download the result.
#[utoipa::path(operation_id = "downloadResultCopy", tag = "dossiers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Dossier id"), ("rid" = String, Path, description = "Result id")),
    responses(
    (status = 200, description = "The copy", content_type = "application/pdf"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's results are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such registered result for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/results/{rid}/copy")]
pub async fn result_copy(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<(String, String)>,
) -> ApiResult<actix_web::HttpResponse> {
    let (id, rid) = path.into_inner();
    let id = path_key(id, "hồ sơ", "Dossier")?;
    let rid = path_key(rid, "tệp", "File")?;
    let caller = me.caller();
    let (file, registered, dossier) = state
        .db(move |conn| {
            let kind = dvc_persistence::files::RESULT;
            let (dossier, file) = crate::routes::attachments::attached_file(conn, &caller, &id, &rid, kind)?;
            let registered =
                results::find_by_file(conn, &file.id)?.ok_or_else(|| ApiError::not_found("kết quả", "Result"))?;
            Ok((file, registered, dossier))
        })
        .await?;
    let bytes = state.storage.read_all(&file.storage_key).await?;
    let code = registered.verification_code.clone();
    let stamp = crate::documents::copy::Stamp {
        verify_url: format!("{}/api/v1/verify/{code}", state.config.public_url),
        verification_code: code.clone(),
        agency: dossier.procedure.agency_name.clone(),
        issued_on: registered
            .issued_at
            .and_utc()
            .with_timezone(&crate::calendar::vietnam())
            .format("%d/%m/%Y")
            .to_string(),
        dossier_code: dossier.code.clone().unwrap_or_default(),
    };
    let content_type = file.content_type.clone();
    crate::documents::pdf_answer("result copy", &format!("ban-sao-{code}.pdf"), "inline", move || {
        crate::documents::copy::render(bytes, &content_type, &stamp)
    })
    .await
}
