//! Requests of one kind that reach the database together are served together. While a batch of
//! them runs, the requests that arrive queue, and the next batch takes them all: one statement (or
//! a few) for the whole batch instead of a round of statements per request, so the database's
//! work per statement, the round trips and the hops between threads are paid once per batch. A
//! request that finds a lane free starts a batch at once, so nothing ever waits for a batch to
//! fill: when the database keeps up, every batch holds one request; under load the batches grow
//! by themselves.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dvc_persistence::DbConn;
use tokio::sync::oneshot;

use crate::db::Db;
use crate::error::ApiError;

/// Where a batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The primary database.
    Primary,
    /// A fresh replica if there is one, else the primary (see [`Db::read`]).
    Replica,
}

/// The work of one batch: an answer for each input, in order. An error of the whole batch (the
/// database failed) is every input's answer.
pub type Work<I, O> = dyn Fn(&mut DbConn, &[I]) -> Result<Vec<Result<O, ApiError>>, ApiError> + Send + Sync;

/// A check of a batch's inputs made before its work, on the same connection and in the same
/// round: each input's go-ahead, or why it is refused. Refused inputs are answered with their
/// refusal and left out of the work.
pub type Gate<I> = dyn Fn(&mut DbConn, &[I]) -> Result<Vec<Result<(), ApiError>>, ApiError> + Send + Sync;

/// A queued request: its ticket, its input, and where its answer goes.
type Waiting<I, O> = (u64, I, oneshot::Sender<Result<O, ApiError>>);

/// A lane a batch holds: given back when the batch's task ends, however it ends.
struct Lane(Arc<AtomicUsize>);

impl Drop for Lane {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A queue of requests of one kind and the batches that serve it.
pub struct Batcher<I, O> {
    /// The kind of request, as the metrics name it.
    kind: &'static str,
    queue: Mutex<VecDeque<Waiting<I, O>>>,
    /// The ticket of the next request queued.
    tickets: AtomicU64,
    /// Batches running now.
    running: Arc<AtomicUsize>,
    /// At most this many batches run at once, each on a connection of its own.
    lanes: usize,
    /// At most this many requests in one batch.
    max: usize,
    target: Target,
    work: Arc<Work<I, O>>,
    /// Checked before the work of each batch (primary only).
    gate: Option<Arc<Gate<I>>>,
}

impl<I, O> Batcher<I, O>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
{
    pub fn new(kind: &'static str, lanes: usize, max: usize, target: Target, work: Arc<Work<I, O>>) -> Arc<Self> {
        Self::with(kind, lanes, max, target, work, None)
    }

    /// A batcher whose inputs pass `gate` before its work, in the same job on the primary: a
    /// check that must see every change at once (such as whether a session is still open) costs
    /// no round of its own.
    pub fn gated(kind: &'static str, lanes: usize, max: usize, work: Arc<Work<I, O>>, gate: Arc<Gate<I>>) -> Arc<Self> {
        Self::with(kind, lanes, max, Target::Primary, work, Some(gate))
    }

    fn with(
        kind: &'static str,
        lanes: usize,
        max: usize,
        target: Target,
        work: Arc<Work<I, O>>,
        gate: Option<Arc<Gate<I>>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            kind,
            queue: Mutex::new(VecDeque::new()),
            tickets: AtomicU64::new(0),
            running: Arc::new(AtomicUsize::new(0)),
            lanes: lanes.max(1),
            max: max.max(1),
            target,
            work,
            gate,
        })
    }

    /// Queues one request and waits for its answer. A request still queued after the database
    /// timeout leaves the queue unserved and is answered 503; once its batch has started, it waits
    /// for the batch's answer, which says whether its work was done.
    pub async fn run(self: &Arc<Self>, db: &Db, input: I) -> Result<O, ApiError> {
        let (tx, mut rx) = oneshot::channel();
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        self.queue.lock().map_err(|_| ApiError::internal())?.push_back((ticket, input, tx));
        if self.claim_lane() {
            actix_web::rt::spawn(self.clone().drain(db.clone(), Lane(self.running.clone())));
        }
        if let Ok(answer) = tokio::time::timeout(db.timeout(), &mut rx).await {
            return answer.unwrap_or_else(|_| Err(ApiError::internal()));
        }
        let withdrawn = match self.queue.lock() {
            Ok(mut queue) => queue.iter().position(|(t, ..)| *t == ticket).and_then(|i| queue.remove(i)).is_some(),
            Err(_) => false,
        };
        if withdrawn {
            tracing::warn!(kind = self.kind, "a request waited for its batch past the database timeout");
            return Err(ApiError::unavailable());
        }
        rx.await.unwrap_or_else(|_| Err(ApiError::internal()))
    }

    fn claim_lane(&self) -> bool {
        self.running.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.lanes).then_some(n + 1)).is_ok()
    }

    /// Serves batches from the queue until it is empty, oldest requests first, on the lane it
    /// was given.
    async fn drain(self: Arc<Self>, db: Db, lane: Lane) {
        let mut lane = lane;
        loop {
            let batch: Vec<Waiting<I, O>> = match self.queue.lock() {
                Ok(mut queue) => {
                    let n = queue.len().min(self.max);
                    queue.drain(..n).collect()
                }
                Err(_) => Vec::new(),
            };
            if batch.is_empty() {
                drop(lane);
                // A request queued after the queue was found empty, but before the lane was given
                // back, found no free lane: serve it here if no other batch took the lane.
                let queued = self.queue.lock().map(|q| !q.is_empty()).unwrap_or(false);
                if queued && self.claim_lane() {
                    lane = Lane(self.running.clone());
                    continue;
                }
                return;
            }
            let (inputs, replies): (Vec<I>, Vec<_>) = batch.into_iter().map(|(_, i, r)| (i, r)).unzip();
            let count = inputs.len();
            db.metrics().batch(self.kind, count);
            let work = self.work.clone();
            let gate = self.gate.clone();
            let answers = match self.target {
                Target::Primary => db.run(move |conn| gated(conn, &*work, gate.as_deref(), inputs)).await,
                Target::Replica => {
                    let inputs = Arc::new(inputs);
                    db.read(move |conn| work(conn, &inputs)).await
                }
            };
            match answers {
                Ok(answers) if answers.len() == count => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(answer);
                    }
                }
                Ok(answers) => {
                    tracing::error!(
                        expected = count,
                        got = answers.len(),
                        "a batch answered the wrong number of requests"
                    );
                    for reply in replies {
                        let _ = reply.send(Err(ApiError::internal()));
                    }
                }
                Err(e) => {
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// Serves a batch: the inputs `gate` refuses get their refusal, the others the work's answers.
fn gated<I, O>(
    conn: &mut DbConn,
    work: &Work<I, O>,
    gate: Option<&Gate<I>>,
    inputs: Vec<I>,
) -> Result<Vec<Result<O, ApiError>>, ApiError> {
    let Some(gate) = gate else { return work(conn, &inputs) };
    let verdicts = gate(conn, &inputs)?;
    if verdicts.len() != inputs.len() {
        return Err(ApiError::internal());
    }
    if verdicts.iter().all(Result::is_ok) {
        return work(conn, &inputs);
    }
    let mut refused: Vec<Option<ApiError>> = Vec::with_capacity(inputs.len());
    let mut passed = Vec::with_capacity(inputs.len());
    for (input, verdict) in inputs.into_iter().zip(verdicts) {
        match verdict {
            Ok(()) => {
                passed.push(input);
                refused.push(None);
            }
            Err(e) => refused.push(Some(e)),
        }
    }
    let answers = if passed.is_empty() { Vec::new() } else { work(conn, &passed)? };
    if answers.len() != passed.len() {
        return Err(ApiError::internal());
    }
    let mut answers = answers.into_iter();
    Ok(refused
        .into_iter()
        .map(|r| match r {
            Some(e) => Err(e),
            None => answers.next().unwrap_or_else(|| Err(ApiError::internal())),
        })
        .collect())
}

/// Serves a batch of writes in one transaction. When the transaction fails for a reason one request
/// can cause (a client error, such as a key taken meanwhile), serves each request in a transaction
/// of its own instead, so that one request's conflict fails that request only.
pub fn together_or_alone<I, O>(
    conn: &mut DbConn,
    inputs: &[I],
    work: impl Fn(&mut DbConn, &[I]) -> Result<Vec<Result<O, ApiError>>, ApiError>,
) -> Result<Vec<Result<O, ApiError>>, ApiError> {
    match dvc_persistence::db::write_transaction(conn, |c| work(c, inputs)) {
        Err(e) if inputs.len() > 1 && e.status.is_client_error() => Ok(inputs
            .chunks(1)
            .map(|one| {
                dvc_persistence::db::write_transaction(conn, |c| work(c, one))
                    .and_then(|answers| answers.into_iter().next().unwrap_or_else(|| Err(ApiError::internal())))
            })
            .collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use diesel::prelude::*;
    use dvc_persistence::db::{run_migrations, DatabaseUrl};
    use dvc_persistence::schema::dossier_code_counters as c;

    use super::*;

    fn database() -> DbConn {
        let mut conn = DatabaseUrl::parse("sqlite://:memory:").unwrap().connect().unwrap();
        run_migrations(&mut conn).unwrap();
        conn
    }

    /// Inserts one counter row per input: a prefix that exists already breaks the statement.
    fn insert_all(conn: &mut DbConn, prefixes: &[&str]) -> Result<Vec<Result<String, ApiError>>, ApiError> {
        for p in prefixes {
            diesel::insert_into(c::table).values((c::prefix.eq(*p), c::last_number.eq(1))).execute(conn)?;
        }
        Ok(prefixes.iter().map(|p| Ok(p.to_string())).collect())
    }

    fn prefixes(conn: &mut DbConn) -> Vec<String> {
        c::table.select(c::prefix).order(c::prefix).load(conn).unwrap()
    }

    #[test]
    fn one_requests_conflict_fails_that_request_only() {
        let mut conn = database();
        insert_all(&mut conn, &["taken"]).unwrap();
        let answers = together_or_alone(&mut conn, &["a", "taken", "c"], insert_all).unwrap();
        assert_eq!(answers[0].as_ref().unwrap(), "a");
        assert_eq!(answers[1].as_ref().unwrap_err().status.as_u16(), 409);
        assert_eq!(answers[2].as_ref().unwrap(), "c");
        assert_eq!(prefixes(&mut conn), ["a", "c", "taken"], "the others written once, nothing twice");
    }

    #[test]
    fn a_batch_that_succeeds_is_one_transaction() {
        let mut conn = database();
        let answers = together_or_alone(&mut conn, &["a", "b"], insert_all).unwrap();
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(prefixes(&mut conn), ["a", "b"]);
    }

    #[test]
    fn a_server_fault_fails_the_batch_and_writes_nothing() {
        let mut conn = database();
        let faulty = |conn: &mut DbConn, inputs: &[&str]| -> Result<Vec<Result<String, ApiError>>, ApiError> {
            insert_all(conn, inputs)?;
            Err(ApiError::internal())
        };
        let outcome = together_or_alone(&mut conn, &["a", "b"], faulty);
        assert_eq!(outcome.unwrap_err().status.as_u16(), 500);
        assert!(prefixes(&mut conn).is_empty(), "rolled back, and not retried one by one");
    }

    #[test]
    fn a_gate_refuses_inputs_before_the_work_sees_them() {
        let mut conn = database();
        let gate = |_: &mut DbConn, inputs: &[&str]| -> Result<Vec<Result<(), ApiError>>, ApiError> {
            Ok(inputs.iter().map(|p| if p.starts_with('x') { Err(ApiError::forbidden()) } else { Ok(()) }).collect())
        };
        let answers = gated(&mut conn, &insert_all, Some(&gate), vec!["a", "xb", "c", "xd"]).unwrap();
        let statuses: Vec<Result<String, u16>> =
            answers.into_iter().map(|a| a.map_err(|e| e.status.as_u16())).collect();
        assert_eq!(statuses, [Ok("a".to_string()), Err(403), Ok("c".to_string()), Err(403)], "in the inputs' order");
        assert_eq!(prefixes(&mut conn), ["a", "c"], "the refused inputs never reached the work");
        let answers = gated(&mut conn, &insert_all, Some(&gate), vec!["xe"]).unwrap();
        assert_eq!(answers[0].as_ref().unwrap_err().status.as_u16(), 403);
        assert_eq!(prefixes(&mut conn), ["a", "c"]);
        let answers = gated(&mut conn, &insert_all, None, vec!["xf"]).unwrap();
        assert_eq!(answers[0].as_ref().unwrap(), "xf", "no gate, no check");
    }
}
