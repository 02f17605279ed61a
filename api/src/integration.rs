//! What ministry and provincial one-stop systems get: the change feed, written in the same
//! transaction as each change, and signed webhook deliveries with retries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDateTime};
use dvc_domain::FieldError;
use dvc_persistence::integration::{self as ig, AttemptRow, DeliveryRow, NewEvent, WebhookRow};
use dvc_persistence::{new_id, DbConn};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::catalogue::rfc3339;
use crate::config::Config;

/// The event types of the feed and of webhooks.
pub const EVENT_TYPES: &[&str] = &[
    "dossier.submitted",
    "dossier.status_changed",
    "dossier.updated",
    "payment.paid",
    "payment.refunded",
    "feedback.created",
    "fine.paid",
];

/// How long a delivery is retried before it is given up.
pub const RETRY_FOR_HOURS: i64 = 24;

/// What an event is about.
pub struct Subject<'a> {
    pub agency_id: &'a str,
    pub dossier_id: Option<&'a str>,
    pub dossier_code: Option<&'a str>,
}

/// The JSON of an event, as the feed lists it and webhooks post it.
pub fn event_json(
    id: &str,
    event_type: &str,
    at: NaiveDateTime,
    subject: &Subject,
    data: &serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "type": event_type,
        "occurred_at": rfc3339(at),
        "agency_id": subject.agency_id,
        "dossier_id": subject.dossier_id,
        "dossier_code": subject.dossier_code,
        "data": data,
    })
}

/// Records an event in the caller's transaction and queues it for every live webhook that asked
/// for its type and whose client acts for its agency.
pub fn emit(conn: &mut DbConn, event_type: &str, subject: Subject, data: serde_json::Value) -> diesel::QueryResult<()> {
    emit_all(conn, &subject, vec![(event_type, data)])
}

/// Several events about one subject, in order, with one look at the webhooks.
pub fn emit_all(
    conn: &mut DbConn,
    subject: &Subject,
    events: Vec<(&str, serde_json::Value)>,
) -> diesel::QueryResult<()> {
    let subject =
        Subject { agency_id: subject.agency_id, dossier_id: subject.dossier_id, dossier_code: subject.dossier_code };
    emit_many(conn, vec![(subject, events)])
}

/// The events of several subjects, each subject's in order, in one statement and with one look at
/// the webhooks.
pub fn emit_many(conn: &mut DbConn, items: Vec<(Subject, Vec<(&str, serde_json::Value)>)>) -> diesel::QueryResult<()> {
    if items.iter().all(|(_, events)| events.is_empty()) {
        return Ok(());
    }
    let hooks: Vec<(WebhookRow, Vec<String>)> = ig::live_webhooks(conn)?
        .into_iter()
        .map(|(hook, agencies)| (hook, serde_json::from_str(&agencies).unwrap_or_default()))
        .collect();
    let at = dvc_persistence::now();
    let mut rows: Vec<NewEvent> = Vec::new();
    let mut deliveries: Vec<DeliveryRow> = Vec::new();
    for (subject, events) in &items {
        for (event_type, data) in events {
            let row = NewEvent {
                id: new_id(),
                event_type: (*event_type).into(),
                agency_id: subject.agency_id.into(),
                dossier_id: subject.dossier_id.map(str::to_string),
                dossier_code: subject.dossier_code.map(str::to_string),
                data: data.to_string(),
                created_at: at,
            };
            let wanted = hooks.iter().filter(|(hook, agencies)| {
                agencies.iter().any(|a| a == subject.agency_id) && hook.event_types().iter().any(|t| t == event_type)
            });
            let mut payload = None;
            for (hook, _) in wanted {
                let payload =
                    payload.get_or_insert_with(|| event_json(&row.id, event_type, at, subject, data).to_string());
                deliveries.push(DeliveryRow {
                    id: new_id(),
                    webhook_id: hook.id.clone(),
                    event_id: row.id.clone(),
                    event_type: (*event_type).into(),
                    payload: payload.clone(),
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: at,
                    give_up_at: at + Duration::hours(RETRY_FOR_HOURS),
                    last_status: None,
                    last_error: None,
                    delivered_at: None,
                    created_at: at,
                    updated_at: at,
                });
            }
            rows.push(row);
        }
    }
    ig::insert_events(conn, &rows)?;
    for delivery in &deliveries {
        ig::insert_delivery(conn, delivery)?;
    }
    Ok(())
}

/// `X-DVC-Signature`: `t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether an IPv4 address is public: not in any special-purpose range (this network, private,
/// shared CGNAT, loopback, link-local, IETF protocol assignments, documentation, the 6to4 relay
/// anycast, benchmarking, multicast, reserved, broadcast).
fn public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113))
}

/// The IPv4 address an IPv6 address carries, where it is only a way of writing one: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6].iter().all(|&x| x == 0) && !(s[6] == 0 && s[7] <= 1) {
        return Some(tail);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Whether a webhook may be sent to an address: global unicast only. An IPv6 address that
/// carries an IPv4 one is judged by that; otherwise it must lie in 2000::/3 outside the IETF
/// protocol assignments (2001::/23, with Teredo and benchmarking), documentation (2001:db8::/32,
/// 3fff::/20), and so never unique-local, site-local, link-local, multicast or loopback.
pub fn public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return public_v4(v4);
            }
            let s = v6.segments();
            (s[0] & 0xe000) == 0x2000
                && !(s[0] == 0x2001 && s[1] < 0x0200)
                && !(s[0] == 0x2001 && s[1] == 0x0db8)
                && !(s[0] == 0x3fff && s[1] < 0x1000)
        }
    }
}

fn url_error(code: &'static str, vi: &str, en: &str) -> FieldError {
    FieldError::new("url", code, vi, en)
}

/// Checks a webhook URL: http or https, a host, no credentials, and (unless allowed) no private,
/// loopback or link-local address. Returns the host and the addresses it resolved to.
pub fn check_url(raw: &str, deny_private: bool) -> Result<(String, Vec<SocketAddr>), FieldError> {
    let url = url::Url::parse(raw).map_err(|_| url_error("invalid_url", "URL không hợp lệ", "Not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(url_error("invalid_scheme", "Chỉ chấp nhận http hoặc https", "Only http and https are accepted"));
    }
    if !url.username().is_empty() || url.password().is_some() || raw.len() > 2000 {
        return Err(url_error("invalid_url", "URL không được chứa thông tin đăng nhập", "No credentials in the URL"));
    }
    let host = url.host_str().ok_or_else(|| url_error("invalid_url", "URL thiếu tên máy", "The URL has no host"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (bare, port).to_socket_addrs().map(Iterator::collect).unwrap_or_default(),
    };
    if addrs.is_empty() {
        return Err(url_error("unresolvable", "Không phân giải được tên máy", "The host does not resolve"));
    }
    if deny_private && addrs.iter().any(|a| !public_address(a.ip())) {
        return Err(url_error(
            "private_address",
            "Webhook chỉ được gửi tới địa chỉ công cộng",
            "Webhooks may reach public (global unicast) addresses only",
        ));
    }
    Ok((bare.to_string(), addrs))
}

/// The wait before the next attempt: exponential from `base`, capped at an hour, with ±50 % jitter.
pub fn backoff(base: StdDuration, attempts: i32) -> Duration {
    let exp = base.as_millis() as f64 * 2f64.powi(attempts.clamp(1, 30) - 1);
    let capped = exp.min(3_600_000.0);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    Duration::milliseconds((capped * jitter) as i64)
}

/// The outcome of one attempt.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    millis: i32,
}

fn post(hook: &WebhookRow, delivery: &DeliveryRow, deny_private: bool, timeout: StdDuration) -> Outcome {
    let started = Instant::now();
    let fail =
        |error: String| Outcome { status: None, error: Some(error), millis: started.elapsed().as_millis() as i32 };
    // The address is checked and pinned for the connection, so a name cannot be re-pointed inside.
    let (host, addrs) = match check_url(&hook.url, deny_private) {
        Ok(found) => found,
        Err(e) => return fail(e.message_en),
    };
    let client = match reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .resolve_to_addrs(&host, &addrs)
        .user_agent("dvc-webhooks/1")
        .build()
    {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    let unix = chrono::Utc::now().timestamp();
    let result = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-dvc-event", &delivery.event_type)
        .header("x-dvc-delivery", &delivery.id)
        .header("x-dvc-signature", signature(&hook.secret, unix, &delivery.payload))
        .body(delivery.payload.clone())
        .send();
    let millis = started.elapsed().as_millis() as i32;
    match result {
        Ok(res) => Outcome { status: Some(res.status().as_u16()), error: None, millis },
        Err(e) => Outcome { status: None, error: Some(e.to_string()), millis },
    }
}

/// Delivers what is due once: claims a batch, posts each, records every attempt. Several
/// instances may run this at once; each delivery is claimed by one of them per attempt.
pub fn deliver_due(pool: &dvc_persistence::Pool, config: &Config) -> Result<usize, crate::error::ApiError> {
    let mut conn = pool.get()?;
    let out = deliver_with(config, &mut conn);
    if out.is_err() {
        conn.mark_suspect();
    }
    out
}

fn deliver_with(config: &Config, conn: &mut DbConn) -> Result<usize, crate::error::ApiError> {
    let lease = Duration::milliseconds(config.webhook_timeout.as_millis() as i64 * 2 + 5_000);
    let now = dvc_persistence::now();
    let claimed = dvc_persistence::db::write_transaction(conn, |conn| {
        ig::claim_due(conn, now, now + lease, 20).map_err(crate::error::ApiError::from)
    })?;
    let count = claimed.len();
    for (mut delivery, hook) in claimed {
        let outcome = post(&hook, &delivery, config.webhook_deny_private, config.webhook_timeout);
        let at = dvc_persistence::now();
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        delivery.last_status = outcome.status.map(i32::from);
        delivery.last_error = outcome.error.clone().map(|e| e.chars().take(500).collect());
        delivery.updated_at = at;
        if ok {
            delivery.status = "delivered".into();
            delivery.delivered_at = Some(at);
        } else {
            let next = at + backoff(config.webhook_retry_base, delivery.attempts);
            if next > delivery.give_up_at {
                delivery.status = "failed".into();
            } else {
                delivery.status = "pending".into();
                delivery.next_attempt_at = next;
            }
        }
        let attempt = AttemptRow {
            id: new_id(),
            delivery_id: delivery.id.clone(),
            attempt: delivery.attempts,
            at,
            status_code: outcome.status.map(i32::from),
            error: delivery.last_error.clone(),
            duration_ms: outcome.millis,
        };
        dvc_persistence::db::write_transaction(conn, |conn| {
            ig::insert_attempt(conn, &attempt)?;
            ig::update_delivery(conn, &delivery)?;
            Ok::<_, crate::error::ApiError>(())
        })?;
    }
    Ok(count)
}

/// Runs [`deliver_due`] on a timer until the server stops.
pub fn spawn_worker(pool: dvc_persistence::Pool, config: std::sync::Arc<Config>) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(config.webhook_poll);
        loop {
            tick.tick().await;
            let (pool, config) = (pool.clone(), config.clone());
            match actix_web::web::block(move || deliver_due(&pool, &config)).await {
                Ok(Err(e)) => tracing::debug!(error = %e, "webhook deliveries not run this time"),
                Err(e) => tracing::warn!(error = %e, "webhook worker failed"),
                Ok(Ok(_)) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_recipe() {
        // HMAC-SHA256("whsec", "1700000000.{}"), computed independently with Python's hmac module.
        assert_eq!(
            signature("whsec", 1_700_000_000, "{}"),
            "t=1700000000,v1=7d44587dddbaf4c7f70fef20f48cd594834ffea1641e3ac227b84408298738af"
        );
    }

    #[test]
    fn private_targets_are_refused_when_denied() {
        for url in [
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/",
            "https://[::1]/h",
            "http://169.254.169.254/latest",
            "http://192.168.1.1/",
        ] {
            assert_eq!(check_url(url, true).expect_err("refused").code, "private_address", "{url}");
            assert!(check_url(url, false).is_ok(), "{url}");
        }
        assert_eq!(check_url("ftp://example.com/", false).expect_err("refused").code, "invalid_scheme");
        assert_eq!(check_url("http://user:pw@8.8.8.8/", false).expect_err("refused").code, "invalid_url");
        assert!(check_url("https://8.8.8.8/hook", true).is_ok());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = StdDuration::from_secs(10);
        let first = backoff(base, 1).num_milliseconds();
        assert!((5_000..15_000).contains(&first), "{first}");
        let fifth = backoff(base, 5).num_milliseconds();
        assert!((80_000..240_000).contains(&fifth), "{fifth}");
        assert!(backoff(base, 30).num_milliseconds() <= 5_400_000);
    }

    #[test]
    fn webhooks_reach_global_unicast_addresses_only() {
        let public = |s: &str| public_address(s.parse().expect("an address"));
        for ok in
            ["8.8.8.8", "203.0.114.1", "2606:4700::1111", "2a00:1450:4001::1", "64:ff9b::808:808", "2002:808:808::1"]
        {
            assert!(public(ok), "{ok} is public");
        }
        for refused in [
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "224.0.0.251",
            "240.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            // IPv4 written as IPv6: mapped, compatible, NAT64, 6to4.
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:a00:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            // IPv6 ranges that are not global unicast.
            "::",
            "::1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "ff05::2",
        ] {
            assert!(!public(refused), "{refused} is refused");
        }
    }
}
