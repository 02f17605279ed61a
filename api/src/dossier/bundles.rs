//! Interconnected procedures (liên thông) in the API: after moves are written, in their
//! transaction, what they change in bundles. A parent's submission starts the steps that need
//! nothing (after checking that an agency settles every step); a step's move starts the steps
//! that now have what they need and brings the parent in line; the parent's withdrawal withdraws
//! the steps not yet completed. The rules are `dvc_domain::dossier::bundle`'s.

use dvc_domain::catalogue::{Bundle, Tier};
use dvc_domain::dossier::bundle::{self, NewStep, Place, StepDossier, StepState};
use dvc_domain::dossier::{Actor, Decision, Dossier, DossierId, Event, Step};
use dvc_domain::time::Moment;
use dvc_domain::workflow::{DossierStatus, Side};
use dvc_persistence::dossier_writes;
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::files::{self, AttachmentRow, APPLICANT, RESULT};
use dvc_persistence::{catalogue as q, new_id, DbConn};
use serde_json::json;

use super::moves::{changed_meanwhile, write};
use super::procedure::read_snapshot;
use crate::error::{ApiError, Msg};

/// The id of step `position` of `parent`: the same on every server, so that a step starts once.
pub fn step_id(parent: &DossierId, position: u32) -> DossierId {
    let name = format!("dvc:bundle-step:{parent}:{position}");
    DossierId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string())
}

/// The steps of a parent as they stand, and the dossiers of those started.
pub fn steps_of(conn: &mut DbConn, parent: &Dossier, b: &Bundle) -> Result<(Vec<StepState>, Vec<Dossier>), ApiError> {
    let ids: Vec<String> = (1..=b.steps.len() as u32).map(|p| step_id(&parent.id, p).0).collect();
    let found = dossier_writes::find_dossiers(conn, &ids)?;
    let mut states = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let dossier = match found.iter().find(|s| &s.id.0 == id) {
            Some(s) => {
                let reason = match s.status {
                    DossierStatus::Rejected | DossierStatus::Stopped | DossierStatus::Withdrawn => {
                        d::events(conn, id)?.last().and_then(|e| {
                            serde_json::from_str::<serde_json::Value>(&e.data)
                                .ok()
                                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
                        })
                    }
                    _ => None,
                };
                Some(StepDossier {
                    id: s.id.clone(),
                    status: s.status,
                    due_date: s.clock.rescheduled_due_date.or(s.clock.due_date),
                    started_on: Moment::at(s.submitted_at.unwrap_or(s.created_at)).today,
                    reason,
                })
            }
            None => None,
        };
        states.push(StepState { position: i as u32 + 1, dossier });
    }
    Ok((states, found))
}

/// Each step of `b` in order: its place (from 1), its description, and its dossier once started.
pub fn each_step<'a>(
    parent: &'a Dossier,
    b: &'a Bundle,
    started: &'a [Dossier],
) -> impl Iterator<Item = (u32, &'a dvc_domain::catalogue::BundleStep, Option<&'a Dossier>)> + 'a {
    b.steps.iter().enumerate().map(move |(i, step)| {
        let position = i as u32 + 1;
        let id = step_id(&parent.id, position);
        (position, step, started.iter().find(|s| s.id == id))
    })
}

fn unsettled(position: usize, step: &dvc_domain::catalogue::BundleStep, why: &str) -> ApiError {
    ApiError::unprocessable(
        "bundle_step_unsettled",
        Msg::new(
            format!("Không có cơ quan giải quyết bước {position} ({}) tại địa bàn này: {why}", step.procedure_code),
            format!("No agency settles step {position} ({}) here: {why}", step.procedure_code),
        ),
    )
}

/// The step's procedure as it is now at the agency that settles it for a bundle received at
/// `receiving`.
fn settled_by(
    conn: &mut DbConn,
    receiving: &q::AgencyRow,
    position: usize,
    step: &dvc_domain::catalogue::BundleStep,
) -> Result<crate::cache::ProcedureVersion, ApiError> {
    let procedure = q::find_procedure(conn, &step.procedure_code)?
        .ok_or_else(|| unsettled(position, step, "the procedure is not in the catalogue"))?;
    let here = Place {
        code: &receiving.code,
        tier: Tier::parse(&receiving.tier).unwrap_or(Tier::Commune),
        admin_unit_code: receiving.admin_unit_code.as_deref(),
    };
    for candidate in q::agencies_of_procedures(conn, std::slice::from_ref(&procedure.id))? {
        let Some(agency) = q::find_agency(conn, &candidate.id)? else { continue };
        let place = Place {
            code: &agency.code,
            tier: Tier::parse(&agency.tier).unwrap_or(Tier::Central),
            admin_unit_code: agency.admin_unit_code.as_deref(),
        };
        if bundle::settles(here, step.tier, place) {
            return read_snapshot(conn, &procedure.id, &agency.id, false);
        }
    }
    Err(unsettled(position, step, "no agency of that tier in this area handles the procedure"))
}

fn actor_of(d: &Decision) -> Actor {
    let side = if d.event.actor_role.is_staff() || d.event.actor_role == dvc_domain::auth::Role::Integration {
        Side::Agency
    } else {
        Side::Applicant
    };
    Actor { side, id: d.event.actor_id.clone(), role: d.event.actor_role }
}

/// Starts the steps of `parent` that are ready; on its submission (`all_checked`), first checks
/// that an agency settles every step, so that a bundle that could not finish is never filed.
fn start_ready(
    conn: &mut DbConn,
    parent: &Dossier,
    b: &Bundle,
    actor: &Actor,
    at: Moment,
    all_checked: bool,
) -> Result<(), ApiError> {
    let (states, started) = steps_of(conn, parent, b)?;
    let ready = bundle::ready(parent.status, b, &states);
    if ready.is_empty() && !all_checked {
        return Ok(());
    }
    let receiving = q::find_agency(conn, parent.agency_id.as_str())?.ok_or_else(ApiError::internal)?;
    // Each step's procedure at its agency, found once: all of them on the submission.
    let mut settled: Vec<Option<crate::cache::ProcedureVersion>> = vec![None; b.steps.len()];
    for (i, step) in b.steps.iter().enumerate() {
        if all_checked || ready.contains(&(i as u32 + 1)) {
            settled[i] = Some(settled_by(conn, &receiving, i + 1, step)?);
        }
    }
    let parent_files = files::attachments(conn, parent.id.as_str(), APPLICANT)?;
    for position in ready {
        let step = &b.steps[position as usize - 1];
        let taken = settled[position as usize - 1].take().ok_or_else(ApiError::internal)?;
        let prefix = format!("{}-{}", taken.snapshot.agency_code, at.today.format("%y%m%d"));
        let n = d::take_code_numbers(conn, &prefix, 1)?;
        let child = bundle::start(
            parent,
            step,
            NewStep {
                id: step_id(&parent.id, position),
                code: format!("{prefix}-{n:04}"),
                position,
                procedure: taken.snapshot,
                procedure_version: taken.version,
                procedure_id: dvc_domain::dossier::ProcedureId(taken.procedure_id),
                agency_id: dvc_domain::dossier::AgencyId(taken.agency_id),
            },
            at,
        );
        dossier_writes::insert_dossiers(conn, &[DossierRow::from(&child)])?;
        let mut data = serde_json::Map::new();
        data.insert("bundle_id".into(), parent.id.0.clone().into());
        data.insert("bundle_code".into(), json!(parent.code));
        data.insert("step".into(), json!(position));
        let event = Event {
            step: Step::Submit,
            from: None,
            to: DossierStatus::Submitted,
            actor_id: actor.id.clone(),
            actor_role: actor.role,
            note: None,
            data,
        };
        dossier_writes::insert_events(conn, &[EventRow::of(new_id(), child.id.as_str(), at.now, &event)])?;
        // The application's documents, and the results of the steps it needs as its inputs.
        let mut inputs: Vec<AttachmentRow> = parent_files.iter().map(|(a, _)| a.clone()).collect();
        for &need in &step.needs {
            if let Some(done) = started.iter().find(|s| s.id == step_id(&parent.id, need)) {
                for (mut a, _) in files::attachments(conn, done.id.as_str(), RESULT)? {
                    a.document_id = format!("KQ-B{need}");
                    a.kind = APPLICANT.into();
                    inputs.push(a);
                }
            }
        }
        for mut a in inputs {
            a.id = new_id();
            a.dossier_id = child.id.0.clone();
            a.created_at = at.now;
            files::insert_attachment(conn, &a)?;
        }
        let change = json!({
            "action": "submit", "from_status": null, "to_status": DossierStatus::Submitted,
            "national_status_code": DossierStatus::Submitted.national_code(), "due_date": null,
            "actor_role": actor.role, "bundle_code": parent.code, "step": position,
        });
        let subject = crate::integration::Subject {
            agency_id: child.agency_id.as_str(),
            dossier_id: Some(child.id.as_str()),
            dossier_code: child.code.as_deref(),
        };
        crate::integration::emit_many(conn, vec![(subject, vec![("dossier.submitted", change)])])?;
    }
    Ok(())
}

/// Brings `parent` in line with its steps after `actor`'s move.
fn follow_parent(
    conn: &mut DbConn,
    cal: &dvc_domain::calendar::Calendar,
    parent: &Dossier,
    actor: &Actor,
    at: Moment,
) -> Result<(), ApiError> {
    let Some(b) = parent.procedure.bundle.as_ref() else { return Ok(()) };
    let (states, _) = steps_of(conn, parent, b)?;
    if let Some(decision) = bundle::follow(parent, b, &states, actor, cal, at) {
        if !write(conn, std::slice::from_ref(&decision))?.first().copied().unwrap_or(false) {
            return Err(changed_meanwhile());
        }
    }
    Ok(())
}

/// What written moves change in bundles (nothing, and no query, for ordinary dossiers).
pub fn follow(conn: &mut DbConn, done: &[&Decision]) -> Result<(), ApiError> {
    let touched: Vec<&Decision> = done
        .iter()
        .copied()
        .filter(|d| d.dossier.procedure.bundle.is_some() || d.dossier.procedure.step_of.is_some())
        .collect();
    if touched.is_empty() {
        return Ok(());
    }
    let cal = crate::calendar::load(conn)?;
    let mut parents: Vec<(DossierId, Actor, Moment)> = Vec::new();
    for d in touched {
        let actor = actor_of(d);
        let at = Moment::at(d.dossier.updated_at);
        if let Some(b) = &d.dossier.procedure.bundle {
            match d.event.step {
                Step::Submit if d.event.from == Some(DossierStatus::Draft) => {
                    start_ready(conn, &d.dossier, b, &actor, at, true)?;
                    follow_parent(conn, &cal, &d.dossier, &actor, at)?;
                }
                Step::Withdraw => {
                    let (_, started) = steps_of(conn, &d.dossier, b)?;
                    let cascade: Vec<Decision> =
                        started.iter().filter_map(|s| bundle::withdrawn_with_parent(s, &actor, at)).collect();
                    if write(conn, &cascade)?.iter().any(|w| !w) {
                        return Err(changed_meanwhile());
                    }
                }
                _ => {}
            }
        } else if let Some(of) = &d.dossier.procedure.step_of {
            if !parents.iter().any(|(p, ..)| *p == of.parent_id) {
                parents.push((of.parent_id.clone(), actor, at));
            }
        }
    }
    for (id, actor, at) in parents {
        let Some(parent) = d::find(conn, id.as_str())? else { continue };
        let Some(b) = parent.procedure.bundle.clone() else { continue };
        start_ready(conn, &parent, &b, &actor, at, false)?;
        follow_parent(conn, &cal, &parent, &actor, at)?;
    }
    Ok(())
}
