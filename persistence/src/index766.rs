//! What the Decision 766 index counts beyond the service-quality statistics: the agency's
//! procedures as published, electronic results, digitised and reused documents, procedures with
//! online dossiers and online payments, reflections with their answers, and unsatisfied ratings.
//!
//! Fixed statements with the domain's codes taken at compile time; the period and the agency are
//! bound parameters.

use chrono::NaiveDateTime;
use const_format::concatcp;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use diesel::QueryResult;
use diesel::QueryableByName;
use dvc_domain::catalogue::OnlineMode;
use dvc_domain::dossier::Channel;
use dvc_domain::feedback::FeedbackKind;
use dvc_domain::payment::PaymentStatus;
use dvc_domain::workflow::DossierStatus;

use crate::files::{APPLICANT, RESULT};
use crate::prepared::{Bind, Prepared};
use crate::statistics::Period;
use crate::DbConn;

/// A procedure of the agency: whether it is offered online, its fees, and whether the catalogue
/// publishes every part of it (documents, steps, legal basis, result).
#[derive(Debug, Clone, QueryableByName)]
pub struct ProcedureFacts {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub online: String,
    #[diesel(sql_type = Text)]
    pub fees: String,
    #[diesel(sql_type = Integer)]
    pub complete: i32,
}

impl ProcedureFacts {
    pub fn is_online(&self) -> bool {
        OnlineMode::parse(&self.online).is_some_and(|m| m != OnlineMode::None)
    }

    /// Whether any of its fees is more than nothing.
    pub fn has_fee(&self) -> bool {
        serde_json::from_str::<Vec<serde_json::Value>>(&self.fees)
            .map(|items| items.iter().any(|i| i.get("amount_vnd").and_then(|a| a.as_i64()).is_some_and(|a| a > 0)))
            .unwrap_or(false)
    }
}

const AGENCY_PROCEDURES: &str = "SELECT p.id AS id, p.online AS online, p.fees AS fees, \
     CASE WHEN p.required_documents <> '[]' AND p.steps <> '[]' AND p.legal_basis <> '[]' AND p.result <> '' \
     THEN 1 ELSE 0 END AS complete FROM procedures p \
     WHERE ({} IS NULL OR EXISTS (SELECT 1 FROM procedure_agencies pa WHERE pa.procedure_id = p.id AND pa.agency_id = {}))";

/// The procedures of an agency (every procedure without one).
pub fn procedures(conn: &mut DbConn, agency: Option<&str>) -> QueryResult<Vec<ProcedureFacts>> {
    Prepared::new(AGENCY_PROCEDURES, vec![Bind::OptText(agency), Bind::OptText(agency)]).load(conn)
}

#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct DossierFacts {
    #[diesel(sql_type = BigInt)]
    pub results_returned: i64,
    #[diesel(sql_type = BigInt)]
    pub electronic_results: i64,
    #[diesel(sql_type = BigInt)]
    pub digitised: i64,
    #[diesel(sql_type = BigInt)]
    pub reused: i64,
}

const RETURNED: &str =
    concatcp!("x.finished_at >= {} AND x.finished_at < {} AND x.status = '", DossierStatus::Returned.as_str(), "'");
const RECEIVED: &str = "x.received_at >= {} AND x.received_at < {}";
const AGENCY: &str = " AND ({} IS NULL OR x.agency_id = {})";

const DOSSIER_FACTS: &str = concatcp!(
    "SELECT COALESCE(SUM(CASE WHEN ",
    RETURNED,
    " THEN 1 ELSE 0 END), 0) AS results_returned, COALESCE(SUM(CASE WHEN ",
    RETURNED,
    " AND EXISTS (SELECT 1 FROM dossier_attachments r WHERE r.dossier_id = x.id AND r.kind = '",
    RESULT,
    "') THEN 1 ELSE 0 END), 0) AS electronic_results, COALESCE(SUM(CASE WHEN ",
    RECEIVED,
    " AND EXISTS (SELECT 1 FROM dossier_attachments a WHERE a.dossier_id = x.id AND a.kind = '",
    APPLICANT,
    "') AND NOT EXISTS (SELECT 1 FROM dossier_attachments a JOIN files f ON f.id = a.file_id \
       WHERE a.dossier_id = x.id AND a.kind = '",
    APPLICANT,
    "' AND f.digitization = 0) THEN 1 ELSE 0 END), 0) AS digitised, COALESCE(SUM(CASE WHEN ",
    RECEIVED,
    " AND EXISTS (SELECT 1 FROM dossier_attachments a JOIN files f ON f.id = a.file_id \
       WHERE a.dossier_id = x.id AND a.kind = '",
    APPLICANT,
    "' AND (f.digitization = 3 OR EXISTS (SELECT 1 FROM dossier_attachments b WHERE b.file_id = a.file_id \
       AND b.dossier_id <> a.dossier_id AND b.created_at < a.created_at))) THEN 1 ELSE 0 END), 0) AS reused \
     FROM dossiers x WHERE ((x.finished_at >= {} AND x.finished_at < {}) OR (",
    RECEIVED,
    "))",
    AGENCY
);

/// Dossiers whose result was returned in the period (and of these, with an electronic result),
/// and dossiers received in it with every document digitised, and with a document reused (a
/// result issued before, or a file first sent with another dossier).
pub fn dossier_facts(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<DossierFacts> {
    let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
    let mut binds = Vec::with_capacity(14);
    for _ in 0..6 {
        binds.extend([from, to]);
    }
    binds.extend([Bind::OptText(agency), Bind::OptText(agency)]);
    Ok(Prepared::new(DOSSIER_FACTS, binds).load::<DossierFacts>(conn)?.into_iter().next().unwrap_or_default())
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ProcedureUse {
    /// `online` (an online dossier was received) or `paid` (a dossier was paid online).
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub procedure_id: String,
}

const PROCEDURE_USE: &str = concatcp!(
    "SELECT DISTINCT 'online' AS kind, x.procedure_id AS procedure_id FROM dossiers x WHERE ",
    RECEIVED,
    " AND x.channel = '",
    Channel::Online.as_str(),
    "'",
    AGENCY,
    " UNION SELECT DISTINCT 'paid' AS kind, x.procedure_id AS procedure_id FROM dossiers x WHERE ",
    RECEIVED,
    " AND x.fee_vnd > 0 AND EXISTS (SELECT 1 FROM payments py WHERE py.dossier_id = x.id AND py.status IN ('",
    PaymentStatus::Paid.as_str(),
    "', '",
    PaymentStatus::Refunded.as_str(),
    "'))",
    AGENCY
);

/// The procedures with an online dossier received in the period, and with a dossier received in
/// it and paid online.
pub fn procedure_use(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<Vec<ProcedureUse>> {
    let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
    let a = Bind::OptText(agency);
    Prepared::new(PROCEDURE_USE, vec![from, to, a, a, from, to, a, a]).load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ReflectionRow {
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub answered_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer)]
    pub reopened: i32,
}

const REFLECTIONS: &str = concatcp!(
    "SELECT x.created_at AS created_at, x.answered_at AS answered_at, x.reopened AS reopened FROM feedback x \
     WHERE x.kind = '",
    FeedbackKind::Reflection.as_str(),
    "' AND x.created_at >= {} AND x.created_at < {}",
    AGENCY
);

/// Reflections and recommendations filed in the period: when, when answered, whether reopened.
pub fn reflections(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<Vec<ReflectionRow>> {
    let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
    Prepared::new(REFLECTIONS, vec![from, to, Bind::OptText(agency), Bind::OptText(agency)]).load(conn)
}

#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct RatingFacts {
    #[diesel(sql_type = BigInt)]
    pub ratings: i64,
    #[diesel(sql_type = BigInt)]
    pub unsatisfied: i64,
}

const RATINGS: &str = concatcp!(
    "SELECT COUNT(*) AS ratings, COALESCE(SUM(CASE WHEN x.score <= 2 THEN 1 ELSE 0 END), 0) AS unsatisfied \
     FROM ratings x WHERE x.created_at >= {} AND x.created_at < {}",
    AGENCY
);

/// Ratings given in the period, and those of 1 or 2 out of 5.
pub fn ratings(conn: &mut DbConn, period: Period, agency: Option<&str>) -> QueryResult<RatingFacts> {
    let (from, to) = (Bind::Timestamp(period.from), Bind::Timestamp(period.to));
    let binds = vec![from, to, Bind::OptText(agency), Bind::OptText(agency)];
    Ok(Prepared::new(RATINGS, binds).load::<RatingFacts>(conn)?.into_iter().next().unwrap_or_default())
}
