//! Keeps the statistics rollups at one row per key and day (see
//! `dvc_persistence::statistics::compact`), so that a report reads as few rows after a year of
//! service as on its first day.

use std::time::Duration;

use crate::state::AppState;

/// How often the rollups are compacted.
const EVERY: Duration = Duration::from_secs(600);

/// Compacts the rollups of the days before yesterday every ten minutes (the first time ten
/// minutes after start, so that servers started together do not all begin with it), until the
/// server stops. Every server runs it: two at once skip each other's rows.
pub fn spawn_compaction(state: AppState) {
    actix_web::rt::spawn(async move {
        let first = actix_web::rt::time::Instant::now() + EVERY;
        let mut tick = actix_web::rt::time::interval_at(first, EVERY);
        loop {
            tick.tick().await;
            let today = state.clock.today();
            let before = today.pred_opt().unwrap_or(today);
            let pool = state.pool.clone();
            let done = actix_web::web::block(move || -> Result<usize, String> {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                dvc_persistence::statistics::compact(&mut conn, before).map_err(|e| e.to_string())
            })
            .await;
            match done {
                Ok(Ok(rows)) => tracing::debug!(rows, "statistics rollups compacted"),
                Ok(Err(e)) => tracing::debug!(error = %e, "statistics rollups not compacted this time"),
                Err(e) => tracing::warn!(error = %e, "statistics compaction failed"),
            }
        }
    });
}
