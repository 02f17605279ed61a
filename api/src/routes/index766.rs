//! The index of Decision 766/QĐ-TTg for one agency or all: its five groups with their criteria,
//! values, points and the sources of the formulas; as JSON, CSV or a chart.

use std::collections::HashSet;
use std::fmt::Write;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use dvc_domain::index766::{self as index, Counts, FeedbackFacts, Scored, Spec};
use dvc_persistence::index766 as facts;
use dvc_persistence::statistics::{self as st, Grouping, Period};
use dvc_persistence::DbConn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::routes::statistics::{cell, known_agency, period, wants_csv, StatisticsQuery};
use crate::state::AppState;

/// The index as the decision describes it (`api/seed/index766.json`).
static SPEC: LazyLock<Spec> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../seed/index766.json")).expect("api/seed/index766.json is valid")
});

/// The period and the agency of the index.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Index766Query {
    /// First day, `YYYY-MM-DD` (default: 1 January of this year).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// The agency, by id or official code (default: every agency).
    #[param(example = "H26.00004")]
    pub agency_id: Option<String>,
}

/// The agency an index is of.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexAgency {
    pub id: String,
    pub code: String,
    pub name: String,
}

/// The Decision 766 index of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct Index766Report {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The agency, or none for every agency.
    pub agency: Option<IndexAgency>,
    #[serde(flatten)]
    pub score: Scored,
    /// The decision, the sources of the groups, criteria and formulas, and when they were checked.
    pub decision: String,
    pub sources: Vec<String>,
    pub checked: String,
    /// How values become points.
    pub scale: String,
    /// Working days an agency has to answer a reflection or recommendation.
    pub feedback_answer_working_days: u32,
}

/// Everything the index counts, in one read.
fn counts(conn: &mut DbConn, p: Period, agency: Option<&str>) -> Result<Counts, ApiError> {
    let mut c = Counts::default();
    let procedures = facts::procedures(conn, agency)?;
    let used = facts::procedure_use(conn, p, agency)?;
    let used_online: HashSet<&str> =
        used.iter().filter(|u| u.kind == "online").map(|u| u.procedure_id.as_str()).collect();
    let paid_online: HashSet<&str> =
        used.iter().filter(|u| u.kind == "paid").map(|u| u.procedure_id.as_str()).collect();
    for proc in &procedures {
        c.procedures += 1;
        c.procedures_complete += i64::from(proc.complete == 1);
        if proc.is_online() {
            c.procedures_online += 1;
            c.procedures_online_used += i64::from(used_online.contains(proc.id.as_str()));
        }
        if proc.has_fee() {
            c.procedures_with_fee += 1;
            c.procedures_paid_online += i64::from(paid_online.contains(proc.id.as_str()));
        }
    }
    if let Some(d) = st::dossier_counts(conn, p, agency, Grouping::All)?.into_iter().next() {
        c.finished_in_time = d.on_time;
        c.finished_late = d.late;
        c.received = d.received;
        c.received_online = d.received_online;
        c.with_fee = d.with_fee;
        c.paid_online = d.paid_online;
    }
    let d = facts::dossier_facts(conn, p, agency)?;
    c.results_returned = d.results_returned;
    c.electronic_results = d.electronic_results;
    c.digitised = d.digitised;
    c.reused = d.reused;
    let r = facts::ratings(conn, p, agency)?;
    c.ratings = r.ratings;
    c.ratings_unsatisfied = r.unsatisfied;
    let reflections: Vec<FeedbackFacts> = facts::reflections(conn, p, agency)?
        .into_iter()
        .map(|f| FeedbackFacts {
            filed_on: crate::calendar::local_date(f.created_at),
            answered_on: f.answered_at.map(crate::calendar::local_date),
            reopened: f.reopened > 0,
        })
        .collect();
    if !reflections.is_empty() {
        let calendar = crate::calendar::load(conn)?;
        index::count_feedback(&mut c, &reflections, &calendar, SPEC.feedback_answer_working_days, p.report_day);
    }
    Ok(c)
}

async fn report(state: &AppState, q: Index766Query) -> Result<Index766Report, ApiError> {
    let query = StatisticsQuery { from: q.from, to: q.to, group_by: None };
    let (from, to, p) = period(&query, state.clock.today())?;
    let agency_key = q.agency_id;
    let (agency, counts) = state
        .heavy(move |conn| {
            let agency = match &agency_key {
                Some(key) => {
                    let id = known_agency(conn, key)?;
                    let row = dvc_persistence::catalogue::find_agency(conn, &id)?
                        .ok_or_else(|| ApiError::not_found("cơ quan", "Agency"))?;
                    Some(IndexAgency { id: row.id, code: row.code, name: row.name })
                }
                None => None,
            };
            let counts = counts(conn, p, agency.as_ref().map(|a| a.id.as_str()))?;
            Ok((agency, counts))
        })
        .await?;
    Ok(Index766Report {
        from,
        to,
        agency,
        score: index::score(&SPEC, &counts),
        decision: SPEC.decision.clone(),
        sources: SPEC.sources.clone(),
        checked: SPEC.checked.clone(),
        scale: SPEC.scale.clone(),
        feedback_answer_working_days: SPEC.feedback_answer_working_days,
    })
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// One row per criterion, then one per group and the total.
fn csv(r: &Index766Report) -> String {
    let mut out = String::from(
        "from,to,agency_code,group,criterion,name,numerator,denominator,value,group_points,group_max_points\r\n",
    );
    let agency = r.agency.as_ref().map(|a| a.code.as_str()).unwrap_or("");
    let mut row = |group: &str, criterion: &str, name: &str, cells: [String; 5]| {
        let line = [r.from.to_string(), r.to.to_string(), cell(agency), cell(group), cell(criterion), cell(name)]
            .into_iter()
            .chain(cells)
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    };
    for g in &r.score.groups {
        for c in &g.criteria {
            let cells = [opt(c.numerator), opt(c.denominator), opt(c.value), String::new(), String::new()];
            row(&g.code, &c.code, &c.name, cells);
        }
        let cells = [String::new(), String::new(), opt(g.value), opt(g.points), g.max_points.to_string()];
        row(&g.code, "", &g.name, cells);
    }
    let total =
        [String::new(), String::new(), String::new(), r.score.points.to_string(), r.score.max_points.to_string()];
    row("total", "", "Tổng điểm", total);
    out
}

/// The index of Decision 766/QĐ-TTg.
///
/// The five groups of the index (transparency 18 points, timeliness 20, digitisation 22, online
/// services and payment 22, satisfaction 18) for one agency or every agency over a period: each
/// criterion with its formula, what was counted and its value; each group with its points. Criteria
/// that dvc cannot measure say why and count for nothing; `max_points` is the maximum of the
/// groups measured. Public, as the portal publishes it; `Accept: text/csv` gives a spreadsheet.
#[utoipa::path(operation_id = "getIndex766", tag = "statistics", params(Index766Query), responses(
    (status = 200, description = "The index", content((Index766Report = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many statistics requests at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/statistics/index766")]
pub async fn index766(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Index766Query>,
) -> ApiResult<HttpResponse> {
    let r = report(&state, query.into_inner()).await?;
    Ok(if wants_csv(&req) {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"chi-so-766.csv\""))
            .body(csv(&r))
    } else {
        HttpResponse::Ok().json(r)
    })
}

/// The five groups as horizontal bars: points against each group's maximum.
fn svg(r: &Index766Report) -> String {
    let (width, row, left, top) = (760, 56, 260, 80);
    let height = top + row * r.score.groups.len() as i64 + 40;
    let bar = (width - left - 80) as f64;
    let title = r.agency.as_ref().map_or("Tất cả cơ quan".to_string(), |a| a.name.clone());
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="14"><rect width="100%" height="100%" fill="#fff"/><text x="20" y="30" font-size="18" font-weight="bold">Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg): {} / {} điểm</text><text x="20" y="54" fill="#444">{} — {} đến {}</text>"##,
        r.score.points,
        r.score.max_points,
        crate::chart::escape(&title),
        r.from.format("%d/%m/%Y"),
        r.to.format("%d/%m/%Y"),
    );
    for (i, g) in r.score.groups.iter().enumerate() {
        let y = top + row * i as i64;
        let full = bar * g.max_points / 22.0;
        let got = bar * g.points.unwrap_or(0.0) / 22.0;
        let label = g.points.map_or("chưa đo".to_string(), |p| format!("{p} / {}", g.max_points));
        let _ = write!(
            s,
            r##"<text x="20" y="{}">{}</text><rect x="{left}" y="{}" width="{full:.1}" height="24" fill="#e5e5e5"/><rect x="{left}" y="{}" width="{got:.1}" height="24" fill="#0072B2"/><text x="{:.1}" y="{}">{}</text>"##,
            y + 17,
            crate::chart::escape(&g.name),
            y,
            y,
            left as f64 + full + 8.0,
            y + 17,
            label,
        );
    }
    s.push_str("</svg>");
    s
}

/// The index of Decision 766/QĐ-TTg, drawn as an SVG bar chart of its five groups.
#[utoipa::path(operation_id = "getIndex766Chart", tag = "statistics", params(Index766Query), responses(
    (status = 200, description = "An SVG image", body = String, content_type = "image/svg+xml"),
    (status = 400, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "Too many statistics requests at once: try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
))]
#[get("/statistics/index766/chart.svg")]
pub async fn index766_chart(state: web::Data<AppState>, query: web::Query<Index766Query>) -> ApiResult<HttpResponse> {
    let r = report(&state, query.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(svg(&r)))
}
