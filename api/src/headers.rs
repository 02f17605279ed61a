//! Headers every answer carries for its safety: no content-type sniffing; answers to a signed-in
//! request, and those of sign-in, registration and token endpoints, kept by no cache unless the
//! handler said otherwise; and the Swagger UI pages, which load only their own scripts and styles
//! and may not be framed by another site.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

/// What the Swagger UI pages may load: their own files, inline styles (Swagger UI sets them),
/// images given as data, and requests to this server only.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// Paths whose answers carry secrets or personal data even without a bearer token.
fn personal_path(path: &str) -> bool {
    path.starts_with("/api/v1/auth/") || path.starts_with("/api/v1/registrations") || path == "/api/v1/oauth/token"
}

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let personal = req.headers().contains_key(header::AUTHORIZATION) || personal_path(req.path());
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if personal && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if docs {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_POLICY));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    Ok(res)
}
