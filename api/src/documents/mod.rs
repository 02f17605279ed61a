//! Documents the portal issues as PDF: the printable forms of procedures, and (with the one-stop
//! documents) what a dossier's handling produces.

pub mod forms;
pub mod pdf;
pub mod slips;

pub use pdf::{Layout, PdfError, Style};
