//! Payments, gateway callbacks and idempotency keys.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use dvc_domain::payment::{FeePhase, PaymentStatus};

use crate::codes::Code;
use crate::prepared::{Bind, Prepared};
use crate::schema::{idempotency_keys, payment_callbacks, payments};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub dossier_id: String,
    pub phase: Code<FeePhase>,
    /// `sandbox` or `vnpay`.
    pub provider: String,
    pub amount_vnd: i64,
    pub status: Code<PaymentStatus>,
    /// The merchant reference sent to the gateway (`vnp_TxnRef`).
    pub reference: String,
    pub provider_txn_no: Option<String>,
    pub bank_code: Option<String>,
    /// When a signed confirmation from the gateway (or the sandbox) was accepted.
    pub confirmed_at: Option<NaiveDateTime>,
    pub refund_reason: Option<String>,
    pub refunded_by: Option<String>,
    pub refunded_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PaymentRow>> {
    payments::table.find(id).select(PaymentRow::as_select()).first(conn).optional()
}

pub fn find_by_reference(conn: &mut DbConn, reference: &str) -> QueryResult<Option<PaymentRow>> {
    payments::table.filter(payments::reference.eq(reference)).select(PaymentRow::as_select()).first(conn).optional()
}

/// Writes the whole of a payment's row (all but its id).
///
/// The writes of payments are statements of fixed text, which each connection compiles once:
/// SQLite compiles a statement's triggers with it (a payment's list versions and statistics),
/// and diesel keeps no `UPDATE` compiled, so each call compiled them again (212 µs against 17 µs).
pub fn update(conn: &mut DbConn, row: &PaymentRow) -> QueryResult<usize> {
    const SQL: &str = "UPDATE payments SET dossier_id = {}, phase = {}, provider = {}, amount_vnd = {}, \
         status = {}, reference = {}, provider_txn_no = {}, bank_code = {}, confirmed_at = {}, refund_reason = {}, \
         refunded_by = {}, refunded_at = {}, created_by = {}, created_at = {}, updated_at = {} WHERE id = {}";
    let binds = vec![
        Bind::Text(&row.dossier_id),
        Bind::Text(row.phase.0.as_str()),
        Bind::Text(&row.provider),
        Bind::BigInt(row.amount_vnd),
        Bind::Text(row.status.0.as_str()),
        Bind::Text(&row.reference),
        Bind::OptText(row.provider_txn_no.as_deref()),
        Bind::OptText(row.bank_code.as_deref()),
        Bind::OptTimestamp(row.confirmed_at),
        Bind::OptText(row.refund_reason.as_deref()),
        Bind::OptText(row.refunded_by.as_deref()),
        Bind::OptTimestamp(row.refunded_at),
        Bind::OptText(row.created_by.as_deref()),
        Bind::Timestamp(row.created_at),
        Bind::Timestamp(row.updated_at),
        Bind::Text(&row.id),
    ];
    Prepared::new(SQL, binds).execute(conn)
}

/// Moves a payment from `from` to paid, only if it is still in `from`; false when someone else did.
pub fn mark_paid(
    conn: &mut DbConn,
    id: &str,
    from: PaymentStatus,
    txn_no: Option<&str>,
    bank: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    // Of fixed text, as `update`.
    const SQL: &str = "UPDATE payments SET status = {}, provider_txn_no = {}, bank_code = {}, confirmed_at = {}, \
         updated_at = {} WHERE id = {} AND status = {}";
    let binds = vec![
        Bind::Text(PaymentStatus::Paid.as_str()),
        Bind::OptText(txn_no),
        Bind::OptText(bank),
        Bind::Timestamp(at),
        Bind::Timestamp(at),
        Bind::Text(id),
        Bind::Text(from.as_str()),
    ];
    Ok(Prepared::new(SQL, binds).execute(conn)? == 1)
}

pub fn of_dossier(conn: &mut DbConn, dossier_id: &str) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::dossier_id.eq(dossier_id))
        .order((payments::created_at, payments::id))
        .select(PaymentRow::as_select())
        .load(conn)
}

/// Payments created in `[from, to)`.
pub fn created_between(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::created_at.ge(from).and(payments::created_at.lt(to)))
        .order((payments::provider, payments::status, payments::created_at))
        .select(PaymentRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_callbacks)]
pub struct CallbackRow {
    pub id: String,
    pub provider: String,
    pub reference: Option<String>,
    pub payload: String,
    pub signature_valid: bool,
    /// The answer given (`00`, `01`, `02`, `04`, `97`, `99`).
    pub outcome: String,
    pub created_at: NaiveDateTime,
}

pub fn record_callback(conn: &mut DbConn, row: &CallbackRow) -> QueryResult<()> {
    diesel::insert_into(payment_callbacks::table).values(row).execute(conn).map(|_| ())
}

pub fn callbacks_between(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<Vec<CallbackRow>> {
    payment_callbacks::table
        .filter(payment_callbacks::created_at.ge(from).and(payment_callbacks::created_at.lt(to)))
        .order(payment_callbacks::created_at)
        .select(CallbackRow::as_select())
        .load(conn)
}

/// How many valid confirmations a reference received.
pub fn confirmations(conn: &mut DbConn, reference: &str) -> QueryResult<i64> {
    payment_callbacks::table
        .filter(payment_callbacks::reference.eq(reference))
        .filter(payment_callbacks::signature_valid.eq(true))
        .filter(payment_callbacks::outcome.eq("00"))
        .select(count_star())
        .first(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub scope: String,
    pub idem_key: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn find_key(conn: &mut DbConn, scope: &str, key: &str) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table.find((scope, key)).select(IdempotencyRow::as_select()).first(conn).optional()
}

pub fn insert_key(conn: &mut DbConn, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table).values(row).execute(conn).map(|_| ())
}

/// The payments of several dossiers, oldest first.
pub fn of_dossiers(conn: &mut DbConn, dossier_ids: &[String]) -> QueryResult<Vec<PaymentRow>> {
    const OF: [&str; 7] = crate::listed_statement!("SELECT * FROM payments WHERE dossier_id IN (", ")");
    let mut rows: Vec<PaymentRow> = crate::prepared::keyed(conn, &OF, dossier_ids)?;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows)
}

/// Stores the answer of a claimed key.
pub fn answer_key(conn: &mut DbConn, scope: &str, key: &str, status: i32, body: &str) -> QueryResult<usize> {
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set((idempotency_keys::status.eq(status), idempotency_keys::body.eq(body)))
        .execute(conn)
}
