//! Writes of many dossiers at once (new drafts, bulk loads, workflow moves and their history
//! events): on PostgreSQL each kind in one prepared statement whatever the number of rows (the
//! rows go in as arrays, `unnest`); on SQLite the dossiers of the service's batches row by row,
//! since a statement there costs no round trip, through one prepared statement per kind.
//!
//! SQLite compiles a statement's triggers with the statement, and the dossiers' triggers (list
//! counts, statistics rollups, change feed) are large: an `UPDATE` of a dossier took about 475 µs
//! to compile and 16 µs to run once compiled. diesel never keeps an `UPDATE` or a multi-row insert
//! compiled, so the writes here are [`Prepared`] statements of fixed text, which each connection
//! compiles once.

use chrono::{NaiveDate, NaiveDateTime};
use const_format::concatcp;
use diesel::prelude::*;
use dvc_domain::dossier::Dossier;

use crate::dossiers::{DossierRow, EventRow};
use crate::prepared::{column, Bind, Prepared};
use crate::schema::{dossier_events, dossiers};
use crate::DbConn;

/// Dossiers by id, in no particular order; ids without a dossier are left out.
pub fn find_dossiers(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Dossier>> {
    let rows: Vec<DossierRow> =
        dossiers::table.filter(dossiers::id.eq_any(ids)).select(DossierRow::as_select()).load(conn)?;
    Ok(rows.into_iter().map(Dossier::from).collect())
}

fn text_error(e: Box<dyn std::error::Error + Send + Sync>) -> diesel::result::Error {
    diesel::result::Error::SerializationError(e)
}

/// New dossiers.
pub fn insert_dossiers(conn: &mut DbConn, rows: &[DossierRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // A bulk load's batch on SQLite: one multi-row insert, its compilation shared by its rows.
    if let DbConn::Sqlite(c) = conn {
        if rows.len() > SQLITE_ROW_BY_ROW_MAX {
            diesel::insert_into(dossiers::table).values(rows).execute(c)?;
            return Ok(());
        }
    }
    let c = Columns::of(rows.iter())?;
    if let DbConn::Sqlite(_) = conn {
        for i in 0..rows.len() {
            let n = Prepared::new(concatcp!(INSERT, "VALUES (", PARAMS_25, ")"), c.row(i)).execute(conn)?;
            expect_rows(n, 1)?;
        }
        return Ok(());
    }
    let sql = concatcp!(INSERT, "SELECT * FROM unnest(", PARAMS_25, ")");
    let n = Prepared::new(sql, c.binds()).execute(conn)?;
    expect_rows(n, rows.len())
}

/// Writes the whole of a dossier's row (all but its id) if it still has `expected_version`;
/// whether it was written.
pub fn update_row(conn: &mut DbConn, row: &DossierRow, expected_version: i32) -> QueryResult<bool> {
    const SQL: &str = "UPDATE dossiers SET code = {}, procedure_id = {}, procedure_version = {}, \
         procedure_snapshot = {}, agency_id = {}, applicant_id = {}, applicant = {}, status = {}, channel = {}, \
         form_data = {}, delivery = {}, submitted_at = {}, received_at = {}, due_date = {}, \
         working_days_allowed = {}, working_days_spent = {}, clock_started_on = {}, finished_at = {}, \
         timeliness = {}, version = {}, created_at = {}, updated_at = {}, fee_vnd = {}, rescheduled_due_date = {} \
         WHERE id = {} AND version = {}";
    let c = Columns::of(std::iter::once(row))?;
    let mut binds = c.row(0);
    let id = binds.remove(0);
    binds.extend([id, Bind::Int(expected_version)]);
    Ok(Prepared::new(SQL, binds).execute(conn)? == 1)
}

/// Beyond this many new dossiers (more than a batch of requests holds), SQLite takes them in one
/// multi-row insert, compiled with its triggers once for them all: the seed's batches of 1,000
/// load 100,000 dossiers in 30 s that way, 47 s row by row.
const SQLITE_ROW_BY_ROW_MAX: usize = 64;

/// The start of an insert of dossiers, every column but the change feed's.
const INSERT: &str = "INSERT INTO dossiers (id, code, procedure_id, procedure_version, procedure_snapshot, \
     agency_id, applicant_id, applicant, status, channel, form_data, delivery, submitted_at, received_at, \
     due_date, working_days_allowed, working_days_spent, clock_started_on, finished_at, timeliness, version, \
     created_at, updated_at, fee_vnd, rescheduled_due_date) ";
const PARAMS_25: &str =
    "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}";

/// A workflow move to write: the dossier as it will be, the version it must still have, and
/// whether it took another procedure version (only then is its snapshot written again).
pub struct Moved<'a> {
    pub dossier: &'a Dossier,
    pub expected_version: i32,
    pub procedure_changed: bool,
}

/// Writes the new state of dossiers moved through the workflow, each only if it still has the
/// version its move was judged on; whether each one was written. A move changes the workflow's
/// columns, never the applicant's form, delivery or identity.
pub fn update_moved(conn: &mut DbConn, moved: &[Moved]) -> QueryResult<Vec<bool>> {
    if let DbConn::Sqlite(_) = conn {
        const SQL: &str = "UPDATE dossiers SET code = {}, procedure_version = {}, \
             procedure_snapshot = COALESCE({}, procedure_snapshot), status = {}, submitted_at = {}, received_at = {}, \
             due_date = {}, rescheduled_due_date = {}, working_days_allowed = {}, working_days_spent = {}, \
             clock_started_on = {}, finished_at = {}, timeliness = {}, version = {}, updated_at = {}, fee_vnd = {} \
             WHERE id = {} AND version = {}";
        let mut written = Vec::with_capacity(moved.len());
        for m in moved {
            let d = m.dossier;
            // The snapshot goes in only when the dossier took another procedure version.
            let snapshot = match m.procedure_changed {
                true => Some(crate::codes::Json(d.procedure.clone()).to_text().map_err(text_error)?),
                false => None,
            };
            let binds = vec![
                Bind::OptText(d.code.as_deref()),
                Bind::Int(d.procedure_version),
                Bind::OptText(snapshot.as_deref()),
                Bind::Text(d.status.as_str()),
                Bind::OptTimestamp(d.submitted_at),
                Bind::OptTimestamp(d.received_at),
                Bind::OptDate(d.clock.due_date),
                Bind::OptDate(d.clock.rescheduled_due_date),
                Bind::Int(d.clock.working_days_allowed),
                Bind::Int(d.clock.working_days_spent),
                Bind::OptDate(d.clock.running_since),
                Bind::OptTimestamp(d.finished_at),
                Bind::OptText(d.timeliness.map(|t| t.as_str())),
                Bind::Int(d.version),
                Bind::Timestamp(d.updated_at),
                Bind::BigInt(d.fee_vnd),
                Bind::Text(d.id.as_str()),
                Bind::Int(m.expected_version),
            ];
            written.push(Prepared::new(SQL, binds).execute(conn)? == 1);
        }
        return Ok(written);
    }
    if moved.is_empty() {
        return Ok(Vec::new());
    }
    // The snapshot goes in only for the dossiers that took another procedure version.
    const SQL: &str = "UPDATE dossiers AS d SET code = u.code, procedure_version = u.procedure_version, \
         procedure_snapshot = COALESCE(u.procedure_snapshot, d.procedure_snapshot), status = u.status, \
         submitted_at = u.submitted_at, received_at = u.received_at, due_date = u.due_date, \
         rescheduled_due_date = u.rescheduled_due_date, working_days_allowed = u.working_days_allowed, \
         working_days_spent = u.working_days_spent, clock_started_on = u.clock_started_on, \
         finished_at = u.finished_at, timeliness = u.timeliness, version = u.version, updated_at = u.updated_at, \
         fee_vnd = u.fee_vnd \
         FROM unnest({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) \
         AS u (id, code, procedure_version, procedure_snapshot, status, submitted_at, received_at, due_date, \
               rescheduled_due_date, working_days_allowed, working_days_spent, clock_started_on, finished_at, \
               timeliness, version, updated_at, fee_vnd, expected) \
         WHERE d.id = u.id AND d.version = u.expected RETURNING d.id";
    let id: Vec<String> = moved.iter().map(|m| m.dossier.id.0.clone()).collect();
    let code: Vec<Option<String>> = moved.iter().map(|m| m.dossier.code.clone()).collect();
    let procedure_version: Vec<i32> = moved.iter().map(|m| m.dossier.procedure_version).collect();
    let snapshot: Vec<Option<String>> = moved
        .iter()
        .map(|m| m.procedure_changed.then(|| crate::codes::Json(m.dossier.procedure.clone()).to_text()).transpose())
        .collect::<Result<_, _>>()
        .map_err(text_error)?;
    let status: Vec<String> = moved.iter().map(|m| m.dossier.status.as_str().to_string()).collect();
    let submitted_at: Vec<Option<NaiveDateTime>> = moved.iter().map(|m| m.dossier.submitted_at).collect();
    let received_at: Vec<Option<NaiveDateTime>> = moved.iter().map(|m| m.dossier.received_at).collect();
    let due_date: Vec<Option<NaiveDate>> = moved.iter().map(|m| m.dossier.clock.due_date).collect();
    let rescheduled: Vec<Option<NaiveDate>> = moved.iter().map(|m| m.dossier.clock.rescheduled_due_date).collect();
    let allowed: Vec<i32> = moved.iter().map(|m| m.dossier.clock.working_days_allowed).collect();
    let spent: Vec<i32> = moved.iter().map(|m| m.dossier.clock.working_days_spent).collect();
    let started: Vec<Option<NaiveDate>> = moved.iter().map(|m| m.dossier.clock.running_since).collect();
    let finished_at: Vec<Option<NaiveDateTime>> = moved.iter().map(|m| m.dossier.finished_at).collect();
    let timeliness: Vec<Option<String>> =
        moved.iter().map(|m| m.dossier.timeliness.map(|t| t.as_str().to_string())).collect();
    let version: Vec<i32> = moved.iter().map(|m| m.dossier.version).collect();
    let updated_at: Vec<NaiveDateTime> = moved.iter().map(|m| m.dossier.updated_at).collect();
    let fee_vnd: Vec<i64> = moved.iter().map(|m| m.dossier.fee_vnd).collect();
    let expected: Vec<i32> = moved.iter().map(|m| m.expected_version).collect();
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let written: Vec<Written> = Prepared::new(
        SQL,
        vec![
            Bind::Texts(&id),
            Bind::OptTexts(&code),
            Bind::Ints(&procedure_version),
            Bind::OptTexts(&snapshot),
            Bind::Texts(&status),
            Bind::OptTimestamps(&submitted_at),
            Bind::OptTimestamps(&received_at),
            Bind::OptDates(&due_date),
            Bind::OptDates(&rescheduled),
            Bind::Ints(&allowed),
            Bind::Ints(&spent),
            Bind::OptDates(&started),
            Bind::OptTimestamps(&finished_at),
            Bind::OptTexts(&timeliness),
            Bind::Ints(&version),
            Bind::Timestamps(&updated_at),
            Bind::BigInts(&fee_vnd),
            Bind::Ints(&expected),
        ],
    )
    .load(conn)?;
    Ok(moved.iter().map(|m| written.iter().any(|w| w.id == m.dossier.id.0)).collect())
}

/// History events.
pub fn insert_events(conn: &mut DbConn, rows: &[EventRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // No triggers on events: SQLite compiles a multi-row insert of them quickly.
    if let DbConn::Sqlite(c) = conn {
        diesel::insert_into(dossier_events::table).values(rows).execute(c)?;
        return Ok(());
    }
    const SQL: &str = "INSERT INTO dossier_events (id, dossier_id, at, action, from_status, to_status, actor_id, \
         actor_role, note, data) SELECT * FROM unnest({}, {}, {}, {}, {}, {}, {}, {}, {}, {})";
    let (id, dossier_id, actor_role, data) = (
        column(rows, |r| &r.id),
        column(rows, |r| &r.dossier_id),
        column(rows, |r| &r.actor_role),
        column(rows, |r| &r.data),
    );
    let (actor_id, note) = (column(rows, |r| &r.actor_id), column(rows, |r| &r.note));
    let action: Vec<String> = rows.iter().map(|r| r.action.0.as_str().to_string()).collect();
    let from_status: Vec<Option<String>> =
        rows.iter().map(|r| r.from_status.map(|s| s.0.as_str().to_string())).collect();
    let to_status: Vec<String> = rows.iter().map(|r| r.to_status.0.as_str().to_string()).collect();
    let at = column(rows, |r| &r.at);
    let n = Prepared::new(
        SQL,
        vec![
            Bind::Texts(&id),
            Bind::Texts(&dossier_id),
            Bind::Timestamps(&at),
            Bind::Texts(&action),
            Bind::OptTexts(&from_status),
            Bind::Texts(&to_status),
            Bind::OptTexts(&actor_id),
            Bind::Texts(&actor_role),
            Bind::OptTexts(&note),
            Bind::Texts(&data),
        ],
    )
    .execute(conn)?;
    expect_rows(n, rows.len())
}

fn expect_rows(written: usize, expected: usize) -> QueryResult<()> {
    if written == expected {
        Ok(())
    } else {
        Err(diesel::result::Error::QueryBuilderError(format!("{written} rows written of {expected}").into()))
    }
}

/// The columns of dossier rows, one array each, for `unnest`.
#[derive(Default)]
struct Columns {
    id: Vec<String>,
    code: Vec<Option<String>>,
    procedure_id: Vec<String>,
    procedure_version: Vec<i32>,
    procedure_snapshot: Vec<String>,
    agency_id: Vec<String>,
    applicant_id: Vec<Option<String>>,
    applicant: Vec<String>,
    status: Vec<String>,
    channel: Vec<String>,
    form_data: Vec<String>,
    delivery: Vec<String>,
    submitted_at: Vec<Option<NaiveDateTime>>,
    received_at: Vec<Option<NaiveDateTime>>,
    due_date: Vec<Option<NaiveDate>>,
    working_days_allowed: Vec<i32>,
    working_days_spent: Vec<i32>,
    clock_started_on: Vec<Option<NaiveDate>>,
    finished_at: Vec<Option<NaiveDateTime>>,
    timeliness: Vec<Option<String>>,
    version: Vec<i32>,
    created_at: Vec<NaiveDateTime>,
    updated_at: Vec<NaiveDateTime>,
    fee_vnd: Vec<i64>,
    rescheduled_due_date: Vec<Option<NaiveDate>>,
}

impl Columns {
    /// Every column, in the order of the statement.
    fn binds(&self) -> Vec<Bind<'_>> {
        vec![
            Bind::Texts(&self.id),
            Bind::OptTexts(&self.code),
            Bind::Texts(&self.procedure_id),
            Bind::Ints(&self.procedure_version),
            Bind::Texts(&self.procedure_snapshot),
            Bind::Texts(&self.agency_id),
            Bind::OptTexts(&self.applicant_id),
            Bind::Texts(&self.applicant),
            Bind::Texts(&self.status),
            Bind::Texts(&self.channel),
            Bind::Texts(&self.form_data),
            Bind::Texts(&self.delivery),
            Bind::OptTimestamps(&self.submitted_at),
            Bind::OptTimestamps(&self.received_at),
            Bind::OptDates(&self.due_date),
            Bind::Ints(&self.working_days_allowed),
            Bind::Ints(&self.working_days_spent),
            Bind::OptDates(&self.clock_started_on),
            Bind::OptTimestamps(&self.finished_at),
            Bind::OptTexts(&self.timeliness),
            Bind::Ints(&self.version),
            Bind::Timestamps(&self.created_at),
            Bind::Timestamps(&self.updated_at),
            Bind::BigInts(&self.fee_vnd),
            Bind::OptDates(&self.rescheduled_due_date),
        ]
    }

    /// One row's columns, in the order of the statement.
    fn row(&self, i: usize) -> Vec<Bind<'_>> {
        vec![
            Bind::Text(&self.id[i]),
            Bind::OptText(self.code[i].as_deref()),
            Bind::Text(&self.procedure_id[i]),
            Bind::Int(self.procedure_version[i]),
            Bind::Text(&self.procedure_snapshot[i]),
            Bind::Text(&self.agency_id[i]),
            Bind::OptText(self.applicant_id[i].as_deref()),
            Bind::Text(&self.applicant[i]),
            Bind::Text(&self.status[i]),
            Bind::Text(&self.channel[i]),
            Bind::Text(&self.form_data[i]),
            Bind::Text(&self.delivery[i]),
            Bind::OptTimestamp(self.submitted_at[i]),
            Bind::OptTimestamp(self.received_at[i]),
            Bind::OptDate(self.due_date[i]),
            Bind::Int(self.working_days_allowed[i]),
            Bind::Int(self.working_days_spent[i]),
            Bind::OptDate(self.clock_started_on[i]),
            Bind::OptTimestamp(self.finished_at[i]),
            Bind::OptText(self.timeliness[i].as_deref()),
            Bind::Int(self.version[i]),
            Bind::Timestamp(self.created_at[i]),
            Bind::Timestamp(self.updated_at[i]),
            Bind::BigInt(self.fee_vnd[i]),
            Bind::OptDate(self.rescheduled_due_date[i]),
        ]
    }

    fn of<'a>(rows: impl Iterator<Item = &'a DossierRow>) -> QueryResult<Self> {
        let mut c = Columns::default();
        for r in rows {
            c.id.push(r.id.clone());
            c.code.push(r.code.clone());
            c.procedure_id.push(r.procedure_id.clone());
            c.procedure_version.push(r.procedure_version);
            c.procedure_snapshot.push(r.procedure_snapshot.to_text().map_err(text_error)?);
            c.agency_id.push(r.agency_id.clone());
            c.applicant_id.push(r.applicant_id.clone());
            c.applicant.push(r.applicant.0.get().to_string());
            c.status.push(r.status.0.as_str().to_string());
            c.channel.push(r.channel.0.as_str().to_string());
            c.form_data.push(r.form_data.0.get().to_string());
            c.delivery.push(r.delivery.to_text().map_err(text_error)?);
            c.submitted_at.push(r.submitted_at);
            c.received_at.push(r.received_at);
            c.due_date.push(r.due_date);
            c.working_days_allowed.push(r.working_days_allowed);
            c.working_days_spent.push(r.working_days_spent);
            c.clock_started_on.push(r.clock_started_on);
            c.finished_at.push(r.finished_at);
            c.timeliness.push(r.timeliness.map(|t| t.0.as_str().to_string()));
            c.version.push(r.version);
            c.created_at.push(r.created_at);
            c.updated_at.push(r.updated_at);
            c.fee_vnd.push(r.fee_vnd);
            c.rescheduled_due_date.push(r.rescheduled_due_date);
        }
        Ok(c)
    }
}
