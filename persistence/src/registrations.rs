//! Registrations in progress, password resets and refresh tokens.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use dvc_domain::registration::RegistrationStatus;

use crate::codes::Code;
use crate::schema::{password_resets, refresh_tokens, registrations};
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = registrations, treat_none_as_null = true)]
pub struct RegistrationRow {
    pub id: String,
    pub account_type: String,
    pub method: String,
    pub full_name: String,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub bhxh_code: Option<String>,
    pub status: Code<RegistrationStatus>,
    pub assurance: Option<String>,
    pub otp_hash: Option<String>,
    pub otp_expires_at: Option<NaiveDateTime>,
    pub otp_attempts: i32,
    pub otp_last_sent_at: Option<NaiveDateTime>,
    pub challenge: Option<String>,
    pub certificate_subject: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &RegistrationRow) -> QueryResult<()> {
    diesel::insert_into(registrations::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<RegistrationRow>> {
    registrations::table.find(id).select(RegistrationRow::as_select()).first(conn).optional()
}

pub fn update(conn: &mut DbConn, row: &RegistrationRow) -> QueryResult<usize> {
    diesel::update(registrations::table.find(&row.id)).set(row).execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = password_resets, treat_none_as_null = true)]
pub struct PasswordResetRow {
    pub id: String,
    /// None when the name matched no account: the answer looks the same either way.
    pub account_id: Option<String>,
    pub otp_hash: String,
    pub otp_expires_at: NaiveDateTime,
    pub otp_attempts: i32,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert_reset(conn: &mut DbConn, row: &PasswordResetRow) -> QueryResult<()> {
    diesel::insert_into(password_resets::table).values(row).execute(conn).map(|_| ())
}

pub fn find_reset(conn: &mut DbConn, id: &str) -> QueryResult<Option<PasswordResetRow>> {
    password_resets::table.find(id).select(PasswordResetRow::as_select()).first(conn).optional()
}

pub fn update_reset(conn: &mut DbConn, row: &PasswordResetRow) -> QueryResult<usize> {
    diesel::update(password_resets::table.find(&row.id)).set(row).execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub account_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// The assurance the session was signed in at, when a provider vouched for it.
    pub assurance: Option<String>,
}

pub fn insert_refresh(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table).values(row).execute(conn).map(|_| ())
}

pub fn find_refresh(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a token used, only if it was not used yet; returns whether this call did it.
pub fn mark_refresh_used(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(refresh_tokens::table.find(id).filter(refresh_tokens::used_at.is_null()))
        .set(refresh_tokens::used_at.eq(at))
        .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every token of a family (reuse detected, or logout).
pub fn revoke_family(conn: &mut DbConn, family_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)
}

/// Revokes every token of an account (password changed).
pub fn revoke_account(conn: &mut DbConn, account_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::account_id.eq(account_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at))
    .execute(conn)
}

/// Where a session (a refresh-token family) stands, with its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStanding {
    pub family_id: String,
    pub account_id: String,
    pub role: String,
    pub disabled: bool,
    /// Whether any token of the family was revoked (signed out, reused, or the account's
    /// sessions ended): the session is closed.
    pub closed: bool,
}

/// Where these sessions stand, in one statement: each family found, with its account's role and
/// whether the account is disabled or the family closed. A family whose account is gone is absent.
pub fn session_standing(conn: &mut DbConn, family_ids: &[String]) -> QueryResult<Vec<SessionStanding>> {
    #[derive(QueryableByName)]
    struct Standing {
        #[diesel(sql_type = diesel::sql_types::Text)]
        family_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        account_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        role: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        disabled: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        revoked: bool,
    }
    const STANDING: [&str; 7] = crate::listed_statement!(
        "SELECT r.family_id, r.account_id, a.role, a.disabled, r.revoked_at IS NOT NULL AS revoked \
         FROM refresh_tokens r JOIN accounts a ON a.id = r.account_id WHERE r.family_id IN (",
        ")"
    );
    let mut out: Vec<SessionStanding> = Vec::new();
    for row in crate::prepared::keyed::<Standing>(conn, &STANDING, family_ids)? {
        match out.iter_mut().find(|s| s.family_id == row.family_id) {
            Some(s) => s.closed |= row.revoked || s.account_id != row.account_id,
            None => out.push(SessionStanding {
                family_id: row.family_id,
                account_id: row.account_id,
                role: row.role,
                disabled: row.disabled,
                closed: row.revoked,
            }),
        }
    }
    Ok(out)
}
