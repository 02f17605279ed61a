//! Reading multipart uploads with limits on what one request can cost: the parts an operation
//! names and no others, a few of them, one file, the file and each text field capped; every
//! refusal is known from a part's headers or its first bytes past the cap, never after buffering.

use actix_multipart::Multipart;
use dvc_domain::FieldError;
use futures_util::StreamExt;

use crate::error::{ApiError, Msg};

/// The parts of an upload: text fields and at most one file.
#[derive(Default)]
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub file: Option<(String, Vec<u8>)>,
}

impl Upload {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }
}

fn malformed() -> ApiError {
    ApiError::bad_request(Msg::new("Dữ liệu multipart không hợp lệ", "Malformed multipart body"))
}

/// The most parts an upload may have.
pub const MAX_PARTS: usize = 8;
/// The longest text field of an upload.
pub const MAX_TEXT: usize = 4096;

/// The whole body's limit before any of it is read: the file, the text fields and the framing.
pub fn max_body(max_file: usize) -> usize {
    max_file + MAX_PARTS * (MAX_TEXT + 1024)
}

/// 413 at once when the declared length is over what an upload of `max_file` can be.
pub fn check_length(req: &actix_web::HttpRequest, max_file: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > max_body(max_file) => Err(ApiError::payload_too_large()),
        _ => Ok(()),
    }
}

/// Reads the upload: only the parts named in `names` (a file only as `file`), at most
/// [`MAX_PARTS`], one file of at most `max_file` bytes (413 beyond), text fields of at most
/// [`MAX_TEXT`] bytes.
pub async fn read(mut payload: Multipart, max_file: usize, names: &[&str]) -> Result<Upload, ApiError> {
    let mut upload = Upload::default();
    let mut parts = 0;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| malformed())?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::field(FieldError::new(
                "parts",
                "too_many_parts",
                format!("Tối đa {MAX_PARTS} phần"),
                format!("{MAX_PARTS} parts at most"),
            )));
        }
        let name = field.name().map(str::to_string).unwrap_or_default();
        let filename = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
        if !names.contains(&name.as_str()) || (filename.is_some() && name != "file") {
            return Err(ApiError::field(FieldError::new(
                name,
                "unknown_part",
                format!("Chỉ nhận các phần: {}", names.join(", ")),
                format!("Only these parts are accepted: {}", names.join(", ")),
            )));
        }
        if filename.is_some() && upload.file.is_some() {
            return Err(ApiError::field(FieldError::new(
                "file",
                "one_file",
                "Chỉ gửi một tệp mỗi lần",
                "Send one file at a time",
            )));
        }
        let limit = if filename.is_some() { max_file } else { MAX_TEXT };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| malformed())?;
            if bytes.len() + chunk.len() > limit {
                return Err(if filename.is_some() {
                    ApiError::payload_too_large()
                } else {
                    ApiError::field(FieldError::too_long(&name, limit))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match filename {
            Some(filename) => {
                upload.file = Some((sanitize_filename(&filename), bytes));
            }
            _ => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    ApiError::field(FieldError::new(
                        name.clone(),
                        "invalid_utf8",
                        "Không phải văn bản UTF-8",
                        "Not UTF-8 text",
                    ))
                })?;
                upload.fields.push((name, text));
            }
        }
    }
    Ok(upload)
}

/// Keeps the last path component and drops control characters.
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() || clean == "." || clean == ".." {
        "tep-dinh-kem".into()
    } else {
        clean
    }
}
