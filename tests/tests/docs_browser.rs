//! Swagger UI in a real browser: Debian's chromium, driven through chromedriver (WebDriver).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

struct Driver {
    child: Child,
    base: String,
    session: String,
    client: Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("Debian's chromium is required for the Swagger UI test: apt-get install chromium chromium-driver");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (apt-get install chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let client = Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let started = Instant::now();
        while client.get(format!("{base}/status")).send().is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let res: Value = client.post(format!("{base}/session")).json(&caps).send().unwrap().json().unwrap();
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_string();
        Driver { child, base, session, client, _profile: profile }
    }

    fn cmd(&self, path: &str, body: Value) -> Value {
        let res: Value = self
            .client
            .post(format!("{}/session/{}/{path}", self.base, self.session))
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        res["value"].clone()
    }

    fn script(&self, script: &str) -> Value {
        self.cmd("execute/sync", json!({"script": script, "args": []}))
    }

    /// Polls a script until it returns something truthy.
    fn wait_for(&self, script: &str, what: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(script);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!([])) {
                return v;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.client.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn swagger_ui_lists_and_runs_operations(backend: Backend) {
    let app = TestApp::seeded(backend);
    let driver = Driver::start();
    driver.cmd("url", json!({"url": app.url("/docs/")}));
    let paths = driver.wait_for(
        "return Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.getAttribute('data-path'))",
        "the operations list",
    );
    let paths: Vec<&str> = paths.as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    for expected in
        ["/api/v1/procedures", "/api/v1/procedures/{id}", "/api/v1/fields", "/api/v1/agencies", "/api/v1/admin-units"]
    {
        assert!(paths.contains(&expected), "{expected} listed in Swagger UI: {paths:?}");
    }
    // The Authorize button is there (a security scheme is declared).
    driver.wait_for("return document.querySelector('.btn.authorize') !== null", "the Authorize button");

    // Try it out: open the operation, press "Try it out", then "Execute", and read the answer.
    let op = "#operations-catalogue-listServiceLevels";
    driver.script(&format!("document.querySelector('{op} .opblock-summary-control').click(); return true"));
    driver.wait_for(&format!("return document.querySelector('{op} .try-out__btn') !== null"), "the Try it out button");
    driver.script(&format!("document.querySelector('{op} .try-out__btn').click(); return true"));
    driver.wait_for(&format!("return document.querySelector('{op} .execute') !== null"), "the Execute button");
    driver.script(&format!("document.querySelector('{op} .execute').click(); return true"));
    let status = driver.wait_for(
        &format!("const s = document.querySelector('{op} .live-responses-table tr.response .response-col_status'); return s && s.innerText.trim()"),
        "the live response",
    );
    assert_eq!(status, "200");
    let body = driver.script(&format!(
        "return document.querySelector('{op} .live-responses-table tr.response .response-col_description').innerText"
    ));
    assert!(body.as_str().unwrap().contains("\"online\": \"full\""), "response body shown: {body}");
}

on_both_backends!(swagger_ui_lists_and_runs_operations);
