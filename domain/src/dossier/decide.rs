//! `decide`: what a move does to a dossier, or why it may not happen. Pure: the facts it needs
//! (fees, results, documents, the form's errors, the code allocated) are given to it.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::{national_code, Actor, Dossier, FeeState, ProcedureSnapshot};
use crate::auth::Role;
use crate::calendar::Calendar;
use crate::catalogue::{check_text, code_enum};
use crate::dossier::{DeadlineClock, DeliveryMethod};
use crate::time::Moment;
use crate::workflow::{next_status, DossierAction, DossierStatus, Side};
use crate::FieldError;

/// A move asked of a dossier, with what the one asking gave for it. Reasons, dates and the like
/// are checked by `decide`, after it found the move legal now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The applicant submits a draft.
    Submit,
    /// The applicant sends a dossier back after a supplement request.
    Resubmit,
    Withdraw {
        reason: Option<String>,
    },
    Receive,
    Reject {
        reason: Option<String>,
    },
    /// The agency asks for documents (named, or described in the note).
    RequestSupplement {
        missing_documents: Vec<String>,
    },
    StartProcessing,
    Complete,
    ReturnResult {
        postal_tracking_number: Option<String>,
    },
    Stop {
        reason: Option<String>,
    },
    Apologize {
        reason: Option<String>,
        new_due_date: Option<NaiveDate>,
    },
}

impl Command {
    /// The workflow action of the command.
    pub fn action(&self) -> DossierAction {
        match self {
            Command::Submit => DossierAction::Submit,
            Command::Resubmit => DossierAction::Resubmit,
            Command::Withdraw { .. } => DossierAction::Withdraw,
            Command::Receive => DossierAction::Receive,
            Command::Reject { .. } => DossierAction::Reject,
            Command::RequestSupplement { .. } => DossierAction::RequestSupplement,
            Command::StartProcessing => DossierAction::StartProcessing,
            Command::Complete => DossierAction::Complete,
            Command::ReturnResult { .. } => DossierAction::ReturnResult,
            Command::Stop { .. } => DossierAction::Stop,
            Command::Apologize { .. } => DossierAction::Apologize,
        }
    }
}

/// What the dossier holds besides its own row, read for a move.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Fees owed and paid.
    pub fees: FeeState,
    /// How many result documents the agency uploaded.
    pub results: usize,
    /// The document slots the applicant attached something to.
    pub attached: Vec<String>,
    /// What the form's schema says of the form (checked by the caller, which holds the validator).
    pub form_errors: Vec<FieldError>,
    /// For a draft's submission: the procedure version in force now, which the dossier takes.
    pub procedure_now: Option<(ProcedureSnapshot, i32)>,
    /// For a draft's submission: the code allocated to it.
    pub code: Option<String>,
}

code_enum! {
    /// A step of a dossier's history: a workflow move, its creation, or its registration and
    /// updates by a one-stop system.
    Step {
        Create = "create",
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
        Register = "register",
        Sync = "sync",
        PaymentPaid = "payment_paid",
        PaymentRefunded = "payment_refunded",
    }
}

impl From<DossierAction> for Step {
    fn from(a: DossierAction) -> Self {
        match a {
            DossierAction::Submit => Step::Submit,
            DossierAction::Withdraw => Step::Withdraw,
            DossierAction::Resubmit => Step::Resubmit,
            DossierAction::Receive => Step::Receive,
            DossierAction::Reject => Step::Reject,
            DossierAction::RequestSupplement => Step::RequestSupplement,
            DossierAction::StartProcessing => Step::StartProcessing,
            DossierAction::Complete => Step::Complete,
            DossierAction::ReturnResult => Step::ReturnResult,
            DossierAction::Stop => Step::Stop,
            DossierAction::Apologize => Step::Apologize,
        }
    }
}

code_enum! {
    /// What the change feed (and webhooks) learn of a decision.
    FeedKind {
        Submitted = "dossier.submitted",
        StatusChanged = "dossier.status_changed",
        Updated = "dossier.updated",
    }
}

/// One entry of a dossier's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub step: Step,
    pub from: Option<DossierStatus>,
    pub to: DossierStatus,
    pub actor_id: Option<String>,
    pub actor_role: Role,
    pub note: Option<String>,
    /// What the move carried (reason, missing documents, dates, ...).
    pub data: Map<String, Value>,
}

/// What a move does: the dossier as it will be, the version it must still have when written, its
/// history entry and what the change feed learns.
#[derive(Debug, Clone)]
pub struct Decision {
    pub dossier: Dossier,
    pub expected_version: i32,
    pub event: Event,
    pub feed: Vec<(FeedKind, Value)>,
    /// Whether the dossier took another procedure version (a draft's submission).
    pub procedure_changed: bool,
}

/// Why a move may not happen. The API says each in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The workflow does not allow this move from this status for this side.
    NotAllowed { from: DossierStatus, action: DossierAction, side: Side },
    /// Fees due before this step are unpaid.
    FeeUnpaid { amount_vnd: i64 },
    /// Completing needs the result documents uploaded first.
    ResultRequired,
    /// Something the move carries is missing or wrong.
    Invalid(FieldError),
    /// Mandatory documents are not attached.
    DocumentsMissing(Vec<String>),
    /// The form breaks the procedure's schema.
    FormIncomplete(Vec<FieldError>),
    /// A draft's submission came without the code allocated to it.
    CodeNotAllocated,
    /// A dossier submitted online moves through the workflow, not by registration.
    OnlineDossier,
    /// A one-stop system reported a status that no moves lead to from the current one.
    Unreachable { from: DossierStatus, to: DossierStatus },
    /// An interconnected procedure's dossier moves by its steps, each at its own agency.
    BundleMovesBySteps,
}

/// The longest note, reason or similar text a move carries.
const TEXT_MAX: usize = 2000;

fn text(field: &str, value: &Option<String>) -> Result<String, Refusal> {
    let v = value.clone().unwrap_or_default();
    let mut errors = Vec::new();
    check_text(field, &v, TEXT_MAX, &mut errors);
    match errors.pop() {
        Some(e) => Err(Refusal::Invalid(e)),
        None => Ok(v.trim().to_string()),
    }
}

/// The checks of a submission (or resubmission) that need no code: the mandatory documents and a
/// form that passes the schema of the procedure version the dossier will follow.
pub fn ready_to_submit(d: &Dossier, facts: &Facts) -> Result<(), Refusal> {
    let procedure = match (&facts.procedure_now, d.status) {
        (Some((p, _)), DossierStatus::Draft) => p,
        _ => &d.procedure,
    };
    let missing = procedure.missing_documents(facts.attached.iter().map(String::as_str));
    if !missing.is_empty() {
        return Err(Refusal::DocumentsMissing(missing));
    }
    if !facts.form_errors.is_empty() {
        return Err(Refusal::FormIncomplete(facts.form_errors.clone()));
    }
    Ok(())
}

/// Decides a move: checks it against the workflow table and what the dossier holds, and makes
/// the new state, the history event and the feed's events.
pub fn decide(
    d: &Dossier,
    command: &Command,
    note: Option<&str>,
    actor: &Actor,
    facts: &Facts,
    cal: &Calendar,
    at: Moment,
) -> Result<Decision, Refusal> {
    let action = command.action();
    let from = d.status;
    if actor.side == Side::Agency && d.procedure.bundle.is_some() {
        return Err(Refusal::BundleMovesBySteps);
    }
    let to = next_status(from, action, actor.side).ok_or(Refusal::NotAllowed { from, action, side: actor.side })?;
    if let Some(note) = note {
        let mut errors = Vec::new();
        check_text("note", note, TEXT_MAX, &mut errors);
        if let Some(e) = errors.pop() {
            return Err(Refusal::Invalid(e));
        }
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    let mut next = d.clone();
    let mut data = Map::new();
    let mut procedure_changed = false;
    let today = at.today;
    match command {
        Command::Reject { reason } | Command::Stop { reason } | Command::Withdraw { reason } => {
            data.insert("reason".into(), text("reason", reason)?.into());
            // An agency that ends a dossier it had received answers for the deadline too.
            if actor.side == Side::Agency && d.received_at.is_some() && d.timeliness.is_none() {
                next.timeliness = Some(d.clock.judge(today));
            }
        }
        Command::RequestSupplement { missing_documents } => {
            if missing_documents.is_empty() && note.is_none() {
                return Err(Refusal::Invalid(FieldError::new(
                    "missing_documents",
                    "required",
                    "Nêu rõ giấy tờ cần bổ sung (missing_documents hoặc note)",
                    "Say what is missing (missing_documents or note)",
                )));
            }
            data.insert("missing_documents".into(), json!(missing_documents));
            next.clock.pause(today, cal);
        }
        Command::Receive => {
            if facts.fees.outstanding_before > 0 {
                return Err(Refusal::FeeUnpaid { amount_vnd: facts.fees.outstanding_before });
            }
            let from_day = DeadlineClock::counts_from(at, d.procedure.receipt_cutoff, cal);
            if from_day != today {
                data.insert("counts_from".into(), json!(from_day));
            }
            next.clock.start(from_day, cal);
            next.received_at = Some(at.now);
        }
        Command::Apologize { reason, new_due_date } => {
            let reason = text("reason", reason)?;
            let new_date = new_due_date.ok_or_else(|| Refusal::Invalid(FieldError::required("new_due_date")))?;
            let previous = d.clock.appointment();
            next.clock.reschedule(new_date, today).map_err(Refusal::Invalid)?;
            data.insert("reason".into(), reason.into());
            data.insert("previous_due_date".into(), json!(previous));
            data.insert("new_due_date".into(), json!(new_date));
        }
        Command::Complete => {
            if facts.results == 0 {
                return Err(Refusal::ResultRequired);
            }
            next.clock.pause(today, cal);
            let judged = d.clock.judge(today);
            next.timeliness = Some(judged);
            data.insert("timeliness".into(), judged.as_str().into());
        }
        Command::ReturnResult { postal_tracking_number } => {
            if facts.fees.outstanding_after > 0 {
                return Err(Refusal::FeeUnpaid { amount_vnd: facts.fees.outstanding_after });
            }
            let method = d.delivery.method;
            data.insert("delivery".into(), method.as_str().into());
            match postal_tracking_number.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(tracking) => {
                    data.insert("postal_tracking_number".into(), tracking.into());
                }
                None if method == DeliveryMethod::Post => {
                    return Err(Refusal::Invalid(FieldError::new(
                        "postal_tracking_number",
                        "required",
                        "Kết quả gửi qua bưu chính cần số hiệu bưu gửi",
                        "Results sent by post need the postal tracking number",
                    )));
                }
                None => {}
            }
        }
        Command::Submit | Command::Resubmit => {
            ready_to_submit(d, facts)?;
            if d.status == DossierStatus::Draft {
                // The dossier is judged by, and keeps, the procedure version in force at submission.
                if let Some((procedure, version)) = &facts.procedure_now {
                    next.procedure = procedure.clone();
                    next.procedure_version = *version;
                    next.clock = DeadlineClock::new(procedure.processing_days);
                    procedure_changed = true;
                }
                next.code = Some(facts.code.clone().ok_or(Refusal::CodeNotAllocated)?);
                next.submitted_at = Some(at.now);
                // What it owes is fixed now, for its channel and what its form declares.
                let assessed = crate::payment::assess(&next.procedure.fees, d.channel, &d.form_value());
                if assessed != next.procedure.fees {
                    next.procedure.fees = assessed;
                    procedure_changed = true;
                }
                next.fee_vnd = next.procedure.fees_owed();
            }
        }
        Command::StartProcessing => {}
    }
    if to.finished() {
        next.finished_at = Some(at.now);
        next.clock.running_since = None;
    }
    next.status = to;
    next.version = d.version + 1;
    next.updated_at = at.now;
    // The fees the next step waits for show as national status 6.
    let fees = match command {
        Command::Submit if d.status == DossierStatus::Draft => FeeState::of(&next.procedure.fees, 0, 0),
        _ => facts.fees,
    };
    let national = national_code(to, &fees);
    if national != to.national_code() {
        data.insert("national_status_code".into(), json!(national));
    }
    let event = Event {
        step: action.into(),
        from: Some(from),
        to,
        actor_id: actor.id.clone(),
        actor_role: actor.role,
        note,
        data,
    };
    let change = json!({
        "action": action, "from_status": from, "to_status": to, "national_status_code": national,
        "due_date": next.clock.due_date, "actor_role": actor.role,
    });
    let mut feed = Vec::with_capacity(2);
    if action == DossierAction::Submit {
        feed.push((FeedKind::Submitted, change.clone()));
    }
    feed.push((if from == to { FeedKind::Updated } else { FeedKind::StatusChanged }, change));
    Ok(Decision { dossier: next, expected_version: d.version, event, feed, procedure_changed })
}
