//! A bounded share of the server for costly work (statistics and their exports; password
//! hashing): so many at once, so many waiting, and beyond that 503 with `Retry-After` at once, so
//! that lookups, detail pages, lists and submissions keep their connections, memory and latency
//! while costly endpoints are busy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{ApiError, Msg};

pub struct Bulkhead {
    permits: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
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
        Self { permits: Semaphore::new(running), waiting: AtomicUsize::new(0), queue, wait }
    }

    /// A place to run heavy work, or 503 when every place is taken and the queue is full (or the
    /// wait runs out).
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy(5));
        }
        let got = tokio::time::timeout(self.wait, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match got {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy(5)),
        }
    }
}

#[cfg(test)]
mod tests {
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
    async fn no_share_refuses_everything() {
        let b = Bulkhead::new(0, 4, Duration::from_millis(20));
        assert!(b.enter().await.is_err());
    }
}
