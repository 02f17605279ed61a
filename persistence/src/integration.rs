//! Integration clients, the change feed, keyset sync of dossiers, webhooks and their deliveries.
//!
//! Feeds are read in (transaction id, sequence) order and only up to a horizon: on PostgreSQL the
//! oldest writing transaction of this database still running, so that a row written by a
//! transaction that commits late is never behind a cursor already handed out; on SQLite, where one
//! writer commits at a time, every committed row (transaction id 0, the sequence follows commit
//! order). On PostgreSQL the server's role must see other sessions of its database in
//! `pg_stat_activity` (the same role, or `pg_read_all_stats`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use dvc_domain::workflow::DossierStatus;

use crate::codes::Code;
use crate::dossiers::DossierRow;
use crate::prepared::{column, Bind, Prepared};
use crate::schema::{
    dossiers, integration_clients, integration_events, webhook_attempts, webhook_deliveries, webhooks,
};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = integration_clients, treat_none_as_null = true)]
pub struct ClientRow {
    pub id: String,
    /// The public identifier the client sends to `/oauth/token`.
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    /// JSON array of the agency ids the client acts for.
    pub agency_ids: String,
    pub active: bool,
    pub created_by: Option<String>,
    pub secret_rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ClientRow {
    pub fn agencies(&self) -> Vec<String> {
        serde_json::from_str(&self.agency_ids).unwrap_or_default()
    }
}

pub fn insert_client(conn: &mut DbConn, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(integration_clients::table).values(row).execute(conn).map(|_| ())
}

pub fn find_client(conn: &mut DbConn, id: &str) -> QueryResult<Option<ClientRow>> {
    integration_clients::table.find(id).select(ClientRow::as_select()).first(conn).optional()
}

pub fn find_client_by_client_id(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<ClientRow>> {
    integration_clients::table
        .filter(integration_clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

pub fn update_client(conn: &mut DbConn, row: &ClientRow) -> QueryResult<usize> {
    diesel::update(integration_clients::table.find(&row.id)).set(row).execute(conn)
}

pub fn list_clients(conn: &mut DbConn) -> QueryResult<Vec<ClientRow>> {
    integration_clients::table
        .select(ClientRow::as_select())
        .order((integration_clients::created_at, integration_clients::id))
        .load(conn)
}

/// One stored event of the change feed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = integration_events)]
pub struct EventRow {
    pub seq: i64,
    pub txid: i64,
    pub id: String,
    pub event_type: String,
    pub agency_id: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    pub data: String,
    pub created_at: NaiveDateTime,
}

/// A new event; its sequence and transaction id are the database's.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = integration_events)]
pub struct NewEvent {
    pub id: String,
    pub event_type: String,
    pub agency_id: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    pub data: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_event(conn: &mut DbConn, row: &NewEvent) -> QueryResult<()> {
    diesel::insert_into(integration_events::table).values(row).execute(conn).map(|_| ())
}

/// New events, in order (their sequence numbers follow it). On PostgreSQL one prepared statement
/// whatever their number (the rows go in as arrays); a multi-row insert differs with each number
/// of rows and was planned again on every call.
pub fn insert_events(conn: &mut DbConn, rows: &[NewEvent]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if let DbConn::Sqlite(c) = conn {
        return diesel::insert_into(integration_events::table).values(rows).execute(c).map(|_| ());
    }
    const SQL: &str = "INSERT INTO integration_events (id, event_type, agency_id, dossier_id, dossier_code, data, \
         created_at) SELECT * FROM unnest({}, {}, {}, {}, {}, {}, {})";
    let (id, event_type, agency_id, data) = (
        column(rows, |r| &r.id),
        column(rows, |r| &r.event_type),
        column(rows, |r| &r.agency_id),
        column(rows, |r| &r.data),
    );
    let (dossier_id, dossier_code) = (column(rows, |r| &r.dossier_id), column(rows, |r| &r.dossier_code));
    let created_at = column(rows, |r| &r.created_at);
    Prepared::new(
        SQL,
        vec![
            Bind::Texts(&id),
            Bind::Texts(&event_type),
            Bind::Texts(&agency_id),
            Bind::OptTexts(&dossier_id),
            Bind::OptTexts(&dossier_code),
            Bind::Texts(&data),
            Bind::Timestamps(&created_at),
        ],
    )
    .execute(conn)
    .map(|_| ())
}

#[derive(QueryableByName)]
struct Running {
    #[diesel(sql_type = BigInt)]
    xmax: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    xid: Option<i64>,
}

/// The first transaction id a feed may not pass yet (see the module notes). On PostgreSQL: the
/// oldest transaction of this database that has written something and is still running, else
/// the next id to be assigned. Read-only sessions (reports, backups) hold nothing back. The
/// running ids are 32-bit; they are widened with the epoch of the current 64-bit id.
pub fn horizon(conn: &mut DbConn) -> QueryResult<i64> {
    match conn {
        DbConn::Postgres(c) => {
            let rows: Vec<Running> = diesel::sql_query(
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax, a.xid \
                 FROM (SELECT 1) one LEFT JOIN (SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity \
                 WHERE datname = current_database() AND backend_xid IS NOT NULL) a ON true",
            )
            .load(c)?;
            let xmax = rows.first().map(|r| r.xmax).unwrap_or(0);
            let epoch = xmax >> 32;
            let oldest = rows
                .iter()
                .filter_map(|r| r.xid)
                .map(|xid| {
                    let wide = (epoch << 32) | xid;
                    if wide > xmax {
                        wide - (1 << 32)
                    } else {
                        wide
                    }
                })
                .min();
            Ok(oldest.map_or(xmax, |o| o.min(xmax)))
        }
        DbConn::Sqlite(_) => Ok(i64::MAX),
    }
}

/// A position in a feed: after this transaction id and sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

/// Events of the given agencies after a position, in feed order, below the horizon.
pub fn events_after(
    conn: &mut DbConn,
    agencies: &[String],
    after: Position,
    horizon: i64,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    use integration_events::dsl as e;
    e::integration_events
        .filter(e::agency_id.eq_any(agencies))
        .filter(e::txid.gt(after.txid).or(e::txid.eq(after.txid).and(e::seq.gt(after.seq))))
        .filter(e::txid.lt(horizon))
        .order((e::txid, e::seq))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// Filters of the dossier sync.
#[derive(Debug, Clone, Default)]
pub struct SyncFilter {
    pub agencies: Vec<String>,
    pub status: Option<DossierStatus>,
    pub updated_after: Option<NaiveDateTime>,
}

/// Dossiers of the given agencies changed after a position, in change order, below the horizon;
/// each with its own position.
pub fn dossiers_after(
    conn: &mut DbConn,
    f: &SyncFilter,
    after: Position,
    horizon: i64,
    limit: i64,
) -> QueryResult<Vec<(DossierRow, Position)>> {
    use dossiers::dsl as d;
    let mut q = d::dossiers
        .filter(d::agency_id.eq_any(&f.agencies))
        .filter(d::status.ne(Code(DossierStatus::Draft)))
        .filter(d::change_txid.gt(after.txid).or(d::change_txid.eq(after.txid).and(d::change_seq.gt(after.seq))))
        .filter(d::change_txid.lt(horizon))
        .into_boxed();
    if let Some(s) = f.status {
        q = q.filter(d::status.eq(Code(s)));
    }
    if let Some(t) = f.updated_after {
        q = q.filter(d::updated_at.gt(t));
    }
    let rows: Vec<(DossierRow, i64, i64)> = q
        .order((d::change_txid, d::change_seq))
        .limit(limit)
        .select((DossierRow::as_select(), d::change_txid, d::change_seq))
        .load(conn)?;
    Ok(rows.into_iter().map(|(row, txid, seq)| (row, Position { txid, seq })).collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub client_id: String,
    pub url: String,
    /// JSON array of event types.
    pub events: String,
    pub secret: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    pub fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

pub fn insert_webhook(conn: &mut DbConn, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table).values(row).execute(conn).map(|_| ())
}

pub fn webhooks_of(conn: &mut DbConn, client_id: &str) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .filter(webhooks::client_id.eq(client_id))
        .order((webhooks::created_at, webhooks::id))
        .select(WebhookRow::as_select())
        .load(conn)
}

pub fn find_webhook(conn: &mut DbConn, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table.find(id).select(WebhookRow::as_select()).first(conn).optional()
}

pub fn delete_webhook(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(webhooks::table.find(id)).execute(conn)
}

/// Active webhooks of active clients, with the clients' agencies (JSON).
pub fn live_webhooks(conn: &mut DbConn) -> QueryResult<Vec<(WebhookRow, String)>> {
    webhooks::table
        .inner_join(integration_clients::table)
        .filter(webhooks::active.eq(true))
        .filter(integration_clients::active.eq(true))
        .select((WebhookRow::as_select(), integration_clients::agency_ids))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    /// `pending`, `sending` (claimed by a worker until `next_attempt_at`), `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub give_up_at: NaiveDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_delivery(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table).values(row).execute(conn).map(|_| ())
}

pub fn update_delivery(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(&row.id)).set(row).execute(conn)
}

pub fn find_delivery(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table.find(id).select(DeliveryRow::as_select()).first(conn).optional()
}

/// Claims due deliveries for one worker until `lease_until`, in the caller's transaction. On
/// PostgreSQL rows another worker holds are skipped (`FOR UPDATE SKIP LOCKED`); SQLite has one
/// writer at a time. Each claim counts as an attempt.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, WebhookRow)>> {
    use webhook_deliveries::dsl as w;
    let due = w::webhook_deliveries
        .filter(w::status.eq_any(["pending", "sending"]))
        .filter(w::next_attempt_at.le(now))
        .order(w::next_attempt_at)
        .limit(limit)
        .select(w::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(w::webhook_deliveries.filter(w::id.eq_any(&ids)))
        .set((
            w::status.eq("sending"),
            w::attempts.eq(w::attempts + 1),
            w::next_attempt_at.eq(lease_until),
            w::updated_at.eq(now),
        ))
        .execute(conn)?;
    w::webhook_deliveries
        .inner_join(webhooks::table)
        .filter(w::id.eq_any(&ids))
        .select((DeliveryRow::as_select(), WebhookRow::as_select()))
        .load(conn)
}

pub fn deliveries_of(
    conn: &mut DbConn,
    webhook_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DeliveryRow>, i64)> {
    use webhook_deliveries::dsl as w;
    let total = w::webhook_deliveries.filter(w::webhook_id.eq(webhook_id)).count().get_result(conn)?;
    let rows = w::webhook_deliveries
        .filter(w::webhook_id.eq(webhook_id))
        .order((w::created_at.desc(), w::id))
        .offset(offset)
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempt: i32,
    pub at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

pub fn insert_attempt(conn: &mut DbConn, row: &AttemptRow) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table).values(row).execute(conn).map(|_| ())
}

pub fn attempts_of(conn: &mut DbConn, delivery_ids: &[String]) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .order((webhook_attempts::delivery_id, webhook_attempts::attempt))
        .select(AttemptRow::as_select())
        .load(conn)
}
