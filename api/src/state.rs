//! What every request handler shares: the pool, the configuration, the token keys.

use std::sync::Arc;

use actix_web::web;
use dvc_persistence::{DbConn, Pool};

use crate::auth::TokenKeys;
use crate::certificates::TrustStore;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Shared, read-only state of one server process.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub keys: Arc<TokenKeys>,
    pub metrics: Arc<Metrics>,
    pub trust: Arc<TrustStore>,
    pub clock: Arc<Clock>,
    pub cache: Arc<crate::cache::CatalogueCache>,
    pub replicas: Arc<crate::replica::Replicas>,
    /// One permit per pooled connection: requests wait here, in arrival order and without holding
    /// a thread, rather than on the pool's lock from blocking threads.
    pub gate: Arc<tokio::sync::Semaphore>,
    /// Requests served in batches (see `batch.rs`).
    pub batches: Arc<crate::batch::Batches>,
}

impl AppState {
    /// Runs blocking database work on the thread pool, never on the async workers.
    pub async fn db<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = match tokio::time::timeout(self.config.db_timeout, self.gate.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                tracing::warn!("no database connection within the timeout");
                return Err(ApiError::unavailable());
            }
        };
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            let out = f(&mut conn);
            if out.as_ref().is_err_and(|e| e.status.is_server_error()) {
                conn.mark_suspect();
            }
            out
        })
        .await?
    }

    /// Like [`AppState::db`], inside one transaction.
    pub async fn tx<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.db(move |conn| dvc_persistence::db::write_transaction(conn, f)).await
    }
}

impl AppState {
    /// Opens the pool, applies pending migrations and prepares the token keys.
    pub fn open(config: Config) -> Result<Self, String> {
        let options =
            dvc_persistence::PoolOptions { max_size: config.pool_size, connection_timeout: config.db_timeout };
        let pool = dvc_persistence::build_pool(&config.database_url, &options).map_err(|e| e.to_string())?;
        let pool_size = config.pool_size as usize;
        // Each running batch holds a connection: leave most of the pool to other requests.
        let batch_lanes = config.batch_lanes.min(pool_size.div_ceil(2));
        let mut conn = pool.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
        let kind = conn.kind();
        let applied = dvc_persistence::db::run_migrations(&mut conn).map_err(|e| e.to_string())?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "applied migrations");
        }
        crate::calendar::seed_holidays(&mut conn).map_err(|e| format!("seeding public holidays: {e}"))?;
        let replicas = crate::replica::Replicas::open(
            &config.replica_urls,
            config.pool_size,
            std::time::Duration::from_millis(500),
            config.replica_max_lag,
        )?;
        let cache = Arc::new(crate::cache::CatalogueCache::new(config.catalogue_cache_bytes));
        cache.observe(dvc_persistence::catalogue::version(&mut conn).map_err(|e| e.to_string())?);
        drop(conn);
        // Commands that issue no tokens run without a configured secret.
        let secret =
            if config.jwt_secret.is_empty() { crate::auth::random_token(32) } else { config.jwt_secret.clone() };
        let keys = TokenKeys::new(&secret, &config.jwt_previous_secrets, config.access_token_ttl.as_secs() as i64);
        let trust = match &config.trust_anchors {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| format!("DVC_TRUST_ANCHORS {}: {e}", path.display()))?;
                TrustStore::from_pem(&pem)?
            }
            None => TrustStore::default(),
        };
        let writers = match kind {
            dvc_persistence::BackendKind::Sqlite => 1,
            dvc_persistence::BackendKind::Postgres => batch_lanes,
        };
        let batches = crate::batch::Batches::new(batch_lanes, writers, cache.clone(), config.list_cache_bytes);
        Ok(Self {
            pool,
            config: Arc::new(config),
            keys: Arc::new(keys),
            metrics: Arc::new(Metrics::new()),
            trust: Arc::new(trust),
            clock: Arc::new(Clock::default()),
            batches: Arc::new(batches),
            cache,
            replicas: Arc::new(replicas),
            gate: Arc::new(tokio::sync::Semaphore::new(pool_size)),
        })
    }
}
