//! Dates in Asia/Ho_Chi_Minh and the working-day calendar loaded from the database.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Utc};
use dvc_domain::calendar::{Calendar, Day, OfficialYear};
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

/// The official years dvc ships, one file per year as the government announced it.
const OFFICIAL: &[&str] = &[include_str!("../seed/calendar/2025.json"), include_str!("../seed/calendar/2026.json")];

/// Years seeded when a database has none of their days: from the official file, or else a draft
/// from the statutory rules.
const SEEDED_YEARS: std::ops::RangeInclusive<i32> = 2025..=2027;

/// The official years dvc ships (a test reads every file; one that does not read is skipped).
pub fn official_years() -> Vec<OfficialYear> {
    OFFICIAL
        .iter()
        .filter_map(|text| match serde_json::from_str::<OfficialYear>(text) {
            Ok(year) if year.problems().is_empty() => Some(year),
            Ok(year) => {
                tracing::error!(year = year.year, problems = ?year.problems(), "a shipped calendar year is inconsistent");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "a shipped calendar year does not read");
                None
            }
        })
        .collect()
}

fn rows_of(year: &OfficialYear) -> Vec<HolidayRow> {
    let at = dvc_persistence::now();
    let row = |d: &Day, working| HolidayRow { day: d.date, name: d.name.clone(), working, updated_at: at };
    year.days_off.iter().map(|d| row(d, false)).chain(year.working_days.iter().map(|d| row(d, true))).collect()
}

/// Seeds the calendar of 2025–2027 for years that have no entry yet: the official year where dvc
/// ships one, else a draft from the rules. A year that still holds exactly the draft an earlier
/// release seeded is replaced by its official days; an administrator's changes are kept.
pub fn seed_holidays(conn: &mut DbConn) -> diesel::QueryResult<usize> {
    let official = official_years();
    let mut added = 0;
    for year in SEEDED_YEARS {
        let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            continue;
        };
        let stored = d::list_holidays(conn, from, to)?;
        let draft = OfficialYear::draft(year);
        let is_draft = !stored.is_empty()
            && stored.len() == draft.days_off.len()
            && stored.iter().all(|r| !r.working && draft.days_off.iter().any(|d| d.date == r.day && d.name == r.name));
        let rows = match official.iter().find(|o| o.year == year) {
            Some(o) if stored.is_empty() || is_draft => rows_of(o),
            None if stored.is_empty() => rows_of(&draft),
            _ => continue,
        };
        added += d::replace_holidays(conn, from, to, &rows)?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_year_reads() {
        let years = super::official_years();
        assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), [2025, 2026]);
        for y in years {
            assert!(!y.sources.is_empty() && !y.announcement.is_empty());
        }
    }
}
