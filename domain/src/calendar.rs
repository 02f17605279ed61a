//! Working days: Monday to Friday, less public holidays, plus weekend days declared working.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The days off and the swapped working days an administrator maintains.
#[derive(Debug, Default, Clone)]
pub struct Calendar {
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days declared working days (government swaps).
    pub working_weekends: BTreeSet<NaiveDate>,
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Mondays to Fridays from 1 January of year 1 (a Monday) to `day`, counted so that the
/// difference of two days' counts is the number of Mondays to Fridays in `(from, to]`.
fn weekdays_to(day: NaiveDate) -> i64 {
    let k = i64::from(day.num_days_from_ce());
    5 * k.div_euclid(7) + k.rem_euclid(7).min(5)
}

impl Calendar {
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.working_weekends.contains(&day) {
            return true;
        }
        is_weekday(day) && !self.holidays.contains(&day)
    }

    /// The `n`-th working day after `start` (counting starts the next working day), and the days
    /// passed over. Friday 2026-11-20 + 3 = Wednesday 2026-11-25.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> (NaiveDate, Vec<NaiveDate>) {
        let mut day = start;
        let mut counted = 0;
        let mut skipped = Vec::new();
        while counted < n {
            day += Duration::days(1);
            if self.is_working_day(day) {
                counted += 1;
            } else {
                skipped.push(day);
            }
        }
        (day, skipped)
    }

    /// The first working day after `day`.
    pub fn next_working_day(&self, day: NaiveDate) -> NaiveDate {
        self.add_working_days(day, 1).0
    }

    /// Working days in `(from, to]`: how much of a budget has been used by `to`. Counted, not
    /// walked: the Mondays to Fridays of the span, less the days off among them, plus the weekend
    /// days worked (every list page asks this of each running dossier, over months).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to <= from {
            return 0;
        }
        let span = (Bound::Excluded(from), Bound::Included(to));
        let off = self.holidays.range(span).filter(|d| is_weekday(**d) && !self.working_weekends.contains(*d)).count();
        let worked = self.working_weekends.range(span).filter(|d| !is_weekday(**d)).count();
        weekdays_to(to) - weekdays_to(from) - off as i64 + worked as i64
    }
}

/// A statutory day off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: &'static str,
}

/// One year of the official calendar as the government announced it: the days off (statutory
/// days, days in lieu, days swapped) and the weekend days worked in exchange, with where that
/// comes from. dvc ships one file per year (`api/seed/calendar/`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialYear {
    pub year: i32,
    /// Which announcement sets it, and what is still to be checked.
    pub announcement: String,
    pub sources: Vec<String>,
    /// When the data was last compared with its sources.
    pub checked: NaiveDate,
    pub days_off: Vec<Day>,
    pub working_days: Vec<Day>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Day {
    pub date: NaiveDate,
    pub name: String,
}

impl OfficialYear {
    /// What is wrong with it, if anything: every day in its year, no day twice, working days on
    /// weekends only.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for d in self.days_off.iter().chain(&self.working_days) {
            if d.date.year() != self.year {
                out.push(format!("{} is not in {}", d.date, self.year));
            }
            if !seen.insert(d.date) {
                out.push(format!("{} is listed twice", d.date));
            }
            if d.name.trim().is_empty() {
                out.push(format!("{} has no name", d.date));
            }
        }
        for d in &self.working_days {
            if !matches!(d.date.weekday(), Weekday::Sat | Weekday::Sun) {
                out.push(format!("{} is worked in exchange but is not a weekend day", d.date));
            }
        }
        out
    }

    /// A draft of a year no announcement covers yet, from the statutory rules, for an
    /// administrator to correct when the government announces it.
    pub fn draft(year: i32) -> Self {
        OfficialYear {
            year,
            announcement: format!(
                "Draft from the Labour Code's statutory days (art. 112) for {year}: not announced; check the government's announcement and correct it."
            ),
            sources: vec!["Labour Code 2019, article 112".into()],
            checked: NaiveDate::from_ymd_opt(year - 1, 1, 1).unwrap_or_default(),
            days_off: statutory_holidays(year).into_iter().map(|h| Day { date: h.date, name: h.name.into() }).collect(),
            working_days: Vec::new(),
        }
    }
}

/// The Lunar New Year's day and Hùng Kings' day (10th of the 3rd lunar month) of the years the
/// draft covers.
/// A month and a day.
type MonthDay = (u32, u32);

const LUNAR: &[(i32, MonthDay, MonthDay)] =
    &[(2025, (1, 29), (4, 7)), (2026, (2, 17), (4, 26)), (2027, (2, 6), (4, 16))];

/// Statutory days off of a year (Labour Code 2019, art. 112), with a day off in lieu after a
/// holiday that falls on a weekend: only a draft, since the exact Tết range, the day beside
/// 2 September and the swaps are announced each year ([`OfficialYear`]).
pub fn statutory_holidays(year: i32) -> Vec<Holiday> {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day);
    let mut days: Vec<Holiday> = Vec::new();
    let mut push = |date: Option<NaiveDate>, name: &'static str| {
        if let Some(date) = date {
            days.push(Holiday { date, name });
        }
    };
    push(d(1, 1), "Tết Dương lịch");
    if let Some((_, (tm, td), (hm, hd))) = LUNAR.iter().find(|(y, _, _)| *y == year) {
        if let Some(new_year) = d(*tm, *td) {
            for offset in -1..=3 {
                push(Some(new_year + Duration::days(offset)), "Tết Âm lịch");
            }
        }
        push(d(*hm, *hd), "Giỗ Tổ Hùng Vương");
    }
    push(d(4, 30), "Ngày Chiến thắng");
    push(d(5, 1), "Ngày Quốc tế lao động");
    push(d(9, 1), "Quốc khánh (ngày liền kề)");
    push(d(9, 2), "Quốc khánh");
    let taken: HashSet<NaiveDate> = days.iter().map(|h| h.date).collect();
    let mut in_lieu = Vec::new();
    let mut extra: HashSet<NaiveDate> = HashSet::new();
    for h in &days {
        if matches!(h.date.weekday(), Weekday::Sat | Weekday::Sun) {
            let mut day = h.date;
            loop {
                day += Duration::days(1);
                let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                if !weekend && !taken.contains(&day) && !extra.contains(&day) {
                    break;
                }
            }
            extra.insert(day);
            in_lieu.push(Holiday { date: day, name: "Nghỉ bù" });
        }
    }
    days.extend(in_lieu);
    days.sort_by_key(|h| h.date);
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    /// The count agrees with walking the days one by one, across weekends, days off (on weekdays
    /// and weekends), swapped working days (on weekends and on days off) and years.
    #[test]
    fn working_days_counted_as_walked() {
        let walked = |cal: &Calendar, from: NaiveDate, to: NaiveDate| {
            let mut day = from;
            let mut n = 0;
            while day < to {
                day += Duration::days(1);
                n += i64::from(cal.is_working_day(day));
            }
            n
        };
        let mut cal = Calendar::default();
        cal.holidays.extend(statutory_holidays(2026).into_iter().map(|h| h.date));
        cal.holidays.extend(statutory_holidays(2027).into_iter().map(|h| h.date));
        cal.holidays.extend([date("2026-06-06"), date("2026-06-09")]);
        cal.working_weekends.extend([date("2026-05-09"), date("2026-06-06"), date("2026-06-09")]);
        let start = date("2025-12-20");
        let mut seed: u64 = 7;
        for _ in 0..2000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let from = start + Duration::days((seed >> 33) as i64 % 500);
            let to = from + Duration::days((seed >> 13) as i64 % 400 - 20);
            assert_eq!(cal.working_days_between(from, to), walked(&cal, from, to), "{from} to {to}");
        }
        assert_eq!(cal.working_days_between(date("0001-01-01"), date("0001-01-08")), 5);
        assert_eq!(cal.working_days_between(date("2026-11-23"), date("2026-11-23")), 0);
    }

    #[test]
    fn friday_plus_three() {
        let cal = Calendar::default();
        let (due, skipped) = cal.add_working_days(date("2026-11-20"), 3);
        assert_eq!(due, date("2026-11-25"));
        assert_eq!(skipped, vec![date("2026-11-21"), date("2026-11-22")]);
        assert_eq!(cal.working_days_between(date("2026-11-20"), date("2026-11-25")), 3);
    }

    #[test]
    fn holidays_and_swaps() {
        let mut cal = Calendar::default();
        cal.holidays.extend(statutory_holidays(2026).into_iter().map(|h| h.date));
        // 29 Apr 2026 (Wed) + 2: 30 Apr and 1 May are off, 2–3 May a weekend.
        assert_eq!(cal.add_working_days(date("2026-04-29"), 2).0, date("2026-05-05"));
        // Hùng Kings' day 2026 is a Sunday: Monday 27 April is off in lieu.
        assert!(!cal.is_working_day(date("2026-04-27")));
        cal.working_weekends.insert(date("2026-05-02"));
        assert_eq!(cal.add_working_days(date("2026-04-29"), 2).0, date("2026-05-04"));
    }

    #[test]
    fn tet_is_five_days() {
        let tet: Vec<_> = statutory_holidays(2026).into_iter().filter(|h| h.name == "Tết Âm lịch").collect();
        assert_eq!(tet.len(), 5);
        assert_eq!(tet[0].date, date("2026-02-16"));
    }
}
