//! Assembling the application: routes, middleware, Swagger UI, and the HTTP server.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Condition, Next};
use actix_web::{web, App, Error, HttpRequest, HttpResponse, HttpServer};
use utoipa_actix_web::{scope, AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{path_error, query_error, ApiError, Lang, Msg};
use crate::routes::{
    admin_catalogue, agency, attachments, auth, calendar, catalogue, dossiers, feedback, gateway, integration, me,
    my_dossiers, ops, payments, ratings, registrations, staff, statistics, tracking,
};
use crate::state::AppState;

/// Registers every documented route; used both to serve and to print the OpenAPI document.
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = Error, InitError = ()>,
{
    app.service(ops::healthz).service(ops::readyz).service(ops::metrics).service(
        scope("/api/v1")
            .service(catalogue::list_procedures)
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
            .service(auth::password_reset)
            .service(auth::password_reset_confirm)
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
            .service(agency::inbox)
            .service(agency::transition)
            .service(agency::upload_result)
            .service(agency::download_result)
            .service(payments::dossier_fees)
            .service(payments::create_payment)
            .service(payments::get_payment)
            .service(payments::vietqr_png)
            .service(payments::sandbox_complete)
            .service(gateway::vnpay_return)
            .service(gateway::callback_get)
            .service(gateway::callback_post)
            .service(payments::refund)
            .service(gateway::reconciliation)
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
            .service(admin_catalogue::delete_field),
    )
}

/// Re-renders API errors in English when the client asks for it, and tags every response with
/// its request id.
async fn language_and_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let lang = Lang::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let res = next.call(req).await?;
    let mut res = match res.response().error().and_then(|e| e.as_error::<ApiError>()) {
        Some(api) if lang == Lang::En => {
            let english = api.render(Lang::En);
            res.into_response(english).map_into_boxed_body()
        }
        _ => res.map_into_boxed_body(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// Counts requests and their latency by route pattern (never by raw path).
async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        state.metrics.observe(&method, &route, res.status().as_u16(), start.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// The documented paths as patterns with their methods, to tell 404 from 405.
#[derive(Clone)]
struct KnownRoutes(Vec<(Vec<String>, Vec<String>)>);

impl KnownRoutes {
    fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(&spec.paths).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()).or_else(|| value.as_object()) {
            for (path, item) in paths {
                let segments = path.trim_matches('/').split('/').map(str::to_string).collect();
                let methods = item
                    .as_object()
                    .map(|o| {
                        o.keys()
                            .filter(|k| k.chars().all(|c| c.is_ascii_lowercase()))
                            .map(|k| k.to_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                routes.push((segments, methods));
            }
        }
        Self(routes)
    }

    /// The methods allowed on a path: those of the most specific documented routes that match it
    /// (`/dossiers/lookup` before `/dossiers/{id}`).
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, Vec<String>)> = None;
        for (segments, methods) in &self.0 {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if !matches {
                continue;
            }
            let params = segments.iter().filter(|s| s.starts_with('{')).count();
            match &mut best {
                Some((fewest, allowed)) if params == *fewest => allowed.extend(methods.iter().cloned()),
                Some((fewest, _)) if params > *fewest => {}
                _ => best = Some((params, methods.clone())),
            }
        }
        best.map(|(_, mut allowed)| {
            allowed.sort();
            allowed.dedup();
            allowed
        })
    }
}

/// Answers requests no route took: 405 with `Allow` when the path exists, 404 otherwise.
async fn fallback(req: HttpRequest, known: web::Data<KnownRoutes>) -> HttpResponse {
    match known.allowed(req.path()) {
        Some(methods) => {
            let mut res = ApiError::new(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                Msg::new("Phương thức không được hỗ trợ", "Method not allowed"),
                Msg::new(
                    format!("Đường dẫn này nhận: {}", methods.join(", ")),
                    format!("This path accepts: {}", methods.join(", ")),
                ),
            )
            .render(Lang::from_accept_language(
                req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
            ));
            if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
                res.headers_mut().insert(header::ALLOW, v);
            }
            res
        }
        None => ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "not_found",
            Msg::new("Không tìm thấy", "Not found"),
            Msg::new("Không có tài nguyên tại đường dẫn này", "Nothing lives at this path"),
        )
        .render(Lang::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))),
    }
}

fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(vec![header::ETAG, header::LOCATION, header::RETRY_AFTER])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    cors
}

/// Starts the HTTP server on a bound listener; the returned future runs until shutdown.
pub fn serve(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    crate::notifier::spawn(state.clone());
    crate::integration::spawn_worker(state.clone());
    crate::cache::spawn_poller(state.clone());
    crate::replica::spawn_checker(state.clone());
    let spec = crate::openapi::document();
    let known = web::Data::new(KnownRoutes::from_spec(&spec));
    let config = state.config.clone();
    let data = web::Data::new(state);
    let json_limit = config.max_json_bytes;
    let origins = config.cors_origins.clone();
    let body_idle = crate::slow::BodyIdleTimeout(config.body_idle_timeout);
    let mut server = HttpServer::new(move || {
        let app = App::new()
            .app_data(data.clone())
            .app_data(known.clone())
            .app_data(body_idle)
            .app_data(web::PayloadConfig::new(json_limit))
            .app_data(
                web::JsonConfig::default().limit(json_limit).error_handler(|e, _| crate::error::json_error(e).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
            .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()))
            .wrap(from_fn(crate::slow::body_deadline))
            .wrap(from_fn(language_and_request_id))
            .wrap(from_fn(record_metrics))
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(tracing_actix_web::TracingLogger::default());
        let (app, _) = register(app.into_utoipa_app()).split_for_parts();
        app.service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", spec.clone()))
            .default_service(web::to(fallback))
    })
    .client_request_timeout(config.header_timeout)
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .listen(listener)?
    .shutdown_timeout(30);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
