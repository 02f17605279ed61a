//! Service-quality statistics, read from the per-day rollups that the database keeps in the
//! transaction of every change (migration `statistics_rollups`): a report reads days × groups, not
//! dossiers, so it costs the same however many dossiers there are.
//!
//! Each statement is fixed text, one per grouping; the period, the report day and the agency are
//! bound parameters. [`scan`] counts the same over the stored rows, with the codes it compares
//! against taken from the domain's enums at compile time.

use chrono::{NaiveDate, NaiveDateTime};
use const_format::concatcp;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use dvc_domain::dossier::{Channel, Timeliness};
use dvc_domain::payment::PaymentStatus;
use dvc_domain::workflow::DossierStatus;

use crate::prepared::{Bind, Prepared};
use crate::DbConn;

/// A period of whole Vietnamese days: `first_day..=last_day`, the same as the half-open `[from, to)`
/// in stored (UTC) time, and the business day overdue is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub report_day: NaiveDate,
}

impl Period {
    /// The days `first_day..=last_day`, overdue judged on `report_day`.
    pub fn of_days(first_day: NaiveDate, last_day: NaiveDate, report_day: NaiveDate) -> Self {
        let midnight = |d: NaiveDate| dvc_domain::time::utc_of_local(d.and_time(chrono::NaiveTime::MIN));
        let after = last_day.succ_opt().unwrap_or(last_day);
        Period { first_day, last_day, from: midnight(first_day), to: midnight(after), report_day }
    }
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
    fn index(self) -> usize {
        match self {
            Grouping::All => 0,
            Grouping::Agency => 1,
            Grouping::Procedure => 2,
            Grouping::Field => 3,
        }
    }
}

/// The same statement for each grouping: `$select` is followed by the group's key, code and name,
/// `$from` by the joins the group needs and `$where`, then its `GROUP BY` columns and `$extra`
/// (columns every grouping groups by; `$extra_alone` is the `GROUP BY` of the ungrouped statement).
macro_rules! per_grouping {
    ($select:expr, $from:expr, $where:expr, $extra_alone:expr, $extra:expr) => {
        [
            concatcp!(
                $select,
                "'all' AS group_key, CAST(NULL AS TEXT) AS group_code, CAST(NULL AS TEXT) AS group_name",
                $from,
                $where,
                $extra_alone
            ),
            concatcp!(
                $select,
                "x.agency_id AS group_key, g.code AS group_code, g.name AS group_name",
                $from,
                " LEFT JOIN agencies g ON g.id = x.agency_id",
                $where,
                " GROUP BY x.agency_id, g.code, g.name",
                $extra
            ),
            concatcp!(
                $select,
                "x.procedure_id AS group_key, g.code AS group_code, g.name AS group_name",
                $from,
                " LEFT JOIN procedures g ON g.id = x.procedure_id",
                $where,
                " GROUP BY x.procedure_id, g.code, g.name",
                $extra
            ),
            concatcp!(
                $select,
                "p.field_id AS group_key, g.code AS group_code, g.name AS group_name",
                $from,
                " LEFT JOIN procedures p ON p.id = x.procedure_id LEFT JOIN fields g ON g.id = p.field_id",
                $where,
                " GROUP BY p.field_id, g.code, g.name",
                $extra
            ),
        ]
    };
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

/// The filter of one agency, or none, on a rollup's rows (two parameters).
const AGENCY_ROWS: &str = " AND ({} IS NULL OR agency_id = {})";
/// Rollup rows of agencies' totals (reports per agency or of everything) and of procedures
/// (reports per procedure or field).
const AGENCY_LEVEL: &str = "procedure_id = ''";
const PROCEDURE_LEVEL: &str = "procedure_id <> ''";

/// The statement of each grouping from the rows it reads: agencies' totals for everything and per
/// agency, procedure rows per procedure and per field.
const fn by_level(agency_level: [&'static str; 4], procedure_level: [&'static str; 4]) -> [&'static str; 4] {
    [agency_level[0], agency_level[1], procedure_level[2], procedure_level[3]]
}

/// The counts of dossiers from the rollups: the period's days for what happened in it, every day
/// up to its end for what is open at its end, and the due dates before the report day for what
/// is overdue, less those submitted after the period or finished within it. Parameters: the first
/// day ×7, the last day, the agency ×2; the report day, the agency ×2; the last day, the report
/// day, the agency ×2; the last day ×2, the report day, the agency ×2.
macro_rules! dossier_rollup_rows {
    ($level:expr) => {
        concatcp!(
            // Each part sums its rows per procedure and agency first (parameters: first day, last
            // day, agency ×2; first day, agency ×2; report day, agency ×2; last day, report day,
            // agency ×2; last day ×2, report day, agency ×2): the days of the period, the days
            // before it (what was still open), then the due dates and running dossiers.
            " FROM (SELECT procedure_id, agency_id, SUM(received) AS received, \
               SUM(received_online) AS received_online, SUM(with_fee) AS with_fee, \
               SUM(paid_online) AS paid_online, SUM(finished) AS finished, SUM(on_time) AS on_time, \
               SUM(late) AS late, SUM(submitted - closed) AS in_progress, 0 AS overdue \
             FROM dossier_days WHERE ",
            $level,
            " AND day >= {} AND day <= {}",
            AGENCY_ROWS,
            BY_PROCEDURE_AND_AGENCY,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, SUM(submitted - closed), 0 \
             FROM dossier_days WHERE ",
            $level,
            " AND day < {}",
            AGENCY_ROWS,
            BY_PROCEDURE_AND_AGENCY,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, 0, SUM(n) FROM dossier_due WHERE ",
            $level,
            " AND due_date < {}",
            AGENCY_ROWS,
            BY_PROCEDURE_AND_AGENCY,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, 0, -SUM(n) FROM dossier_running WHERE ",
            $level,
            " AND submitted_day > {} AND due_date < {}",
            AGENCY_ROWS,
            BY_PROCEDURE_AND_AGENCY,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, 0, -SUM(n) FROM dossier_running WHERE ",
            $level,
            " AND finished_day <= {} AND submitted_day <= {} AND due_date < {}",
            AGENCY_ROWS,
            BY_PROCEDURE_AND_AGENCY,
            ") x"
        )
    };
}

const BY_PROCEDURE_AND_AGENCY: &str = " GROUP BY procedure_id, agency_id";

const DOSSIER_SUMS: &str = "CAST(COALESCE(SUM(x.received), 0) AS BIGINT) AS received, \
     CAST(COALESCE(SUM(x.received_online), 0) AS BIGINT) AS received_online, \
     CAST(COALESCE(SUM(x.with_fee), 0) AS BIGINT) AS with_fee, \
     CAST(COALESCE(SUM(x.paid_online), 0) AS BIGINT) AS paid_online, \
     CAST(COALESCE(SUM(x.finished), 0) AS BIGINT) AS finished, \
     CAST(COALESCE(SUM(x.on_time), 0) AS BIGINT) AS on_time, \
     CAST(COALESCE(SUM(x.late), 0) AS BIGINT) AS late, \
     CAST(COALESCE(SUM(x.in_progress), 0) AS BIGINT) AS in_progress, \
     CAST(COALESCE(SUM(x.overdue), 0) AS BIGINT) AS overdue ";
/// Groups with nothing to count are left out, as the rollups keep days of every group.
const DOSSIER_SOMETHING: &str = " HAVING SUM(x.received) <> 0 OR SUM(x.finished) <> 0 OR SUM(x.in_progress) <> 0 \
     OR SUM(x.overdue) <> 0";

const DOSSIER_AGENCY_LEVEL: [&str; 4] = per_grouping!(
    "SELECT ",
    concatcp!(", ", DOSSIER_SUMS, dossier_rollup_rows!(AGENCY_LEVEL)),
    "",
    "",
    DOSSIER_SOMETHING
);
const DOSSIER_PROCEDURE_LEVEL: [&str; 4] = per_grouping!(
    "SELECT ",
    concatcp!(", ", DOSSIER_SUMS, dossier_rollup_rows!(PROCEDURE_LEVEL)),
    "",
    "",
    DOSSIER_SOMETHING
);
const DOSSIER_STATEMENTS: [&str; 4] = by_level(DOSSIER_AGENCY_LEVEL, DOSSIER_PROCEDURE_LEVEL);

fn agency_binds<'a>(agency: Option<&'a str>) -> [Bind<'a>; 2] {
    [Bind::OptText(agency), Bind::OptText(agency)]
}

/// Dossier counts of a period: received (and how many online, with fees, paid online), finished
/// by the agency (on time or late), and still in progress (and overdue) at the end of the period.
/// Read from the per-day rollups; [`scan::dossier_counts`] is the same over the dossiers.
pub fn dossier_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<DossierCounts>> {
    let (first, last) = (Bind::Date(period.first_day), Bind::Date(period.last_day));
    let mut binds = vec![first, last];
    binds.extend(agency_binds(agency));
    binds.push(first);
    binds.extend(agency_binds(agency));
    let report = Bind::Date(period.report_day);
    binds.push(report);
    binds.extend(agency_binds(agency));
    binds.extend([last, report]);
    binds.extend(agency_binds(agency));
    binds.extend([last, last, report]);
    binds.extend(agency_binds(agency));
    Prepared::new(DOSSIER_STATEMENTS[grouping.index()], binds).load(conn)
}

/// The rows of a period's days in a rollup (parameters: first day, last day, agency ×2).
macro_rules! days_of_period {
    ($level:expr) => {
        concatcp!(" WHERE ", $level, " AND day >= {} AND day <= {}", AGENCY_ROWS)
    };
}

fn period_binds<'a>(period: Period, agency: Option<&'a str>) -> Vec<Bind<'a>> {
    let mut binds = vec![Bind::Date(period.first_day), Bind::Date(period.last_day)];
    binds.extend(agency_binds(agency));
    binds
}

macro_rules! rating_statements {
    ($level:expr) => {
        per_grouping!(
            "SELECT ",
            concatcp!(
                ", CAST(COALESCE(SUM(x.ratings), 0) AS BIGINT) AS ratings, \
                 CAST(COALESCE(SUM(x.score_sum), 0) AS BIGINT) AS score_sum \
                 FROM (SELECT procedure_id, agency_id, ratings, score_sum FROM rating_days",
                days_of_period!($level),
                ") x"
            ),
            "",
            "",
            " HAVING SUM(x.ratings) <> 0"
        )
    };
}
const RATING_AGENCY_LEVEL: [&str; 4] = rating_statements!(AGENCY_LEVEL);
const RATING_PROCEDURE_LEVEL: [&str; 4] = rating_statements!(PROCEDURE_LEVEL);
const RATING_STATEMENTS: [&str; 4] = by_level(RATING_AGENCY_LEVEL, RATING_PROCEDURE_LEVEL);

/// Ratings given in the period: how many and the sum of scores.
pub fn rating_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<RatingCounts>> {
    Prepared::new(RATING_STATEMENTS[grouping.index()], period_binds(period, agency)).load(conn)
}

macro_rules! feedback_statements {
    ($level:expr) => {
        per_grouping!(
            "SELECT ",
            concatcp!(
                ", x.kind AS kind, x.status AS status, CAST(SUM(x.n) AS BIGINT) AS n \
                 FROM (SELECT CASE WHEN procedure_id = '-' THEN NULL ELSE procedure_id END AS procedure_id, \
                 agency_id, kind, status, n FROM feedback_days",
                days_of_period!($level),
                ") x"
            ),
            "",
            " GROUP BY x.kind, x.status HAVING SUM(x.n) <> 0",
            ", x.kind, x.status HAVING SUM(x.n) <> 0"
        )
    };
}
const FEEDBACK_AGENCY_LEVEL: [&str; 4] = feedback_statements!(AGENCY_LEVEL);
const FEEDBACK_PROCEDURE_LEVEL: [&str; 4] = feedback_statements!(PROCEDURE_LEVEL);
const FEEDBACK_STATEMENTS: [&str; 4] = by_level(FEEDBACK_AGENCY_LEVEL, FEEDBACK_PROCEDURE_LEVEL);

/// Feedback filed in the period, counted by kind and present state.
pub fn feedback_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<FeedbackCounts>> {
    Prepared::new(FEEDBACK_STATEMENTS[grouping.index()], period_binds(period, agency)).load(conn)
}

/// Per month of the period: dossiers received, and finished on time or late.
pub fn monthly(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<Vec<MonthCounts>> {
    macro_rules! monthly_statement {
        ($month:literal) => {
            concatcp!(
                "SELECT ",
                $month,
                " AS month, CAST(SUM(received) AS BIGINT) AS received, CAST(SUM(on_time) AS BIGINT) AS on_time, \
                 CAST(SUM(late) AS BIGINT) AS late FROM dossier_days",
                days_of_period!(AGENCY_LEVEL),
                " GROUP BY ",
                $month,
                " ORDER BY 1"
            )
        };
    }
    const PG: &str = monthly_statement!("to_char(day, 'YYYY-MM')");
    const SQLITE: &str = monthly_statement!("substr(day, 1, 7)");
    let sql = match conn {
        DbConn::Postgres(_) => PG,
        DbConn::Sqlite(_) => SQLITE,
    };
    Prepared::new(sql, period_binds(period, agency)).load(conn)
}

pub mod scan;

mod compact;
pub use compact::compact;
