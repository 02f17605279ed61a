//! What answers share: pages of lists, and the versions (ETags) of versioned resources.

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

/// The strong ETag of a versioned resource.
pub fn etag(id: &str, version: i32) -> String {
    format!("\"{id}-v{version}\"")
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
