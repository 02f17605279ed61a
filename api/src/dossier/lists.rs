//! Pages of dossier lists (an applicant's own, an agency's inbox), served in batches (see
//! `batch.rs`) and kept rendered under the version of their list.
//!
//! The database moves a list's version in the transaction of every change to its dossiers, their
//! attachments and their payments (migration 14), whichever server or tool makes it. A batch reads
//! the versions of all the lists its requests name in one statement; a page rendered under the
//! version read now is what the tables hold now and goes out as it was rendered. The version is
//! read before the page it stamps, so a page is never kept under a version newer than its rows.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::NaiveDate;
use dvc_domain::dossier::Dossier;
use dvc_domain::page::PageRequest;
use dvc_persistence::dossier_lists::{self as d, DossierFilter, KeptList, ListState};
use dvc_persistence::DbConn;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::{views_of, Access};
use crate::cache::CatalogueCache;
use crate::error::ApiError;
use crate::page::Page;
use crate::sessions::Ask;

/// About what one dossier of a page takes in JSON.
const DOSSIER_BYTES: usize = 1536;

/// One page of a dossier list, as a caller with this access sees it on this day.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: DossierFilter,
    pub page: PageRequest,
    pub access: Access,
    pub today: NaiveDate,
    /// Read the page after this row instead of by page number (see [`parse_cursor`]).
    pub after: Option<d::Cursor>,
    /// The caller's session, checked by the batch before the page is read.
    pub session: Ask,
}

/// A cursor as clients hold it: Base64url of its text.
pub fn cursor_text(c: &d::Cursor) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_text())
}

/// Reads `after` for a list: a cursor this service gave for a list of the same kind.
pub fn parse_cursor(raw: &str, filter: &DossierFilter) -> Result<d::Cursor, dvc_domain::FieldError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| d::Cursor::from_text(&text))
        .filter(|c| c.fits(filter))
        .ok_or_else(|| {
            dvc_domain::FieldError::new(
                "after",
                "invalid_cursor",
                "Con trỏ trang không hợp lệ cho danh sách này",
                "Not a cursor of this list",
            )
        })
}

/// The cursor after a list's row.
fn cursor_after(filter: &DossierFilter, d: &Dossier) -> Option<d::Cursor> {
    let inbox = filter.agency_id.is_some() || filter.applicant_id.is_none();
    if inbox {
        Some(d::Cursor::Inbox {
            due_date: d.clock.due_date,
            submitted_at: d.submitted_at?,
            id: d.id.as_str().to_string(),
        })
    } else {
        Some(d::Cursor::Applicant { created_at: d.created_at, id: d.id.as_str().to_string() })
    }
}

impl ListRequest {
    /// Everything the rendered page depends on besides its list's version and the calendar.
    fn cache_key(&self, list: KeptList, key: &str) -> String {
        let f = &self.filter;
        format!(
            "{}\u{1f}{key}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1f}{}",
            list.kind(),
            f.status,
            f.procedure_id,
            f.code,
            f.overdue_on,
            f.exclude_drafts,
            self.page.page,
            self.page.per_page,
            self.access,
            self.today,
            self.after.as_ref().map(d::Cursor::to_text).unwrap_or_default()
        )
    }
}

/// A rendered page with the list version and the calendar stamp it was rendered under.
#[derive(Clone)]
struct Rendered {
    version: i64,
    calendar: (i64, i64),
    body: Bytes,
}

#[derive(Clone)]
struct BodyWeight;

impl Weighter<String, Rendered> for BodyWeight {
    fn weight(&self, key: &String, val: &Rendered) -> u64 {
        (key.len() + val.body.len() + 64) as u64
    }
}

/// Rendered pages of the kept lists, bounded in bytes.
pub struct PageCache {
    pages: Option<Cache<String, Rendered, BodyWeight>>,
}

impl PageCache {
    /// A cache of up to `bytes` of pages; 0 turns it off.
    pub fn new(bytes: u64) -> Self {
        Self { pages: (bytes > 0).then(|| Cache::with_weighter((bytes / 8192).max(16) as usize, bytes, BodyWeight)) }
    }

    fn get(&self, key: &str, version: i64, calendar: (i64, i64)) -> Option<Bytes> {
        let hit = self.pages.as_ref()?.get(key)?;
        (hit.version == version && hit.calendar == calendar).then_some(hit.body)
    }

    fn put(&self, key: String, version: i64, calendar: (i64, i64), body: Bytes) {
        if let Some(pages) = &self.pages {
            if calendar.0 >= 0 {
                pages.insert(key, Rendered { version, calendar, body });
            }
        }
    }
}

/// A rendered page, with its ETag when its list is one the database keeps a version of.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub body: Bytes,
    pub etag: Option<String>,
}

/// The ETag of a page of a kept list: the list's version, the calendar's, and the day (overdue and
/// working days used move with it).
fn page_etag(version: i64, calendar: i64, today: NaiveDate) -> Option<String> {
    (calendar >= 0).then(|| format!("W/\"list-{version}-{calendar}-{today}\""))
}

/// The JSON pages of a batch of list requests, in order. Pages kept under their list's version
/// are served as they are; the others are read together: the pages of whole lists with one
/// statement per kind of list, every row's attachments and payments with one statement each.
pub fn pages(
    conn: &mut DbConn,
    catalogue: &CatalogueCache,
    cache: &PageCache,
    requests: &[ListRequest],
) -> Result<Vec<Result<ListPage, ApiError>>, ApiError> {
    // The calendar's stamp before the calendar, as the lists' versions before their pages.
    let calendar_stamp = catalogue.stamp_now();
    let states = kept_states(conn, requests)?;
    let calendar = catalogue.calendar(conn)?;
    let mut bodies: Vec<Option<Bytes>> = vec![None; requests.len()];
    let mut tags: Vec<Option<String>> = vec![None; requests.len()];
    // The requests to render, with the key and state of their kept list.
    let mut misses: Vec<(usize, Option<(String, ListState)>)> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let kept = request.filter.kept_list().map(|(list, key)| {
            let state = states.get(&(list, key.to_string())).copied().unwrap_or_default();
            (request.cache_key(list, key), state)
        });
        tags[i] = kept.as_ref().and_then(|(_, state)| page_etag(state.version, calendar_stamp.0, request.today));
        match kept.as_ref().and_then(|(key, state)| cache.get(key, state.version, calendar_stamp)) {
            Some(body) => bodies[i] = Some(body),
            None => misses.push((i, kept)),
        }
    }
    let mut rows: Vec<Option<(Vec<Dossier>, i64)>> = vec![None; requests.len()];
    for list in [KeptList::Applicant, KeptList::Inbox] {
        let whole: Vec<(usize, i64)> = misses
            .iter()
            .filter(|(i, _)| requests[*i].filter.is_whole_list() && requests[*i].after.is_none())
            .filter(|(i, _)| requests[*i].filter.kept_list().is_some_and(|(l, _)| l == list))
            .map(|(i, kept)| (*i, kept.as_ref().map_or(0, |(_, s)| s.total)))
            .collect();
        if whole.is_empty() {
            continue;
        }
        let wanted: Vec<(String, i64, i64)> = whole
            .iter()
            .map(|(i, _)| {
                let r = &requests[*i];
                let key = r.filter.kept_list().map(|(_, k)| k.to_string()).unwrap_or_default();
                (key, r.page.offset(), r.page.per_page)
            })
            .collect();
        for ((i, total), page) in whole.into_iter().zip(d::whole_list_pages(conn, list, &wanted)?) {
            rows[i] = Some((page.into_iter().map(Dossier::from).collect(), total));
        }
    }
    // The pages after cursors are read together.
    let deep: Vec<usize> =
        misses.iter().map(|(i, _)| *i).filter(|i| rows[*i].is_none() && requests[*i].after.is_some()).collect();
    let asked: Vec<_> = deep
        .iter()
        .filter_map(|i| requests[*i].after.as_ref().map(|c| (&requests[*i].filter, c, requests[*i].page.per_page)))
        .collect();
    let mut after: Vec<Option<Vec<_>>> = vec![None; requests.len()];
    for (i, page) in deep.iter().zip(d::list_pages_after(conn, &asked)?) {
        after[*i] = Some(page);
    }
    // Each filter's total is read once per batch (pages after different cursors of one list share
    // it); a whole kept list's is its kept state's.
    let mut totals: Vec<(&DossierFilter, i64)> = Vec::new();
    for (i, kept) in &misses {
        if rows[*i].is_none() {
            let r = &requests[*i];
            let page = match after[*i].take() {
                Some(page) => page,
                None => d::list_page(conn, &r.filter, r.page.offset(), r.page.per_page)?,
            };
            let total = match (kept, totals.iter().find(|(f, _)| **f == r.filter)) {
                (Some((_, state)), _) if r.filter.is_whole_list() => state.total,
                (_, Some((_, total))) => *total,
                _ => {
                    let total = d::list_total(conn, &r.filter)?;
                    totals.push((&r.filter, total));
                    total
                }
            };
            rows[*i] = Some((page.into_iter().map(Dossier::from).collect(), total));
        }
    }
    // Every row of every page rendered at once, then cut back into pages.
    let mut sizes = Vec::with_capacity(misses.len());
    let mut cursors = Vec::with_capacity(misses.len());
    let mut all = Vec::new();
    for (i, _) in &misses {
        let r = &requests[*i];
        let (page, _) = rows[*i].as_mut().ok_or_else(ApiError::internal)?;
        sizes.push(page.len());
        // A full page may have a next one.
        let full = page.len() as i64 == r.page.per_page;
        cursors
            .push(page.last().filter(|_| full).and_then(|last| cursor_after(&r.filter, last)).map(|c| cursor_text(&c)));
        all.extend(page.drain(..).map(|row| (row, r.access, r.today)));
    }
    let mut views = views_of(conn, all, &calendar)?.into_iter();
    for (((i, kept), size), next_cursor) in misses.into_iter().zip(sizes).zip(cursors) {
        let request = &requests[i];
        let total = rows[i].as_ref().map_or(0, |(_, t)| *t);
        let items: Vec<_> = views.by_ref().take(size).collect();
        let page = Page { next_cursor, ..Page::new(items, total, request.page) };
        // Room for the page at once (a dossier takes one to two kilobytes), rather than a buffer
        // grown by doubling and copied at each step.
        let mut body = Vec::with_capacity(256 + size * DOSSIER_BYTES);
        serde_json::to_writer(&mut body, &page).map_err(|e| {
            tracing::error!(error = %e, "cannot serialise a page of dossiers");
            ApiError::internal()
        })?;
        let body = Bytes::from(body);
        if let Some((key, state)) = kept {
            cache.put(key, state.version, calendar_stamp, body.clone());
        }
        bodies[i] = Some(body);
    }
    Ok(bodies
        .into_iter()
        .zip(tags)
        .map(|(body, etag)| body.map(|body| ListPage { body, etag }).ok_or_else(ApiError::internal))
        .collect())
}

/// The kept state of every list the requests name: one statement per kind of list.
fn kept_states(
    conn: &mut DbConn,
    requests: &[ListRequest],
) -> Result<HashMap<(KeptList, String), ListState>, ApiError> {
    let mut states = HashMap::new();
    for list in [KeptList::Applicant, KeptList::Inbox] {
        let mut keys: Vec<String> = requests
            .iter()
            .filter_map(|r| r.filter.kept_list())
            .filter(|(l, _)| *l == list)
            .map(|(_, key)| key.to_string())
            .collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            continue;
        }
        for (key, state) in d::list_states(conn, list, &keys)? {
            states.insert((list, key), state);
        }
    }
    Ok(states)
}

/// A batcher's work for list pages, with the caches it needs.
pub fn work(catalogue: Arc<CatalogueCache>, cache: Arc<PageCache>) -> Arc<crate::batch::Work<ListRequest, ListPage>> {
    Arc::new(move |conn: &mut DbConn, requests: &[ListRequest]| pages(conn, &catalogue, &cache, requests))
}
