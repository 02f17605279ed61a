//! The notification outbox (SMS, e-mail) and the shared rate-limit counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{notifications, rate_limits};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    /// `sms` or `email`.
    pub channel: String,
    pub recipient: String,
    /// What the message is for (`registration_otp`, `password_reset_otp`, ...), for caps and audits.
    pub purpose: String,
    pub body: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

pub fn enqueue(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<()> {
    diesel::insert_into(notifications::table).values(row).execute(conn).map(|_| ())
}

/// How many messages of a purpose went to a recipient since a time (for daily caps).
pub fn count_sent_since(conn: &mut DbConn, recipient: &str, purpose: &str, since: NaiveDateTime) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::recipient.eq(recipient))
        .filter(notifications::purpose.eq(purpose))
        .filter(notifications::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// Oldest pending messages, to be claimed one by one.
pub fn pending(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::status.eq("pending"))
        .order(notifications::created_at)
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Claims a pending message for this process; false when another process took it first.
pub fn claim(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(notifications::table.find(id).filter(notifications::status.eq("pending")))
        .set((notifications::status.eq("sending"), notifications::attempts.eq(notifications::attempts + 1)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records the outcome of a send; a sent message's body is replaced (it may hold an OTP).
pub fn finish(conn: &mut DbConn, id: &str, sent: bool, redacted_body: &str, at: NaiveDateTime) -> QueryResult<()> {
    let status = if sent { "sent" } else { "pending" };
    diesel::update(notifications::table.find(id))
        .set((
            notifications::status.eq(status),
            notifications::body.eq(redacted_body),
            notifications::sent_at.eq(sent.then_some(at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Messages of a recipient, newest first (tests and support staff read the outbox).
pub fn for_recipient(conn: &mut DbConn, recipient: &str) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::recipient.eq(recipient))
        .order(notifications::created_at.desc())
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Counts a hit in a fixed window shared by every server process; returns the hits so far.
pub fn hit(conn: &mut DbConn, bucket: &str, window_start: i64) -> QueryResult<i32> {
    use rate_limits::dsl as r;
    let row = (r::bucket.eq(bucket), r::window_start.eq(window_start), r::hits.eq(1));
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(r::rate_limits)
            .values(row)
            .on_conflict((r::bucket, r::window_start))
            .do_update()
            .set(r::hits.eq(r::hits + 1))
            .returning(r::hits)
            .get_result(c),
        DbConn::Sqlite(c) => diesel::insert_into(r::rate_limits)
            .values(row)
            .on_conflict((r::bucket, r::window_start))
            .do_update()
            .set(r::hits.eq(r::hits + 1))
            .returning(r::hits)
            .get_result(c),
    }
}

/// Forgets windows that ended before `before`.
pub fn prune_rate_limits(conn: &mut DbConn, before: i64) -> QueryResult<usize> {
    diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(before))).execute(conn)
}
