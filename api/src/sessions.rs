//! Every signed-in person's request is checked against the database: the account still exists,
//! is not disabled and still has the token's role, and the token's session is still open (not
//! signed out, not ended by a password reset, by signing out everywhere or by a reused refresh
//! token). Checks that arrive together are served by one batch (one statement).

use std::sync::Arc;

use dvc_domain::auth::Role;
use dvc_persistence::DbConn;

use crate::batch::{Batcher, Target};
use crate::error::{ApiError, Msg};
use crate::guards::Principal;
use crate::state::AppState;

/// One request's question: is this account's session, with this role, still good?
pub struct Ask {
    account: String,
    session: String,
    role: Role,
}

pub type Sessions = Batcher<Ask, bool>;

fn work(conn: &mut DbConn, asks: &[Ask]) -> Result<Vec<Result<bool, ApiError>>, ApiError> {
    let mut sessions: Vec<String> = asks.iter().map(|a| a.session.clone()).collect();
    sessions.sort();
    sessions.dedup();
    let standing = dvc_persistence::registrations::session_standing(conn, &sessions)?;
    Ok(asks
        .iter()
        .map(|a| {
            Ok(standing.iter().any(|s| {
                s.family_id == a.session
                    && s.account_id == a.account
                    && !s.closed
                    && !s.disabled
                    && s.role == a.role.as_str()
            }))
        })
        .collect())
}

pub fn batcher(lanes: usize) -> Arc<Sessions> {
    Batcher::new("sessions", lanes, 64, Target::Primary, Arc::new(work))
}

fn ended() -> ApiError {
    ApiError::unauthorized(Msg::new(
        "Phiên đăng nhập đã kết thúc; hãy đăng nhập lại",
        "The session has ended; sign in again",
    ))
}

/// The principal if its session still holds; integration clients are checked by their routes.
pub async fn check(state: &AppState, principal: Principal) -> Result<Principal, ApiError> {
    if principal.role() == Role::Integration {
        return Ok(principal);
    }
    let Some(session) = principal.0.sid.clone() else { return Err(ended()) };
    let ask = Ask { account: principal.id().to_string(), session, role: principal.role() };
    if state.sessions.run(&state.database, ask).await? {
        Ok(principal)
    } else {
        Err(ended())
    }
}
