//! Sign-in through OpenID Connect providers: the sign-ins waiting for their provider, and which
//! account a provider's subject is.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{federated_identities, oidc_states};
use crate::DbConn;

/// How long a started sign-in may wait for the provider.
pub const STATE_TTL_MINUTES: i64 = 10;

/// A sign-in sent to its provider: what the callback needs to finish it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_states)]
pub struct OidcStateRow {
    pub state: String,
    pub provider: String,
    pub nonce: String,
    pub code_verifier: String,
    pub redirect_uri: String,
    pub created_at: NaiveDateTime,
}

/// Keeps a started sign-in, and forgets those that waited too long.
pub fn insert_state(conn: &mut DbConn, row: &OidcStateRow) -> QueryResult<()> {
    let stale = row.created_at - Duration::minutes(STATE_TTL_MINUTES);
    diesel::delete(oidc_states::table.filter(oidc_states::created_at.lt(stale))).execute(conn)?;
    diesel::insert_into(oidc_states::table).values(row).execute(conn).map(|_| ())
}

/// Takes a started sign-in of `provider` out, once: a second call with the same state, on any
/// server, finds nothing; so does one after the sign-in expired. Run in a write transaction.
pub fn take_state(
    conn: &mut DbConn,
    provider: &str,
    state: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OidcStateRow>> {
    let found = oidc_states::table.find(state).select(OidcStateRow::as_select()).first(conn).optional()?;
    let Some(row) = found else { return Ok(None) };
    let taken = diesel::delete(oidc_states::table.find(state)).execute(conn)?;
    let fresh = row.created_at >= now - Duration::minutes(STATE_TTL_MINUTES);
    Ok((taken == 1 && fresh && row.provider == provider).then_some(row))
}

/// The account a provider's subject signed in as before.
pub fn linked_account(conn: &mut DbConn, provider: &str, subject: &str) -> QueryResult<Option<String>> {
    federated_identities::table
        .find((provider, subject))
        .select(federated_identities::account_id)
        .first(conn)
        .optional()
}

/// Records that the provider's subject is the account, and when and at which level it signed in.
pub fn link(
    conn: &mut DbConn,
    provider: &str,
    subject: &str,
    account_id: &str,
    level: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let key = federated_identities::table.find((provider, subject));
    let seen = (federated_identities::assurance_level.eq(level), federated_identities::last_sign_in_at.eq(now));
    if diesel::update(key).set(seen).execute(conn)? == 1 {
        return Ok(());
    }
    diesel::insert_into(federated_identities::table)
        .values((
            federated_identities::provider.eq(provider),
            federated_identities::subject.eq(subject),
            federated_identities::account_id.eq(account_id),
            federated_identities::assurance_level.eq(level),
            federated_identities::created_at.eq(now),
            federated_identities::last_sign_in_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
