//! The one error type of the API, rendered as RFC 9457 problem+json in Vietnamese or English.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use dvc_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// A message in both languages the API speaks.
#[derive(Debug, Clone)]
pub struct Msg {
    pub vi: String,
    pub en: String,
}

impl Msg {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self { vi: vi.into(), en: en.into() }
    }
}

/// The response language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    /// English when the first language the client names is English; Vietnamese otherwise.
    pub fn from_accept_language(value: Option<&str>) -> Self {
        let first = value
            .unwrap_or("")
            .split(',')
            .map(|part| part.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .find(|tag| tag.starts_with("en") || tag.starts_with("vi"));
        match first.as_deref() {
            Some(tag) if tag.starts_with("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    pub fn pick<'a>(&self, msg: &'a Msg) -> &'a str {
        match self {
            Lang::Vi => &msg.vi,
            Lang::En => &msg.en,
        }
    }
}

/// An error answered to the client (boxed, so that results stay small on the happy path).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorData>);

/// What an [`ApiError`] says.
#[derive(Debug, Clone)]
pub struct ErrorData {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: Msg,
    pub detail: Msg,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

/// The problem+json body (RFC 9457) of every error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "https://dvc.gov.vn/problems/not_found", "title": "Không tìm thấy",
    "status": 404, "detail": "Không tìm thấy thủ tục", "code": "not_found"}))]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code: `validation_failed`, `not_found`, `unauthorized`, `forbidden`,
    /// `conflict`, `rate_limited`, ...
    pub code: String,
    /// For invalid input: one entry per offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
}

/// One invalid field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// Where the value was: a body field (`fees[0].amount_vnd`) or a query parameter.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorData;

    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: Msg, detail: Msg) -> Self {
        Self(Box::new(ErrorData { status, code, title, detail, errors: Vec::new(), retry_after: None }))
    }

    /// An answer to come back to later: 429 or 503 with `Retry-After` in seconds.
    pub fn later(status: StatusCode, code: &'static str, title: Msg, detail: Msg, retry_after: u64) -> Self {
        let mut e = Self::new(status, code, title, detail);
        e.retry_after = Some(retry_after);
        e
    }

    /// Invalid input, with one entry per field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Msg::new("Dữ liệu không hợp lệ", "Invalid input"),
            Msg::new("Một hoặc nhiều trường không hợp lệ", "One or more fields are invalid"),
        );
        e.errors = errors;
        e
    }

    pub fn field(error: FieldError) -> Self {
        Self::validation(vec![error])
    }

    /// A request whose body or parameters could not be read at all.
    pub fn bad_request(detail: Msg) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", Msg::new("Yêu cầu không hợp lệ", "Bad request"), detail)
    }

    /// Well-formed input that the rules refuse.
    pub fn unprocessable(code: &'static str, detail: Msg) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            Msg::new("Không thể xử lý yêu cầu", "Unprocessable request"),
            detail,
        )
    }

    pub fn not_found(what_vi: &str, what_en: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Msg::new("Không tìm thấy", "Not found"),
            Msg::new(format!("Không tìm thấy {what_vi}"), format!("{what_en} not found")),
        )
    }

    pub fn unauthorized(detail: Msg) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", Msg::new("Chưa xác thực", "Unauthorized"), detail)
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Msg::new("Không có quyền", "Forbidden"),
            Msg::new("Tài khoản không có quyền thực hiện thao tác này", "This account may not do this"),
        )
    }

    pub fn conflict(detail: Msg) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", Msg::new("Xung đột dữ liệu", "Conflict"), detail)
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            Msg::new("Dữ liệu quá lớn", "Payload too large"),
            Msg::new("Nội dung yêu cầu vượt quá giới hạn cho phép", "The request body exceeds the limit"),
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            Msg::new("Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
            Msg::new(
                "Cơ sở dữ liệu tạm thời không phản hồi; vui lòng thử lại",
                "The database is not answering; try again",
            ),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Msg::new("Lỗi hệ thống", "Internal error"),
            Msg::new("Đã xảy ra lỗi; lỗi đã được ghi lại", "Something went wrong; the error was logged"),
        )
    }

    /// The problem+json body in the given language.
    pub fn problem(&self, lang: Lang) -> Problem {
        Problem {
            kind: format!("https://dvc.gov.vn/problems/{}", self.code),
            title: lang.pick(&self.title).to_string(),
            status: self.status.as_u16(),
            detail: lang.pick(&self.detail).to_string(),
            code: self.code.to_string(),
            errors: (!self.errors.is_empty()).then(|| {
                self.errors
                    .iter()
                    .map(|e| ProblemField {
                        field: e.field.clone(),
                        code: e.code.to_string(),
                        message: match lang {
                            Lang::Vi => e.message_vi.clone(),
                            Lang::En => e.message_en.clone(),
                        },
                    })
                    .collect()
            }),
        }
    }

    pub fn render(&self, lang: Lang) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        builder.insert_header((header::CONTENT_LANGUAGE, if lang == Lang::En { "en" } else { "vi" }));
        if self.status == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        builder.body(serde_json::to_string(&self.problem(lang)).unwrap_or_default())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail.en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// Vietnamese by default; the language middleware re-renders in English when asked.
    fn error_response(&self) -> HttpResponse {
        self.render(Lang::Vi)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => ApiError::not_found("bản ghi", "Record"),
            E::DatabaseError(K::UniqueViolation, _) => ApiError::conflict(Msg::new(
                "Bản ghi đã tồn tại (trùng mã)",
                "A record with the same code already exists",
            )),
            E::DatabaseError(K::ForeignKeyViolation, _) => ApiError::conflict(Msg::new(
                "Bản ghi đang được tham chiếu hoặc tham chiếu tới bản ghi không tồn tại",
                "The record is still referenced, or refers to a record that does not exist",
            )),
            E::DatabaseError(K::SerializationFailure, _) => ApiError::conflict(Msg::new(
                "Yêu cầu đồng thời bị xung đột; vui lòng thử lại",
                "A concurrent request conflicted; try again",
            )),
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => ApiError::unavailable(),
            // Heavy work past its statement timeout: shed, to be tried again.
            E::DatabaseError(_, info) if info.message().contains("statement timeout") => crate::bulkhead::busy(5),
            // Text the database cannot store (NUL bytes, bad encodings) is bad input, not a fault.
            E::DatabaseError(_, info) if info.message().contains("invalid byte sequence") => ApiError::bad_request(
                Msg::new("Dữ liệu chứa ký tự không hợp lệ", "The input contains characters that cannot be stored"),
            ),
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<dvc_persistence::DbError> for ApiError {
    fn from(e: dvc_persistence::DbError) -> Self {
        match e {
            dvc_persistence::DbError::Query(q) => q.into(),
            other => {
                tracing::warn!(error = %other, "database unavailable");
                ApiError::unavailable()
            }
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection");
        ApiError::unavailable()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::internal()
    }
}

/// Converts the framework's extractor errors (bad JSON, bad path or query) into problem+json.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::Overflow { .. } | J::OverflowKnownLength { .. } => ApiError::payload_too_large(),
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Msg::new("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
            Msg::new("Nội dung phải là application/json", "The body must be application/json"),
        ),
        J::Deserialize(e) => {
            let field = json_error_field(&e.to_string());
            let mut error = ApiError::validation(vec![FieldError::new(
                field.unwrap_or_else(|| "body".into()),
                "invalid_json",
                format!("Nội dung JSON không hợp lệ: {e}"),
                format!("Invalid JSON body: {e}"),
            )]);
            error.detail = Msg::new(format!("Nội dung JSON không hợp lệ: {e}"), format!("Invalid JSON body: {e}"));
            error
        }
        other => ApiError::bad_request(Msg::new(
            format!("Không đọc được nội dung yêu cầu: {other}"),
            format!("Cannot read the request body: {other}"),
        )),
    }
}

/// The field serde names in "missing field `x`" and "unknown field `x`" messages.
fn json_error_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    let text = err.to_string();
    if let Some(rest) = text.split("missing field `").nth(1) {
        let field = rest.split('`').next().unwrap_or("query");
        return ApiError::field(FieldError::required(field));
    }
    ApiError::bad_request(Msg::new(
        format!("Tham số truy vấn không hợp lệ: {err}"),
        format!("Invalid query parameters: {err}"),
    ))
}

pub fn path_error(err: actix_web::error::PathError) -> ApiError {
    ApiError::bad_request(Msg::new(format!("Đường dẫn không hợp lệ: {err}"), format!("Invalid path: {err}")))
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The Vietnamese rendering, for handlers that answer an error without returning it.
    pub fn error_response_vi(&self) -> HttpResponse {
        self.render(Lang::Vi)
    }
}
