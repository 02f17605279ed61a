//! A bounded share of the server for costly work (statistics and their exports; password
//! hashing): so many at once, so many waiting, and beyond that 503 with `Retry-After` at once, so
//! that lookups, detail pages, lists and submissions keep their connections, memory and latency
//! while costly endpoints are busy.
//!
//! A share may also yield to other traffic: with a duty of one half, a place that worked 8 ms
//! while the server answered other requests rests 8 ms before the next work takes it, so that
//! clients who ask for costly work without pause keep a place busy half the time, not all of it,
//! while others are served. With no other traffic, places are given back at once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, Msg};

pub struct Bulkhead {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
    /// How long a place rests for each second it worked while other requests were served.
    rest_per_work: f64,
    /// Every request the server started (counted by its middleware), and how many of them came
    /// here: the difference is the other traffic.
    traffic: Option<Arc<AtomicU64>>,
    arrivals: AtomicU64,
}

/// A place taken; given back when dropped, after its rest if others were served meanwhile.
pub struct Place<'a> {
    bulkhead: &'a Bulkhead,
    permit: Option<OwnedSemaphorePermit>,
    since: Instant,
    others_before: u64,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else { return };
        if self.bulkhead.others() == self.others_before {
            return;
        }
        let rest = self.since.elapsed().mul_f64(self.bulkhead.rest_per_work);
        if rest.is_zero() {
            return;
        }
        // The answer goes out now; the place comes back after its rest.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                tokio::time::sleep(rest).await;
                drop(permit);
            });
        }
    }
}

/// 503 with `Retry-After`: heavy work is shed, not queued without end.
pub fn busy(retry_after: u64) -> ApiError {
    ApiError::later(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        Msg::new("Hệ thống đang bận", "Busy"),
        Msg::new(
            "Có nhiều yêu cầu loại này cùng lúc; vui lòng thử lại sau ít giây",
            "Many requests of this kind are being served; try again in a few seconds",
        ),
        retry_after,
    )
}

impl Bulkhead {
    /// `running` at once (0: heavy work is switched off), `queue` more waiting up to `wait`.
    pub fn new(running: usize, queue: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(running)),
            waiting: AtomicUsize::new(0),
            queue,
            wait,
            rest_per_work: 0.0,
            traffic: None,
            arrivals: AtomicU64::new(0),
        }
    }

    /// The same, yielding to other traffic: while `traffic` (every request started) grows by
    /// more than the requests that came here, each place works at most `duty` of the time (a
    /// share in `(0, 1]`).
    pub fn yielding(running: usize, queue: usize, wait: Duration, duty: f64, traffic: Arc<AtomicU64>) -> Self {
        let duty = if duty.is_finite() { duty.clamp(0.01, 1.0) } else { 1.0 };
        Self { rest_per_work: 1.0 / duty - 1.0, traffic: Some(traffic), ..Self::new(running, queue, wait) }
    }

    /// Requests started elsewhere so far.
    fn others(&self) -> u64 {
        let arrivals = self.arrivals.load(Ordering::Acquire);
        self.traffic.as_ref().map_or(0, |t| t.load(Ordering::Acquire).saturating_sub(arrivals))
    }

    fn place(&self, permit: OwnedSemaphorePermit) -> Place<'_> {
        Place { bulkhead: self, permit: Some(permit), since: Instant::now(), others_before: self.others() }
    }

    /// A place to run heavy work, or 503 when every place is taken and the queue is full (or the
    /// wait runs out).
    pub async fn enter(&self) -> Result<Place<'_>, ApiError> {
        self.arrivals.fetch_add(1, Ordering::AcqRel);
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(self.place(permit));
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy(5));
        }
        // Counted out however the wait ends, also when the client goes away meanwhile.
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let waiting = Waiting(&self.waiting);
        let got = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        drop(waiting);
        match got {
            Ok(Ok(permit)) => Ok(self.place(permit)),
            _ => Err(busy(5)),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[actix_web::test]
    async fn heavy_work_beyond_its_share_is_shed() {
        let b = Bulkhead::new(1, 1, Duration::from_secs(5));
        let first = b.enter().await.expect("a place");
        // One may wait; the next is refused at once.
        let waiting = b.enter();
        let refused = async {
            tokio::task::yield_now().await;
            b.enter().await.map(|_| ()).expect_err("the queue is full")
        };
        let release = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(first);
        };
        let (waited, refused, ()) = futures_util::join!(waiting, refused, release);
        assert!(waited.is_ok(), "the waiting one gets the place");
        assert_eq!(refused.status, actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.retry_after, Some(5));
    }

    #[actix_web::test]
    async fn a_place_rests_while_others_are_served() {
        // Every request counts here first, as the server's middleware does.
        let traffic = Arc::new(AtomicU64::new(0));
        let b = Bulkhead::yielding(1, 4, Duration::from_secs(5), 0.5, traffic.clone());
        // Alone: the place comes back at once.
        traffic.fetch_add(1, Ordering::AcqRel);
        let place = b.enter().await.expect("a place");
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(place);
        assert_eq!(b.permits.available_permits(), 1, "no one else was served: no rest");
        // Another heavy request arriving meanwhile is not other traffic.
        traffic.fetch_add(1, Ordering::AcqRel);
        let place = b.enter().await.expect("a place");
        traffic.fetch_add(1, Ordering::AcqRel);
        assert!(b.enter().now_or_never().is_none(), "the second waits for the place");
        assert_eq!(b.waiting.load(Ordering::Acquire), 0, "a wait given up is counted out");
        drop(place);
        assert_eq!(b.permits.available_permits(), 1, "heavy requests alone: no rest");
        // Half the time while a lookup was served: 60 ms of work, then 60 ms of rest.
        traffic.fetch_add(1, Ordering::AcqRel);
        let place = b.enter().await.expect("a place");
        traffic.fetch_add(1, Ordering::AcqRel); // a lookup
        tokio::time::sleep(Duration::from_millis(60)).await;
        drop(place);
        let back = Instant::now();
        assert_eq!(b.permits.available_permits(), 0, "the place rests");
        let _again = b.enter().await.expect("the place after its rest");
        let rested = back.elapsed();
        assert!(rested >= Duration::from_millis(55), "rested {rested:?}");
    }

    #[actix_web::test]
    async fn no_share_refuses_everything() {
        let b = Bulkhead::new(0, 4, Duration::from_millis(20));
        assert!(b.enter().await.is_err());
    }
}
