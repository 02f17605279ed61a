//! Integration of one-stop systems: client credentials and their scope, pull with cursors,
//! idempotent push, counter registrations and the change feed (webhooks: `webhooks.rs`).

use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::dossiers::{actors, ok_move, submitted, Actors};
use crate::on_both_backends;
use crate::support::{assert_problem, postgres_admin_url, Backend, TestApp};

/// An integration client of the given agencies: `(client_id, client_secret)`.
pub(crate) fn client(app: &TestApp, admin: &str, name: &str, agencies: &[&str]) -> (String, String) {
    let res =
        app.post("/api/v1/admin/integration-clients", &json!({"name": name, "agency_ids": agencies}), Some(admin));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let body: Value = res.json().unwrap();
    (body["client_id"].as_str().unwrap().into(), body["client_secret"].as_str().unwrap().into())
}

fn token_response(app: &TestApp, form: &[(&str, &str)]) -> reqwest::blocking::Response {
    app.client.post(app.url("/api/v1/oauth/token")).form(form).send().unwrap()
}

pub(crate) fn token(app: &TestApp, id: &str, secret: &str) -> String {
    let res =
        token_response(app, &[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]);
    assert_eq!(res.status(), 200);
    res.json::<Value>().unwrap()["access_token"].as_str().unwrap().into()
}

fn get(app: &TestApp, path: &str, token: &str) -> reqwest::blocking::Response {
    app.with_token(app.client.get(app.url(path)), token).send().unwrap()
}

pub(crate) fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let res = get(app, path, token);
    assert_eq!(res.status(), 200, "{path}");
    res.json().unwrap()
}

fn other_agency(app: &TestApp, a: &Actors) -> String {
    app.get_json("/api/v1/agencies?per_page=100")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .find(|id| *id != a.agency_id)
        .unwrap()
}

/// Client A acts for the agency of `a`, client B for another.
pub(crate) struct Setup {
    pub app: TestApp,
    pub a: Actors,
    pub admin: String,
    pub token_a: String,
    pub token_b: String,
}

pub(crate) fn setup(app: TestApp) -> Setup {
    let a = actors(&app);
    let admin = app.admin_token();
    let other = other_agency(&app, &a);
    let (ia, sa) = client(&app, &admin, "Một cửa tỉnh A", &[&a.agency_id]);
    let (ib, sb) = client(&app, &admin, "Một cửa tỉnh B", &[&other]);
    let token_a = token(&app, &ia, &sa);
    let token_b = token(&app, &ib, &sb);
    Setup { app, a, admin, token_a, token_b }
}

fn client_credentials_and_scope(backend: Backend) {
    let Setup { app, a, admin, token_a, token_b } = setup(TestApp::seeded(backend));
    let (id, secret) = client(&app, &admin, "Hệ thống thử", &[&a.agency_id]);

    // RFC 6749 errors.
    let res =
        token_response(&app, &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", "sai")]);
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(res.json::<Value>().unwrap()["error"], "invalid_client");
    let res = token_response(&app, &[("grant_type", "password"), ("client_id", &id), ("client_secret", &secret)]);
    assert_eq!(res.json::<Value>().unwrap()["error"], "unsupported_grant_type");
    let res = token_response(&app, &[("client_id", &id), ("client_secret", &secret)]);
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().unwrap()["error"], "invalid_request");
    let res = app.post("/api/v1/oauth/token", &json!({"grant_type": "client_credentials"}), None);
    assert_eq!(res.json::<Value>().unwrap()["error"], "invalid_request");
    // HTTP Basic works too, and the answer says what the token reaches.
    let res = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["agency_ids"], json!([a.agency_id]));
    assert!(body["expires_in"].as_i64().unwrap() <= 900);

    // The secret is shown once: lists never carry it; only administrators manage clients.
    let list = get_ok(&app, "/api/v1/admin/integration-clients", &admin);
    assert_eq!(list["total"], 3);
    assert!(!list.to_string().contains("dvcs_"));
    let res = app.post(
        "/api/v1/admin/integration-clients",
        &json!({"name": "x", "agency_ids": [a.agency_id]}),
        Some(&a.officer),
    );
    assert_problem(res, 403, "forbidden");
    let res =
        app.post("/api/v1/admin/integration-clients", &json!({"name": "x", "agency_ids": ["khong-co"]}), Some(&admin));
    assert_problem(res, 400, "validation_failed");

    // A client of another agency sees and moves nothing of this one.
    let d = submitted(&app, &a);
    let code = d["code"].as_str().unwrap();
    let seen = get_ok(&app, "/api/v1/integration/dossiers", &token_a);
    assert_eq!(seen["items"][0]["code"], code);
    assert_eq!(get_ok(&app, "/api/v1/integration/dossiers", &token_b)["items"], json!([]));
    let res = app.post(
        &format!("/api/v1/integration/dossiers/{code}/transitions"),
        &json!({"action": "receive"}),
        Some(&token_b),
    );
    assert_problem(res, 404, "not_found");
    assert_problem(get(&app, &format!("/api/v1/integration/dossiers/{code}/national"), &token_b), 404, "not_found");
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/integration/dossiers/{code}"))), &token_b)
        .json(&json!({"procedure_id": a.procedure_id, "channel": "counter", "applicant": {"full_name": "Lê Văn Tám"}}))
        .send()
        .unwrap();
    assert_problem(res, 404, "not_found");
    assert_eq!(get_ok(&app, "/api/v1/integration/events", &token_b)["items"], json!([]));
    assert_eq!(
        get_ok(&app, &format!("/api/v1/dossiers/{}", d["id"].as_str().unwrap()), &a.citizen)["status"],
        "submitted"
    );
    // People are not clients, and clients are not people.
    assert_problem(get(&app, "/api/v1/integration/dossiers", &a.officer), 403, "forbidden");
    assert_problem(get(&app, "/api/v1/integration/events", &a.citizen), 403, "forbidden");
    assert_problem(app.get("/api/v1/integration/events"), 401, "unauthorized");
    assert_problem(get(&app, "/api/v1/agency/dossiers", &token_a), 403, "forbidden");
    assert_problem(get(&app, &format!("/api/v1/dossiers/{}", d["id"].as_str().unwrap()), &token_a), 403, "forbidden");
    assert_problem(get(&app, "/api/v1/me/dossiers", &token_a), 403, "forbidden");

    // Rotation ends the old secret and its tokens, even those of the same second; revocation ends
    // everything.
    let old_token = token(&app, &id, &secret);
    let internal = list["items"].as_array().unwrap().iter().find(|c| c["client_id"] == id.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rotated: Value = app
        .post(&format!("/api/v1/admin/integration-clients/{internal}/rotate-secret"), &json!({}), Some(&admin))
        .json()
        .unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_problem(get(&app, "/api/v1/integration/events", &old_token), 401, "unauthorized");
    let res =
        token_response(&app, &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)]);
    assert_eq!(res.status(), 401);
    let fresh = token(&app, &id, new_secret);
    assert_eq!(get(&app, "/api/v1/integration/events", &fresh).status(), 200);
    let res = app.post(&format!("/api/v1/admin/integration-clients/{internal}/revoke"), &json!({}), Some(&admin));
    assert_eq!(res.json::<Value>().unwrap()["active"], false);
    assert_problem(get(&app, "/api/v1/integration/events", &fresh), 401, "unauthorized");
    let res = token_response(
        &app,
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", new_secret)],
    );
    assert_eq!(res.status(), 401);
}

fn pull_with_cursor_paging(backend: Backend) {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded(backend));
    let codes: Vec<String> = (0..5).map(|_| submitted(&app, &a)["code"].as_str().unwrap().to_string()).collect();
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = get_ok(&app, &format!("/api/v1/integration/dossiers?limit=2&after={after}"), &token_a);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|d| d["code"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, codes, "every dossier once, in the order they changed");
    // A change brings the dossier back after the cursor, and only it.
    let listed = get_ok(&app, "/api/v1/integration/dossiers?limit=5&status=submitted", &token_a);
    assert_eq!(listed["items"][1]["code"], codes[1].as_str());
    let id = listed["items"][1]["id"].as_str().unwrap().to_string();
    ok_move(&app, &a.officer, &id, json!({"action": "receive"}));
    let page = get_ok(&app, &format!("/api/v1/integration/dossiers?after={after}"), &token_a);
    let again: Vec<&str> = page["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(again, [codes[1].as_str()]);
    assert_eq!(page["items"][0]["status"], "received");
    let received = get_ok(&app, "/api/v1/integration/dossiers?status=received", &token_a);
    assert_eq!(received["items"].as_array().unwrap().len(), 1);
    let future = get_ok(&app, "/api/v1/integration/dossiers?updated_after=2100-01-01T00:00:00%2B07:00", &token_a);
    assert_eq!(future["items"], json!([]));
    assert!(future["next"].is_null());
    for bad in ["after=12", "after=x.y", "limit=0", "limit=1001", "status=lost", "updated_after=yesterday"] {
        assert_problem(get(&app, &format!("/api/v1/integration/dossiers?{bad}"), &token_a), 400, "validation_failed");
    }
}

fn idempotent_push(backend: Backend) {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded(backend));
    let d = submitted(&app, &a);
    let (id, code) = (d["id"].as_str().unwrap(), d["code"].as_str().unwrap());
    let path = format!("/api/v1/integration/dossiers/{code}/transitions");
    let send = |key: &str, body: Value| {
        app.with_token(app.client.post(app.url(&path)), &token_a)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .unwrap()
    };
    let first = send("mc-0001", json!({"action": "receive", "note": "Tiếp nhận tại một cửa tỉnh"}));
    assert_eq!(first.status(), 200);
    let first: Value = first.json().unwrap();
    assert_eq!(first["status"], "received");
    let replay = send("mc-0001", json!({"action": "receive", "note": "Tiếp nhận tại một cửa tỉnh"}));
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().unwrap(), first, "the first answer, again");
    assert_problem(send("mc-0001", json!({"action": "start_processing"})), 422, "idempotency_key_reused");
    // Without a key a repeat is just a move the workflow refuses.
    let res = app.post(&path, &json!({"action": "receive"}), Some(&token_a));
    assert_problem(res, 409, "transition_not_allowed");
    let history = get_ok(&app, &format!("/api/v1/dossiers/{id}/history"), &a.citizen);
    let receipts: Vec<&Value> = history.as_array().unwrap().iter().filter(|e| e["action"] == "receive").collect();
    assert_eq!(receipts.len(), 1, "{history}");
    assert_eq!(receipts[0]["actor"], "integration");
    let feed = get_ok(&app, "/api/v1/integration/events", &token_a);
    let moves = feed["items"].as_array().unwrap().iter().filter(|e| e["data"]["action"] == "receive").count();
    assert_eq!(moves, 1);
    // The same workflow: processing goes on through the client.
    let res = app.post(&path, &json!({"action": "start_processing"}), Some(&token_a));
    assert_eq!(res.json::<Value>().unwrap()["status"], "processing");
}

fn counter_registration_is_trackable(backend: Backend) {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded(backend));
    let online = submitted(&app, &a);
    let agency_code = online["agency"]["code"].as_str().unwrap();
    let code = format!("{agency_code}-261120-0042");
    let put = |code: &str, body: Value| {
        app.with_token(app.client.put(app.url(&format!("/api/v1/integration/dossiers/{code}"))), &token_a)
            .json(&body)
            .send()
            .unwrap()
    };
    let body = json!({"procedure_id": a.procedure_id, "channel": "counter",
                      "applicant": {"full_name": "Lê Văn Tám", "id_number": "001099012345", "phone": "0912345678"},
                      "received_at": "2026-11-20T09:15:00+07:00"});
    let res = put(&code, body.clone());
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let created: Value = res.json().unwrap();
    assert_eq!(created["channel"], "counter");
    assert_eq!(created["status"], "received");
    assert!(created["due_date"].is_string());

    // Citizens track it by code, without signing in.
    let public = app.get_json(&format!("/api/v1/dossiers/lookup?code={code}"));
    assert_eq!(public["status"], "received");
    assert_eq!(public["national_status_code"], 2);
    assert!(!public.to_string().contains("Lê Văn Tám"), "no personal data in public tracking");

    // Updated by the one-stop system: 200, and the public view follows.
    let mut update = body.clone();
    update["status"] = json!("processing");
    let res = put(&code, update);
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_json(&format!("/api/v1/dossiers/lookup?code={code}"))["status"], "processing");

    // The national wire format.
    let wire = get_ok(&app, &format!("/api/v1/integration/dossiers/{code}/national"), &token_a);
    assert_eq!(wire["MaHoSo"], code.as_str());
    assert_eq!(wire["KenhThucHien"], 1);
    assert_eq!(wire["TrangThaiHoSo"], 4);
    assert_eq!(wire["NgayTiepNhan"], "20261120091500");
    assert_eq!(wire["ChuHoSo"]["HoTen"], "Lê Văn Tám");
    assert_eq!(wire["QuaTrinhXuLy"].as_array().unwrap().len(), 2);
    let online_wire =
        get_ok(&app, &format!("/api/v1/integration/dossiers/{}/national", online["code"].as_str().unwrap()), &token_a);
    assert_eq!(online_wire["KenhThucHien"], 2);
    assert_eq!(online_wire["DanhSachGiayTo"].as_array().unwrap().len(), 2);
    assert_eq!(online_wire["NgayNopHoSo"].as_str().unwrap().len(), 14);

    // Codes not of the client's agencies, malformed codes, online dossiers and bad input.
    assert_problem(put("000.00.00.G01-261120-0001", body.clone()), 404, "not_found");
    assert_problem(put("khong-phai-ma", body.clone()), 404, "not_found");
    assert_problem(put(online["code"].as_str().unwrap(), body.clone()), 409, "conflict");
    let mut bad = body.clone();
    bad["channel"] = json!("online");
    bad["applicant"]["phone"] = json!("12345");
    let p = assert_problem(put(&format!("{agency_code}-261120-0043"), bad), 400, "validation_failed");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["channel", "applicant.phone"]);
    assert_problem(app.get(&format!("/api/v1/dossiers/lookup?code={agency_code}-261120-0043")), 404, "not_found");
}

fn feed_types(app: &TestApp, token: &str, limit: usize) -> Vec<String> {
    let mut types = Vec::new();
    let mut after = String::new();
    loop {
        let page = get_ok(app, &format!("/api/v1/integration/events?limit={limit}&after={after}"), token);
        for e in page["items"].as_array().unwrap() {
            types.push(e["type"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => return types,
        }
    }
}

fn change_feed_is_complete(backend: Backend) {
    let Setup { app, a, token_a, token_b, .. } = setup(TestApp::seeded(backend));
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    let res = app.post(
        "/api/v1/feedback",
        &json!({"kind": "reflection", "title": "Góp ý", "content": "Nội dung", "agency_id": a.agency_id}),
        Some(&a.citizen),
    );
    assert_eq!(res.status(), 201);
    ok_move(
        &app,
        &a.officer,
        id,
        json!({"action": "apologize", "reason": "Chờ xác minh", "new_due_date": "2099-01-02"}),
    );
    let expected = [
        "dossier.submitted",
        "dossier.status_changed",
        "dossier.status_changed",
        "feedback.created",
        "dossier.updated",
    ];
    assert_eq!(feed_types(&app, &token_a, 1), expected, "page by page");
    assert_eq!(feed_types(&app, &token_a, 100), expected, "at once");
    assert!(feed_types(&app, &token_b, 10).is_empty());
    let all = get_ok(&app, "/api/v1/integration/events", &token_a);
    let first = &all["items"][0];
    assert_eq!(first["dossier_code"], d["code"]);
    assert_eq!(first["agency_id"], a.agency_id.as_str());
    assert!(!all.to_string().contains("001099012345"), "the feed carries no personal data");
    assert_problem(get(&app, "/api/v1/integration/events?after=-1.0", &token_a), 400, "validation_failed");
}

on_both_backends!(
    client_credentials_and_scope,
    pull_with_cursor_paging,
    idempotent_push,
    counter_registration_is_trackable,
    change_feed_is_complete
);

/// On PostgreSQL an event written by a transaction that commits late is not passed by a cursor.
#[test]
fn feed_waits_for_transactions_that_commit_late_postgres() {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded(Backend::Postgres));
    let d = submitted(&app, &a);
    let before = get_ok(&app, "/api/v1/integration/events", &token_a);
    let after = before["next"].as_str().unwrap().to_string();
    // A transaction starts, writes an event, and stays open.
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&database_url(&app)).unwrap();
    conn.batch_execute(&format!(
        "BEGIN; INSERT INTO integration_events (id, event_type, agency_id, dossier_id, dossier_code, data, created_at) \
         VALUES ('late-1', 'dossier.updated', '{}', '{}', '{}', '{{}}', now())",
        a.agency_id,
        d["id"].as_str().unwrap(),
        d["code"].as_str().unwrap()
    ))
    .unwrap();
    // Meanwhile another change commits.
    ok_move(&app, &a.officer, d["id"].as_str().unwrap(), json!({"action": "receive"}));
    let held = get_ok(&app, &format!("/api/v1/integration/events?after={after}"), &token_a);
    assert_eq!(held["items"], json!([]), "nothing passes the open transaction");
    conn.batch_execute("COMMIT").unwrap();
    let page = get_ok(&app, &format!("/api/v1/integration/events?after={after}"), &token_a);
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(ids, ["dossier.updated", "dossier.status_changed"], "the late one first, none skipped");
}

fn database_url(app: &TestApp) -> String {
    let name: String = {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Db {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let mut conn = app.conn();
        diesel::sql_query("SELECT current_database() AS name").get_result::<Db>(&mut **conn).unwrap().name
    };
    let admin = postgres_admin_url();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

/// The same Idempotency-Key sent at once to two instances on one PostgreSQL moves the dossier
/// once; every answer is the first one or a "still in progress" conflict.
#[test]
fn idempotency_keys_hold_across_instances_postgres() {
    let Setup { app, a, token_a, .. } = setup(TestApp::seeded(Backend::Postgres));
    let second = app.second_instance();
    let d = submitted(&app, &a);
    let (id, code) = (d["id"].as_str().unwrap().to_string(), d["code"].as_str().unwrap().to_string());
    let bases = [app.base.clone(), second.base.clone()];
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (base, token, code) = (bases[i % 2].clone(), token_a.clone(), code.clone());
                s.spawn(move || {
                    let res = reqwest::blocking::Client::new()
                        .post(format!("{base}/api/v1/integration/dossiers/{code}/transitions"))
                        .bearer_auth(token)
                        .header("idempotency-key", "mc-concurrent-1")
                        .json(&json!({"action": "receive"}))
                        .send()
                        .unwrap();
                    (res.status().as_u16(), res.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert!(!ok.is_empty(), "{answers:?}");
    assert!(ok.iter().all(|b| *b == ok[0]), "every 200 is the first answer");
    assert!(answers.iter().all(|(s, b)| *s == 200 || (*s == 409 && b["code"] == "conflict")), "{answers:?}");
    let history = get_ok(&app, &format!("/api/v1/dossiers/{id}/history"), &a.citizen);
    assert_eq!(history.as_array().unwrap().iter().filter(|e| e["action"] == "receive").count(), 1);
    // A later retry on either instance gets the stored answer.
    for base in &bases {
        let res = reqwest::blocking::Client::new()
            .post(format!("{base}/api/v1/integration/dossiers/{code}/transitions"))
            .bearer_auth(&token_a)
            .header("idempotency-key", "mc-concurrent-1")
            .json(&json!({"action": "receive"}))
            .send()
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(&res.json::<Value>().unwrap(), ok[0]);
    }
}
