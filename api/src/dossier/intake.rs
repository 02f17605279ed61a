//! New drafts and submissions, served in batches (see `batch.rs`). The drafts that arrive together
//! are written in one transaction, with one statement for their rows and one for their history;
//! the submissions that arrive together are read with one statement, take their code numbers
//! together and move in one transaction. Every request keeps its own checks and its own answer.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use dvc_domain::workflow::{Actor, DossierAction, DossierStatus};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::{accounts, catalogue, dossier_writes, new_id, DbConn};

use super::{
    bare_view, check_form, missing_documents, plan, procedure_snapshot_at, snapshot, status, views_of, write, Access,
    AttachmentView, DossierView, Mover, Planned, TransitionInput,
};
use crate::auth::Principal;
use crate::batch::together_or_alone;
use crate::cache::CatalogueCache;
use crate::clock::Moment;
use crate::error::{ApiError, Msg};
use crate::routes::etag;

/// A dossier as its owner sees it after the request, with its ETag.
pub type Answer = (String, DossierView);

/// A draft an applicant starts.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub owner: String,
    pub procedure_id: String,
    pub agency_id: String,
    pub form_data: serde_json::Value,
    /// The delivery, as stored (JSON).
    pub delivery: String,
    pub at: NaiveDateTime,
    pub today: NaiveDate,
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
        let made: Vec<Result<DossierRow, ApiError>> =
            drafts.iter().map(|draft| new_row(conn, cache, counter, draft, &accounts)).collect();
        let rows: Vec<DossierRow> = made.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
        dossier_writes::insert_dossiers(conn, &rows)?;
        let events: Vec<EventRow> = rows.iter().map(created_event).collect();
        dossier_writes::insert_events(conn, &events)?;
        let cal = cache.calendar(conn)?;
        Ok(made
            .into_iter()
            .zip(drafts)
            .map(|(row, draft)| {
                let row = row?;
                Ok((etag(&row.id, row.version), bare_view(row, Access::Owner, &cal, draft.today)?))
            })
            .collect())
    })
}

/// The row of a new draft: the procedure version in force (it must be offered online and
/// handled by the agency chosen), a form that passes its schema, the applicant block prefilled
/// from the profile.
fn new_row(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    counter: i64,
    draft: &NewDraft,
    accounts: &HashMap<String, accounts::AccountRow>,
) -> Result<DossierRow, ApiError> {
    let (snapshot, version, procedure_key) =
        procedure_snapshot_at(conn, cache, counter, &draft.procedure_id, &draft.agency_id, true)?;
    check_form(snapshot.form_schema.as_deref(), &draft.form_data)?;
    let account = accounts.get(&draft.owner).ok_or_else(ApiError::forbidden)?;
    let profile: serde_json::Value = serde_json::from_str(&account.profile).unwrap_or_default();
    let applicant = serde_json::json!({
        "account_type": account.account_type, "full_name": account.full_name, "id_number": account.id_number,
        "tax_code": account.tax_code, "date_of_birth": account.date_of_birth, "phone": account.phone,
        "email": account.email, "address": profile.get("address"),
    });
    Ok(DossierRow {
        id: new_id(),
        code: None,
        procedure_id: procedure_key,
        procedure_version: version,
        procedure_snapshot: serde_json::to_string(&snapshot).map_err(|_| ApiError::internal())?,
        agency_id: draft.agency_id.clone(),
        applicant_id: Some(draft.owner.clone()),
        applicant: applicant.to_string(),
        status: DossierStatus::Draft.as_str().into(),
        channel: "online".into(),
        form_data: draft.form_data.to_string(),
        delivery: draft.delivery.clone(),
        submitted_at: None,
        received_at: None,
        due_date: None,
        working_days_allowed: snapshot.processing_days,
        working_days_spent: 0,
        clock_started_on: None,
        finished_at: None,
        timeliness: None,
        version: 1,
        created_at: draft.at,
        updated_at: draft.at,
        fee_vnd: 0,
    })
}

fn created_event(row: &DossierRow) -> EventRow {
    EventRow {
        id: new_id(),
        dossier_id: row.id.clone(),
        at: row.created_at,
        action: "create".into(),
        from_status: None,
        to_status: DossierStatus::Draft.as_str().into(),
        actor_id: row.applicant_id.clone(),
        actor_role: "applicant".into(),
        note: None,
        data: "{}".into(),
    }
}

/// An applicant submits (or resubmits after a supplement request) one of their dossiers.
#[derive(Debug, Clone)]
pub struct Submission {
    pub me: Principal,
    pub id: String,
    pub at: Moment,
}

/// A submission that passed its checks: the row to move (a draft takes the procedure version in
/// force now) and the move.
struct Checked {
    row: DossierRow,
    action: DossierAction,
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
    let rows: HashMap<String, DossierRow> =
        dossier_writes::find_dossiers(conn, &ids)?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let editable: Vec<String> = rows
        .values()
        .filter(|r| DossierStatus::parse(&r.status).is_some_and(|s| s.editable()))
        .map(|r| r.id.clone())
        .collect();
    let mut files: HashMap<String, Vec<AttachmentView>> = HashMap::new();
    if !editable.is_empty() {
        for (a, f) in d::attachments_of(conn, &editable)? {
            if a.kind == "applicant" {
                files.entry(a.dossier_id.clone()).or_default().push(super::attachment_view(a, f));
            }
        }
    }
    let counter = match rows.values().any(|r| r.status == DossierStatus::Draft.as_str()) {
        true => Some(catalogue::version(conn)?),
        false => None,
    };
    let mut seen = std::collections::HashSet::new();
    let mut checked: Vec<Result<Checked, ApiError>> = submissions
        .iter()
        .map(|s| {
            // Who may see the dossier is checked first: to anyone else it does not exist.
            let checked = check(conn, cache, counter, s, &rows, &files)?;
            if !seen.insert(s.id.as_str()) {
                // The same dossier twice in one batch: the first one moves it.
                return Err(super::changed_meanwhile());
            }
            Ok(checked)
        })
        .collect();
    number_drafts(conn, submissions, &mut checked)?;
    let cal = cache.calendar(conn)?;
    let ready: Vec<(usize, Planned)> = {
        let mut ready = Vec::new();
        for (i, (c, s)) in checked.iter_mut().zip(submissions).enumerate() {
            let Ok(item) = c else { continue };
            let actor_id = s.me.id().to_string();
            let mover = Mover { actor: Actor::Applicant, id: Some(&actor_id), role: s.me.role().as_str() };
            match plan(conn, item.row.clone(), item.action, &mover, &TransitionInput::default(), &cal, s.at) {
                Ok(planned) => ready.push((i, planned)),
                Err(e) => *c = Err(e),
            }
        }
        ready
    };
    // Each move with the day its dossier is seen on; the answers are made before the moves commit.
    let moves: Vec<(Planned, NaiveDate)> = ready.iter().map(|(i, p)| (p.clone(), submissions[*i].at.today)).collect();
    let answers = together_or_alone(conn, &moves, |conn, moves| {
        let planned: Vec<Planned> = moves.iter().map(|(p, _)| p.clone()).collect();
        let written = write(conn, &planned)?;
        let rows = moves
            .iter()
            .zip(&written)
            .filter(|(_, w)| **w)
            .map(|((p, today), _)| (p.row.clone(), Access::Owner, *today));
        let mut views = views_of(conn, rows.collect(), &cal)?.into_iter();
        Ok(moves
            .iter()
            .zip(written)
            .map(|((p, _), w)| match w {
                true => views.next().map(|v| (etag(&p.row.id, p.row.version), v)).ok_or_else(ApiError::internal),
                false => Err(super::changed_meanwhile()),
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

/// Whether the caller may submit (or resubmit) the dossier now: its owner, in an editable state,
/// with the mandatory documents and a complete form.
fn check(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    counter: Option<i64>,
    s: &Submission,
    rows: &HashMap<String, DossierRow>,
    files: &HashMap<String, Vec<AttachmentView>>,
) -> Result<Checked, ApiError> {
    let mut row = rows.get(&s.id).cloned().ok_or_else(super::not_found)?;
    if super::access(&s.me, &row)? != Access::Owner {
        return Err(ApiError::forbidden());
    }
    let status = status(&row)?;
    let action =
        if status == DossierStatus::SupplementRequested { DossierAction::Resubmit } else { DossierAction::Submit };
    if status == DossierStatus::Draft {
        // The dossier is judged by, and keeps, the procedure version in force at submission.
        let counter = counter.ok_or_else(ApiError::internal)?;
        let (snapshot, version, _) =
            procedure_snapshot_at(conn, cache, counter, &row.procedure_id, &row.agency_id, true)?;
        row.procedure_snapshot = serde_json::to_string(&snapshot).map_err(|_| ApiError::internal())?;
        row.procedure_version = version;
        row.working_days_allowed = snapshot.processing_days;
    }
    if !status.editable() {
        // Not a draft nor awaiting a supplement: the workflow table refuses the move with 409.
        return Ok(Checked { row, action });
    }
    let snap = snapshot(&row)?;
    let attachments = files.get(&row.id).map(Vec::as_slice).unwrap_or_default();
    let missing = missing_documents(&snap, attachments);
    if !missing.is_empty() {
        let mut e = ApiError::unprocessable(
            "documents_missing",
            Msg::new(
                format!("Thiếu thành phần hồ sơ bắt buộc: {}", missing.join(", ")),
                format!("Mandatory documents missing: {}", missing.join(", ")),
            ),
        );
        e.errors = missing
            .iter()
            .map(|m| {
                FieldError::new(
                    format!("attachments.{m}"),
                    "required",
                    "Thiếu giấy tờ bắt buộc",
                    "Mandatory document missing",
                )
            })
            .collect();
        return Err(e);
    }
    let form: serde_json::Value = serde_json::from_str(&row.form_data).unwrap_or_default();
    check_form(snap.form_schema.as_deref(), &form).map_err(|mut e| {
        e.status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
        e.code = "form_incomplete";
        e
    })?;
    Ok(Checked { row, action })
}

/// Gives each draft that passed its checks its code, `<agency code>-<yyMMdd>-<NNNN>`, the numbers
/// of one prefix taken together; a draft also gets its submission time and the fees it owes.
fn number_drafts(
    conn: &mut DbConn,
    submissions: &[Submission],
    checked: &mut [Result<Checked, ApiError>],
) -> Result<(), ApiError> {
    let mut by_prefix: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, (c, s)) in checked.iter().zip(submissions).enumerate() {
        let Ok(item) = c else { continue };
        if item.action != DossierAction::Submit || item.row.status != DossierStatus::Draft.as_str() {
            continue;
        }
        let snap = snapshot(&item.row)?;
        let prefix = format!("{}-{}", snap.agency_code, s.at.today.format("%y%m%d"));
        match by_prefix.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, list)) => list.push(i),
            None => by_prefix.push((prefix, vec![i])),
        }
    }
    for (prefix, list) in by_prefix {
        let first = d::take_code_numbers(conn, &prefix, list.len() as i32)?;
        for (n, i) in (first..).zip(list) {
            if let Ok(item) = &mut checked[i] {
                let snap = snapshot(&item.row)?;
                let totals = dvc_domain::payment::totals(&snap.fees);
                item.row.code = Some(format!("{prefix}-{n:04}"));
                item.row.submitted_at = Some(submissions[i].at.now);
                item.row.fee_vnd = totals.before + totals.after;
            }
        }
    }
    Ok(())
}
