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

/// The counts of dossiers from the rollups: the period's days for what happened in it, every day
/// up to its end for what is open at its end, and the due dates before the report day for what
/// is overdue, less those submitted after the period or finished within it. Parameters: the first
/// day ×7, the last day, the agency ×2; the report day, the agency ×2; the last day, the report
/// day, the agency ×2; the last day ×2, the report day, the agency ×2.
macro_rules! dossier_rollup_rows {
    ($level:expr) => {
        concatcp!(
            " FROM (SELECT procedure_id, agency_id, \
               CASE WHEN day >= {} THEN received ELSE 0 END AS received, \
               CASE WHEN day >= {} THEN received_online ELSE 0 END AS received_online, \
               CASE WHEN day >= {} THEN with_fee ELSE 0 END AS with_fee, \
               CASE WHEN day >= {} THEN paid_online ELSE 0 END AS paid_online, \
               CASE WHEN day >= {} THEN finished ELSE 0 END AS finished, \
               CASE WHEN day >= {} THEN on_time ELSE 0 END AS on_time, \
               CASE WHEN day >= {} THEN late ELSE 0 END AS late, \
               submitted - closed AS in_progress, 0 AS overdue \
             FROM dossier_days WHERE ",
            $level,
            " AND day <= {}",
            AGENCY_ROWS,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, 0, n FROM dossier_due WHERE ",
            $level,
            " AND due_date < {}",
            AGENCY_ROWS,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, 0, -n FROM dossier_running WHERE ",
            $level,
            " AND submitted_day > {} AND due_date < {}",
            AGENCY_ROWS,
            " UNION ALL SELECT procedure_id, agency_id, 0, 0, 0, 0, 0, 0, 0, 0, -n FROM dossier_running WHERE ",
            $level,
            " AND finished_day <= {} AND submitted_day <= {} AND due_date < {}",
            AGENCY_ROWS,
            ") x"
        )
    };
}

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
const DOSSIER_STATEMENTS: [&str; 4] =
    [DOSSIER_AGENCY_LEVEL[0], DOSSIER_AGENCY_LEVEL[1], DOSSIER_PROCEDURE_LEVEL[2], DOSSIER_PROCEDURE_LEVEL[3]];

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
    let mut binds = vec![first; 7];
    binds.push(last);
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
const RATING_STATEMENTS: [&str; 4] =
    [RATING_AGENCY_LEVEL[0], RATING_AGENCY_LEVEL[1], RATING_PROCEDURE_LEVEL[2], RATING_PROCEDURE_LEVEL[3]];

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
const FEEDBACK_STATEMENTS: [&str; 4] =
    [FEEDBACK_AGENCY_LEVEL[0], FEEDBACK_AGENCY_LEVEL[1], FEEDBACK_PROCEDURE_LEVEL[2], FEEDBACK_PROCEDURE_LEVEL[3]];

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

/// The same counts over the stored rows themselves: the definition the rollups are kept by, read
/// by the tests that compare the two on random data.
pub mod scan {
    use super::*;

    /// Dossiers the agency finished with: result returned, rejected, stopped.
    const SETTLED: &str = concatcp!(
        "x.status IN ('",
        DossierStatus::Returned.as_str(),
        "', '",
        DossierStatus::Rejected.as_str(),
        "', '",
        DossierStatus::Stopped.as_str(),
        "')"
    );
    const IN_TIME: &str =
        concatcp!("x.timeliness IN ('", Timeliness::Early.as_str(), "', '", Timeliness::OnTime.as_str(), "')");
    const LATE: &str = concatcp!("x.timeliness = '", Timeliness::Late.as_str(), "'");
    const RUNNING: &str =
        concatcp!("x.status IN ('", DossierStatus::Received.as_str(), "', '", DossierStatus::Processing.as_str(), "')");
    const RECEIVED: &str = "x.received_at >= {} AND x.received_at < {}";
    const FINISHED: &str = concatcp!("x.finished_at >= {} AND x.finished_at < {} AND ", SETTLED);
    const OPEN: &str = "x.submitted_at < {} AND (x.finished_at IS NULL OR x.finished_at >= {})";
    const AGENCY: &str = " WHERE ({} IS NULL OR x.agency_id = {})";

    const COLUMNS: &str = concatcp!(
        ", COALESCE(SUM(CASE WHEN ",
        RECEIVED,
        " THEN 1 ELSE 0 END), 0) AS received, COALESCE(SUM(CASE WHEN ",
        RECEIVED,
        " AND x.channel = '",
        Channel::Online.as_str(),
        "' THEN 1 ELSE 0 END), 0) AS received_online, COALESCE(SUM(CASE WHEN ",
        RECEIVED,
        " AND x.fee_vnd > 0 THEN 1 ELSE 0 END), 0) AS with_fee, COALESCE(SUM(CASE WHEN ",
        RECEIVED,
        " AND x.fee_vnd > 0 AND EXISTS (SELECT 1 FROM payments py WHERE py.dossier_id = x.id AND py.status IN ('",
        PaymentStatus::Paid.as_str(),
        "', '",
        PaymentStatus::Refunded.as_str(),
        "')) THEN 1 ELSE 0 END), 0) AS paid_online, COALESCE(SUM(CASE WHEN ",
        FINISHED,
        " THEN 1 ELSE 0 END), 0) AS finished, COALESCE(SUM(CASE WHEN ",
        FINISHED,
        " AND ",
        IN_TIME,
        " THEN 1 ELSE 0 END), 0) AS on_time, COALESCE(SUM(CASE WHEN ",
        FINISHED,
        " AND ",
        LATE,
        " THEN 1 ELSE 0 END), 0) AS late, COALESCE(SUM(CASE WHEN ",
        OPEN,
        " THEN 1 ELSE 0 END), 0) AS in_progress, COALESCE(SUM(CASE WHEN ",
        OPEN,
        " AND x.timeliness IS NULL AND ",
        RUNNING,
        " AND x.due_date < {} THEN 1 ELSE 0 END), 0) AS overdue FROM dossiers x"
    );
    const STATEMENTS: [&str; 4] = per_grouping!("SELECT ", COLUMNS, AGENCY, "", "");

    /// [`super::dossier_counts`] counted over the dossiers (every group that has a dossier).
    pub fn dossier_counts(
        conn: &mut DbConn,
        period: Period,
        agency: Option<&str>,
        grouping: Grouping,
    ) -> QueryResult<Vec<DossierCounts>> {
        let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
        let mut binds = Vec::with_capacity(20);
        for _ in 0..7 {
            binds.extend([from, to]);
        }
        binds.extend([to, to, to, to, Bind::Date(period.report_day)]);
        binds.extend(agency_binds(agency));
        Prepared::new(STATEMENTS[grouping.index()], binds).load(conn)
    }

    const RATINGS: [&str; 4] = per_grouping!(
        "SELECT ",
        ", COUNT(*) AS ratings, COALESCE(SUM(x.score), 0) AS score_sum FROM ratings x",
        " WHERE x.created_at >= {} AND x.created_at < {} AND ({} IS NULL OR x.agency_id = {})",
        "",
        ""
    );

    /// [`super::rating_counts`] counted over the ratings.
    pub fn rating_counts(
        conn: &mut DbConn,
        period: Period,
        agency: Option<&str>,
        grouping: Grouping,
    ) -> QueryResult<Vec<RatingCounts>> {
        let mut binds = vec![Bind::Timestamp(period.from), Bind::Timestamp(period.to)];
        binds.extend(agency_binds(agency));
        Prepared::new(RATINGS[grouping.index()], binds).load(conn)
    }

    const FEEDBACK: [&str; 4] = per_grouping!(
        "SELECT ",
        ", x.kind AS kind, x.status AS status, COUNT(*) AS n FROM feedback x",
        " WHERE x.created_at >= {} AND x.created_at < {} AND ({} IS NULL OR x.agency_id = {})",
        " GROUP BY x.kind, x.status",
        ", x.kind, x.status"
    );

    /// [`super::feedback_counts`] counted over the feedback.
    pub fn feedback_counts(
        conn: &mut DbConn,
        period: Period,
        agency: Option<&str>,
        grouping: Grouping,
    ) -> QueryResult<Vec<FeedbackCounts>> {
        let mut binds = vec![Bind::Timestamp(period.from), Bind::Timestamp(period.to)];
        binds.extend(agency_binds(agency));
        Prepared::new(FEEDBACK[grouping.index()], binds).load(conn)
    }
}

/// Keeps the rollups one row per key: on PostgreSQL the shares that connections wrote for days
/// before `before` are folded into share 0, and on both backends rows that count nothing are
/// dropped. Each statement is its own transaction and skips rows a running transaction holds, so
/// it never waits on a change of the counts (nor makes one wait on it). The rows folded or dropped.
pub fn compact(conn: &mut DbConn, before: NaiveDate) -> QueryResult<usize> {
    /// The shares of one rollup folded into share 0: `$key` its key columns but the share,
    /// `$sums` its counts.
    macro_rules! fold {
        ($table:literal, $day:literal, $key:literal, $sums:literal, $set:literal) => {
            concatcp!(
                "WITH moved AS (DELETE FROM ",
                $table,
                " WHERE ctid IN (SELECT ctid FROM ",
                $table,
                " WHERE ",
                $day,
                " < {} AND shard <> 0 FOR UPDATE SKIP LOCKED) RETURNING *) INSERT INTO ",
                $table,
                " AS t (",
                $key,
                ", shard, ",
                $sums,
                ") SELECT ",
                $key,
                ", 0, ",
                $set,
                " FROM moved GROUP BY ",
                $key,
                " ORDER BY ",
                $key,
                " ON CONFLICT (",
                $key,
                ", shard) DO UPDATE SET "
            )
        };
    }
    const PG_FOLDS: [&str; 5] = [
        concatcp!(
            fold!(
                "dossier_days",
                "day",
                "procedure_id, day, agency_id",
                "received, received_online, with_fee, paid_online, finished, on_time, late, submitted, closed",
                "sum(received), sum(received_online), sum(with_fee), sum(paid_online), sum(finished), sum(on_time), \
                 sum(late), sum(submitted), sum(closed)"
            ),
            "received = t.received + excluded.received, received_online = t.received_online + excluded.received_online, \
             with_fee = t.with_fee + excluded.with_fee, paid_online = t.paid_online + excluded.paid_online, \
             finished = t.finished + excluded.finished, on_time = t.on_time + excluded.on_time, \
             late = t.late + excluded.late, submitted = t.submitted + excluded.submitted, closed = t.closed + excluded.closed"
        ),
        concatcp!(
            fold!(
                "dossier_running",
                "submitted_day",
                "procedure_id, due_date, agency_id, submitted_day, finished_day",
                "n",
                "sum(n)"
            ),
            "n = t.n + excluded.n"
        ),
        concatcp!(
            fold!("dossier_due", "due_date", "procedure_id, due_date, agency_id", "n", "sum(n)"),
            "n = t.n + excluded.n"
        ),
        concatcp!(
            fold!("rating_days", "day", "procedure_id, day, agency_id", "ratings, score_sum", "sum(ratings), sum(score_sum)"),
            "ratings = t.ratings + excluded.ratings, score_sum = t.score_sum + excluded.score_sum"
        ),
        concatcp!(
            fold!("feedback_days", "day", "procedure_id, day, agency_id, kind, status", "n", "sum(n)"),
            "n = t.n + excluded.n"
        ),
    ];
    const DOSSIER_NOTHING: &str = "received = 0 AND received_online = 0 AND with_fee = 0 AND paid_online = 0 \
         AND finished = 0 AND on_time = 0 AND late = 0 AND submitted = 0 AND closed = 0";
    const PG_EMPTY: [&str; 5] = [
        concatcp!(
            "DELETE FROM dossier_days WHERE ctid IN (SELECT ctid FROM dossier_days WHERE day < {} AND ",
            DOSSIER_NOTHING,
            " FOR UPDATE SKIP LOCKED)"
        ),
        "DELETE FROM dossier_running WHERE ctid IN (SELECT ctid FROM dossier_running WHERE submitted_day < {} AND n = 0 \
         FOR UPDATE SKIP LOCKED)",
        "DELETE FROM dossier_due WHERE ctid IN (SELECT ctid FROM dossier_due WHERE due_date < {} AND n = 0 \
         FOR UPDATE SKIP LOCKED)",
        "DELETE FROM rating_days WHERE ctid IN (SELECT ctid FROM rating_days WHERE day < {} AND ratings = 0 \
         AND score_sum = 0 FOR UPDATE SKIP LOCKED)",
        "DELETE FROM feedback_days WHERE ctid IN (SELECT ctid FROM feedback_days WHERE day < {} AND n = 0 \
         FOR UPDATE SKIP LOCKED)",
    ];
    const SQLITE_EMPTY: [&str; 5] = [
        concatcp!("DELETE FROM dossier_days WHERE day < {} AND ", DOSSIER_NOTHING),
        "DELETE FROM dossier_running WHERE submitted_day < {} AND n = 0",
        "DELETE FROM dossier_due WHERE due_date < {} AND n = 0",
        "DELETE FROM rating_days WHERE day < {} AND ratings = 0 AND score_sum = 0",
        "DELETE FROM feedback_days WHERE day < {} AND n = 0",
    ];
    let mut changed = 0;
    let statements: Vec<&str> = match conn {
        DbConn::Postgres(_) => PG_FOLDS.iter().chain(PG_EMPTY.iter()).copied().collect(),
        DbConn::Sqlite(_) => SQLITE_EMPTY.to_vec(),
    };
    for sql in statements {
        changed += Prepared::new(sql, vec![Bind::Date(before)]).execute(conn)?;
    }
    Ok(changed)
}
