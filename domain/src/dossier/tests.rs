//! `decide` as a table: every status × command × side, then the guards of each move and the
//! deadline clock across supplements, apologies, holidays and the receipt cutoff.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::value::RawValue;

use super::*;
use crate::calendar::Calendar;
use crate::catalogue::{FeeKind, FeeMode};
use crate::time::{utc_of_local, Moment};
use crate::workflow::{DossierAction as A, DossierStatus as S};
use crate::FieldError;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The moment at a local (Vietnamese) date and time.
pub(crate) fn at(date: &str, time: &str) -> Moment {
    let local = NaiveDateTime::new(day(date), NaiveTime::parse_from_str(time, "%H:%M").unwrap());
    Moment::at(utc_of_local(local))
}

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.into()).unwrap()
}

fn procedure(days: i32) -> ProcedureSnapshot {
    ProcedureSnapshot {
        code: "1.001193".into(),
        name: "Đăng ký khai sinh".into(),
        processing_days: days,
        fees: vec![],
        required_documents: vec![crate::catalogue::RequiredDocument {
            id: "TK".into(),
            name: "Tờ khai".into(),
            mandatory: true,
            copies: 1,
        }],
        form_schema: None,
        agency_code: "H29".into(),
        agency_name: "UBND phường".into(),
        receipt_cutoff: None,
        bundle: None,
        bundle_agencies: Vec::new(),
        step_of: None,
    }
}

pub(crate) fn dossier(status: S) -> Dossier {
    let t = at("2026-11-16", "09:00").now;
    Dossier {
        id: DossierId("d1".into()),
        code: (status != S::Draft).then(|| "H29-261116-0001".into()),
        procedure_id: ProcedureId("p1".into()),
        procedure_version: 1,
        procedure: procedure(3),
        agency_id: AgencyId("a1".into()),
        applicant_id: Some(AccountId("u1".into())),
        applicant: raw("{}"),
        status,
        channel: Channel::Online,
        form_data: raw("{}"),
        delivery: Delivery { method: DeliveryMethod::Online, address: None },
        submitted_at: (status != S::Draft).then_some(t),
        received_at: None,
        clock: DeadlineClock::new(3),
        finished_at: None,
        timeliness: None,
        version: 4,
        created_at: t,
        updated_at: t,
        fee_vnd: 0,
    }
}

/// Facts under which every guard passes.
fn fine() -> Facts {
    Facts { results: 1, attached: vec!["TK".into()], code: Some("H29-261116-0002".into()), ..Default::default() }
}

/// A command of each action, with everything it needs.
fn command(action: A) -> Command {
    let reason = Some("Lý do".to_string());
    match action {
        A::Submit => Command::Submit,
        A::Resubmit => Command::Resubmit,
        A::Withdraw => Command::Withdraw { reason },
        A::Receive => Command::Receive,
        A::Reject => Command::Reject { reason },
        A::RequestSupplement => Command::RequestSupplement { missing_documents: vec!["TK".into()] },
        A::StartProcessing => Command::StartProcessing,
        A::Complete => Command::Complete,
        A::ReturnResult => Command::ReturnResult { postal_tracking_number: None },
        A::Stop => Command::Stop { reason },
        A::Apologize => Command::Apologize { reason, new_due_date: Some(day("2027-06-30")) },
    }
}

fn actor(side: Side) -> Actor {
    match side {
        Side::Applicant => Actor::applicant("u1", Role::Citizen),
        Side::Agency => Actor::agency("o1", Role::Officer),
    }
}

fn run(d: &Dossier, c: &Command, side: Side, facts: &Facts, when: Moment) -> Result<Decision, Refusal> {
    decide(d, c, None, &actor(side), facts, &Calendar::default(), when)
}

/// The workflow, written out here on its own: (from, action, side) → to. Anything else is refused.
const EXPECTED: &[(S, A, Side, S)] = &[
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

#[test]
fn every_status_command_and_side() {
    let when = at("2026-11-18", "10:00");
    let mut allowed = 0;
    for &status in S::ALL {
        for &action in A::ALL {
            for side in [Side::Applicant, Side::Agency] {
                let d = dossier(status);
                let expected = EXPECTED.iter().find(|(s, a, w, _)| *s == status && *a == action && *w == side);
                match (run(&d, &command(action), side, &fine(), when), expected) {
                    (Ok(decision), Some((_, _, _, to))) => {
                        allowed += 1;
                        assert_eq!(decision.dossier.status, *to, "{status} --{action}/{side}-->");
                        assert_eq!(decision.event.from, Some(status));
                        assert_eq!(decision.event.to, *to);
                        assert_eq!(decision.event.step.as_str(), action.as_str());
                        assert_eq!(decision.expected_version, 4);
                        assert_eq!(decision.dossier.version, 5);
                        assert_eq!(decision.dossier.finished_at.is_some(), to.finished(), "{status} --{action}-->");
                        let kinds: Vec<FeedKind> = decision.feed.iter().map(|(k, _)| *k).collect();
                        let last = if status == *to { FeedKind::Updated } else { FeedKind::StatusChanged };
                        match action {
                            A::Submit => assert_eq!(kinds, [FeedKind::Submitted, last]),
                            _ => assert_eq!(kinds, [last]),
                        }
                    }
                    (Err(Refusal::NotAllowed { from, action: a, side: w }), None) => {
                        assert_eq!((from, a, w), (status, action, side));
                    }
                    (got, want) => panic!("{status} --{action}/{side}-->: got {got:?}, expected {want:?}"),
                }
            }
        }
    }
    assert_eq!(allowed, EXPECTED.len());
}

#[test]
fn the_guards_of_each_move() {
    let when = at("2026-11-18", "10:00");
    let unpaid = |before, after| Facts {
        fees: FeeState {
            due_before: before,
            due_after: after,
            outstanding_before: before,
            outstanding_after: after,
            ..Default::default()
        },
        ..fine()
    };
    let cases: Vec<(S, Command, Side, Facts, Refusal)> = vec![
        (S::Submitted, Command::Receive, Side::Agency, unpaid(50_000, 0), Refusal::FeeUnpaid { amount_vnd: 50_000 }),
        (
            S::Completed,
            Command::ReturnResult { postal_tracking_number: None },
            Side::Agency,
            unpaid(0, 30_000),
            Refusal::FeeUnpaid { amount_vnd: 30_000 },
        ),
        (S::Processing, Command::Complete, Side::Agency, Facts { results: 0, ..fine() }, Refusal::ResultRequired),
        (
            S::Draft,
            Command::Submit,
            Side::Applicant,
            Facts { attached: vec![], ..fine() },
            Refusal::DocumentsMissing(vec!["TK".into()]),
        ),
        (
            S::SupplementRequested,
            Command::Resubmit,
            Side::Applicant,
            Facts { form_errors: vec![FieldError::required("form_data.ho_ten")], ..fine() },
            Refusal::FormIncomplete(vec![FieldError::required("form_data.ho_ten")]),
        ),
        (S::Draft, Command::Submit, Side::Applicant, Facts { code: None, ..fine() }, Refusal::CodeNotAllocated),
        (
            S::Submitted,
            Command::Reject { reason: Some("  ".into()) },
            Side::Agency,
            fine(),
            Refusal::Invalid(FieldError::required("reason")),
        ),
        (
            S::Submitted,
            Command::Withdraw { reason: None },
            Side::Applicant,
            fine(),
            Refusal::Invalid(FieldError::required("reason")),
        ),
        (
            S::Received,
            Command::Apologize { reason: Some("Chờ xác minh".into()), new_due_date: None },
            Side::Agency,
            fine(),
            Refusal::Invalid(FieldError::required("new_due_date")),
        ),
    ];
    for (status, command, side, facts, refusal) in cases {
        assert_eq!(run(&dossier(status), &command, side, &facts, when).unwrap_err(), refusal, "{status} {command:?}");
    }
    // A supplement request says what is missing, in the list or the note.
    let ask = Command::RequestSupplement { missing_documents: vec![] };
    let d = dossier(S::Received);
    let refused = decide(&d, &ask, None, &actor(Side::Agency), &fine(), &Calendar::default(), when).unwrap_err();
    assert!(matches!(refused, Refusal::Invalid(ref e) if e.field == "missing_documents"));
    assert!(decide(
        &d,
        &ask,
        Some("Bản sao giấy chứng sinh"),
        &actor(Side::Agency),
        &fine(),
        &Calendar::default(),
        when
    )
    .is_ok());
    // Results by post need the postal tracking number.
    let mut by_post = dossier(S::Completed);
    by_post.delivery = Delivery { method: DeliveryMethod::Post, address: Some("12 Hàng Bài".into()) };
    let ret = |n: Option<&str>| Command::ReturnResult { postal_tracking_number: n.map(str::to_string) };
    assert!(matches!(run(&by_post, &ret(None), Side::Agency, &fine(), when),
        Err(Refusal::Invalid(ref e)) if e.field == "postal_tracking_number"));
    let returned = run(&by_post, &ret(Some("EB123456789VN")), Side::Agency, &fine(), when).unwrap();
    assert_eq!(returned.event.data["postal_tracking_number"], "EB123456789VN");
    // A note that is too long or holds control characters.
    let long = "x".repeat(2001);
    let refused =
        decide(&d, &Command::StartProcessing, Some(&long), &actor(Side::Agency), &fine(), &Calendar::default(), when);
    assert!(matches!(refused, Err(Refusal::Invalid(ref e)) if e.field == "note" && e.code == "too_long"));
    // The move's table check comes first: a move not allowed now is refused as such, whatever it lacks.
    assert!(matches!(
        run(&dossier(S::Returned), &Command::Reject { reason: None }, Side::Agency, &fine(), when),
        Err(Refusal::NotAllowed { .. })
    ));
}

#[test]
fn a_draft_takes_the_procedure_version_in_force_and_its_code() {
    let when = at("2026-11-18", "10:00");
    let mut now = procedure(5);
    now.fees = vec![crate::catalogue::FeeItem::flat(FeeKind::Charge, "Lệ phí", 8_000, FeeMode::Before)];
    let facts = Facts { procedure_now: Some((now, 2)), ..fine() };
    let decided = run(&dossier(S::Draft), &Command::Submit, Side::Applicant, &facts, when).unwrap();
    let d = &decided.dossier;
    assert!(decided.procedure_changed);
    assert_eq!((d.procedure_version, d.clock.working_days_allowed, d.fee_vnd), (2, 5, 8_000));
    assert_eq!(d.code.as_deref(), Some("H29-261116-0002"));
    assert_eq!(d.submitted_at, Some(when.now));
    // Fees due before processing: the history shows national status 6, as does the feed.
    assert_eq!(decided.event.data["national_status_code"], 6);
    assert_eq!(decided.feed[0].1["national_status_code"], 6);
    // Without fees the status keeps its own code, and the history says nothing more.
    let plain = run(&dossier(S::Draft), &Command::Submit, Side::Applicant, &fine(), when).unwrap();
    assert!(!plain.event.data.contains_key("national_status_code"));
}

#[test]
fn the_clock_pauses_for_a_supplement_and_resumes_with_the_days_left() {
    let cal = Calendar::default();
    let agency = actor(Side::Agency);
    // Received Monday 16 November with 3 working days: due Thursday 19.
    let d = dossier(S::Submitted);
    let received = decide(&d, &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-16", "09:00")).unwrap();
    assert_eq!(received.dossier.clock.due_date, Some(day("2026-11-19")));
    // One working day used by Tuesday; the applicant has the dossier until the next Monday.
    let ask = Command::RequestSupplement { missing_documents: vec!["TK".into()] };
    let asked = decide(&received.dossier, &ask, None, &agency, &fine(), &cal, at("2026-11-17", "09:00")).unwrap();
    assert_eq!(asked.dossier.clock.working_days_spent, 1);
    assert_eq!(asked.dossier.clock.running_since, None);
    assert_eq!(asked.dossier.clock.used(day("2026-11-20"), false, &cal), 1, "the clock stands meanwhile");
    let applicant = actor(Side::Applicant);
    let back =
        decide(&asked.dossier, &Command::Resubmit, None, &applicant, &fine(), &cal, at("2026-11-23", "09:00")).unwrap();
    // Received again on Monday 23: two days left, due Wednesday 25.
    let again =
        decide(&back.dossier, &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-23", "10:00")).unwrap();
    assert_eq!(again.dossier.clock.due_date, Some(day("2026-11-25")));
    assert_eq!(again.dossier.clock.used(day("2026-11-24"), true, &cal), 2);
}

#[test]
fn an_apology_keeps_the_due_date_that_judges_the_agency() {
    let cal = Calendar::default();
    let agency = actor(Side::Agency);
    let received =
        decide(&dossier(S::Submitted), &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-16", "09:00"))
            .unwrap()
            .dossier;
    let started =
        decide(&received, &Command::StartProcessing, None, &agency, &fine(), &cal, at("2026-11-16", "10:00")).unwrap();
    let sorry = |new: &str| Command::Apologize { reason: Some("Chờ xác minh".into()), new_due_date: Some(day(new)) };
    // The new date must come after the current appointment.
    let refused =
        decide(&started.dossier, &sorry("2026-11-19"), None, &agency, &fine(), &cal, at("2026-11-18", "09:00"));
    assert!(matches!(refused, Err(Refusal::Invalid(ref e)) if e.code == "not_later"));
    let apologised =
        decide(&started.dossier, &sorry("2026-11-27"), None, &agency, &fine(), &cal, at("2026-11-18", "09:00"))
            .unwrap();
    let clock = apologised.dossier.clock;
    assert_eq!((clock.due_date, clock.rescheduled_due_date), (Some(day("2026-11-19")), Some(day("2026-11-27"))));
    assert_eq!(apologised.event.data["previous_due_date"], "2026-11-19");
    assert_eq!(apologised.dossier.status, S::Processing, "an apology changes no status");
    // A second apology must come after the first one's appointment.
    let twice =
        decide(&apologised.dossier, &sorry("2026-11-26"), None, &agency, &fine(), &cal, at("2026-11-19", "09:00"));
    assert!(matches!(twice, Err(Refusal::Invalid(_))));
    // Completed on the new appointment: still late against the due date.
    let done = decide(&apologised.dossier, &Command::Complete, None, &agency, &fine(), &cal, at("2026-11-26", "09:00"))
        .unwrap();
    assert_eq!(done.dossier.timeliness, Some(Timeliness::Late));
    assert!(apologised.dossier.clock.overdue(day("2026-11-20"), true), "overdue against the due date too");
}

#[test]
fn holidays_and_the_receipt_cutoff() {
    let mut cal = Calendar::default();
    // Thursday 30 April and Friday 1 May 2026 are days off.
    cal.holidays.extend([day("2026-04-30"), day("2026-05-01")]);
    let agency = actor(Side::Agency);
    let mut d = dossier(S::Submitted);
    let r = decide(&d, &Command::Receive, None, &agency, &fine(), &cal, at("2026-04-29", "09:00")).unwrap();
    // Wednesday + 3 working days skips the holidays and the weekend: Wednesday 6 May.
    assert_eq!(r.dossier.clock.due_date, Some(day("2026-05-06")));
    // A same-day procedure with the 15:00 rule: before the cutoff it is due the same day ...
    d.procedure.processing_days = 0;
    d.clock = DeadlineClock::new(0);
    d.procedure.receipt_cutoff = NaiveTime::from_hms_opt(15, 0, 0);
    let early = decide(&d, &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-20", "14:59")).unwrap();
    assert_eq!(early.dossier.clock.due_date, Some(day("2026-11-20")));
    assert!(!early.event.data.contains_key("counts_from"));
    // ... from 15:00 on a Friday it counts from Monday, and is due then.
    let late = decide(&d, &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-20", "15:00")).unwrap();
    assert_eq!(late.dossier.clock.due_date, Some(day("2026-11-23")));
    assert_eq!(late.event.data["counts_from"], "2026-11-23");
    // Received on the eve of the holidays after the cutoff: counts from Monday 4 May.
    d.procedure.processing_days = 1;
    d.clock = DeadlineClock::new(1);
    let eve = decide(&d, &Command::Receive, None, &agency, &fine(), &cal, at("2026-04-29", "16:30")).unwrap();
    assert_eq!(eve.dossier.clock.running_since, Some(day("2026-05-04")));
    assert_eq!(eve.dossier.clock.due_date, Some(day("2026-05-05")));
    // Without the rule, the hour does not matter.
    d.procedure.receipt_cutoff = None;
    let plain = decide(&d, &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-20", "16:30")).unwrap();
    assert_eq!(plain.dossier.clock.due_date, Some(day("2026-11-23")));
    assert_eq!(plain.dossier.clock.running_since, Some(day("2026-11-20")));
}

#[test]
fn an_agency_that_ends_a_received_dossier_answers_for_the_deadline() {
    let cal = Calendar::default();
    let agency = actor(Side::Agency);
    let received =
        decide(&dossier(S::Submitted), &Command::Receive, None, &agency, &fine(), &cal, at("2026-11-16", "09:00"))
            .unwrap()
            .dossier;
    let stop = Command::Stop { reason: Some("Không đủ điều kiện".into()) };
    let stopped = decide(&received, &stop, None, &agency, &fine(), &cal, at("2026-11-20", "09:00")).unwrap();
    assert_eq!(stopped.dossier.timeliness, Some(Timeliness::Late));
    assert_eq!(stopped.dossier.clock.running_since, None);
    // An applicant who withdraws does not judge the agency.
    let withdraw = Command::Withdraw { reason: Some("Nộp nhầm".into()) };
    let applicant = actor(Side::Applicant);
    let gone = decide(&received, &withdraw, None, &applicant, &fine(), &cal, at("2026-11-20", "09:00")).unwrap();
    assert_eq!(gone.dossier.timeliness, None);
}

fn registration(status: S) -> Registration {
    Registration {
        code: "H29-261120-0042".into(),
        agency_id: AgencyId("a1".into()),
        procedure_id: ProcedureId("p1".into()),
        procedure: procedure(3),
        procedure_version: 1,
        channel: Channel::Counter,
        applicant: raw(r#"{"full_name":"Lê Văn Tám"}"#),
        status,
        received_at: Some(at("2026-11-20", "09:15").now),
        due_date: None,
    }
}

#[test]
fn counter_registrations_follow_the_workflow() {
    let cal = Calendar::default();
    let system = Actor::agency("c1", Role::Integration);
    let when = at("2026-11-20", "10:00");
    let new = register(None, &registration(S::Received), DossierId("n1".into()), &system, &cal, when).unwrap();
    assert_eq!((new.dossier.status, new.event.step, new.expected_version), (S::Received, Step::Register, 0));
    assert_eq!(new.dossier.clock.due_date, Some(day("2026-11-25")));
    assert_eq!(new.dossier.clock.running_since, Some(day("2026-11-20")));
    assert_eq!(new.feed[0].0, FeedKind::Submitted);
    let processing =
        register(Some(&new.dossier), &registration(S::Processing), DossierId("x".into()), &system, &cal, when).unwrap();
    assert_eq!((processing.event.step, processing.feed[0].0), (Step::Sync, FeedKind::StatusChanged));
    let done =
        register(Some(&processing.dossier), &registration(S::Returned), DossierId("x".into()), &system, &cal, when)
            .unwrap();
    assert!(done.dossier.finished_at.is_some() && done.dossier.timeliness.is_some());
    // No way back from a returned result, no drafts, and online dossiers move by transitions.
    let back = register(Some(&done.dossier), &registration(S::Received), DossierId("x".into()), &system, &cal, when);
    assert_eq!(back.unwrap_err(), Refusal::Unreachable { from: S::Returned, to: S::Received });
    let draft = register(None, &registration(S::Draft), DossierId("x".into()), &system, &cal, when);
    assert!(matches!(draft, Err(Refusal::Invalid(ref e)) if e.field == "status"));
    let online = dossier(S::Received);
    let refused = register(Some(&online), &registration(S::Processing), DossierId("x".into()), &system, &cal, when);
    assert_eq!(refused.unwrap_err(), Refusal::OnlineDossier);
}

/// Every refusal is one that some case above produces: none is dead.
#[test]
fn every_refusal_is_reachable() {
    let cal = Calendar::default();
    let when = at("2026-11-18", "10:00");
    let system = Actor::agency("c1", Role::Integration);
    let mut seen: HashSet<std::mem::Discriminant<Refusal>> = HashSet::new();
    let mut note = |r: Result<Decision, Refusal>| {
        if let Err(r) = r {
            seen.insert(std::mem::discriminant(&r));
        }
    };
    note(run(&dossier(S::Draft), &Command::Receive, Side::Agency, &fine(), when));
    let unpaid = Facts { fees: FeeState { outstanding_before: 1, ..Default::default() }, ..fine() };
    note(run(&dossier(S::Submitted), &Command::Receive, Side::Agency, &unpaid, when));
    note(run(&dossier(S::Processing), &Command::Complete, Side::Agency, &Facts { results: 0, ..fine() }, when));
    note(run(&dossier(S::Submitted), &Command::Stop { reason: None }, Side::Agency, &fine(), when));
    note(run(&dossier(S::Received), &Command::Stop { reason: None }, Side::Agency, &fine(), when));
    note(run(&dossier(S::Draft), &Command::Submit, Side::Applicant, &Facts { attached: vec![], ..fine() }, when));
    let bad_form = Facts { form_errors: vec![FieldError::required("x")], ..fine() };
    note(run(&dossier(S::Draft), &Command::Submit, Side::Applicant, &bad_form, when));
    note(run(&dossier(S::Draft), &Command::Submit, Side::Applicant, &Facts { code: None, ..fine() }, when));
    note(register(Some(&dossier(S::Received)), &registration(S::Received), DossierId("x".into()), &system, &cal, when));
    note(register(Some(&dossier(S::Returned)), &registration(S::Received), DossierId("x".into()), &system, &cal, when));
    let mut counter = dossier(S::Returned);
    counter.channel = Channel::Counter;
    note(register(Some(&counter), &registration(S::Received), DossierId("x".into()), &system, &cal, when));
    let mut parent = dossier(S::Submitted);
    parent.procedure.bundle = Some(crate::catalogue::Bundle { steps: vec![] });
    note(run(&parent, &Command::Receive, Side::Agency, &fine(), when));
    let all = [
        Refusal::NotAllowed { from: S::Draft, action: A::Receive, side: Side::Agency },
        Refusal::FeeUnpaid { amount_vnd: 0 },
        Refusal::ResultRequired,
        Refusal::Invalid(FieldError::required("x")),
        Refusal::DocumentsMissing(vec![]),
        Refusal::FormIncomplete(vec![]),
        Refusal::CodeNotAllocated,
        Refusal::OnlineDossier,
        Refusal::Unreachable { from: S::Draft, to: S::Draft },
        Refusal::BundleMovesBySteps,
    ];
    for r in &all {
        assert!(seen.contains(&std::mem::discriminant(r)), "{r:?} is never produced");
    }
    assert_eq!(seen.len(), all.len());
}
