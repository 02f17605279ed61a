//! Connections to either backend, the pool, and the embedded migrations.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// One connection to SQLite or PostgreSQL; queries are written once against this enum.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs the same code against whichever backend a connection is, for the queries diesel can only
/// build for one backend at a time (upserts, `RETURNING`): `db_run!(conn, |c| query.execute(c))`.
#[macro_export]
macro_rules! db_run {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConn::Postgres($c) => $body,
            $crate::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Which backend a connection is, for the few queries that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Postgres,
    Sqlite,
}

impl DbConn {
    pub fn kind(&self) -> BackendKind {
        match self {
            DbConn::Postgres(_) => BackendKind::Postgres,
            DbConn::Sqlite(_) => BackendKind::Sqlite,
        }
    }
}

/// Errors opening or migrating a database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use sqlite://path/to/file.db or postgres://user@host/db")]
    UnsupportedUrl(String),
    #[error("cannot create the directory for the SQLite file {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db`, or `postgres://` / `postgresql://`.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::UnsupportedUrl(url.to_string()));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_string()))
        } else {
            Err(DbError::UnsupportedUrl(url.to_string()))
        }
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            DatabaseUrl::Sqlite(_) => BackendKind::Sqlite,
            DatabaseUrl::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Opens one connection, with SQLite's pragmas set.
    pub fn connect(&self) -> Result<DbConn, DbError> {
        match self {
            DatabaseUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                // Just-in-time compilation pays off for long analytic queries only. The API's
                // statements are short, and on an estimate inflated by a parameterised LIMIT
                // PostgreSQL compiled a page read for 10 ms where running it takes 1.5 ms.
                conn.batch_execute("SET jit = off")?;
                Ok(DbConn::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|source| DbError::Directory { path: dir.display().to_string(), source })?;
                }
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                // Each pooled connection keeps its own page cache; 1 MiB each (SQLite's default is
                // 2) leaves the rest to the system's cache of the file, which they all share.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -1024;",
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// The r2d2 manager: opens connections of the backend the URL names.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Result<Self, DbError> {
        Ok(Self { url: DatabaseUrl::parse(url)? })
    }
}

/// How long a connection that just served a request without a server error is trusted without
/// a round trip to check it.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection, with what the pool knows of its health.
pub struct Pooled {
    conn: DbConn,
    /// When it last served work without a server-side error.
    healthy_at: Instant,
    /// Set when work on it failed in a way that may mean the connection died.
    suspect: bool,
}

impl Pooled {
    /// Marks the connection for a check before its next use (after a database error).
    pub fn mark_suspect(&mut self) {
        self.suspect = true;
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = DbError;

    fn connect(&self) -> Result<Pooled, DbError> {
        Ok(Pooled { conn: self.url.connect()?, healthy_at: Instant::now(), suspect: false })
    }

    /// A connection that served work moments ago without a server error is handed out as it is;
    /// any other is checked with a round trip first, so that the pool recovers by itself after
    /// the server restarts.
    fn is_valid(&self, conn: &mut Pooled) -> Result<(), DbError> {
        if !conn.suspect && conn.healthy_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        conn.conn.batch_execute("SELECT 1").map_err(DbError::from)?;
        conn.suspect = false;
        conn.healthy_at = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        if !conn.suspect {
            conn.healthy_at = Instant::now();
        }
        false
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Pool settings taken from configuration.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_size: 16, connection_timeout: Duration::from_secs(5) }
    }
}

/// Builds a pool of connections to the database the URL names.
pub fn build_pool(url: &str, options: &PoolOptions) -> Result<Pool, DbError> {
    let manager = ConnectionManager::new(url)?;
    // A PostgreSQL connection can die with its server: one not known to be healthy is checked
    // before use (see `is_valid`), so that the pool recovers by itself.
    Ok(r2d2::Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(1))
        .connection_timeout(options.connection_timeout)
        .test_on_check_out(true)
        .build(manager)?)
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Applies pending migrations; returns the names of those applied.
pub fn run_migrations(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Reverts every applied migration (used by the migration round-trip test).
pub fn revert_all_migrations(conn: &mut DbConn) -> Result<usize, DbError> {
    let reverted = match conn {
        DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(reverted.len())
}

/// Whether the database answers.
pub fn ping(conn: &mut DbConn) -> bool {
    conn.batch_execute("SELECT 1").is_ok()
}

/// Runs `f` in a transaction that intends to write. On SQLite the write lock is taken by the first
/// statement, while the transaction has read nothing yet: a deferred transaction that reads and
/// then writes fails at once with SQLITE_BUSY when another connection wrote in between, whatever
/// the busy timeout; taking the lock first makes it wait its turn instead. (SQLite compiles the
/// write intent of an UPDATE whatever its WHERE clause.) PostgreSQL needs nothing more.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if conn.kind() == BackendKind::Sqlite {
            conn.batch_execute("UPDATE rate_limits SET hits = hits WHERE 0")?;
        }
        f(conn)
    })
}

/// Runs `f` in a read transaction whose statements PostgreSQL cancels past `millis` milliseconds
/// (the limit ends with the transaction). SQLite has no such limit: `f` runs as it is.
pub fn with_statement_timeout<T, E, F>(conn: &mut DbConn, millis: u64, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if conn.kind() == BackendKind::Sqlite || millis == 0 {
        return f(conn);
    }
    conn.transaction(|conn| {
        diesel::sql_query("SELECT set_config('statement_timeout', $1, true)")
            .bind::<diesel::sql_types::Text, _>(millis.to_string())
            .execute(conn)?;
        f(conn)
    })
}

/// Like [`build_pool`], without connecting first: for servers that may be down at start
/// (replicas), whose connections are checked before each use.
pub fn build_pool_lazy(url: &str, options: &PoolOptions) -> Result<Pool, DbError> {
    let manager = ConnectionManager::new(url)?;
    Ok(r2d2::Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(0))
        .connection_timeout(options.connection_timeout)
        .test_on_check_out(true)
        .build_unchecked(manager))
}
