//! The OpenAPI document: the base description here, the paths collected from the handlers.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{Problem, ProblemField};

mod forms;
mod polish;

pub use forms::{AttachmentUpload, ResultUpload, VnpayNotification};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dvc — Dịch vụ công trực tuyến",
        description = "Backend of an online public-service portal: the catalogue of administrative \
procedures, accounts, dossiers and their legal workflow, fees and payment, citizen feedback, and \
integration for ministry and provincial one-stop systems.\n\nErrors are `application/problem+json` \
(RFC 9457), in Vietnamese by default and in English with `Accept-Language: en`.",
        license(name = "Apache-2.0"),
        version = "0.1.0"
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, ProblemField, AttachmentUpload, ResultUpload, VnpayNotification, crate::documents::slips::Kind)),
    tags(
        (name = "catalogue", description = "Thủ tục hành chính: procedures, fields, agencies, administrative units"),
        (name = "accounts", description = "Tài khoản: registration and the applicant's profile"),
        (name = "auth", description = "Đăng nhập: tokens, refresh, logout, password reset"),
        (name = "dossiers", description = "Hồ sơ: drafts, attachments, submission, tracking"),
        (name = "agency", description = "Cán bộ: the agency's inbox and the legal workflow"),
        (name = "verification", description = "Xác thực kết quả: anyone checks an issued result by its code or its bytes"),
        (name = "payments", description = "Phí, lệ phí: fees, online payment (sandbox, VNPay), VietQR, refunds"),
        (name = "feedback", description = "Phản ánh, kiến nghị: complaints, reflections, support requests, satisfaction ratings"),
        (name = "statistics", description = "Chỉ số phục vụ: service-quality statistics per agency, procedure and field"),
        (name = "integration", description = "Tích hợp: one-stop systems of ministries and provinces (client credentials, sync, change feed, webhooks)"),
        (name = "calendar", description = "Ngày nghỉ: holidays and working-day deadlines"),
        (name = "admin", description = "Quản trị: catalogue upkeep (administrators)"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme so that "Authorize" in Swagger UI works.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /api/v1/auth/token"))
                    .build(),
            ),
        );
    }
}

/// The full document, as `dvc openapi` prints it and the server serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let app = actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi());
    let (_, api) = crate::routes::register(app).split_for_parts();
    let mut value = serde_json::to_value(&api).unwrap_or_default();
    polish::polish(&mut value);
    serde_json::from_value(value).unwrap_or(api)
}

/// The document as YAML, the form committed in `openapi.yaml`.
pub fn yaml() -> String {
    polish::quote_ambiguous(&document().to_yaml().unwrap_or_default())
}
