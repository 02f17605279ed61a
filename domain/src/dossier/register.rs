//! Dossiers received at a counter or by post, which a one-stop system registers (and keeps up to
//! date) so that they can be tracked nationally. The system makes the moves in its own workflow
//! and reports where the dossier stands; the report must be a status the workflow can lead to.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, value::RawValue, Map};

use super::{
    national_code, Actor, AgencyId, Channel, DeadlineClock, Decision, Delivery, DeliveryMethod, Dossier, DossierId,
    Event, FeeState, FeedKind, ProcedureId, ProcedureSnapshot, Refusal, Step, Timeliness,
};
use crate::calendar::Calendar;
use crate::time::{local_date, Moment};
use crate::workflow::{reachable, DossierStatus};
use crate::FieldError;

/// What a one-stop system reports of a dossier it received.
#[derive(Debug, Clone)]
pub struct Registration {
    pub code: String,
    pub agency_id: AgencyId,
    pub procedure_id: ProcedureId,
    pub procedure: ProcedureSnapshot,
    pub procedure_version: i32,
    /// `counter` or `post`.
    pub channel: Channel,
    /// The applicant block (JSON).
    pub applicant: Box<RawValue>,
    pub status: DossierStatus,
    /// When it was received (default: now).
    pub received_at: Option<NaiveDateTime>,
    /// The appointed date (default: the procedure's working days from reception).
    pub due_date: Option<NaiveDate>,
}

/// Registers a counter or post dossier (`existing` is none) or brings a registered one up to
/// date. A dossier submitted online is moved through the workflow instead.
pub fn register(
    existing: Option<&Dossier>,
    reg: &Registration,
    new_id: DossierId,
    actor: &Actor,
    cal: &Calendar,
    at: Moment,
) -> Result<Decision, Refusal> {
    if reg.status == DossierStatus::Draft {
        return Err(Refusal::Invalid(FieldError::new(
            "status",
            "invalid",
            "Không đồng bộ bản nháp",
            "Drafts are not synced",
        )));
    }
    if existing.is_some_and(|d| d.channel == Channel::Online) {
        return Err(Refusal::OnlineDossier);
    }
    let from = existing.map(|d| d.status);
    // A new registration starts as submitted; an update goes where moves can lead.
    let start = from.unwrap_or(DossierStatus::Submitted);
    if !reachable(start, reg.status) {
        return Err(Refusal::Unreachable { from: start, to: reg.status });
    }
    let received = reg.received_at.unwrap_or(at.now);
    let received_on = local_date(received);
    let mut clock = DeadlineClock::new(reg.procedure.processing_days);
    let due =
        reg.due_date.unwrap_or_else(|| cal.add_working_days(received_on, clock.working_days_allowed.max(0) as u32).0);
    clock.due_date = Some(due);
    clock.running_since = reg.status.clock_running().then_some(received_on);
    let mut d = match existing {
        Some(d) => d.clone(),
        None => Dossier {
            id: new_id,
            code: Some(reg.code.clone()),
            procedure_id: reg.procedure_id.clone(),
            procedure_version: reg.procedure_version,
            procedure: reg.procedure.clone(),
            agency_id: reg.agency_id.clone(),
            applicant_id: None,
            applicant: reg.applicant.clone(),
            status: reg.status,
            channel: reg.channel,
            form_data: empty_object(),
            delivery: Delivery { method: DeliveryMethod::Counter, address: None },
            submitted_at: Some(received),
            received_at: Some(received),
            clock,
            finished_at: None,
            timeliness: None,
            version: 0,
            created_at: at.now,
            updated_at: at.now,
            fee_vnd: 0,
        },
    };
    let expected_version = d.version;
    d.procedure_id = reg.procedure_id.clone();
    d.procedure = reg.procedure.clone();
    // The fees of its channel (in person at a counter, or by post).
    d.procedure.fees = crate::payment::assess(&reg.procedure.fees, reg.channel, &d.form_value());
    d.applicant = reg.applicant.clone();
    d.channel = reg.channel;
    d.status = reg.status;
    d.received_at = Some(received);
    d.submitted_at = d.submitted_at.or(Some(received));
    d.clock.working_days_allowed = clock.working_days_allowed;
    d.clock.due_date = clock.due_date;
    d.clock.running_since = clock.running_since;
    if reg.status.finished() || reg.status == DossierStatus::Completed {
        d.finished_at = d.finished_at.or(Some(at.now)).filter(|_| reg.status.finished());
        d.timeliness = d.timeliness.or_else(|| Some(Timeliness::judge(Some(due), at.today)));
    } else {
        d.finished_at = None;
        d.timeliness = None;
    }
    d.version = expected_version + 1;
    d.updated_at = at.now;
    let step = if existing.is_none() { Step::Register } else { Step::Sync };
    let national = national_code(reg.status, &FeeState::default());
    let mut data = Map::new();
    data.insert("channel".into(), reg.channel.as_str().into());
    let event =
        Event { step, from, to: reg.status, actor_id: actor.id.clone(), actor_role: actor.role, note: None, data };
    let kind = match (existing.is_none(), from == Some(reg.status)) {
        (true, _) => FeedKind::Submitted,
        (false, true) => FeedKind::Updated,
        (false, false) => FeedKind::StatusChanged,
    };
    let change = json!({"action": step, "channel": reg.channel, "from_status": from,
                        "to_status": reg.status, "national_status_code": national});
    Ok(Decision { dossier: d, expected_version, event, feed: vec![(kind, change)], procedure_changed: true })
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".into()).unwrap_or_else(|_| unreachable!("an empty object is JSON"))
}
