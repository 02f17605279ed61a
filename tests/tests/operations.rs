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

on_both_backends!(operations_endpoints, readiness_reports_a_missing_database);
