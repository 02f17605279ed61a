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
    /// Lists read by cursor (dossier lists): pass it as `after` to read the next page, however
    /// deep; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    pub fn new(items: Vec<T>, total: i64, req: PageRequest) -> Self {
        Self { items, total, page: req.page, per_page: req.per_page, next_cursor: None }
    }
}

/// The strong ETag of a versioned resource.
pub fn etag(id: &str, version: i32) -> String {
    format!("\"{id}-v{version}\"")
}

/// The ETag of a catalogue record as shown: its own version and the catalogue's (which moves when
/// what the record shows of others, such as its agencies' names, changes). `If-Match` takes it as
/// the record's version.
pub fn shown_etag(id: &str, version: i32, catalogue: i64) -> String {
    format!("\"{id}-v{version}-c{catalogue}\"")
}

/// Checks `If-Match` against the current version: absent passes, stale gives 412. A tag that also
/// names the catalogue's version (see [`shown_etag`]) matches by the record's version.
pub fn check_if_match(if_match: Option<&str>, id: &str, version: i32) -> Result<(), ApiError> {
    let Some(value) = if_match else {
        return Ok(());
    };
    let current = etag(id, version);
    let stem = &current[..current.len() - 1];
    let matches = |tag: &str| tag == current || tag.strip_prefix(stem).is_some_and(|rest| rest.starts_with("-c"));
    if value.trim() == "*" || value.split(',').any(|v| matches(v.trim())) {
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

/// Whether an `If-None-Match` header names this ETag (weak comparison, RFC 9110 §13.1.2).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| bare(t) == bare(etag))
}
