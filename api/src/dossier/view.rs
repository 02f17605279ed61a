//! How a dossier is shown to its applicant and the handling agency: its content, files, fees,
//! deadline and the moves the caller may make next.

use std::collections::HashMap;

use chrono::NaiveDate;
use dvc_domain::calendar::Calendar;
use dvc_domain::catalogue::{FeeItem, FeeMode};
use dvc_domain::dossier::{national_code, Dossier, FeeState, ProcedureSnapshot};
use dvc_domain::payment::{FeePhase, PaymentStatus};
use dvc_domain::workflow::{allowed_actions, DossierAction, DossierStatus, Side};
use dvc_persistence::files::{self as f, AttachmentRow, FileRow};
use dvc_persistence::payments::PaymentRow;
use dvc_persistence::DbConn;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::Access;
use crate::catalogue::rfc3339;
use crate::error::ApiError;

/// The deadline view of a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deadline {
    /// The due date that judges the agency's timeliness.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    /// The new appointment given with an apology (the due date still judges the agency).
    #[schema(value_type = Option<String>, format = Date)]
    pub rescheduled_due_date: Option<NaiveDate>,
    pub working_days_allowed: i32,
    pub working_days_used: i64,
    pub overdue: bool,
    /// `early`, `on_time` or `late`, once the agency finished.
    pub timeliness: Option<String>,
}

pub fn deadline(d: &Dossier, cal: &Calendar, today: NaiveDate) -> Deadline {
    let running = d.status.clock_running();
    Deadline {
        due_date: d.clock.due_date,
        rescheduled_due_date: d.clock.rescheduled_due_date,
        working_days_allowed: d.clock.working_days_allowed,
        working_days_used: d.clock.used(today, running, cal),
        overdue: d.clock.overdue(today, running),
        timeliness: d.timeliness.map(|t| t.as_str().to_string()),
    }
}

/// An attached or issued file.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

pub fn attachment_view(a: AttachmentRow, f: FileRow) -> AttachmentView {
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
    pub delivery: dvc_domain::dossier::Delivery,
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
    /// For an interconnected procedure (liên thông): every step, each a dossier of its own at the
    /// agency that settles it. The dossier's status and due date are the whole's.
    pub bundle: Option<BundleView>,
    /// For a step of an interconnected procedure: the dossier the applicant filed, and the place.
    pub step_of: Option<StepOfView>,
}

/// The steps of an interconnected dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleView {
    pub steps: Vec<BundleStepView>,
}

/// One step of an interconnected dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleStepView {
    /// From 1.
    pub position: u32,
    pub procedure_code: String,
    /// The steps whose results it needs.
    pub needs: Vec<u32>,
    /// Working days the step is given.
    pub days: i32,
    /// Null until the step starts (when the steps it needs are completed).
    pub dossier_id: Option<String>,
    pub code: Option<String>,
    pub agency: Option<Ref>,
    /// Null until the step starts.
    pub status: Option<DossierStatus>,
    pub national_status_code: Option<i32>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    /// The result documents the step's agency issued.
    pub result: Vec<AttachmentView>,
}

/// Where a step's dossier belongs.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepOfView {
    pub parent_id: String,
    pub position: u32,
}

/// The steps of the interconnected dossiers among `parents`, by parent id.
fn bundle_views(conn: &mut DbConn, parents: &[&Dossier]) -> Result<HashMap<String, BundleView>, ApiError> {
    let mut out = HashMap::new();
    for parent in parents {
        let Some(b) = parent.procedure.bundle.as_ref() else { continue };
        let (_, started) = super::bundles::steps_of(conn, parent, b)?;
        let ids: Vec<String> = started.iter().map(|s| s.id.0.clone()).collect();
        let mut results: HashMap<String, Vec<AttachmentView>> = HashMap::new();
        for (a, file) in f::attachments_of(conn, &ids)? {
            if a.kind == f::RESULT {
                results.entry(a.dossier_id.clone()).or_default().push(attachment_view(a, file));
            }
        }
        let steps = super::bundles::each_step(parent, b, &started)
            .map(|(position, step, own)| BundleStepView {
                position,
                procedure_code: step.procedure_code.clone(),
                needs: step.needs.clone(),
                days: step.days,
                dossier_id: own.map(|s| s.id.0.clone()),
                code: own.and_then(|s| s.code.clone()),
                agency: own.map(|s| Ref {
                    id: s.agency_id.0.clone(),
                    code: s.procedure.agency_code.clone(),
                    name: s.procedure.agency_name.clone(),
                }),
                status: own.map(|s| s.status),
                national_status_code: own.and_then(|s| s.status.national_code()),
                due_date: own.and_then(|s| s.clock.rescheduled_due_date.or(s.clock.due_date)),
                result: own.and_then(|s| results.remove(s.id.as_str())).unwrap_or_default(),
            })
            .collect();
        out.insert(parent.id.0.clone(), BundleView { steps });
    }
    Ok(out)
}

/// What a dossier owes and has paid, from its fees and its payments.
pub fn fees_against(fees: &[FeeItem], payments: &[PaymentRow]) -> FeeState {
    let (mut before, mut after) = (0, 0);
    for p in payments.iter().filter(|p| p.status.0 == PaymentStatus::Paid) {
        match p.phase.0 {
            FeePhase::Before => before += p.amount_vnd,
            FeePhase::After => after += p.amount_vnd,
        }
    }
    FeeState::of(fees, before, after)
}

/// Payments exist only for dossiers whose procedure charges something (in any channel).
fn charges(procedure: &ProcedureSnapshot) -> bool {
    procedure.fees.iter().any(|f| matches!(f.mode, FeeMode::Before | FeeMode::After) && f.owed() > 0)
}

/// The fees of one dossier, reading its payments only when its procedure charges.
pub fn fee_state(conn: &mut DbConn, d: &Dossier) -> Result<FeeState, ApiError> {
    let fees = d.fee_items();
    if !charges(&d.procedure) {
        return Ok(fees_against(&fees, &[]));
    }
    Ok(fees_against(&fees, &dvc_persistence::payments::of_dossier(conn, d.id.as_str())?))
}

pub fn view(
    conn: &mut DbConn,
    d: Dossier,
    access: Access,
    cal: &Calendar,
    today: NaiveDate,
) -> Result<DossierView, ApiError> {
    views_of(conn, vec![(d, access, today)], cal)?.pop().ok_or_else(ApiError::internal)
}

/// The view of a dossier that has neither files nor payments yet (a new draft), without queries.
pub fn bare_view(d: Dossier, access: Access, cal: &Calendar, today: NaiveDate) -> DossierView {
    build_view(d, Vec::new(), &[], access, cal, today)
}

/// Views of dossiers each seen with its own access on its own day (the pages of a batch), with
/// two queries in all: the attachments of them all, and the payments of those that charge.
pub fn views_of(
    conn: &mut DbConn,
    rows: Vec<(Dossier, Access, NaiveDate)>,
    cal: &Calendar,
) -> Result<Vec<DossierView>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|(d, ..)| d.id.0.clone()).collect();
    let mut files: HashMap<String, Vec<(AttachmentRow, FileRow)>> = HashMap::new();
    for (a, f) in f::attachments_of(conn, &ids)? {
        files.entry(a.dossier_id.clone()).or_default().push((a, f));
    }
    // Payments only of the dossiers whose procedure charges, as `fee_state` reads them: the
    // others' fees are settled without them.
    let charged: Vec<String> =
        rows.iter().filter(|(d, ..)| charges(&d.procedure)).map(|(d, ..)| d.id.0.clone()).collect();
    let mut payments: HashMap<String, Vec<PaymentRow>> = HashMap::new();
    if !charged.is_empty() {
        for p in dvc_persistence::payments::of_dossiers(conn, &charged)? {
            payments.entry(p.dossier_id.clone()).or_default().push(p);
        }
    }
    let parents: Vec<&Dossier> = rows.iter().map(|(d, ..)| d).filter(|d| d.procedure.bundle.is_some()).collect();
    let mut bundles = if parents.is_empty() { HashMap::new() } else { bundle_views(conn, &parents)? };
    Ok(rows
        .into_iter()
        .map(|(d, access, today)| {
            // A dossier may be on several pages of one batch.
            let mine = files.get(d.id.as_str()).cloned().unwrap_or_default();
            let paid = payments.get(d.id.as_str()).cloned().unwrap_or_default();
            let bundle = bundles.remove(d.id.as_str());
            let mut view = build_view(d, mine, &paid, access, cal, today);
            view.bundle = bundle;
            view
        })
        .collect())
}

fn build_view(
    d: Dossier,
    files: Vec<(AttachmentRow, FileRow)>,
    payments: &[PaymentRow],
    access: Access,
    cal: &Calendar,
    today: NaiveDate,
) -> DossierView {
    let (results, attachments): (Vec<_>, Vec<_>) = files.into_iter().partition(|(a, _)| a.kind == f::RESULT);
    let attachments: Vec<AttachmentView> = attachments.into_iter().map(|(a, f)| attachment_view(a, f)).collect();
    let results = results.into_iter().map(|(a, f)| attachment_view(a, f)).collect();
    let missing = d.procedure.missing_documents(attachments.iter().map(|a| a.document_id.as_str()));
    let fees = fees_against(&d.fee_items(), payments);
    let side = if access == Access::Owner { Side::Applicant } else { Side::Agency };
    let mut actions = allowed_actions(d.status, side);
    if side == Side::Applicant && d.status == DossierStatus::SupplementRequested {
        actions.retain(|a| *a != DossierAction::Resubmit);
        actions.insert(0, DossierAction::Resubmit);
    }
    if side == Side::Agency && d.procedure.bundle.is_some() {
        actions.clear(); // it moves by its steps
    }
    let step_of =
        d.procedure.step_of.as_ref().map(|s| StepOfView { parent_id: s.parent_id.0.clone(), position: s.position });
    DossierView {
        deadline: deadline(&d, cal, today),
        national_status_code: national_code(d.status, &fees),
        status: d.status,
        fees,
        procedure: Ref { id: d.procedure_id.0, code: d.procedure.code, name: d.procedure.name },
        procedure_version: d.procedure_version,
        agency: Ref { id: d.agency_id.0, code: d.procedure.agency_code, name: d.procedure.agency_name },
        channel: d.channel.as_str().to_string(),
        applicant: d.applicant,
        form_data: d.form_data,
        delivery: d.delivery,
        attachments,
        results,
        missing_documents: missing,
        submitted_at: d.submitted_at.map(rfc3339),
        received_at: d.received_at.map(rfc3339),
        finished_at: d.finished_at.map(rfc3339),
        allowed_actions: actions,
        version: d.version,
        id: d.id.0,
        code: d.code,
        created_at: rfc3339(d.created_at),
        updated_at: rfc3339(d.updated_at),
        bundle: None,
        step_of,
    }
}

/// What the form's schema says of a form: one error per offending value (an error of the whole
/// request only when the procedure's schema itself is broken).
pub fn form_errors(
    schema: Option<&RawValue>,
    data: &serde_json::Value,
) -> Result<Vec<dvc_domain::FieldError>, ApiError> {
    use dvc_domain::FieldError;
    if !data.is_object() {
        return Ok(vec![FieldError::new(
            "form_data",
            "invalid_type",
            "Biểu mẫu phải là một đối tượng JSON",
            "The form must be a JSON object",
        )]);
    }
    let Some(schema) = schema else {
        return Ok(Vec::new());
    };
    let schema: serde_json::Value = serde_json::from_str(schema.get()).map_err(|_| ApiError::internal())?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| {
        tracing::error!(error = %e, "a procedure's form schema does not compile");
        ApiError::internal()
    })?;
    Ok(validator
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
        .collect())
}

/// Validates form data against the procedure's JSON Schema; errors point into the form.
pub fn check_form(schema: Option<&RawValue>, data: &serde_json::Value) -> Result<(), ApiError> {
    let errors = form_errors(schema, data)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}
