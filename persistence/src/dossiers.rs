//! Dossiers, their history, files and attachments, the holiday calendar and dossier codes.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::dsl::sql;
use diesel::prelude::*;

use crate::prepared::{Bind, Prepared};
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

/// Filters of dossier lists.
#[derive(Debug, Default, Clone)]
pub struct DossierFilter {
    pub applicant_id: Option<String>,
    pub agency_id: Option<String>,
    pub status: Option<String>,
    pub procedure_id: Option<String>,
    pub code: Option<String>,
    /// Only those past their due date and not finished (as of `today`).
    pub overdue_on: Option<NaiveDate>,
    pub exclude_drafts: bool,
}

type DB = <DbConn as diesel::Connection>::Backend;

fn dossier_query(f: &DossierFilter) -> dossiers::BoxedQuery<'_, DB> {
    let mut q = dossiers::table.into_boxed();
    if let Some(a) = &f.applicant_id {
        q = q.filter(dossiers::applicant_id.eq(a));
    }
    if let Some(a) = &f.agency_id {
        q = q.filter(dossiers::agency_id.eq(a));
    }
    if let Some(s) = &f.status {
        q = q.filter(dossiers::status.eq(s));
    }
    if let Some(p) = &f.procedure_id {
        q = q.filter(dossiers::procedure_id.eq(p));
    }
    if let Some(c) = &f.code {
        q = q.filter(dossiers::code.eq(c));
    }
    if let Some(today) = f.overdue_on {
        q = q.filter(dossiers::due_date.lt(today)).filter(dossiers::status.eq_any(["received", "processing"]));
    }
    if f.exclude_drafts {
        // A literal, not a parameter, so that the planner can use the inbox's partial index.
        q = q.filter(sql::<diesel::sql_types::Bool>("dossiers.status <> 'draft'"));
    }
    q
}

/// A page of dossiers with the size of the whole list.
pub fn list_dossiers(
    conn: &mut DbConn,
    f: &DossierFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DossierRow>, i64)> {
    let total = list_total(conn, f)?;
    Ok((list_page(conn, f, offset, limit)?, total))
}

/// The lists whose size and version the database keeps (migrations 13 and 14): `Applicant` (all
/// of an applicant's dossiers) and `Inbox` (an agency's dossiers but drafts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeptList {
    Applicant,
    Inbox,
}

impl KeptList {
    pub fn kind(self) -> &'static str {
        match self {
            KeptList::Applicant => "applicant",
            KeptList::Inbox => "inbox",
        }
    }
}

impl DossierFilter {
    /// The kept list that holds every dossier this filter selects, and its key.
    pub fn kept_list(&self) -> Option<(KeptList, &str)> {
        match self {
            DossierFilter { applicant_id: Some(a), agency_id: None, .. } => Some((KeptList::Applicant, a)),
            DossierFilter { applicant_id: None, agency_id: Some(a), exclude_drafts: true, .. } => {
                Some((KeptList::Inbox, a))
            }
            _ => None,
        }
    }

    /// Whether the filter selects the whole of its kept list.
    pub fn is_whole_list(&self) -> bool {
        self.kept_list().is_some()
            && self.status.is_none()
            && self.procedure_id.is_none()
            && self.code.is_none()
            && self.overdue_on.is_none()
            && (self.applicant_id.is_none() || !self.exclude_drafts)
    }
}

/// How many dossiers a filter selects: read from the kept list when it is a whole one.
pub fn list_total(conn: &mut DbConn, f: &DossierFilter) -> QueryResult<i64> {
    match f.kept_list() {
        Some((list, key)) if f.is_whole_list() => {
            let keys = [key.to_string()];
            Ok(list_states(conn, list, &keys)?.get(key).map_or(0, |s| s.total))
        }
        _ => dossier_query(f).count().get_result(conn),
    }
}

/// A page of dossiers: the applicant's newest first, an agency's by due date.
pub fn list_page(conn: &mut DbConn, f: &DossierFilter, offset: i64, limit: i64) -> QueryResult<Vec<DossierRow>> {
    let q = dossier_query(f).select(DossierRow::as_select()).offset(offset).limit(limit);
    if f.agency_id.is_some() {
        // Nearest due date first, those without one last (the order of the inbox index).
        q.order((
            sql::<diesel::sql_types::Date>("dossiers.due_date ASC NULLS LAST"),
            dossiers::submitted_at,
            dossiers::id,
        ))
        .load(conn)
    } else {
        q.order((dossiers::created_at.desc(), dossiers::id.desc())).load(conn)
    }
}

/// Pages of whole kept lists of one kind, each given by its key, offset and size: one statement
/// for them all on PostgreSQL (each page read by its list's index), one per page on SQLite.
pub fn whole_list_pages(
    conn: &mut DbConn,
    list: KeptList,
    pages: &[(String, i64, i64)],
) -> QueryResult<Vec<Vec<DossierRow>>> {
    if let DbConn::Sqlite(_) = conn {
        return pages
            .iter()
            .map(|(key, offset, limit)| {
                let filter = match list {
                    KeptList::Applicant => DossierFilter { applicant_id: Some(key.clone()), ..Default::default() },
                    KeptList::Inbox => {
                        DossierFilter { agency_id: Some(key.clone()), exclude_drafts: true, ..Default::default() }
                    }
                };
                list_page(conn, &filter, *offset, *limit)
            })
            .collect();
    }
    const APPLICANT: &str = "SELECT r.slot, d.* FROM unnest({}, {}, {}) WITH ORDINALITY AS r (key, skip, take, slot) \
         CROSS JOIN LATERAL (SELECT * FROM dossiers x WHERE x.applicant_id = r.key \
         ORDER BY x.created_at DESC, x.id DESC OFFSET r.skip LIMIT r.take) d";
    const INBOX: &str = "SELECT r.slot, d.* FROM unnest({}, {}, {}) WITH ORDINALITY AS r (key, skip, take, slot) \
         CROSS JOIN LATERAL (SELECT * FROM dossiers x WHERE x.agency_id = r.key AND x.status <> 'draft' \
         ORDER BY x.due_date ASC NULLS LAST, x.submitted_at, x.id OFFSET r.skip LIMIT r.take) d";
    #[derive(QueryableByName)]
    struct Slotted {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        slot: i64,
        #[diesel(embed)]
        row: DossierRow,
    }
    let keys: Vec<String> = pages.iter().map(|p| p.0.clone()).collect();
    let offsets: Vec<i64> = pages.iter().map(|p| p.1).collect();
    let limits: Vec<i64> = pages.iter().map(|p| p.2).collect();
    let sql = match list {
        KeptList::Applicant => APPLICANT,
        KeptList::Inbox => INBOX,
    };
    let rows: Vec<Slotted> =
        Prepared::new(sql, vec![Bind::Texts(&keys), Bind::BigInts(&offsets), Bind::BigInts(&limits)]).load(conn)?;
    let mut out: Vec<Vec<DossierRow>> = vec![Vec::new(); pages.len()];
    for r in rows {
        if let Some(page) = usize::try_from(r.slot - 1).ok().and_then(|i| out.get_mut(i)) {
            page.push(r.row);
        }
    }
    // Each page in its list's order (the statement's order holds only within its plan).
    for page in &mut out {
        match list {
            KeptList::Applicant => page.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id))),
            KeptList::Inbox => page.sort_by(|a, b| {
                let key = |r: &DossierRow| {
                    (r.due_date.is_none(), r.due_date, r.submitted_at.is_none(), r.submitted_at, r.id.clone())
                };
                key(a).cmp(&key(b))
            }),
        }
    }
    Ok(out)
}

/// What the database keeps of a list: how many dossiers it holds, and its version, which moves
/// with every change to its dossiers, their attachments and payments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    pub total: i64,
    pub version: i64,
}

#[derive(QueryableByName)]
struct ListStateRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
}

/// The kept state of the lists of one kind with these keys, each the sum of its shares, in one
/// statement; a list without a row is empty and at version 0.
pub fn list_states(conn: &mut DbConn, list: KeptList, keys: &[String]) -> QueryResult<HashMap<String, ListState>> {
    const SUMS: &str = "SELECT key, CAST(SUM(n) AS BIGINT) AS total, CAST(SUM(changes) AS BIGINT) AS version \
         FROM dossier_counts WHERE kind = {} AND key";
    let rows: Vec<ListStateRow> = match conn {
        DbConn::Postgres(_) => {
            static SQL: LazyLock<String> = LazyLock::new(|| format!("{SUMS} = ANY({{}}) GROUP BY key"));
            Prepared::new(&SQL, vec![Bind::Text(list.kind()), Bind::Texts(keys)]).load(conn)?
        }
        DbConn::Sqlite(_) => {
            static SQL: LazyLock<String> =
                LazyLock::new(|| format!("{SUMS} IN (SELECT value FROM json_each({{}})) GROUP BY key"));
            let json = json_array(keys)?;
            Prepared::new(&SQL, vec![Bind::Text(list.kind()), Bind::Text(&json)]).load(conn)?
        }
    };
    Ok(rows.into_iter().map(|r| (r.key, ListState { total: r.total, version: r.version })).collect())
}

/// Values as one JSON array, the way SQLite takes a list of parameters (`json_each`).
fn json_array(values: &[String]) -> QueryResult<String> {
    serde_json::to_string(values).map_err(|e| diesel::result::Error::SerializationError(e.into()))
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

/// Counts of an applicant's dossiers per status.
pub fn count_by_status(conn: &mut DbConn, applicant_id: &str) -> QueryResult<Vec<(String, i64)>> {
    dossiers::table
        .filter(dossiers::applicant_id.eq(applicant_id))
        .group_by(dossiers::status)
        .select((dossiers::status, count_star()))
        .load(conn)
}

pub fn count(conn: &mut DbConn, f: &DossierFilter) -> QueryResult<i64> {
    dossier_query(f).count().get_result(conn)
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

/// Inserts dossiers in one multi-row statement (bulk loads).
pub fn insert_dossiers_batch(conn: &mut DbConn, rows: &[DossierRow]) -> QueryResult<usize> {
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(dossiers::table).values(rows).execute(c),
        DbConn::Sqlite(c) => diesel::insert_into(dossiers::table).values(rows).execute(c),
    }
}

pub fn insert_events_batch(conn: &mut DbConn, rows: &[EventRow]) -> QueryResult<usize> {
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(dossier_events::table).values(rows).execute(c),
        DbConn::Sqlite(c) => diesel::insert_into(dossier_events::table).values(rows).execute(c),
    }
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
