//! What administrators add to the search thesaurus.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use dvc_domain::search::EntryKind;

use crate::codes::{Code, Json};
use crate::schema::search_synonyms;
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = search_synonyms)]
pub struct SynonymRow {
    pub position: i32,
    pub kind: Code<EntryKind>,
    pub terms: Json<Vec<String>>,
    pub expansions: Json<Vec<String>>,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// The entries, in their order.
pub fn list_synonyms(conn: &mut DbConn) -> QueryResult<Vec<SynonymRow>> {
    search_synonyms::table.select(SynonymRow::as_select()).order(search_synonyms::position).load(conn)
}

/// Replaces every entry with these, in one transaction.
pub fn replace_synonyms(conn: &mut DbConn, rows: &[SynonymRow]) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(search_synonyms::table).execute(conn)?;
        for chunk in rows.chunks(200) {
            match conn {
                DbConn::Postgres(c) => diesel::insert_into(search_synonyms::table).values(chunk).execute(c)?,
                DbConn::Sqlite(c) => diesel::insert_into(search_synonyms::table).values(chunk).execute(c)?,
            };
        }
        Ok(())
    })
}
