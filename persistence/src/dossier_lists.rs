//! Lists of dossiers: the filters of the applicants' and officers' lists, their pages and totals,
//! and what the database keeps of the lists it counts (migrations 13 and 14).

use std::collections::HashMap;

use chrono::NaiveDate;
use const_format::concatcp;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use dvc_domain::workflow::DossierStatus;

use crate::codes::Code;
use crate::dossiers::DossierRow;
use crate::prepared::{Bind, Prepared};
use crate::schema::dossiers;
use crate::DbConn;

mod after;
pub use after::{list_page_after, list_pages_after, Cursor};

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
pub(crate) struct Slotted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub(crate) slot: i64,
    #[diesel(embed)]
    pub(crate) row: DossierRow,
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
