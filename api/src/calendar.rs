//! Dates in Asia/Ho_Chi_Minh and the working-day calendar loaded from the database.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use dvc_domain::calendar::{statutory_holidays, Calendar};
use dvc_domain::time::VIETNAM_UTC_OFFSET_SECS;
use dvc_persistence::calendar::{self as d, HolidayRow};
use dvc_persistence::DbConn;

/// Vietnam's offset (no daylight saving), as chrono's time zone.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(VIETNAM_UTC_OFFSET_SECS).expect("a valid offset")
}

/// Today's business date in Vietnam.
pub fn today() -> NaiveDate {
    dvc_domain::time::local_date(Utc::now().naive_utc())
}

/// The Vietnamese business date of a stored (UTC) time.
pub fn local_date(t: NaiveDateTime) -> NaiveDate {
    dvc_domain::time::local_date(t)
}

/// The calendar as administrators keep it.
pub fn load(conn: &mut DbConn) -> diesel::QueryResult<Calendar> {
    let mut cal = Calendar::default();
    for row in d::all_holidays(conn)? {
        if row.working {
            cal.working_weekends.insert(row.day);
        } else {
            cal.holidays.insert(row.day);
        }
    }
    Ok(cal)
}

/// Seeds the statutory days off of 2025–2027 for years that have no entry yet; an administrator's
/// later changes are kept.
pub fn seed_holidays(conn: &mut DbConn) -> diesel::QueryResult<usize> {
    let mut added = 0;
    for year in 2025..=2027 {
        let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            continue;
        };
        if !d::list_holidays(conn, from, to)?.is_empty() {
            continue;
        }
        for h in statutory_holidays(year) {
            debug_assert_eq!(h.date.year(), year);
            d::put_holiday(
                conn,
                &HolidayRow { day: h.date, name: h.name.into(), working: false, updated_at: dvc_persistence::now() },
            )?;
            added += 1;
        }
    }
    Ok(added)
}
