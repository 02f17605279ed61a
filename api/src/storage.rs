//! Uploaded files: checked by their bytes rather than their declared type, and written durably
//! before their row is committed, to a local directory (temporary file, fsync, rename; the
//! embedded default) or to S3-compatible object storage that every server instance shares
//! (`DVC_STORAGE_URL=s3://bucket`). A file whose row is not committed is removed again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use futures_util::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
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

/// Where a stored file lives, to remove it when its row is not committed.
enum Place {
    Disk(PathBuf),
    Object(Arc<dyn ObjectStore>),
}

/// A file written to storage, not yet recorded in the database.
pub struct StoredFile {
    pub key: String,
    pub sha256: String,
    pub size: i64,
    place: Place,
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
        if self.committed {
            return;
        }
        match &self.place {
            Place::Disk(path) => {
                let _ = std::fs::remove_file(path);
            }
            Place::Object(store) => {
                let (store, key) = (store.clone(), ObjectPath::from(self.key.as_str()));
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        if let Err(e) = store.delete(&key).await {
                            tracing::warn!(error = %e, key = %key, "an uncommitted file is left in the store");
                        }
                    });
                }
            }
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
        place: Place::Disk(final_path),
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

/// S3-compatible object storage: the bucket and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// Where uploaded files are kept.
#[derive(Clone)]
pub enum Storage {
    Local(PathBuf),
    Objects(Arc<dyn ObjectStore>),
}

/// The store could not be reached or refused: 503, to be tried again; nothing was recorded. (A
/// recorded file missing from the store is a fault: 500.)
fn store_error(e: object_store::Error) -> ApiError {
    if let object_store::Error::NotFound { .. } = e {
        tracing::error!(error = %e, "a recorded file is missing from the store");
        return ApiError::internal();
    }
    tracing::error!(error = %e, "the file store failed");
    let mut err = ApiError::unavailable();
    err.detail = Msg::new(
        "Kho lưu trữ tệp tạm thời không phản hồi; vui lòng thử lại",
        "The file store is not answering; try again",
    );
    err.retry_after = Some(5);
    err
}

/// A stored file's content, as a stream of chunks.
pub type Content = std::pin::Pin<Box<dyn Stream<Item = Result<web::Bytes, std::io::Error>>>>;

impl Storage {
    /// The object store of `settings`: requests time out and are retried briefly, so that a store
    /// that is down answers 503 within seconds.
    pub fn s3(settings: &S3Settings) -> Result<Self, String> {
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_retry(object_store::RetryConfig {
                backoff: object_store::BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
            })
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(2))
                    .with_timeout(Duration::from_secs(60)),
            );
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| format!("DVC_STORAGE_URL: {e}"))?;
        Ok(Storage::Objects(Arc::new(store)))
    }

    /// Writes a file; when this returns, the file is durable (on disk, or acknowledged by the store).
    pub async fn put(&self, bytes: Vec<u8>) -> Result<StoredFile, ApiError> {
        match self {
            Storage::Local(dir) => {
                let dir = dir.clone();
                web::block(move || store(&dir, &bytes)).await?
            }
            Storage::Objects(objects) => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                let key = format!("{}/{}", &id[..2], id);
                let sha256 = hex::encode(Sha256::digest(&bytes));
                let size = bytes.len() as i64;
                objects.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await.map_err(store_error)?;
                Ok(StoredFile { key, sha256, size, place: Place::Object(objects.clone()), committed: false })
            }
        }
    }

    /// A stored file's content, streamed from the store as it arrives.
    pub async fn get(&self, key: &str) -> Result<Content, ApiError> {
        match self {
            Storage::Local(dir) => {
                let (dir, key) = (dir.clone(), key.to_string());
                let bytes = web::block(move || read(&dir, &key)).await??;
                Ok(Box::pin(futures_util::stream::once(async move { Ok(web::Bytes::from(bytes)) })))
            }
            Storage::Objects(objects) => {
                let found = objects.get(&ObjectPath::from(key)).await.map_err(store_error)?;
                Ok(Box::pin(found.into_stream().map(|chunk| chunk.map_err(std::io::Error::other))))
            }
        }
    }

    /// A stored file's whole content, for work that needs it at once (a PDF to draw).
    pub async fn read_all(&self, key: &str) -> Result<Vec<u8>, ApiError> {
        use futures_util::StreamExt;
        let mut content = self.get(key).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = content.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| {
                tracing::error!(error = %e, "a stored file does not read");
                ApiError::internal()
            })?);
        }
        Ok(bytes)
    }

    /// Copies the files of a local directory into this store, keeping their keys; those already
    /// there are left as they are. Answers how many were copied and how many were there already.
    pub async fn import_local(&self, dir: &Path, keys: &[String]) -> Result<(usize, usize), String> {
        let Storage::Objects(objects) = self else { return Err("DVC_STORAGE_URL names no object store".into()) };
        let (mut copied, mut present) = (0, 0);
        for key in keys {
            let path = ObjectPath::from(key.as_str());
            if objects.head(&path).await.is_ok() {
                present += 1;
                continue;
            }
            let bytes =
                read(dir, key).map_err(|_| format!("{}: cannot read", dir.join("files").join(key).display()))?;
            objects.put(&path, PutPayload::from(bytes)).await.map_err(|e| format!("{key}: {e}"))?;
            copied += 1;
        }
        Ok((copied, present))
    }
}
