//! Workflow moves: the input of a move, the facts it needs, and the one path every move takes —
//! load facts, `decide`, save, tell the change feed — whoever makes it.

use chrono::NaiveDate;
use dvc_domain::calendar::Calendar;
use dvc_domain::dossier::{decide, Actor, Command, Decision, Dossier, Facts};
use dvc_domain::time::Moment;
use dvc_domain::workflow::DossierAction;
use dvc_persistence::dossier_writes::{self, Moved};
use dvc_persistence::dossiers::EventRow;
use dvc_persistence::files::{self, RESULT};
use dvc_persistence::{new_id, DbConn};
use serde::Deserialize;
use utoipa::ToSchema;

use super::view::fee_state;
use crate::error::{ApiError, Msg};

/// What a move carries besides its action.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    pub action: Option<DossierAction>,
    /// A remark kept in the history.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Required to reject, stop, withdraw and apologise.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// For `request_supplement`: the documents still needed.
    #[serde(default)]
    pub missing_documents: Vec<String>,
    /// For `apologize`: the new appointment.
    #[schema(value_type = Option<String>, format = Date)]
    pub new_due_date: Option<NaiveDate>,
    /// For `return_result` by post: the postal tracking number.
    #[schema(max_length = 64)]
    pub postal_tracking_number: Option<String>,
}

impl TransitionInput {
    /// The command of `action` with what this input gives for it.
    pub fn command(&self, action: DossierAction) -> Command {
        let reason = self.reason.clone();
        match action {
            DossierAction::Submit => Command::Submit,
            DossierAction::Resubmit => Command::Resubmit,
            DossierAction::Withdraw => Command::Withdraw { reason },
            DossierAction::Receive => Command::Receive,
            DossierAction::Reject => Command::Reject { reason },
            DossierAction::RequestSupplement => {
                Command::RequestSupplement { missing_documents: self.missing_documents.clone() }
            }
            DossierAction::StartProcessing => Command::StartProcessing,
            DossierAction::Complete => Command::Complete,
            DossierAction::ReturnResult => {
                Command::ReturnResult { postal_tracking_number: self.postal_tracking_number.clone() }
            }
            DossierAction::Stop => Command::Stop { reason },
            DossierAction::Apologize => Command::Apologize { reason, new_due_date: self.new_due_date },
        }
    }
}

/// The answer to a move whose dossier changed after it was read.
pub fn changed_meanwhile() -> ApiError {
    ApiError::conflict(Msg::new(
        "Hồ sơ vừa được cập nhật bởi người khác; hãy thử lại",
        "The dossier changed meanwhile; try again",
    ))
}

/// What an agency's move needs to know beyond the dossier: the fees for the moves fees can block
/// (and that show national status 6), the result documents for completing.
pub fn agency_facts(conn: &mut DbConn, d: &Dossier, action: DossierAction) -> Result<Facts, ApiError> {
    let mut facts = Facts::default();
    if matches!(action, DossierAction::Receive | DossierAction::ReturnResult | DossierAction::Complete) {
        facts.fees = fee_state(conn, d)?;
    }
    if action == DossierAction::Complete {
        facts.results = files::attachments(conn, d.id.as_str(), RESULT)?.len();
    }
    Ok(facts)
}

/// Decides and writes one move in the caller's transaction; the dossier as it is now.
pub fn apply(
    conn: &mut DbConn,
    d: Dossier,
    command: &Command,
    note: Option<&str>,
    actor: &Actor,
    cal: &Calendar,
    at: Moment,
) -> Result<Dossier, ApiError> {
    let facts = agency_facts(conn, &d, command.action())?;
    let decision = decide(&d, command, note, actor, &facts, cal, at)?;
    if !write(conn, std::slice::from_ref(&decision))?.first().copied().unwrap_or(false) {
        return Err(changed_meanwhile());
    }
    Ok(decision.dossier)
}

/// Writes decided moves in the caller's transaction: the dossiers in one statement, their history
/// in another (each event at the moment its move was decided), and the change feed with one look
/// at the webhooks; whether each was written (one whose dossier changed since it was read is not,
/// nor are its events).
pub fn write(conn: &mut DbConn, decisions: &[Decision]) -> Result<Vec<bool>, ApiError> {
    let moved: Vec<Moved> = decisions
        .iter()
        .map(|d| Moved {
            dossier: &d.dossier,
            expected_version: d.expected_version,
            procedure_changed: d.procedure_changed,
        })
        .collect();
    let written = dossier_writes::update_moved(conn, &moved)?;
    let done: Vec<&Decision> = decisions.iter().zip(&written).filter(|(_, w)| **w).map(|(d, _)| d).collect();
    let events: Vec<EventRow> =
        done.iter().map(|d| EventRow::of(new_id(), d.dossier.id.as_str(), d.dossier.updated_at, &d.event)).collect();
    dossier_writes::insert_events(conn, &events)?;
    emit(conn, &done)?;
    for d in &done {
        notify_applicant(conn, d)?;
    }
    super::bundles::follow(conn, &done)?;
    Ok(written)
}

/// Tells the applicant of the moves they must hear of: a supplement request, a rejection, a
/// result, an apology with a new date.
fn notify_applicant(conn: &mut DbConn, d: &Decision) -> Result<(), ApiError> {
    use dvc_domain::dossier::Step;
    use dvc_domain::notify::Purpose;
    let purpose = match d.event.step {
        Step::RequestSupplement => Purpose::SupplementRequested,
        Step::Reject => Purpose::Rejected,
        Step::Complete => Purpose::ResultReady,
        Step::Apologize => Purpose::Apology,
        _ => return Ok(()),
    };
    let Some(applicant) = d.dossier.applicant_id.as_ref() else { return Ok(()) };
    let text = |key: &str| match d.event.data.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join("; "),
        _ => String::new(),
    };
    let clock = &d.dossier.clock;
    let deadline = clock.rescheduled_due_date.or(clock.due_date).map(|day| day.format("%d/%m/%Y").to_string());
    let params = [
        ("code", d.dossier.code.clone().unwrap_or_default()),
        ("procedure", d.dossier.procedure.name.clone()),
        ("deadline", deadline.unwrap_or_default()),
        ("missing", text("missing_documents")),
        ("reason", text("reason")),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .into();
    if let Some(notice) = crate::notify::to_account(conn, applicant.as_str(), purpose, params)? {
        crate::notify::enqueue(conn, notice, d.dossier.updated_at)?;
    }
    Ok(())
}

/// Tells the change feed (and webhooks) about decided moves.
pub fn emit(conn: &mut DbConn, done: &[&Decision]) -> Result<(), ApiError> {
    let subjects: Vec<(crate::integration::Subject, Vec<(&str, serde_json::Value)>)> = done
        .iter()
        .map(|d| {
            let subject = crate::integration::Subject {
                agency_id: d.dossier.agency_id.as_str(),
                dossier_id: Some(d.dossier.id.as_str()),
                dossier_code: d.dossier.code.as_deref(),
            };
            (subject, d.feed.iter().map(|(kind, data)| (kind.as_str(), data.clone())).collect())
        })
        .collect();
    crate::integration::emit_many(conn, subjects)?;
    Ok(())
}
