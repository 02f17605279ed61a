//! Public tracking by code: what anyone holding the code may see of a dossier, read in batches.

use std::collections::HashMap;

use chrono::NaiveDate;
use dvc_domain::dossier::{national_code, FeeState, ProcedureSnapshot};
use dvc_domain::workflow::DossierStatus;
use dvc_persistence::dossiers::{self as d, TrackingRow};
use dvc_persistence::DbConn;
use serde::Serialize;
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::error::ApiError;

/// One step of the public timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStep {
    pub at: String,
    pub action: String,
    pub to_status: String,
}

/// A code and a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ref2 {
    pub code: String,
    pub name: String,
}

/// What anyone with the code may see: no name, ID number, phone, e-mail or form content.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDossier {
    pub code: String,
    pub status: DossierStatus,
    pub national_status_code: Option<i32>,
    pub procedure: Ref2,
    pub agency: Ref2,
    pub submitted_at: Option<String>,
    pub received_at: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    /// The new appointment given with an apology, if one was.
    #[schema(value_type = Option<String>, format = Date)]
    pub rescheduled_due_date: Option<NaiveDate>,
    pub overdue: bool,
    pub timeliness: Option<String>,
    pub timeline: Vec<PublicStep>,
    /// For an interconnected procedure (liên thông): where each step stands.
    pub steps: Option<Vec<PublicBundleStep>>,
    #[serde(skip)]
    #[schema(ignore)]
    pub is_bundle: bool,
}

/// Where one step of an interconnected dossier stands, without personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicBundleStep {
    pub position: u32,
    pub procedure_code: String,
    /// Null until the step starts.
    pub code: Option<String>,
    pub agency: Option<Ref2>,
    pub status: Option<DossierStatus>,
    pub national_status_code: Option<i32>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
}

/// The steps of the interconnected dossier with this code.
pub fn bundle_steps(conn: &mut DbConn, code: &str) -> Result<Vec<PublicBundleStep>, ApiError> {
    let Some(parent) = d::find_by_code(conn, code)? else { return Ok(Vec::new()) };
    let Some(b) = parent.procedure.bundle.as_ref() else { return Ok(Vec::new()) };
    let (_, started) = super::bundles::steps_of(conn, &parent, b)?;
    Ok(super::bundles::each_step(&parent, b, &started)
        .map(|(position, step, own)| PublicBundleStep {
            position,
            procedure_code: step.procedure_code.clone(),
            code: own.and_then(|s| s.code.clone()),
            agency: own.map(|s| Ref2 { code: s.procedure.agency_code.clone(), name: s.procedure.agency_name.clone() }),
            status: own.map(|s| s.status),
            national_status_code: own.and_then(|s| s.status.national_code()),
            due_date: own.and_then(|s| s.clock.rescheduled_due_date.or(s.clock.due_date)),
        })
        .collect())
}

/// The public view of one dossier from its tracking rows (none when no dossier has the code).
pub fn public_view(rows: Vec<TrackingRow>, today: NaiveDate) -> Result<Option<PublicDossier>, ApiError> {
    let Some(first) = rows.first() else { return Ok(None) };
    let snap: ProcedureSnapshot = serde_json::from_str(&first.procedure_snapshot).map_err(|e| {
        tracing::error!(error = %e, "a stored procedure snapshot does not parse");
        ApiError::internal()
    })?;
    let snap = &snap;
    let fees = FeeState::of(&snap.fees, first.paid_before, first.paid_after);
    let status = first.status.0;
    // Overdue as in the dossier's own deadline view: its clock runs and the due date has passed.
    let running = status.clock_running() && first.clock_started_on.is_some();
    Ok(Some(PublicDossier {
        code: first.code.clone(),
        status,
        national_status_code: national_code(status, &fees),
        procedure: Ref2 { code: snap.code.clone(), name: snap.name.clone() },
        agency: Ref2 { code: snap.agency_code.clone(), name: snap.agency_name.clone() },
        submitted_at: first.submitted_at.map(rfc3339),
        received_at: first.received_at.map(rfc3339),
        due_date: first.due_date,
        rescheduled_due_date: first.rescheduled_due_date,
        overdue: running && first.due_date.is_some_and(|due| today > due),
        timeliness: first.timeliness.map(|t| t.0.as_str().to_string()),
        timeline: rows
            .into_iter()
            .filter_map(|r| match (r.step_at, r.step_action, r.step_to_status) {
                (Some(at), Some(action), Some(to)) => Some(PublicStep {
                    at: rfc3339(at),
                    action: action.0.as_str().to_string(),
                    to_status: to.0.as_str().to_string(),
                }),
                _ => None,
            })
            .collect(),
        steps: None,
        is_bundle: snap.bundle.is_some(),
    }))
}

/// The tracking rows of each code (none for a code no dossier has), for a batch of lookups.
pub fn track(conn: &mut DbConn, codes: &[String]) -> Result<Vec<Result<Vec<TrackingRow>, ApiError>>, ApiError> {
    let mut found: HashMap<String, Vec<TrackingRow>> = HashMap::new();
    for row in d::tracking(conn, codes)? {
        found.entry(row.code.clone()).or_default().push(row);
    }
    Ok(codes.iter().map(|code| Ok(found.get(code).cloned().unwrap_or_default())).collect())
}
