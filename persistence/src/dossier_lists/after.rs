//! Keyset paging: the cursor after a page's last row, and the pages that follow cursors, as
//! cheap on the ten-thousandth page as on the second.

use chrono::{NaiveDate, NaiveDateTime};
use const_format::concatcp;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Text, Timestamp};
use dvc_domain::page::DEFAULT_PER_PAGE;
use dvc_domain::workflow::DossierStatus;

use super::{dossier_query, DossierFilter, Slotted, NOT_DRAFT};
use crate::dossiers::DossierRow;
use crate::prepared::{list_slot, Bind, Prepared, LIST_LENGTHS, LONGEST_LIST};
use crate::schema::dossiers;
use crate::DbConn;

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
                // With the due date in the order, the inbox's own index serves the scan: its
                // rows without a due date sit together, in submission order.
                q.order((dossiers::due_date, dossiers::submitted_at, dossiers::id)).limit(limit)
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
    // The due date (none, in these rows) leads the order so that the inbox's index, where the
    // rows without a due date sit together in submission order, serves the scan without a sort.
    const UNDATED_ORDER: &str = " ORDER BY due_date, submitted_at, id LIMIT {}";
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
/// plain inbox at the usual size are read together: one statement for those of every agency and
/// one for those of single agencies, after cursors with a due date and after cursors without
/// (each page a range scan of its inbox's index from its cursor). A page after a dated cursor that
/// comes back short (the dated rows end within it) and every other page are read as
/// [`list_page_after`] reads them.
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
        // After a cursor without a due date: the rows without one that follow it, the last of
        // the list (the due date leads the order so that the inbox's index serves the scan).
        const UNDATED_AFTER: &str = concatcp!(
            " AND x.due_date IS NULL AND (x.submitted_at, x.id) > (r.sub, r.after) \
             ORDER BY x.due_date, x.submitted_at, x.id LIMIT ",
            DEFAULT_PER_PAGE,
            ") d"
        );
        // The statements of every agency's inbox and of one agency's, for cursors of these
        // columns (and these parameters each) followed by these rows.
        macro_rules! every_and_one {
            ($columns:literal, $params:literal, $after:expr) => {
                [
                    crate::listed_statement!(
                        "SELECT r.slot, d.* FROM (VALUES ",
                        concatcp!("(", $params, ")"),
                        concatcp!(") AS r (", $columns, ")", ROWS, $after)
                    ),
                    crate::listed_statement!(
                        "SELECT r.slot, d.* FROM (VALUES ",
                        concatcp!("({}, ", $params, ")"),
                        concatcp!(") AS r (agency, ", $columns, ")", ROWS, " AND x.agency_id = r.agency", $after)
                    ),
                ]
            };
        }
        const DATED: [[&str; 7]; 2] = every_and_one!("due, sub, after, slot", "{}, {}, {}, {}", AFTER);
        const UNDATED: [[&str; 7]; 2] = every_and_one!("sub, after, slot", "{}, {}, {}", UNDATED_AFTER);
        for (of_agency, dated) in [(false, true), (true, true), (false, false), (true, false)] {
            let asked: Vec<_> = pages
                .iter()
                .enumerate()
                .filter_map(|(i, (f, cursor, limit))| match cursor {
                    Cursor::Inbox { due_date, submitted_at, id }
                        if is_plain_inbox(f)
                            && *limit == DEFAULT_PER_PAGE
                            && f.agency_id.is_some() == of_agency
                            && due_date.is_some() == dated =>
                    {
                        Some((i, f.agency_id.as_deref(), *due_date, *submitted_at, id.as_str()))
                    }
                    _ => None,
                })
                .collect();
            // Each page is numbered from 1 within its statement.
            for run in asked.chunks(LONGEST_LIST) {
                let length = list_slot(run.len());
                let mut binds = Vec::with_capacity(5 * LIST_LENGTHS[length]);
                let cursors = run
                    .iter()
                    .zip(1..)
                    .map(|((_, agency, due, sub, id), slot)| (*agency, *due, Some(*sub), Some(*id), slot));
                let empty = (run.len()..LIST_LENGTHS[length]).map(|_| (None, None, None, None, 0));
                for (agency, due, sub, id, slot) in cursors.chain(empty) {
                    if of_agency {
                        binds.push(Bind::OptText(agency));
                    }
                    if dated {
                        binds.push(Bind::OptDate(due));
                    }
                    binds.extend([Bind::OptTimestamp(sub), Bind::OptText(id), Bind::BigInt(slot)]);
                }
                let sql = if dated { DATED } else { UNDATED }[usize::from(of_agency)][length];
                let rows: Vec<Slotted> = Prepared::new(sql, binds).load(conn)?;
                let mut read: Vec<Vec<DossierRow>> = vec![Vec::new(); run.len()];
                for r in rows {
                    if let Some(page) = usize::try_from(r.slot - 1).ok().and_then(|i| read.get_mut(i)) {
                        page.push(r.row);
                    }
                }
                for ((i, ..), mut page) in run.iter().zip(read) {
                    // A short page after a dated cursor goes on into the rows without a due date
                    // (read as a single page reads them); after an undated cursor, nothing follows.
                    if page.len() as i64 == DEFAULT_PER_PAGE || !dated {
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
