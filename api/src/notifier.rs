//! Delivers the notification outbox. The default sender writes to the log; an SMS or e-mail
//! gateway plugs in by implementing [`Sender`].

use std::time::Duration;

use dvc_persistence::outbox::{self, NotificationRow};

use crate::state::AppState;

/// Delivers one message; `Ok` means the gateway accepted it.
pub trait Sender: Send + Sync {
    fn send(&self, message: &NotificationRow) -> Result<(), String>;
}

/// Writes each message to the log with the recipient partly hidden (the body is not logged).
pub struct LogSender;

impl Sender for LogSender {
    fn send(&self, message: &NotificationRow) -> Result<(), String> {
        let visible = message.recipient.chars().rev().take(3).collect::<String>().chars().rev().collect::<String>();
        tracing::info!(channel = %message.channel, purpose = %message.purpose, recipient = %format!("***{visible}"), "notification delivered");
        Ok(())
    }
}

/// Replaces every digit run of 4 or more (codes) so that sent messages keep no secrets.
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

/// Sends what is pending; several processes may run this at once, each message is claimed once.
pub fn drain(conn: &mut dvc_persistence::DbConn, sender: &dyn Sender) -> Result<usize, diesel::result::Error> {
    let mut sent = 0;
    for message in outbox::pending(conn, 50)? {
        if !outbox::claim(conn, &message.id)? {
            continue;
        }
        let ok = sender.send(&message).map_err(|e| tracing::warn!(error = %e, "notification not delivered")).is_ok();
        let body = if ok { redact(&message.body) } else { message.body.clone() };
        outbox::finish(conn, &message.id, ok, &body, dvc_persistence::now())?;
        sent += usize::from(ok);
    }
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    outbox::prune_rate_limits(conn, an_hour_ago)?;
    dvc_persistence::accounts::prune_sign_in_failures(conn, dvc_persistence::now() - chrono::Duration::days(1))?;
    Ok(sent)
}

/// Runs [`drain`] every second on the actix runtime until the server stops.
pub fn spawn(state: AppState) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let result = state.db(|conn| drain(conn, &LogSender).map_err(Into::into)).await;
            if let Err(e) = result {
                tracing::debug!(error = %e, "outbox not drained this time");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_codes_only() {
        assert_eq!(super::redact("Ma OTP: 123456, het han sau 5 phut"), "Ma OTP: ******, het han sau 5 phut");
    }
}
