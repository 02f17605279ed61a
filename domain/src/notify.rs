//! Messages to people (OTP codes and notices): which channels carry a message and in what order,
//! what happens after each attempt, and how a body is written from its template.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::catalogue::code_enum;

code_enum! {
    /// How a message reaches its recipient. `log` writes it to the server's log only (development
    /// and sandbox mode).
    Channel { Sms = "sms", Zalo = "zalo", Email = "email", Log = "log" }
}

code_enum! {
    /// Where a message stands. `sending` covers both the attempt under way and, for channels that
    /// report delivery later (SMS), the wait for the receipt.
    NoticeStatus {
        Created = "created",
        Sending = "sending",
        Delivered = "delivered",
        TemporaryFailure = "temporary_failure",
        PermanentFailure = "permanent_failure",
    }
}

code_enum! {
    /// What a message is for; each has its template, its order of channels and its daily cap.
    Purpose {
        RegistrationOtp = "registration_otp",
        PasswordResetOtp = "password_reset_otp",
        SupplementRequested = "supplement_requested",
        ResultReady = "result_ready",
        Rejected = "rejected",
        Apology = "apology",
        FeedbackAnswered = "feedback_answered",
        RegistrationAttempt = "registration_attempt",
    }
}

code_enum! {
    /// The language a message is written in.
    Language { Vi = "vi", En = "en" }
}

impl Purpose {
    /// One-time codes: they go to the phone being proven, whatever the profile says, and their
    /// text is never kept once the message is done with.
    pub fn is_otp(self) -> bool {
        matches!(self, Purpose::RegistrationOtp | Purpose::PasswordResetOtp)
    }

    /// The configuration group a purpose falls back to: `OTP` or `NOTICE`.
    pub fn group(self) -> &'static str {
        if self.is_otp() {
            "OTP"
        } else {
            "NOTICE"
        }
    }

    /// How many messages of this purpose one recipient may get in 24 hours.
    pub fn daily_cap(self) -> i64 {
        if self.is_otp() {
            5
        } else {
            20
        }
    }
}

impl Channel {
    /// Whether the channel reaches a phone number (SMS, Zalo) rather than an e-mail address.
    pub fn needs_phone(self) -> bool {
        matches!(self, Channel::Sms | Channel::Zalo)
    }
}

/// The addresses a recipient can be reached at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Addresses {
    pub fn of(self: &Addresses, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Sms | Channel::Zalo => self.phone.as_deref(),
            Channel::Email => self.email.as_deref(),
            Channel::Log => self.phone.as_deref().or(self.email.as_deref()),
        }
    }
}

/// The channels a message will try, in order: the configured order for its purpose, kept to the
/// channels the server has, the recipient has an address for and (except for OTPs) the
/// recipient chose. Empty when no channel can carry it.
pub fn plan(
    purpose: Purpose,
    order: &[Channel],
    available: &[Channel],
    chosen: Option<&[Channel]>,
    to: &Addresses,
) -> Vec<Channel> {
    let mut out: Vec<Channel> = Vec::new();
    for &c in order {
        let wanted = purpose.is_otp() || c == Channel::Log || chosen.is_none_or(|chosen| chosen.contains(&c));
        if available.contains(&c) && wanted && to.of(c).is_some() && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// How an attempt on one channel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (e-mail accepted by the server, Zalo message accepted).
    Delivered { provider_id: Option<String> },
    /// Accepted by the provider, which reports delivery later (SMS with receipts).
    Accepted { provider_id: Option<String> },
    /// Worth trying again on the same channel later (timeouts, 5xx, throttling).
    Temporary(String),
    /// This channel cannot deliver it (refused recipient, bad request, no such Zalo user).
    Permanent(String),
}

/// Tries on one channel before it counts as failed and the next channel takes over.
pub const ATTEMPTS_PER_CHANNEL: i32 = 4;

/// What a message becomes after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub status: NoticeStatus,
    /// The plan's step to try next (unchanged, or the next channel).
    pub step: usize,
    /// Attempts made on the channel at `step`.
    pub channel_attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub provider_id: Option<String>,
    pub error: Option<String>,
}

/// The wait before retrying on the same channel: 30 s, then doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let seconds = 30i64.saturating_mul(1i64 << (attempts.clamp(1, 8) - 1));
    Duration::seconds(seconds.min(3600))
}

/// The pure rule after each attempt: a temporary failure waits and tries again until the channel
/// has had its attempts; a permanent failure, or a channel out of attempts, hands the message to
/// the next channel at once; the last channel's failure is final.
pub fn after(outcome: Outcome, step: usize, plan_len: usize, channel_attempts: i32, now: NaiveDateTime) -> After {
    let next_channel = |error: String| {
        if step + 1 < plan_len {
            After {
                status: NoticeStatus::Created,
                step: step + 1,
                channel_attempts: 0,
                next_attempt_at: Some(now),
                provider_id: None,
                error: Some(error),
            }
        } else {
            After {
                status: NoticeStatus::PermanentFailure,
                step,
                channel_attempts,
                next_attempt_at: None,
                provider_id: None,
                error: Some(error),
            }
        }
    };
    match outcome {
        Outcome::Delivered { provider_id } => After {
            status: NoticeStatus::Delivered,
            step,
            channel_attempts,
            next_attempt_at: None,
            provider_id,
            error: None,
        },
        Outcome::Accepted { provider_id } => After {
            status: NoticeStatus::Sending,
            step,
            channel_attempts,
            next_attempt_at: None,
            provider_id,
            error: None,
        },
        Outcome::Temporary(error) if channel_attempts < ATTEMPTS_PER_CHANNEL => After {
            status: NoticeStatus::TemporaryFailure,
            step,
            channel_attempts,
            next_attempt_at: Some(now + backoff(channel_attempts)),
            provider_id: None,
            error: Some(error),
        },
        Outcome::Temporary(error) | Outcome::Permanent(error) => next_channel(error),
    }
}

/// A delivery receipt's word on a message the provider had accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    Delivered,
    Failed,
}

/// Writes `{name}` placeholders from `values`; an unknown placeholder stays as written.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after_open = &rest[open + 1..];
        match after_open.find('}') {
            Some(close) if values.contains_key(&after_open[..close]) => {
                out.push_str(&values[&after_open[..close]]);
                rest = &after_open[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after_open;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text without Vietnamese marks (`Hồ sơ` → `Ho so`), for SMS that must fit plain 7-bit text.
pub fn without_marks(text: &str) -> String {
    crate::text::nfc(text).chars().map(crate::text::base_letter).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 3).expect("test value").and_hms_opt(h, 0, 0).expect("test value")
    }

    #[test]
    fn the_plan_keeps_order_and_drops_what_cannot_carry_the_message() {
        let both = Addresses { phone: Some("+84912345678".into()), email: Some("a@example.vn".into()) };
        let phone_only = Addresses { phone: Some("+84912345678".into()), email: None };
        let all = [Sms, Zalo, Email];
        assert_eq!(plan(Purpose::ResultReady, &[Zalo, Email, Sms], &all, None, &both), vec![Zalo, Email, Sms]);
        assert_eq!(plan(Purpose::ResultReady, &[Zalo, Email, Sms], &all, None, &phone_only), vec![Zalo, Sms]);
        assert_eq!(plan(Purpose::ResultReady, &[Zalo, Email, Sms], &[Email, Sms], None, &both), vec![Email, Sms]);
        // The applicant's choice narrows notices, never OTPs.
        assert_eq!(plan(Purpose::ResultReady, &[Zalo, Email, Sms], &all, Some(&[Email]), &both), vec![Email]);
        assert_eq!(plan(Purpose::RegistrationOtp, &[Sms, Zalo], &all, Some(&[Email]), &both), vec![Sms, Zalo]);
        assert!(plan(Purpose::ResultReady, &[Email], &all, None, &phone_only).is_empty());
        assert_eq!(plan(Purpose::ResultReady, &[Sms, Sms], &all, None, &both), vec![Sms], "once each");
    }

    #[test]
    fn temporary_failures_retry_then_hand_over_and_the_last_failure_is_final() {
        let t = Outcome::Temporary("503".into());
        let a = after(t.clone(), 0, 2, 1, at(9));
        assert_eq!(
            (a.status, a.step, a.next_attempt_at),
            (NoticeStatus::TemporaryFailure, 0, Some(at(9) + backoff(1)))
        );
        let b = after(t.clone(), 0, 2, ATTEMPTS_PER_CHANNEL, at(9));
        assert_eq!(
            (b.status, b.step, b.channel_attempts, b.next_attempt_at),
            (NoticeStatus::Created, 1, 0, Some(at(9)))
        );
        let c = after(Outcome::Permanent("400".into()), 0, 2, 1, at(9));
        assert_eq!((c.status, c.step), (NoticeStatus::Created, 1));
        let d = after(Outcome::Permanent("400".into()), 1, 2, 1, at(9));
        assert_eq!((d.status, d.error.as_deref()), (NoticeStatus::PermanentFailure, Some("400")));
        let e = after(t, 1, 2, ATTEMPTS_PER_CHANNEL, at(9));
        assert_eq!(e.status, NoticeStatus::PermanentFailure);
        let f = after(Outcome::Accepted { provider_id: Some("m1".into()) }, 0, 2, 1, at(9));
        assert_eq!((f.status, f.provider_id.as_deref()), (NoticeStatus::Sending, Some("m1")));
        let g = after(Outcome::Delivered { provider_id: None }, 1, 2, 1, at(9));
        assert_eq!((g.status, g.step), (NoticeStatus::Delivered, 1));
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(20), Duration::seconds(3600));
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        let values: BTreeMap<String, String> =
            [("code", "G01-261203-0001"), ("deadline", "10/12/2026")].map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(fill("Hồ sơ {code} hẹn trả {deadline}.", &values), "Hồ sơ G01-261203-0001 hẹn trả 10/12/2026.");
        assert_eq!(fill("{unknown} {code", &values), "{unknown} {code");
        assert_eq!(fill("{{code}}", &values), "{G01-261203-0001}");
    }

    #[test]
    fn marks_are_taken_off_for_plain_sms() {
        assert_eq!(
            without_marks("Hồ sơ của Ông/Bà đã có kết quả. Đến nhận"),
            "Ho so cua Ong/Ba da co ket qua. Den nhan"
        );
    }
}
