//! Per-client limits on sign-in and registration endpoints, counted in the shared database so
//! that every server instance enforces the same limit.

use actix_web::HttpRequest;
use chrono::Utc;

use crate::error::{ApiError, Msg};
use crate::state::AppState;

/// The client's address: the peer, or the first forwarded address when the operator says a
/// trusted proxy sets it.
pub fn client_address(req: &HttpRequest, trust_forwarded: bool) -> String {
    if trust_forwarded {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return ip.to_string();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
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
        let mut e = ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            Msg::new("Quá nhiều yêu cầu", "Too many requests"),
            Msg::new(
                "Bạn gửi quá nhiều yêu cầu; vui lòng thử lại sau",
                "Too many requests from this address; try again later",
            ),
        );
        e.retry_after = Some((window + 60 - now).max(1) as u64);
        return Err(e);
    }
    Ok(())
}
