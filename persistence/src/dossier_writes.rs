//! Writes of many dossiers at once (new drafts, bulk loads, workflow moves and their history
//! events), each kind in one statement: on PostgreSQL a prepared one whatever the number of rows
//! (the rows go in as arrays, `unnest`); on SQLite a multi-row insert, and the moves row by row,
//! since a statement there costs no round trip.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use dvc_domain::dossier::Dossier;

use crate::codes::Code;
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
    if let DbConn::Sqlite(c) = conn {
        diesel::insert_into(dossiers::table).values(rows).execute(c)?;
        return Ok(());
    }
    const SQL: &str = "INSERT INTO dossiers (id, code, procedure_id, procedure_version, procedure_snapshot, \
         agency_id, applicant_id, applicant, status, channel, form_data, delivery, submitted_at, received_at, \
         due_date, working_days_allowed, working_days_spent, clock_started_on, finished_at, timeliness, version, \
         created_at, updated_at, fee_vnd, rescheduled_due_date) \
         SELECT * FROM unnest({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})";
    let c = Columns::of(rows.iter())?;
    let n = Prepared::new(SQL, c.binds()).execute(conn)?;
    expect_rows(n, rows.len())
}

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
    if let DbConn::Sqlite(c) = conn {
        let mut written = Vec::with_capacity(moved.len());
        for m in moved {
            let d = m.dossier;
            let target = dossiers::table.find(&d.id.0).filter(dossiers::version.eq(m.expected_version));
            let columns = (
                dossiers::code.eq(&d.code),
                dossiers::procedure_version.eq(d.procedure_version),
                dossiers::status.eq(Code(d.status)),
                dossiers::submitted_at.eq(d.submitted_at),
                dossiers::received_at.eq(d.received_at),
                dossiers::due_date.eq(d.clock.due_date),
                dossiers::rescheduled_due_date.eq(d.clock.rescheduled_due_date),
                dossiers::working_days_allowed.eq(d.clock.working_days_allowed),
                dossiers::working_days_spent.eq(d.clock.working_days_spent),
                dossiers::clock_started_on.eq(d.clock.running_since),
                dossiers::finished_at.eq(d.finished_at),
                dossiers::timeliness.eq(d.timeliness.map(Code)),
                dossiers::version.eq(d.version),
                dossiers::updated_at.eq(d.updated_at),
                dossiers::fee_vnd.eq(d.fee_vnd),
            );
            // The snapshot goes in only when the dossier took another procedure version.
            let n = match m.procedure_changed {
                true => diesel::update(target)
                    .set((columns, dossiers::procedure_snapshot.eq(crate::codes::Json(d.procedure.clone()))))
                    .execute(c)?,
                false => diesel::update(target).set(columns).execute(c)?,
            };
            written.push(n == 1);
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
