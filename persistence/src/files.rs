//! Stored files and what they are attached to: an applicant's documents and an agency's results.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{dossier_attachments, files};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = files)]
pub struct FileRow {
    pub id: String,
    pub owner_id: Option<String>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where the bytes are, relative to the data directory.
    pub storage_key: String,
    /// 0 not digitised, 1 digitised, 2 reused, 3 reused from another dossier's result.
    pub digitization: i32,
    pub created_at: NaiveDateTime,
}

pub fn insert_file(conn: &mut DbConn, row: &FileRow) -> QueryResult<()> {
    diesel::insert_into(files::table).values(row).execute(conn).map(|_| ())
}

pub fn find_file(conn: &mut DbConn, id: &str) -> QueryResult<Option<FileRow>> {
    files::table.find(id).select(FileRow::as_select()).first(conn).optional()
}

pub fn files_of_owner(conn: &mut DbConn, owner_id: &str, offset: i64, limit: i64) -> QueryResult<(Vec<FileRow>, i64)> {
    let total = files::table.filter(files::owner_id.eq(owner_id)).count().get_result(conn)?;
    let rows = files::table
        .filter(files::owner_id.eq(owner_id))
        .order((files::created_at.desc(), files::id))
        .offset(offset)
        .limit(limit)
        .select(FileRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub dossier_id: String,
    /// The required-document slot of the procedure (`TK-KS`), or `result` for results.
    pub document_id: String,
    pub file_id: String,
    /// `applicant` (an attachment) or `result` (issued by the agency).
    pub kind: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The kind of an attachment the applicant made.
pub const APPLICANT: &str = "applicant";
/// The kind of a result document the agency issued.
pub const RESULT: &str = "result";

pub fn insert_attachment(conn: &mut DbConn, row: &AttachmentRow) -> QueryResult<()> {
    diesel::insert_into(dossier_attachments::table).values(row).execute(conn).map(|_| ())
}

/// Attachments of a dossier with their files.
pub fn attachments(conn: &mut DbConn, dossier_id: &str, kind: &str) -> QueryResult<Vec<(AttachmentRow, FileRow)>> {
    dossier_attachments::table
        .inner_join(files::table)
        .filter(dossier_attachments::dossier_id.eq(dossier_id))
        .filter(dossier_attachments::kind.eq(kind))
        .order((dossier_attachments::created_at, dossier_attachments::id))
        .select((AttachmentRow::as_select(), FileRow::as_select()))
        .load(conn)
}

/// The attachments (every kind) of several dossiers, in upload order.
pub fn attachments_of(conn: &mut DbConn, dossier_ids: &[String]) -> QueryResult<Vec<(AttachmentRow, FileRow)>> {
    dossier_attachments::table
        .inner_join(files::table)
        .filter(dossier_attachments::dossier_id.eq_any(dossier_ids))
        .order((dossier_attachments::created_at, dossier_attachments::id))
        .select((AttachmentRow::as_select(), FileRow::as_select()))
        .load(conn)
}

pub fn delete_attachment(conn: &mut DbConn, dossier_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(dossier_attachments::table.find(id).filter(dossier_attachments::dossier_id.eq(dossier_id)))
        .execute(conn)
}

/// Total bytes attached to a dossier (for the per-dossier limit).
pub fn attached_bytes(conn: &mut DbConn, dossier_id: &str) -> QueryResult<i64> {
    let sizes: Vec<i64> = dossier_attachments::table
        .inner_join(files::table)
        .filter(dossier_attachments::dossier_id.eq(dossier_id))
        .select(files::size)
        .load(conn)?;
    Ok(sizes.into_iter().sum())
}

/// The storage key of every file the database records.
pub fn all_storage_keys(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    files::table.select(files::storage_key).order(files::created_at).load(conn)
}
