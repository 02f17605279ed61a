//! Health, readiness, metrics, request ids, unknown paths and methods.

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn operations_endpoints(backend: Backend) {
    let app = TestApp::start(backend);
    assert_eq!(app.get_json("/healthz")["status"], "ok");
    assert_eq!(app.get_json("/readyz")["status"], "ok");
    let res = app.get("/api/v1/fields");
    assert!(res.headers().get("x-request-id").is_some(), "every answer carries a request id");
    let res = app.client.get(app.url("/api/v1/fields")).header("x-request-id", "abc-123").send().unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "abc-123");
    let metrics = app.get("/metrics").text().unwrap();
    assert!(
        metrics.contains("dvc_http_requests_total{method=\"GET\",route=\"/api/v1/fields\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("dvc_http_request_duration_seconds_bucket"));

    assert_problem(app.get("/nothing/here"), 404, "not_found");
    let res = app.client.delete(app.url("/api/v1/fields")).send().unwrap();
    assert_eq!(res.headers().get("allow").unwrap(), "GET");
    assert_problem(res, 405, "method_not_allowed");
    let docs = app.get("/docs/");
    assert_eq!(docs.status(), 200);
    assert!(docs.text().unwrap().contains("swagger"));
    let spec = app.get_json("/api-docs/openapi.json");
    assert!(spec["paths"]["/api/v1/procedures"]["get"].is_object());
}

fn readiness_reports_a_missing_database(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.db_timeout = std::time::Duration::from_millis(500));
    // Break the database under the running server.
    match backend {
        Backend::Postgres => {
            use diesel::connection::SimpleConnection;
            use diesel::{Connection, RunQueryDsl};
            #[derive(diesel::QueryableByName)]
            struct Name {
                #[diesel(sql_type = diesel::sql_types::Text)]
                name: String,
            }
            let db = diesel::sql_query("SELECT current_database() AS name")
                .get_result::<Name>(&mut **app.conn())
                .unwrap()
                .name;
            let mut admin = diesel::PgConnection::establish(&crate::support::postgres_admin_url()).unwrap();
            admin.batch_execute(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).unwrap();
            // A connection that was being opened as the database closed may still get in: end
            // sessions until none is left.
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            for _ in 0..50 {
                let left = diesel::sql_query(format!(
                    "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = '{db}'"
                ))
                .get_result::<Count>(&mut admin)
                .unwrap()
                .n;
                if left == 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            assert_problem(app.get("/readyz"), 503, "unavailable");
            assert_problem(app.get("/api/v1/fields"), 503, "unavailable");
            admin.batch_execute(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).unwrap();
            let resumed = (0..50).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(100));
                app.get("/readyz").status() == 200
            });
            assert!(resumed, "service resumes by itself");
            assert_eq!(app.get("/api/v1/fields").status(), 200);
        }
        Backend::Sqlite => {
            // SQLite is a file beside the server; readiness is the file answering.
            assert_eq!(app.get_json("/readyz")["status"], "ok");
        }
    }
}

/// Every answer forbids content sniffing; personal answers are kept by no cache; the Swagger UI
/// pages load only their own files and cannot be framed.
fn security_headers(backend: Backend) {
    let app = TestApp::seeded(backend);
    let header = |res: &reqwest::blocking::Response, name: &str| {
        res.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    for path in ["/healthz", "/api/v1/procedures", "/api/v1/nothing-here", "/docs/", "/api-docs/openapi.json"] {
        let res = app.get(path);
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
    }
    assert!(header(&app.get("/api/v1/procedures"), "cache-control").starts_with("public"), "the catalogue is public");

    let a = crate::dossiers::actors(&app);
    let res = app.post("/api/v1/auth/token", &serde_json::json!({"username": "admin", "password": "sai"}), None);
    assert_eq!(header(&res, "cache-control"), "no-store", "a sign-in answer");
    let res = app.with_token(app.client.get(app.url("/api/v1/me")), &a.citizen).send().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "no-store", "the profile");
    let res = app.with_token(app.client.get(app.url("/api/v1/me/dossiers")), &a.citizen).send().unwrap();
    assert!(header(&res, "cache-control").contains("no-store"), "a personal list");

    let docs = app.get("/docs/");
    assert_eq!(docs.status(), 200);
    let policy = header(&docs, "content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"), "{policy}");
    assert_eq!(header(&docs, "x-frame-options"), "DENY");
    assert!(header(&app.get("/api/v1/procedures"), "content-security-policy").is_empty(), "JSON answers need none");
}

on_both_backends!(operations_endpoints, readiness_reports_a_missing_database, security_headers);
