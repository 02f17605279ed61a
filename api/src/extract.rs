//! Request extractors that answer bad input with problem+json naming the offending field.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use dvc_domain::FieldError;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Msg};

/// A JSON body; a deserialisation error names the path of the bad field (`fees[0].mode`).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::<T>::from_request(req, payload);
        Box::pin(async move { raw.await.map(|r| Body(r.0)) })
    }
}

/// A JSON body with the bytes it was read from (for idempotency keys, which hash the request).
pub struct RawBody<T>(pub T, pub web::Bytes);

impl<T: DeserializeOwned + 'static> FromRequest for RawBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    Msg::new("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
                    Msg::new("Nội dung phải là application/json", "The body must be application/json"),
                ));
            }
            let bytes = bytes.await.map_err(|e| match e.as_response_error().status_code().as_u16() {
                413 => ApiError::payload_too_large(),
                _ => ApiError::bad_request(Msg::new("Không đọc được nội dung yêu cầu", "Cannot read the request body")),
            })?;
            parse_json(&bytes).map(|value| RawBody(value, bytes))
        })
    }
}

/// Parses JSON, reporting the path of the first offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let field = if path == "." || path.is_empty() {
            missing_field(&message).unwrap_or_else(|| "body".to_string())
        } else if let Some(missing) = missing_field(&message) {
            format!("{path}.{missing}")
        } else {
            path
        };
        let code = if inner.is_syntax() || inner.is_eof() { "invalid_json" } else { "invalid_value" };
        ApiError::validation(vec![FieldError::new(
            field,
            code,
            format!("Giá trị không hợp lệ: {message}"),
            format!("Invalid value: {message}"),
        )])
    })
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_string())
}
