//! The same counts over the stored rows themselves: the definition the rollups are kept by, read
//! by the tests that compare the two on random data.

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
