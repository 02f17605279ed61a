//! What every request handler shares: the database, the configuration, the token keys, the
//! services.

use std::sync::Arc;

use dvc_persistence::{DbConn, Pool};

use crate::auth::TokenKeys;
use crate::certificates::TrustStore;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Shared, read-only state of one server process.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub database: Db,
    pub config: Arc<Config>,
    pub keys: Arc<TokenKeys>,
    pub metrics: Arc<Metrics>,
    pub trust: Arc<TrustStore>,
    pub clock: Arc<Clock>,
    pub cache: Arc<crate::cache::CatalogueCache>,
    pub replicas: Arc<crate::replica::Replicas>,
    /// Dossiers: views, moves, and the batches that serve them.
    pub dossiers: Arc<crate::dossier::Dossiers>,
    /// The catalogue's search index.
    pub search: Arc<crate::search::Search>,
    /// The per-address limit of public lookups by code.
    pub lookups: Arc<crate::ratelimit::AddressLimiter>,
    /// The per-address limit of payment gateways' notifications.
    pub callbacks: Arc<crate::ratelimit::AddressLimiter>,
    /// The share of the server heavy work may take.
    pub heavy: Arc<crate::bulkhead::Bulkhead>,
    /// Every request started (the heavy share yields to the others).
    pub traffic: Arc<std::sync::atomic::AtomicU64>,
    /// Password hashing (argon2id, 19 MiB each): about one per core at once, a short queue.
    pub hashing: Arc<crate::bulkhead::Bulkhead>,
    /// Where uploaded files are kept.
    pub storage: crate::storage::Storage,
    /// Agencies' keys for the results they issue.
    pub signers: Arc<crate::signing::Signers>,
    /// The check of every signed-in person's session, in batches.
    pub sessions: Arc<crate::sessions::Sessions>,
    /// The OpenID Connect providers people may sign in with.
    pub federation: Arc<crate::oidc::Federation>,
}

impl AppState {
    /// Runs blocking database work on the thread pool, never on the async workers.
    pub async fn db<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.database.run(f).await
    }

    /// The catalogue's search index as it stands.
    pub async fn catalogue_index(&self) -> Result<Arc<crate::search::Catalogue>, ApiError> {
        self.search.current(&self.database, &self.cache).await
    }

    /// Like [`AppState::db`], inside one transaction.
    pub async fn tx<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.database.tx(f).await
    }

    /// Read-only work that tolerates a little lag (see [`Db::read`]).
    pub async fn read<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: Fn(&mut DbConn) -> Result<T, ApiError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.database.read(f).await
    }

    /// Hashes a password within the hashing share (503 with `Retry-After` beyond it).
    pub async fn hash_password(&self, password: String) -> Result<String, ApiError> {
        let _place = self.hashing.enter().await?;
        actix_web::web::block(move || crate::auth::hash_password(&password)).await?
    }

    /// Checks a password against its hash within the hashing share.
    pub async fn verify_password(&self, password: String, hash: String) -> Result<bool, ApiError> {
        let _place = self.hashing.enter().await?;
        Ok(actix_web::web::block(move || crate::auth::verify_password(&password, &hash)).await?)
    }

    /// Heavy read-only work (statistics): within the heavy share of the server (503 beyond it),
    /// each statement limited to the heavy statement timeout on PostgreSQL.
    pub async fn heavy<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: Fn(&mut DbConn) -> Result<T, ApiError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let _place = self.heavy.enter().await?;
        let millis = self.config.heavy_statement_timeout.as_millis() as u64;
        self.database.read(move |conn| dvc_persistence::db::with_statement_timeout(conn, millis, &f)).await
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
        let replicas = Arc::new(crate::replica::Replicas::open(
            &config.replica_urls,
            config.pool_size,
            std::time::Duration::from_millis(500),
            config.replica_max_lag,
        )?);
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
        let metrics = Arc::new(Metrics::new());
        let database = Db::new(pool.clone(), replicas.clone(), config.db_timeout, metrics.clone());
        let dossiers = crate::dossier::Dossiers::new(
            database.clone(),
            cache.clone(),
            batch_lanes,
            writers,
            config.list_cache_bytes,
        );
        let lookups = Arc::new(crate::ratelimit::AddressLimiter::new(config.lookup_rate_per_minute));
        let callbacks = Arc::new(crate::ratelimit::AddressLimiter::new(config.callback_rate_per_minute));
        let traffic = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let heavy = Arc::new(crate::bulkhead::Bulkhead::yielding(
            config.heavy_running,
            config.heavy_queue,
            config.db_timeout,
            f64::from(config.heavy_duty_percent) / 100.0,
            traffic.clone(),
        ));
        let hashing =
            Arc::new(crate::bulkhead::Bulkhead::new(config.hashing_running, config.hashing_queue, config.db_timeout));
        let storage = match &config.s3 {
            Some(s3) => crate::storage::Storage::s3(s3)?,
            None => crate::storage::Storage::Local(config.data_dir.clone()),
        };
        let signers = Arc::new(
            crate::signing::Signers::load(&config.signing_keys).map_err(|e| format!("DVC_SIGNING_KEYS: {e}"))?,
        );
        let sessions = crate::sessions::batcher(batch_lanes);
        let federation = Arc::new(crate::oidc::Federation::new(config.oidc.clone())?);
        Ok(Self {
            federation,
            heavy,
            traffic,
            hashing,
            storage,
            signers,
            sessions,
            pool,
            database,
            lookups,
            callbacks,
            config: Arc::new(config),
            keys: Arc::new(keys),
            metrics,
            trust: Arc::new(trust),
            clock: Arc::new(Clock::default()),
            dossiers: Arc::new(dossiers),
            search: Arc::new(crate::search::Search::new()),
            cache,
            replicas,
        })
    }
}
