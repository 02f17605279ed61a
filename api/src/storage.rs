//! Uploaded files on disk: written durably (temporary file, fsync, rename) before their row is
//! committed, checked by their bytes rather than their declared type.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{ApiError, Msg};

/// The types accepted for dossier documents, as sniffed from the bytes.
pub const ALLOWED: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
];

/// The content type of a document, from its first bytes; refused when not an accepted kind.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, ApiError> {
    let kind = infer::get(bytes).map(|k| k.mime_type());
    match kind.and_then(|m| ALLOWED.iter().find(|a| **a == m)) {
        Some(m) => Ok(m),
        None => Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            Msg::new("Loại tệp không được chấp nhận", "File type not accepted"),
            Msg::new(
                "Chỉ nhận tệp PDF, JPEG, PNG, TIFF, DOCX hoặc ODT (kiểm tra theo nội dung tệp)",
                "Only PDF, JPEG, PNG, TIFF, DOCX or ODT files are accepted (checked from the content)",
            ),
        )),
    }
}

/// A file written to disk, not yet recorded in the database.
pub struct StoredFile {
    pub key: String,
    pub sha256: String,
    pub size: i64,
    path: PathBuf,
    committed: bool,
}

impl StoredFile {
    /// Keeps the file: its row is committed.
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for StoredFile {
    /// A file whose row was not committed is removed, so that nothing is orphaned.
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot store an uploaded file");
    ApiError::internal()
}

/// Writes `bytes` under `data_dir`: to a temporary file, fsync, rename into place, fsync the directory.
pub fn store(data_dir: &Path, bytes: &[u8]) -> Result<StoredFile, ApiError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("{}/{}", &id[..2], id);
    let tmp_dir = data_dir.join("tmp");
    let final_path = data_dir.join("files").join(&key);
    let final_dir = final_path.parent().map(Path::to_path_buf).unwrap_or_else(|| data_dir.to_path_buf());
    std::fs::create_dir_all(&tmp_dir).map_err(io_error)?;
    std::fs::create_dir_all(&final_dir).map_err(io_error)?;
    let tmp_path = tmp_dir.join(&id);
    let mut file = std::fs::File::create(&tmp_path).map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    drop(file);
    std::fs::rename(&tmp_path, &final_path).map_err(io_error)?;
    std::fs::File::open(&final_dir).and_then(|d| d.sync_all()).map_err(io_error)?;
    Ok(StoredFile {
        key,
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as i64,
        path: final_path,
        committed: false,
    })
}

/// Reads a stored file.
pub fn read(data_dir: &Path, key: &str) -> Result<Vec<u8>, ApiError> {
    if key.contains("..") {
        return Err(ApiError::internal());
    }
    std::fs::read(data_dir.join("files").join(key)).map_err(io_error)
}
