//! The test harness: a real server on a random port against a fresh database of either backend.

use std::net::TcpListener;
use std::sync::mpsc;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use dvc_api::config::Config;
use dvc_api::state::AppState;
use dvc_persistence::Pool;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server URL of PostgreSQL used to create throwaway databases.
pub fn postgres_admin_url() -> String {
    std::env::var("DVC_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty database that is removed when dropped.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let name = format!("dvc_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("dvc.sqlite3").display());
                TestDb { url, backend, name, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the tests ({admin}): {e}. Start it with: pg_ctlcluster 15 main start")
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
                TestDb { url: format!("{base}/{name}"), backend, name, _dir: None }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend == Backend::Postgres && !self.name.is_empty() {
            if let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url()) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            }
        }
    }
}

/// A running server with a client and helpers.
pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub pool: Pool,
    /// The server's clock, which a test may move forward.
    pub clock: std::sync::Arc<dvc_api::clock::Clock>,
    handle: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The database; a second instance's copy has no name, so it drops nothing.
    _db: TestDb,
}

pub const ADMIN_PASSWORD: &str = "Quantri@2026";

impl TestApp {
    /// Starts a server on an empty, migrated database.
    pub fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {})
    }

    /// Starts a server with the demo catalogue loaded.
    pub fn seeded(backend: Backend) -> Self {
        let app = Self::start(backend);
        let mut conn = app.pool.get().expect("connection");
        dvc_api::seed::demo(&mut conn).expect("demo seed");
        app
    }

    /// Starts a server with the demo catalogue and an adjusted configuration.
    pub fn seeded_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let app = Self::start_with(backend, adjust);
        let mut conn = app.pool.get().expect("connection");
        dvc_api::seed::demo(&mut conn).expect("demo seed");
        drop(conn);
        app
    }

    pub fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_configured(TestDb::new(backend), adjust)
    }

    fn start_configured(db: TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let mut config = Config {
            database_url: db.url.clone(),
            sandbox: true,
            jwt_secret: "test-secret-for-the-dvc-test-suite-0123456789".into(),
            data_dir: dir,
            workers: Some(2),
            pool_size: 4,
            auth_rate_per_minute: 0,
            lookup_rate_per_minute: 0,
            ..Config::default()
        };
        adjust(&mut config);
        let state = AppState::open(config).expect("open state");
        let pool = state.pool.clone();
        let clock = state.clock.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            let result = system.block_on(async move {
                let server = dvc_api::app::serve(state, listener)?;
                let _ = tx.send(server.handle());
                server.await
            });
            if let Err(e) = result {
                eprintln!("test server failed: {e}");
            }
        });
        let handle = rx.recv().expect("server started");
        let client = Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client");
        TestApp { base, client, pool, clock, handle: Some(handle), thread: Some(thread), _db: db }
    }

    /// Another server process on the same database, as behind a load balancer.
    pub fn second_instance(&self) -> TestApp {
        self.second_instance_with(|_| {})
    }

    /// Another server on the same database, with an adjusted configuration.
    pub fn second_instance_with(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let url = self._db.url.clone();
        let db = TestDb { url: url.clone(), backend: self._db.backend, name: String::new(), _dir: None };
        Self::start_configured(db, adjust)
    }

    /// The database this server uses.
    pub fn database_url(&self) -> String {
        self._db.url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().expect("request")
    }

    pub fn get_json(&self, path: &str) -> Value {
        let res = self.get(path);
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().expect("json")
    }

    /// GETs JSON with a bearer token, expecting 200.
    pub fn get_json_with(&self, path: &str, token: &str) -> Value {
        let res = self.with_token(self.client.get(self.url(path)), token).send().expect("request");
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().expect("json")
    }

    /// A request with a bearer token.
    pub fn with_token(&self, builder: RequestBuilder, token: &str) -> RequestBuilder {
        builder.header("authorization", format!("Bearer {token}"))
    }

    /// Creates the administrator `admin` and signs in.
    pub fn admin_token(&self) -> String {
        let mut conn = self.pool.get().expect("connection");
        dvc_api::cli::create_admin(&mut conn, "admin", ADMIN_PASSWORD, "Quản trị").expect("create admin");
        self.sign_in("admin", ADMIN_PASSWORD)
    }

    /// Creates an officer of the given agency and signs in.
    pub fn officer_token(&self, username: &str, agency_id: Option<&str>) -> String {
        use dvc_persistence::accounts::{insert, AccountRow};
        let mut conn = self.pool.get().expect("connection");
        let hash = dvc_api::auth::hash_password(ADMIN_PASSWORD).expect("hash");
        let row = AccountRow::staff(
            dvc_persistence::new_id(),
            "officer",
            username,
            "Cán bộ một cửa",
            hash,
            agency_id.map(str::to_string),
            dvc_persistence::now(),
        );
        insert(&mut conn, &row).expect("insert officer");
        self.sign_in(username, ADMIN_PASSWORD)
    }

    pub fn sign_in(&self, username: &str, password: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .expect("request");
        assert_eq!(res.status(), 200, "sign in as {username}");
        let body: Value = res.json().expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// POSTs JSON, optionally with a token.
    pub fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut builder = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            builder = self.with_token(builder, t);
        }
        builder.send().expect("request")
    }

    /// Sends a multipart upload.
    pub fn upload(&self, path: &str, token: &str, fields: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Response {
        let mut form = reqwest::blocking::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some((name, bytes)) = file {
            form = form.part("file", reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()));
        }
        self.with_token(self.client.post(self.url(path)), token).multipart(form).send().expect("upload")
    }

    /// Opens a direct connection to the test database.
    pub fn conn(&self) -> dvc_persistence::PooledConn {
        self.pool.get().expect("connection")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let stop = handle.stop(false);
            let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(stop)).join();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Asserts a problem+json answer with the given status and code; returns the body.
pub fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(content_type.starts_with("application/problem+json"), "content type {content_type}");
    let body: Value = res.json().expect("problem json");
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// Runs each named scenario on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[test]
                fn sqlite() {
                    super::$scenario($crate::support::Backend::Sqlite);
                }
                #[test]
                fn postgres() {
                    super::$scenario($crate::support::Backend::Postgres);
                }
            }
        )*
    };
}

/// The text of a PDF, as poppler's `pdftotext` reads it (in reading order, one line per line).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) runs");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 text")
}
