//! Dossiers, their history, files and attachments, the holiday calendar and dossier codes.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::prepared::{json_array, Bind, Prepared};
use crate::schema::{dossier_attachments, dossier_code_counters, dossier_events, dossiers, files, holidays};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = holidays)]
pub struct HolidayRow {
    pub day: NaiveDate,
    pub name: String,
    /// A weekend day declared a working day (a swap), rather than a day off.
    pub working: bool,
    pub updated_at: NaiveDateTime,
}

pub fn list_holidays(conn: &mut DbConn, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<HolidayRow>> {
    holidays::table
        .filter(holidays::day.ge(from).and(holidays::day.le(to)))
        .order(holidays::day)
        .select(HolidayRow::as_select())
        .load(conn)
}

/// Every calendar entry (a few dozen a year), for working-day arithmetic.
pub fn all_holidays(conn: &mut DbConn) -> QueryResult<Vec<HolidayRow>> {
    holidays::table.select(HolidayRow::as_select()).load(conn)
}

pub fn put_holiday(conn: &mut DbConn, row: &HolidayRow) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        let existed = diesel::delete(holidays::table.find(row.day)).execute(conn)? > 0;
        diesel::insert_into(holidays::table).values(row).execute(conn)?;
        Ok(existed)
    })
}

pub fn delete_holiday(conn: &mut DbConn, day: NaiveDate) -> QueryResult<usize> {
    diesel::delete(holidays::table.find(day)).execute(conn)
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossiers, treat_none_as_null = true)]
pub struct DossierRow {
    pub id: String,
    pub code: Option<String>,
    pub procedure_id: String,
    pub procedure_version: i32,
    /// The procedure as it was when the dossier was created (fees, documents, deadline).
    pub procedure_snapshot: String,
    pub agency_id: String,
    pub applicant_id: Option<String>,
    /// JSON of the applicant block, prefilled from the profile.
    pub applicant: String,
    pub status: String,
    /// `online`, `counter` or `post`.
    pub channel: String,
    pub form_data: String,
    pub delivery: String,
    pub submitted_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    pub due_date: Option<NaiveDate>,
    pub working_days_allowed: i32,
    /// Working days used before the current clock run (the clock stops for supplements).
    pub working_days_spent: i32,
    pub clock_started_on: Option<NaiveDate>,
    pub finished_at: Option<NaiveDateTime>,
    pub timeliness: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Fees owed in total (before and after processing), fixed at submission.
    pub fee_vnd: i64,
}

pub fn insert_dossier(conn: &mut DbConn, row: &DossierRow) -> QueryResult<()> {
    diesel::insert_into(dossiers::table).values(row).execute(conn).map(|_| ())
}

pub fn find_dossier(conn: &mut DbConn, id: &str) -> QueryResult<Option<DossierRow>> {
    dossiers::table.find(id).select(DossierRow::as_select()).first(conn).optional()
}

pub fn find_dossier_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<DossierRow>> {
    dossiers::table.filter(dossiers::code.eq(code)).select(DossierRow::as_select()).first(conn).optional()
}

/// Writes a new state of a dossier if nobody changed it since `expected_version` was read.
pub fn update_dossier(conn: &mut DbConn, row: &DossierRow, expected_version: i32) -> QueryResult<bool> {
    let n = diesel::update(dossiers::table.find(&row.id).filter(dossiers::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// A new version of a dossier that is still editable (draft or awaiting a supplement); false when
/// it no longer is.
pub fn touch_editable(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(dossiers::table.find(id).filter(dossiers::status.eq_any(["draft", "supplement_requested"])))
        .set((dossiers::version.eq(dossiers::version + 1), dossiers::updated_at.eq(at)))
        .execute(conn)?;
    Ok(n == 1)
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
    match conn {
        DbConn::Postgres(pg) => diesel::insert_into(c::dossier_code_counters)
            .values(row)
            .on_conflict(c::prefix)
            .do_update()
            .set(c::last_number.eq(c::last_number + count))
            .returning(c::last_number)
            .get_result(pg),
        DbConn::Sqlite(lite) => diesel::insert_into(c::dossier_code_counters)
            .values(row)
            .on_conflict(c::prefix)
            .do_update()
            .set(c::last_number.eq(c::last_number + count))
            .returning(c::last_number)
            .get_result(lite),
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_events)]
pub struct EventRow {
    pub id: String,
    pub dossier_id: String,
    pub at: NaiveDateTime,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub note: Option<String>,
    /// JSON of what the move carried (reason, missing documents, new due date, ...).
    pub data: String,
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = files)]
pub struct FileRow {
    pub id: String,
    pub owner_id: Option<String>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where the bytes are, relative to the data directory.
    pub storage_key: String,
    /// 0 not digitised, 1 digitised, 2 reused, 3 reused from another dossier's result.
    pub digitization: i32,
    pub created_at: NaiveDateTime,
}

pub fn insert_file(conn: &mut DbConn, row: &FileRow) -> QueryResult<()> {
    diesel::insert_into(files::table).values(row).execute(conn).map(|_| ())
}

pub fn find_file(conn: &mut DbConn, id: &str) -> QueryResult<Option<FileRow>> {
    files::table.find(id).select(FileRow::as_select()).first(conn).optional()
}

pub fn files_of_owner(conn: &mut DbConn, owner_id: &str, offset: i64, limit: i64) -> QueryResult<(Vec<FileRow>, i64)> {
    let total = files::table.filter(files::owner_id.eq(owner_id)).count().get_result(conn)?;
    let rows = files::table
        .filter(files::owner_id.eq(owner_id))
        .order((files::created_at.desc(), files::id))
        .offset(offset)
        .limit(limit)
        .select(FileRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub dossier_id: String,
    /// The required-document slot of the procedure (`TK-KS`), or `result` for results.
    pub document_id: String,
    pub file_id: String,
    /// `applicant` (an attachment) or `result` (issued by the agency).
    pub kind: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_attachment(conn: &mut DbConn, row: &AttachmentRow) -> QueryResult<()> {
    diesel::insert_into(dossier_attachments::table).values(row).execute(conn).map(|_| ())
}

/// Attachments of a dossier with their files.
pub fn attachments(conn: &mut DbConn, dossier_id: &str, kind: &str) -> QueryResult<Vec<(AttachmentRow, FileRow)>> {
    dossier_attachments::table
        .inner_join(files::table)
        .filter(dossier_attachments::dossier_id.eq(dossier_id))
        .filter(dossier_attachments::kind.eq(kind))
        .order((dossier_attachments::created_at, dossier_attachments::id))
        .select((AttachmentRow::as_select(), FileRow::as_select()))
        .load(conn)
}

pub fn delete_attachment(conn: &mut DbConn, dossier_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(dossier_attachments::table.find(id).filter(dossier_attachments::dossier_id.eq(dossier_id)))
        .execute(conn)
}

/// Total bytes attached to a dossier (for the per-dossier limit).
pub fn attached_bytes(conn: &mut DbConn, dossier_id: &str) -> QueryResult<i64> {
    let sizes: Vec<i64> = dossier_attachments::table
        .inner_join(files::table)
        .filter(dossier_attachments::dossier_id.eq(dossier_id))
        .select(files::size)
        .load(conn)?;
    Ok(sizes.into_iter().sum())
}

/// Sets the last number used of code prefixes (after a bulk load wrote codes itself).
pub fn set_code_counters(conn: &mut DbConn, counters: &[(String, i32)]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    use dossier_code_counters::dsl as c;
    for chunk in counters.chunks(1000) {
        let rows: Vec<_> = chunk.iter().map(|(p, n)| (c::prefix.eq(p.as_str()), c::last_number.eq(*n))).collect();
        match conn {
            DbConn::Postgres(pg) => diesel::insert_into(c::dossier_code_counters)
                .values(&rows)
                .on_conflict(c::prefix)
                .do_update()
                .set(c::last_number.eq(excluded(c::last_number)))
                .execute(pg)?,
            DbConn::Sqlite(lite) => diesel::insert_into(c::dossier_code_counters)
                .values(&rows)
                .on_conflict(c::prefix)
                .do_update()
                .set(c::last_number.eq(excluded(c::last_number)))
                .execute(lite)?,
        };
    }
    Ok(())
}

/// The attachments (every kind) of several dossiers, in upload order.
pub fn attachments_of(conn: &mut DbConn, dossier_ids: &[String]) -> QueryResult<Vec<(AttachmentRow, FileRow)>> {
    dossier_attachments::table
        .inner_join(files::table)
        .filter(dossier_attachments::dossier_id.eq_any(dossier_ids))
        .order((dossier_attachments::created_at, dossier_attachments::id))
        .select((AttachmentRow::as_select(), FileRow::as_select()))
        .load(conn)
}

/// One row of a dossier's public tracking: the dossier, the sums paid before and after
/// processing, and one step of its history (none for a dossier without steps).
#[derive(Debug, Clone, QueryableByName)]
pub struct TrackingRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub procedure_snapshot: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub submitted_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub received_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub due_date: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub timeliness: Option<String>,
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
    pub step_action: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub step_to_status: Option<String>,
}

/// Everything public tracking shows of the dossiers with these codes, in one statement: one row
/// per step after a dossier's creation, a dossier's rows together and in order (no rows for a code
/// no dossier has).
pub fn tracking(conn: &mut DbConn, codes: &[String]) -> QueryResult<Vec<TrackingRow>> {
    // Prepared once per connection, then reused whatever the number of codes; the few steps of
    // each dossier are put in order here rather than by a sort node in the database's plan.
    let mut rows: Vec<TrackingRow> = match conn {
        DbConn::Postgres(_) => {
            static SQL: LazyLock<String> = LazyLock::new(|| format!("{TRACKING} WHERE d.code = ANY({{}})"));
            Prepared::new(&SQL, vec![Bind::Texts(codes)]).load(conn)?
        }
        DbConn::Sqlite(_) => {
            static SQL: LazyLock<String> =
                LazyLock::new(|| format!("{TRACKING} WHERE d.code IN (SELECT value FROM json_each({{}}))"));
            let json = json_array(codes)?;
            Prepared::new(&SQL, vec![Bind::Text(&json)]).load(conn)?
        }
    };
    rows.sort_by(|a, b| (&a.code, a.step_at, &a.step_id).cmp(&(&b.code, b.step_at, &b.step_id)));
    Ok(rows)
}

/// What public tracking reads of a dossier: the dossier, the sums paid before and after
/// processing, and its steps but the first.
const TRACKING: &str = "SELECT d.code, d.status, d.procedure_snapshot, d.submitted_at, d.received_at, d.due_date, \
     d.timeliness, d.clock_started_on, \
     CAST((SELECT COALESCE(SUM(p.amount_vnd), 0) FROM payments p \
           WHERE p.dossier_id = d.id AND p.status = 'paid' AND p.phase = 'before') AS BIGINT) AS paid_before, \
     CAST((SELECT COALESCE(SUM(p.amount_vnd), 0) FROM payments p \
           WHERE p.dossier_id = d.id AND p.status = 'paid' AND p.phase <> 'before') AS BIGINT) AS paid_after, \
     e.id AS step_id, e.at AS step_at, e.action AS step_action, e.to_status AS step_to_status \
     FROM dossiers d LEFT JOIN dossier_events e ON e.dossier_id = d.id AND e.action <> 'create'";
