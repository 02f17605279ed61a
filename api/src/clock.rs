//! The server's clock. Handlers read time through it so that a test (or a training environment)
//! can move it forward and watch deadlines pass without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// Wall-clock time plus an offset that starts at zero.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

pub use dvc_domain::time::Moment;

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        dvc_persistence::now() + Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    pub fn today(&self) -> NaiveDate {
        crate::calendar::local_date(self.now())
    }

    pub fn moment(&self) -> Moment {
        Moment::at(self.now())
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_today() {
        let clock = Clock::default();
        let before = clock.today();
        clock.advance(Duration::days(3));
        assert_eq!(clock.today(), before + Duration::days(3));
        assert!(clock.now() > dvc_persistence::now() + Duration::days(2));
    }
}
