//! Hand-written SQL that each connection prepares once and then reuses.
//!
//! `diesel::sql_query` is never kept in diesel's statement cache, so PostgreSQL parses and plans
//! such a statement on every call (and SQLite compiles it). A [`TextQuery`] is fixed SQL text
//! whose parameters are all text: diesel caches it by its SQL, so from the second call on a
//! connection runs the prepared statement. It loads rows of any `QueryableByName` type.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// Where a parameter goes in the SQL of a [`TextQuery`].
pub const PARAM: &str = "{}";

/// Fixed SQL with text parameters in the places marked [`PARAM`], in order.
#[derive(Debug, Clone, Copy)]
pub struct TextQuery<'a, const N: usize> {
    sql: &'static str,
    params: [&'a str; N],
}

impl<'a, const N: usize> TextQuery<'a, N> {
    /// Panics if the number of markers is not the number of parameters: the SQL is a constant,
    /// so a mismatch is a programming error that the first test of the query finds.
    pub fn new(sql: &'static str, params: [&'a str; N]) -> Self {
        assert_eq!(sql.matches(PARAM).count(), N, "parameter markers in {sql:?}");
        TextQuery { sql, params }
    }
}

impl<const N: usize> QueryId for TextQuery<'_, N> {
    type QueryId = ();
    // No identity by type: the statement cache keys this query by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<const N: usize> Query for TextQuery<'_, N> {
    type SqlType = Untyped;
}

impl<DB, const N: usize> QueryFragment<DB> for TextQuery<'_, N>
where
    DB: Backend + HasSqlType<Text>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut pieces = self.sql.split(PARAM);
        if let Some(first) = pieces.next() {
            out.push_sql(first);
        }
        for (piece, param) in pieces.zip(self.params.iter()) {
            out.push_bind_param::<Text, str>(param)?;
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<Conn, const N: usize> RunQueryDsl<Conn> for TextQuery<'_, N> {}
