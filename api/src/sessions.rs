//! Every signed-in person's request is checked against the database: the account still exists,
//! is not disabled and still has the token's role, and the token's session is still open (not
//! signed out, not ended by a password reset, by signing out everywhere or by a reused refresh
//! token). Checks that arrive together are served by one batch (one statement). A list page,
//! itself served by a batch on the primary, carries its check into that batch instead (see
//! [`gate`]): the check is the batch's first statement, in the same round, and nothing is read for
//! a request whose session has ended.

use std::sync::Arc;

use dvc_domain::auth::Role;
use dvc_persistence::DbConn;

use crate::auth::Claims;
use crate::batch::{Batcher, Gate, Target};
use crate::error::{ApiError, Msg};

/// One request's question: is this account's session, with this role, still good?
#[derive(Debug, Clone)]
pub struct Ask {
    account: String,
    session: String,
    role: Role,
}

impl Ask {
    /// The question a person's token asks; a token without a session is refused at once.
    pub fn of(claims: &Claims) -> Result<Self, ApiError> {
        let session = claims.sid.clone().ok_or_else(ended)?;
        Ok(Self { account: claims.sub.clone(), session, role: claims.role })
    }
}

pub type Sessions = Batcher<Ask, bool>;

/// Whether each session still holds, in one statement.
fn standing(conn: &mut DbConn, asks: &[&Ask]) -> Result<Vec<bool>, ApiError> {
    let mut sessions: Vec<String> = asks.iter().map(|a| a.session.clone()).collect();
    sessions.sort();
    sessions.dedup();
    let standing = dvc_persistence::registrations::session_standing(conn, &sessions)?;
    Ok(asks
        .iter()
        .map(|a| {
            standing.iter().any(|s| {
                s.family_id == a.session
                    && s.account_id == a.account
                    && !s.closed
                    && !s.disabled
                    && s.role == a.role.as_str()
            })
        })
        .collect())
}

fn work(conn: &mut DbConn, asks: &[Ask]) -> Result<Vec<Result<bool, ApiError>>, ApiError> {
    let asks: Vec<&Ask> = asks.iter().collect();
    Ok(standing(conn, &asks)?.into_iter().map(Ok).collect())
}

pub fn batcher(lanes: usize) -> Arc<Sessions> {
    Batcher::new("sessions", lanes, 64, Target::Primary, Arc::new(work))
}

/// The check of the sessions that a batch's inputs carry, made as the batch's first statement.
pub fn gate<I: 'static>(ask: fn(&I) -> &Ask) -> Arc<Gate<I>> {
    Arc::new(move |conn: &mut DbConn, inputs: &[I]| {
        let asks: Vec<&Ask> = inputs.iter().map(ask).collect();
        Ok(standing(conn, &asks)?.into_iter().map(|holds| if holds { Ok(()) } else { Err(ended()) }).collect())
    })
}

pub fn ended() -> ApiError {
    ApiError::unauthorized(Msg::new(
        "Phiên đăng nhập đã kết thúc; hãy đăng nhập lại",
        "The session has ended; sign in again",
    ))
}
