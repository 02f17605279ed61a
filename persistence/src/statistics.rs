//! Service-quality statistics, aggregated by the database: no dossier row is loaded.
//!
//! Each statement is fixed text, one per grouping, with the codes it compares against taken from
//! the domain's enums at compile time; the period, the report day, the agency and the time zone's
//! offset are bound parameters.

use chrono::{NaiveDate, NaiveDateTime};
use const_format::concatcp;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use dvc_domain::dossier::{Channel, Timeliness};
use dvc_domain::payment::PaymentStatus;
use dvc_domain::time::VIETNAM_UTC_OFFSET_SECS;
use dvc_domain::workflow::DossierStatus;

use crate::prepared::{Bind, Prepared};
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
/// The parameters of every dossier statement, in order: from, to (three times each as the
/// statement uses them), the report day, the agency (twice).
const RECEIVED: &str = "x.received_at >= {} AND x.received_at < {}";
const FINISHED: &str = concatcp!("x.finished_at >= {} AND x.finished_at < {} AND ", SETTLED);
const OPEN: &str = "(x.finished_at IS NULL OR x.finished_at >= {})";
const AGENCY: &str = " AND ({} IS NULL OR x.agency_id = {})";

const DOSSIER_SELECT: &str = "SELECT ";
const DOSSIER_COLUMNS: &str = concatcp!(
    ", COALESCE(SUM(CASE WHEN ",
    RECEIVED,
    " THEN 1 ELSE 0 END), 0) AS received, \
     COALESCE(SUM(CASE WHEN ",
    RECEIVED,
    " AND x.channel = '",
    Channel::Online.as_str(),
    "' THEN 1 ELSE 0 END), 0) AS received_online, \
     COALESCE(SUM(CASE WHEN ",
    RECEIVED,
    " AND x.fee_vnd > 0 THEN 1 ELSE 0 END), 0) AS with_fee, \
     COALESCE(SUM(CASE WHEN ",
    RECEIVED,
    " AND x.fee_vnd > 0 AND EXISTS (SELECT 1 FROM payments py WHERE py.dossier_id = x.id AND py.status IN ('",
    PaymentStatus::Paid.as_str(),
    "', '",
    PaymentStatus::Refunded.as_str(),
    "')) THEN 1 ELSE 0 END), 0) AS paid_online, \
     COALESCE(SUM(CASE WHEN ",
    FINISHED,
    " THEN 1 ELSE 0 END), 0) AS finished, \
     COALESCE(SUM(CASE WHEN ",
    FINISHED,
    " AND ",
    IN_TIME,
    " THEN 1 ELSE 0 END), 0) AS on_time, \
     COALESCE(SUM(CASE WHEN ",
    FINISHED,
    " AND ",
    LATE,
    " THEN 1 ELSE 0 END), 0) AS late, \
     COALESCE(SUM(CASE WHEN ",
    OPEN,
    " THEN 1 ELSE 0 END), 0) AS in_progress, \
     COALESCE(SUM(CASE WHEN ",
    OPEN,
    " AND x.timeliness IS NULL AND ",
    RUNNING,
    " AND x.due_date < {} THEN 1 ELSE 0 END), 0) AS overdue "
);

/// `SELECT <group columns> <counts> FROM dossiers x <joins> WHERE ...`: the group columns come
/// first, so the counts follow them in each variant.
const DOSSIER_STATEMENTS: [&str; 4] = per_grouping!(
    DOSSIER_SELECT,
    concatcp!(DOSSIER_COLUMNS, "FROM dossiers x"),
    concatcp!(" WHERE x.submitted_at < {} AND (x.finished_at IS NULL OR x.finished_at >= {})", AGENCY),
    "",
    ""
);

fn agency_binds<'a>(agency: Option<&'a str>) -> [Bind<'a>; 2] {
    [Bind::OptText(agency), Bind::OptText(agency)]
}

/// Dossier counts of a period: received (and how many online, with fees, paid online), finished
/// by the agency (on time or late), and still in progress (and overdue) at the end of the period.
pub fn dossier_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<DossierCounts>> {
    let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
    let mut binds = Vec::with_capacity(24);
    // received ×4, finished ×3, open ×2, the report day, then the WHERE clause.
    for _ in 0..4 {
        binds.extend([from, to]);
    }
    for _ in 0..3 {
        binds.extend([from, to]);
    }
    binds.extend([to, to, Bind::Date(period.report_day), to, from]);
    binds.extend(agency_binds(agency));
    Prepared::new(DOSSIER_STATEMENTS[grouping.index()], binds).load(conn)
}

const RATING_STATEMENTS: [&str; 4] = per_grouping!(
    "SELECT ",
    ", COUNT(*) AS ratings, COALESCE(SUM(x.score), 0) AS score_sum FROM ratings x",
    concatcp!(" WHERE x.created_at >= {} AND x.created_at < {}", AGENCY),
    "",
    ""
);

/// Ratings given in the period: how many and the sum of scores.
pub fn rating_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<RatingCounts>> {
    let mut binds = vec![Bind::Timestamp(period.from), Bind::Timestamp(period.to)];
    binds.extend(agency_binds(agency));
    Prepared::new(RATING_STATEMENTS[grouping.index()], binds).load(conn)
}

const FEEDBACK_STATEMENTS: [&str; 4] = per_grouping!(
    "SELECT ",
    ", x.kind AS kind, x.status AS status, COUNT(*) AS n FROM feedback x",
    concatcp!(" WHERE x.created_at >= {} AND x.created_at < {}", AGENCY),
    " GROUP BY x.kind, x.status",
    ", x.kind, x.status"
);

/// Feedback filed in the period, counted by kind and present state.
pub fn feedback_counts(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> QueryResult<Vec<FeedbackCounts>> {
    let mut binds = vec![Bind::Timestamp(period.from), Bind::Timestamp(period.to)];
    binds.extend(agency_binds(agency));
    Prepared::new(FEEDBACK_STATEMENTS[grouping.index()], binds).load(conn)
}

/// The month of a stored time in Vietnam, on each backend; the offset is a parameter.
macro_rules! monthly_statement {
    ($month_of_received:literal, $month_of_finished:literal) => {
        concatcp!(
            "SELECT m AS month, CAST(SUM(r) AS BIGINT) AS received, CAST(SUM(o) AS BIGINT) AS on_time, \
             CAST(SUM(l) AS BIGINT) AS late FROM ( \
               SELECT ",
            $month_of_received,
            " AS m, 1 AS r, 0 AS o, 0 AS l FROM dossiers x \
               WHERE x.received_at >= {} AND x.received_at < {}",
            AGENCY,
            " UNION ALL SELECT ",
            $month_of_finished,
            " AS m, 0 AS r, CASE WHEN ",
            IN_TIME,
            " THEN 1 ELSE 0 END AS o, CASE WHEN ",
            LATE,
            " THEN 1 ELSE 0 END AS l FROM dossiers x \
               WHERE x.finished_at >= {} AND x.finished_at < {} AND ",
            SETTLED,
            AGENCY,
            " ) s GROUP BY m ORDER BY m"
        )
    };
}

/// Per month (Vietnamese time) of the period: dossiers received, and finished on time or late.
pub fn monthly(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<Vec<MonthCounts>> {
    const PG: &str = monthly_statement!(
        "to_char(x.received_at + make_interval(secs => CAST({} AS double precision)), 'YYYY-MM')",
        "to_char(x.finished_at + make_interval(secs => CAST({} AS double precision)), 'YYYY-MM')"
    );
    const SQLITE: &str =
        monthly_statement!("strftime('%Y-%m', x.received_at, {})", "strftime('%Y-%m', x.finished_at, {})");
    let modifier = format!("{VIETNAM_UTC_OFFSET_SECS:+} seconds");
    let offset = match conn {
        DbConn::Postgres(_) => Bind::Int(VIETNAM_UTC_OFFSET_SECS),
        DbConn::Sqlite(_) => Bind::Text(&modifier),
    };
    let sql = match conn {
        DbConn::Postgres(_) => PG,
        DbConn::Sqlite(_) => SQLITE,
    };
    let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
    let mut binds = vec![offset, from, to];
    binds.extend(agency_binds(agency));
    binds.extend([offset, from, to]);
    binds.extend(agency_binds(agency));
    Prepared::new(sql, binds).load(conn)
}
