//! HTTP handlers, one module per resource.

pub mod admin_catalogue;
pub mod agency;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod dossiers;
pub mod feedback;
pub mod gateway;
pub mod integration;
pub mod me;
pub mod my_dossiers;
pub mod ops;
pub mod payments;
pub mod ratings;
pub mod registrations;
pub mod staff;
pub mod statistics;
pub mod tracking;

use actix_web::http::header;
use actix_web::HttpRequest;
use dvc_domain::page::PageRequest;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Msg};

/// A page of a list people browse.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T: ToSchema> Page<T> {
    pub fn new(items: Vec<T>, total: i64, req: PageRequest) -> Self {
        Self { items, total, page: req.page, per_page: req.per_page }
    }
}

/// An id or code from the path; anything that cannot be one is simply not found.
pub fn path_key(raw: String, what_vi: &str, what_en: &str) -> Result<String, ApiError> {
    if dvc_domain::text::is_lookup_key(&raw) {
        Ok(raw)
    } else {
        Err(ApiError::not_found(what_vi, what_en))
    }
}

/// An id or code given as a filter. One that cannot exist is kept as a key that matches nothing,
/// so that the answer is an empty list, as for any other unknown id.
pub fn filter_key(raw: Option<String>) -> Option<String> {
    let raw = raw.filter(|s| !s.is_empty())?;
    Some(if dvc_domain::text::is_lookup_key(&raw) { raw } else { "-".to_string() })
}

/// The page and status filter of a dossier list, recording what is invalid in `errors`.
pub fn page_and_status(
    page: &Option<String>,
    per_page: &Option<String>,
    status: &Option<String>,
    errors: &mut Vec<dvc_domain::FieldError>,
) -> (PageRequest, Option<dvc_domain::workflow::DossierStatus>) {
    let page = PageRequest::parse(page.as_deref(), per_page.as_deref()).unwrap_or_else(|mut e| {
        errors.append(&mut e);
        PageRequest::default()
    });
    let status = status
        .as_deref()
        .and_then(|s| dvc_domain::workflow::DossierStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok());
    (page, status)
}

/// The strong ETag of a versioned resource.
pub fn etag(id: &str, version: i32) -> String {
    format!("\"{id}-v{version}\"")
}

/// The `If-Match` header, read before the request moves to a database thread.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).map(|v| v.to_str().unwrap_or("").to_string())
}

/// Checks `If-Match` against the current version: absent passes, stale gives 412.
pub fn check_if_match(if_match: Option<&str>, id: &str, version: i32) -> Result<(), ApiError> {
    let Some(value) = if_match else {
        return Ok(());
    };
    let current = etag(id, version);
    if value.trim() == "*" || value.split(',').any(|v| v.trim() == current) {
        Ok(())
    } else {
        Err(ApiError::new(
            actix_web::http::StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            Msg::new("Dữ liệu đã thay đổi", "Precondition failed"),
            Msg::new(
                "Bản ghi đã được cập nhật bởi người khác; hãy tải lại rồi thử lại",
                "The record changed since you read it; reload and try again",
            ),
        ))
    }
}
