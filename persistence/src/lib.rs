//! Storage for dvc: one diesel schema and query set over SQLite and PostgreSQL.

pub mod accounts;
pub mod calendar;
pub mod catalogue;
pub mod codes;
pub mod columns;
pub mod db;
pub mod dossier_lists;
pub mod dossier_writes;
pub mod dossiers;
pub mod federation;
pub mod feedback;
pub mod files;
pub mod fines;
pub mod index766;
pub mod integration;
pub mod outbox;
pub mod payments;
pub mod prepared;
pub mod registrations;
pub mod results;
pub mod schema;
pub mod search;
pub mod statistics;

pub use db::{build_pool, BackendKind, DbConn, DbError, Pool, PoolOptions, PooledConn};

/// The current time as stored: UTC without offset, to the microsecond (both backends keep that).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A new identifier: a UUID of version 7, which begins with the time of its making, so that rows
/// made one after another land side by side in their indexes instead of on random pages; the
/// rest is random. Not a secret: anything that must be unguessable uses its own random token.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
