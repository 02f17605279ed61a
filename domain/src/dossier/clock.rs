//! The deadline clock of a dossier: a budget of working days that runs while the agency holds the
//! dossier, pauses while the applicant supplements it and resumes with the days left, and a due
//! date that judges the agency. An apology (phiếu xin lỗi và hẹn lại ngày trả kết quả) gives the
//! applicant a new appointment but leaves the due date that judges timeliness as it was.

use chrono::{NaiveDate, NaiveTime};

use crate::calendar::Calendar;
use crate::catalogue::code_enum;
use crate::time::Moment;
use crate::FieldError;

code_enum! {
    /// How the agency finished against the due date: before it, on it, or after it.
    Timeliness { Early = "early", OnTime = "on_time", Late = "late" }
}

impl Timeliness {
    /// The judgement of finishing on `day` against `due` (no due date counts as on time).
    pub fn judge(due: Option<NaiveDate>, day: NaiveDate) -> Self {
        match due {
            Some(due) if day < due => Timeliness::Early,
            Some(due) if day == due => Timeliness::OnTime,
            Some(_) => Timeliness::Late,
            None => Timeliness::OnTime,
        }
    }

    /// Early and on time both count as on time in the statistics.
    pub fn in_time(self) -> bool {
        !matches!(self, Timeliness::Late)
    }
}

/// The working days a dossier is given, how many it used, and its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeadlineClock {
    pub working_days_allowed: i32,
    /// Working days used before the current run of the clock.
    pub working_days_spent: i32,
    /// The day the current run counts from; none while the clock stands.
    pub running_since: Option<NaiveDate>,
    /// The due date that judges the agency.
    pub due_date: Option<NaiveDate>,
    /// The new appointment of the latest apology, if any.
    pub rescheduled_due_date: Option<NaiveDate>,
}

impl DeadlineClock {
    /// A clock with a budget of `days` working days that has not started.
    pub fn new(days: i32) -> Self {
        DeadlineClock { working_days_allowed: days, ..Default::default() }
    }

    /// The day reception counts from: the day itself, or, for a procedure with a receipt cutoff,
    /// the next working day when the dossier arrives at or after the cutoff or on a day off.
    pub fn counts_from(at: Moment, cutoff: Option<NaiveTime>, cal: &Calendar) -> NaiveDate {
        match cutoff {
            Some(cutoff) if at.time_of_day >= cutoff || !cal.is_working_day(at.today) => cal.next_working_day(at.today),
            _ => at.today,
        }
    }

    /// Starts (or resumes) the clock at reception: the due date is the days left counted from the
    /// day reception counts from. A new receipt replaces any earlier appointment.
    pub fn start(&mut self, from: NaiveDate, cal: &Calendar) {
        let remaining = (self.working_days_allowed - self.working_days_spent).max(0) as u32;
        self.running_since = Some(from);
        self.due_date = Some(cal.add_working_days(from, remaining).0);
        self.rescheduled_due_date = None;
    }

    /// Stops the clock on `today`, keeping the working days used so far.
    pub fn pause(&mut self, today: NaiveDate, cal: &Calendar) {
        if let Some(start) = self.running_since.take() {
            self.working_days_spent += cal.working_days_between(start, today) as i32;
        }
    }

    /// Working days used by `today`; `running` says whether the dossier's status lets it run.
    pub fn used(&self, today: NaiveDate, running: bool, cal: &Calendar) -> i64 {
        let current = self.running_since.filter(|_| running).map(|s| cal.working_days_between(s, today)).unwrap_or(0);
        i64::from(self.working_days_spent) + current
    }

    /// Whether the due date has passed while the clock runs.
    pub fn overdue(&self, today: NaiveDate, running: bool) -> bool {
        running && self.running_since.is_some() && self.due_date.is_some_and(|due| today > due)
    }

    /// The judgement of finishing on `today`: against the due date, never the apology's appointment.
    pub fn judge(&self, today: NaiveDate) -> Timeliness {
        Timeliness::judge(self.due_date, today)
    }

    /// The date the applicant is told to come for the result.
    pub fn appointment(&self) -> Option<NaiveDate> {
        self.rescheduled_due_date.or(self.due_date)
    }

    /// Gives a new appointment after an apology: after today and after the current appointment.
    pub fn reschedule(&mut self, new_date: NaiveDate, today: NaiveDate) -> Result<(), FieldError> {
        if new_date <= today || self.appointment().is_some_and(|current| new_date <= current) {
            return Err(FieldError::new(
                "new_due_date",
                "not_later",
                "Ngày hẹn mới phải sau ngày hẹn cũ và sau hôm nay",
                "The new date must be after the old one and after today",
            ));
        }
        self.rescheduled_due_date = Some(new_date);
        Ok(())
    }
}
