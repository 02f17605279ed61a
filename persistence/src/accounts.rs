//! Accounts: applicants and staff.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::accounts;
use crate::DbConn;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
pub struct AccountRow {
    pub id: String,
    pub account_type: String,
    pub role: String,
    pub username: String,
    pub full_name: String,
    pub password_hash: String,
    pub agency_id: Option<String>,
    pub assurance: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub bhxh_code: Option<String>,
    pub registration_method: Option<String>,
    /// JSON of the "declare once" profile (address and the like).
    pub profile: String,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub version: i32,
}

impl AccountRow {
    /// A staff account with empty applicant fields.
    pub fn staff(
        id: String,
        role: &str,
        username: &str,
        full_name: &str,
        password_hash: String,
        agency_id: Option<String>,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id,
            account_type: "staff".into(),
            role: role.into(),
            username: username.into(),
            full_name: full_name.into(),
            password_hash,
            agency_id,
            assurance: "high".into(),
            disabled: false,
            created_at: now,
            updated_at: now,
            id_number: None,
            tax_code: None,
            phone: None,
            email: None,
            date_of_birth: None,
            bhxh_code: None,
            registration_method: None,
            profile: "{}".into(),
            failed_logins: 0,
            locked_until: None,
            version: 1,
        }
    }
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table.filter(accounts::username.eq(username)).select(AccountRow::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table.find(id).select(AccountRow::as_select()).first(conn).optional()
}

/// Accounts by id, in no particular order; ids without an account are left out. One prepared
/// statement for up to 64 ids.
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<AccountRow>> {
    const BY_ID: [&str; 7] = crate::listed_statement!("SELECT * FROM accounts WHERE id IN (", ")");
    crate::prepared::keyed(conn, &BY_ID, ids)
}

pub fn insert(conn: &mut DbConn, row: &AccountRow) -> QueryResult<()> {
    diesel::insert_into(accounts::table).values(row).execute(conn).map(|_| ())
}

pub fn update(conn: &mut DbConn, row: &AccountRow) -> QueryResult<usize> {
    diesel::update(accounts::table.find(&row.id)).set(row).execute(conn)
}

/// Finds the account a sign-in name designates: a username (ID number, tax code or staff name),
/// or a phone number already in E.164.
pub fn find_for_sign_in(conn: &mut DbConn, name: &str, phone: Option<&str>) -> QueryResult<Option<AccountRow>> {
    if let Some(account) = find_by_username(conn, name)? {
        return Ok(Some(account));
    }
    match phone {
        Some(phone) => accounts::table
            .filter(accounts::phone.eq(phone))
            .filter(accounts::account_type.ne("staff"))
            .order((accounts::account_type, accounts::created_at))
            .select(AccountRow::as_select())
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// Records a failed sign-in; locks the account until `lock_until` once `max` failures are reached.
pub fn record_failed_login(conn: &mut DbConn, id: &str, max: i32, lock_until: NaiveDateTime) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let failures: i32 = accounts::table.find(id).select(accounts::failed_logins).first(conn)?;
        let failures = failures + 1;
        let locked = (failures >= max).then_some(lock_until);
        diesel::update(accounts::table.find(id))
            .set((
                accounts::failed_logins.eq(if locked.is_some() { 0 } else { failures }),
                accounts::locked_until.eq(locked),
            ))
            .execute(conn)
            .map(|_| ())
    })
}

/// Clears the failure count after a successful sign-in.
pub fn record_successful_login(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(accounts::table.find(id))
        .set((accounts::failed_logins.eq(0), accounts::locked_until.eq(None::<NaiveDateTime>)))
        .execute(conn)
        .map(|_| ())
}

/// Staff accounts, optionally of one agency, newest first.
pub fn list_staff(
    conn: &mut DbConn,
    agency_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<AccountRow>, i64)> {
    let filtered = || {
        let mut q = accounts::table.filter(accounts::account_type.eq("staff")).into_boxed();
        if let Some(agency) = agency_id {
            q = q.filter(accounts::agency_id.eq(agency));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .select(AccountRow::as_select())
        .order((accounts::created_at.desc(), accounts::id))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

/// Inserts accounts in one multi-row statement (bulk loads).
pub fn insert_batch(conn: &mut DbConn, rows: &[AccountRow]) -> QueryResult<usize> {
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(accounts::table).values(rows).execute(c),
        DbConn::Sqlite(c) => diesel::insert_into(accounts::table).values(rows).execute(c),
    }
}

/// Until when a (username, client address) pair must wait before its next sign-in, if it must.
pub fn sign_in_blocked_until(conn: &mut DbConn, key: &str) -> QueryResult<Option<NaiveDateTime>> {
    use crate::schema::sign_in_failures::dsl as f;
    f::sign_in_failures.find(key).select(f::blocked_until).first(conn).optional()
}

/// Counts a wrong password of a (username, client address) pair; answers until when it waits.
pub fn record_sign_in_failure(conn: &mut DbConn, key: &str, at: NaiveDateTime) -> QueryResult<NaiveDateTime> {
    use crate::schema::sign_in_failures::dsl as f;
    crate::db::write_transaction(conn, |conn| {
        let before: Option<i32> = f::sign_in_failures.find(key).select(f::failures).first(conn).optional()?;
        let failures = before.unwrap_or(0) + 1;
        let until = at + dvc_domain::auth::sign_in_delay(failures);
        match before {
            Some(_) => diesel::update(f::sign_in_failures.find(key))
                .set((f::failures.eq(failures), f::blocked_until.eq(until)))
                .execute(conn)?,
            None => diesel::insert_into(f::sign_in_failures)
                .values((f::key.eq(key), f::failures.eq(failures), f::blocked_until.eq(until)))
                .execute(conn)?,
        };
        Ok(until)
    })
}

/// Forgets the failures of a pair after a successful sign-in.
pub fn forget_sign_in_failures(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    use crate::schema::sign_in_failures::dsl as f;
    diesel::delete(f::sign_in_failures.find(key)).execute(conn).map(|_| ())
}

/// Forgets pairs whose wait ended before `before`.
pub fn prune_sign_in_failures(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    use crate::schema::sign_in_failures::dsl as f;
    diesel::delete(f::sign_in_failures.filter(f::blocked_until.lt(before))).execute(conn)
}

/// The account that already has this ID number or tax code, if any.
pub fn identity_owner(
    conn: &mut DbConn,
    id_number: Option<&str>,
    tax_code: Option<&str>,
) -> QueryResult<Option<String>> {
    let mut query = accounts::table.into_boxed();
    match (id_number, tax_code) {
        (Some(id), Some(tax)) => query = query.filter(accounts::id_number.eq(id).or(accounts::tax_code.eq(tax))),
        (Some(id), None) => query = query.filter(accounts::id_number.eq(id)),
        (None, Some(tax)) => query = query.filter(accounts::tax_code.eq(tax)),
        (None, None) => return Ok(None),
    }
    query.select(accounts::id).first(conn).optional()
}
