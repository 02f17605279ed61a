//! Pulling: the dossier sync and the change feed.

use super::*;

// ---------------------------------------------------------------------------------------------
// Pull: dossiers and events

/// A page of a machine feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `after` for what follows; none when this page is empty (keep your last cursor).
    pub next: Option<String>,
}

fn cursor(p: Position) -> String {
    format!("{}.{}", p.txid, p.seq)
}

fn parse_cursor(raw: Option<&str>) -> Result<Position, FieldError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(Position::default()) };
    let bad = || FieldError::new("after", "invalid_cursor", "Con trỏ không hợp lệ", "Not a cursor from this API");
    let (txid, seq) = raw.split_once('.').ok_or_else(bad)?;
    let txid: i64 = txid.parse().map_err(|_| bad())?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    if txid < 0 || seq < 0 {
        return Err(bad());
    }
    Ok(Position { txid, seq })
}

fn parse_limit(raw: Option<&str>, errors: &mut Vec<FieldError>) -> i64 {
    match raw.map(str::parse::<i64>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new("limit", "out_of_range", "limit từ 1 đến 1000", "limit is 1 to 1000"));
            100
        }
    }
}

/// Filters of the dossier sync.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    #[param(value_type = Option<DossierStatus>)]
    pub status: Option<String>,
    /// Only dossiers changed after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_after: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// Dossiers of the client's agencies, by change.
///
/// Dossiers of the client's agencies in the order they last changed. Paging with `after` never
/// skips or repeats a dossier, even while others are being written; a dossier that changes again
/// comes again, later in the order.
#[utoipa::path(operation_id = "syncDossiers", tag = "integration", params(SyncQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of dossiers", body = Feed<DossierView>),
    (status = 400, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/dossiers")]
pub async fn pull_dossiers(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    query: web::Query<SyncQuery>,
) -> ApiResult<web::Json<Feed<DossierView>>> {
    let client = caller(&state, &me).await?;
    let q = query.into_inner();
    let mut errors = Vec::new();
    let status =
        q.status.as_deref().and_then(|s| DossierStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok());
    let updated_after = q.updated_after.as_deref().and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                errors.push(FieldError::new("updated_after", "invalid_time", "Thời điểm RFC 3339", "An RFC 3339 time"))
            })
            .ok()
    });
    let after = parse_cursor(q.after.as_deref()).map_err(|e| errors.push(e)).unwrap_or_default();
    let limit = parse_limit(q.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = SyncFilter { agencies: client.agencies(), status, updated_after };
    let today = state.clock.today();
    let cache = state.cache.clone();
    let feed = state
        .db(move |conn| {
            let horizon = ig::horizon(conn)?;
            let rows = ig::dossiers_after(conn, &filter, after, horizon, limit)?;
            let next = rows.last().map(|(_, p)| cursor(*p));
            let cal = cache.calendar(conn)?;
            let rows = rows.into_iter().map(|(row, _)| (Dossier::from(row), Access::Agency, today)).collect();
            let items = svc::views_of(conn, rows, &cal)?;
            Ok(Feed { items, next })
        })
        .await?;
    Ok(web::Json(feed))
}

/// One change: a dossier submitted, moved or updated, a payment paid or refunded, feedback filed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEvent {
    pub id: String,
    /// `dossier.submitted`, `dossier.status_changed`, `dossier.updated`, `payment.paid`,
    /// `payment.refunded`, `feedback.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: String,
    pub agency_id: String,
    pub dossier_id: Option<String>,
    pub dossier_code: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// This event's position, usable as `after`.
    pub cursor: String,
}

/// Paging of the change feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The `next` (or an event's `cursor`) of the previous page.
    pub after: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// The change feed of the client's agencies.
///
/// Every dossier, payment and feedback event of the client's agencies, in commit order. An
/// event appears only once every transaction that started before it has finished, so a cursor
/// never passes an event that is still to come.
#[utoipa::path(operation_id = "listEvents", tag = "integration", params(EventsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of events", body = Feed<FeedEvent>),
    (status = 400, description = "Invalid cursor or limit", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/events")]
pub async fn event_feed(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    query: web::Query<EventsQuery>,
) -> ApiResult<web::Json<Feed<FeedEvent>>> {
    let client = caller(&state, &me).await?;
    let mut errors = Vec::new();
    let after = parse_cursor(query.after.as_deref()).map_err(|e| errors.push(e)).unwrap_or_default();
    let limit = parse_limit(query.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let agencies = client.agencies();
    let feed = state
        .db(move |conn| {
            let horizon = ig::horizon(conn)?;
            let rows = ig::events_after(conn, &agencies, after, horizon, limit)?;
            let next = rows.last().map(|e| cursor(Position { txid: e.txid, seq: e.seq }));
            let items = rows
                .into_iter()
                .map(|e| FeedEvent {
                    cursor: cursor(Position { txid: e.txid, seq: e.seq }),
                    data: serde_json::from_str(&e.data).unwrap_or_default(),
                    id: e.id,
                    event_type: e.event_type,
                    occurred_at: rfc3339(e.created_at),
                    agency_id: e.agency_id,
                    dossier_id: e.dossier_id,
                    dossier_code: e.dossier_code,
                })
                .collect();
            Ok(Feed { items, next })
        })
        .await?;
    Ok(web::Json(feed))
}
