//! Slow clients: a request body that stops arriving for longer than the configured idle time ends
//! the request with 408 problem+json and closes the connection. (The time allowed for the request
//! line and headers is the server's `client_request_timeout`.)

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

/// The idle limit for request bodies, as application data.
#[derive(Clone, Copy)]
pub struct BodyIdleTimeout(pub Duration);

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

/// A request body whose chunks must each arrive within `idle` of the previous one.
struct IdleLimited {
    inner: Payload,
    idle: Duration,
    timer: Pin<Box<actix_web::rt::time::Sleep>>,
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
                Poll::Ready(Some(chunk))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.done = true;
                    this.expired.store(true, Ordering::Release);
                    let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body idle");
                    Poll::Ready(Some(Err(PayloadError::Io(error))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Wraps the body so that each chunk must arrive within the idle limit.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let idle = req.app_data::<BodyIdleTimeout>().map(|t| t.0);
    let expired = Arc::new(AtomicBool::new(false));
    if let Some(idle) = idle.filter(|_| has_body(&req)) {
        let limited = IdleLimited {
            inner: req.take_payload(),
            idle,
            timer: Box::pin(actix_web::rt::time::sleep(idle)),
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
