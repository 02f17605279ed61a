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
