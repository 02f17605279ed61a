//! Time as the portal reckons it. Times are stored in UTC; business dates and the hour of day
//! that some rules look at are Vietnam's (Asia/Ho_Chi_Minh, UTC+7 all year, no daylight saving).
//! This is the one place that knows the offset.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// Vietnam's offset from UTC, in seconds.
pub const VIETNAM_UTC_OFFSET_SECS: i32 = 7 * 3600;

/// The local (Vietnamese) wall-clock time of a stored UTC time.
pub fn local(utc: NaiveDateTime) -> NaiveDateTime {
    utc + Duration::seconds(i64::from(VIETNAM_UTC_OFFSET_SECS))
}

/// The UTC time of a local wall-clock time.
pub fn utc_of_local(local: NaiveDateTime) -> NaiveDateTime {
    local - Duration::seconds(i64::from(VIETNAM_UTC_OFFSET_SECS))
}

/// The Vietnamese business date of a stored UTC time.
pub fn local_date(utc: NaiveDateTime) -> NaiveDate {
    local(utc).date()
}

/// One reading of the clock: the UTC time stored in the database, and Vietnam's business date and
/// time of day at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub now: NaiveDateTime,
    pub today: NaiveDate,
    /// The local time of day (for rules such as "received after 15:00").
    pub time_of_day: NaiveTime,
}

impl Moment {
    /// The moment of a stored UTC time.
    pub fn at(now: NaiveDateTime) -> Self {
        let l = local(now);
        Moment { now, today: l.date(), time_of_day: l.time() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_evening_utc_is_the_next_day_in_vietnam() {
        let utc = NaiveDate::from_ymd_opt(2026, 11, 20).and_then(|d| d.and_hms_opt(17, 30, 0)).expect("a time");
        let m = Moment::at(utc);
        assert_eq!(m.today, NaiveDate::from_ymd_opt(2026, 11, 21).expect("a date"));
        assert_eq!(m.time_of_day, NaiveTime::from_hms_opt(0, 30, 0).expect("a time"));
        assert_eq!(utc_of_local(local(utc)), utc);
    }
}
