//! Messages that reach people: OTPs by an SMS gateway (with its receipts), Zalo ZNS with its
//! OAuth token, e-mail through a real SMTP server, the order of channels and their fallback, and
//! several servers draining one outbox.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dvc_api::notify::config::{EmailSettings, SmsGateway, ZaloSettings};
use dvc_domain::notify::{Addresses, Channel, Language, NoticeStatus, Purpose};
use serde_json::{json, Value};

use crate::dossiers::{actors, ok_move, submitted};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

/// A request a receiver got.
#[derive(Debug, Clone)]
struct Got {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// A provider's HTTP API on loopback: records each request and answers from a script (the last
/// answer repeats), per path prefix.
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Got>>>,
}

type Script = Vec<(&'static str, Vec<(u16, String)>)>;

impl Receiver {
    fn start(script: Script) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let seen = got.clone();
        let script = Arc::new(Mutex::new(script));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, script) = (seen.clone(), script.clone());
                std::thread::spawn(move || serve(stream, &seen, &script));
            }
        });
        Receiver { base, got }
    }

    fn requests(&self, prefix: &str) -> Vec<Got> {
        self.got.lock().unwrap().iter().filter(|g| g.target.starts_with(prefix)).cloned().collect()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Got>>, script: &Mutex<Script>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let answer = {
        let mut script = script.lock().unwrap();
        let entry = script.iter_mut().find(|(prefix, _)| target.starts_with(prefix));
        match entry {
            Some((_, answers)) if answers.len() > 1 => answers.remove(0),
            Some((_, answers)) => answers[0].clone(),
            None => (404, "{}".to_string()),
        }
    };
    seen.lock().unwrap().push(Got { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() });
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        answer.0,
        answer.1.len(),
        answer.1
    );
}

/// Waits until `check` holds (the outbox is drained every 100 ms in these tests).
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn rows(app: &TestApp, address: &str) -> Vec<dvc_persistence::outbox::NotificationRow> {
    dvc_persistence::outbox::for_recipient(&mut app.conn(), address).unwrap()
}

/// eSMS's preset, sent to the receiver instead of eSMS.
fn esms(receiver: &Receiver, receipts: bool) -> SmsGateway {
    let mut g = dvc_api::notify::config::preset("esms").unwrap();
    g.url = format!("{}/esms/send", receiver.base);
    g.api_key = "API-KEY".into();
    g.secret_key = "SECRET-KEY".into();
    g.brandname = "DVCTINH".into();
    g.receipt_secret = receipts.then(|| "receipt-secret".to_string());
    g
}

fn production(app_config: &mut dvc_api::config::Config) {
    app_config.sandbox = false;
    app_config.notify.poll = Duration::from_millis(100);
}

const PASSWORD: &str = "Matkhau@2026";

fn register_by_phone_with_the_code_that_reached_the_gateway(backend: Backend) {
    let gateway = Receiver::start(vec![("/esms/", vec![(200, r#"{"CodeResult":"100","SMSID":"esms-77"}"#.into())])]);
    let sms = esms(&gateway, true);
    let app = TestApp::start_with(backend, |c| {
        production(c);
        c.notify.sms = Some(sms);
        c.public_url = "https://dvc.example.vn".into();
    });
    let res = app.post(
        "/api/v1/registrations",
        &json!({"account_type": "citizen", "method": "phone", "full_name": "Nguyễn Văn An",
                "id_number": "001099012345", "date_of_birth": "1999-05-01", "phone": "0912345678"}),
        None,
    );
    assert_eq!(res.status(), 201);
    let started: Value = res.json().unwrap();
    assert!(started.get("sandbox_otp").is_none_or(Value::is_null), "no code in the answer outside sandbox mode");
    // The gateway got eSMS's request, exactly.
    let sent = eventually("the SMS request", || gateway.requests("/esms/").into_iter().next());
    assert_eq!((sent.method.as_str(), sent.target.as_str()), ("POST", "/esms/send"));
    assert_eq!(sent.headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    let id = rows(&app, "+84912345678")[0].id.clone();
    let sig = dvc_api::notify::send::receipt_signature("receipt-secret", &id);
    let content = body["Content"].as_str().unwrap().to_string();
    let code: String = content.split_whitespace().find(|w| w.len() == 7 && w.ends_with('.')).unwrap()[..6].to_string();
    assert_eq!(
        body,
        json!({"ApiKey": "API-KEY", "SecretKey": "SECRET-KEY", "Brandname": "DVCTINH", "SmsType": "2",
               "Phone": "0912345678", "IsUnicode": "0", "RequestId": id,
               "Content": format!("Ma OTP Cong Dich vu cong cua ban la {code}. Ma co hieu luc trong 5 phut. Khong chia se ma nay voi bat ky ai."),
               "CallbackUrl": format!("https://dvc.example.vn/api/v1/gateway/sms/receipts?n={id}&sig={sig}")})
    );
    // Accepted, waiting for the receipt; the code is still needed if SMS fails.
    let row = eventually("acceptance", || rows(&app, "+84912345678").into_iter().find(|r| r.provider_id.is_some()));
    assert_eq!(
        (row.status.0, row.provider_id.as_deref(), row.channel.0),
        (NoticeStatus::Sending, Some("esms-77"), Channel::Sms)
    );

    // The citizen types the code they received.
    let rid = started["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/registrations/{rid}/verify"), &json!({"otp": code}), None);
    assert_eq!(res.status(), 200, "{:?}", res.text());
    let res = app.post(&format!("/api/v1/registrations/{rid}/complete"), &json!({"password": PASSWORD}), None);
    assert_eq!(res.status(), 201);
    app.sign_in("001099012345", PASSWORD);

    // eSMS's receipt, at the URL it was given: a wrong signature is refused, an interim status
    // changes nothing, "5" settles it.
    let receipt = |query: &str| app.get(&format!("/api/v1/gateway/sms/receipts?{query}"));
    assert_problem(receipt(&format!("n={id}&sig={}&SMSID=esms-77&SendStatus=5", "00".repeat(32))), 401, "unauthorized");
    assert_problem(receipt(&format!("n={id}&SMSID=esms-77&SendStatus=5")), 401, "unauthorized");
    let r: Value = receipt(&format!("n={id}&sig={sig}&SMSID=esms-77&SendStatus=7")).json().unwrap();
    assert_eq!(r["result"], "ignored");
    let r: Value = receipt(&format!("n={id}&sig={sig}&SMSID=esms-77&SendStatus=5&SendSuccess=1")).json().unwrap();
    assert_eq!(r["result"], "delivered");
    let row = rows(&app, "+84912345678").remove(0);
    assert_eq!(row.status.0, NoticeStatus::Delivered);
    assert!(row.delivered_at.is_some());
    assert!(!row.body.contains(&code) && !row.params.contains(&code), "the code is not kept once delivered");
    let r: Value = receipt(&format!("n={id}&sig={sig}&SMSID=esms-77&SendStatus=4")).json().unwrap();
    assert_eq!(r["result"], "ignored", "a settled message stays settled");

    // Operators see it, masked.
    let admin = app.admin_token();
    let list = app.get_json_with("/api/v1/admin/notifications?channel=sms&status=delivered", &admin);
    assert_eq!(list["total"], 1);
    let item = &list["items"][0];
    assert_eq!((item["purpose"].as_str(), item["provider_id"].as_str()), (Some("registration_otp"), Some("esms-77")));
    assert_eq!(item["recipient"], "*********678");
    assert!(item.get("body").is_none());
    let res =
        app.with_token(app.client.get(app.url("/api/v1/admin/notifications?status=lost")), &admin).send().unwrap();
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "status");
    let metrics = app.get("/metrics").text().unwrap();
    assert!(
        metrics.contains(r#"dvc_messages_total{channel="sms",outcome="accepted",purpose="registration_otp"} 1"#),
        "{metrics}"
    );
}

fn zalo(receiver: &Receiver) -> ZaloSettings {
    ZaloSettings {
        app_id: "app-1".into(),
        secret_key: "zalo-secret".into(),
        refresh_token: "refresh-0".into(),
        access_token: None,
        api_url: format!("{}/zalo", receiver.base),
        oauth_url: format!("{}/oauth", receiver.base),
        templates: [("registration_otp".to_string(), "301"), ("password_reset_otp".to_string(), "302")]
            .map(|(k, v)| (k, v.to_string()))
            .into(),
    }
}

fn refused_sms_falls_back_to_zalo_and_retries_wait(backend: Backend) {
    let providers = Receiver::start(vec![
        // The SMS gateway refuses the first message outright, then is down once, then takes it.
        (
            "/esms/",
            vec![
                (200, r#"{"CodeResult":"99","ErrorMessage":"Phone not valid"}"#.into()),
                (503, "{}".into()),
                (200, r#"{"CodeResult":"100","SMSID":"esms-2"}"#.into()),
            ],
        ),
        (
            "/oauth/",
            vec![(200, r#"{"access_token":"access-1","refresh_token":"refresh-1","expires_in":"90000"}"#.into())],
        ),
        (
            "/zalo/",
            vec![(
                200,
                r#"{"error":0,"message":"Success","data":{"msg_id":"zns-9","sent_time":"1733200000000"}}"#.into(),
            )],
        ),
    ]);
    let (sms, z) = (esms(&providers, false), zalo(&providers));
    let app = TestApp::start_with(backend, |c| {
        production(c);
        c.notify.sms = Some(sms);
        c.notify.zalo = Some(z);
        c.notify.orders.insert("OTP".into(), vec![Channel::Sms, Channel::Zalo]);
    });
    let start = |id_number: &str, phone: &str| {
        let res = app.post(
            "/api/v1/registrations",
            &json!({"account_type": "citizen", "method": "phone", "full_name": "Lê Thị Bình",
                    "id_number": id_number, "date_of_birth": "1999-05-01", "phone": phone}),
            None,
        );
        assert_eq!(res.status(), 201);
    };
    start("001199012346", "0987654321");
    let row = eventually("delivery by Zalo", || {
        rows(&app, "+84987654321").into_iter().find(|r| r.status.0 == NoticeStatus::Delivered)
    });
    assert_eq!(
        (row.channel.0, row.plan.as_str(), row.provider_id.as_deref()),
        (Channel::Zalo, "sms,zalo", Some("zns-9"))
    );
    assert_eq!(row.attempts, 2);
    // The token was refreshed once, as Zalo's OAuth asks, and the message sent with it.
    let oauth = providers.requests("/oauth/");
    assert_eq!(oauth.len(), 1);
    assert_eq!(
        (oauth[0].target.as_str(), oauth[0].headers["secret_key"].as_str()),
        ("/oauth/v4/oa/access_token", "zalo-secret")
    );
    assert_eq!(oauth[0].body, "refresh_token=refresh-0&app_id=app-1&grant_type=refresh_token");
    let zns = providers.requests("/zalo/");
    assert_eq!(
        (zns.len(), zns[0].target.as_str(), zns[0].headers["access_token"].as_str()),
        (1, "/zalo/message/template", "access-1")
    );
    let body: Value = serde_json::from_str(&zns[0].body).unwrap();
    assert_eq!(
        (body["phone"].as_str(), body["template_id"].as_str(), body["tracking_id"].as_str()),
        (Some("84987654321"), Some("301"), Some(row.id.as_str()))
    );
    assert_eq!(body["template_data"]["otp"].as_str().map(str::len), Some(6));
    let kept = dvc_persistence::outbox::token(&mut app.conn(), "zalo").unwrap().unwrap();
    assert_eq!((kept.access_token.as_str(), kept.refresh_token.as_str()), ("access-1", "refresh-1"));

    // The second message meets the gateway down: it waits (backoff), then goes by SMS.
    start("001199012347", "0987654322");
    let waiting = eventually("a temporary failure", || {
        rows(&app, "+84987654322").into_iter().find(|r| r.status.0 == NoticeStatus::TemporaryFailure)
    });
    let wait = waiting.next_attempt_at.unwrap() - waiting.updated_at.unwrap();
    assert!(wait >= chrono::Duration::seconds(29) && wait <= chrono::Duration::seconds(31), "{wait}");
    assert!(waiting.last_error.as_deref().unwrap().starts_with("HTTP 503"));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(rows(&app, "+84987654322")[0].status.0, NoticeStatus::TemporaryFailure, "not retried before its time");
    // Its time comes.
    {
        use diesel::prelude::*;
        use dvc_persistence::schema::notifications::dsl as n;
        diesel::update(n::notifications.filter(n::id.eq(&waiting.id)))
            .set(n::next_attempt_at.eq(dvc_persistence::now()))
            .execute(&mut **app.conn())
            .unwrap();
    }
    let row = eventually("delivery by SMS", || {
        rows(&app, "+84987654322").into_iter().find(|r| r.status.0 == NoticeStatus::Delivered)
    });
    assert_eq!((row.channel.0, row.channel_attempts, row.provider_id.as_deref()), (Channel::Sms, 2, Some("esms-2")));
    assert_eq!(providers.requests("/zalo/").len(), 1, "Zalo was not needed");
    // The Zalo access token is still fresh: not refreshed again.
    assert_eq!(providers.requests("/oauth/").len(), 1);
}

/// A real SMTP server on loopback (Python's aiosmtpd) writing what it gets to a Maildir.
struct Smtp {
    port: u16,
    maildir: tempfile::TempDir,
    child: std::process::Child,
}

impl Smtp {
    fn start() -> Smtp {
        let program = std::env::var("DVC_AIOSMTPD")
            .unwrap_or_else(|_| format!("{}/.cache/dvc/smtp/bin/aiosmtpd", std::env::var("HOME").unwrap_or_default()));
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(&program)
            .args(["-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .spawn()
            .unwrap_or_else(|e| panic!("aiosmtpd is required ({program}): {e}; scripts/test-deps.sh installs it"));
        eventually("the SMTP server", || TcpStream::connect(("127.0.0.1", port)).ok());
        Smtp { port, maildir, child }
    }

    fn messages(&self) -> Vec<Vec<u8>> {
        let dir = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries.flatten().map(|e| std::fs::read(e.path()).unwrap()).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notices_by_email_in_the_applicants_language(backend: Backend) {
    let smtp = Smtp::start();
    let port = smtp.port;
    let app = TestApp::seeded_with(backend, |c| {
        c.notify.poll = Duration::from_millis(100);
        c.notify.email = Some(EmailSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "Cổng Dịch vụ công <noreply@dvc.example.vn>".into(),
        });
    });
    let a = actors(&app);
    // The applicant wants notices by e-mail only, in English.
    let me = app.get_json_with("/api/v1/me", &a.citizen);
    assert_eq!((me["notification_channels"].clone(), me["language"].clone()), (json!([]), json!("vi")));
    let patch =
        |body: Value| app.with_token(app.client.patch(app.url("/api/v1/me")), &a.citizen).json(&body).send().unwrap();
    assert_problem(patch(json!({"notification_channels": ["log"]})), 400, "validation_failed");
    assert_eq!(patch(json!({"notification_channels": ["fax"]})).status(), 400);
    let res =
        patch(json!({"email": "an.nguyen@example.vn", "notification_channels": ["email", "email"], "language": "en"}));
    assert_eq!(res.status(), 200);
    let me: Value = res.json().unwrap();
    assert_eq!((me["notification_channels"].clone(), me["language"].clone()), (json!(["email"]), json!("en")));

    let d = submitted(&app, &a);
    let (id, code) = (d["id"].as_str().unwrap(), d["code"].as_str().unwrap());
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    ok_move(&app, &a.officer, id, json!({"action": "request_supplement", "missing_documents": ["GCS"]}));
    let raw = eventually("the e-mail", || smtp.messages().into_iter().next());
    let mail = mailparse::parse_mail(&raw).unwrap();
    use mailparse::MailHeaderMap;
    assert_eq!(mail.headers.get_first_value("Subject").unwrap(), format!("Dossier {code} needs more documents"));
    assert_eq!(mail.headers.get_first_value("To").unwrap(), "an.nguyen@example.vn");
    assert!(mail.headers.get_first_value("From").unwrap().contains("noreply@dvc.example.vn"));
    let parts: Vec<(String, String)> =
        mail.subparts.iter().map(|p| (p.ctype.mimetype.clone(), p.get_body().unwrap())).collect();
    assert_eq!(parts.len(), 2, "plain text and HTML");
    assert_eq!(parts[0].0, "text/plain");
    assert!(parts[0].1.contains(&format!("dossier {code} (Đăng ký khai sinh) needs: GCS")), "{}", parts[0].1);
    assert_eq!(parts[1].0, "text/html");
    assert!(parts[1].1.contains("<p>Public Service Portal: dossier"));
    let row = eventually("delivered", || {
        rows(&app, "an.nguyen@example.vn").into_iter().find(|r| r.status.0 == NoticeStatus::Delivered)
    });
    assert_eq!(
        (row.purpose.0, row.channel.0, row.plan.as_str()),
        (Purpose::SupplementRequested, Channel::Email, "email")
    );
    assert_eq!(smtp.messages().len(), 1, "one notice, once");
    // The registration code had no channel here (e-mail only, and it goes to a phone): it is
    // given up, visible to operators and counted.
    let admin = app.admin_token();
    let failed = app.get_json_with("/api/v1/admin/notifications?status=permanent_failure", &admin);
    assert_eq!(failed["items"][0]["purpose"], "registration_otp");
    assert_eq!(failed["items"][0]["last_error"], "no channel set up on this server reaches the recipient");
    let metrics = app.get("/metrics").text().unwrap();
    assert!(
        metrics.contains(r#"dvc_messages_total{channel="none",outcome="undelivered",purpose="registration_otp"} 1"#),
        "{metrics}"
    );
}

fn two_servers_drain_one_outbox_without_duplicates(backend: Backend) {
    let gateway = Receiver::start(vec![("/esms/", vec![(200, r#"{"CodeResult":"100","SMSID":"x"}"#.into())])]);
    let sms = esms(&gateway, false);
    let sms2 = sms.clone();
    let app = TestApp::start_with(backend, |c| {
        c.notify.poll = Duration::from_millis(20);
        c.notify.sms = Some(sms);
    });
    let other = app.second_instance_with(|c| {
        c.notify.poll = Duration::from_millis(20);
        c.notify.sms = Some(sms2);
    });
    let total = 60;
    {
        let mut conn = app.conn();
        for i in 0..total {
            let notice = dvc_api::notify::Notice {
                purpose: Purpose::ResultReady,
                to: Addresses { phone: Some(format!("+8491200{i:04}")), email: None },
                chosen: None,
                language: Language::Vi,
                params: [("code", format!("G01-261203-{i:04}")), ("procedure", "Đăng ký khai sinh".into())]
                    .map(|(k, v)| (k.to_string(), v))
                    .into(),
            };
            dvc_api::notify::enqueue(&mut conn, notice, dvc_persistence::now()).unwrap();
        }
    }
    // One recipient gets at most its daily share of a kind of notice.
    {
        let mut conn = app.conn();
        let queued = (0..25)
            .filter(|_| {
                let notice = dvc_api::notify::Notice {
                    purpose: Purpose::FeedbackAnswered,
                    to: Addresses { phone: Some("+84912999999".into()), email: None },
                    chosen: None,
                    language: Language::Vi,
                    params: [("code".to_string(), "PA-1".to_string())].into(),
                };
                dvc_api::notify::enqueue(&mut conn, notice, dvc_persistence::now()).unwrap().is_some()
            })
            .count();
        assert_eq!(queued, 20);
    }
    let total = total + 20;
    eventually("every message sent", || (gateway.requests("/esms/").len() >= total).then_some(()));
    std::thread::sleep(Duration::from_millis(500));
    let got = gateway.requests("/esms/");
    let mut ids: Vec<String> = got
        .iter()
        .map(|g| serde_json::from_str::<Value>(&g.body).unwrap()["RequestId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (total, total), "each message sent exactly once");
    let bodies: Vec<String> = got
        .iter()
        .map(|g| serde_json::from_str::<Value>(&g.body).unwrap()["Content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies.iter().filter(|b| b.contains("PA-1")).count(), 20);
    assert!(bodies.iter().any(|b| b == "Cong DVC: Ho so G01-261203-0007 (Dang ky khai sinh) da co ket qua. Ong/Ba nhan ket qua theo hinh thuc da chon khi nop ho so."), "{bodies:?}");
    drop(other);
}

on_both_backends!(
    register_by_phone_with_the_code_that_reached_the_gateway,
    refused_sms_falls_back_to_zalo_and_retries_wait,
    notices_by_email_in_the_applicants_language,
    two_servers_drain_one_outbox_without_duplicates,
);
