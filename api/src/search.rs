//! This server's search index of the catalogue: built from the database when the catalogue's
//! version moves (every change to procedures, agencies, fields or the thesaurus moves it), so
//! every instance answers the same on SQLite and PostgreSQL within one poll interval. Lists of
//! procedures come from it, searched or not: each procedure's summary is kept ready to send.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use dvc_domain::search::{thesaurus, Document, Entry, Index, Thesaurus};
use dvc_persistence::catalogue::{self as q, ProcedureBrief};
use serde::Serialize;

use crate::cache::CatalogueCache;
use crate::catalogue::{summary_from_row, AgencyBrief, FieldView};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// The thesaurus dvc ships (abbreviations, everyday names, words without meaning in a query).
pub const SHIPPED: &str = include_str!("../seed/search-thesaurus.txt");

/// The shipped thesaurus's entries.
pub fn shipped() -> Vec<Entry> {
    match thesaurus::parse(SHIPPED) {
        Ok(entries) => entries,
        Err(e) => {
            // A test reads the shipped file; a broken one never ships.
            tracing::error!(error = %e.message_en, "the shipped search thesaurus does not parse");
            Vec::new()
        }
    }
}

/// A procedure as lists show it: its summary serialised once, in three parts written one after
/// the other. The field and agencies, and the rest after them, are shared by every procedure with
/// the same text there (a catalogue has far fewer of them than procedures), so the catalogue's
/// summaries take a fraction of their size in memory.
#[derive(Debug, Clone)]
pub struct Listed {
    /// From the start to the field: `{"id":…,"code":…,"name":…`.
    head: Box<str>,
    /// `,"field":…,"agencies":[…]`.
    middle: Arc<str>,
    /// From the tier to the end.
    tail: Arc<str>,
    /// How much of `head` is the suggestion's text (`{"id":…,"code":…,"name":…`, then `}`);
    /// its own text when the head does not begin with it.
    suggestion: Suggestion,
}

#[derive(Debug, Clone)]
enum Suggestion {
    Head(usize),
    Own(Box<str>),
}

/// What a suggestion shows of a procedure.
#[derive(Serialize)]
struct Named<'a> {
    id: &'a str,
    code: &'a str,
    name: &'a str,
}

/// Texts kept once however many procedures share them.
#[derive(Default)]
struct Shared(HashSet<Arc<str>>);

impl Shared {
    fn of(&mut self, text: &str) -> Arc<str> {
        if let Some(kept) = self.0.get(text) {
            return kept.clone();
        }
        let kept: Arc<str> = Arc::from(text);
        self.0.insert(kept.clone());
        kept
    }
}

impl Listed {
    /// `summary` cut into its parts; `middle` is how its field and agencies are written.
    fn new(summary: &str, middle: &str, named: &str, shared: &mut Shared) -> Self {
        let (head, middle, tail) = match summary.find(middle).filter(|_| !middle.is_empty()) {
            Some(at) => (&summary[..at], middle, &summary[at + middle.len()..]),
            None => (summary, "", ""),
        };
        // The suggestion's text but its closing brace.
        let open = &named[..named.len() - 1];
        let suggestion =
            if head.starts_with(open) { Suggestion::Head(open.len()) } else { Suggestion::Own(named.into()) };
        Listed { head: head.into(), middle: shared.of(middle), tail: shared.of(tail), suggestion }
    }

    /// The length of the summary's JSON.
    pub fn summary_len(&self) -> usize {
        self.head.len() + self.middle.len() + self.tail.len()
    }

    /// Writes the summary's JSON.
    pub fn write_summary(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(self.middle.as_bytes());
        out.extend_from_slice(self.tail.as_bytes());
    }

    /// Writes what search-as-you-type offers of the procedure: `{"id":…,"code":…,"name":…}`.
    pub fn write_suggestion(&self, out: &mut Vec<u8>) {
        match &self.suggestion {
            Suggestion::Head(end) => {
                out.extend_from_slice(&self.head.as_bytes()[..*end]);
                out.push(b'}');
            }
            Suggestion::Own(text) => out.extend_from_slice(text.as_bytes()),
        }
    }
}

/// The filters of a list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// A field's id or code.
    pub field: Option<String>,
    /// An agency's id or code.
    pub agency: Option<String>,
    pub tier: Option<String>,
    pub service_level: Option<i32>,
    pub online: Option<String>,
    pub audience: Option<String>,
}

impl Filter {
    /// The facets a procedure must have (see [`facets`]).
    pub fn facets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(format!("{name}={v}"));
            }
        };
        add("field", self.field.clone());
        add("agency", self.agency.clone());
        add("tier", self.tier.clone());
        add("level", self.service_level.map(|l| l.to_string()));
        add("online", self.online.clone());
        add("audience", self.audience.clone());
        out
    }
}

/// What lists filter a procedure by: its field and agencies by id and by code, tier, level,
/// online mode and audiences.
fn facets(
    p: &ProcedureBrief,
    field: Option<&FieldView>,
    agencies: &[AgencyBrief],
    audiences: &[String],
) -> Vec<String> {
    let mut out = vec![
        format!("field={}", p.field_id),
        format!("tier={}", p.tier),
        format!("level={}", p.service_level),
        format!("online={}", p.online),
    ];
    if let Some(f) = field {
        out.push(format!("field={}", f.code));
    }
    for a in agencies {
        out.push(format!("agency={}", a.id));
        out.push(format!("agency={}", a.code));
    }
    out.extend(audiences.iter().map(|a| format!("audience={a}")));
    out
}

/// The catalogue as one version of it is searched.
pub struct Catalogue {
    /// The cache stamp it was built under (catalogue version, local changes).
    pub stamp: (i64, i64),
    pub index: Index,
    pub listed: Vec<Listed>,
}

/// The index of the current catalogue, rebuilt when its version moves.
pub struct Search {
    current: RwLock<Option<Arc<Catalogue>>>,
    building: tokio::sync::Mutex<()>,
}

impl Default for Search {
    fn default() -> Self {
        Self::new()
    }
}

impl Search {
    pub fn new() -> Self {
        Self { current: RwLock::new(None), building: tokio::sync::Mutex::new(()) }
    }

    fn fresh(&self, stamp: (i64, i64)) -> Option<Arc<Catalogue>> {
        let guard = self.current.read().ok()?;
        guard.as_ref().filter(|c| stamp.0 >= 0 && c.stamp == stamp).cloned()
    }

    /// The index of the catalogue as it stands (at the version this server last saw).
    pub async fn current(&self, db: &Db, cache: &Arc<CatalogueCache>) -> ApiResult<Arc<Catalogue>> {
        if let Some(c) = self.fresh(cache.stamp_now()) {
            return Ok(c);
        }
        let _one_build = self.building.lock().await;
        if let Some(c) = self.fresh(cache.stamp_now()) {
            return Ok(c);
        }
        let local = cache.stamp_now().1;
        let (version, catalogue) = db
            .run(|conn| {
                let loaded = load(conn)?;
                crate::allocator::release_free_memory();
                Ok(loaded)
            })
            .await?;
        cache.observe(version);
        let built = Arc::new(Catalogue { stamp: (version, local), index: catalogue.0, listed: catalogue.1 });
        // Kept only if nothing changed while it was built; it answers this request either way.
        if built.stamp == cache.stamp_now() {
            if let Ok(mut guard) = self.current.write() {
                *guard = Some(built.clone());
            }
        }
        Ok(built)
    }
}

/// Reads the catalogue and builds its index: the version first, so that an index is never
/// stamped newer than what it holds.
pub fn load(conn: &mut dvc_persistence::DbConn) -> Result<(i64, (Index, Vec<Listed>)), LoadError> {
    let version = q::version(conn)?;
    let procedures = q::all_procedure_briefs(conn)?;
    let fields: HashMap<String, FieldView> =
        q::list_fields(conn)?.into_iter().map(|f| (f.id.clone(), FieldView::from(f))).collect();
    let mut agencies: HashMap<String, Vec<AgencyBrief>> = HashMap::new();
    for r in q::all_procedure_agencies(conn)? {
        agencies.entry(r.procedure_id).or_default().push(AgencyBrief { id: r.id, code: r.code, name: r.name });
    }
    let mut entries = shipped();
    entries.extend(dvc_persistence::search::list_synonyms(conn)?.into_iter().map(entry_of));
    let mut documents = Vec::with_capacity(procedures.len());
    let mut listed = Vec::with_capacity(procedures.len());
    let mut shared = Shared::default();
    for p in procedures {
        let field = fields.get(&p.field_id).cloned();
        let handled_by = agencies.remove(&p.id).unwrap_or_default();
        let audiences: Vec<String> = serde_json::from_str(&p.audiences).map_err(|_| LoadError::Stored)?;
        documents.push(Document {
            code: p.code.clone(),
            name: p.name.clone(),
            keywords: p.result.clone(),
            field: field.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
            agencies: handled_by.iter().map(|a| a.name.clone()).collect(),
            facets: facets(&p, field.as_ref(), &handled_by, &audiences),
        });
        let summary = summary_from_row(&p, field, handled_by).map_err(|_| LoadError::Stored)?;
        let middle = format!(",\"field\":{},\"agencies\":{}", json(&summary.field)?, json(&summary.agencies)?);
        let named = json(&Named { id: &p.id, code: &p.code, name: &p.name })?;
        listed.push(Listed::new(&json(&summary)?, &middle, &named, &mut shared));
    }
    Ok((version, (Index::build(documents, Thesaurus::of(&entries)), listed)))
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, LoadError> {
    serde_json::to_string(value).map_err(|_| LoadError::Stored)
}

/// An administrator's thesaurus entry as stored.
pub fn entry_of(row: dvc_persistence::search::SynonymRow) -> Entry {
    Entry { terms: row.terms.0, expansions: row.expansions.0, kind: row.kind.0 }
}

/// Why the index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("a stored procedure does not read")]
    Stored,
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Db(e) => e.into(),
            LoadError::Stored => {
                tracing::error!("a stored procedure does not read; the search index is not built");
                ApiError::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::ProcedureSummary;
    use dvc_domain::catalogue::{Audience, OnlineMode, Tier};

    #[test]
    fn the_shipped_thesaurus_reads() {
        let entries = dvc_domain::search::thesaurus::parse(super::SHIPPED);
        assert!(entries.as_ref().is_ok_and(|e| e.len() > 50), "{:?}", entries.err());
    }

    fn summary(id: &str, name: &str, field: Option<&str>, days: i32) -> ProcedureSummary {
        ProcedureSummary {
            id: id.into(),
            code: format!("C.{id}"),
            name: name.into(),
            field: field.map(|f| FieldView { id: f.into(), code: f.to_uppercase(), name: format!("Lĩnh vực {f}") }),
            agencies: vec![AgencyBrief {
                id: "a1".into(), code: "000.00.01".into(), name: "Sở \"Tư pháp\"".into()
            }],
            tier: Tier::Province,
            service_level: 4,
            online: OnlineMode::Full,
            audiences: vec![Audience::Citizen],
            processing_days: days,
        }
    }

    fn listed(s: &ProcedureSummary, shared: &mut Shared) -> Listed {
        let middle = format!(
            ",\"field\":{},\"agencies\":{}",
            json(&s.field).expect("serialises"),
            json(&s.agencies).expect("serialises")
        );
        let named = json(&Named { id: &s.id, code: &s.code, name: &s.name }).expect("serialises");
        Listed::new(&json(s).expect("serialises"), &middle, &named, shared)
    }

    #[test]
    fn a_listed_procedure_writes_its_summary_and_suggestion_as_serde_does() {
        let mut shared = Shared::default();
        let summaries = [
            summary("p1", "Đăng ký \"khai\" sinh, field", Some("hotich"), 5),
            summary("p2", "Cấp ,\"field\": lại", Some("hotich"), 5),
            summary("p3", "Không lĩnh vực", None, 12),
        ];
        let all: Vec<Listed> = summaries.iter().map(|s| listed(s, &mut shared)).collect();
        for (s, l) in summaries.iter().zip(&all) {
            let mut out = Vec::new();
            l.write_summary(&mut out);
            assert_eq!(String::from_utf8(out).expect("UTF-8"), json(s).expect("serialises"));
            assert_eq!(l.summary_len(), json(s).expect("serialises").len());
            let mut out = Vec::new();
            l.write_suggestion(&mut out);
            let named = serde_json::json!({"id": s.id, "code": s.code, "name": s.name});
            assert_eq!(serde_json::from_slice::<serde_json::Value>(&out).expect("JSON"), named);
            assert!(matches!(l.suggestion, Suggestion::Head(_)));
        }
        // The two procedures of one field and agency share its text, and their ends.
        assert!(Arc::ptr_eq(&all[0].middle, &all[1].middle));
        assert!(Arc::ptr_eq(&all[0].tail, &all[1].tail));
        assert!(!Arc::ptr_eq(&all[0].middle, &all[2].middle));
        assert!(!all[0].middle.is_empty());
    }

    #[test]
    fn a_summary_that_does_not_split_is_kept_whole() {
        let mut shared = Shared::default();
        let l = Listed::new(r#"{"x":1}"#, r#","field":null"#, r#"{"id":"i","code":"c","name":"n"}"#, &mut shared);
        let mut out = Vec::new();
        l.write_summary(&mut out);
        assert_eq!(out, br#"{"x":1}"#);
        let mut out = Vec::new();
        l.write_suggestion(&mut out);
        assert_eq!(out, br#"{"id":"i","code":"c","name":"n"}"#);
    }
}
