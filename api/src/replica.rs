//! Read scaling on PostgreSQL streaming replicas. Read-only paths that tolerate a little lag
//! (catalogue misses, statistics, public lookup) run on a replica that is up and no further behind
//! the primary than `DVC_REPLICA_MAX_LAG_MS`; when none is, or a replica fails mid-request, they
//! run on the primary. Writes and feeds always use the primary.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use dvc_persistence::{DbConn, Pool};

struct Replica {
    pool: Pool,
    fresh: AtomicBool,
}

/// The configured replicas and what is known of their freshness.
#[derive(Default)]
pub struct Replicas {
    replicas: Vec<Replica>,
    next: AtomicUsize,
    max_lag: Duration,
    /// Recent write positions of the primary, oldest first.
    history: Mutex<VecDeque<(Instant, i64)>>,
}

#[derive(diesel::QueryableByName)]
struct Lsn {
    #[diesel(sql_type = BigInt)]
    lsn: i64,
}

fn lsn(conn: &mut DbConn, sql: &str) -> Option<i64> {
    diesel::sql_query(sql).get_result::<Lsn>(conn).ok().map(|l| l.lsn)
}

impl Replicas {
    /// Pools for the replica URLs; they connect lazily and wait at most `timeout` for a connection.
    pub fn open(urls: &[String], pool_size: u32, timeout: Duration, max_lag: Duration) -> Result<Self, String> {
        let mut replicas = Vec::new();
        for url in urls {
            let options = dvc_persistence::PoolOptions { max_size: pool_size, connection_timeout: timeout };
            let pool = dvc_persistence::db::build_pool_lazy(url, &options).map_err(|e| format!("{url}: {e}"))?;
            replicas.push(Replica { pool, fresh: AtomicBool::new(false) });
        }
        Ok(Self { replicas, max_lag, ..Default::default() })
    }

    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// A fresh replica, in turn.
    pub(crate) fn pick(&self) -> Option<(usize, Pool)> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|i| self.replicas[*i].fresh.load(Ordering::Acquire))
            .map(|i| (i, self.replicas[i].pool.clone()))
    }

    pub(crate) fn mark_down(&self, i: usize) {
        self.replicas[i].fresh.store(false, Ordering::Release);
    }

    /// Compares each replica's replayed position with where the primary was `max_lag` ago.
    fn check(&self, primary: &Pool) {
        let Some(now_lsn) = primary.get().ok().and_then(|mut c| {
            let lsn = lsn(&mut c, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS lsn");
            if lsn.is_none() {
                c.mark_suspect();
            }
            lsn
        }) else {
            return;
        };
        let now = Instant::now();
        let threshold = {
            let Ok(mut history) = self.history.lock() else { return };
            history.push_back((now, now_lsn));
            while history.len() > 2 && history[1].0 + self.max_lag <= now {
                history.pop_front();
            }
            // The primary's position `max_lag` ago (or the oldest known, if younger).
            history.iter().rev().find(|(at, _)| *at + self.max_lag <= now).or(history.front()).map(|(_, l)| *l)
        };
        for replica in &self.replicas {
            let replayed = replica.pool.get().ok().and_then(|mut c| {
                let lsn = lsn(
                    &mut c,
                    "SELECT pg_wal_lsn_diff(COALESCE(pg_last_wal_replay_lsn(), '0/0'), '0/0')::bigint AS lsn \
                     WHERE pg_is_in_recovery()",
                );
                if lsn.is_none() {
                    c.mark_suspect();
                }
                lsn
            });
            let fresh = matches!((replayed, threshold), (Some(r), Some(t)) if r >= t);
            replica.fresh.store(fresh, Ordering::Release);
        }
    }
}

/// Checks the replicas' freshness against the primary on a timer until the server stops.
pub fn spawn_checker(replicas: std::sync::Arc<Replicas>, primary: Pool) {
    if replicas.is_empty() {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let (r, p) = (replicas.clone(), primary.clone());
            let _ = actix_web::web::block(move || r.check(&p)).await;
        }
    });
}
