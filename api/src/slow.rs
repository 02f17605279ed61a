//! Slow clients: a request body that stops arriving for longer than the configured idle time, or
//! that arrives slower on average than the minimum rate once its grace has passed, ends the request
//! with 408 problem+json and closes the connection. (The time allowed for the request line and
//! headers is the server's `client_request_timeout`.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};
use futures_util::Stream;

use crate::error::{ApiError, Msg};

/// The limits of request bodies, as application data: the longest silence, and the slowest
/// average rate (bytes per second, 0 for none) once `grace` has passed.
#[derive(Clone, Copy)]
pub struct BodyLimits {
    pub idle: Duration,
    pub min_rate: u64,
    pub grace: Duration,
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

pub fn timed_out() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        Msg::new("Hết thời gian chờ nội dung yêu cầu", "Request body timed out"),
        Msg::new(
            "Nội dung yêu cầu ngừng gửi quá lâu; hãy gửi lại",
            "The request body stopped arriving for too long; send it again",
        ),
    )
}

/// A request body whose chunks must each arrive within `idle` of the previous one, and whose
/// bytes must keep up with the minimum rate: the body may take `grace` plus one second for each
/// `min_rate` bytes received so far.
struct IdleLimited {
    inner: Payload,
    idle: Duration,
    timer: Pin<Box<actix_web::rt::time::Sleep>>,
    /// When the body has run out of time at the minimum rate, when there is one.
    budget: Option<(Pin<Box<actix_web::rt::time::Sleep>>, actix_web::rt::time::Instant, u64, Duration)>,
    received: u64,
    expired: Arc<AtomicBool>,
    done: bool,
}

impl Stream for IdleLimited {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(chunk)) => {
                let next = actix_web::rt::time::Instant::now() + this.idle;
                this.timer.as_mut().reset(next);
                if let (Ok(bytes), Some((budget, started, rate, grace))) = (&chunk, this.budget.as_mut()) {
                    this.received += bytes.len() as u64;
                    let bought = Duration::from_secs_f64(this.received as f64 / *rate as f64);
                    budget.as_mut().reset(*started + *grace + bought);
                }
                Poll::Ready(Some(chunk))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let idle = this.timer.as_mut().poll(cx).is_ready();
                let slow = this.budget.as_mut().is_some_and(|(budget, ..)| budget.as_mut().poll(cx).is_ready());
                if idle || slow {
                    this.done = true;
                    this.expired.store(true, Ordering::Release);
                    let why = if idle { "request body idle" } else { "request body below the minimum rate" };
                    let error = std::io::Error::new(std::io::ErrorKind::TimedOut, why);
                    Poll::Ready(Some(Err(PayloadError::Io(error))))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

/// Wraps the body so that each chunk must arrive within the idle limit, and the whole at the
/// minimum rate.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limits = req.app_data::<BodyLimits>().copied();
    let expired = Arc::new(AtomicBool::new(false));
    if let Some(limits) = limits.filter(|_| has_body(&req)) {
        let started = actix_web::rt::time::Instant::now();
        let budget = (limits.min_rate > 0).then(|| {
            let sleep = Box::pin(actix_web::rt::time::sleep_until(started + limits.grace));
            (sleep, started, limits.min_rate, limits.grace)
        });
        let limited = IdleLimited {
            inner: req.take_payload(),
            idle: limits.idle,
            timer: Box::pin(actix_web::rt::time::sleep(limits.idle)),
            budget,
            received: 0,
            expired: expired.clone(),
            done: false,
        };
        let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(limited);
        req.set_payload(Payload::from(boxed));
    }
    let res = next.call(req).await?;
    if !expired.load(Ordering::Acquire) {
        return Ok(res.map_into_left_body());
    }
    let (req, _) = res.into_parts();
    let mut response = actix_web::ResponseError::error_response(&timed_out());
    response.head_mut().set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}
