//! Accounts: applicants and staff.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::accounts;
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
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
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table.filter(accounts::username.eq(username)).select(AccountRow::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AccountRow>> {
    accounts::table.find(id).select(AccountRow::as_select()).first(conn).optional()
}

pub fn insert(conn: &mut DbConn, row: &AccountRow) -> QueryResult<()> {
    diesel::insert_into(accounts::table).values(row).execute(conn).map(|_| ())
}

pub fn update(conn: &mut DbConn, row: &AccountRow) -> QueryResult<usize> {
    diesel::update(accounts::table.find(&row.id)).set(row).execute(conn)
}
