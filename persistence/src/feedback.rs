//! Complaints, reflections and support requests with their history, and satisfaction ratings.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use dvc_domain::feedback::{FeedbackKind, FeedbackStatus};

use crate::codes::Code;
use crate::schema::{feedback, feedback_events, ratings};
use crate::DbConn;

type DB = <DbConn as diesel::Connection>::Backend;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = feedback, treat_none_as_null = true)]
pub struct FeedbackRow {
    pub id: String,
    pub code: String,
    pub kind: Code<FeedbackKind>,
    pub title: String,
    pub content: String,
    pub author_id: String,
    /// The agency that answers it.
    pub agency_id: String,
    pub procedure_id: Option<String>,
    pub dossier_id: Option<String>,
    pub status: Code<FeedbackStatus>,
    /// Whether an answered reflection may be published (the author's choice).
    pub publish: bool,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    /// How many times the author reopened it after an answer.
    pub reopened: i32,
    pub closed_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback_events)]
pub struct FeedbackEventRow {
    pub id: String,
    pub feedback_id: String,
    pub at: NaiveDateTime,
    /// A move, or `create` when it was filed.
    pub action: String,
    pub from_status: Option<Code<FeedbackStatus>>,
    pub to_status: Code<FeedbackStatus>,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub note: Option<String>,
}

/// The history entry of a piece of feedback's filing.
pub const FILED: &str = "create";

pub fn insert(conn: &mut DbConn, row: &FeedbackRow) -> QueryResult<()> {
    diesel::insert_into(feedback::table).values(row).execute(conn).map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<FeedbackRow>> {
    feedback::table.find(id).select(FeedbackRow::as_select()).first(conn).optional()
}

/// Writes a new state if nobody changed the feedback since `expected_version` was read.
pub fn update(conn: &mut DbConn, row: &FeedbackRow, expected_version: i32) -> QueryResult<bool> {
    let n = diesel::update(feedback::table.find(&row.id).filter(feedback::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_event(conn: &mut DbConn, row: &FeedbackEventRow) -> QueryResult<()> {
    diesel::insert_into(feedback_events::table).values(row).execute(conn).map(|_| ())
}

pub fn events(conn: &mut DbConn, feedback_id: &str) -> QueryResult<Vec<FeedbackEventRow>> {
    feedback_events::table
        .filter(feedback_events::feedback_id.eq(feedback_id))
        .order((feedback_events::at, feedback_events::id))
        .select(FeedbackEventRow::as_select())
        .load(conn)
}

/// Filters of feedback lists.
#[derive(Debug, Default, Clone)]
pub struct FeedbackFilter {
    pub author_id: Option<String>,
    pub agency_id: Option<String>,
    pub kind: Option<FeedbackKind>,
    pub status: Option<FeedbackStatus>,
    pub procedure_id: Option<String>,
    /// Only answered (or closed after an answer) reflections their authors let be published.
    pub public: bool,
}

fn query(f: &FeedbackFilter) -> feedback::BoxedQuery<'_, DB> {
    let mut q = feedback::table.into_boxed();
    if let Some(a) = &f.author_id {
        q = q.filter(feedback::author_id.eq(a));
    }
    if let Some(a) = &f.agency_id {
        q = q.filter(feedback::agency_id.eq(a));
    }
    if let Some(k) = f.kind {
        q = q.filter(feedback::kind.eq(Code(k)));
    }
    if let Some(s) = f.status {
        q = q.filter(feedback::status.eq(Code(s)));
    }
    if let Some(p) = &f.procedure_id {
        q = q.filter(feedback::procedure_id.eq(p));
    }
    if f.public {
        q = q
            .filter(feedback::kind.eq(Code(FeedbackKind::Reflection)))
            .filter(feedback::publish.eq(true))
            .filter(feedback::answered_at.is_not_null())
            .filter(feedback::status.eq_any(Code::all(&[FeedbackStatus::Answered, FeedbackStatus::Closed])));
    }
    q
}

/// A page of feedback: public lists by latest answer, queues oldest open first, authors newest first.
pub fn list(conn: &mut DbConn, f: &FeedbackFilter, offset: i64, limit: i64) -> QueryResult<(Vec<FeedbackRow>, i64)> {
    let total = query(f).count().get_result(conn)?;
    let q = query(f).select(FeedbackRow::as_select()).offset(offset).limit(limit);
    let rows = if f.public {
        q.order((feedback::answered_at.desc(), feedback::id)).load(conn)?
    } else if f.agency_id.is_some() {
        q.order((feedback::status.eq(Code(FeedbackStatus::New)).desc(), feedback::created_at, feedback::id))
            .load(conn)?
    } else {
        q.order((feedback::created_at.desc(), feedback::id)).load(conn)?
    };
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ratings)]
pub struct RatingRow {
    pub id: String,
    pub dossier_id: String,
    pub agency_id: String,
    pub procedure_id: String,
    pub author_id: String,
    pub score: i32,
    pub attitude: Option<i32>,
    pub timeliness: Option<i32>,
    pub transparency: Option<i32>,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Stores a rating; a second one for the same dossier breaks the unique key.
pub fn insert_rating(conn: &mut DbConn, row: &RatingRow) -> QueryResult<()> {
    diesel::insert_into(ratings::table).values(row).execute(conn).map(|_| ())
}

pub fn rating_of(conn: &mut DbConn, dossier_id: &str) -> QueryResult<Option<RatingRow>> {
    ratings::table.filter(ratings::dossier_id.eq(dossier_id)).select(RatingRow::as_select()).first(conn).optional()
}
