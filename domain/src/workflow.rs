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
    /// Which side makes a move: the applicant, or the handling agency (an officer or its one-stop
    /// system).
    Side { Applicant = "applicant", Agency = "agency" }
}

use DossierAction as A;
use DossierStatus as S;

/// Every allowed move. `Apologize` keeps the status (a new appointment, not a new state).
const TABLE: &[(S, A, Side, S)] = &[
    (S::Draft, A::Submit, Side::Applicant, S::Submitted),
    (S::Submitted, A::Withdraw, Side::Applicant, S::Withdrawn),
    (S::Received, A::Withdraw, Side::Applicant, S::Withdrawn),
    (S::SupplementRequested, A::Withdraw, Side::Applicant, S::Withdrawn),
    (S::SupplementRequested, A::Resubmit, Side::Applicant, S::Submitted),
    (S::Submitted, A::Receive, Side::Agency, S::Received),
    (S::Submitted, A::Reject, Side::Agency, S::Rejected),
    (S::Received, A::Reject, Side::Agency, S::Rejected),
    (S::Submitted, A::RequestSupplement, Side::Agency, S::SupplementRequested),
    (S::Received, A::RequestSupplement, Side::Agency, S::SupplementRequested),
    (S::Processing, A::RequestSupplement, Side::Agency, S::SupplementRequested),
    (S::Received, A::StartProcessing, Side::Agency, S::Processing),
    (S::Processing, A::Complete, Side::Agency, S::Completed),
    (S::Completed, A::ReturnResult, Side::Agency, S::Returned),
    (S::Received, A::Stop, Side::Agency, S::Stopped),
    (S::Processing, A::Stop, Side::Agency, S::Stopped),
    (S::Received, A::Apologize, Side::Agency, S::Received),
    (S::Processing, A::Apologize, Side::Agency, S::Processing),
    (S::Completed, A::Apologize, Side::Agency, S::Completed),
];

/// The status after `action` by `side`, or `None` when the table does not allow it.
pub fn next_status(from: DossierStatus, action: DossierAction, side: Side) -> Option<DossierStatus> {
    TABLE.iter().find(|(s, a, who, _)| *s == from && *a == action && *who == side).map(|(_, _, _, to)| *to)
}

/// The actions `side` may take from `from`, for clients that show buttons.
pub fn allowed_actions(from: DossierStatus, side: Side) -> Vec<DossierAction> {
    TABLE.iter().filter(|(s, _, who, _)| *s == from && *who == side).map(|(_, a, _, _)| *a).collect()
}

/// Whether some sequence of moves of either side leads from `from` to `to` (or they are the same):
/// what a one-stop system may report of a dossier it registered at a counter, whose moves it makes
/// in its own system.
pub fn reachable(from: DossierStatus, to: DossierStatus) -> bool {
    let mut seen = vec![from];
    let mut i = 0;
    while let Some(&at) = seen.get(i) {
        if at == to {
            return true;
        }
        for (s, _, _, next) in TABLE {
            if *s == at && !seen.contains(next) {
                seen.push(*next);
            }
        }
        i += 1;
    }
    false
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

    /// Whether the handling agency sees it in its inbox: every dossier but the applicant's drafts.
    pub fn reaches_agency(self) -> bool {
        self != S::Draft
    }

    /// Whether the processing clock runs (received and not yet completed, not waiting for the applicant).
    pub fn clock_running(self) -> bool {
        matches!(self, S::Received | S::Processing)
    }

    /// The statuses in which the applicant may still change a dossier.
    pub const EDITABLE: &'static [DossierStatus] = &[S::Draft, S::SupplementRequested];
    /// The statuses in which the processing clock runs.
    pub const CLOCK_RUNNING: &'static [DossierStatus] = &[S::Received, S::Processing];
    /// The statuses in which the agency has finished with a dossier (the statistics' "finished").
    pub const SETTLED: &'static [DossierStatus] = &[S::Returned, S::Rejected, S::Stopped];
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
            (A::Submit, Side::Applicant, S::Submitted),
            (A::Receive, Side::Agency, S::Received),
            (A::RequestSupplement, Side::Agency, S::SupplementRequested),
            (A::Resubmit, Side::Applicant, S::Submitted),
            (A::Receive, Side::Agency, S::Received),
            (A::StartProcessing, Side::Agency, S::Processing),
            (A::Complete, Side::Agency, S::Completed),
            (A::ReturnResult, Side::Agency, S::Returned),
        ];
        let mut status = S::Draft;
        for (action, actor, expected) in path {
            status = next_status(status, action, actor).unwrap_or_else(|| panic!("{status} --{action}--> ?"));
            assert_eq!(status, expected);
        }
        assert_eq!(next_status(S::Draft, A::Receive, Side::Agency), None);
        assert_eq!(next_status(S::Submitted, A::Receive, Side::Applicant), None, "applicants do not receive");
        assert_eq!(next_status(S::Returned, A::Withdraw, Side::Applicant), None);
        assert_eq!(next_status(S::Processing, A::Apologize, Side::Agency), Some(S::Processing));
        assert_eq!(S::Returned.national_code(), Some(10));
        assert_eq!(S::Draft.national_code(), None);
    }

    #[test]
    fn what_a_counter_system_may_report() {
        assert!(reachable(S::Received, S::Processing));
        assert!(reachable(S::Received, S::Returned));
        assert!(reachable(S::Submitted, S::Withdrawn));
        assert!(reachable(S::Processing, S::Processing));
        assert!(!reachable(S::Returned, S::Received), "a returned result stays returned");
        assert!(!reachable(S::Completed, S::Received));
        assert!(!reachable(S::Submitted, S::Draft));
    }

    #[test]
    fn the_status_lists_agree_with_the_predicates() {
        for s in S::ALL {
            assert_eq!(S::EDITABLE.contains(s), s.editable(), "{s}");
            assert_eq!(S::CLOCK_RUNNING.contains(s), s.clock_running(), "{s}");
            assert_eq!(S::SETTLED.contains(s), s.finished() && *s != S::Withdrawn, "{s}");
        }
    }
}
