//! Service-quality statistics in the spirit of Decision 766/QĐ-TTg: timeliness, online service,
//! online payment and satisfaction per agency, procedure and field; as JSON, CSV or a chart.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use dvc_domain::FieldError;
use dvc_persistence::statistics::{self as st, DossierCounts, Grouping, MonthCounts, Period};
use dvc_persistence::DbConn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::routes::path_key;
use crate::state::AppState;

/// The period and grouping of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// First day, `YYYY-MM-DD` (default: 1 January of this year).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Rows per `agency`, `procedure` or `field` besides the totals (the summary defaults to `agency`).
    #[param(value_type = Option<String>, pattern = "^(agency|procedure|field|none)$")]
    pub group_by: Option<String>,
}

/// Feedback filed in the period, by present state.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct StateCounts {
    pub new: i64,
    pub in_progress: i64,
    pub answered: i64,
    pub closed: i64,
    pub total: i64,
}

/// Feedback filed in the period, by kind.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct FeedbackStats {
    pub complaint: StateCounts,
    pub reflection: StateCounts,
    pub support_request: StateCounts,
    pub total: i64,
}

/// The indicators of one agency, procedure, field, or of everything.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Indicators {
    /// Dossiers received by the agency in the period (online, at the counter or by post).
    pub received: i64,
    /// Dossiers the agency finished in the period: result returned, rejected or stopped.
    pub finished: i64,
    /// Finished on or before the due date.
    pub on_time: i64,
    /// Finished after the due date.
    pub late: i64,
    /// Submitted and not finished at the end of the period.
    pub in_progress: i64,
    /// Of those in progress, being processed past the due date.
    pub overdue: i64,
    /// `on_time / (on_time + late)`, none when nothing was finished against a deadline.
    pub on_time_rate: Option<f64>,
    /// Share of received dossiers that were submitted online.
    pub online_rate: Option<f64>,
    /// Share of received dossiers owing fees whose fees were paid online.
    pub online_payment_rate: Option<f64>,
    /// Mean overall satisfaction (1–5) of ratings given in the period.
    pub average_rating: Option<f64>,
    pub ratings: i64,
    pub feedback: FeedbackStats,
    #[serde(skip)]
    raw: Raw,
}

/// The counts the rates are made of, kept to add groups up.
#[derive(Debug, Default, Clone, Copy)]
struct Raw {
    received_online: i64,
    with_fee: i64,
    paid_online: i64,
    score_sum: i64,
}

/// One row of a grouped report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupIndicators {
    /// The agency, procedure or field id (`none` for feedback about no procedure).
    pub id: String,
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub indicators: Indicators,
}

/// A statistics report: the totals, then one row per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsReport {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The agency reported on, if one.
    pub agency_id: Option<String>,
    /// `agency`, `procedure`, `field`, or none.
    pub group_by: Option<String>,
    #[serde(flatten)]
    pub totals: Indicators,
    pub groups: Vec<GroupIndicators>,
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

fn parse_day(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let raw = raw?;
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| {
            errors.push(FieldError::new(field, "invalid_date", "Ngày dạng YYYY-MM-DD", "A date as YYYY-MM-DD"))
        })
        .ok()
}

/// The reporting period in stored (UTC) time; the days are Vietnamese business days.
pub(crate) fn period(q: &StatisticsQuery, today: NaiveDate) -> Result<(NaiveDate, NaiveDate, Period), ApiError> {
    let mut errors = Vec::new();
    let from = parse_day("from", q.from.as_deref(), &mut errors);
    let to = parse_day("to", q.to.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(from);
    let latest = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(to);
    if from > to {
        return Err(ApiError::field(FieldError::new("from", "after_to", "`from` sau `to`", "`from` is after `to`")));
    }
    if from < earliest || to > latest {
        return Err(ApiError::field(FieldError::new(
            "from",
            "out_of_range",
            "Kỳ báo cáo trong các năm 2000–2100",
            "The period lies within 2000–2100",
        )));
    }
    Ok((from, to, Period::of_days(from, to, to.min(today))))
}

fn grouping(raw: Option<&str>, default: Grouping) -> Result<Grouping, ApiError> {
    match raw {
        None => Ok(default),
        Some("agency") => Ok(Grouping::Agency),
        Some("procedure") => Ok(Grouping::Procedure),
        Some("field") => Ok(Grouping::Field),
        Some("none") => Ok(Grouping::All),
        Some(_) => Err(ApiError::field(FieldError::one_of("group_by", &["agency", "procedure", "field", "none"]))),
    }
}

fn grouping_name(g: Grouping) -> Option<String> {
    match g {
        Grouping::All => None,
        Grouping::Agency => Some("agency".into()),
        Grouping::Procedure => Some("procedure".into()),
        Grouping::Field => Some("field".into()),
    }
}

/// Indicators keyed by group, filled from the three aggregations.
fn indicators(
    conn: &mut DbConn,
    period: Period,
    agency: Option<&str>,
    grouping: Grouping,
) -> Result<BTreeMap<String, GroupIndicators>, ApiError> {
    let mut groups: BTreeMap<String, GroupIndicators> = BTreeMap::new();
    let dossiers = st::dossier_counts(conn, period, agency, grouping)?;
    let ratings = st::rating_counts(conn, period, agency, grouping)?;
    let feedback = st::feedback_counts(conn, period, agency, grouping)?;
    for c in dossiers {
        let g = group(&mut groups, c.group_key.clone(), c.group_code.clone(), c.group_name.clone());
        apply_dossiers(&mut g.indicators, &c);
    }
    for r in ratings {
        let g = group(&mut groups, r.group_key, r.group_code, r.group_name);
        g.indicators.ratings = r.ratings;
        g.indicators.raw.score_sum = r.score_sum;
        g.indicators.average_rating = average(r.score_sum, r.ratings);
    }
    for f in feedback {
        let g = group(&mut groups, f.group_key, f.group_code, f.group_name);
        let stats = &mut g.indicators.feedback;
        let by_kind = match f.kind.as_str() {
            "complaint" => &mut stats.complaint,
            "reflection" => &mut stats.reflection,
            _ => &mut stats.support_request,
        };
        match f.status.as_str() {
            "new" => by_kind.new += f.n,
            "in_progress" => by_kind.in_progress += f.n,
            "answered" => by_kind.answered += f.n,
            _ => by_kind.closed += f.n,
        }
        by_kind.total += f.n;
        stats.total += f.n;
    }
    Ok(groups)
}

fn group(
    groups: &mut BTreeMap<String, GroupIndicators>,
    key: Option<String>,
    code: Option<String>,
    name: Option<String>,
) -> &mut GroupIndicators {
    let id = key.unwrap_or_else(|| "none".into());
    groups.entry(id.clone()).or_insert_with(|| GroupIndicators { id, code, name, indicators: Indicators::default() })
}

fn apply_dossiers(i: &mut Indicators, c: &DossierCounts) {
    i.received = c.received;
    i.finished = c.finished;
    i.on_time = c.on_time;
    i.late = c.late;
    i.in_progress = c.in_progress;
    i.overdue = c.overdue;
    i.on_time_rate = rate(c.on_time, c.on_time + c.late);
    i.online_rate = rate(c.received_online, c.received);
    i.online_payment_rate = rate(c.paid_online, c.with_fee);
    i.raw.received_online = c.received_online;
    i.raw.with_fee = c.with_fee;
    i.raw.paid_online = c.paid_online;
}

fn average(score_sum: i64, ratings: i64) -> Option<f64> {
    (ratings > 0).then(|| (score_sum as f64 / ratings as f64 * 100.0).round() / 100.0)
}

/// The totals of groups that partition the dossiers, ratings and feedback of a report.
fn sum(groups: &[GroupIndicators]) -> Indicators {
    let mut t = Indicators::default();
    let add = |a: &mut StateCounts, b: &StateCounts| {
        a.new += b.new;
        a.in_progress += b.in_progress;
        a.answered += b.answered;
        a.closed += b.closed;
        a.total += b.total;
    };
    for g in groups {
        let i = &g.indicators;
        t.received += i.received;
        t.finished += i.finished;
        t.on_time += i.on_time;
        t.late += i.late;
        t.in_progress += i.in_progress;
        t.overdue += i.overdue;
        t.ratings += i.ratings;
        t.raw.received_online += i.raw.received_online;
        t.raw.with_fee += i.raw.with_fee;
        t.raw.paid_online += i.raw.paid_online;
        t.raw.score_sum += i.raw.score_sum;
        add(&mut t.feedback.complaint, &i.feedback.complaint);
        add(&mut t.feedback.reflection, &i.feedback.reflection);
        add(&mut t.feedback.support_request, &i.feedback.support_request);
        t.feedback.total += i.feedback.total;
    }
    t.on_time_rate = rate(t.on_time, t.on_time + t.late);
    t.online_rate = rate(t.raw.received_online, t.received);
    t.online_payment_rate = rate(t.raw.paid_online, t.raw.with_fee);
    t.average_rating = average(t.raw.score_sum, t.ratings);
    t
}

fn report(
    conn: &mut DbConn,
    (from, to, period): (NaiveDate, NaiveDate, Period),
    agency: Option<String>,
    grouping: Grouping,
) -> Result<StatisticsReport, ApiError> {
    // One pass over the rows: the groups partition them, so the totals are their sums.
    let (totals, groups) = match grouping {
        Grouping::All => {
            let all = indicators(conn, period, agency.as_deref(), Grouping::All)?;
            (all.into_values().next().map(|g| g.indicators).unwrap_or_default(), Vec::new())
        }
        g => {
            let mut rows: Vec<GroupIndicators> =
                indicators(conn, period, agency.as_deref(), g)?.into_values().collect();
            rows.sort_by(|a, b| b.indicators.received.cmp(&a.indicators.received).then(a.id.cmp(&b.id)));
            (sum(&rows), rows)
        }
    };
    Ok(StatisticsReport { from, to, agency_id: agency, group_by: grouping_name(grouping), totals, groups })
}

pub(crate) fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")))
}

/// A CSV cell: quoted when needed, and never read as a formula by a spreadsheet.
pub(crate) fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv(report: &StatisticsReport) -> String {
    let mut out = String::from(
        "group_id,group_code,group_name,from,to,received,finished,on_time,late,in_progress,overdue,on_time_rate,\
         online_rate,online_payment_rate,ratings,average_rating,complaints,reflections,support_requests,feedback_total\r\n",
    );
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let total = GroupIndicators { id: "total".into(), code: None, name: None, indicators: report.totals.clone() };
    for g in report.groups.iter().chain(std::iter::once(&total)) {
        let i = &g.indicators;
        let row = [
            cell(&g.id),
            cell(g.code.as_deref().unwrap_or("")),
            cell(g.name.as_deref().unwrap_or("")),
            report.from.to_string(),
            report.to.to_string(),
            i.received.to_string(),
            i.finished.to_string(),
            i.on_time.to_string(),
            i.late.to_string(),
            i.in_progress.to_string(),
            i.overdue.to_string(),
            opt(i.on_time_rate),
            opt(i.online_rate),
            opt(i.online_payment_rate),
            i.ratings.to_string(),
            opt(i.average_rating),
            i.feedback.complaint.total.to_string(),
            i.feedback.reflection.total.to_string(),
            i.feedback.support_request.total.to_string(),
            i.feedback.total.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn respond(req: &HttpRequest, report: StatisticsReport, filename: &str) -> HttpResponse {
    if wants_csv(req) {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}.csv\"")))
            .body(csv(&report))
    } else {
        HttpResponse::Ok().json(report)
    }
}

/// Service quality of all agencies.
///
/// Service quality across all agencies, one row per agency (or procedure, or field). Public, as the
/// portal publishes it. `Accept: text/csv` gives the same as a spreadsheet.
#[utoipa::path(operation_id = "getStatisticsSummary", tag = "statistics", params(StatisticsQuery), responses(
    (status = 200, description = "The report", content((StatisticsReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid period or grouping", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many statistics requests at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/statistics/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let period = period(&q, state.clock.today())?;
    let grouping = grouping(q.group_by.as_deref(), Grouping::Agency)?;
    let report = state.heavy(move |conn| report(conn, period, None, grouping)).await?;
    Ok(respond(&req, report, "thong-ke-tong-hop"))
}

/// The id of the agency named by id or by code.
pub(crate) fn known_agency(conn: &mut DbConn, key: &str) -> Result<String, ApiError> {
    dvc_persistence::catalogue::find_agency(conn, key)?
        .map(|a| a.id)
        .ok_or_else(|| ApiError::not_found("cơ quan", "Agency"))
}

/// Service quality of one agency.
///
/// Service quality of one agency, optionally per procedure or field. `Accept: text/csv` gives
/// the same as a spreadsheet.
#[utoipa::path(operation_id = "getAgencyStatistics", tag = "statistics", params(("id" = String, Path, description = "Agency id"), StatisticsQuery), responses(
    (status = 200, description = "The report", content((StatisticsReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid period or grouping", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many statistics requests at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/statistics/agencies/{id}")]
pub async fn agency_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "cơ quan", "Agency")?;
    let q = query.into_inner();
    let period = period(&q, state.clock.today())?;
    let grouping = grouping(q.group_by.as_deref(), Grouping::All)?;
    let report = state
        .heavy(move |conn| {
            let id = known_agency(conn, &id)?;
            report(conn, period, Some(id), grouping)
        })
        .await?;
    Ok(respond(&req, report, "thong-ke-co-quan"))
}

/// The period of a chart.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// First day, `YYYY-MM-DD` (default: 1 January of this year).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

/// Monthly dossiers received, finished on time and finished late, drawn as an SVG bar chart.
#[utoipa::path(operation_id = "getAgencyStatisticsChart", tag = "statistics", params(("id" = String, Path, description = "Agency id"), ChartQuery), responses(
    (status = 200, description = "An SVG image", body = String, content_type = "image/svg+xml"),
    (status = 400, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many statistics requests at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/statistics/agencies/{id}/chart.svg")]
pub async fn chart(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<ChartQuery>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "cơ quan", "Agency")?;
    let q = query.into_inner();
    let (from, to, period) = period(&StatisticsQuery { from: q.from, to: q.to, group_by: None }, state.clock.today())?;
    let (name, months) = state
        .heavy(move |conn| {
            let agency = dvc_persistence::catalogue::find_agency(conn, &id)?
                .ok_or_else(|| ApiError::not_found("cơ quan", "Agency"))?;
            Ok((agency.name, st::monthly(conn, period, Some(&agency.id))?))
        })
        .await?;
    let svg = crate::chart::monthly_svg(&name, from, to, &fill_months(from, to, months));
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(svg))
}

/// Every month of the period, with zeros where nothing happened (the last 120 months at most).
fn fill_months(from: NaiveDate, to: NaiveDate, counts: Vec<MonthCounts>) -> Vec<MonthCounts> {
    let mut by_month: BTreeMap<String, MonthCounts> = counts.into_iter().map(|m| (m.month.clone(), m)).collect();
    let mut out = Vec::new();
    let last = to.year() * 12 + to.month0() as i32;
    let first = (from.year() * 12 + from.month0() as i32).max(last - 119);
    let (mut y, mut m) = (first / 12, (first % 12 + 1) as u32);
    while (y, m) <= (to.year(), to.month()) {
        let key = format!("{y:04}-{m:02}");
        out.push(by_month.remove(&key).unwrap_or(MonthCounts { month: key, received: 0, on_time: 0, late: 0 }));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}
