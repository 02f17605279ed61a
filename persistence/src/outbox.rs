//! The notification outbox (SMS, Zalo, e-mail) with each message's delivery status, providers'
//! shared access tokens, and the shared rate-limit counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use dvc_domain::notify::{Channel, Language, NoticeStatus, Purpose};

use crate::codes::Code;
use crate::schema::{notifications, provider_tokens, rate_limits};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notifications, treat_none_as_null = true)]
pub struct NotificationRow {
    pub id: String,
    /// The channel being tried (`plan[step]`).
    pub channel: Code<Channel>,
    /// The address on that channel (a phone in E.164 or an e-mail address).
    pub recipient: String,
    pub purpose: Code<Purpose>,
    /// The message as written at the time it was queued (an OTP's code is masked once done).
    pub body: String,
    pub status: Code<NoticeStatus>,
    /// Attempts on every channel.
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    /// When a provider accepted it.
    pub sent_at: Option<NaiveDateTime>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Channels to try, in order, comma-separated.
    pub plan: String,
    pub step: i32,
    pub channel_attempts: i32,
    /// What the template is filled with (a JSON object of strings).
    pub params: String,
    pub language: Code<Language>,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
}

impl NotificationRow {
    /// The planned channels.
    pub fn channels(&self) -> Vec<Channel> {
        self.plan.split(',').filter_map(Channel::parse).collect()
    }
}

pub fn enqueue(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<()> {
    diesel::insert_into(notifications::table).values(row).execute(conn).map(|_| ())
}

/// How many messages of a purpose went to an address (on any channel) since a time (for daily caps).
pub fn count_sent_since(conn: &mut DbConn, address: &str, purpose: Purpose, since: NaiveDateTime) -> QueryResult<i64> {
    use notifications::dsl as n;
    n::notifications
        .filter(n::recipient.eq(address).or(n::phone.eq(address)).or(n::email.eq(address)))
        .filter(n::purpose.eq(Code(purpose)))
        .filter(n::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// Claims messages that are due (new, waiting to retry, or left half-sent by a sender whose claim
/// ran out) for this sender until `lease_until`; run in a write transaction. Several servers may
/// run it at once: each message is claimed by one of them.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    use notifications::dsl as n;
    let waiting = Code::all(&[NoticeStatus::Created, NoticeStatus::TemporaryFailure]);
    let due = n::notifications
        .filter(n::status.eq_any(waiting).or(n::status.eq(Code(NoticeStatus::Sending)).and(n::provider_id.is_null())))
        .filter(n::next_attempt_at.le(now))
        .order(n::next_attempt_at)
        .limit(limit)
        .select(n::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(n::notifications.filter(n::id.eq_any(&ids)))
        .set((
            n::status.eq(Code(NoticeStatus::Sending)),
            n::attempts.eq(n::attempts + 1),
            n::channel_attempts.eq(n::channel_attempts + 1),
            n::next_attempt_at.eq(lease_until),
            n::updated_at.eq(now),
        ))
        .execute(conn)?;
    n::notifications.filter(n::id.eq_any(&ids)).select(NotificationRow::as_select()).load(conn)
}

/// Saves what an attempt or a receipt made of a message.
pub fn save(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<()> {
    diesel::update(notifications::table.find(&row.id)).set(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<NotificationRow>> {
    notifications::table.find(id).select(NotificationRow::as_select()).first(conn).optional()
}

/// The message a provider knows by `provider_id` on `channel`.
pub fn find_by_provider(
    conn: &mut DbConn,
    channel: Channel,
    provider_id: &str,
) -> QueryResult<Option<NotificationRow>> {
    use notifications::dsl as n;
    n::notifications
        .filter(n::channel.eq(Code(channel)))
        .filter(n::provider_id.eq(provider_id))
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}

/// Messages for operators, newest first, with the total that matches.
pub fn list(
    conn: &mut DbConn,
    status: Option<NoticeStatus>,
    channel: Option<Channel>,
    purpose: Option<Purpose>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<NotificationRow>, i64)> {
    use notifications::dsl as n;
    let filtered = || {
        let mut q = n::notifications.into_boxed::<crate::db::MultiBackend>();
        if let Some(s) = status {
            q = q.filter(n::status.eq(Code(s)));
        }
        if let Some(c) = channel {
            q = q.filter(n::channel.eq(Code(c)));
        }
        if let Some(p) = purpose {
            q = q.filter(n::purpose.eq(Code(p)));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((n::created_at.desc(), n::id))
        .offset(offset)
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Messages to an address, newest first (tests and support staff read the outbox).
pub fn for_recipient(conn: &mut DbConn, address: &str) -> QueryResult<Vec<NotificationRow>> {
    use notifications::dsl as n;
    n::notifications
        .filter(n::recipient.eq(address).or(n::phone.eq(address)).or(n::email.eq(address)))
        .order(n::created_at.desc())
        .select(NotificationRow::as_select())
        .load(conn)
}

/// A provider's access token as every server shares it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = provider_tokens)]
pub struct ProviderToken {
    pub provider: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: NaiveDateTime,
    pub refreshing_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn token(conn: &mut DbConn, provider: &str) -> QueryResult<Option<ProviderToken>> {
    provider_tokens::table.find(provider).select(ProviderToken::as_select()).first(conn).optional()
}

/// Stores the first token of a provider (from configuration) unless one is kept already.
pub fn seed_token(conn: &mut DbConn, row: &ProviderToken) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(c) => {
            diesel::insert_into(provider_tokens::table).values(row).on_conflict_do_nothing().execute(c).map(|_| ())
        }
        DbConn::Sqlite(c) => {
            diesel::insert_into(provider_tokens::table).values(row).on_conflict_do_nothing().execute(c).map(|_| ())
        }
    }
}

/// Takes the right to refresh a provider's token until `until`; false when another server holds it.
pub fn claim_refresh(conn: &mut DbConn, provider: &str, now: NaiveDateTime, until: NaiveDateTime) -> QueryResult<bool> {
    use provider_tokens::dsl as t;
    let n = diesel::update(
        t::provider_tokens
            .filter(t::provider.eq(provider))
            .filter(t::refreshing_until.is_null().or(t::refreshing_until.lt(now))),
    )
    .set(t::refreshing_until.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// Keeps a refreshed token and gives up the right to refresh.
pub fn store_token(
    conn: &mut DbConn,
    provider: &str,
    access: &str,
    refresh: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use provider_tokens::dsl as t;
    diesel::update(t::provider_tokens.find(provider))
        .set((
            t::access_token.eq(access),
            t::refresh_token.eq(refresh),
            t::expires_at.eq(expires_at),
            t::refreshing_until.eq(None::<NaiveDateTime>),
            t::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
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

/// Forgets windows that ended: hourly ones before `hourly_before`, daily ones (buckets named
/// `day:…`) before `daily_before`.
pub fn prune_rate_limits(conn: &mut DbConn, hourly_before: i64, daily_before: i64) -> QueryResult<usize> {
    use rate_limits::dsl as r;
    diesel::delete(r::rate_limits.filter(
        r::window_start.lt(daily_before).or(r::window_start.lt(hourly_before).and(r::bucket.not_like("day:%"))),
    ))
    .execute(conn)
}

/// Marks a provider's access token as run out (the provider refused it), so the next use refreshes it.
pub fn store_token_expired(conn: &mut DbConn, provider: &str, now: NaiveDateTime) -> QueryResult<()> {
    use provider_tokens::dsl as t;
    diesel::update(t::provider_tokens.find(provider)).set(t::expires_at.eq(now)).execute(conn).map(|_| ())
}

/// Records a solved challenge; false when it was used before (on any server).
pub fn use_challenge(conn: &mut DbConn, challenge: &str, expires_at: NaiveDateTime) -> QueryResult<bool> {
    use crate::schema::used_challenges::dsl as u;
    let row = (u::challenge.eq(challenge), u::expires_at.eq(expires_at));
    let n = match conn {
        DbConn::Postgres(c) => {
            diesel::insert_into(u::used_challenges).values(row).on_conflict_do_nothing().execute(c)?
        }
        DbConn::Sqlite(c) => diesel::insert_into(u::used_challenges).values(row).on_conflict_do_nothing().execute(c)?,
    };
    Ok(n == 1)
}

/// Forgets used challenges that have expired (they cannot be replayed any more).
pub fn prune_challenges(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    use crate::schema::used_challenges::dsl as u;
    diesel::delete(u::used_challenges.filter(u::expires_at.lt(now))).execute(conn)
}
