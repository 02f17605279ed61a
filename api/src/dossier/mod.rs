//! The dossier service shared by applicants', officers' and one-stop systems' endpoints:
//! access, views, deadlines and applying workflow moves with their history.

use std::collections::HashMap;

use chrono::NaiveDate;
use dvc_domain::calendar::Calendar;
use dvc_domain::catalogue::{FeeItem, RequiredDocument};
use dvc_domain::workflow::{allowed_actions, next_status, Actor, DossierAction, DossierStatus};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::{new_id, DbConn};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::catalogue::rfc3339;
use crate::error::{ApiError, Msg};

pub mod intake;
pub mod lists;
mod procedure;
mod workflow;

pub use procedure::{procedure_snapshot, procedure_snapshot_at};
pub use workflow::*;

/// What a dossier keeps of its procedure as it was when the dossier was created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub code: String,
    pub name: String,
    pub processing_days: i32,
    pub fees: Vec<FeeItem>,
    pub required_documents: Vec<RequiredDocument>,
    /// Kept as written: parsed only when a form is checked against it.
    pub form_schema: Option<Box<RawValue>>,
    pub agency_code: String,
    pub agency_name: String,
}

/// A procedure version as a dossier takes it: the snapshot, the version number and the
/// procedure's id.
pub type ProcedureVersion = (Snapshot, i32, String);

pub fn snapshot(row: &DossierRow) -> Result<Snapshot, ApiError> {
    serde_json::from_str(&row.procedure_snapshot).map_err(|_| ApiError::internal())
}

/// How the caller relates to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Owner,
    Agency,
    Admin,
}

/// Who may see a dossier: its applicant, staff of the handling agency, administrators. Anyone else
/// is told it does not exist.
pub fn access(principal: &Principal, row: &DossierRow) -> Result<Access, ApiError> {
    let claims = &principal.0;
    if row.applicant_id.as_deref() == Some(claims.sub.as_str()) {
        Ok(Access::Owner)
    } else if claims.role == dvc_domain::auth::Role::Admin {
        Ok(Access::Admin)
    } else if claims.role == dvc_domain::auth::Role::Officer
        && claims.agency_id.as_deref() == Some(row.agency_id.as_str())
    {
        Ok(Access::Agency)
    } else {
        Err(not_found())
    }
}

pub fn not_found() -> ApiError {
    ApiError::not_found("hồ sơ", "Dossier")
}

/// Loads a dossier the caller may see.
pub fn load(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<(DossierRow, Access), ApiError> {
    let row = d::find_dossier(conn, id)?.ok_or_else(not_found)?;
    let access = access(principal, &row)?;
    Ok((row, access))
}

pub fn status(row: &DossierRow) -> Result<DossierStatus, ApiError> {
    DossierStatus::parse(&row.status).ok_or_else(ApiError::internal)
}

/// What a dossier owes, has paid, and still owes, per phase.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct FeeState {
    pub due_before: i64,
    pub due_after: i64,
    pub paid_before: i64,
    pub paid_after: i64,
    pub outstanding_before: i64,
    pub outstanding_after: i64,
}

/// Sums the dossier's fees (from its procedure version) against its paid payments.
pub fn fee_state(conn: &mut DbConn, snap: &Snapshot, dossier_id: &str) -> Result<FeeState, ApiError> {
    let totals = dvc_domain::payment::totals(&snap.fees);
    if totals.before + totals.after == 0 {
        return Ok(fees_against(snap, &[]));
    }
    Ok(fees_against(snap, &dvc_persistence::payments::of_dossier(conn, dossier_id)?))
}

/// Sums the fees of a procedure version against the given payments of its dossier.
pub fn fees_against(snap: &Snapshot, payments: &[dvc_persistence::payments::PaymentRow]) -> FeeState {
    let (mut before, mut after) = (0, 0);
    for p in payments.iter().filter(|p| p.status == "paid") {
        match p.phase.as_str() {
            "before" => before += p.amount_vnd,
            _ => after += p.amount_vnd,
        }
    }
    fees_paid(snap, before, after)
}

/// The fees of a procedure version against the sums paid before and after processing.
pub fn fees_paid(snap: &Snapshot, paid_before: i64, paid_after: i64) -> FeeState {
    let totals = dvc_domain::payment::totals(&snap.fees);
    FeeState {
        due_before: totals.before,
        due_after: totals.after,
        paid_before,
        paid_after,
        outstanding_before: (totals.before - paid_before).max(0),
        outstanding_after: (totals.after - paid_after).max(0),
    }
}

/// The national status code: 6 (financial obligation) while a fee due before processing is unpaid.
pub fn national_code(status: DossierStatus, fees: &FeeState) -> Option<i32> {
    if status == DossierStatus::Submitted && fees.outstanding_before > 0 {
        return Some(6);
    }
    status.national_code()
}

/// The deadline view of a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deadline {
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    pub working_days_allowed: i32,
    pub working_days_used: i64,
    pub overdue: bool,
    /// `early`, `on_time` or `late`, once the agency finished.
    pub timeliness: Option<String>,
}

pub fn deadline(row: &DossierRow, cal: &Calendar, today: NaiveDate) -> Deadline {
    let running = row.clock_started_on.filter(|_| DossierStatus::parse(&row.status).is_some_and(|s| s.clock_running()));
    let used =
        i64::from(row.working_days_spent) + running.map(|start| cal.working_days_between(start, today)).unwrap_or(0);
    Deadline {
        due_date: row.due_date,
        working_days_allowed: row.working_days_allowed,
        working_days_used: used,
        overdue: running.is_some() && row.due_date.is_some_and(|due| today > due),
        timeliness: row.timeliness.clone(),
    }
}

/// An attached or issued file.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    /// The required-document slot (`TK-KS`), or `result`.
    pub document_id: String,
    pub file_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// 0 not digitised, 1 digitised, 2 reused, 3 reused from another dossier's result.
    pub digitization: i32,
    pub created_at: String,
}

pub fn attachment_view(a: d::AttachmentRow, f: d::FileRow) -> AttachmentView {
    AttachmentView {
        id: a.id,
        document_id: a.document_id,
        file_id: f.id,
        filename: f.filename,
        content_type: f.content_type,
        size: f.size,
        sha256: f.sha256,
        digitization: f.digitization,
        created_at: rfc3339(a.created_at),
    }
}

/// A short reference to the procedure or agency of a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ref {
    pub id: String,
    pub code: String,
    pub name: String,
}

/// A dossier as its applicant and the handling agency see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView {
    pub id: String,
    /// Assigned on submission: `<agency code>-<yyMMdd>-<NNNN>`.
    pub code: Option<String>,
    pub status: DossierStatus,
    /// The national portal's status code (1–10); none for a draft.
    pub national_status_code: Option<i32>,
    pub procedure: Ref,
    pub procedure_version: i32,
    pub agency: Ref,
    /// `online`, `counter` or `post`.
    pub channel: String,
    /// The applicant block, prefilled from the profile.
    #[schema(value_type = Object)]
    pub applicant: Box<RawValue>,
    #[schema(value_type = Object)]
    pub form_data: Box<RawValue>,
    #[schema(value_type = Object)]
    pub delivery: Box<RawValue>,
    pub attachments: Vec<AttachmentView>,
    pub results: Vec<AttachmentView>,
    /// Fees owed, paid and outstanding.
    pub fees: FeeState,
    /// Mandatory documents still missing.
    pub missing_documents: Vec<String>,
    #[serde(flatten)]
    pub deadline: Deadline,
    pub submitted_at: Option<String>,
    pub received_at: Option<String>,
    pub finished_at: Option<String>,
    /// What the caller may do next.
    pub allowed_actions: Vec<DossierAction>,
    pub version: i32,
    pub created_at: String,
    pub updated_at: String,
}

pub fn view(
    conn: &mut DbConn,
    row: DossierRow,
    access: Access,
    cal: &Calendar,
    today: NaiveDate,
) -> Result<DossierView, ApiError> {
    Ok(views(conn, vec![row], access, cal, today)?.remove(0))
}

/// The view of a dossier that has neither files nor payments yet (a new draft), without queries.
pub fn bare_view(row: DossierRow, access: Access, cal: &Calendar, today: NaiveDate) -> Result<DossierView, ApiError> {
    let snap = snapshot(&row)?;
    build_view(row, snap, Vec::new(), &[], access, cal, today)
}

/// Views of several dossiers with two queries in all, whatever their number.
pub fn views(
    conn: &mut DbConn,
    rows: Vec<DossierRow>,
    access: Access,
    cal: &Calendar,
    today: NaiveDate,
) -> Result<Vec<DossierView>, ApiError> {
    views_of(conn, rows.into_iter().map(|row| (row, access, today)).collect(), cal)
}

/// Views of dossiers each seen with its own access on its own day (the pages of a batch), with
/// two queries in all: the attachments of them all, and the payments of those that charge.
pub fn views_of(
    conn: &mut DbConn,
    rows: Vec<(DossierRow, Access, NaiveDate)>,
    cal: &Calendar,
) -> Result<Vec<DossierView>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|(r, ..)| r.id.clone()).collect();
    let snapshots = rows.iter().map(|(r, ..)| snapshot(r)).collect::<Result<Vec<_>, _>>()?;
    let mut files: HashMap<String, Vec<(d::AttachmentRow, d::FileRow)>> = HashMap::new();
    for (a, f) in d::attachments_of(conn, &ids)? {
        files.entry(a.dossier_id.clone()).or_default().push((a, f));
    }
    let mut payments: HashMap<String, Vec<dvc_persistence::payments::PaymentRow>> = HashMap::new();
    if snapshots.iter().any(charges) {
        for p in dvc_persistence::payments::of_dossiers(conn, &ids)? {
            payments.entry(p.dossier_id.clone()).or_default().push(p);
        }
    }
    rows.into_iter()
        .zip(snapshots)
        .map(|((row, access, today), snap)| {
            // A dossier may be on several pages of one batch.
            let mine = files.get(&row.id).cloned().unwrap_or_default();
            let paid = payments.get(&row.id).cloned().unwrap_or_default();
            build_view(row, snap, mine, &paid, access, cal, today)
        })
        .collect()
}

/// Payments exist only for dossiers whose procedure charges something.
fn charges(snap: &Snapshot) -> bool {
    let t = dvc_domain::payment::totals(&snap.fees);
    t.before + t.after > 0
}

#[allow(clippy::too_many_arguments)]
fn build_view(
    row: DossierRow,
    snap: Snapshot,
    files: Vec<(d::AttachmentRow, d::FileRow)>,
    payments: &[dvc_persistence::payments::PaymentRow],
    access: Access,
    cal: &Calendar,
    today: NaiveDate,
) -> Result<DossierView, ApiError> {
    let status = status(&row)?;
    let (results, attachments): (Vec<_>, Vec<_>) = files.into_iter().partition(|(a, _)| a.kind == "result");
    let attachments: Vec<AttachmentView> = attachments.into_iter().map(|(a, f)| attachment_view(a, f)).collect();
    let results = results.into_iter().map(|(a, f)| attachment_view(a, f)).collect();
    let missing = missing_documents(&snap, &attachments);
    let fees = fees_against(&snap, payments);
    let actor = if access == Access::Owner { Actor::Applicant } else { Actor::Agency };
    let mut actions = allowed_actions(status, actor);
    if actor == Actor::Applicant && status == DossierStatus::SupplementRequested {
        actions.retain(|a| *a != DossierAction::Resubmit);
        actions.insert(0, DossierAction::Resubmit);
    }
    // Stored JSON goes out as it is: checked, never rebuilt.
    let json = |s: String| RawValue::from_string(s).unwrap_or_else(|_| null());
    Ok(DossierView {
        deadline: deadline(&row, cal, today),
        id: row.id,
        code: row.code,
        status,
        national_status_code: national_code(status, &fees),
        fees,
        procedure: Ref { id: row.procedure_id, code: snap.code, name: snap.name },
        procedure_version: row.procedure_version,
        agency: Ref { id: row.agency_id, code: snap.agency_code, name: snap.agency_name },
        channel: row.channel,
        applicant: json(row.applicant),
        form_data: json(row.form_data),
        delivery: json(row.delivery),
        attachments,
        results,
        missing_documents: missing,
        submitted_at: row.submitted_at.map(rfc3339),
        received_at: row.received_at.map(rfc3339),
        finished_at: row.finished_at.map(rfc3339),
        allowed_actions: actions,
        version: row.version,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    })
}

/// Mandatory documents with no attachment yet.
pub fn missing_documents(snap: &Snapshot, attachments: &[AttachmentView]) -> Vec<String> {
    snap.required_documents
        .iter()
        .filter(|doc| doc.mandatory && !attachments.iter().any(|a| a.document_id == doc.id))
        .map(|doc| doc.id.clone())
        .collect()
}

/// Validates form data against the procedure's JSON Schema; errors point into the form.
fn null() -> Box<RawValue> {
    RawValue::from_string("null".into()).expect("null is JSON")
}

pub fn check_form(schema: Option<&RawValue>, data: &serde_json::Value) -> Result<(), ApiError> {
    if !data.is_object() {
        return Err(ApiError::field(FieldError::new(
            "form_data",
            "invalid_type",
            "Biểu mẫu phải là một đối tượng JSON",
            "The form must be a JSON object",
        )));
    }
    let Some(schema) = schema else {
        return Ok(());
    };
    let schema: serde_json::Value = serde_json::from_str(schema.get()).map_err(|_| ApiError::internal())?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| {
        tracing::error!(error = %e, "a procedure's form schema does not compile");
        ApiError::internal()
    })?;
    let errors: Vec<FieldError> = validator
        .iter_errors(data)
        .take(50)
        .map(|e| {
            let pointer = e.instance_path.to_string();
            let mut field = String::from("form_data");
            for part in pointer.split('/').filter(|p| !p.is_empty()) {
                field.push('.');
                field.push_str(part);
            }
            let msg = e.to_string();
            FieldError::new(
                field,
                "invalid_form_value",
                format!("Giá trị không hợp lệ: {msg}"),
                format!("Invalid value: {msg}"),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}
