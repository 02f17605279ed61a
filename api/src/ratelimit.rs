//! Per-client limits. Sign-in and registration are counted in the shared database, so that every
//! server instance enforces the same limit; the public lookup by code, a hot read path, is counted
//! by each instance in its memory (a limit per instance, GCRA with a burst of the minute's quota).

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use chrono::Utc;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{ApiError, Msg};
use crate::state::AppState;

/// The address a chain of trusted proxies saw the client at: in `X-Forwarded-For`, each proxy
/// appends the address it was reached from, so the one `hops` from the right was written by the
/// outermost trusted proxy; what stands further left the client may have written itself.
pub fn forwarded_client(header: &str, hops: usize) -> Option<IpAddr> {
    let entries: Vec<&str> = header.split(',').map(str::trim).collect();
    let at = entries.len().checked_sub(hops.max(1))?;
    let entry = entries[at];
    let bare = entry.strip_prefix('[').and_then(|e| e.split_once(']')).map_or(entry, |(ip, _)| ip);
    bare.parse::<IpAddr>().ok().or_else(|| bare.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok()))
}

/// The client's address: the peer, or, when the operator says `DVC_TRUSTED_PROXY_HOPS` trusted
/// proxies stand in front (`DVC_TRUST_FORWARDED`), the address the outermost of them saw.
pub fn client_address(req: &HttpRequest, trust_forwarded: bool) -> String {
    if trust_forwarded {
        let hops = req.app_data::<actix_web::web::Data<AppState>>().map_or(1, |s| s.config.trusted_proxy_hops);
        let header = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
        if let Some(ip) = forwarded_client(&header.join(","), hops) {
            return ip.to_string();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Requests per minute per client address, counted in this instance's memory.
pub struct AddressLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl AddressLimiter {
    /// `per_minute` of 0: no limit.
    pub fn new(per_minute: u32) -> Self {
        Self { limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))) }
    }

    /// Counts one request of the client of `req`; 429 with `Retry-After` past the limit. Without
    /// a limit, nothing is looked at.
    pub fn check(&self, req: &HttpRequest, trust_forwarded: bool) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let client = client_address(req, trust_forwarded);
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            too_many(wait.as_secs().max(1))
        })
    }
}

fn too_many(retry_after: u64) -> ApiError {
    ApiError::later(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        Msg::new("Quá nhiều yêu cầu", "Too many requests"),
        Msg::new(
            "Bạn gửi quá nhiều yêu cầu; vui lòng thử lại sau",
            "Too many requests from this address; try again later",
        ),
        retry_after,
    )
}

/// Counts one request of the client against `group`; 429 with `Retry-After` past the limit.
pub async fn check(state: &AppState, req: &HttpRequest, group: &'static str) -> Result<(), ApiError> {
    let limit = state.config.auth_rate_per_minute;
    if limit == 0 {
        return Ok(());
    }
    let bucket = format!("{group}:{}", client_address(req, state.config.trust_forwarded));
    let now = Utc::now().timestamp();
    let window = now - now.rem_euclid(60);
    let hits = state.db(move |conn| Ok(dvc_persistence::outbox::hit(conn, &bucket, window)?)).await?;
    if hits as u32 > limit {
        return Err(too_many((window + 60 - now).max(1) as u64));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;

    #[test]
    fn the_address_the_trusted_proxy_saw() {
        let ip = |s: &str| Some(s.parse().expect("an address"));
        // The client wrote 6.6.6.6 itself; the proxy appended the address it saw.
        assert_eq!(forwarded_client("6.6.6.6, 203.0.113.7", 1), ip("203.0.113.7"));
        assert_eq!(forwarded_client("6.6.6.6, 203.0.113.7, 10.0.0.2", 2), ip("203.0.113.7"));
        assert_eq!(forwarded_client("203.0.113.7", 1), ip("203.0.113.7"));
        assert_eq!(forwarded_client("[2001:db8::1]:4711, 198.51.100.2:80", 1), ip("198.51.100.2"));
        assert_eq!(forwarded_client("[2001:db8::1]:4711", 1), ip("2001:db8::1"));
        assert_eq!(forwarded_client("203.0.113.7", 2), None, "fewer entries than trusted hops");
        assert_eq!(forwarded_client("abc", 1), None);
    }
}
