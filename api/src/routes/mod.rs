//! HTTP handlers, one module per resource.

pub mod admin_catalogue;
pub mod agency;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod documents;
pub mod dossiers;
pub mod feedback;
pub mod fines;
pub mod gateway;
pub mod index766;
pub mod integration;
pub mod me;
pub mod messages;
pub mod my_dossiers;
pub mod oidc;
pub mod ops;
pub mod payments;
pub mod ratings;
pub mod registrations;
pub mod staff;
pub mod statistics;
pub mod tracking;
pub mod verify;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::http::header;
use actix_web::{App, Error, HttpRequest};
use dvc_domain::page::PageRequest;
use utoipa_actix_web::{scope, UtoipaApp};

use crate::error::ApiError;
pub use crate::page::{check_if_match, etag, Page};

/// An id or code from the path; anything that cannot be one is simply not found.
pub fn path_key(raw: String, what_vi: &str, what_en: &str) -> Result<String, ApiError> {
    if dvc_domain::text::is_lookup_key(&raw) {
        Ok(raw)
    } else {
        Err(ApiError::not_found(what_vi, what_en))
    }
}

/// An id or code given as a filter. One that cannot exist is kept as a key that matches nothing,
/// so that the answer is an empty list, as for any other unknown id.
pub fn filter_key(raw: Option<String>) -> Option<String> {
    let raw = raw.filter(|s| !s.is_empty())?;
    Some(if dvc_domain::text::is_lookup_key(&raw) { raw } else { "-".to_string() })
}

/// The page and status filter of a dossier list, recording what is invalid in `errors`.
pub fn page_and_status(
    page: &Option<String>,
    per_page: &Option<String>,
    status: &Option<String>,
    errors: &mut Vec<dvc_domain::FieldError>,
) -> (PageRequest, Option<dvc_domain::workflow::DossierStatus>) {
    let page = PageRequest::parse(page.as_deref(), per_page.as_deref()).unwrap_or_else(|mut e| {
        errors.append(&mut e);
        PageRequest::default()
    });
    let status = status
        .as_deref()
        .and_then(|s| dvc_domain::workflow::DossierStatus::parse_field("status", s).map_err(|e| errors.push(e)).ok());
    (page, status)
}

/// An agency filter named by id or by official code, as the id the rows hold (a name no agency
/// has stays as it is, and matches nothing).
pub async fn agency_filter(state: &crate::state::AppState, key: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(key) = filter_key(key) else { return Ok(None) };
    let found = state
        .db({
            let key = key.clone();
            move |conn| Ok(dvc_persistence::catalogue::find_agency(conn, &key)?)
        })
        .await?;
    Ok(Some(found.map(|a| a.id).unwrap_or(key)))
}

/// The ids of agencies named by id or by official code; a name no agency has is a field error.
pub fn agency_ids(conn: &mut dvc_persistence::DbConn, field: &str, keys: &[String]) -> Result<Vec<String>, ApiError> {
    let unknown = || {
        ApiError::field(dvc_domain::FieldError::new(
            field,
            "unknown",
            "Có cơ quan không tồn tại",
            "An agency does not exist",
        ))
    };
    if keys.iter().any(|k| !dvc_domain::text::is_lookup_key(k)) {
        return Err(unknown());
    }
    let mut ids = dvc_persistence::catalogue::agency_ids_of(conn, keys)?
        .into_iter()
        .collect::<Option<Vec<String>>>()
        .ok_or_else(unknown)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// After this server changed the catalogue: its own cached answers go at once, and it learns the
/// catalogue's new version now rather than at the next poll, so that the ETags it gives name what
/// it serves.
pub async fn catalogue_changed(state: &crate::state::AppState) {
    state.cache.invalidate();
    match state.db(|conn| Ok(dvc_persistence::catalogue::version(conn)?)).await {
        Ok(version) => state.cache.observe(version),
        Err(e) => tracing::warn!(error = %e, "the catalogue's version is learnt at the next poll"),
    }
}

/// A page of personal dossiers: never stored by shared caches, and with the ETag of its list so
/// that an app that keeps its own copy asks with `If-None-Match` and gets 304 while nothing changed.
pub fn list_answer(page: crate::dossier::lists::ListPage) -> actix_web::HttpResponse {
    let mut res = actix_web::HttpResponse::Ok();
    res.content_type(mime::APPLICATION_JSON).insert_header((header::CACHE_CONTROL, "private, no-store"));
    if let Some(tag) = page.etag {
        res.insert_header((header::ETAG, tag));
    }
    res.body(page.body)
}

/// The cursor of a list read by cursor: `after` as given by the page before; with it, `page` is
/// not given.
pub fn list_cursor(
    after: Option<&str>,
    page: Option<&str>,
    filter: &dvc_persistence::dossier_lists::DossierFilter,
) -> Result<Option<dvc_persistence::dossier_lists::Cursor>, ApiError> {
    let Some(raw) = after else { return Ok(None) };
    let mut errors = Vec::new();
    if page.is_some() {
        errors.push(dvc_domain::FieldError::new(
            "page",
            "with_cursor",
            "Dùng hoặc page hoặc after, không dùng cả hai",
            "Give either page or after, not both",
        ));
    }
    let cursor = crate::dossier::lists::parse_cursor(raw, filter).map_err(|e| errors.push(e)).ok();
    if errors.is_empty() {
        Ok(cursor)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The `If-Match` header, read before the request moves to a database thread.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).map(|v| v.to_str().unwrap_or("").to_string())
}

/// Every documented route, registered on `$app` (an actix `App`, or a `UtoipaApp` that also
/// gathers the OpenAPI document) with `$scope` the scope of that kind.
macro_rules! routes {
    ($app:expr, $scope:path) => {
        $app.service(ops::healthz).service(ops::readyz).service(ops::metrics).service(
            $scope("/api/v1")
                .service(catalogue::list_procedures)
                .service(catalogue::suggest_procedures)
                .service(catalogue::get_procedure)
                .service(catalogue::download_form)
                .service(catalogue::list_fields)
                .service(catalogue::list_agencies)
                .service(catalogue::get_agency)
                .service(catalogue::list_admin_units)
                .service(catalogue::list_service_levels)
                .service(auth::token)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::logout_all)
                .service(auth::get_challenge)
                .service(auth::password_reset)
                .service(auth::password_reset_confirm)
                .service(oidc::providers)
                .service(oidc::authorize)
                .service(oidc::callback)
                .service(oidc::native_token)
                .service(registrations::create)
                .service(registrations::resend_otp)
                .service(registrations::verify)
                .service(registrations::complete)
                .service(calendar::list_holidays)
                .service(calendar::put_holiday)
                .service(calendar::delete_holiday)
                .service(calendar::due_date)
                .service(tracking::lookup)
                .service(dossiers::create)
                .service(dossiers::get_dossier)
                .service(dossiers::patch_dossier)
                .service(attachments::upload_attachment)
                .service(attachments::download_attachment)
                .service(attachments::delete_attachment)
                .service(dossiers::submit)
                .service(dossiers::withdraw)
                .service(tracking::history)
                .service(documents::dossier_document)
                .service(agency::inbox)
                .service(agency::transition)
                .service(agency::upload_result)
                .service(agency::download_result)
                .service(verify::revoke)
                .service(verify::result_copy)
                .service(verify::verify_code)
                .service(verify::verify_file)
                .service(payments::dossier_fees)
                .service(payments::create_payment)
                .service(payments::get_payment)
                .service(payments::vietqr_png)
                .service(payments::sandbox_complete)
                .service(gateway::vnpay_return)
                .service(gateway::callback_get)
                .service(gateway::callback_post)
                .service(payments::refund)
                .service(fines::register_fine)
                .service(fines::lookup_fine)
                .service(fines::pay_fine)
                .service(fines::sandbox_complete)
                .service(fines::get_receipt)
                .service(fines::receipt_pdf)
                .service(gateway::reconciliation)
                .service(messages::list)
                .service(messages::receipt_get)
                .service(messages::receipt_post)
                .service(feedback::public)
                .service(feedback::create)
                .service(feedback::get_one)
                .service(feedback::update)
                .service(feedback::start)
                .service(feedback::answer)
                .service(feedback::reopen)
                .service(feedback::close)
                .service(feedback::mine)
                .service(feedback::queue)
                .service(ratings::rate)
                .service(ratings::get_rating)
                .service(integration::token)
                .service(integration::create_client)
                .service(integration::list_clients)
                .service(integration::rotate_secret)
                .service(integration::revoke_client)
                .service(integration::pull_dossiers)
                .service(integration::national_dossier)
                .service(integration::push_transition)
                .service(integration::put_dossier)
                .service(integration::event_feed)
                .service(integration::create_webhook)
                .service(integration::list_webhooks)
                .service(integration::delete_webhook)
                .service(integration::deliveries)
                .service(integration::redeliver)
                .service(statistics::summary)
                .service(statistics::agency_report)
                .service(statistics::chart)
                .service(index766::index766_chart)
                .service(index766::index766)
                .service(my_dossiers::my_dossiers)
                .service(my_dossiers::my_summary)
                .service(my_dossiers::my_documents)
                .service(me::get_me)
                .service(me::patch_me)
                .service(staff::create_staff)
                .service(staff::list_staff)
                .service(staff::disable_staff)
                .service(staff::enable_staff)
                .service(admin_catalogue::create_procedure)
                .service(admin_catalogue::update_procedure)
                .service(admin_catalogue::delete_procedure)
                .service(admin_catalogue::create_agency)
                .service(admin_catalogue::update_agency)
                .service(admin_catalogue::delete_agency)
                .service(admin_catalogue::create_field)
                .service(admin_catalogue::update_field)
                .service(admin_catalogue::delete_field)
                .service(admin_catalogue::get_synonyms)
                .service(admin_catalogue::put_synonyms),
        )
    };
}

/// Registers every documented route and gathers the OpenAPI document from them.
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = Error, InitError = ()>,
{
    routes!(app, scope)
}

/// Registers every documented route to serve them: the same routes as [`register`], without
/// building the document again in each worker.
pub fn serve<T>(app: App<T>) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = Error, InitError = ()>,
{
    routes!(app, actix_web::web::scope)
}
