//! Citizen voice: complaints (khiếu nại), reflections and recommendations (phản ánh, kiến nghị),
//! support requests (đề nghị hỗ trợ), and satisfaction ratings of finished dossiers.

use crate::catalogue::code_enum;
use crate::workflow::Actor;
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

/// The state a move leads to, or `None` when the move is not allowed now for this actor.
pub fn next_status(
    from: FeedbackStatus,
    action: FeedbackAction,
    actor: Actor,
    reopened: i32,
) -> Option<FeedbackStatus> {
    use FeedbackAction as A;
    use FeedbackStatus as S;
    match (action, actor, from) {
        (A::Start, Actor::Agency, S::New) => Some(S::InProgress),
        (A::Answer, Actor::Agency, S::New | S::InProgress) => Some(S::Answered),
        (A::Reopen, Actor::Applicant, S::Answered) if reopened < MAX_REOPENS => Some(S::InProgress),
        (A::Close, _, S::Answered) => Some(S::Closed),
        _ => None,
    }
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
    fn the_life_of_feedback() {
        assert_eq!(next_status(S::New, A::Start, Actor::Agency, 0), Some(S::InProgress));
        assert_eq!(next_status(S::New, A::Answer, Actor::Agency, 0), Some(S::Answered));
        assert_eq!(next_status(S::Answered, A::Reopen, Actor::Applicant, 0), Some(S::InProgress));
        assert_eq!(next_status(S::Answered, A::Reopen, Actor::Applicant, 1), None, "only once");
        assert_eq!(next_status(S::Answered, A::Close, Actor::Applicant, 1), Some(S::Closed));
        assert_eq!(next_status(S::New, A::Answer, Actor::Applicant, 0), None, "authors do not answer");
        assert_eq!(next_status(S::New, A::Close, Actor::Agency, 0), None, "closed only after an answer");
        assert_eq!(next_status(S::Closed, A::Reopen, Actor::Applicant, 0), None);
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
