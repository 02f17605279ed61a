//! Citizen voice: complaints (khiếu nại), reflections and recommendations (phản ánh, kiến nghị),
//! support requests (đề nghị hỗ trợ), and satisfaction ratings of finished dossiers.

use crate::catalogue::code_enum;
use crate::workflow::Side;
use crate::FieldError;

code_enum! {
    /// What a piece of feedback is.
    FeedbackKind { Complaint = "complaint", Reflection = "reflection", SupportRequest = "support_request" }
}

code_enum! {
    /// Where a piece of feedback stands.
    FeedbackStatus { New = "new", InProgress = "in_progress", Answered = "answered", Closed = "closed" }
}

code_enum! {
    /// A move of a piece of feedback: the agency starts and answers it; the author (or the agency,
    /// once answered) closes it; the author may reopen an answer once.
    FeedbackAction { Start = "start", Answer = "answer", Reopen = "reopen", Close = "close" }
}

/// How many times an author may reopen an answered piece of feedback.
pub const MAX_REOPENS: i32 = 1;

impl FeedbackKind {
    /// The prefix of its codes: KN (khiếu nại), PA (phản ánh), HT (hỗ trợ).
    pub fn code_prefix(self) -> &'static str {
        match self {
            FeedbackKind::Complaint => "KN",
            FeedbackKind::Reflection => "PA",
            FeedbackKind::SupportRequest => "HT",
        }
    }
}

/// The state a move leads to, or `None` when the move is not allowed now for this side.
pub fn next_status(from: FeedbackStatus, action: FeedbackAction, side: Side, reopened: i32) -> Option<FeedbackStatus> {
    use FeedbackAction as A;
    use FeedbackStatus as S;
    match (action, side, from) {
        (A::Start, Side::Agency, S::New) => Some(S::InProgress),
        (A::Answer, Side::Agency, S::New | S::InProgress) => Some(S::Answered),
        (A::Reopen, Side::Applicant, S::Answered) if reopened < MAX_REOPENS => Some(S::InProgress),
        (A::Close, _, S::Answered) => Some(S::Closed),
        _ => None,
    }
}

/// Whether an action is ever the side's to take: the agency starts and answers, the author
/// reopens, either closes.
pub fn is_sides(action: FeedbackAction, side: Side) -> bool {
    match action {
        FeedbackAction::Start | FeedbackAction::Answer => side == Side::Agency,
        FeedbackAction::Reopen => side == Side::Applicant,
        FeedbackAction::Close => true,
    }
}

/// Where a piece of feedback stands, as far as its moves care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: FeedbackStatus,
    /// How many times the author reopened it.
    pub reopened: i32,
}

/// What a move of a piece of feedback does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackDecision {
    pub from: FeedbackStatus,
    pub to: FeedbackStatus,
    pub reopened: i32,
    /// The answer, for `answer`.
    pub answer: Option<String>,
    pub closes: bool,
    /// The text the move carried, kept in the history.
    pub note: Option<String>,
}

/// Why a move of a piece of feedback may not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackRefusal {
    /// The text carried is missing or wrong.
    Invalid(FieldError),
    /// The move is the other side's.
    NotYours,
    /// Not from this state.
    NotAllowed { from: FeedbackStatus, action: FeedbackAction },
    /// An answer is reopened once at most.
    ReopenedOnce,
}

/// The longest answer or reason.
pub const NOTE_MAX: usize = 5000;

/// The text a move carries, trimmed: required for an answer, bounded and printable for any.
pub fn check_content(action: FeedbackAction, content: Option<&str>) -> Result<Option<String>, FeedbackRefusal> {
    Ok(match content {
        Some(n) => {
            let mut errors = Vec::new();
            crate::catalogue::check_text("content", n, NOTE_MAX, &mut errors);
            if let Some(e) = errors.pop() {
                return Err(FeedbackRefusal::Invalid(e));
            }
            Some(n.trim().to_string())
        }
        None if action == FeedbackAction::Answer => {
            return Err(FeedbackRefusal::Invalid(FieldError::required("content")));
        }
        None => None,
    })
}

/// Decides a move of a piece of feedback: the text it carries first, then whose move it is, then
/// whether its state allows it.
pub fn decide(
    at: Standing,
    action: FeedbackAction,
    content: Option<&str>,
    side: Side,
) -> Result<FeedbackDecision, FeedbackRefusal> {
    let note = check_content(action, content)?;
    if !is_sides(action, side) {
        return Err(FeedbackRefusal::NotYours);
    }
    let Some(to) = next_status(at.status, action, side, at.reopened) else {
        return Err(match (action, at.status) {
            (FeedbackAction::Reopen, FeedbackStatus::Answered) => FeedbackRefusal::ReopenedOnce,
            _ => FeedbackRefusal::NotAllowed { from: at.status, action },
        });
    };
    Ok(FeedbackDecision {
        from: at.status,
        to,
        reopened: at.reopened + i32::from(action == FeedbackAction::Reopen),
        answer: note.clone().filter(|_| action == FeedbackAction::Answer),
        closes: action == FeedbackAction::Close,
        note,
    })
}

/// The scores of a satisfaction rating: overall 1–5 and optional criteria, each 1–5.
pub fn check_scores(scores: &[(&str, Option<i64>)], errors: &mut Vec<FieldError>) {
    for (field, value) in scores {
        if let Some(v) = value {
            if !(1..=5).contains(v) {
                errors.push(FieldError::new(
                    *field,
                    "out_of_range",
                    "Điểm đánh giá từ 1 đến 5",
                    "A score is from 1 to 5",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FeedbackAction as A;
    use FeedbackStatus as S;

    #[test]
    fn decide_checks_the_text_then_the_side_then_the_state() {
        let new = Standing { status: S::New, reopened: 0 };
        let answered = Standing { status: S::Answered, reopened: 0 };
        let d = decide(new, A::Answer, Some(" Đã xử lý "), Side::Agency).expect("answered");
        assert_eq!((d.to, d.answer.as_deref(), d.closes), (S::Answered, Some("Đã xử lý"), false));
        assert!(matches!(decide(new, A::Answer, None, Side::Agency), Err(FeedbackRefusal::Invalid(_))));
        assert!(matches!(decide(new, A::Answer, Some("\u{0}"), Side::Applicant), Err(FeedbackRefusal::Invalid(_))));
        assert_eq!(decide(new, A::Answer, Some("x"), Side::Applicant), Err(FeedbackRefusal::NotYours));
        assert_eq!(decide(new, A::Reopen, None, Side::Agency), Err(FeedbackRefusal::NotYours));
        assert_eq!(
            decide(new, A::Close, None, Side::Applicant),
            Err(FeedbackRefusal::NotAllowed { from: S::New, action: A::Close })
        );
        let reopened = decide(answered, A::Reopen, Some("Chưa thoả đáng"), Side::Applicant).expect("reopened");
        assert_eq!((reopened.to, reopened.reopened), (S::InProgress, 1));
        let again = Standing { status: S::Answered, reopened: 1 };
        assert_eq!(decide(again, A::Reopen, None, Side::Applicant), Err(FeedbackRefusal::ReopenedOnce));
        assert!(decide(again, A::Close, None, Side::Agency).expect("closed").closes);
    }

    #[test]
    fn the_life_of_feedback() {
        assert_eq!(next_status(S::New, A::Start, Side::Agency, 0), Some(S::InProgress));
        assert_eq!(next_status(S::New, A::Answer, Side::Agency, 0), Some(S::Answered));
        assert_eq!(next_status(S::Answered, A::Reopen, Side::Applicant, 0), Some(S::InProgress));
        assert_eq!(next_status(S::Answered, A::Reopen, Side::Applicant, 1), None, "only once");
        assert_eq!(next_status(S::Answered, A::Close, Side::Applicant, 1), Some(S::Closed));
        assert_eq!(next_status(S::New, A::Answer, Side::Applicant, 0), None, "authors do not answer");
        assert_eq!(next_status(S::New, A::Close, Side::Agency, 0), None, "closed only after an answer");
        assert_eq!(next_status(S::Closed, A::Reopen, Side::Applicant, 0), None);
    }

    #[test]
    fn scores_are_one_to_five() {
        let mut errors = Vec::new();
        check_scores(&[("score", Some(5)), ("attitude", None), ("timeliness", Some(1))], &mut errors);
        assert!(errors.is_empty());
        check_scores(&[("score", Some(0)), ("transparency", Some(6))], &mut errors);
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["score", "transparency"]);
    }
}
