//! New drafts and submissions, served in batches (see `batch.rs`). The drafts that arrive together
//! are written in one transaction, with one statement for their rows and one for their history;
//! the submissions that arrive together are read with one statement, take their code numbers
//! together and move in one transaction. Every request keeps its own checks and its own answer.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use dvc_domain::dossier::{
    decide, ready_to_submit, AccountId, AgencyId, Command, DeadlineClock, Decision, Delivery, Dossier, DossierId,
    Facts, ProcedureId, Step,
};
use dvc_domain::workflow::{DossierStatus, Side};
use dvc_persistence::codes::Code;
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::files::{self, APPLICANT};
use dvc_persistence::{accounts, catalogue, dossier_writes, new_id, DbConn};
use serde_json::value::RawValue;

use super::moves::{changed_meanwhile, write};
use super::view::{bare_view, check_form, fee_state, form_errors, views_of};
use super::{access, not_found, procedure_snapshot_at, Access, DossierView};
use crate::auth::Caller;
use crate::batch::together_or_alone;
use crate::cache::CatalogueCache;
use crate::clock::Moment;
use crate::error::{ApiError, Msg};
use crate::page::etag;
use crate::sessions::Ask;

/// A dossier as its owner sees it after the request, with its ETag.
pub type Answer = (String, DossierView);

/// A draft an applicant starts.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub owner: String,
    pub procedure_id: String,
    pub agency_id: String,
    pub form_data: serde_json::Value,
    pub delivery: Delivery,
    pub at: NaiveDateTime,
    pub today: NaiveDate,
    /// The level the applicant signed in at (`assurance_level` of the token).
    pub assurance_level: u8,
    /// The applicant's session, checked by the batch before the draft is written.
    pub session: Ask,
}

fn raw(value: &serde_json::Value) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(value).map_err(|_| ApiError::internal())
}

/// Creates the drafts of a batch.
pub fn create_drafts(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    drafts: &[NewDraft],
) -> Result<Vec<Result<Answer, ApiError>>, ApiError> {
    together_or_alone(conn, drafts, |conn, drafts| {
        // One read of the catalogue counter for all: a procedure version cached under it is
        // what the tables hold now.
        let counter = catalogue::version(conn)?;
        let mut owners: Vec<String> = drafts.iter().map(|d| d.owner.clone()).collect();
        owners.sort();
        owners.dedup();
        let accounts: HashMap<String, accounts::AccountRow> =
            accounts::find_many(conn, &owners)?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let made: Vec<Result<Dossier, ApiError>> =
            drafts.iter().map(|draft| new_draft(conn, cache, counter, draft, &accounts)).collect();
        let rows: Vec<DossierRow> = made.iter().filter_map(|r| r.as_ref().ok()).map(DossierRow::from).collect();
        dossier_writes::insert_dossiers(conn, &rows)?;
        let events: Vec<EventRow> = made.iter().filter_map(|r| r.as_ref().ok()).map(created_event).collect();
        dossier_writes::insert_events(conn, &events)?;
        let cal = cache.calendar(conn)?;
        Ok(made
            .into_iter()
            .zip(drafts)
            .map(|(d, draft)| {
                let d = d?;
                Ok((etag(d.id.as_str(), d.version), bare_view(d, Access::Owner, &cal, draft.today)))
            })
            .collect())
    })
}

/// A new draft: the procedure version in force (it must be offered online and handled by the
/// agency chosen), a form that passes its schema, the applicant block prefilled from the profile.
fn new_draft(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    counter: i64,
    draft: &NewDraft,
    accounts: &HashMap<String, accounts::AccountRow>,
) -> Result<Dossier, ApiError> {
    let taken = procedure_snapshot_at(conn, cache, counter, &draft.procedure_id, &draft.agency_id, true)?;
    if draft.assurance_level < taken.min_assurance_level {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "assurance_too_low",
            Msg::new("Không có quyền", "Forbidden"),
            Msg::new(
                "Thủ tục này yêu cầu đăng nhập bằng tài khoản định danh điện tử mức 2",
                "This procedure requires signing in with an identity proved at level 2",
            ),
        ));
    }
    let procedure = taken.snapshot;
    check_form(procedure.form_schema.as_deref(), &draft.form_data)?;
    let account = accounts.get(&draft.owner).ok_or_else(ApiError::forbidden)?;
    let profile: serde_json::Value = serde_json::from_str(&account.profile).unwrap_or_default();
    let applicant = serde_json::json!({
        "account_type": account.account_type, "full_name": account.full_name, "id_number": account.id_number,
        "tax_code": account.tax_code, "date_of_birth": account.date_of_birth, "phone": account.phone,
        "email": account.email, "address": profile.get("address"),
    });
    Ok(Dossier {
        id: DossierId(new_id()),
        code: None,
        procedure_id: ProcedureId(taken.procedure_id),
        procedure_version: taken.version,
        clock: DeadlineClock::new(procedure.processing_days),
        procedure,
        agency_id: AgencyId(taken.agency_id),
        applicant_id: Some(AccountId(draft.owner.clone())),
        applicant: raw(&applicant)?,
        status: DossierStatus::Draft,
        channel: dvc_domain::dossier::Channel::Online,
        form_data: raw(&draft.form_data)?,
        delivery: draft.delivery.clone(),
        submitted_at: None,
        received_at: None,
        finished_at: None,
        timeliness: None,
        version: 1,
        created_at: draft.at,
        updated_at: draft.at,
        fee_vnd: 0,
    })
}

fn created_event(d: &Dossier) -> EventRow {
    EventRow {
        id: new_id(),
        dossier_id: d.id.0.clone(),
        at: d.created_at,
        action: Code(Step::Create),
        from_status: None,
        to_status: Code(DossierStatus::Draft),
        actor_id: d.applicant_id.as_ref().map(|a| a.0.clone()),
        actor_role: Side::Applicant.as_str().into(),
        note: None,
        data: "{}".into(),
    }
}

/// An applicant submits (or resubmits after a supplement request) one of their dossiers.
#[derive(Debug, Clone)]
pub struct Submission {
    pub me: Caller,
    pub id: String,
    pub at: Moment,
    /// The applicant's session, checked by the batch before the dossier is read.
    pub session: Ask,
}

/// A submission that passed the checks that need no code: the dossier and what it was judged on.
struct Checked {
    dossier: Dossier,
    command: Command,
    facts: Facts,
}

/// Submits the dossiers of a batch. The checks read only; a draft's code number is taken in a
/// transaction of its own, so that the counter of an agency's day is held for moments rather than
/// for the whole batch (a submission that then fails leaves a gap in the day's numbers, never a
/// duplicate); the moves commit together, each under the dossier version it was checked on.
pub fn submit_all(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    submissions: &[Submission],
) -> Result<Vec<Result<Answer, ApiError>>, ApiError> {
    let ids: Vec<String> = submissions.iter().map(|s| s.id.clone()).collect();
    let dossiers: HashMap<String, Dossier> =
        dossier_writes::find_dossiers(conn, &ids)?.into_iter().map(|d| (d.id.0.clone(), d)).collect();
    let editable: Vec<String> = dossiers.values().filter(|d| d.status.editable()).map(|d| d.id.0.clone()).collect();
    let mut attached: HashMap<String, Vec<String>> = HashMap::new();
    if !editable.is_empty() {
        for (a, _) in files::attachments_of(conn, &editable)? {
            if a.kind == APPLICANT {
                attached.entry(a.dossier_id.clone()).or_default().push(a.document_id);
            }
        }
    }
    let counter = match dossiers.values().any(|d| d.status == DossierStatus::Draft) {
        true => Some(catalogue::version(conn)?),
        false => None,
    };
    let mut seen = std::collections::HashSet::new();
    let mut checked: Vec<Result<Checked, ApiError>> = submissions
        .iter()
        .map(|s| {
            // Who may see the dossier is checked first: to anyone else it does not exist.
            let checked = check(conn, cache, counter, s, &dossiers, &attached)?;
            if !seen.insert(s.id.as_str()) {
                // The same dossier twice in one batch: the first one moves it.
                return Err(changed_meanwhile());
            }
            Ok(checked)
        })
        .collect();
    number_drafts(conn, submissions, &mut checked)?;
    let cal = cache.calendar(conn)?;
    let mut ready: Vec<(usize, Decision)> = Vec::new();
    for (i, (c, s)) in checked.iter_mut().zip(submissions).enumerate() {
        let Ok(item) = c else { continue };
        let actor = dvc_domain::dossier::Actor::applicant(&s.me.id, s.me.role);
        match decide(&item.dossier, &item.command, None, &actor, &item.facts, &cal, s.at) {
            Ok(decision) => ready.push((i, decision)),
            Err(e) => *c = Err(e.into()),
        }
    }
    // Each move with the moment of its request; the answers are made before the moves commit.
    let moves: Vec<(Decision, Moment)> = ready.iter().map(|(i, d)| (d.clone(), submissions[*i].at)).collect();
    let answers = together_or_alone(conn, &moves, |conn, moves| {
        let decisions: Vec<Decision> = moves.iter().map(|(d, _)| d.clone()).collect();
        let written = write(conn, &decisions)?;
        let rows = moves
            .iter()
            .zip(&written)
            .filter(|(_, w)| **w)
            .map(|((d, at), _)| (d.dossier.clone(), Access::Owner, at.today));
        let mut views = views_of(conn, rows.collect(), &cal)?.into_iter();
        Ok(moves
            .iter()
            .zip(written)
            .map(|((d, _), w)| match w {
                true => views
                    .next()
                    .map(|v| (etag(d.dossier.id.as_str(), d.dossier.version), v))
                    .ok_or_else(ApiError::internal),
                false => Err(changed_meanwhile()),
            })
            .collect())
    })?;
    let mut out: Vec<Result<Answer, ApiError>> =
        checked.into_iter().map(|c| c.and_then(|_| Err(ApiError::internal()))).collect();
    for ((i, _), answer) in ready.into_iter().zip(answers) {
        out[i] = answer;
    }
    Ok(out)
}

/// Whether the caller may submit (or resubmit) the dossier now: its owner, with the mandatory
/// documents and a complete form (a status that allows neither is refused by `decide`).
fn check(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    counter: Option<i64>,
    s: &Submission,
    dossiers: &HashMap<String, Dossier>,
    attached: &HashMap<String, Vec<String>>,
) -> Result<Checked, ApiError> {
    let dossier = dossiers.get(&s.id).cloned().ok_or_else(not_found)?;
    if access(&s.me, &dossier)? != Access::Owner {
        return Err(ApiError::forbidden());
    }
    let command =
        if dossier.status == DossierStatus::SupplementRequested { Command::Resubmit } else { Command::Submit };
    let mut facts = Facts { attached: attached.get(&s.id).cloned().unwrap_or_default(), ..Default::default() };
    if !dossier.status.editable() {
        // Not a draft nor awaiting a supplement: the workflow refuses the move with 409.
        return Ok(Checked { dossier, command, facts });
    }
    if dossier.status == DossierStatus::Draft {
        // The dossier is judged by, and keeps, the procedure version in force at submission.
        let counter = counter.ok_or_else(ApiError::internal)?;
        let taken = procedure_snapshot_at(
            conn,
            cache,
            counter,
            dossier.procedure_id.as_str(),
            dossier.agency_id.as_str(),
            true,
        )?;
        facts.procedure_now = Some((taken.snapshot, taken.version));
    } else {
        facts.fees = fee_state(conn, &dossier)?;
    }
    let schema = match &facts.procedure_now {
        Some((p, _)) => p.form_schema.as_deref(),
        None => dossier.procedure.form_schema.as_deref(),
    };
    let form: serde_json::Value = serde_json::from_str(dossier.form_data.get()).unwrap_or_default();
    facts.form_errors = form_errors(schema, &form)?;
    ready_to_submit(&dossier, &facts)?;
    Ok(Checked { dossier, command, facts })
}

/// Gives each draft that passed its checks its code, `<agency code>-<yyMMdd>-<NNNN>`, the numbers
/// of one prefix taken together.
fn number_drafts(
    conn: &mut DbConn,
    submissions: &[Submission],
    checked: &mut [Result<Checked, ApiError>],
) -> Result<(), ApiError> {
    let mut by_prefix: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, (c, s)) in checked.iter().zip(submissions).enumerate() {
        let Ok(item) = c else { continue };
        let Some((procedure, _)) = item.facts.procedure_now.as_ref().filter(|_| item.command == Command::Submit) else {
            continue;
        };
        let prefix = format!("{}-{}", procedure.agency_code, s.at.today.format("%y%m%d"));
        match by_prefix.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, list)) => list.push(i),
            None => by_prefix.push((prefix, vec![i])),
        }
    }
    for (prefix, list) in by_prefix {
        let first = d::take_code_numbers(conn, &prefix, list.len() as i32)?;
        for (n, i) in (first..).zip(list) {
            if let Ok(item) = &mut checked[i] {
                item.facts.code = Some(format!("{prefix}-{n:04}"));
            }
        }
    }
    Ok(())
}
