//! Compaction of the statistics rollups.

use chrono::NaiveDate;
use const_format::concatcp;
use diesel::QueryResult;

use crate::prepared::{Bind, Prepared};
use crate::DbConn;

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
