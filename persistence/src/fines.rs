//! Fine decisions, their payments, and the electronic receipts of every payment.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use dvc_domain::fine::FineStatus;
use dvc_domain::payment::PaymentStatus;

use crate::codes::Code;
use crate::schema::{agencies, fine_payments, fines, receipt_counters, receipts};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = fines, treat_none_as_null = true)]
pub struct FineRow {
    pub id: String,
    pub decision_number: String,
    pub agency_id: String,
    pub decided_on: NaiveDate,
    pub violator_name: String,
    pub violator_id_number: Option<String>,
    /// Without separators, upper case (`30A12345`).
    pub plate: Option<String>,
    pub violation: String,
    pub legal_basis: Option<String>,
    pub amount_vnd: i64,
    pub pay_by: NaiveDate,
    pub status: Code<FineStatus>,
    pub paid_at: Option<NaiveDateTime>,
    pub paid_vnd: Option<i64>,
    /// The integration client that registered it.
    pub registered_by: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = fine_payments, treat_none_as_null = true)]
pub struct FinePaymentRow {
    pub id: String,
    pub fine_id: String,
    pub provider: String,
    pub fine_vnd: i64,
    pub surcharge_vnd: i64,
    pub amount_vnd: i64,
    pub status: Code<PaymentStatus>,
    pub reference: String,
    pub provider_txn_no: Option<String>,
    pub bank_code: Option<String>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = receipts)]
pub struct ReceiptRow {
    pub id: String,
    /// The collecting agency.
    pub agency_id: String,
    pub year: i32,
    pub number: i32,
    pub series: String,
    /// `dossier` or `fine`.
    pub payment_kind: String,
    pub payment_id: String,
    pub payer_name: String,
    /// What was paid for.
    pub content: String,
    pub amount_vnd: i64,
    pub issued_at: NaiveDateTime,
    pub verification_code: String,
}

pub fn find_fine(conn: &mut DbConn, decision_number: &str) -> QueryResult<Option<FineRow>> {
    fines::table.filter(fines::decision_number.eq(decision_number)).select(FineRow::as_select()).first(conn).optional()
}

pub fn fine_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<FineRow>> {
    fines::table.find(id).select(FineRow::as_select()).first(conn).optional()
}

pub fn insert_fine(conn: &mut DbConn, row: &FineRow) -> QueryResult<usize> {
    diesel::insert_into(fines::table).values(row).execute(conn)
}

/// Replaces a fine's content if it is still at `version`; whether it was.
pub fn update_fine(conn: &mut DbConn, row: &FineRow, version: i32) -> QueryResult<bool> {
    let n = diesel::update(fines::table.filter(fines::id.eq(&row.id)).filter(fines::version.eq(version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks a fine paid if it was unpaid; whether it was.
pub fn mark_fine_paid(conn: &mut DbConn, id: &str, paid_vnd: i64, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(fines::table.filter(fines::id.eq(id)).filter(fines::status.eq(FineStatus::Unpaid.as_str())))
        .set((
            fines::status.eq(FineStatus::Paid.as_str()),
            fines::paid_at.eq(Some(at)),
            fines::paid_vnd.eq(Some(paid_vnd)),
            fines::version.eq(fines::version + 1),
            fines::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The issuing agency's code and name.
pub fn agency_of(conn: &mut DbConn, agency_id: &str) -> QueryResult<Option<(String, String)>> {
    agencies::table.find(agency_id).select((agencies::code, agencies::name)).first(conn).optional()
}

pub fn insert_payment(conn: &mut DbConn, row: &FinePaymentRow) -> QueryResult<usize> {
    diesel::insert_into(fine_payments::table).values(row).execute(conn)
}

pub fn payment(conn: &mut DbConn, id: &str) -> QueryResult<Option<FinePaymentRow>> {
    fine_payments::table.find(id).select(FinePaymentRow::as_select()).first(conn).optional()
}

pub fn payment_by_reference(conn: &mut DbConn, reference: &str) -> QueryResult<Option<FinePaymentRow>> {
    fine_payments::table
        .filter(fine_payments::reference.eq(reference))
        .select(FinePaymentRow::as_select())
        .first(conn)
        .optional()
}

/// Cancels a fine's pending payments (a new attempt supersedes them); how many.
pub fn cancel_pending(conn: &mut DbConn, fine_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        fine_payments::table
            .filter(fine_payments::fine_id.eq(fine_id))
            .filter(fine_payments::status.eq(PaymentStatus::Pending.as_str())),
    )
    .set((fine_payments::status.eq(PaymentStatus::Cancelled.as_str()), fine_payments::updated_at.eq(at)))
    .execute(conn)
}

/// Settles a payment if it is `from`; whether it was.
pub fn settle_payment(
    conn: &mut DbConn,
    id: &str,
    to: PaymentStatus,
    txn_no: Option<&str>,
    bank: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        fine_payments::table
            .filter(fine_payments::id.eq(id))
            .filter(fine_payments::status.eq(PaymentStatus::Pending.as_str())),
    )
    .set((
        fine_payments::status.eq(to.as_str()),
        fine_payments::provider_txn_no.eq(txn_no),
        fine_payments::bank_code.eq(bank),
        fine_payments::confirmed_at.eq(Some(at)),
        fine_payments::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn payments_created_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<FinePaymentRow>> {
    fine_payments::table
        .filter(fine_payments::created_at.ge(from).and(fine_payments::created_at.lt(to)))
        .select(FinePaymentRow::as_select())
        .order(fine_payments::created_at)
        .load(conn)
}

/// The next receipt number of an agency in a year, in the caller's transaction.
pub fn next_receipt_number(conn: &mut DbConn, agency_id: &str, year: i32) -> QueryResult<i32> {
    use receipt_counters::dsl as c;
    let row = (c::agency_id.eq(agency_id), c::year.eq(year), c::last_number.eq(1));
    crate::db_run!(conn, |c_| diesel::insert_into(c::receipt_counters)
        .values(row)
        .on_conflict((c::agency_id, c::year))
        .do_update()
        .set(c::last_number.eq(c::last_number + 1))
        .returning(c::last_number)
        .get_result(c_))
}

pub fn insert_receipt(conn: &mut DbConn, row: &ReceiptRow) -> QueryResult<usize> {
    diesel::insert_into(receipts::table).values(row).execute(conn)
}

pub fn receipt_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<ReceiptRow>> {
    receipts::table.filter(receipts::verification_code.eq(code)).select(ReceiptRow::as_select()).first(conn).optional()
}

pub fn receipt_of_payment(conn: &mut DbConn, payment_id: &str) -> QueryResult<Option<ReceiptRow>> {
    receipts::table.filter(receipts::payment_id.eq(payment_id)).select(ReceiptRow::as_select()).first(conn).optional()
}

pub fn receipts_of_payments(conn: &mut DbConn, payment_ids: &[String]) -> QueryResult<Vec<ReceiptRow>> {
    receipts::table.filter(receipts::payment_id.eq_any(payment_ids)).select(ReceiptRow::as_select()).load(conn)
}

pub fn payments_of_fine(conn: &mut DbConn, fine_id: &str) -> QueryResult<Vec<FinePaymentRow>> {
    fine_payments::table
        .filter(fine_payments::fine_id.eq(fine_id))
        .select(FinePaymentRow::as_select())
        .order(fine_payments::created_at)
        .load(conn)
}
