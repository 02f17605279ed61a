//! The procedure version a dossier takes when it is created, submitted or registered.

use dvc_domain::catalogue::{OnlineMode, ServiceLevel};
use dvc_domain::dossier::ProcedureSnapshot;
use dvc_domain::FieldError;
use dvc_persistence::{catalogue as q, DbConn};

use crate::cache::{CatalogueCache, ProcedureVersion};
use crate::error::{ApiError, Msg};

/// A referenced record that does not exist.
fn unknown(field: &str) -> ApiError {
    ApiError::field(FieldError::new(field, "unknown", "Không tồn tại", "Does not exist"))
}

/// The procedure (by id or code) as it is now, handled by the given agency; `online` also requires
/// it to be offered online (dossiers received at a counter or by post need not be). Returns the
/// snapshot, its version and the procedure's id.
pub fn procedure_snapshot(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    procedure_id: &str,
    agency_id: &str,
    online: bool,
) -> Result<ProcedureVersion, ApiError> {
    // The catalogue counter first: a version cached under the same counter is what the tables
    // hold now (every change to procedures and agencies moves it), and one read replaces two.
    let counter = q::version(conn)?;
    procedure_snapshot_at(conn, cache, counter, procedure_id, agency_id, online)
}

/// Like [`procedure_snapshot`], with the catalogue counter the caller read in its transaction (a
/// batch reads it once for all its dossiers).
pub fn procedure_snapshot_at(
    conn: &mut DbConn,
    cache: &CatalogueCache,
    counter: i64,
    procedure_id: &str,
    agency_id: &str,
    online: bool,
) -> Result<ProcedureVersion, ApiError> {
    let key = format!("{procedure_id}\u{1f}{agency_id}\u{1f}{online}");
    if let Some(hit) = cache.snapshot(&key, counter) {
        return Ok(hit.as_ref().clone());
    }
    // (Named by code or by id, an agency is cached under the name used: both are stable keys.)
    let read = read_snapshot(conn, procedure_id, agency_id, online)?;
    cache.put_snapshot(key, counter, std::sync::Arc::new(read.clone()));
    Ok(read)
}

pub(crate) fn read_snapshot(
    conn: &mut DbConn,
    procedure_id: &str,
    agency_id: &str,
    online: bool,
) -> Result<ProcedureVersion, ApiError> {
    let procedure = match dvc_domain::text::is_lookup_key(procedure_id) {
        true => q::find_procedure(conn, procedure_id)?,
        false => None,
    }
    .ok_or_else(|| unknown("procedure_id"))?;
    let level = ServiceLevel::new(procedure.service_level.into());
    if online && (!level.is_some_and(|l| l.allows_online_submission()) || procedure.online == OnlineMode::None.as_str())
    {
        return Err(ApiError::unprocessable(
            "not_online",
            Msg::new(
                "Thủ tục này chưa được cung cấp trực tuyến (mức độ 3 trở lên)",
                "This procedure is not offered online (level 3 and up)",
            ),
        ));
    }
    let agency = match dvc_domain::text::is_lookup_key(agency_id) {
        true => q::agency_of_procedure(conn, &procedure.id, agency_id)?,
        false => None,
    }
    .ok_or_else(|| unknown("agency_id"))?;
    let receipt_cutoff = procedure
        .receipt_cutoff
        .as_deref()
        .map(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M"))
        .transpose()
        .map_err(|_| ApiError::internal())?;
    let snapshot = ProcedureSnapshot {
        code: procedure.code,
        name: procedure.name,
        processing_days: procedure.processing_days,
        fees: serde_json::from_str(&procedure.fees).map_err(|_| ApiError::internal())?,
        required_documents: serde_json::from_str(&procedure.required_documents).map_err(|_| ApiError::internal())?,
        form_schema: procedure.form_schema.and_then(|s| serde_json::value::RawValue::from_string(s).ok()),
        agency_code: agency.code,
        agency_name: agency.name,
        receipt_cutoff,
        bundle: procedure.bundle.as_deref().map(serde_json::from_str).transpose().map_err(|_| ApiError::internal())?,
        bundle_agencies: Vec::new(),
        step_of: None,
    };
    Ok(ProcedureVersion {
        snapshot,
        version: procedure.version,
        procedure_id: procedure.id,
        agency_id: agency.id,
        min_assurance_level: u8::try_from(procedure.min_assurance_level).unwrap_or(2),
    })
}
