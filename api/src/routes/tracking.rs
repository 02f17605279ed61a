//! A dossier's history, and public tracking by code.

use actix_web::{get, web};
use dvc_domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::rfc3339;
use crate::dossier::{self as svc, tracking::PublicDossier};
use crate::error::{ApiError, ApiResult, Problem};
use crate::guards::Principal;
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
#[utoipa::path(operation_id = "getDossierHistory", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
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
    let events = state.dossiers.history(me.caller(), id).await?;
    Ok(web::Json(
        events
            .into_iter()
            .map(|e| HistoryEntry {
                at: rfc3339(e.at),
                action: e.action.0.as_str().to_string(),
                from_status: e.from_status.map(|s| s.0.as_str().to_string()),
                to_status: e.to_status.0.as_str().to_string(),
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

/// Track a dossier by its code, without signing in.
#[utoipa::path(operation_id = "trackDossier", tag = "dossiers", params(LookupQuery), responses(
    (status = 200, description = "The dossier's progress", body = PublicDossier),
    (status = 400, description = "No code given", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No dossier with this code", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many lookups from this address", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/lookup")]
pub async fn lookup(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    query: web::Query<LookupQuery>,
) -> ApiResult<web::Json<PublicDossier>> {
    state.lookups.check(&req, state.config.trust_forwarded)?;
    let code = query.into_inner().code.trim().to_string();
    if code.is_empty() {
        return Err(ApiError::field(FieldError::required("code")));
    }
    if !dvc_domain::text::is_lookup_key(&code) {
        return Err(svc::not_found());
    }
    // Public tracking tolerates the replicas' bounded lag; lookups that arrive together are read
    // together, with one statement for all they show.
    state.dossiers.lookup(code, state.clock.today()).await?.map(web::Json).ok_or_else(svc::not_found)
}
