//! Pushing: workflow moves and counter registrations.

use dvc_domain::dossier::{AgencyId, Channel, ProcedureId, Registration};

use super::*;

// ---------------------------------------------------------------------------------------------
// Push: transitions and counter registrations

/// A dossier of the client's agencies, by code; any other is not found.
pub(crate) fn client_dossier(conn: &mut DbConn, client: &ClientRow, code: &str) -> Result<Dossier, ApiError> {
    d::find_by_code(conn, code)?
        .filter(|row| client.agencies().iter().any(|a| a == row.agency_id.as_str()))
        .ok_or_else(svc::not_found)
}

/// Move a dossier through the workflow (one-stop systems).
///
/// Move a dossier through the same workflow officers use. Send an `Idempotency-Key`: a retry with
/// the same key and body gets the first answer and changes nothing; the same key with another
/// body is 422.
#[utoipa::path(operation_id = "moveDossierByCode", tag = "integration", request_body = TransitionInput, security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code"), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
    (status = 200, description = "Moved", body = DossierView),
    (status = 400, description = "Missing reason, note or date", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier among the client's agencies", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The workflow does not allow this move now", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Results missing, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
))]
#[post("/integration/dossiers/{code}/transitions")]
pub async fn push_transition(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    req: HttpRequest,
    code: web::Path<String>,
    body: RawBody<TransitionInput>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let code = path_key(code.into_inner(), "hồ sơ", "Dossier")?;
    let RawBody(input, bytes) = body;
    let idem = crate::idempotency::from_request(&req, &client.id, &format!("integration-move:{code}"), &bytes)?;
    let action = svc::action_of(&input)?;
    let at = state.clock.moment();
    let cache = state.cache.clone();
    let (status, json) = state
        .tx(move |conn| {
            if let Some(stored) = idem.as_ref().map(|i| i.begin(conn)).transpose()?.flatten() {
                return Ok(stored);
            }
            let row = client_dossier(conn, &client, &code)?;
            let cal = cache.calendar(conn)?;
            let actor = Actor::agency(&client.id, Role::Integration);
            let command = input.command(action);
            let row = svc::apply(conn, row, &command, input.note.as_deref(), &actor, &cal, at)?;
            let view = svc::view(conn, row, Access::Agency, &cal, at.today)?;
            let json = serde_json::to_string(&view).map_err(|_| ApiError::internal())?;
            if let Some(i) = &idem {
                i.remember(conn, 200, &json)?;
            }
            Ok((200, json))
        })
        .await?;
    Ok(HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .content_type("application/json")
        .body(json))
}

/// The applicant of a dossier received at a counter or by post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterApplicant {
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A dossier received at a counter (`counter`, channel 1) or by post (`post`, channel 3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterDossier {
    /// Id or code of the procedure.
    pub procedure_id: String,
    /// `counter` or `post`.
    pub channel: String,
    pub applicant: CounterApplicant,
    /// Where it stands now (default `received`).
    #[schema(value_type = Option<DossierStatus>)]
    pub status: Option<String>,
    /// When it was received (RFC 3339; default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<String>,
    /// The appointed date (default: the procedure's working days from reception).
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
}

/// The agency whose code starts a dossier code `<agency code>-<yyMMdd>-<NNNN>`.
fn agency_of_code(conn: &mut DbConn, client: &ClientRow, code: &str) -> Result<String, ApiError> {
    let agency = match dvc_domain::workflow::parse_dossier_code(code) {
        Some((agency_code, _, _)) => dvc_persistence::catalogue::find_agency_by_code(conn, agency_code)?,
        None => None,
    };
    agency.map(|a| a.id).filter(|id| client.agencies().contains(id)).ok_or_else(svc::not_found)
}

/// What a one-stop system reports, checked field by field: the channel, the status, the time
/// of reception and the applicant block.
fn check_counter(input: &CounterDossier) -> Result<(Channel, DossierStatus, Option<NaiveDateTime>), ApiError> {
    let mut errors = Vec::new();
    let channel = match input.channel.as_str() {
        "counter" => Some(Channel::Counter),
        "post" => Some(Channel::Post),
        _ => {
            errors.push(FieldError::one_of("channel", &["counter", "post"]));
            None
        }
    };
    dvc_domain::catalogue::check_text("applicant.full_name", &input.applicant.full_name, 200, &mut errors);
    if let Some(id) = input.applicant.id_number.as_deref().filter(|s| !s.is_empty()) {
        let _ = dvc_domain::identity::CitizenId::parse("applicant.id_number", id, None).map_err(|e| errors.push(e));
    }
    if let Some(phone) = input.applicant.phone.as_deref().filter(|s| !s.is_empty()) {
        let _ = dvc_domain::identity::PhoneNumber::parse("applicant.phone", phone).map_err(|e| errors.push(e));
    }
    if let Some(email) = input.applicant.email.as_deref().filter(|s| !s.is_empty()) {
        let _ = dvc_domain::identity::Email::parse("applicant.email", email).map_err(|e| errors.push(e));
    }
    let status = match input.status.as_deref() {
        None => Some(DossierStatus::Received),
        Some(s) => DossierStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok(),
    };
    let received_at = input.received_at.as_deref().and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                errors.push(FieldError::new("received_at", "invalid_time", "Thời điểm RFC 3339", "An RFC 3339 time"))
            })
            .ok()
    });
    if status == Some(DossierStatus::Draft) {
        errors.push(FieldError::new("status", "invalid", "Không đồng bộ bản nháp", "Drafts are not synced"));
    }
    match (channel, status) {
        (Some(channel), Some(status)) if errors.is_empty() => Ok((channel, status, received_at)),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Register or update a counter or post dossier.
///
/// Register, or bring up to date, a dossier received at a counter or by post, so that its
/// applicant can track it by code like any other. 201 when new, 200 when updated.
#[utoipa::path(operation_id = "registerCounterDossier", tag = "integration", request_body = CounterDossier, security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code, `<agency code>-<yyMMdd>-<NNNN>`")),
    responses(
    (status = 200, description = "Updated", body = DossierView),
    (status = 201, description = "Registered", body = DossierView),
    (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "The code is not of the client's agencies", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "An online dossier (move it with transitions), or a status no moves lead to", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
))]
#[put("/integration/dossiers/{code}")]
pub async fn put_dossier(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    code: web::Path<String>,
    body: Body<CounterDossier>,
) -> ApiResult<HttpResponse> {
    let client = caller(&state, &me).await?;
    let code = path_key(code.into_inner(), "hồ sơ", "Dossier")?;
    let input = body.0;
    let (channel, status, received_at) = check_counter(&input)?;
    let at = state.clock.moment();
    let cache = state.cache.clone();
    let (created, view) = state
        .tx(move |conn| {
            let existing = d::find_by_code(conn, &code)?;
            let agency_id = match &existing {
                Some(row) if client.agencies().iter().any(|a| a == row.agency_id.as_str()) => row.agency_id.0.clone(),
                Some(_) => return Err(svc::not_found()),
                None => agency_of_code(conn, &client, &code)?,
            };
            if existing.as_ref().is_some_and(|row| row.channel == Channel::Online) {
                return Err(dvc_domain::dossier::Refusal::OnlineDossier.into());
            }
            let taken = crate::dossier::procedure_snapshot(conn, &cache, &input.procedure_id, &agency_id, false)?;
            let applicant = serde_json::json!({
                "full_name": input.applicant.full_name.trim(), "id_number": input.applicant.id_number,
                "phone": input.applicant.phone, "email": input.applicant.email,
            });
            let registration = Registration {
                code: code.clone(),
                agency_id: AgencyId(agency_id),
                procedure_id: ProcedureId(taken.procedure_id),
                procedure: taken.snapshot,
                procedure_version: taken.version,
                channel,
                applicant: serde_json::value::to_raw_value(&applicant).map_err(|_| ApiError::internal())?,
                status,
                received_at,
                due_date: input.due_date,
            };
            let cal = cache.calendar(conn)?;
            let actor = Actor::agency(&client.id, Role::Integration);
            let (created, dossier) = svc::save_registration(conn, existing.as_ref(), &registration, &actor, &cal, at)?;
            Ok((created, svc::view(conn, dossier, Access::Agency, &cal, at.today)?))
        })
        .await?;
    let mut res = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(res.json(view))
}
