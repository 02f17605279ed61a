//! Lists of dossiers: the filters of the applicants' and officers' lists, their pages and totals,
//! and what the database keeps of the lists it counts (migrations 13 and 14).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use const_format::concatcp;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Text, Timestamp};
use dvc_domain::page::DEFAULT_PER_PAGE;
use dvc_domain::workflow::DossierStatus;

use crate::codes::Code;
use crate::dossiers::DossierRow;
use crate::prepared::{list_slot, Bind, Prepared, LIST_LENGTHS, LONGEST_LIST};
use crate::schema::dossiers;
use crate::DbConn;

/// Filters of dossier lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DossierFilter {
    pub applicant_id: Option<String>,
    pub agency_id: Option<String>,
    pub status: Option<DossierStatus>,
    pub procedure_id: Option<String>,
    pub code: Option<String>,
    /// Only those past their due date and not finished (as of `today`).
    pub overdue_on: Option<NaiveDate>,
    pub exclude_drafts: bool,
}

type DB = <DbConn as diesel::Connection>::Backend;

/// Dossiers that are not drafts, as the inbox's partial index states it.
const NOT_DRAFT: &str = concatcp!("dossiers.status <> '", DossierStatus::Draft.as_str(), "'");

fn dossier_query(f: &DossierFilter) -> dossiers::BoxedQuery<'_, DB> {
    let mut q = dossiers::table.into_boxed();
    if let Some(a) = &f.applicant_id {
        q = q.filter(dossiers::applicant_id.eq(a));
    }
    if let Some(a) = &f.agency_id {
        q = q.filter(dossiers::agency_id.eq(a));
    }
    if let Some(s) = f.status {
        q = q.filter(dossiers::status.eq(Code(s)));
    }
    if let Some(p) = &f.procedure_id {
        q = q.filter(dossiers::procedure_id.eq(p));
    }
    if let Some(c) = &f.code {
        q = q.filter(dossiers::code.eq(c));
    }
    if let Some(today) = f.overdue_on {
        q = q
            .filter(dossiers::due_date.lt(today))
            .filter(dossiers::status.eq_any(Code::all(DossierStatus::CLOCK_RUNNING)));
    }
    if f.exclude_drafts {
        // A literal, not a parameter, so that the planner can use the inbox's partial index.
        q = q.filter(sql::<diesel::sql_types::Bool>(NOT_DRAFT));
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

    /// Whether the filter selects every agency's inbox, whole (what administrators see first).
    pub fn is_every_inbox(&self) -> bool {
        matches!(
            self,
            DossierFilter {
                applicant_id: None,
                agency_id: None,
                exclude_drafts: true,
                status: None,
                procedure_id: None,
                code: None,
                overdue_on: None,
                ..
            }
        )
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
        // Every agency's inbox at once (administrators'): the sum of the kept inboxes.
        None if f.is_every_inbox() => {
            #[derive(QueryableByName)]
            struct Total {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            const SQL: &str = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM dossier_counts WHERE kind = {}";
            let kind = Bind::Text(KeptList::Inbox.kind());
            Ok(Prepared::new(SQL, vec![kind]).load::<Total>(conn)?.first().map_or(0, |t| t.n))
        }
        _ => dossier_query(f).count().get_result(conn),
    }
}

/// A page of dossiers: the applicant's newest first, an inbox (one agency's or all) by due date.
pub fn list_page(conn: &mut DbConn, f: &DossierFilter, offset: i64, limit: i64) -> QueryResult<Vec<DossierRow>> {
    let q = dossier_query(f).select(DossierRow::as_select()).offset(offset).limit(limit);
    // Inboxes (of one agency, or of all) by due date, as their cursors go; applicants' lists newest first.
    if f.agency_id.is_some() || f.applicant_id.is_none() {
        // Nearest due date first, those without one last (the order of the inbox indexes).
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

/// A row of a statement that reads several pages at once, with the number of its page.
#[derive(QueryableByName)]
struct Slotted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    slot: i64,
    #[diesel(embed)]
    row: DossierRow,
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
    const INBOX: &str = concatcp!(
        "SELECT r.slot, d.* FROM unnest({}, {}, {}) WITH ORDINALITY AS r (key, skip, take, slot) \
         CROSS JOIN LATERAL (SELECT * FROM dossiers x WHERE x.agency_id = r.key AND x.status <> '",
        DossierStatus::Draft.as_str(),
        "' ORDER BY x.due_date ASC NULLS LAST, x.submitted_at, x.id OFFSET r.skip LIMIT r.take) d"
    );
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
    const SUMS: [&str; 7] = crate::listed_statement!(
        "SELECT key, CAST(SUM(n) AS BIGINT) AS total, CAST(SUM(changes) AS BIGINT) AS version \
         FROM dossier_counts WHERE kind = {} AND key IN (",
        ") GROUP BY key"
    );
    let rows: Vec<ListStateRow> = crate::prepared::keyed_after(conn, &SUMS, &[Bind::Text(list.kind())], keys)?;
    Ok(rows.into_iter().map(|r| (r.key, ListState { total: r.total, version: r.version })).collect())
}

/// Counts of an applicant's dossiers per status.
pub fn count_by_status(conn: &mut DbConn, applicant_id: &str) -> QueryResult<Vec<(Code<DossierStatus>, i64)>> {
    dossiers::table
        .filter(dossiers::applicant_id.eq(applicant_id))
        .group_by(dossiers::status)
        .select((dossiers::status, count_star()))
        .load(conn)
}

pub fn count(conn: &mut DbConn, f: &DossierFilter) -> QueryResult<i64> {
    dossier_query(f).count().get_result(conn)
}

/// Where a page of a list ends, to read the next one from there however deep (keyset paging):
/// the sort key of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// An agency's list: due date (none sorts last), submission time, id.
    Inbox { due_date: Option<NaiveDate>, submitted_at: NaiveDateTime, id: String },
    /// An applicant's list: newest first, then id.
    Applicant { created_at: NaiveDateTime, id: String },
}

const TIME: &str = "%Y-%m-%dT%H:%M:%S%.f";

impl Cursor {
    /// The cursor after `row` in the order of the list `f` selects from.
    pub fn after(f: &DossierFilter, row: &DossierRow) -> Option<Cursor> {
        if f.agency_id.is_some() || f.applicant_id.is_none() {
            Some(Cursor::Inbox { due_date: row.due_date, submitted_at: row.submitted_at?, id: row.id.clone() })
        } else {
            Some(Cursor::Applicant { created_at: row.created_at, id: row.id.clone() })
        }
    }

    /// As text: `i~<due date or ->~<submitted>~<id>` or `a~<created>~<id>`.
    pub fn to_text(&self) -> String {
        match self {
            Cursor::Inbox { due_date, submitted_at, id } => {
                format!("i~{}~{}~{id}", due_date.map_or("-".to_string(), |d| d.to_string()), submitted_at.format(TIME))
            }
            Cursor::Applicant { created_at, id } => format!("a~{}~{id}", created_at.format(TIME)),
        }
    }

    pub fn from_text(s: &str) -> Option<Cursor> {
        let parts: Vec<&str> = s.split('~').collect();
        let time = |t: &str| NaiveDateTime::parse_from_str(t, TIME).ok();
        let id = |i: &str| (!i.is_empty() && i.len() <= 64).then(|| i.to_string());
        match parts.as_slice() {
            ["i", due, submitted, i] => Some(Cursor::Inbox {
                due_date: match *due {
                    "-" => None,
                    d => Some(d.parse().ok()?),
                },
                submitted_at: time(submitted)?,
                id: id(i)?,
            }),
            ["a", created, i] => Some(Cursor::Applicant { created_at: time(created)?, id: id(i)? }),
            _ => None,
        }
    }

    /// Whether the cursor fits the order of the list `f` selects from.
    pub fn fits(&self, f: &DossierFilter) -> bool {
        let inbox = f.agency_id.is_some() || f.applicant_id.is_none();
        matches!((self, inbox), (Cursor::Inbox { .. }, true) | (Cursor::Applicant { .. }, false))
    }
}

/// The page of `limit` dossiers that follows `cursor` in the list `f` selects: an index range
/// scan from the cursor, as cheap on the ten-thousandth page as on the second.
pub fn list_page_after(
    conn: &mut DbConn,
    f: &DossierFilter,
    cursor: &Cursor,
    limit: i64,
) -> QueryResult<Vec<DossierRow>> {
    if let Cursor::Inbox { due_date, submitted_at, id } = cursor {
        if is_plain_inbox(f) {
            return inbox_page_after(conn, f.agency_id.as_deref(), *due_date, *submitted_at, id, limit);
        }
    }
    let q = dossier_query(f).select(DossierRow::as_select()).limit(limit);
    match cursor {
        Cursor::Inbox { due_date, submitted_at, id } => {
            // Row values compare as the index orders, so the scan starts at the cursor: first the
            // rows with a due date after it, then (on a page not yet full) those without one.
            let undated_after = |after: Option<(NaiveDateTime, &str)>, limit: i64| {
                let q = dossier_query(f).select(DossierRow::as_select()).filter(dossiers::due_date.is_null());
                let q = match after {
                    Some((s, i)) => q.filter(
                        sql::<Bool>("(dossiers.submitted_at, dossiers.id) > (")
                            .bind::<Timestamp, _>(s)
                            .sql(", ")
                            .bind::<Text, _>(i.to_string())
                            .sql(")"),
                    ),
                    None => q,
                };
                q.order((dossiers::submitted_at, dossiers::id)).limit(limit)
            };
            match due_date {
                Some(d) => {
                    let mut rows: Vec<DossierRow> = q
                        .filter(
                            sql::<Bool>("(dossiers.due_date, dossiers.submitted_at, dossiers.id) > (")
                                .bind::<Date, _>(*d)
                                .sql(", ")
                                .bind::<Timestamp, _>(*submitted_at)
                                .sql(", ")
                                .bind::<Text, _>(id.clone())
                                .sql(")"),
                        )
                        .order((dossiers::due_date, dossiers::submitted_at, dossiers::id))
                        .load(conn)?;
                    let missing = limit - rows.len() as i64;
                    if missing > 0 {
                        rows.extend(undated_after(None, missing).load(conn)?);
                    }
                    Ok(rows)
                }
                None => undated_after(Some((*submitted_at, id)), limit).load(conn),
            }
        }
        Cursor::Applicant { created_at, id } => q
            .filter(
                dossiers::created_at
                    .lt(*created_at)
                    .or(dossiers::created_at.eq(*created_at).and(dossiers::id.lt(id.clone()))),
            )
            .order((dossiers::created_at.desc(), dossiers::id.desc()))
            .load(conn),
    }
}

/// Whether `f` is an inbox as it stands (one agency's or all agencies'), with no other filter.
fn is_plain_inbox(f: &DossierFilter) -> bool {
    let DossierFilter { applicant_id, agency_id: _, status, procedure_id, code, overdue_on, exclude_drafts } = f;
    *exclude_drafts
        && applicant_id.is_none()
        && status.is_none()
        && procedure_id.is_none()
        && code.is_none()
        && overdue_on.is_none()
}

/// The page of an inbox (of `agency`, or of all) after a cursor, by fixed statements that each
/// connection prepares once: the deep pages administrators and officers read are not planned
/// again on every call (planning took several times what the index range scan takes).
fn inbox_page_after(
    conn: &mut DbConn,
    agency: Option<&str>,
    due_date: Option<NaiveDate>,
    submitted_at: NaiveDateTime,
    id: &str,
    limit: i64,
) -> QueryResult<Vec<DossierRow>> {
    const FROM: &str = concatcp!("SELECT * FROM dossiers WHERE ", NOT_DRAFT);
    const OF_AGENCY: &str = " AND agency_id = {}";
    const DATED_KEY: &str = " AND (due_date, submitted_at, id) > ({}, {}, {}) ORDER BY due_date, submitted_at, id";
    const DATED: &str = concatcp!(DATED_KEY, " LIMIT {}");
    // A page of the usual size has its size in the text: PostgreSQL then keeps one plan for every
    // cursor. With the size a parameter, a plan for any cursor guesses a tenth of the table, so
    // the statement was planned again on every call.
    const DATED_USUAL: &str = concatcp!(DATED_KEY, " LIMIT ", DEFAULT_PER_PAGE);
    const UNDATED: &str = " AND due_date IS NULL";
    const UNDATED_AFTER: &str = " AND (submitted_at, id) > ({}, {})";
    const UNDATED_ORDER: &str = " ORDER BY submitted_at, id LIMIT {}";
    const ALL_DATED: &str = concatcp!(FROM, DATED);
    const AGENCY_DATED: &str = concatcp!(FROM, OF_AGENCY, DATED);
    const ALL_DATED_USUAL: &str = concatcp!(FROM, DATED_USUAL);
    const AGENCY_DATED_USUAL: &str = concatcp!(FROM, OF_AGENCY, DATED_USUAL);
    const ALL_UNDATED: &str = concatcp!(FROM, UNDATED, UNDATED_ORDER);
    const AGENCY_UNDATED: &str = concatcp!(FROM, OF_AGENCY, UNDATED, UNDATED_ORDER);
    const ALL_UNDATED_AFTER: &str = concatcp!(FROM, UNDATED, UNDATED_AFTER, UNDATED_ORDER);
    const AGENCY_UNDATED_AFTER: &str = concatcp!(FROM, OF_AGENCY, UNDATED, UNDATED_AFTER, UNDATED_ORDER);
    let mut binds: Vec<Bind> = agency.map(Bind::Text).into_iter().collect();
    // Row values compare as the index orders, so each scan starts at the cursor: first the rows
    // with a due date after it, then (on a page not yet full) those without one.
    let Some(due) = due_date else {
        binds.extend([Bind::Timestamp(submitted_at), Bind::Text(id), Bind::BigInt(limit)]);
        let sql = if agency.is_some() { AGENCY_UNDATED_AFTER } else { ALL_UNDATED_AFTER };
        return Prepared::new(sql, binds).load(conn);
    };
    let mut dated = binds.clone();
    dated.extend([Bind::Date(due), Bind::Timestamp(submitted_at), Bind::Text(id)]);
    let usual = limit == DEFAULT_PER_PAGE;
    let sql = match (agency.is_some(), usual) {
        (true, true) => AGENCY_DATED_USUAL,
        (false, true) => ALL_DATED_USUAL,
        (true, false) => AGENCY_DATED,
        (false, false) => ALL_DATED,
    };
    if !usual {
        dated.push(Bind::BigInt(limit));
    }
    let mut rows: Vec<DossierRow> = Prepared::new(sql, dated).load(conn)?;
    let missing = limit - rows.len() as i64;
    if missing > 0 {
        binds.push(Bind::BigInt(missing));
        rows.extend(
            Prepared::new(if agency.is_some() { AGENCY_UNDATED } else { ALL_UNDATED }, binds)
                .load::<DossierRow>(conn)?,
        );
    }
    Ok(rows)
}

/// Pages after cursors, each `(filter, cursor, size)`, in order. On PostgreSQL the pages of a
/// plain inbox after a dated cursor at the usual size are read together, one statement for those
/// of every agency and one for those of single agencies (each page a range scan of its inbox's
/// index from its cursor); a page that comes back short (the dated rows end within it) and every
/// other page are read as [`list_page_after`] reads them.
pub fn list_pages_after(
    conn: &mut DbConn,
    pages: &[(&DossierFilter, &Cursor, i64)],
) -> QueryResult<Vec<Vec<DossierRow>>> {
    let mut out: Vec<Option<Vec<DossierRow>>> = vec![None; pages.len()];
    if let DbConn::Postgres(_) = conn {
        // The cursors as rows of separate parameters (an array would be planned again on every
        // call, see `prepared`), in lists of a few lengths; a list is filled up with empty
        // cursors, which no row follows, numbered 0, which is no page's number.
        const ROWS: &str = concatcp!(
            " CROSS JOIN LATERAL (SELECT * FROM dossiers x WHERE x.status <> '",
            DossierStatus::Draft.as_str(),
            "'"
        );
        const AFTER: &str = concatcp!(
            " AND (x.due_date, x.submitted_at, x.id) > (r.due, r.sub, r.after) \
             ORDER BY x.due_date, x.submitted_at, x.id LIMIT ",
            DEFAULT_PER_PAGE,
            ") d"
        );
        const ALL: [&str; 7] = crate::listed_statement!(
            "SELECT r.slot, d.* FROM (VALUES ",
            "({}, {}, {}, {})",
            concatcp!(") AS r (due, sub, after, slot)", ROWS, AFTER)
        );
        const AGENCY: [&str; 7] = crate::listed_statement!(
            "SELECT r.slot, d.* FROM (VALUES ",
            "({}, {}, {}, {}, {})",
            concatcp!(") AS r (agency, due, sub, after, slot)", ROWS, " AND x.agency_id = r.agency", AFTER)
        );
        for of_agency in [false, true] {
            let asked: Vec<(usize, Option<&str>, NaiveDate, NaiveDateTime, &str)> = pages
                .iter()
                .enumerate()
                .filter_map(|(i, (f, cursor, limit))| match cursor {
                    Cursor::Inbox { due_date: Some(due), submitted_at, id }
                        if is_plain_inbox(f) && *limit == DEFAULT_PER_PAGE && f.agency_id.is_some() == of_agency =>
                    {
                        Some((i, f.agency_id.as_deref(), *due, *submitted_at, id.as_str()))
                    }
                    _ => None,
                })
                .collect();
            // Each page is numbered from 1 within its statement.
            for run in asked.chunks(LONGEST_LIST) {
                let length = list_slot(run.len());
                let mut binds = Vec::with_capacity(5 * LIST_LENGTHS[length]);
                for ((_, agency, due, sub, id), slot) in run.iter().zip(1..) {
                    if of_agency {
                        binds.push(Bind::OptText(*agency));
                    }
                    binds.extend([Bind::Date(*due), Bind::Timestamp(*sub), Bind::Text(id), Bind::BigInt(slot)]);
                }
                for _ in run.len()..LIST_LENGTHS[length] {
                    if of_agency {
                        binds.push(Bind::OptText(None));
                    }
                    binds.extend([Bind::OptDate(None), Bind::OptTimestamp(None), Bind::OptText(None), Bind::BigInt(0)]);
                }
                let sql = if of_agency { AGENCY[length] } else { ALL[length] };
                let rows: Vec<Slotted> = Prepared::new(sql, binds).load(conn)?;
                let mut read: Vec<Vec<DossierRow>> = vec![Vec::new(); run.len()];
                for r in rows {
                    if let Some(page) = usize::try_from(r.slot - 1).ok().and_then(|i| read.get_mut(i)) {
                        page.push(r.row);
                    }
                }
                for ((i, ..), mut page) in run.iter().zip(read) {
                    if page.len() as i64 == DEFAULT_PER_PAGE {
                        // The statement's order holds only within its plan: each page in its list's.
                        page.sort_by(|a, b| {
                            (a.due_date, a.submitted_at, &a.id).cmp(&(b.due_date, b.submitted_at, &b.id))
                        });
                        out[*i] = Some(page);
                    }
                }
            }
        }
    }
    out.into_iter()
        .zip(pages)
        .map(|(read, (f, cursor, limit))| match read {
            Some(page) => Ok(page),
            None => list_page_after(conn, f, cursor, *limit),
        })
        .collect()
}
