//! A dossier's history, and public tracking by code.

use std::collections::HashMap;

use actix_web::{get, web};
use dvc_domain::workflow::DossierStatus;
use dvc_domain::FieldError;
use dvc_persistence::dossiers as d;
use dvc_persistence::DbConn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::catalogue::rfc3339;
use crate::dossier as svc;
use crate::error::{ApiError, ApiResult, Problem};
use crate::routes::path_key;
use crate::state::AppState;

/// One step of a dossier's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// The role that acted: `citizen`, `business`, `organization`, `officer`, `admin`, `integration`.
    pub actor: String,
    pub note: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The timeline of a dossier.
#[utoipa::path(tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "Oldest first", body = Vec<HistoryEntry>),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's dossiers are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<HistoryEntry>>> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let events = state
        .db(move |conn| {
            svc::load(conn, &me, &id)?;
            Ok(d::events(conn, &id)?)
        })
        .await?;
    Ok(web::Json(
        events
            .into_iter()
            .map(|e| HistoryEntry {
                at: rfc3339(e.at),
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                actor: e.actor_role,
                note: e.note,
                data: serde_json::from_str(&e.data).unwrap_or_default(),
            })
            .collect(),
    ))
}

/// The public tracking query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// The dossier code printed on the receipt.
    #[param(example = "H26.00070-261120-0001", min_length = 1, max_length = 100)]
    pub code: String,
}

/// One step of the public timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStep {
    pub at: String,
    pub action: String,
    pub to_status: String,
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
    pub due_date: Option<chrono::NaiveDate>,
    pub overdue: bool,
    pub timeliness: Option<String>,
    pub timeline: Vec<PublicStep>,
}

/// A code and a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ref2 {
    pub code: String,
    pub name: String,
}

/// Track a dossier by its code, without signing in.
#[utoipa::path(tag = "dossiers", params(LookupQuery), responses(
    (status = 200, description = "The dossier's progress", body = PublicDossier),
    (status = 400, description = "No code given", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No dossier with this code", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/lookup")]
pub async fn lookup(state: web::Data<AppState>, query: web::Query<LookupQuery>) -> ApiResult<web::Json<PublicDossier>> {
    let code = query.into_inner().code.trim().to_string();
    if code.is_empty() {
        return Err(ApiError::field(FieldError::required("code")));
    }
    if !dvc_domain::text::is_lookup_key(&code) {
        return Err(svc::not_found());
    }
    // Public tracking tolerates the replicas' bounded lag; lookups that arrive together are read
    // together, with one statement for all they show.
    let rows = state.batches.tracking.run(&state, code).await?;
    if rows.is_empty() {
        return Err(svc::not_found());
    }
    let first = &rows[0];
    let snap: svc::Snapshot = serde_json::from_str(&first.procedure_snapshot).map_err(|_| ApiError::internal())?;
    let fees = svc::fees_paid(&snap, first.paid_before, first.paid_after);
    let status = DossierStatus::parse(&first.status).ok_or_else(ApiError::internal)?;
    let today = state.clock.today();
    // Overdue as in the dossier's own deadline view: its clock runs and the due date has passed.
    let running = status.clock_running() && first.clock_started_on.is_some();
    Ok(web::Json(PublicDossier {
        code: first.code.clone(),
        status,
        national_status_code: svc::national_code(status, &fees),
        procedure: Ref2 { code: snap.code, name: snap.name },
        agency: Ref2 { code: snap.agency_code, name: snap.agency_name },
        submitted_at: first.submitted_at.map(rfc3339),
        received_at: first.received_at.map(rfc3339),
        due_date: first.due_date,
        overdue: running && first.due_date.is_some_and(|due| today > due),
        timeliness: first.timeliness.clone(),
        timeline: rows
            .into_iter()
            .filter_map(|r| match (r.step_at, r.step_action, r.step_to_status) {
                (Some(at), Some(action), Some(to_status)) => Some(PublicStep { at: rfc3339(at), action, to_status }),
                _ => None,
            })
            .collect(),
    }))
}

/// The tracking rows of each code (none for a code no dossier has), for a batch of lookups.
pub fn track(conn: &mut DbConn, codes: &[String]) -> Result<Vec<Result<Vec<d::TrackingRow>, ApiError>>, ApiError> {
    let mut found: HashMap<String, Vec<d::TrackingRow>> = HashMap::new();
    for row in d::tracking(conn, codes)? {
        found.entry(row.code.clone()).or_default().push(row);
    }
    Ok(codes.iter().map(|code| Ok(found.get(code).cloned().unwrap_or_default())).collect())
}
