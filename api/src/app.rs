//! Assembling the application: routes, middleware, Swagger UI, and the HTTP server.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Condition, Next};
use actix_web::{web, App, Error, HttpRequest, HttpResponse, HttpServer};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{path_error, query_error, ApiError, Lang, Msg};
use crate::state::AppState;

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

/// Answers a GET whose `If-None-Match` names the answer's ETag with 304 and no body: catalogue
/// answers and list pages carry ETags, so that mobile apps fetch only what changed.
async fn conditional_get(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let asked = (req.method() == actix_web::http::Method::GET)
        .then(|| req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string))
        .flatten();
    let res = next.call(req).await?;
    let Some(asked) = asked else { return Ok(res.map_into_boxed_body()) };
    let tag = res.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
    match tag {
        Some(tag) if res.status() == actix_web::http::StatusCode::OK && crate::page::none_match(&asked, &tag) => {
            let mut not_modified = HttpResponse::NotModified();
            for name in [header::ETAG, header::CACHE_CONTROL] {
                if let Some(value) = res.headers().get(&name) {
                    not_modified.insert_header((name, value.clone()));
                }
            }
            let (req, _) = res.into_parts();
            Ok(ServiceResponse::new(req, not_modified.finish()).map_into_boxed_body())
        }
        _ => Ok(res.map_into_boxed_body()),
    }
}

/// The span each request's log lines carry: tracing-actix-web's, made only when its level is
/// on. Making it finds the request's route pattern by matching the path against every route
/// again, which cost a server serving writes about 4 % of its time with the span's level off.
struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        if tracing::span_enabled!(target: "tracing_actix_web::root_span_builder", tracing::Level::INFO) {
            tracing_actix_web::DefaultRootSpanBuilder::on_request_start(request)
        } else {
            tracing::Span::none()
        }
    }

    fn on_request_end<B: MessageBody>(span: tracing::Span, outcome: &Result<ServiceResponse<B>, Error>) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Counts requests and their latency by route pattern (never by raw path).
async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = &state {
        state.traffic.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
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

/// `/docs` is Swagger UI's folder: sends browsers on to `/docs/`.
async fn docs_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
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

/// Where the OpenAPI document is served (and where Swagger UI reads it).
const SPEC_PATH: &str = "/api-docs/openapi.json";

/// The OpenAPI document as JSON.
struct SpecJson(web::Bytes);

async fn openapi_json(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok().content_type(mime::APPLICATION_JSON).body(spec.0.clone())
}

/// Starts the HTTP server on a bound listener; the returned future runs until shutdown.
pub fn serve(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    crate::notify::spawn(state.clone());
    crate::integration::spawn_worker(state.pool.clone(), state.config.clone());
    crate::cache::spawn_poller(state.cache.clone(), state.database.clone(), state.config.cache_poll);
    crate::replica::spawn_checker(state.replicas.clone(), state.pool.clone());
    crate::rollups::spawn_compaction(state.clone());
    let spec = crate::openapi::document();
    let known = web::Data::new(KnownRoutes::from_spec(&spec));
    // Serialised once and shared by every worker: the document itself is megabytes of
    // structures, which a copy per worker would keep.
    let spec_json = web::Data::new(SpecJson(web::Bytes::from(
        serde_json::to_vec(&spec).map_err(|e| std::io::Error::other(e.to_string()))?,
    )));
    drop(spec);
    let config = state.config.clone();
    let data = web::Data::new(state);
    let json_limit = config.max_json_bytes;
    let origins = config.cors_origins.clone();
    let body_idle = crate::slow::BodyLimits {
        idle: config.body_idle_timeout,
        min_rate: config.body_min_rate,
        grace: config.body_rate_grace,
    };
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
            .wrap(from_fn(conditional_get))
            .wrap(from_fn(crate::slow::body_deadline))
            .wrap(from_fn(language_and_request_id))
            .wrap(from_fn(record_metrics))
            .wrap(from_fn(crate::headers::security_headers))
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(tracing_actix_web::TracingLogger::<RootSpan>::new());
        crate::routes::serve(app)
            .app_data(spec_json.clone())
            .route(SPEC_PATH, web::get().to(openapi_json))
            .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new([SPEC_PATH])))
            .route("/docs", web::get().to(docs_slash))
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
