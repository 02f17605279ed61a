//! Storage for dvc: one diesel schema and query set over SQLite and PostgreSQL.

pub mod accounts;
pub mod catalogue;
pub mod db;
pub mod dossiers;
pub mod feedback;
pub mod integration;
pub mod outbox;
pub mod payments;
pub mod registrations;
pub mod schema;
pub mod statistics;

pub use db::{build_pool, BackendKind, DbConn, DbError, Pool, PoolOptions, PooledConn};

/// The current time as stored: UTC without offset, to the microsecond (both backends keep that).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A new random identifier.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
