//! The legal workflow of a dossier (hồ sơ) as one table of (status, action, actor) → next status,
//! used by officers, applicants and integration clients alike.

use crate::catalogue::code_enum;

code_enum! {
    /// Where a dossier stands.
    DossierStatus {
        Draft = "draft",
        Submitted = "submitted",
        Received = "received",
        SupplementRequested = "supplement_requested",
        Processing = "processing",
        Completed = "completed",
        Returned = "returned",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        Stopped = "stopped",
    }
}

code_enum! {
    /// A move in the workflow.
    DossierAction {
        Submit = "submit",
        Withdraw = "withdraw",
        Resubmit = "resubmit",
        Receive = "receive",
        Reject = "reject",
        RequestSupplement = "request_supplement",
        StartProcessing = "start_processing",
        Complete = "complete",
        ReturnResult = "return_result",
        Stop = "stop",
        Apologize = "apologize",
    }
}

code_enum! {
    /// Who makes a move: the applicant, or the handling agency (an officer or its one-stop system).
    Actor { Applicant = "applicant", Agency = "agency" }
}

use DossierAction as A;
use DossierStatus as S;

/// Every allowed move. `Apologize` keeps the status (a new appointment, not a new state).
const TABLE: &[(S, A, Actor, S)] = &[
    (S::Draft, A::Submit, Actor::Applicant, S::Submitted),
    (S::Submitted, A::Withdraw, Actor::Applicant, S::Withdrawn),
    (S::Received, A::Withdraw, Actor::Applicant, S::Withdrawn),
    (S::SupplementRequested, A::Withdraw, Actor::Applicant, S::Withdrawn),
    (S::SupplementRequested, A::Resubmit, Actor::Applicant, S::Submitted),
    (S::Submitted, A::Receive, Actor::Agency, S::Received),
    (S::Submitted, A::Reject, Actor::Agency, S::Rejected),
    (S::Received, A::Reject, Actor::Agency, S::Rejected),
    (S::Submitted, A::RequestSupplement, Actor::Agency, S::SupplementRequested),
    (S::Received, A::RequestSupplement, Actor::Agency, S::SupplementRequested),
    (S::Processing, A::RequestSupplement, Actor::Agency, S::SupplementRequested),
    (S::Received, A::StartProcessing, Actor::Agency, S::Processing),
    (S::Processing, A::Complete, Actor::Agency, S::Completed),
    (S::Completed, A::ReturnResult, Actor::Agency, S::Returned),
    (S::Received, A::Stop, Actor::Agency, S::Stopped),
    (S::Processing, A::Stop, Actor::Agency, S::Stopped),
    (S::Received, A::Apologize, Actor::Agency, S::Received),
    (S::Processing, A::Apologize, Actor::Agency, S::Processing),
    (S::Completed, A::Apologize, Actor::Agency, S::Completed),
];

/// The status after `action` by `actor`, or `None` when the table does not allow it.
pub fn next_status(from: DossierStatus, action: DossierAction, actor: Actor) -> Option<DossierStatus> {
    TABLE.iter().find(|(s, a, who, _)| *s == from && *a == action && *who == actor).map(|(_, _, _, to)| *to)
}

/// The actions `actor` may take from `from`, for clients that show buttons.
pub fn allowed_actions(from: DossierStatus, actor: Actor) -> Vec<DossierAction> {
    TABLE.iter().filter(|(s, _, who, _)| *s == from && *who == actor).map(|(_, a, _, _)| *a).collect()
}

impl DossierStatus {
    /// The code the national portal syncs (1–10); a draft has none.
    pub fn national_code(self) -> Option<i32> {
        Some(match self {
            S::Draft => return None,
            S::Submitted => 1,
            S::Received => 2,
            S::Rejected => 3,
            S::Processing => 4,
            S::SupplementRequested => 5,
            S::Withdrawn => 7,
            S::Stopped => 8,
            S::Completed => 9,
            S::Returned => 10,
        })
    }

    /// Whether the applicant may still change the form and attachments.
    pub fn editable(self) -> bool {
        matches!(self, S::Draft | S::SupplementRequested)
    }

    /// Whether the agency is done with it (returned, rejected, stopped) or the applicant withdrew.
    pub fn finished(self) -> bool {
        matches!(self, S::Returned | S::Rejected | S::Stopped | S::Withdrawn)
    }

    /// Whether the processing clock runs (received and not yet completed, not waiting for the applicant).
    pub fn clock_running(self) -> bool {
        matches!(self, S::Received | S::Processing)
    }
}

/// Reads a dossier code `<agency code>-<yyMMdd>-<NNNN>`: the agency code, the day and the number
/// (four digits or more). Anything else is `None`.
pub fn parse_dossier_code(code: &str) -> Option<(&str, chrono::NaiveDate, u32)> {
    let mut parts = code.rsplitn(3, '-');
    let number = parts.next()?;
    let day = parts.next()?;
    let agency = parts.next()?;
    if number.len() < 4 || number.len() > 9 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if day.len() != 6 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if agency.is_empty() || agency.len() > 64 || !agency.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(&format!("20{day}"), "%Y%m%d").ok()?;
    Some((agency, date, number.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossier_codes() {
        let (agency, day, n) = parse_dossier_code("000.00.05.H26-261120-0042").expect("a code");
        assert_eq!((agency, day.to_string(), n), ("000.00.05.H26", "2026-11-20".to_string(), 42));
        for bad in ["", "H26-261120", "H26-261340-0001", "H26-261120-01", "-261120-0001", "H 26-261120-0001", "a-b-c"] {
            assert!(parse_dossier_code(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_happy_path_and_refusals() {
        let path = [
            (A::Submit, Actor::Applicant, S::Submitted),
            (A::Receive, Actor::Agency, S::Received),
            (A::RequestSupplement, Actor::Agency, S::SupplementRequested),
            (A::Resubmit, Actor::Applicant, S::Submitted),
            (A::Receive, Actor::Agency, S::Received),
            (A::StartProcessing, Actor::Agency, S::Processing),
            (A::Complete, Actor::Agency, S::Completed),
            (A::ReturnResult, Actor::Agency, S::Returned),
        ];
        let mut status = S::Draft;
        for (action, actor, expected) in path {
            status = next_status(status, action, actor).unwrap_or_else(|| panic!("{status} --{action}--> ?"));
            assert_eq!(status, expected);
        }
        assert_eq!(next_status(S::Draft, A::Receive, Actor::Agency), None);
        assert_eq!(next_status(S::Submitted, A::Receive, Actor::Applicant), None, "applicants do not receive");
        assert_eq!(next_status(S::Returned, A::Withdraw, Actor::Applicant), None);
        assert_eq!(next_status(S::Processing, A::Apologize, Actor::Agency), Some(S::Processing));
        assert_eq!(S::Returned.national_code(), Some(10));
        assert_eq!(S::Draft.national_code(), None);
    }
}
