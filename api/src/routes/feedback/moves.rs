//! Moves of a piece of feedback (start, answer, reopen, close) and the author's publication choice.

use super::*;

/// The answer of an officer, or the reason of a reopening.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackNote {
    #[schema(min_length = 1, max_length = 5000)]
    pub content: Option<String>,
}

/// Moves a piece of feedback and records it; the author hears about answers through the outbox.
async fn move_feedback(
    state: &AppState,
    me: Principal,
    id: String,
    action: FeedbackAction,
    note: Option<String>,
) -> ApiResult<web::Json<FeedbackView>> {
    let id = path_key(id, "phản ánh, kiến nghị", "Feedback")?;
    // The text is checked before anything is read: a bad request is one whoever sends it.
    check_content(action, note.as_deref())?;
    let at = state.clock.moment();
    let view = state
        .tx(move |conn| {
            let mut row = fb::find(conn, &id)?.ok_or_else(not_found)?;
            let who = viewer(&me, &row)?;
            let side = if who == Viewer::Author { Side::Applicant } else { Side::Agency };
            // The other side's moves are forbidden; one's own at the wrong time is a conflict.
            let decision =
                decide(Standing { status: row.status.0, reopened: row.reopened }, action, note.as_deref(), side)?;
            if let Some(text) = &decision.answer {
                row.answer = Some(text.clone());
                row.answered_by = Some(me.id().into());
                row.answered_at = Some(at.now);
            }
            if decision.closes {
                row.closed_at = Some(at.now);
            }
            row.reopened = decision.reopened;
            let (from, to, note) = (decision.from, decision.to, decision.note);
            row.status = Code(to);
            let expected = row.version;
            row.version += 1;
            row.updated_at = at.now;
            if !fb::update(conn, &row, expected)? {
                return Err(ApiError::conflict(Msg::new(
                    "Phản ánh vừa được cập nhật; hãy thử lại",
                    "The feedback changed meanwhile; try again",
                )));
            }
            record(conn, &row, action.as_str(), Some(from), to, &me, note, at.now)?;
            if action == FeedbackAction::Answer {
                notify_author(conn, &row, at.now)?;
            }
            view(conn, row, who)
        })
        .await?;
    Ok(web::Json(view))
}

fn notify_author(conn: &mut DbConn, row: &FeedbackRow, at: chrono::NaiveDateTime) -> Result<(), ApiError> {
    let params = [("code".to_string(), row.code.clone())].into();
    if let Some(notice) =
        crate::notify::to_account(conn, &row.author_id, dvc_domain::notify::Purpose::FeedbackAnswered, params)?
    {
        crate::notify::enqueue(conn, notice, at)?;
    }
    Ok(())
}

macro_rules! feedback_move {
    ($(#[$doc:meta])* $name:ident, $id:literal, $path:literal, $action:expr, $ok:literal, $who:literal) => {
        $(#[$doc])*
        #[utoipa::path(operation_id = $id, tag = "feedback", security(("bearer" = [])), params(("id" = String, Path, description = "Feedback id")), responses(
            (status = 200, description = $ok, body = FeedbackView),
            (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
            (status = 403, description = $who, body = Problem, content_type = "application/problem+json"),
            (status = 404, description = "No such feedback for this caller", body = Problem, content_type = "application/problem+json"),
            (status = 409, description = "Not allowed in its present state", body = Problem, content_type = "application/problem+json"),
        ))]
        #[post($path)]
        pub async fn $name(state: web::Data<AppState>, me: Principal, id: web::Path<String>) -> ApiResult<web::Json<FeedbackView>> {
            move_feedback(&state, me, id.into_inner(), $action, None).await
        }
    };
}

feedback_move!(
    /// An officer takes up a new piece of feedback.
    ///
    /// Its state goes from `new` to `in_progress`.
    start, "startFeedback", "/feedback/{id}/start", FeedbackAction::Start, "In progress", "Only the agency takes feedback up"
);
feedback_move!(
    /// Close an answered piece of feedback: its author accepts the answer, or the agency closes it.
    close, "closeFeedback", "/feedback/{id}/close", FeedbackAction::Close, "Closed", "Not the author nor the agency"
);

/// An officer of the agency answers; the author is notified (SMS or e-mail).
#[utoipa::path(operation_id = "answerFeedback", tag = "feedback", request_body = FeedbackNote, security(("bearer" = [])), params(("id" = String, Path, description = "Feedback id")), responses(
    (status = 200, description = "Answered", body = FeedbackView),
    (status = 400, description = "The answer (`content`) is missing or invalid", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Only the agency answers", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such feedback for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Already answered or closed", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/feedback/{id}/answer")]
pub async fn answer(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: Body<FeedbackNote>,
) -> ApiResult<web::Json<FeedbackView>> {
    move_feedback(&state, me, id.into_inner(), FeedbackAction::Answer, body.0.content).await
}

/// Reopen an answered piece of feedback.
///
/// The author reopens an answer they are not satisfied with (once), saying why in `content`.
#[utoipa::path(operation_id = "reopenFeedback", tag = "feedback", request_body = FeedbackNote, security(("bearer" = [])), params(("id" = String, Path, description = "Feedback id")), responses(
    (status = 200, description = "Back in progress", body = FeedbackView),
    (status = 400, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Only the author reopens", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such feedback for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not answered, or already reopened once", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/feedback/{id}/reopen")]
pub async fn reopen(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: Body<FeedbackNote>,
) -> ApiResult<web::Json<FeedbackView>> {
    move_feedback(&state, me, id.into_inner(), FeedbackAction::Reopen, body.0.content).await
}

/// What the author may change after filing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPatch {
    /// Whether the answer may be published (reflections only are ever published).
    pub publish: bool,
}

/// The author allows or withdraws publication of the answer.
#[utoipa::path(operation_id = "updateFeedback", tag = "feedback", request_body = FeedbackPatch, security(("bearer" = [])), params(("id" = String, Path, description = "Feedback id")), responses(
    (status = 200, description = "Updated", body = FeedbackView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Only the author decides", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such feedback for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/feedback/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: Body<FeedbackPatch>,
) -> ApiResult<web::Json<FeedbackView>> {
    let id = path_key(id.into_inner(), "phản ánh, kiến nghị", "Feedback")?;
    let publish = body.0.publish;
    let t = state.clock.now();
    let view = state
        .tx(move |conn| {
            let mut row = fb::find(conn, &id)?.ok_or_else(not_found)?;
            if viewer(&me, &row)? != Viewer::Author {
                return Err(ApiError::forbidden());
            }
            let expected = row.version;
            row.publish = publish;
            row.version += 1;
            row.updated_at = t;
            if !fb::update(conn, &row, expected)? {
                return Err(ApiError::conflict(Msg::new(
                    "Phản ánh vừa được cập nhật; hãy thử lại",
                    "The feedback changed meanwhile; try again",
                )));
            }
            view(conn, row, Viewer::Author)
        })
        .await?;
    Ok(web::Json(view))
}
