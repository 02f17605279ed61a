//! Signed webhooks: deliveries signed with the subscriber's secret, retried with backoff, listed,
//! and delivered once by two instances on one database.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::hmac;
use serde_json::{json, Value};

use crate::dossiers::{ok_move, submitted};
use crate::integration::{get_ok, setup, Setup};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

/// A request a receiver got: headers (lower-case names), body, and the status it answered.
pub(crate) type Received = (HashMap<String, String>, String, u16);

/// A webhook receiver: records each request; answers 500 to the first `failures`, then 200.
pub(crate) struct Receiver {
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start(failures: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/dvc", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = HashMap::new();
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        headers.insert(k.trim().to_lowercase(), v.trim().to_string());
                    }
                }
                let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                let mut log = log.lock().unwrap();
                let status = if log.len() < failures { 500 } else { 200 };
                log.push((headers, String::from_utf8(body).unwrap(), status));
                drop(log);
                let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Receiver { url, requests }
    }

    pub(crate) fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.requests.lock().unwrap().len() >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.requests.lock().unwrap().clone()
    }
}

/// What a receiver does with `X-DVC-Signature`: recompute and compare in constant time.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let parts: HashMap<&str, &str> = header.split(',').filter_map(|p| p.split_once('=')).collect();
    let (Some(t), Some(v1)) = (parts.get("t"), parts.get("v1")) else { return false };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let Ok(tag) =
        (0..v1.len()).step_by(2).map(|i| u8::from_str_radix(&v1[i..i + 2], 16)).collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    hmac::verify(&key, format!("{t}.{body}").as_bytes(), &tag).is_ok()
}

pub(crate) fn fast_webhooks(c: &mut dvc_api::config::Config) {
    c.webhook_deny_private = false;
    c.webhook_retry_base = Duration::from_millis(200);
    c.webhook_poll = Duration::from_millis(50);
    c.webhook_timeout = Duration::from_secs(5);
}

const SECRET: &str = "whsec-mot-cua-tinh-a-2026";

fn webhooks_are_signed_and_retried(backend: Backend) {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded_with(backend, fast_webhooks));
    let receiver = Receiver::start(2);
    let register = |body: Value| app.post("/api/v1/integration/webhooks", &body, Some(&token_a));
    for bad in [
        json!({"url": "ftp://example.com/x", "events": ["dossier.submitted"], "secret": SECRET}),
        json!({"url": receiver.url, "events": ["dossier.eaten"], "secret": SECRET}),
        json!({"url": receiver.url, "events": ["dossier.submitted"], "secret": "short"}),
    ] {
        assert_problem(register(bad), 400, "validation_failed");
    }
    let res = register(json!({"url": receiver.url, "events": ["dossier.status_changed"], "secret": SECRET}));
    assert_eq!(res.status(), 201);
    let hook: Value = res.json().unwrap();
    assert!(!hook.to_string().contains(SECRET), "the secret is not echoed");
    let hid = hook["id"].as_str().unwrap();

    let d = submitted(&app, &a);
    let got = receiver.wait_for(2 + 1);
    assert_eq!(got.iter().map(|r| r.2).collect::<Vec<_>>(), [500, 500, 200], "retried until accepted");
    let (headers, body, _) = &got[2];
    assert!(verify(SECRET, &headers["x-dvc-signature"], body), "signature verifies");
    assert!(!verify("another-secret-0000", &headers["x-dvc-signature"], body));
    assert!(!verify(SECRET, &headers["x-dvc-signature"], &body.replace("submitted", "rejected")));
    assert_eq!(headers["x-dvc-event"], "dossier.status_changed");
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["type"], "dossier.status_changed");
    assert_eq!(event["dossier_code"], d["code"]);
    assert_eq!(event["data"]["to_status"], "submitted");
    assert!(got.iter().all(|r| r.0["x-dvc-delivery"] == headers["x-dvc-delivery"]), "one delivery, three attempts");

    // Every attempt is on record.
    let deliveries = get_ok(&app, &format!("/api/v1/integration/webhooks/{hid}/deliveries"), &token_a);
    assert_eq!(deliveries["total"], 1);
    let delivery = &deliveries["items"][0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 3);
    let codes: Vec<i64> =
        delivery["history"].as_array().unwrap().iter().map(|h| h["status_code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [500, 500, 200]);

    // Manual redelivery sends it once more.
    let did = delivery["id"].as_str().unwrap();
    let res =
        app.post(&format!("/api/v1/integration/webhooks/{hid}/deliveries/{did}/redeliver"), &json!({}), Some(&token_a));
    assert_eq!(res.status(), 202);
    let got = receiver.wait_for(4);
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].1, got[2].1, "the same event");

    // Another client neither sees nor redelivers it; removal stops deliveries.
    let list = get_ok(&app, "/api/v1/integration/webhooks", &token_a);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let res = app
        .with_token(app.client.delete(app.url(&format!("/api/v1/integration/webhooks/{hid}"))), &token_a)
        .send()
        .unwrap();
    assert_eq!(res.status(), 204);
    ok_move(&app, &a.officer, d["id"].as_str().unwrap(), json!({"action": "receive"}));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.requests.lock().unwrap().len(), 4);
}

on_both_backends!(webhooks_are_signed_and_retried);

/// Targets that are not global unicast are refused when a webhook is registered, however the
/// address is written (the unit tests of `public_address` show which are accepted). Registering
/// sends nothing: the test checks the decision only.
fn webhook_targets_are_public_addresses(backend: Backend) {
    let Setup { app, token_a, .. } = setup(TestApp::seeded(backend));
    let register = |url: &str| {
        app.post(
            "/api/v1/integration/webhooks",
            &json!({"url": url, "events": ["dossier.submitted"], "secret": SECRET}),
            Some(&token_a),
        )
    };
    for url in [
        "http://10.0.0.1/hook",
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://198.18.0.1/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[2002:a00:1::1]/hook",
        "http://[::127.0.0.1]/hook",
        "http://[fec0::1]/hook",
        "http://[ff05::2]/hook",
        "http://[fd00::1]/hook",
        "http://[2001:db8::1]/hook",
    ] {
        let body = assert_problem(register(url), 400, "validation_failed");
        assert_eq!(body["errors"][0]["code"], "private_address", "{url}");
    }
}

on_both_backends!(webhook_targets_are_public_addresses);

/// Two instances on one PostgreSQL deliver each event exactly once.
#[test]
fn two_instances_deliver_each_event_once_postgres() {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded_with(Backend::Postgres, fast_webhooks));
    let second = app.second_instance_with(fast_webhooks);
    let receiver = Receiver::start(0);
    let res = app.post(
        "/api/v1/integration/webhooks",
        &json!({"url": receiver.url, "events": ["dossier.submitted"], "secret": SECRET}),
        Some(&token_a),
    );
    assert_eq!(res.status(), 201);
    let n = 12;
    let codes: Vec<String> = (0..n).map(|_| submitted(&app, &a)["code"].as_str().unwrap().to_string()).collect();
    receiver.wait_for(n);
    // Give a second delivery of anything time to arrive.
    std::thread::sleep(Duration::from_millis(800));
    let got = receiver.requests.lock().unwrap().clone();
    assert_eq!(got.len(), n, "no event delivered twice");
    let mut delivered: Vec<String> = got
        .iter()
        .map(|(_, body, _)| serde_json::from_str::<Value>(body).unwrap()["dossier_code"].as_str().unwrap().to_string())
        .collect();
    delivered.sort();
    let mut expected = codes.clone();
    expected.sort();
    assert_eq!(delivered, expected, "every event once");
    drop(second);
}
