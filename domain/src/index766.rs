//! The index of Decision 766/QĐ-TTg (2022): five groups of criteria (transparency, timeliness,
//! digitisation, online services and payment, satisfaction) scored out of 100 points.
//!
//! What the groups weigh, which criteria they hold, their formulas and where these come from are
//! data (`api/seed/index766.json`, read as a [`Spec`]); the counts come from the database
//! ([`Counts`]); [`score`] turns the two into the index, with no I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// The index as the decision describes it, with its sources.
#[derive(Debug, Clone, Deserialize)]
pub struct Spec {
    pub decision: String,
    pub sources: Vec<String>,
    pub checked: String,
    pub scale: String,
    /// Working days an agency has to answer a reflection or recommendation.
    pub feedback_answer_working_days: u32,
    pub groups: Vec<GroupSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GroupSpec {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub max_points: f64,
    pub criteria: Vec<CriterionSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CriterionSpec {
    pub code: String,
    pub name: String,
    pub formula: String,
    /// What dvc counts for it; none when it cannot (see `not_measured`).
    #[serde(default)]
    pub measure: Option<Measure>,
    #[serde(default)]
    pub not_measured: Option<String>,
}

/// A rate dvc counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    ProceduresComplete,
    FinishedOnTime,
    ElectronicResults,
    DigitisedDossiers,
    ReusedData,
    OnlineProcedures,
    OnlineProceduresUsed,
    OnlineDossiers,
    ProceduresPaidOnline,
    OnlinePayments,
    FeedbackOnTime,
    FeedbackSatisfied,
    DossiersSatisfied,
}

/// What the rates are made of, for one agency (or all) and one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// The agency's procedures, those published with every part, those offered online, and of
    /// these those with an online dossier received in the period.
    pub procedures: i64,
    pub procedures_complete: i64,
    pub procedures_online: i64,
    pub procedures_online_used: i64,
    /// Procedures with fees, and of these those with a dossier paid online in the period.
    pub procedures_with_fee: i64,
    pub procedures_paid_online: i64,
    /// Dossiers finished in the period, early or on time, and late.
    pub finished_in_time: i64,
    pub finished_late: i64,
    /// Dossiers whose result was returned in the period, and those with an electronic result.
    pub results_returned: i64,
    pub electronic_results: i64,
    /// Dossiers received in the period: online, every document digitised, some data reused.
    pub received: i64,
    pub received_online: i64,
    pub digitised: i64,
    pub reused: i64,
    /// Received dossiers owing fees, and of these those paid online.
    pub with_fee: i64,
    pub paid_online: i64,
    /// Reflections and recommendations filed in the period that were due or answered: answered
    /// in time, and those reopened by their authors or answered late (or not at all) past their due day.
    pub feedback_counted: i64,
    pub feedback_in_time: i64,
    pub feedback_unsatisfied: i64,
    /// Ratings given in the period, and those of 1 or 2 out of 5.
    pub ratings: i64,
    pub ratings_unsatisfied: i64,
}

impl Counts {
    /// The numerator and denominator of a measure.
    pub fn ratio(&self, m: Measure) -> (i64, i64) {
        match m {
            Measure::ProceduresComplete => (self.procedures_complete, self.procedures),
            Measure::FinishedOnTime => (self.finished_in_time, self.finished_in_time + self.finished_late),
            Measure::ElectronicResults => (self.electronic_results, self.results_returned),
            Measure::DigitisedDossiers => (self.digitised, self.received),
            Measure::ReusedData => (self.reused, self.received),
            Measure::OnlineProcedures => (self.procedures_online, self.procedures),
            Measure::OnlineProceduresUsed => (self.procedures_online_used, self.procedures_online),
            Measure::OnlineDossiers => (self.received_online, self.received),
            Measure::ProceduresPaidOnline => (self.procedures_paid_online, self.procedures_with_fee),
            Measure::OnlinePayments => (self.paid_online, self.with_fee),
            Measure::FeedbackOnTime => (self.feedback_in_time, self.feedback_counted),
            Measure::FeedbackSatisfied => {
                ((self.feedback_counted - self.feedback_unsatisfied).max(0), self.feedback_counted)
            }
            Measure::DossiersSatisfied => (self.ratings - self.ratings_unsatisfied, self.ratings),
        }
    }
}

/// A reflection or recommendation as the satisfaction group reads it.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackFacts {
    /// The Vietnamese day it was filed on, and the one it was answered on.
    pub filed_on: NaiveDate,
    pub answered_on: Option<NaiveDate>,
    pub reopened: bool,
}

/// Adds reflections to `counts`: each is due `days` working days after the day it was filed;
/// one not answered and not yet due on `report_day` is not counted.
pub fn count_feedback(
    counts: &mut Counts,
    items: &[FeedbackFacts],
    calendar: &Calendar,
    days: u32,
    report_day: NaiveDate,
) {
    for f in items {
        let (due, _) = calendar.add_working_days(f.filed_on, days);
        let in_time = f.answered_on.is_some_and(|a| a <= due);
        if !in_time && f.answered_on.is_none() && due >= report_day {
            continue;
        }
        counts.feedback_counted += 1;
        if in_time {
            counts.feedback_in_time += 1;
        }
        if !in_time || f.reopened {
            counts.feedback_unsatisfied += 1;
        }
    }
}

/// One criterion's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Index766Criterion))]
pub struct CriterionScore {
    pub code: String,
    pub name: String,
    pub formula: String,
    /// Counted, and out of how many; none when dvc does not measure it.
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// `numerator / denominator`, none when nothing was there to count.
    pub value: Option<f64>,
    /// Why dvc does not measure it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<String>,
}

/// One group's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Index766Group))]
pub struct GroupScore {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub max_points: f64,
    /// The mean of its criteria's values, none when none had anything to count.
    pub value: Option<f64>,
    /// `max_points × value`, to two decimals.
    pub points: Option<f64>,
    pub criteria: Vec<CriterionScore>,
}

/// The index: each group, the points of those measured, and out of how many.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Index766Score))]
pub struct Scored {
    pub points: f64,
    /// The maximum of the groups that have points (100 when every group was measured).
    pub max_points: f64,
    pub groups: Vec<GroupScore>,
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// The index of `counts` as `spec` describes it.
pub fn score(spec: &Spec, counts: &Counts) -> Scored {
    let mut groups = Vec::with_capacity(spec.groups.len());
    let (mut points, mut max_points) = (0.0, 0.0);
    for g in &spec.groups {
        let criteria: Vec<CriterionScore> = g
            .criteria
            .iter()
            .map(|c| {
                let ratio = c.measure.map(|m| counts.ratio(m));
                let value = ratio.and_then(|(n, d)| (d > 0).then(|| round(n as f64 / d as f64, 4)));
                CriterionScore {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    formula: c.formula.clone(),
                    numerator: ratio.map(|r| r.0),
                    denominator: ratio.map(|r| r.1),
                    value,
                    not_measured: c.not_measured.clone(),
                }
            })
            .collect();
        let values: Vec<f64> = criteria.iter().filter_map(|c| c.value).collect();
        let value = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
        let group_points = value.map(|v| round(g.max_points * v, 2));
        if let Some(p) = group_points {
            points += p;
            max_points += g.max_points;
        }
        groups.push(GroupScore {
            code: g.code.clone(),
            name: g.name.clone(),
            name_en: g.name_en.clone(),
            max_points: g.max_points,
            value: value.map(|v| round(v, 4)),
            points: group_points,
            criteria,
        });
    }
    Scored { points: round(points, 2), max_points, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        serde_json::from_str(include_str!("../../api/seed/index766.json")).expect("the shipped index766.json")
    }

    #[test]
    fn the_shipped_spec_weighs_100_points_and_names_what_it_measures() {
        let s = spec();
        let weights: Vec<f64> = s.groups.iter().map(|g| g.max_points).collect();
        assert_eq!(weights, [18.0, 20.0, 22.0, 22.0, 18.0]);
        for c in s.groups.iter().flat_map(|g| &g.criteria) {
            assert!(c.measure.is_some() != c.not_measured.is_some(), "{}: a measure or a reason", c.code);
        }
    }

    #[test]
    fn groups_score_the_mean_of_their_measured_rates() {
        let counts = Counts {
            procedures: 4,
            procedures_complete: 3,
            procedures_online: 2,
            procedures_online_used: 1,
            finished_in_time: 3,
            finished_late: 1,
            results_returned: 2,
            electronic_results: 2,
            received: 4,
            received_online: 3,
            digitised: 4,
            reused: 1,
            ratings: 4,
            ratings_unsatisfied: 1,
            ..Counts::default()
        };
        let s = score(&spec(), &counts);
        let g = |code: &str| s.groups.iter().find(|g| g.code == code).expect("the group").clone();
        assert_eq!(g("transparency").points, Some(13.5), "3/4 of 18, the other criteria unmeasured");
        assert_eq!(g("timeliness").points, Some(15.0));
        // (1 + 1 + 0.25) / 3 of 22.
        assert_eq!(g("digitisation").points, Some(16.5));
        // Online procedures 0.5, used 0.5, online dossiers 0.75; nothing owed fees.
        assert_eq!(g("online_services").value, Some(0.5833));
        assert_eq!(g("online_services").points, Some(12.83));
        let online = g("online_services");
        let payments = online.criteria.iter().find(|c| c.code == "online_payments").expect("the criterion");
        assert_eq!((payments.numerator, payments.denominator, payments.value), (Some(0), Some(0), None));
        // No feedback: only the ratings count, 3 of 4 satisfied.
        assert_eq!(g("satisfaction").points, Some(13.5));
        assert_eq!(s.max_points, 100.0);
        assert_eq!(s.points, 13.5 + 15.0 + 16.5 + 12.83 + 13.5);
        let unmeasured =
            g("transparency").criteria.into_iter().find(|c| c.code == "published_on_time").expect("the criterion");
        assert_eq!((unmeasured.numerator, unmeasured.value), (None, None));
    }

    #[test]
    fn a_group_with_nothing_to_count_has_no_points_and_leaves_the_maximum() {
        let s = score(&spec(), &Counts { procedures: 2, procedures_complete: 2, ..Counts::default() });
        let timeliness = s.groups.iter().find(|g| g.code == "timeliness").expect("the group");
        assert_eq!((timeliness.value, timeliness.points), (None, None));
        // Transparency 18 and online services (online procedures 0/2) 0, out of 40.
        assert_eq!((s.points, s.max_points), (18.0, 40.0));
    }

    #[test]
    fn feedback_is_late_past_its_working_days_and_unsatisfied_when_reopened() {
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).expect("a day");
        let cal = Calendar::default();
        let items = [
            // Friday 2 October: due ten working days later, Friday 16 October.
            FeedbackFacts { filed_on: d(10, 2), answered_on: Some(d(10, 16)), reopened: false },
            FeedbackFacts { filed_on: d(10, 2), answered_on: Some(d(10, 19)), reopened: false },
            FeedbackFacts { filed_on: d(10, 2), answered_on: Some(d(10, 5)), reopened: true },
            // Not answered: late once its day has passed, not yet counted before.
            FeedbackFacts { filed_on: d(10, 2), answered_on: None, reopened: false },
            FeedbackFacts { filed_on: d(10, 20), answered_on: None, reopened: false },
        ];
        let mut counts = Counts::default();
        count_feedback(&mut counts, &items, &cal, 10, d(10, 25));
        assert_eq!((counts.feedback_counted, counts.feedback_in_time, counts.feedback_unsatisfied), (4, 2, 3));
        assert_eq!(counts.ratio(Measure::FeedbackOnTime), (2, 4));
        assert_eq!(counts.ratio(Measure::FeedbackSatisfied), (1, 4));
    }
}
