//! The server process killed with SIGKILL in the middle of concurrent submissions: after a restart
//! every acknowledged dossier and attachment is there, byte for byte, and nothing half-written
//! shows.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::dossiers::{birth_form, pdf};
use crate::on_both_backends;
use crate::support::{Backend, TestDb};

/// The `dvc` binary next to the test binary (`target/<profile>/dvc`).
pub(crate) fn dvc() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let bin = exe.parent().and_then(|deps| deps.parent()).expect("target dir").join("dvc");
    assert!(bin.exists(), "{} is missing: build it with cargo build --bin dvc", bin.display());
    bin
}

struct Server {
    child: Child,
    base: String,
}

fn env(cmd: &mut Command, db: &TestDb, data: &std::path::Path) {
    cmd.env("DVC_DATABASE_URL", &db.url)
        .env("DVC_SANDBOX", "1")
        .env("DVC_AUTH_RATE_PER_MINUTE", "0")
        .env("DVC_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
}

fn start(db: &TestDb, data: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(dvc());
    cmd.arg("serve").env("DVC_LISTEN", format!("127.0.0.1:{port}"));
    env(&mut cmd, db, data);
    let child = cmd.spawn().expect("start dvc serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, base }
}

fn sign_in(client: &Client, base: &str, user: &str) -> String {
    let res: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": user, "password": dvc_api::seed::synthetic::PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    res["access_token"].as_str().unwrap().to_string()
}

/// What the server acknowledged: dossier id, its uploaded (document, sha256), and its code once
/// submitted.
#[derive(Debug, Clone, Default)]
struct Acked {
    owner: usize,
    id: String,
    files: Vec<(String, String)>,
    code: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// One applicant's loop: draft, two uploads, submit; records each acknowledged step until the
/// server stops answering.
fn work(base: String, token: String, procedure: String, agency: String, acked: Arc<Mutex<Vec<Acked>>>, n: usize) {
    let client = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let auth = format!("Bearer {token}");
    for i in 0.. {
        let body = json!({"procedure_id": procedure, "agency_id": agency, "form_data": birth_form(), "delivery": {"method": "online"}});
        let Ok(res) = client.post(format!("{base}/api/v1/dossiers")).header("authorization", &auth).json(&body).send()
        else {
            return;
        };
        if res.status() != 201 {
            return;
        }
        let Ok(draft) = res.json::<Value>() else { return };
        let id = draft["id"].as_str().unwrap().to_string();
        let slot = {
            let mut all = acked.lock().unwrap();
            all.push(Acked { owner: n, id: id.clone(), ..Default::default() });
            all.len() - 1
        };
        for doc in ["TK-KS", "GCS"] {
            let bytes = pdf(&format!("{n}-{i}-{doc}"));
            let form = reqwest::blocking::multipart::Form::new()
                .text("document_id", doc)
                .part("file", reqwest::blocking::multipart::Part::bytes(bytes.clone()).file_name(format!("{doc}.pdf")));
            let Ok(res) = client
                .post(format!("{base}/api/v1/dossiers/{id}/attachments"))
                .header("authorization", &auth)
                .multipart(form)
                .send()
            else {
                return;
            };
            if res.status() != 201 {
                return;
            }
            let Ok(stored) = res.json::<Value>() else { return };
            assert_eq!(stored["sha256"], sha256_hex(&bytes));
            acked.lock().unwrap()[slot].files.push((doc.to_string(), sha256_hex(&bytes)));
        }
        let Ok(res) = client
            .post(format!("{base}/api/v1/dossiers/{id}/submit"))
            .header("authorization", &auth)
            .json(&json!({}))
            .send()
        else {
            return;
        };
        if res.status() != 200 {
            return;
        }
        let Ok(done) = res.json::<Value>() else { return };
        acked.lock().unwrap()[slot].code = done["code"].as_str().map(str::to_string);
    }
}

fn acknowledged_work_survives_kill_9(backend: Backend) {
    let db = TestDb::new(backend);
    let data = tempfile::tempdir().unwrap();
    let mut seed = Command::new(dvc());
    seed.args(["seed", "--synthetic", "--procedures", "5", "--dossiers", "0"]);
    env(&mut seed, &db, data.path());
    assert!(seed.status().unwrap().success());

    let mut server = start(&db, data.path());
    let client = Client::new();
    let procedure: Value =
        client.get(format!("{}/api/v1/procedures/1.001193", server.base)).send().unwrap().json().unwrap();
    let (procedure_id, agency_id) =
        (procedure["id"].as_str().unwrap().to_string(), procedure["agencies"][0]["id"].as_str().unwrap().to_string());
    let acked = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (1..=4)
        .map(|n| {
            let token = sign_in(&client, &server.base, &format!("syn{n:05}"));
            let (base, p, a, acked) = (server.base.clone(), procedure_id.clone(), agency_id.clone(), acked.clone());
            std::thread::spawn(move || work(base, token, p, a, acked, n))
        })
        .collect();
    // Let work pile up, then kill the process without warning.
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().unwrap().iter().filter(|a| a.code.is_some()).count() < 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.iter().filter(|a| a.code.is_some()).count() >= 8, "too little work before the kill");

    // After a restart: everything acknowledged is there and intact.
    let server = start(&db, data.path());
    let mut codes = std::collections::HashSet::new();
    for n in 1..=4 {
        let token = sign_in(&client, &server.base, &format!("syn{n:05}"));
        let mine: Value = client
            .get(format!("{}/api/v1/me/dossiers?per_page=100", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for d in mine["items"].as_array().unwrap() {
            // Nothing half-written: a submitted dossier has its code and all its documents.
            if d["status"] == "submitted" {
                assert!(codes.insert(d["code"].as_str().unwrap().to_string()), "a code twice");
                assert_eq!(d["missing_documents"], json!([]));
            } else {
                assert_eq!(d["status"], "draft");
                assert!(d["code"].is_null());
            }
            for a in d["attachments"].as_array().unwrap() {
                let bytes = client
                    .get(format!(
                        "{}/api/v1/dossiers/{}/attachments/{}",
                        server.base,
                        d["id"].as_str().unwrap(),
                        a["id"].as_str().unwrap()
                    ))
                    .bearer_auth(&token)
                    .send()
                    .unwrap()
                    .bytes()
                    .unwrap();
                assert_eq!(sha256_hex(&bytes), a["sha256"].as_str().unwrap(), "an attachment is intact");
            }
            let id = d["id"].as_str().unwrap();
            if let Some(ack) = acked.iter().find(|a| a.id == id) {
                for (doc, sha) in &ack.files {
                    assert!(
                        d["attachments"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|a| a["document_id"] == doc.as_str() && a["sha256"] == sha.as_str()),
                        "acknowledged {doc} of {id} is there"
                    );
                }
                if let Some(code) = &ack.code {
                    assert_eq!(d["code"], code.as_str());
                    assert_eq!(d["status"], "submitted");
                }
            }
        }
        let ids: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        for ack in acked.iter().filter(|a| a.owner == n) {
            assert!(ids.contains(&ack.id.as_str()), "acknowledged dossier {} is there", ack.id);
        }
    }
    // And the server works on.
    let token = sign_in(&client, &server.base, "syn00001");
    let body = json!({"procedure_id": procedure_id, "agency_id": agency_id, "form_data": birth_form(), "delivery": {"method": "online"}});
    let res = client.post(format!("{}/api/v1/dossiers", server.base)).bearer_auth(&token).json(&body).send().unwrap();
    assert_eq!(res.status(), 201);
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

on_both_backends!(acknowledged_work_survives_kill_9);
