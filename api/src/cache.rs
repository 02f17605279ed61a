//! A bounded in-memory cache of catalogue answers (procedure details and searches), the hot read
//! paths of the portal. The catalogue changes rarely; every change moves a counter in the database
//! (by triggers, whoever writes), each server polls it, and an answer cached under an older counter
//! is a miss. A server that changes the catalogue itself drops its answers at once; the others
//! follow within one poll interval (`DVC_CACHE_POLL_MS`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use actix_web::web::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// A cached answer: the JSON body and its ETag, stamped with the catalogue version it was made from.
#[derive(Clone)]
pub struct Entry {
    stamp: (i64, i64),
    pub body: Bytes,
    pub etag: Option<String>,
}

#[derive(Clone)]
struct BodyWeight;

impl Weighter<String, Entry> for BodyWeight {
    fn weight(&self, key: &String, val: &Entry) -> u64 {
        (key.len() + val.body.len() + 64) as u64
    }
}

/// A value with the stamp it was made under.
type Stamped<T> = ((i64, i64), T);

/// A procedure version as a dossier takes it at one of its agencies.
#[derive(Debug, Clone)]
pub struct ProcedureVersion {
    pub snapshot: dvc_domain::dossier::ProcedureSnapshot,
    pub version: i32,
    pub procedure_id: String,
    /// The agency's id (it may have been named by its code).
    pub agency_id: String,
    /// The assurance level the applicant must have signed in at.
    pub min_assurance_level: u8,
}

/// A procedure version with the database's catalogue counter it was read under.
type Versioned = (i64, Arc<ProcedureVersion>);

/// How many procedure versions are kept for dossiers (each a few kilobytes at most).
const SNAPSHOTS: usize = 4096;

pub struct CatalogueCache {
    /// The database's catalogue version as last seen; -1 until it is known (nothing is served).
    seen: AtomicI64,
    /// Bumped by this process when it changes the catalogue.
    local: AtomicI64,
    entries: Option<Cache<String, Entry, BodyWeight>>,
    /// The working-day calendar, which the same counter versions (holidays move it too).
    calendar: std::sync::RwLock<Option<Stamped<Arc<dvc_domain::calendar::Calendar>>>>,
    /// Procedure versions by procedure, agency and channel, for creating and submitting dossiers.
    snapshots: Option<Cache<String, Versioned>>,
}

impl CatalogueCache {
    /// A cache holding up to `bytes` of answers; 0 turns caching off.
    pub fn new(bytes: u64) -> Self {
        let entries = (bytes > 0).then(|| Cache::with_weighter((bytes / 4096).max(16) as usize, bytes, BodyWeight));
        let snapshots = (bytes > 0).then(|| Cache::new(SNAPSHOTS));
        Self { seen: AtomicI64::new(-1), local: AtomicI64::new(0), entries, calendar: Default::default(), snapshots }
    }

    fn stamp(&self) -> (i64, i64) {
        (self.seen.load(Ordering::Acquire), self.local.load(Ordering::Acquire))
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        let stamp = self.stamp();
        if stamp.0 < 0 {
            return None;
        }
        self.entries.as_ref()?.get(key).filter(|e| e.stamp == stamp)
    }

    /// Stores an answer made after reading `stamp` (see [`CatalogueCache::stamp_now`]), so that an
    /// answer computed while the catalogue changed is never stored under the new version.
    pub fn put(&self, key: String, stamp: (i64, i64), body: Bytes, etag: Option<String>) {
        if let Some(entries) = &self.entries {
            if stamp.0 >= 0 && stamp == self.stamp() {
                entries.insert(key, Entry { stamp, body, etag });
            }
        }
    }

    /// The stamp to pass to [`CatalogueCache::put`], read before the database.
    pub fn stamp_now(&self) -> (i64, i64) {
        self.stamp()
    }

    /// Records the database's version (which only grows: a slow poll never takes it back).
    pub fn observe(&self, version: i64) {
        self.seen.fetch_max(version, Ordering::AcqRel);
    }

    /// The working-day calendar, loaded once per catalogue version.
    pub fn calendar(
        &self,
        conn: &mut dvc_persistence::DbConn,
    ) -> diesel::QueryResult<Arc<dvc_domain::calendar::Calendar>> {
        let stamp = self.stamp();
        if stamp.0 >= 0 {
            if let Ok(guard) = self.calendar.read() {
                if let Some((_, cal)) = guard.as_ref().filter(|(at, _)| *at == stamp) {
                    return Ok(cal.clone());
                }
            }
        }
        let cal = Arc::new(crate::calendar::load(conn)?);
        if stamp.0 >= 0 && stamp == self.stamp() {
            if let Ok(mut guard) = self.calendar.write() {
                *guard = Some((stamp, cal.clone()));
            }
        }
        Ok(cal)
    }

    /// The procedure version stored under `key` if it was read under the catalogue counter
    /// `version`, which the caller has just read in its own transaction: any change to the
    /// catalogue since moved the counter, so a hit is exactly what the tables hold now.
    pub fn snapshot(&self, key: &str, version: i64) -> Option<Arc<ProcedureVersion>> {
        self.snapshots.as_ref()?.get(key).filter(|(v, _)| *v == version).map(|(_, s)| s)
    }

    /// Stores a procedure version read after the catalogue counter `version` was read.
    pub fn put_snapshot(&self, key: String, version: i64, value: Arc<ProcedureVersion>) {
        if let Some(snapshots) = &self.snapshots {
            snapshots.insert(key, (version, value));
        }
    }

    /// Drops this process's answers now (after it changed the catalogue).
    pub fn invalidate(&self) {
        self.local.fetch_add(1, Ordering::AcqRel);
    }
}

/// Polls the catalogue version every `every` until the server stops.
pub fn spawn_poller(cache: Arc<CatalogueCache>, db: crate::db::Db, every: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            match db.run(|conn| Ok(dvc_persistence::catalogue::version(conn)?)).await {
                Ok(v) => cache.observe(v),
                Err(e) => tracing::debug!(error = %e, "catalogue version not read this time"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_version_or_a_local_change_is_a_miss() {
        let cache = CatalogueCache::new(1 << 20);
        let stamp = cache.stamp_now();
        cache.put("p:1".into(), stamp, Bytes::from_static(b"{}"), None);
        assert!(cache.get("p:1").is_none(), "nothing is served before the version is known");
        cache.observe(7);
        let stamp = cache.stamp_now();
        cache.put("p:1".into(), stamp, Bytes::from_static(b"{\"v\":7}"), None);
        assert_eq!(cache.get("p:1").map(|e| e.body), Some(Bytes::from_static(b"{\"v\":7}")));
        cache.observe(8);
        assert!(cache.get("p:1").is_none(), "another server changed the catalogue");
        let stamp = cache.stamp_now();
        cache.put("p:1".into(), stamp, Bytes::from_static(b"{\"v\":8}"), None);
        cache.invalidate();
        assert!(cache.get("p:1").is_none(), "this server changed it");
        // An answer computed across a change is not stored under the new version.
        let old = cache.stamp_now();
        cache.observe(9);
        cache.put("p:1".into(), old, Bytes::from_static(b"{}"), None);
        assert!(cache.get("p:1").is_none());
        assert!(CatalogueCache::new(0).get("p:1").is_none());
    }

    #[test]
    fn a_procedure_version_is_served_only_under_the_counter_it_was_read_under() {
        let cache = CatalogueCache::new(1 << 20);
        let snapshot = dvc_domain::dossier::ProcedureSnapshot {
            code: "1.001".into(),
            name: "Đăng ký khai sinh".into(),
            processing_days: 3,
            fees: Vec::new(),
            required_documents: Vec::new(),
            form_schema: None,
            agency_code: "H29".into(),
            agency_name: "UBND".into(),
            receipt_cutoff: None,
            bundle: None,
            bundle_agencies: Vec::new(),
            step_of: None,
        };
        let version = ProcedureVersion {
            snapshot,
            version: 2,
            procedure_id: "p".into(),
            agency_id: "a".into(),
            min_assurance_level: 1,
        };
        cache.put_snapshot("p|a".into(), 41, Arc::new(version));
        assert_eq!(cache.snapshot("p|a", 41).map(|s| (s.snapshot.code.clone(), s.version)), Some(("1.001".into(), 2)));
        assert!(cache.snapshot("p|a", 42).is_none(), "the catalogue changed since");
        assert!(cache.snapshot("q|a", 41).is_none());
        let off = CatalogueCache::new(0);
        off.put_snapshot("p|a".into(), 41, cache.snapshot("p|a", 41).expect("cached above"));
        assert!(off.snapshot("p|a", 41).is_none(), "caching off keeps nothing");
    }
}
