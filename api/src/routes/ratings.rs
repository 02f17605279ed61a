//! Satisfaction ratings of finished dossiers, by their applicants.

use actix_web::{get, post, web, HttpResponse};
use dvc_domain::workflow::DossierStatus;
use dvc_persistence::feedback::{self as fb, RatingRow};
use dvc_persistence::new_id;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::rfc3339;
use crate::dossier::{self as svc, Access};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::extract::Body;
use crate::guards::Principal;
use crate::routes::path_key;
use crate::state::AppState;

/// A satisfaction rating of a finished dossier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// Overall satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
    /// Officers' attitude, 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub attitude: Option<i64>,
    /// Keeping to the deadline, 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub timeliness: Option<i64>,
    /// Clarity of the procedure and its progress, 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub transparency: Option<i64>,
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// A stored rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub dossier_id: String,
    pub score: i32,
    pub attitude: Option<i32>,
    pub timeliness: Option<i32>,
    pub transparency: Option<i32>,
    pub comment: Option<String>,
    pub created_at: String,
}

impl From<RatingRow> for RatingView {
    fn from(r: RatingRow) -> Self {
        Self {
            dossier_id: r.dossier_id,
            score: r.score,
            attitude: r.attitude,
            timeliness: r.timeliness,
            transparency: r.transparency,
            comment: r.comment,
            created_at: rfc3339(r.created_at),
        }
    }
}

/// Rate how a dossier was handled.
///
/// Rate how a dossier was handled: its applicant only, once, after the agency finished with it
/// (returned, rejected or stopped).
#[utoipa::path(operation_id = "rateDossier", tag = "feedback", request_body = NewRating, security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 201, description = "Rated", body = RatingView),
    (status = 400, description = "A score outside 1–5, or an invalid comment", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not finished yet, or already rated", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[post("/dossiers/{id}/rating")]
pub async fn rate(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
    body: Body<NewRating>,
) -> ApiResult<HttpResponse> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let input = body.0;
    let mut errors = Vec::new();
    dvc_domain::feedback::check_scores(
        &[
            ("score", Some(input.score)),
            ("attitude", input.attitude),
            ("timeliness", input.timeliness),
            ("transparency", input.transparency),
        ],
        &mut errors,
    );
    if let Some(c) = &input.comment {
        if !c.trim().is_empty() {
            dvc_domain::catalogue::check_text("comment", c, 2000, &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let t = state.clock.now();
    let rating = state
        .tx(move |conn| {
            let (row, access) = svc::load(conn, &me.caller(), &id)?;
            if access != Access::Owner {
                return Err(ApiError::forbidden());
            }
            if !DossierStatus::SETTLED.contains(&row.status) {
                let mut e = ApiError::conflict(Msg::new(
                    "Chỉ đánh giá khi cơ quan đã trả kết quả, từ chối hoặc dừng xử lý hồ sơ",
                    "A dossier is rated once the agency has returned the result, rejected or stopped it",
                ));
                e.code = "not_finished";
                return Err(e);
            }
            if fb::rating_of(conn, row.id.as_str())?.is_some() {
                let mut e = ApiError::conflict(Msg::new("Hồ sơ đã được đánh giá", "This dossier is already rated"));
                e.code = "already_rated";
                return Err(e);
            }
            let score = |v: Option<i64>| v.map(|v| v as i32);
            let rating = RatingRow {
                id: new_id(),
                dossier_id: row.id.0.clone(),
                agency_id: row.agency_id.0.clone(),
                procedure_id: row.procedure_id.0.clone(),
                author_id: me.id().into(),
                score: input.score as i32,
                attitude: score(input.attitude),
                timeliness: score(input.timeliness),
                transparency: score(input.transparency),
                comment: input.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
                created_at: t,
            };
            fb::insert_rating(conn, &rating)?;
            Ok(rating)
        })
        .await?;
    Ok(HttpResponse::Created().json(RatingView::from(rating)))
}

/// The rating of a dossier, for its applicant, the agency and administrators.
#[utoipa::path(operation_id = "getRating", tag = "feedback", security(("bearer" = [])), params(("id" = String, Path, description = "Dossier id")), responses(
    (status = 200, description = "The rating", body = RatingView),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: others are told it does not exist", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller, or not rated", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/rating")]
pub async fn get_rating(
    state: web::Data<AppState>,
    me: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<RatingView>> {
    let id = path_key(id.into_inner(), "hồ sơ", "Dossier")?;
    let rating = state
        .db(move |conn| {
            let (row, _) = svc::load(conn, &me.caller(), &id)?;
            fb::rating_of(conn, row.id.as_str())?.ok_or_else(|| ApiError::not_found("đánh giá", "Rating"))
        })
        .await?;
    Ok(web::Json(rating.into()))
}
