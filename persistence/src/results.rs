//! Registered result documents: what verifies them, and their revocation.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::signed_results;
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signed_results)]
pub struct SignedResultRow {
    pub verification_code: String,
    pub file_id: String,
    pub dossier_id: String,
    pub agency_id: String,
    pub sha256: String,
    pub filename: String,
    pub holder_name: String,
    pub issued_at: NaiveDateTime,
    pub signed_text: String,
    pub algorithm: Option<String>,
    pub signature: Option<String>,
    pub certificate_pem: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &SignedResultRow) -> QueryResult<()> {
    diesel::insert_into(signed_results::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, code: &str) -> QueryResult<Option<SignedResultRow>> {
    signed_results::table.find(code).select(SignedResultRow::as_select()).first(conn).optional()
}

/// The registration of these bytes, the newest when the same bytes were issued more than once.
pub fn find_by_sha256(conn: &mut DbConn, sha256: &str) -> QueryResult<Option<SignedResultRow>> {
    signed_results::table
        .filter(signed_results::sha256.eq(sha256))
        .order(signed_results::issued_at.desc())
        .select(SignedResultRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_file(conn: &mut DbConn, file_id: &str) -> QueryResult<Option<SignedResultRow>> {
    signed_results::table
        .filter(signed_results::file_id.eq(file_id))
        .select(SignedResultRow::as_select())
        .first(conn)
        .optional()
}

/// Verification codes of files, for lists of documents.
pub fn codes_of_files(conn: &mut DbConn, file_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    signed_results::table
        .filter(signed_results::file_id.eq_any(file_ids))
        .select((signed_results::file_id, signed_results::verification_code))
        .load(conn)
}

/// Revokes a result not yet revoked; false when it already was.
pub fn revoke(conn: &mut DbConn, code: &str, by: &str, reason: &str, at: NaiveDateTime) -> QueryResult<bool> {
    use signed_results::dsl as s;
    let n = diesel::update(s::signed_results.find(code).filter(s::revoked_at.is_null()))
        .set((s::revoked_at.eq(at), s::revoked_by.eq(by), s::revoke_reason.eq(reason)))
        .execute(conn)?;
    Ok(n == 1)
}
