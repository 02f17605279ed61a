//! Reading multipart uploads with a size limit, answering bad input with problem+json.

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

/// Reads the whole upload, refusing a file over `max_file` bytes with 413.
pub async fn read(mut payload: Multipart, max_file: usize) -> Result<Upload, ApiError> {
    let mut upload = Upload::default();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| malformed())?;
        let name = field.name().map(str::to_string).unwrap_or_default();
        let filename = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_string);
        let limit = if filename.is_some() { max_file } else { 4096 };
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
            Some(filename) if name == "file" => {
                if upload.file.is_some() {
                    return Err(ApiError::field(FieldError::new(
                        "file",
                        "one_file",
                        "Chỉ gửi một tệp mỗi lần",
                        "Send one file at a time",
                    )));
                }
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
