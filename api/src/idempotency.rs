//! `Idempotency-Key`: a retried write with the same key and body gets the first answer; the same
//! key with another body is refused. Keys live in the database, so every instance honours them.

use actix_web::HttpRequest;
use dvc_domain::FieldError;
use dvc_persistence::payments::{self as p, IdempotencyRow};
use dvc_persistence::DbConn;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Msg};

/// A key, scoped to the caller and the operation, with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    scope: String,
    key: String,
    hash: String,
}

/// Reads the header; `None` when the client sent none.
pub fn from_request(
    req: &HttpRequest,
    caller: &str,
    operation: &str,
    body: &[u8],
) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim().to_string();
    if key.is_empty() || key.len() > 255 || !dvc_domain::text::is_lookup_key(&key) {
        return Err(ApiError::field(FieldError::new(
            "Idempotency-Key",
            "invalid_format",
            "Khóa không hợp lệ (1–255 ký tự in được)",
            "Invalid key (1–255 printable characters)",
        )));
    }
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    Ok(Some(Idempotency { scope: format!("{caller}:{operation}"), key, hash: hex::encode(hasher.finalize()) }))
}

impl Idempotency {
    /// The stored answer of an earlier request with this key, if any; otherwise claims the key in
    /// the caller's transaction, so that a concurrent request with the same key waits for this one
    /// and then finds it taken (409, retry for the stored answer) instead of acting twice.
    pub fn begin(&self, conn: &mut DbConn) -> Result<Option<(u16, String)>, ApiError> {
        if let Some(stored) = self.replay(conn)? {
            return Ok(Some(stored));
        }
        p::insert_key(
            conn,
            &IdempotencyRow {
                scope: self.scope.clone(),
                idem_key: self.key.clone(),
                request_hash: self.hash.clone(),
                status: 0,
                body: String::new(),
                created_at: dvc_persistence::now(),
            },
        )
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict(Msg::new(
                    "Một yêu cầu cùng khóa vừa được xử lý; hãy gửi lại để nhận kết quả",
                    "A request with the same key was just handled; retry to get its answer",
                ))
            }
            other => other.into(),
        })?;
        Ok(None)
    }

    fn replay(&self, conn: &mut DbConn) -> Result<Option<(u16, String)>, ApiError> {
        match p::find_key(conn, &self.scope, &self.key)? {
            None => Ok(None),
            Some(row) if row.request_hash == self.hash => Ok(Some((row.status as u16, row.body))),
            Some(_) => Err(ApiError::unprocessable(
                "idempotency_key_reused",
                Msg::new(
                    "Khóa Idempotency-Key đã dùng cho một yêu cầu khác",
                    "This Idempotency-Key was used with another request",
                ),
            )),
        }
    }

    /// Stores the answer of the claimed key, in the transaction of the change it made.
    pub fn remember(&self, conn: &mut DbConn, status: u16, body: &str) -> Result<(), ApiError> {
        p::answer_key(conn, &self.scope, &self.key, i32::from(status), body)?;
        Ok(())
    }
}
