//! Documents the portal issues as PDF: the printable forms of procedures, and (with the one-stop
//! documents) what a dossier's handling produces.

pub mod copy;
pub mod forms;
pub mod pdf;
pub mod slips;

pub use pdf::{Layout, PdfError, Style};

/// A PDF rendered on a blocking thread, answered as a file named `file_name` (`inline` to show,
/// `attachment` to save); a rendering failure is logged with `what` and answered 500.
pub async fn pdf_answer<F>(
    what: &'static str,
    file_name: &str,
    disposition: &str,
    render: F,
) -> Result<actix_web::HttpResponse, crate::error::ApiError>
where
    F: FnOnce() -> Result<Vec<u8>, PdfError> + Send + 'static,
{
    let pdf = actix_web::web::block(render).await?.map_err(|e| {
        tracing::error!(error = %e.0, what, "a PDF does not render");
        crate::error::ApiError::internal()
    })?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{file_name}\""),
        ))
        .body(pdf))
}
