//! Messages to people: the outbox is filled in the same transaction as what a message tells
//! (an OTP issued, a dossier moved), and drained by every server: each message is claimed by one
//! of them, sent on the channels of its plan in order, retried with backoff, and its delivery
//! status kept. OTP codes are never logged and are dropped once a message is done with.

pub mod config;
pub mod send;
mod templates;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use dvc_domain::notify::{self as n, Addresses, Channel, Language, NoticeStatus, Outcome, Purpose, Receipt};
use dvc_persistence::codes::Code;
use dvc_persistence::outbox::{self, NotificationRow};
use dvc_persistence::{new_id, DbConn};

use crate::error::{ApiError, Msg};
use crate::state::AppState;
pub use config::NotifyConfig;
use send::Outgoing;

/// A message to queue.
pub struct Notice {
    pub purpose: Purpose,
    pub to: Addresses,
    /// The recipient's chosen channels (ignored for OTPs); none: any.
    pub chosen: Option<Vec<Channel>>,
    pub language: Language,
    pub params: BTreeMap<String, String>,
}

/// How a plan not yet fixed is written: `?` and the recipient's chosen channels. The server that
/// first sends the message fixes the plan from its configuration.
const UNPLANNED: char = '?';

/// Queues a message in the caller's transaction; none is queued when the recipient has no
/// address or already had the day's share of this purpose (notices only: OTP callers refuse
/// the request itself, see `routes::registrations::send_otp`).
pub fn enqueue(conn: &mut DbConn, notice: Notice, at: NaiveDateTime) -> Result<Option<String>, ApiError> {
    let Some(primary) = notice.to.phone.clone().or_else(|| notice.to.email.clone()) else {
        return Ok(None);
    };
    if !notice.purpose.is_otp() {
        let sent = outbox::count_sent_since(conn, &primary, notice.purpose, at - chrono::Duration::hours(24))?;
        if sent >= notice.purpose.daily_cap() {
            tracing::info!(purpose = notice.purpose.as_str(), "daily cap reached: notice not queued");
            return Ok(None);
        }
    }
    let body = templates::write(notice.purpose, notice.language, &notice.params).1;
    let chosen = notice.chosen.unwrap_or_default().iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",");
    let id = new_id();
    let row = NotificationRow {
        id: id.clone(),
        channel: Code(Channel::Log),
        recipient: primary,
        purpose: Code(notice.purpose),
        body,
        status: Code(NoticeStatus::Created),
        attempts: 0,
        created_at: at,
        sent_at: None,
        phone: notice.to.phone,
        email: notice.to.email,
        plan: format!("{UNPLANNED}{chosen}"),
        step: 0,
        channel_attempts: 0,
        params: serde_json::to_string(&notice.params).map_err(|_| ApiError::internal())?,
        language: Code(notice.language),
        provider_id: None,
        last_error: None,
        next_attempt_at: Some(at),
        updated_at: Some(at),
        delivered_at: None,
    };
    outbox::enqueue(conn, &row)?;
    Ok(Some(id))
}

/// What an account has chosen for its messages (kept in its profile).
#[derive(Debug, Default, serde::Deserialize)]
struct Preferences {
    #[serde(default)]
    notification_channels: Option<Vec<Channel>>,
    #[serde(default)]
    language: Option<Language>,
}

/// A notice to an account: its addresses, chosen channels and language; none for an account
/// that is gone or disabled.
pub fn to_account(
    conn: &mut DbConn,
    account_id: &str,
    purpose: Purpose,
    params: BTreeMap<String, String>,
) -> Result<Option<Notice>, ApiError> {
    let Some(a) = dvc_persistence::accounts::find(conn, account_id)?.filter(|a| !a.disabled) else {
        return Ok(None);
    };
    let prefs: Preferences = serde_json::from_str(&a.profile).unwrap_or_default();
    Ok(Some(Notice {
        purpose,
        to: Addresses { phone: a.phone, email: a.email },
        chosen: prefs.notification_channels.filter(|c| !c.is_empty()),
        language: prefs.language.unwrap_or(Language::Vi),
        params,
    }))
}

/// Masks every run of 4 or more digits (codes).
pub fn redact(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut run = String::new();
    for c in body.chars().chain(std::iter::once('\u{0}')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if run.len() >= 4 {
            out.push_str(&"*".repeat(run.len()));
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\u{0}' {
            out.push(c);
        }
    }
    out
}

/// A message done with (delivered or failed for good) keeps no code.
fn forget_secrets(row: &mut NotificationRow) {
    if row.purpose.0.is_otp() {
        row.body = redact(&row.body);
        let mut params: BTreeMap<String, String> = serde_json::from_str(&row.params).unwrap_or_default();
        params.remove("otp");
        row.params = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    }
}

fn params_of(row: &NotificationRow) -> BTreeMap<String, String> {
    serde_json::from_str(&row.params).unwrap_or_default()
}

fn addresses(row: &NotificationRow) -> Addresses {
    Addresses { phone: row.phone.clone(), email: row.email.clone() }
}

/// Points the row at the channel of its current step.
fn aim(row: &mut NotificationRow, plan: &[Channel]) {
    if let Some(&channel) = plan.get(row.step as usize) {
        row.channel = Code(channel);
        if let Some(address) = addresses(row).of(channel) {
            row.recipient = address.to_string();
        }
    }
}

/// Applies the pure rule for what follows an attempt (or a receipt) to the row.
fn follow(state: &Senders<'_>, row: &mut NotificationRow, outcome: Outcome, now: NaiveDateTime) {
    let plan = row.channels();
    let label = match &outcome {
        Outcome::Delivered { .. } => "delivered",
        Outcome::Accepted { .. } => "accepted",
        Outcome::Temporary(_) => "temporary_failure",
        Outcome::Permanent(_) => "permanent_failure",
    };
    state.metrics.message(row.channel.0.as_str(), row.purpose.0.as_str(), label);
    let after = n::after(outcome, row.step as usize, plan.len(), row.channel_attempts, now);
    row.status = Code(after.status);
    row.step = after.step as i32;
    row.channel_attempts = after.channel_attempts;
    row.next_attempt_at = after.next_attempt_at;
    row.last_error = after.error.map(|e| e.chars().take(500).collect());
    row.updated_at = Some(now);
    match after.status {
        NoticeStatus::Delivered => {
            row.provider_id = after.provider_id.or(row.provider_id.take());
            row.sent_at = row.sent_at.or(Some(now));
            row.delivered_at = Some(now);
            forget_secrets(row);
        }
        NoticeStatus::Sending => {
            row.provider_id = after.provider_id;
            row.sent_at = Some(now);
        }
        NoticeStatus::PermanentFailure => {
            state.metrics.message(row.channel.0.as_str(), row.purpose.0.as_str(), "undelivered");
            tracing::warn!(id = %row.id, purpose = row.purpose.0.as_str(), "message could not be delivered on any channel");
            forget_secrets(row);
        }
        NoticeStatus::Created | NoticeStatus::TemporaryFailure => {
            row.provider_id = None;
            aim(row, &plan);
        }
    }
}

/// What the drain needs besides a connection.
pub struct Senders<'a> {
    pub config: &'a NotifyConfig,
    pub public_url: &'a str,
    pub metrics: &'a crate::metrics::Metrics,
}

/// Fixes a new message's plan from this server's configuration; false when no channel can carry it.
fn fix_plan(config: &NotifyConfig, row: &mut NotificationRow) -> bool {
    let chosen: Vec<Channel> = row.plan.trim_start_matches(UNPLANNED).split(',').filter_map(Channel::parse).collect();
    let plan = n::plan(
        row.purpose.0,
        &config.order(row.purpose.0),
        &config.available(),
        (!chosen.is_empty()).then_some(chosen.as_slice()),
        &addresses(row),
    );
    row.plan = plan.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",");
    row.step = 0;
    aim(row, &plan);
    !plan.is_empty()
}

fn attempt(conn: &mut DbConn, s: &Senders<'_>, row: &NotificationRow, now: NaiveDateTime) -> Outcome {
    let params = params_of(row);
    let (subject, text) = templates::write(row.purpose.0, row.language.0, &params);
    let m = Outgoing {
        id: &row.id,
        purpose: row.purpose.0.as_str(),
        to: &row.recipient,
        subject: &subject,
        text: &text,
        params: &params,
    };
    let timeout = s.config.timeout;
    match row.channel.0 {
        Channel::Sms => match &s.config.sms {
            Some(g) => g.send(&m, s.public_url, timeout),
            None => Outcome::Permanent("SMS is not set up on this server".into()),
        },
        Channel::Zalo => match &s.config.zalo {
            Some(z) => z.send(conn, &m, timeout, now),
            None => Outcome::Permanent("Zalo is not set up on this server".into()),
        },
        Channel::Email => match &s.config.email {
            Some(e) => e.send(&m, timeout),
            None => Outcome::Permanent("e-mail is not set up on this server".into()),
        },
        Channel::Log => {
            let visible: String = row.recipient.chars().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
            tracing::info!(purpose = m.purpose, recipient = %format!("***{visible}"), "message written to the log (no channel is set up)");
            Outcome::Delivered { provider_id: None }
        }
    }
}

/// Sends what is due once; several servers may run this at once. Returns how many were tried.
pub fn drain(conn: &mut DbConn, s: &Senders<'_>) -> Result<usize, ApiError> {
    let now = dvc_persistence::now();
    // The messages of one claim are sent one after another: the claim outlasts the longest time
    // they can take (each a token refresh and a send), then they are free again for any server.
    const CLAIM: i64 = 10;
    let per_message = s.config.timeout.as_millis() as i64 * 2 + 1_000;
    let lease = chrono::Duration::milliseconds(per_message * CLAIM + 5_000);
    let claimed = dvc_persistence::db::write_transaction(conn, |conn| {
        outbox::claim_due(conn, now, now + lease, CLAIM).map_err(ApiError::from)
    })?;
    let count = claimed.len();
    for mut row in claimed {
        let now = dvc_persistence::now();
        if row.plan.starts_with(UNPLANNED) && !fix_plan(s.config, &mut row) {
            row.status = Code(NoticeStatus::PermanentFailure);
            row.last_error = Some("no channel set up on this server reaches the recipient".into());
            row.next_attempt_at = None;
            row.updated_at = Some(now);
            s.metrics.message("none", row.purpose.0.as_str(), "undelivered");
            forget_secrets(&mut row);
            outbox::save(conn, &row)?;
            continue;
        }
        let outcome = attempt(conn, s, &row, now);
        follow(s, &mut row, outcome, dvc_persistence::now());
        outbox::save(conn, &row)?;
    }
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    outbox::prune_rate_limits(conn, an_hour_ago, an_hour_ago - 2 * 86_400)?;
    dvc_persistence::accounts::prune_sign_in_failures(conn, now - chrono::Duration::days(1))?;
    outbox::prune_challenges(conn, now)?;
    Ok(count)
}

/// Runs [`drain`] on the blocking pool every `poll` until the server stops.
pub fn spawn(state: AppState) {
    if !state.config.sandbox && state.config.notify.available() == [Channel::Log] {
        tracing::warn!(
            "no message channel is set up (DVC_SMTP_URL, DVC_SMS_PRESET or DVC_SMS_GATEWAY_URL, DVC_ZALO_APP_ID): \
             OTP codes and notices are written to the log only and reach no one"
        );
    }
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(state.config.notify.poll.max(Duration::from_millis(50)));
        loop {
            tick.tick().await;
            let (config, metrics) = (state.config.clone(), state.metrics.clone());
            let result = state
                .db(move |conn| {
                    let s = Senders { config: &config.notify, public_url: &config.public_url, metrics: &metrics };
                    drain(conn, &s)
                })
                .await;
            if let Err(e) = result {
                tracing::debug!(error = %e, "outbox not drained this time");
            }
        }
    });
}

/// What a receipt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptResult {
    /// The message is now delivered.
    Delivered,
    /// The message failed on SMS and goes on to the next channel, or failed for good.
    Failed,
    /// Nothing changed: an interim status, or a receipt for a message already settled.
    Ignored,
}

fn unauthorized_receipt() -> ApiError {
    ApiError::unauthorized(Msg::new("Chữ ký của báo cáo gửi tin không hợp lệ", "The receipt's signature is not valid"))
}

/// Takes an SMS gateway's delivery receipt. `params` are the query and body parameters: `n`
/// (our message id) and `sig` (its signature) from the receipt URL we gave, and the provider's
/// own fields.
pub fn take_receipt(
    conn: &mut DbConn,
    s: &Senders<'_>,
    params: &BTreeMap<String, String>,
) -> Result<ReceiptResult, ApiError> {
    let Some(g) = s.config.sms.as_ref().filter(|g| g.expects_receipts()) else {
        return Err(ApiError::not_found("báo cáo gửi tin", "Delivery receipts"));
    };
    let secret = g.receipt_secret.as_deref().unwrap_or_default();
    let n = params.get("n").map(String::as_str).unwrap_or("");
    let given = params.get("sig").map(String::as_str).unwrap_or("");
    if !send::receipt_signature_matches(secret, n, given) {
        return Err(unauthorized_receipt());
    }
    let found = if n.is_empty() {
        let provider_id = g.receipt_id_field.as_ref().and_then(|f| params.get(f));
        match provider_id {
            Some(p) => outbox::find_by_provider(conn, Channel::Sms, p)?,
            None => None,
        }
    } else {
        outbox::find(conn, n)?
    };
    let Some(mut row) = found else {
        return Err(ApiError::not_found("tin nhắn", "Message"));
    };
    let status = g.receipt_status_field.as_ref().and_then(|f| params.get(f));
    let receipt = match status {
        Some(v) if g.receipt_delivered.contains(v) => Some(Receipt::Delivered),
        Some(v) if g.receipt_failed.contains(v) => Some(Receipt::Failed),
        _ => None,
    };
    let waiting = row.status.0 == NoticeStatus::Sending && row.channel.0 == Channel::Sms && row.provider_id.is_some();
    let now = dvc_persistence::now();
    let result = match (receipt, waiting) {
        (Some(Receipt::Delivered), true) => {
            follow(s, &mut row, Outcome::Delivered { provider_id: None }, now);
            ReceiptResult::Delivered
        }
        (Some(Receipt::Failed), true) => {
            let said = status.cloned().unwrap_or_default();
            follow(s, &mut row, Outcome::Permanent(format!("the gateway reported failure ({said})")), now);
            ReceiptResult::Failed
        }
        _ => return Ok(ReceiptResult::Ignored),
    };
    outbox::save(conn, &row)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_codes_only() {
        assert_eq!(super::redact("Ma OTP: 123456, het han sau 5 phut"), "Ma OTP: ******, het han sau 5 phut");
    }
}
