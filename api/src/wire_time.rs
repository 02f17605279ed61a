//! Stored timestamps as they go out: RFC 3339 in UTC with milliseconds (`2026-12-07T04:59:37.123Z`).
//!
//! Every dossier, file and history entry carries several of them, and a page of dossiers a hundred:
//! the common case (years 0–9999) is written digit by digit into a string of its exact size; any
//! other goes through chrono's formatter.

use chrono::{Datelike, NaiveDateTime, SecondsFormat, Timelike};

/// The length of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
const LEN: usize = 24;

/// RFC 3339 in UTC, to the millisecond, for a stored timestamp.
pub fn rfc3339(t: NaiveDateTime) -> String {
    let (year, nanos) = (t.year(), t.nanosecond());
    // chrono shows a leap second as second 60; such values and years of other than four digits
    // are left to it.
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut out = [0u8; LEN];
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut v = value;
        for i in (at..at + digits).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    put(20, nanos / 1_000_000, 3);
    for (at, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (23, b'Z')] {
        out[at] = sep;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};

    use super::*;

    fn chrono_text(t: NaiveDateTime) -> String {
        t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    #[test]
    fn writes_what_chrono_writes() {
        let mut checked = 0;
        let starts = [(1, 1, 1), (1970, 1, 1), (1999, 12, 31), (2024, 2, 29), (2026, 12, 7), (9999, 12, 31)];
        for (y, m, d) in starts {
            let Some(day) = NaiveDate::from_ymd_opt(y, m, d) else { panic!("{y}-{m}-{d} is a date") };
            let Some(start) = day.and_hms_nano_opt(0, 0, 0, 0) else { panic!("midnight is a time") };
            // Steps of a prime number of nanoseconds reach every field's digits.
            for i in 0..5_000i64 {
                let t = start + TimeDelta::nanoseconds(i * 17_280_000_001_337 % 86_400_000_000_000);
                assert_eq!(rfc3339(t), chrono_text(t), "{t:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 30_000);
    }

    #[test]
    fn the_rare_cases_go_to_chrono() {
        let Some(leap) = NaiveDate::from_ymd_opt(2016, 12, 31).and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
        else {
            panic!("a leap second is a time")
        };
        assert_eq!(rfc3339(leap), "2016-12-31T23:59:60.500Z");
        let Some(far) = NaiveDate::from_ymd_opt(12_026, 1, 2).and_then(|d| d.and_hms_opt(3, 4, 5)) else {
            panic!("year 12026 is a date")
        };
        assert_eq!(rfc3339(far), chrono_text(far));
        assert!(rfc3339(far).starts_with("+12026-01-02T03:04:05.000"), "{}", rfc3339(far));
        let Some(known) = NaiveDate::from_ymd_opt(2026, 3, 4).and_then(|d| d.and_hms_milli_opt(5, 6, 7, 89)) else {
            panic!("a date")
        };
        assert_eq!(rfc3339(known), "2026-03-04T05:06:07.089Z");
    }
}
