//! Dossiers received at a counter or by post, registered and kept up to date by the one-stop
//! system of their agency: the same decision shape as every move (`register` decides, this saves).

use dvc_domain::calendar::Calendar;
use dvc_domain::dossier::{register, Actor, Dossier, DossierId, Registration};
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::{new_id, DbConn};

use super::moves::{changed_meanwhile, emit};
use crate::clock::Moment;
use crate::error::ApiError;

/// Registers (`existing` is none) or updates a counter or post dossier in the caller's
/// transaction; whether it was new, and the dossier as it is now.
pub fn save_registration(
    conn: &mut DbConn,
    existing: Option<&Dossier>,
    reg: &Registration,
    actor: &Actor,
    cal: &Calendar,
    at: Moment,
) -> Result<(bool, Dossier), ApiError> {
    let decision = register(existing, reg, DossierId(new_id()), actor, cal, at)?;
    let row = DossierRow::from(&decision.dossier);
    if existing.is_none() {
        d::insert_dossier(conn, &row)?;
    } else if !d::update_dossier(conn, &row, decision.expected_version)? {
        return Err(changed_meanwhile());
    }
    d::insert_event(conn, &EventRow::of(new_id(), decision.dossier.id.as_str(), at.now, &decision.event))?;
    emit(conn, &[&decision])?;
    Ok((existing.is_none(), decision.dossier))
}
