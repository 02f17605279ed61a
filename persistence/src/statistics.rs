//! Service-quality statistics, aggregated by the database: no dossier row is loaded.
//!
//! The queries are plain SQL shared by both backends; the only differences (placeholders and
//! month arithmetic) are filled in per backend. Period bounds are formatted by chrono, never taken
//! from input text; the one value from a request (the agency id) is a bound parameter.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::DbConn;

/// The half-open period `[from, to)` in stored (UTC) time, and the business day overdue is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub report_day: NaiveDate,
}

/// What rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    All,
    Agency,
    Procedure,
    Field,
}

impl Grouping {
    /// The group key, its code and name, and the joins they need; `x` is the aggregated table.
    /// The `GROUP BY` columns (none for the whole), followed by `extra`.
    fn group_by(self, extra: &str) -> String {
        let (key, code, name, _) = self.parts();
        let mut columns: Vec<&str> = if self == Grouping::All { vec![] } else { vec![key, code, name] };
        columns.extend(extra.split(',').map(str::trim).filter(|c| !c.is_empty()));
        if columns.is_empty() {
            String::new()
        } else {
            format!("GROUP BY {}", columns.join(", "))
        }
    }

    fn parts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Grouping::All => ("'all'", "CAST(NULL AS TEXT)", "CAST(NULL AS TEXT)", ""),
            Grouping::Agency => ("x.agency_id", "g.code", "g.name", "LEFT JOIN agencies g ON g.id = x.agency_id"),
            Grouping::Procedure => {
                ("x.procedure_id", "g.code", "g.name", "LEFT JOIN procedures g ON g.id = x.procedure_id")
            }
            Grouping::Field => (
                "p.field_id",
                "g.code",
                "g.name",
                "LEFT JOIN procedures p ON p.id = x.procedure_id LEFT JOIN fields g ON g.id = p.field_id",
            ),
        }
    }
}

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct DossierCounts {
    #[diesel(sql_type = Nullable<Text>)]
    pub group_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub received_online: i64,
    #[diesel(sql_type = BigInt)]
    pub with_fee: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_online: i64,
    #[diesel(sql_type = BigInt)]
    pub finished: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub in_progress: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct RatingCounts {
    #[diesel(sql_type = Nullable<Text>)]
    pub group_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub ratings: i64,
    #[diesel(sql_type = BigInt)]
    pub score_sum: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct FeedbackCounts {
    #[diesel(sql_type = Nullable<Text>)]
    pub group_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub group_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct MonthCounts {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
}

/// A period bound as an SQL literal. Bounds are whole seconds, written without a fraction so that
/// SQLite's text timestamps compare correctly with it.
fn lit(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

/// Runs a statistics query. `:agency` becomes the optional agency filter (a bound parameter) and
/// `:received_month` / `:finished_month` the month, in Vietnamese time, of those columns.
fn load<R>(conn: &mut DbConn, sql: &str, agency: Option<&str>) -> QueryResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    let fill = |placeholder: &str, month: &dyn Fn(&str) -> String| {
        let filter = if agency.is_some() { format!("AND x.agency_id = {placeholder}") } else { String::new() };
        sql.replace(":agency", &filter)
            .replace(":received_month", &month("x.received_at"))
            .replace(":finished_month", &month("x.finished_at"))
    };
    match conn {
        DbConn::Postgres(c) => {
            let sql = fill("$1", &|col| format!("to_char({col} + INTERVAL '7 hours', 'YYYY-MM')"));
            match agency {
                Some(a) => diesel::sql_query(sql).bind::<Text, _>(a).load(c),
                None => diesel::sql_query(sql).load(c),
            }
        }
        DbConn::Sqlite(c) => {
            let sql = fill("?1", &|col| format!("strftime('%Y-%m', {col}, '+7 hours')"));
            match agency {
                Some(a) => diesel::sql_query(sql).bind::<Text, _>(a).load(c),
                None => diesel::sql_query(sql).load(c),
            }
        }
    }
}

/// Dossier counts of a period: received (and how many online, with fees, paid online), finished
/// by the agency (on time or late), and still in progress (and overdue) at the end of the period.
pub fn dossier_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<DossierCounts>> {
    let (key, code, name, join) = grouping.parts();
    let (from, to) = (lit(period.from), lit(period.to));
    let day = format!("'{}'", period.report_day.format("%Y-%m-%d"));
    let received = format!("x.received_at >= {from} AND x.received_at < {to}");
    let finished =
        format!("x.finished_at >= {from} AND x.finished_at < {to} AND x.status IN ('returned', 'rejected', 'stopped')");
    let open = format!("(x.finished_at IS NULL OR x.finished_at >= {to})");
    let group = grouping.group_by("");
    let sql = format!(
        "SELECT {key} AS group_key, {code} AS group_code, {name} AS group_name, \
         COALESCE(SUM(CASE WHEN {received} THEN 1 ELSE 0 END), 0) AS received, \
         COALESCE(SUM(CASE WHEN {received} AND x.channel = 'online' THEN 1 ELSE 0 END), 0) AS received_online, \
         COALESCE(SUM(CASE WHEN {received} AND x.fee_vnd > 0 THEN 1 ELSE 0 END), 0) AS with_fee, \
         COALESCE(SUM(CASE WHEN {received} AND x.fee_vnd > 0 AND EXISTS (SELECT 1 FROM payments py \
           WHERE py.dossier_id = x.id AND py.status IN ('paid', 'refunded')) THEN 1 ELSE 0 END), 0) AS paid_online, \
         COALESCE(SUM(CASE WHEN {finished} THEN 1 ELSE 0 END), 0) AS finished, \
         COALESCE(SUM(CASE WHEN {finished} AND x.timeliness IN ('early', 'on_time') THEN 1 ELSE 0 END), 0) AS on_time, \
         COALESCE(SUM(CASE WHEN {finished} AND x.timeliness = 'late' THEN 1 ELSE 0 END), 0) AS late, \
         COALESCE(SUM(CASE WHEN {open} THEN 1 ELSE 0 END), 0) AS in_progress, \
         COALESCE(SUM(CASE WHEN {open} AND x.timeliness IS NULL AND x.status IN ('received', 'processing') \
           AND x.due_date < {day} THEN 1 ELSE 0 END), 0) AS overdue \
         FROM dossiers x {join} \
         WHERE x.submitted_at < {to} AND (x.finished_at IS NULL OR x.finished_at >= {from}) :agency \
         {group}"
    );
    load(conn, &sql, agency)
}

/// Ratings given in the period: how many and the sum of scores.
pub fn rating_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<RatingCounts>> {
    let (key, code, name, join) = grouping.parts();
    let (from, to) = (lit(period.from), lit(period.to));
    let group = grouping.group_by("");
    let sql = format!(
        "SELECT {key} AS group_key, {code} AS group_code, {name} AS group_name, \
         COUNT(*) AS ratings, COALESCE(SUM(x.score), 0) AS score_sum \
         FROM ratings x {join} \
         WHERE x.created_at >= {from} AND x.created_at < {to} :agency \
         {group}"
    );
    load(conn, &sql, agency)
}

/// Feedback filed in the period, counted by kind and present state.
pub fn feedback_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<FeedbackCounts>> {
    let (key, code, name, join) = grouping.parts();
    let (from, to) = (lit(period.from), lit(period.to));
    let group = grouping.group_by("x.kind, x.status");
    let sql = format!(
        "SELECT {key} AS group_key, {code} AS group_code, {name} AS group_name, x.kind AS kind, \
         x.status AS status, COUNT(*) AS n \
         FROM feedback x {join} \
         WHERE x.created_at >= {from} AND x.created_at < {to} :agency \
         {group}"
    );
    load(conn, &sql, agency)
}

/// Per month (Vietnamese time) of the period: dossiers received, and finished on time or late.
pub fn monthly(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<Vec<MonthCounts>> {
    let (from, to) = (lit(period.from), lit(period.to));
    let sql = format!(
        "SELECT m AS month, SUM(r) AS received, SUM(o) AS on_time, SUM(l) AS late FROM ( \
           SELECT :received_month AS m, 1 AS r, 0 AS o, 0 AS l FROM dossiers x \
           WHERE x.received_at >= {from} AND x.received_at < {to} :agency \
           UNION ALL \
           SELECT :finished_month AS m, 0 AS r, \
             CASE WHEN x.timeliness IN ('early', 'on_time') THEN 1 ELSE 0 END AS o, \
             CASE WHEN x.timeliness = 'late' THEN 1 ELSE 0 END AS l FROM dossiers x \
           WHERE x.finished_at >= {from} AND x.finished_at < {to} \
             AND x.status IN ('returned', 'rejected', 'stopped') :agency \
         ) s GROUP BY m ORDER BY m"
    );
    load(conn, &sql, agency)
}
