//! The second step of a registration: proving the identity with the OTP sent to the phone, or
//! with a signature of the challenge by a certificate that names the registrant.

use actix_web::{post, web, HttpRequest};
use base64::Engine;
use dvc_domain::auth::Assurance;
use dvc_domain::identity::CertificateIdentity;
use dvc_domain::registration::{Proof, RegistrationMethod, RegistrationStatus};
use dvc_domain::FieldError;
use dvc_persistence::codes::Code;
use dvc_persistence::now;
use dvc_persistence::registrations::{self as regs, RegistrationRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::open_registration;
use crate::certificates::{self, CertError};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::otp;
use crate::routes::path_key;
use crate::state::AppState;

/// The proof of the second step: the OTP, or the certificate and the signature of the challenge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[schema(example = "123456")]
    pub otp: Option<String>,
    /// The signer's certificate in PEM, followed by any intermediate CA certificates.
    pub certificate_pem: Option<String>,
    /// Base64 signature of the challenge text (RSA PKCS#1 v1.5 or PSS with SHA-256, or ECDSA P-256).
    pub signature_b64: Option<String>,
}

/// Identity proven.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationVerified {
    pub id: String,
    #[schema(example = "verified")]
    pub status: String,
    pub assurance: Assurance,
    /// `complete`: set a password.
    pub next: &'static str,
}

fn cert_error(e: CertError) -> ApiError {
    let (code, vi, en) = match e {
        CertError::Malformed => {
            ("malformed_certificate", "Không đọc được chứng thư số", "The certificate cannot be read")
        }
        CertError::Expired => (
            "certificate_expired",
            "Chứng thư số đã hết hạn hoặc chưa có hiệu lực",
            "The certificate is expired or not yet valid",
        ),
        CertError::Untrusted => (
            "untrusted_certificate",
            "Chứng thư số không do tổ chức chứng thực được tin cậy cấp",
            "The certificate is not issued by a trusted CA",
        ),
        CertError::BadSignature => ("bad_signature", "Chữ ký không hợp lệ", "The signature does not verify"),
        CertError::UnsupportedKey => ("unsupported_key", "Loại khóa không được hỗ trợ", "Unsupported key type"),
    };
    ApiError::unprocessable(code, Msg::new(vi, en))
}

fn check_otp(row: &mut RegistrationRow, secret: &str, code: &str) -> Result<(), ApiError> {
    if row.otp_expires_at.is_none_or(|t| t < now()) {
        return Err(ApiError::field(FieldError::new(
            "otp",
            "otp_expired",
            "Mã OTP đã hết hạn; hãy yêu cầu mã mới",
            "The code expired; ask for a new one",
        )));
    }
    let ok = row.otp_hash.as_deref().is_some_and(|h| otp::matches(secret, &row.id, code.trim(), h));
    if ok {
        return Ok(());
    }
    row.otp_attempts += 1;
    if row.otp_attempts >= otp::MAX_OTP_ATTEMPTS {
        row.status = Code(RegistrationStatus::Dead);
    }
    let left = (otp::MAX_OTP_ATTEMPTS - row.otp_attempts).max(0);
    Err(ApiError::field(FieldError::new(
        "otp",
        "wrong_otp",
        format!("Mã OTP không đúng; còn {left} lần thử"),
        format!("Wrong code; {left} tries left"),
    )))
}

fn check_signature(
    state: &AppState,
    row: &RegistrationRow,
    pem: &str,
    signature_b64: &str,
) -> Result<String, ApiError> {
    let signature = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()).map_err(|_| {
        ApiError::field(FieldError::new(
            "signature_b64",
            "invalid_base64",
            "Chữ ký không phải base64",
            "The signature is not base64",
        ))
    })?;
    let challenge = row.challenge.as_deref().unwrap_or_default();
    let signer = certificates::verify(&state.trust, pem, &signature, challenge.as_bytes()).map_err(cert_error)?;
    let claimed_matches = signer.identities.iter().any(|identity| match identity {
        CertificateIdentity::Cccd(id) | CertificateIdentity::Cmnd(id) => row.id_number.as_deref() == Some(id.as_str()),
        CertificateIdentity::Mst(tax) => row.tax_code.as_deref() == Some(tax.as_str()),
    });
    if !claimed_matches {
        return Err(ApiError::unprocessable(
            "identity_mismatch",
            Msg::new("Chứng thư số không phải của người đăng ký", "The certificate belongs to someone else"),
        ));
    }
    Ok(signer.subject)
}

/// Prove the identity (bước 2): the OTP, or a signature of the challenge.
#[utoipa::path(operation_id = "verifyRegistration", tag = "accounts", request_body = VerifyRequest, params(("id" = String, Path, description = "Registration id")), responses(
    (status = 200, description = "Verified", body = RegistrationVerified),
    (status = 400, description = "Wrong or expired OTP, or invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such registration", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Closed (expired, or too many wrong tries)", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Certificate or signature refused", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
))]
#[post("/registrations/{id}/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body<VerifyRequest>,
) -> ApiResult<web::Json<RegistrationVerified>> {
    crate::ratelimit::check(&state, &req, "auth").await?;
    let id = path_key(id.into_inner(), "hồ sơ đăng ký", "Registration")?;
    let input = body.0;
    let shared = state.clone();
    let verified = state
        .db(move |conn| {
            let mut row = open_registration(conn, &id, RegistrationStatus::Pending)?;
            let method = RegistrationMethod::parse(&row.method).unwrap_or(RegistrationMethod::Phone);
            let outcome = match method.proof() {
                Proof::Otp => {
                    let code = input
                        .otp
                        .as_deref()
                        .filter(|c| !c.trim().is_empty())
                        .ok_or_else(|| ApiError::field(FieldError::required("otp")))?;
                    check_otp(&mut row, &shared.config.jwt_secret, code)
                }
                Proof::Signature => {
                    let pem = input
                        .certificate_pem
                        .as_deref()
                        .ok_or_else(|| ApiError::field(FieldError::required("certificate_pem")))?;
                    let sig = input
                        .signature_b64
                        .as_deref()
                        .ok_or_else(|| ApiError::field(FieldError::required("signature_b64")))?;
                    check_signature(&shared, &row, pem, sig).map(|subject| row.certificate_subject = Some(subject))
                }
            };
            if outcome.is_ok() {
                row.status = Code(RegistrationStatus::Verified);
                row.assurance = Some(method.assurance().as_str().into());
                row.otp_hash = None;
            }
            row.updated_at = now();
            regs::update(conn, &row)?;
            outcome.map(|_| RegistrationVerified {
                id: row.id,
                status: row.status.0.as_str().to_string(),
                assurance: method.assurance(),
                next: "complete",
            })
        })
        .await?;
    Ok(web::Json(verified))
}
