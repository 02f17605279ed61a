//! Hand-written SQL that each connection prepares once and then reuses.
//!
//! `diesel::sql_query` is never kept in diesel's statement cache, nor are diesel's `UPDATE`s and
//! inserts of optional values, so PostgreSQL parses and plans such a statement on every call (and
//! SQLite compiles it). A [`Prepared`] statement is fixed SQL text with typed parameters: diesel
//! caches it by its SQL, so from the second call on a connection runs the prepared statement. The
//! number of rows a statement reads or writes does not change its text: several rows go in as
//! arrays (PostgreSQL's `unnest(..)`), or as one JSON array on SQLite (`json_each(..)`). Keys to
//! look up go in as a list of separate parameters of one of a few lengths ([`keyed`]): with an
//! array, PostgreSQL's plan for the values at hand (which knows how many there are) always looks
//! cheaper than the generic plan, so it planned such a statement again on every call. It loads
//! rows of any `QueryableByName` type.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Bool, Date, HasSqlType, Integer, Nullable, Text, Timestamp, Untyped};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use crate::DbConn;

/// Where a parameter goes in the SQL of a [`Prepared`] statement.
pub const PARAM: &str = "{}";

/// A parameter of a [`Prepared`] statement.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i32),
    BigInt(i64),
    Bool(bool),
    Timestamp(NaiveDateTime),
    OptTimestamp(Option<NaiveDateTime>),
    Date(NaiveDate),
    OptDate(Option<NaiveDate>),
    /// The arrays are PostgreSQL's only (a statement for SQLite that names one fails).
    Texts(&'a [String]),
    OptTexts(&'a [Option<String>]),
    Ints(&'a [i32]),
    BigInts(&'a [i64]),
    Timestamps(&'a [NaiveDateTime]),
    OptTimestamps(&'a [Option<NaiveDateTime>]),
    OptDates(&'a [Option<NaiveDate>]),
}

/// Fixed SQL with parameters in the places marked [`PARAM`], in order.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    sql: &'a str,
    binds: Vec<Bind<'a>>,
}

impl<'a> Prepared<'a> {
    /// Panics if the number of markers is not the number of parameters: the SQL is fixed, so a
    /// mismatch is a programming error that the first test of the statement finds.
    pub fn new(sql: &'a str, binds: Vec<Bind<'a>>) -> Self {
        assert_eq!(sql.matches(PARAM).count(), binds.len(), "parameter markers in {sql:?}");
        Prepared { sql, binds }
    }

    /// The rows the statement answers, on either backend.
    pub fn load<T>(self, conn: &mut DbConn) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        match conn {
            DbConn::Postgres(c) => RunQueryDsl::load(self, c),
            DbConn::Sqlite(c) => RunQueryDsl::load(self, c),
        }
    }

    /// Runs the statement; the number of rows it changed.
    pub fn execute(self, conn: &mut DbConn) -> QueryResult<usize> {
        match conn {
            DbConn::Postgres(c) => ExecuteDsl::execute(self, c),
            DbConn::Sqlite(c) => ExecuteDsl::execute(self, c),
        }
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // No identity by type: the statement cache keys this statement by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

/// How a backend binds the arrays of [`Bind`].
pub trait ArrayBinds: Backend {
    fn push_array<'b>(out: &mut AstPass<'_, 'b, Self>, bind: &'b Bind<'_>) -> QueryResult<()>;
}

impl ArrayBinds for Pg {
    fn push_array<'b>(out: &mut AstPass<'_, 'b, Pg>, bind: &'b Bind<'_>) -> QueryResult<()> {
        match bind {
            Bind::Texts(v) => out.push_bind_param::<Array<Text>, [String]>(v),
            Bind::OptTexts(v) => out.push_bind_param::<Array<Nullable<Text>>, [Option<String>]>(v),
            Bind::Ints(v) => out.push_bind_param::<Array<Integer>, [i32]>(v),
            Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, [i64]>(v),
            Bind::Timestamps(v) => out.push_bind_param::<Array<Timestamp>, [NaiveDateTime]>(v),
            Bind::OptTimestamps(v) => out.push_bind_param::<Array<Nullable<Timestamp>>, [Option<NaiveDateTime>]>(v),
            Bind::OptDates(v) => out.push_bind_param::<Array<Nullable<Date>>, [Option<NaiveDate>]>(v),
            scalar => Err(diesel::result::Error::QueryBuilderError(format!("{scalar:?} is not an array").into())),
        }
    }
}

impl ArrayBinds for Sqlite {
    fn push_array<'b>(_: &mut AstPass<'_, 'b, Sqlite>, _: &'b Bind<'_>) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError("SQLite has no array parameters; pass a JSON array".into()))
    }
}

impl<DB> QueryFragment<DB> for Prepared<'_>
where
    DB: ArrayBinds
        + HasSqlType<Text>
        + HasSqlType<Integer>
        + HasSqlType<BigInt>
        + HasSqlType<Bool>
        + HasSqlType<Timestamp>
        + HasSqlType<Date>,
    str: ToSql<Text, DB>,
    i32: ToSql<Integer, DB>,
    i64: ToSql<BigInt, DB>,
    bool: ToSql<Bool, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    NaiveDate: ToSql<Date, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut pieces = self.sql.split(PARAM);
        if let Some(first) = pieces.next() {
            out.push_sql(first);
        }
        for (piece, bind) in pieces.zip(self.binds.iter()) {
            match bind {
                Bind::Text(v) => out.push_bind_param::<Text, str>(v)?,
                Bind::OptText(v) => out.push_bind_param::<Nullable<Text>, Option<&str>>(v)?,
                Bind::Int(v) => out.push_bind_param::<Integer, i32>(v)?,
                Bind::BigInt(v) => out.push_bind_param::<BigInt, i64>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, bool>(v)?,
                Bind::Timestamp(v) => out.push_bind_param::<Timestamp, NaiveDateTime>(v)?,
                Bind::OptTimestamp(v) => out.push_bind_param::<Nullable<Timestamp>, Option<NaiveDateTime>>(v)?,
                Bind::Date(v) => out.push_bind_param::<Date, NaiveDate>(v)?,
                Bind::OptDate(v) => out.push_bind_param::<Nullable<Date>, Option<NaiveDate>>(v)?,
                arrays => DB::push_array(&mut out, arrays)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

/// One field of every row, as the array a statement's `unnest` takes.
pub fn column<R, T: Clone>(rows: &[R], field: fn(&R) -> &T) -> Vec<T> {
    rows.iter().map(|r| field(r).clone()).collect()
}

/// Values as one JSON array, the way SQLite takes a list of parameters (`json_each`).
pub fn json_array(values: &[String]) -> QueryResult<String> {
    serde_json::to_string(values).map_err(|e| diesel::result::Error::SerializationError(e.into()))
}

/// The texts of one statement that ends in a list of parameters, `head` then `{}, {}, ...` then
/// `tail`, for each of [`LIST_LENGTHS`]: what [`keyed`] runs. With an `item` (such as
/// `"({}, {})"`), the list is of that item.
#[macro_export]
macro_rules! listed_statement {
    (@lists $head:expr, $item:expr, $tail:expr; $($more:literal),*) => {
        [$(const_format::concatcp!(
            $head,
            $item,
            const_format::str_repeat!(const_format::concatcp!(", ", $item), $more),
            $tail
        )),*]
    };
    ($head:expr, $tail:expr) => {
        $crate::listed_statement!($head, "{}", $tail)
    };
    // The items after the first, for each of `LIST_LENGTHS`.
    ($head:expr, $item:expr, $tail:expr) => {
        $crate::listed_statement!(@lists $head, $item, $tail; 0, 1, 3, 7, 15, 31, 63)
    };
}

/// The lengths of the parameter lists of a [`listed_statement!`].
pub const LIST_LENGTHS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// The longest list: more items go in runs of this many.
pub const LONGEST_LIST: usize = LIST_LENGTHS[LIST_LENGTHS.len() - 1];

/// Which of the [`LIST_LENGTHS`] holds `n` items (`n` at most 64).
pub fn list_slot(n: usize) -> usize {
    LIST_LENGTHS.iter().position(|l| *l >= n).unwrap_or(LIST_LENGTHS.len() - 1)
}

/// The rows of a statement made by [`listed_statement!`] for these keys: each run of up to 64 keys
/// in the shortest list that holds it, the last key repeated to fill it.
///
/// A list of separate parameters, unlike an array (`= ANY(..)`), is estimated alike whatever the
/// values, so PostgreSQL soon keeps one generic plan for each length instead of planning the
/// statement again on every call; the few lengths keep few statements prepared.
pub fn keyed<T>(conn: &mut DbConn, texts: &[&'static str; 7], keys: &[String]) -> QueryResult<Vec<T>>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    keyed_after(conn, texts, &[], keys)
}

/// As [`keyed`], with the parameters `first` in the head of the statement, before the list.
pub fn keyed_after<T>(
    conn: &mut DbConn,
    texts: &[&'static str; 7],
    first: &[Bind<'_>],
    keys: &[String],
) -> QueryResult<Vec<T>>
where
    T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    let mut out = Vec::new();
    for run in keys.chunks(LONGEST_LIST) {
        let Some(last) = run.last() else { continue };
        let slot = list_slot(run.len());
        let mut binds: Vec<Bind> = first.to_vec();
        binds
            .extend(run.iter().chain(std::iter::repeat(last)).take(LIST_LENGTHS[slot]).map(|k| Bind::Text(k.as_str())));
        out.extend(Prepared::new(texts[slot], binds).load::<T>(conn)?);
    }
    Ok(out)
}
