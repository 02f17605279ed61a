//! The dossier repository: dossiers as the domain's typed values, their history, their codes and
//! their public tracking. Rows hold coded and JSON columns as typed values (see `codes.rs`); a
//! row maps to a `Dossier` and back without parsing by hand.

use chrono::{NaiveDate, NaiveDateTime};
use const_format::concatcp;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::prelude::*;
use diesel::row::NamedRow;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamp};
use dvc_domain::dossier::{
    AccountId, AgencyId, Channel, DeadlineClock, Delivery, Dossier, DossierId, Event, ProcedureId, ProcedureSnapshot,
    Step, Timeliness,
};
use dvc_domain::payment::{FeePhase, PaymentStatus};
use dvc_domain::workflow::DossierStatus;
use serde_json::value::RawValue;

use crate::codes::{Code, Json};
use crate::columns;
use crate::prepared::{Bind, Prepared};
use crate::schema::{dossier_code_counters, dossier_events, dossiers};
use crate::{db_run, DbConn};

/// A JSON document kept as written: checked when read, never rebuilt.
pub type RawJson = Json<Box<RawValue>>;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossiers, treat_none_as_null = true)]
pub struct DossierRow {
    pub id: String,
    pub code: Option<String>,
    pub procedure_id: String,
    pub procedure_version: i32,
    /// The procedure as it was when the dossier took it (fees, documents, deadline).
    pub procedure_snapshot: Json<ProcedureSnapshot>,
    pub agency_id: String,
    pub applicant_id: Option<String>,
    /// The applicant block, prefilled from the profile.
    pub applicant: RawJson,
    pub status: Code<DossierStatus>,
    pub channel: Code<Channel>,
    pub form_data: RawJson,
    pub delivery: Json<Delivery>,
    pub submitted_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    pub due_date: Option<NaiveDate>,
    pub working_days_allowed: i32,
    /// Working days used before the current clock run (the clock stops for supplements).
    pub working_days_spent: i32,
    pub clock_started_on: Option<NaiveDate>,
    pub finished_at: Option<NaiveDateTime>,
    pub timeliness: Option<Code<Timeliness>>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Fees owed in total (before and after processing), fixed at submission.
    pub fee_vnd: i64,
    /// The appointment of the latest apology; `due_date` still judges the agency.
    pub rescheduled_due_date: Option<NaiveDate>,
}

/// The columns of `dossiers` in the table's order (both backends add columns at the end), as
/// `SELECT *` gives them. The row keeps all but `change_txid` and `change_seq`.
pub const COLUMNS: [&str; 27] = [
    "id",
    "code",
    "procedure_id",
    "procedure_version",
    "procedure_snapshot",
    "agency_id",
    "applicant_id",
    "applicant",
    "status",
    "channel",
    "form_data",
    "delivery",
    "submitted_at",
    "received_at",
    "due_date",
    "working_days_allowed",
    "working_days_spent",
    "clock_started_on",
    "finished_at",
    "timeliness",
    "version",
    "created_at",
    "updated_at",
    "fee_vnd",
    "change_txid",
    "change_seq",
    "rescheduled_due_date",
];

/// Read by position where the columns are the table's (`SELECT *`, alone or after others), by
/// name otherwise (see `columns`).
impl<DB> QueryableByName<DB> for DossierRow
where
    DB: Backend,
    String: FromSql<Text, DB>,
    Option<String>: FromSql<Nullable<Text>, DB>,
    i32: FromSql<Integer, DB>,
    i64: FromSql<BigInt, DB>,
    NaiveDateTime: FromSql<Timestamp, DB>,
    Option<NaiveDateTime>: FromSql<Nullable<Timestamp>, DB>,
    Option<NaiveDate>: FromSql<Nullable<Date>, DB>,
    Json<ProcedureSnapshot>: FromSql<Text, DB>,
    RawJson: FromSql<Text, DB>,
    Json<Delivery>: FromSql<Text, DB>,
    Code<DossierStatus>: FromSql<Text, DB>,
    Code<Channel>: FromSql<Text, DB>,
    Option<Code<Timeliness>>: FromSql<Nullable<Text>, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        let start = columns::start(row, COLUMNS[0]);
        // The column's place in the table and its type.
        macro_rules! col {
            ($at:literal, $st:ty) => {
                columns::column::<DB, $st, _>(row, start + $at, COLUMNS[$at])?
            };
        }
        Ok(DossierRow {
            id: col!(0, Text),
            code: col!(1, Nullable<Text>),
            procedure_id: col!(2, Text),
            procedure_version: col!(3, Integer),
            procedure_snapshot: col!(4, Text),
            agency_id: col!(5, Text),
            applicant_id: col!(6, Nullable<Text>),
            applicant: col!(7, Text),
            status: col!(8, Text),
            channel: col!(9, Text),
            form_data: col!(10, Text),
            delivery: col!(11, Text),
            submitted_at: col!(12, Nullable<Timestamp>),
            received_at: col!(13, Nullable<Timestamp>),
            due_date: col!(14, Nullable<Date>),
            working_days_allowed: col!(15, Integer),
            working_days_spent: col!(16, Integer),
            clock_started_on: col!(17, Nullable<Date>),
            finished_at: col!(18, Nullable<Timestamp>),
            timeliness: col!(19, Nullable<Text>),
            version: col!(20, Integer),
            created_at: col!(21, Timestamp),
            updated_at: col!(22, Timestamp),
            fee_vnd: col!(23, BigInt),
            rescheduled_due_date: col!(26, Nullable<Date>),
        })
    }
}

impl From<DossierRow> for Dossier {
    fn from(r: DossierRow) -> Self {
        Dossier {
            id: DossierId(r.id),
            code: r.code,
            procedure_id: ProcedureId(r.procedure_id),
            procedure_version: r.procedure_version,
            procedure: r.procedure_snapshot.0,
            agency_id: AgencyId(r.agency_id),
            applicant_id: r.applicant_id.map(AccountId),
            applicant: r.applicant.0,
            status: r.status.0,
            channel: r.channel.0,
            form_data: r.form_data.0,
            delivery: r.delivery.0,
            submitted_at: r.submitted_at,
            received_at: r.received_at,
            clock: DeadlineClock {
                working_days_allowed: r.working_days_allowed,
                working_days_spent: r.working_days_spent,
                running_since: r.clock_started_on,
                due_date: r.due_date,
                rescheduled_due_date: r.rescheduled_due_date,
            },
            finished_at: r.finished_at,
            timeliness: r.timeliness.map(|t| t.0),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            fee_vnd: r.fee_vnd,
        }
    }
}

impl From<&Dossier> for DossierRow {
    fn from(d: &Dossier) -> Self {
        DossierRow {
            id: d.id.0.clone(),
            code: d.code.clone(),
            procedure_id: d.procedure_id.0.clone(),
            procedure_version: d.procedure_version,
            procedure_snapshot: Json(d.procedure.clone()),
            agency_id: d.agency_id.0.clone(),
            applicant_id: d.applicant_id.as_ref().map(|a| a.0.clone()),
            applicant: Json(d.applicant.clone()),
            status: Code(d.status),
            channel: Code(d.channel),
            form_data: Json(d.form_data.clone()),
            delivery: Json(d.delivery.clone()),
            submitted_at: d.submitted_at,
            received_at: d.received_at,
            due_date: d.clock.due_date,
            working_days_allowed: d.clock.working_days_allowed,
            working_days_spent: d.clock.working_days_spent,
            clock_started_on: d.clock.running_since,
            finished_at: d.finished_at,
            timeliness: d.timeliness.map(Code),
            version: d.version,
            created_at: d.created_at,
            updated_at: d.updated_at,
            fee_vnd: d.fee_vnd,
            rescheduled_due_date: d.clock.rescheduled_due_date,
        }
    }
}

pub fn insert_dossier(conn: &mut DbConn, row: &DossierRow) -> QueryResult<()> {
    crate::dossier_writes::insert_dossiers(conn, std::slice::from_ref(row))
}

pub fn find_dossier(conn: &mut DbConn, id: &str) -> QueryResult<Option<DossierRow>> {
    dossiers::table.find(id).select(DossierRow::as_select()).first(conn).optional()
}

/// The dossier with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Dossier>> {
    Ok(find_dossier(conn, id)?.map(Dossier::from))
}

/// The dossier with this code.
pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Dossier>> {
    let row = dossiers::table.filter(dossiers::code.eq(code)).select(DossierRow::as_select()).first(conn).optional()?;
    Ok(row.map(Dossier::from))
}

/// Writes a new state of a dossier if nobody changed it since `expected_version` was read.
pub fn update_dossier(conn: &mut DbConn, row: &DossierRow, expected_version: i32) -> QueryResult<bool> {
    crate::dossier_writes::update_row(conn, row, expected_version)
}

/// Writes a new state of a dossier if it still has `expected_version`.
pub fn save(conn: &mut DbConn, d: &Dossier, expected_version: i32) -> QueryResult<bool> {
    update_dossier(conn, &DossierRow::from(d), expected_version)
}

/// A new version of a dossier that is still editable (draft or awaiting a supplement); false when
/// it no longer is.
pub fn touch_editable(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    // Fixed text (kept compiled, as the dossier writes are), for the two editable states.
    const SQL: &str = "UPDATE dossiers SET version = version + 1, updated_at = {} WHERE id = {} AND status IN ({}, {})";
    let [first, second] = DossierStatus::EDITABLE else {
        return Err(diesel::result::Error::QueryBuilderError("two editable states expected".into()));
    };
    let binds = vec![Bind::Timestamp(at), Bind::Text(id), Bind::Text(first.as_str()), Bind::Text(second.as_str())];
    Ok(Prepared::new(SQL, binds).execute(conn)? == 1)
}

pub fn delete_dossier(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(dossiers::table.find(id)).execute(conn)
}

/// Takes the next `count` numbers of a code prefix in a transaction of its own, committed at once;
/// answers the first of them. Call it outside any transaction. On PostgreSQL that is one statement
/// (`take_dossier_code_numbers`) whose commit does not wait for the disk: the transaction that uses
/// the numbers commits after it, durably, and a durable commit carries every earlier one with it;
/// if the server stops before that, the numbers were used by nothing that survived.
pub fn take_code_numbers(conn: &mut DbConn, prefix: &str, count: i32) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
    }
    let last = match conn {
        DbConn::Postgres(_) => {
            let taken: Vec<Taken> = Prepared::new(
                "SELECT take_dossier_code_numbers({}, {}) AS n",
                vec![Bind::Text(prefix), Bind::Int(count)],
            )
            .load(conn)?;
            taken.first().map(|t| t.n).ok_or(diesel::result::Error::NotFound)?
        }
        DbConn::Sqlite(_) => crate::db::write_transaction(conn, |conn| add_code_numbers(conn, prefix, count))?,
    };
    Ok(last - count + 1)
}

/// The next number of a code prefix (`<agency>-<yyMMdd>`), allocated in the database so that
/// concurrent submissions on several servers never share one.
pub fn next_code_number(conn: &mut DbConn, prefix: &str) -> QueryResult<i32> {
    add_code_numbers(conn, prefix, 1)
}

/// Adds `count` to the last number of a code prefix in the caller's transaction; the new last.
fn add_code_numbers(conn: &mut DbConn, prefix: &str, count: i32) -> QueryResult<i32> {
    use dossier_code_counters::dsl as c;
    let row = (c::prefix.eq(prefix), c::last_number.eq(count));
    db_run!(conn, |c_| diesel::insert_into(c::dossier_code_counters)
        .values(row)
        .on_conflict(c::prefix)
        .do_update()
        .set(c::last_number.eq(c::last_number + count))
        .returning(c::last_number)
        .get_result(c_))
}

/// Sets the last number used of code prefixes (after a bulk load wrote codes itself).
pub fn set_code_counters(conn: &mut DbConn, counters: &[(String, i32)]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    use dossier_code_counters::dsl as c;
    for chunk in counters.chunks(1000) {
        let rows: Vec<_> = chunk.iter().map(|(p, n)| (c::prefix.eq(p.as_str()), c::last_number.eq(*n))).collect();
        db_run!(conn, |c_| diesel::insert_into(c::dossier_code_counters)
            .values(&rows)
            .on_conflict(c::prefix)
            .do_update()
            .set(c::last_number.eq(excluded(c::last_number)))
            .execute(c_))?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_events)]
pub struct EventRow {
    pub id: String,
    pub dossier_id: String,
    pub at: NaiveDateTime,
    pub action: Code<Step>,
    pub from_status: Option<Code<DossierStatus>>,
    pub to_status: Code<DossierStatus>,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub note: Option<String>,
    /// JSON of what the move carried (reason, missing documents, new due date, ...).
    pub data: String,
}

impl EventRow {
    /// The stored history entry of a decided event.
    pub fn of(id: String, dossier_id: &str, at: NaiveDateTime, e: &Event) -> Self {
        EventRow {
            id,
            dossier_id: dossier_id.to_string(),
            at,
            action: Code(e.step),
            from_status: e.from.map(Code),
            to_status: Code(e.to),
            actor_id: e.actor_id.clone(),
            actor_role: e.actor_role.as_str().to_string(),
            note: e.note.clone(),
            data: serde_json::Value::Object(e.data.clone()).to_string(),
        }
    }
}

pub fn insert_event(conn: &mut DbConn, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(dossier_events::table).values(row).execute(conn).map(|_| ())
}

pub fn events(conn: &mut DbConn, dossier_id: &str) -> QueryResult<Vec<EventRow>> {
    dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .order((dossier_events::at, dossier_events::id))
        .select(EventRow::as_select())
        .load(conn)
}

/// One row of a dossier's public tracking: the dossier, the sums paid before and after
/// processing, and one step of its history (none for a dossier without steps).
#[derive(Debug, Clone, QueryableByName)]
pub struct TrackingRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: Code<DossierStatus>,
    /// The procedure snapshot as stored (each of a dossier's rows repeats it: parse the first).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub procedure_snapshot: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub submitted_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub received_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub due_date: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub rescheduled_due_date: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub timeliness: Option<Code<Timeliness>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub clock_started_on: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub paid_before: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub paid_after: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub step_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub step_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub step_action: Option<Code<Step>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub step_to_status: Option<Code<DossierStatus>>,
}

/// What public tracking reads of a dossier: the dossier, the sums paid before and after
/// processing, and its steps but the first.
const TRACKING: &str = concatcp!(
    "SELECT d.code, d.status, d.procedure_snapshot, d.submitted_at, d.received_at, d.due_date, \
     d.rescheduled_due_date, d.timeliness, d.clock_started_on, \
     CAST((SELECT COALESCE(SUM(p.amount_vnd), 0) FROM payments p WHERE p.dossier_id = d.id AND p.status = '",
    PaymentStatus::Paid.as_str(),
    "' AND p.phase = '",
    FeePhase::Before.as_str(),
    "') AS BIGINT) AS paid_before, \
     CAST((SELECT COALESCE(SUM(p.amount_vnd), 0) FROM payments p WHERE p.dossier_id = d.id AND p.status = '",
    PaymentStatus::Paid.as_str(),
    "' AND p.phase <> '",
    FeePhase::Before.as_str(),
    "') AS BIGINT) AS paid_after, \
     e.id AS step_id, e.at AS step_at, e.action AS step_action, e.to_status AS step_to_status \
     FROM dossiers d LEFT JOIN dossier_events e ON e.dossier_id = d.id AND e.action <> '",
    Step::Create.as_str(),
    "'"
);

/// Everything public tracking shows of the dossiers with these codes, in one statement: one row
/// per step after a dossier's creation, a dossier's rows together and in order (no rows for a code
/// no dossier has).
pub fn tracking(conn: &mut DbConn, codes: &[String]) -> QueryResult<Vec<TrackingRow>> {
    // Prepared once per connection for each length of the list of codes, and planned once; the
    // few steps of each dossier are put in order here rather than by a sort node in the plan.
    const BY_CODE: [&str; 7] = crate::listed_statement!(concatcp!(TRACKING, " WHERE d.code IN ("), ")");
    let mut rows: Vec<TrackingRow> = crate::prepared::keyed(conn, &BY_CODE, codes)?;
    rows.sort_by(|a, b| (&a.code, a.step_at, &a.step_id).cmp(&(&b.code, b.step_at, &b.step_id)));
    Ok(rows)
}
