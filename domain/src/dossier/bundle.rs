//! Interconnected procedures (liên thông, Decree 63/2024/NĐ-CP): the applicant files one dossier
//! (the parent) for a bundle procedure; each step of the bundle is a dossier of its own (a child)
//! at the agency that settles it, with its own code, workflow and deadline. A step starts when the
//! steps it needs are completed, and the parent's status and overall deadline follow its steps:
//! - no step received yet: submitted; steps under way: received (the applicant may still withdraw
//!   the whole, which withdraws the steps not yet completed);
//! - every step completed: completed (returned once every result is returned);
//! - a step rejected, stopped or withdrawn on its own: the bundle stops with that step's reason;
//!   steps not started never start, results already issued stay valid.
//!
//! Everything here is pure: the API reads the steps, asks what follows, and stores it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{national_code, Actor, DeadlineClock, Decision, Dossier, DossierId, Event, FeeState, FeedKind, Step};
use crate::calendar::Calendar;
use crate::catalogue::{Bundle, BundleStep};
use crate::time::Moment;
use crate::workflow::DossierStatus;

/// What makes a dossier a step of a bundle: its parent and its place (from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOf {
    pub parent_id: DossierId,
    pub position: u32,
}

/// A started step's dossier, as the parent sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDossier {
    pub id: DossierId,
    pub status: DossierStatus,
    /// Its due date (a rescheduled one when it apologised), once received.
    pub due_date: Option<NaiveDate>,
    /// The day it was submitted (started).
    pub started_on: NaiveDate,
    /// Why it ended, when it was refused.
    pub reason: Option<String>,
}

/// Step `position` (from 1) and its dossier once started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepState {
    pub position: u32,
    pub dossier: Option<StepDossier>,
}

fn completed(s: DossierStatus) -> bool {
    matches!(s, DossierStatus::Completed | DossierStatus::Returned)
}

/// A step that ended without its result: rejected, stopped, or withdrawn on its own.
fn refused(s: DossierStatus) -> bool {
    matches!(s, DossierStatus::Rejected | DossierStatus::Stopped | DossierStatus::Withdrawn)
}

fn state_of(states: &[StepState], position: u32) -> Option<&StepDossier> {
    states.iter().find(|s| s.position == position).and_then(|s| s.dossier.as_ref())
}

/// The steps that start now: not started, each step they need completed, and the bundle still
/// running (`parent` neither finished nor stopped by a refused step).
pub fn ready(parent: DossierStatus, bundle: &Bundle, states: &[StepState]) -> Vec<u32> {
    if parent.finished() || parent == DossierStatus::Draft {
        return Vec::new();
    }
    if states.iter().filter_map(|s| s.dossier.as_ref()).any(|d| refused(d.status)) {
        return Vec::new();
    }
    (1..=bundle.steps.len() as u32)
        .filter(|&p| state_of(states, p).is_none())
        .filter(|&p| {
            bundle.steps[p as usize - 1].needs.iter().all(|&n| state_of(states, n).is_some_and(|d| completed(d.status)))
        })
        .collect()
}

/// The day each step is due: its own due date once received; else, from the day it started (or
/// will start, when the steps it needs are due), its budget of working days.
pub fn step_due_dates(
    bundle: &Bundle,
    states: &[StepState],
    submitted_on: NaiveDate,
    cal: &Calendar,
) -> Vec<NaiveDate> {
    let mut due: Vec<NaiveDate> = Vec::with_capacity(bundle.steps.len());
    for (i, step) in bundle.steps.iter().enumerate() {
        let own = state_of(states, i as u32 + 1);
        let day = match own.and_then(|d| d.due_date) {
            Some(day) => day,
            None => {
                let start = match own {
                    Some(d) => d.started_on,
                    None => step
                        .needs
                        .iter()
                        .filter_map(|&n| due.get(n as usize - 1).copied())
                        .max()
                        .unwrap_or(submitted_on),
                };
                cal.add_working_days(start, step.days.max(0) as u32).0
            }
        };
        due.push(day);
    }
    due
}

/// The parent's status, overall due date, and the reason when a refused step stopped it.
pub fn overall(
    parent: &Dossier,
    bundle: &Bundle,
    states: &[StepState],
    cal: &Calendar,
) -> (DossierStatus, Option<NaiveDate>, Option<(u32, String)>) {
    let submitted_on = parent.submitted_at.map(|t| t.date()).unwrap_or(parent.created_at.date());
    let due = step_due_dates(bundle, states, submitted_on, cal).into_iter().max();
    let started: Vec<(u32, &StepDossier)> =
        states.iter().filter_map(|s| s.dossier.as_ref().map(|d| (s.position, d))).collect();
    if let Some((position, d)) = started.iter().find(|(_, d)| refused(d.status)) {
        return (DossierStatus::Stopped, due, Some((*position, d.reason.clone().unwrap_or_default())));
    }
    let all = started.len() == bundle.steps.len();
    let status = if all && started.iter().all(|(_, d)| d.status == DossierStatus::Returned) {
        DossierStatus::Returned
    } else if all && started.iter().all(|(_, d)| completed(d.status)) {
        DossierStatus::Completed
    } else if started.iter().any(|(_, d)| d.status != DossierStatus::Submitted) {
        DossierStatus::Received
    } else {
        DossierStatus::Submitted
    };
    (status, due, None)
}

/// The parent brought in line with its steps (`actor` made the move that changed them); none
/// when it already is, or has ended.
pub fn follow(
    parent: &Dossier,
    bundle: &Bundle,
    states: &[StepState],
    actor: &Actor,
    cal: &Calendar,
    at: Moment,
) -> Option<Decision> {
    if parent.status.finished() || parent.status == DossierStatus::Draft {
        return None;
    }
    let (to, due, stopped_by) = overall(parent, bundle, states, cal);
    if to == parent.status && due == parent.clock.due_date {
        return None;
    }
    let mut next = parent.clone();
    let mut data = Map::new();
    next.clock.due_date = due;
    if parent.received_at.is_none() && to != DossierStatus::Submitted {
        next.received_at = Some(at.now);
    }
    if let Some((position, reason)) = stopped_by {
        let step = &bundle.steps[position as usize - 1];
        data.insert("step".into(), json!(position));
        data.insert(
            "reason".into(),
            Value::String(format!("Bước {position} ({}) không được giải quyết: {reason}", step.procedure_code)),
        );
    }
    if to.finished() || to == DossierStatus::Completed {
        if next.finished_at.is_none() && to.finished() {
            next.finished_at = Some(at.now);
        }
        if next.timeliness.is_none() && to != DossierStatus::Stopped {
            let judged = super::Timeliness::judge(due, at.today);
            next.timeliness = Some(judged);
            data.insert("timeliness".into(), judged.as_str().into());
        }
    }
    next.status = to;
    next.version = parent.version + 1;
    next.updated_at = at.now;
    let national = national_code(to, &FeeState::default());
    let event = Event {
        step: Step::Sync,
        from: Some(parent.status),
        to,
        actor_id: actor.id.clone(),
        actor_role: actor.role,
        note: None,
        data,
    };
    let change = json!({
        "action": "bundle_step", "from_status": parent.status, "to_status": to, "national_status_code": national,
        "due_date": due, "actor_role": actor.role,
    });
    let kind = if parent.status == to { FeedKind::Updated } else { FeedKind::StatusChanged };
    Some(Decision {
        dossier: next,
        expected_version: parent.version,
        event,
        feed: vec![(kind, change)],
        procedure_changed: false,
    })
}

/// A step withdrawn with its parent (by the applicant who withdrew the whole), unless it was
/// already completed or had ended.
pub fn withdrawn_with_parent(step: &Dossier, actor: &Actor, at: Moment) -> Option<Decision> {
    if step.status.finished() || completed(step.status) {
        return None;
    }
    let mut next = step.clone();
    next.status = DossierStatus::Withdrawn;
    next.finished_at = Some(at.now);
    next.clock.running_since = None;
    next.version = step.version + 1;
    next.updated_at = at.now;
    let mut data = Map::new();
    data.insert("reason".into(), "Rút cùng hồ sơ liên thông".into());
    let event = Event {
        step: Step::Withdraw,
        from: Some(step.status),
        to: DossierStatus::Withdrawn,
        actor_id: actor.id.clone(),
        actor_role: actor.role,
        note: None,
        data,
    };
    let change = json!({
        "action": "withdraw", "from_status": step.status, "to_status": DossierStatus::Withdrawn,
        "national_status_code": DossierStatus::Withdrawn.national_code(), "due_date": step.clock.due_date,
        "actor_role": actor.role,
    });
    Some(Decision {
        dossier: next,
        expected_version: step.version,
        event,
        feed: vec![(FeedKind::StatusChanged, change)],
        procedure_changed: false,
    })
}

/// What a started step is made of besides what `start` derives from its parent.
pub struct NewStep {
    pub id: DossierId,
    pub code: String,
    pub position: u32,
    /// The step's procedure as it is now at the agency that settles it.
    pub procedure: super::ProcedureSnapshot,
    pub procedure_version: i32,
    pub procedure_id: super::ProcedureId,
    pub agency_id: super::AgencyId,
}

/// Starts a step: a submitted dossier of the step's procedure at its agency, for the parent's
/// applicant, with the parent's form and delivery, the step's budget of working days and no fees
/// of its own (the bundle's fees are the parent's).
pub fn start(parent: &Dossier, step: &BundleStep, new: NewStep, at: Moment) -> Dossier {
    let mut procedure = new.procedure;
    procedure.processing_days = step.days;
    procedure.fees = Vec::new();
    procedure.bundle = None;
    procedure.step_of = Some(StepOf { parent_id: parent.id.clone(), position: new.position });
    Dossier {
        id: new.id,
        code: Some(new.code),
        procedure_id: new.procedure_id,
        procedure_version: new.procedure_version,
        clock: DeadlineClock::new(step.days),
        procedure,
        agency_id: new.agency_id,
        applicant_id: parent.applicant_id.clone(),
        applicant: parent.applicant.clone(),
        status: DossierStatus::Submitted,
        channel: parent.channel,
        form_data: parent.form_data.clone(),
        delivery: parent.delivery.clone(),
        submitted_at: Some(at.now),
        received_at: None,
        finished_at: None,
        timeliness: None,
        version: 1,
        created_at: at.now,
        updated_at: at.now,
        fee_vnd: 0,
    }
}

/// Where an agency is: its official code, tier, and administrative unit.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub code: &'a str,
    pub tier: crate::catalogue::Tier,
    pub admin_unit_code: Option<&'a str>,
}

/// The province part of an agency's official code: `H26` in `000.00.27.H26` and in
/// `H26.00070.CA` (a letter and two digits).
pub fn province_of(code: &str) -> Option<&str> {
    code.split('.')
        .find(|p| p.len() == 3 && p.as_bytes()[0].is_ascii_uppercase() && p[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `candidate` settles a step of tier `tier` for a bundle received at `receiving`: the
/// agency of that tier in the receiving agency's commune (commune tier) or province (province
/// and district tiers), or any of the central tier.
pub fn settles(receiving: Place, tier: crate::catalogue::Tier, candidate: Place) -> bool {
    use crate::catalogue::Tier;
    if candidate.tier != tier {
        return false;
    }
    let same_province =
        province_of(receiving.code).is_some() && province_of(receiving.code) == province_of(candidate.code);
    match tier {
        Tier::Central => true,
        Tier::Province | Tier::District => same_province,
        Tier::Commune => {
            same_province
                && receiving.admin_unit_code.is_some()
                && receiving.admin_unit_code == candidate.admin_unit_code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::catalogue::Tier;
    use crate::workflow::{DossierStatus as S, Side};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    /// Birth (1 day) → residence (2, needs 1) and card (2, needs 1).
    fn births() -> Bundle {
        let step =
            |code: &str, tier, days, needs: Vec<u32>| BundleStep { procedure_code: code.into(), tier, days, needs };
        Bundle {
            steps: vec![
                step("1.001193", Tier::Commune, 1, vec![]),
                step("1.004222", Tier::Commune, 2, vec![1]),
                step("1.000310", Tier::Province, 2, vec![1]),
            ],
        }
    }

    fn started(position: u32, status: S, due: Option<&str>) -> StepState {
        StepState {
            position,
            dossier: Some(StepDossier {
                id: DossierId(format!("s{position}")),
                status,
                due_date: due.map(day),
                started_on: day("2026-11-16"),
                reason: (status == S::Rejected).then(|| "Chỗ ở chưa hợp pháp".to_string()),
            }),
        }
    }

    fn waiting(position: u32) -> StepState {
        StepState { position, dossier: None }
    }

    #[test]
    fn steps_start_when_what_they_need_is_completed() {
        let b = births();
        assert_eq!(ready(S::Submitted, &b, &[waiting(1), waiting(2), waiting(3)]), vec![1]);
        let processing = [started(1, S::Processing, Some("2026-11-17")), waiting(2), waiting(3)];
        assert!(ready(S::Received, &b, &processing).is_empty());
        let done = [started(1, S::Completed, Some("2026-11-17")), waiting(2), waiting(3)];
        assert_eq!(ready(S::Received, &b, &done), vec![2, 3]);
        assert!(ready(S::Withdrawn, &b, &done).is_empty(), "a withdrawn bundle starts nothing");
        let refused = [started(1, S::Completed, None), started(2, S::Rejected, None), waiting(3)];
        assert!(ready(S::Received, &b, &refused).is_empty(), "a refused step stops the rest");
    }

    #[test]
    fn the_overall_deadline_runs_along_the_longest_path() {
        let b = births();
        let cal = Calendar::default();
        // Submitted on Monday 16 November 2026: birth by Tuesday, then two working days more.
        let due = step_due_dates(&b, &[waiting(1), waiting(2), waiting(3)], day("2026-11-16"), &cal);
        assert_eq!(due, vec![day("2026-11-17"), day("2026-11-19"), day("2026-11-19")]);
        // A step's own due date (received, or rescheduled) counts instead of its budget.
        let late =
            [started(1, S::Completed, Some("2026-11-20")), started(2, S::Received, Some("2026-11-25")), waiting(3)];
        let due = step_due_dates(&b, &late, day("2026-11-16"), &cal);
        assert_eq!(due, vec![day("2026-11-20"), day("2026-11-25"), day("2026-11-24")]);
    }

    fn parent(status: S) -> Dossier {
        let mut d = crate::dossier::tests::dossier(status);
        d.procedure.bundle = Some(births());
        d
    }

    #[test]
    fn the_parent_follows_its_steps() {
        let b = births();
        let cal = Calendar::default();
        let at = crate::dossier::tests::at("2026-11-18", "10:00");
        let officer = Actor { side: Side::Agency, id: Some("o1".into()), role: Role::Officer };
        let p = parent(S::Submitted);
        let received =
            follow(&p, &b, &[started(1, S::Received, Some("2026-11-17")), waiting(2), waiting(3)], &officer, &cal, at);
        let received = received.map(|d| d.dossier).unwrap_or_else(|| p.clone());
        assert_eq!((received.status, received.clock.due_date), (S::Received, Some(day("2026-11-19"))));
        assert!(
            follow(
                &received,
                &b,
                &[started(1, S::Received, Some("2026-11-17")), waiting(2), waiting(3)],
                &officer,
                &cal,
                at
            )
            .is_none(),
            "nothing changed"
        );
        let all = [started(1, S::Completed, None), started(2, S::Completed, None), started(3, S::Returned, None)];
        let completed = follow(&received, &b, &all, &officer, &cal, at).map(|d| d.dossier.status);
        assert_eq!(completed, Some(S::Completed));
        let all = [started(1, S::Returned, None), started(2, S::Returned, None), started(3, S::Returned, None)];
        let returned = follow(&received, &b, &all, &officer, &cal, at)
            .map(|d| (d.dossier.status, d.dossier.finished_at.is_some()));
        assert_eq!(returned, Some((S::Returned, true)));
        let refused = [started(1, S::Completed, None), started(2, S::Rejected, None), waiting(3)];
        let stopped = follow(&received, &b, &refused, &officer, &cal, at).map(|d| (d.dossier.status, d.event));
        let Some((status, event)) = stopped else { panic!("the bundle stops") };
        assert_eq!((status, event.step), (S::Stopped, Step::Sync));
        assert!(event.data["reason"].as_str().unwrap_or_default().contains("Chỗ ở chưa hợp pháp"));
        let mut withdrawn = received.clone();
        withdrawn.status = S::Withdrawn;
        assert!(follow(&withdrawn, &b, &refused, &officer, &cal, at).is_none(), "an ended parent stays as it ended");
    }

    #[test]
    fn withdrawing_the_whole_spares_completed_steps() {
        let at = crate::dossier::tests::at("2026-11-18", "10:00");
        let citizen = Actor::applicant("u1", Role::Citizen);
        for (status, withdrawn) in [
            (S::Processing, true),
            (S::Received, true),
            (S::Completed, false),
            (S::Returned, false),
            (S::Rejected, false),
        ] {
            let step = crate::dossier::tests::dossier(status);
            assert_eq!(
                withdrawn_with_parent(&step, &citizen, at).map(|d| d.dossier.status == S::Withdrawn),
                withdrawn.then_some(true),
                "{status}"
            );
        }
    }

    #[test]
    fn the_agency_of_a_step_is_the_receiving_agencys_neighbour() {
        let ward = Place { code: "H26.00070", tier: Tier::Commune, admin_unit_code: Some("00070") };
        let police = Place { code: "H26.00070.CA", tier: Tier::Commune, admin_unit_code: Some("00070") };
        let other_police = Place { code: "H29.26743.CA", tier: Tier::Commune, admin_unit_code: Some("26743") };
        let insurance = Place { code: "000.00.27.H26", tier: Tier::Province, admin_unit_code: Some("01") };
        let other_insurance = Place { code: "000.00.27.H29", tier: Tier::Province, admin_unit_code: Some("79") };
        assert!(settles(ward, Tier::Commune, police));
        assert!(!settles(ward, Tier::Commune, other_police));
        assert!(settles(ward, Tier::Province, insurance));
        assert!(!settles(ward, Tier::Province, other_insurance));
        assert!(!settles(ward, Tier::Commune, insurance), "another tier");
        assert_eq!(
            (province_of("000.00.27.H26"), province_of("H26.00070.CA"), province_of("xyz")),
            (Some("H26"), Some("H26"), None)
        );
    }
}
