//! Running database work: on actix's blocking pool, never on the async workers, after waiting in
//! arrival order for one of the pool's connections (at most the database timeout, then 503); and
//! read-only work that tolerates a little lag on a fresh replica when there is one.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use dvc_persistence::{DbConn, Pool};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::replica::Replicas;

/// The database as request handlers and services use it.
#[derive(Clone)]
pub struct Db {
    pub pool: Pool,
    replicas: Arc<Replicas>,
    /// One permit per pooled connection: requests wait here, in arrival order and without holding
    /// a thread, rather than on the pool's lock from blocking threads.
    gate: Arc<tokio::sync::Semaphore>,
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl Db {
    pub fn new(pool: Pool, replicas: Arc<Replicas>, timeout: Duration, metrics: Arc<Metrics>) -> Self {
        let permits = pool.max_size() as usize;
        Db { pool, replicas, gate: Arc::new(tokio::sync::Semaphore::new(permits)), timeout, metrics }
    }

    /// How long work waits for a connection (or its batch) before it is answered 503.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn replicas(&self) -> &Arc<Replicas> {
        &self.replicas
    }

    /// Runs blocking database work on the thread pool.
    pub async fn run<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = match tokio::time::timeout(self.timeout, self.gate.acquire()).await {
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

    /// Like [`Db::run`], inside one transaction.
    pub async fn tx<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| dvc_persistence::db::write_transaction(conn, f)).await
    }

    /// Read-only work that tolerates a little lag: on a fresh replica if there is one, else (or if
    /// the replica fails) on the primary.
    pub async fn read<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: Fn(&mut DbConn) -> Result<T, ApiError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        if let Some((i, pool)) = self.replicas.pick() {
            let work = f.clone();
            let result = web::block(move || {
                let mut conn = pool.get()?;
                let out = work(&mut conn);
                if out.as_ref().is_err_and(|e| e.status.is_server_error()) {
                    conn.mark_suspect();
                }
                out
            })
            .await?;
            match result {
                Err(e) if e.status.is_server_error() => {
                    tracing::warn!(replica = i, "a replica failed; reading from the primary");
                    self.replicas.mark_down(i);
                }
                other => {
                    self.metrics.read_on("replica");
                    return other;
                }
            }
        }
        self.metrics.read_on("primary");
        self.run(move |conn| f(conn)).await
    }
}
