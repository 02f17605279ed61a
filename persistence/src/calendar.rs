//! The working-day calendar administrators keep: days off and weekend days declared working.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::holidays;
use crate::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = holidays)]
pub struct HolidayRow {
    pub day: NaiveDate,
    pub name: String,
    /// A weekend day declared a working day (a swap), rather than a day off.
    pub working: bool,
    pub updated_at: NaiveDateTime,
}

pub fn list_holidays(conn: &mut DbConn, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<HolidayRow>> {
    holidays::table
        .filter(holidays::day.ge(from).and(holidays::day.le(to)))
        .order(holidays::day)
        .select(HolidayRow::as_select())
        .load(conn)
}

/// Every calendar entry (a few dozen a year), for working-day arithmetic.
pub fn all_holidays(conn: &mut DbConn) -> QueryResult<Vec<HolidayRow>> {
    holidays::table.select(HolidayRow::as_select()).load(conn)
}

pub fn put_holiday(conn: &mut DbConn, row: &HolidayRow) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        let existed = diesel::delete(holidays::table.find(row.day)).execute(conn)? > 0;
        diesel::insert_into(holidays::table).values(row).execute(conn)?;
        Ok(existed)
    })
}

pub fn delete_holiday(conn: &mut DbConn, day: NaiveDate) -> QueryResult<usize> {
    diesel::delete(holidays::table.find(day)).execute(conn)
}

/// Replaces a year's entries (`from..=to`) with these, in one transaction; a day another server
/// wrote meanwhile is kept.
pub fn replace_holidays(conn: &mut DbConn, from: NaiveDate, to: NaiveDate, rows: &[HolidayRow]) -> QueryResult<usize> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(holidays::table.filter(holidays::day.ge(from).and(holidays::day.le(to)))).execute(conn)?;
        let mut added = 0;
        for row in rows {
            added += match conn {
                DbConn::Postgres(c) => {
                    diesel::insert_into(holidays::table).values(row).on_conflict_do_nothing().execute(c)?
                }
                DbConn::Sqlite(c) => {
                    diesel::insert_into(holidays::table).values(row).on_conflict_do_nothing().execute(c)?
                }
            };
        }
        Ok(added)
    })
}
