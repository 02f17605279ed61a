//! Fines paid by decision number: registered by the issuing authority's system, looked up with
//! the plate or ID number, paid once (late payment grows by 0.05% a day), announced to the
//! issuing system (feed and webhook), and receipted; receipts for dossier payments too.

use chrono::Duration;
use serde_json::{json, Value};

use crate::integration::{client, get_ok, token};
use crate::on_both_backends;
use crate::support::{assert_problem, pdf_text, Backend, TestApp};
use crate::webhooks::{fast_webhooks, Receiver};

const NUMBER: &str = "12345/QĐ-XPHC";
const PATH: &str = "/api/v1/integration/fines/12345%2FQ%C4%90-XPHC";

fn decision(pay_by: &str) -> Value {
    json!({"decided_on": "2026-11-20", "violator": {"full_name": "Nguyễn Văn An", "id_number": "001099012345"},
           "plate": "30A-123.45", "violation": "Điều khiển xe ô tô chạy quá tốc độ quy định từ 10 km/h đến 20 km/h",
           "legal_basis": "Điểm a khoản 5 Điều 7 Nghị định 168/2024/NĐ-CP", "amount_vnd": 4_000_000, "pay_by": pay_by})
}

fn lookup(app: &TestApp, query: &str) -> reqwest::blocking::Response {
    app.get(&format!("/api/v1/fines/lookup?decision_number=12345%2FQ%C4%90-XPHC&{query}"))
}

fn a_fine_is_registered_looked_up_and_paid_once(backend: Backend) {
    let app = TestApp::seeded_with(backend, fast_webhooks);
    let admin = app.admin_token();
    let police = app.get_json("/api/v1/agencies/H26.00070.CA");
    let police_id = police["id"].as_str().unwrap();
    let (id, secret) = client(&app, &admin, "Hệ thống xử lý vi phạm giao thông", &[police_id]);
    let issuer = token(&app, &id, &secret);
    let receiver = Receiver::start(0);
    let res = app.post(
        "/api/v1/integration/webhooks",
        &json!({"url": receiver.url, "events": ["fine.paid"], "secret": "whsec-xu-ly-vi-pham-2026"}),
        Some(&issuer),
    );
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let put =
        |body: &Value, token: &str| app.with_token(app.client.put(app.url(PATH)), token).json(body).send().unwrap();

    // Registered, then corrected; bad input is refused field by field.
    let today = app.clock.today();
    let pay_by = (today + Duration::days(5)).to_string();
    let res = put(&decision(&pay_by), &issuer);
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let mut corrected = decision(&pay_by);
    corrected["amount_vnd"] = json!(5_000_000);
    let res = put(&corrected, &issuer);
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().unwrap()["version"], 2);
    let mut bad = decision(&pay_by);
    bad["plate"] = json!("ABC");
    bad["amount_vnd"] = json!(0);
    bad["pay_by"] = json!("2026-11-01");
    let p = assert_problem(put(&bad, &issuer), 400, "validation_failed");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["plate", "amount_vnd", "pay_by"]);
    assert_problem(put(&decision(&pay_by), &admin), 403, "forbidden");
    // Another authority's system cannot touch it.
    let other_agency = app.get_json("/api/v1/agencies/H29.26743.CA")["id"].as_str().unwrap().to_string();
    let (oid, osecret) = client(&app, &admin, "Tỉnh khác", &[&other_agency]);
    assert_problem(put(&decision(&pay_by), &token(&app, &oid, &osecret)), 404, "not_found");

    // Looked up with the plate (any spelling) or the ID number; the same 404 otherwise.
    for query in ["plate=30A-123.45", "plate=30a12345", "id_number=001099012345"] {
        let res = lookup(&app, query);
        assert_eq!(res.status(), 200, "{query}");
        let fine: Value = res.json().unwrap();
        assert_eq!(fine["total_due_vnd"], 5_000_000);
        assert_eq!(fine["violator"], "Nguyễn V. A.", "the name shortened");
        assert_eq!(fine["agency"]["code"], "H26.00070.CA");
    }
    assert_problem(lookup(&app, "plate=29B1-999.99"), 404, "not_found");
    assert_problem(app.get("/api/v1/fines/lookup?decision_number=99%2FQ%C4%90&plate=30A-123.45"), 404, "not_found");
    assert_problem(app.get("/api/v1/fines/lookup?decision_number=12345%2FQ%C4%90-XPHC"), 400, "validation_failed");

    // Ten days past the deadline: 0.05% a day more.
    app.clock.advance(Duration::days(15));
    let fine: Value = lookup(&app, "plate=30A12345").json().unwrap();
    assert_eq!((fine["days_late"].as_i64(), fine["surcharge_vnd"].as_i64()), (Some(10), Some(25_000)));
    assert_eq!(fine["total_due_vnd"], 5_025_000);

    // Paid once, through the sandbox.
    let pay = |extra: Value| {
        let mut body = json!({"decision_number": NUMBER, "plate": "30A-123.45", "provider": "sandbox"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        app.post("/api/v1/fines/payments", &body, None)
    };
    let res = pay(json!({}));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let started: Value = res.json().unwrap();
    assert_eq!((started["amount_vnd"].as_i64(), started["surcharge_vnd"].as_i64()), (Some(5_025_000), Some(25_000)));
    assert!(started["vietqr"].as_str().unwrap().starts_with("000201"));
    let id = started["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/fines/payments/{id}/sandbox-complete"), &json!({}), None);
    assert_eq!(res.status(), 200, "{:?}", res.text());
    let paid: Value = res.json().unwrap();
    assert_eq!(paid["status"], "paid");
    let receipt = paid["receipt"].clone();
    assert_eq!(receipt["series"], format!("BL/{}E", app.clock.today().format("%y")));
    assert_eq!(receipt["number"], "0000001");
    assert_eq!(receipt["amount_vnd"], 5_025_000);
    assert_problem(
        app.post(&format!("/api/v1/fines/payments/{id}/sandbox-complete"), &json!({}), None),
        409,
        "conflict",
    );
    let res = pay(json!({}));
    assert_eq!(assert_problem(res, 409, "already_paid")["status"], 409);
    assert_problem(put(&decision(&pay_by), &issuer), 409, "conflict");
    let fine: Value = lookup(&app, "plate=30A12345").json().unwrap();
    assert_eq!((fine["status"].as_str(), fine["total_due_vnd"].as_i64()), (Some("paid"), Some(0)));
    assert_eq!(fine["receipt"]["verification_code"], receipt["verification_code"]);

    // The issuing system learns of it: the change feed and the webhook.
    // The feed shows an event once no older writing transaction is still running (a webhook
    // worker's claim may be): read it as a client does, until it comes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let event = loop {
        let feed = get_ok(&app, "/api/v1/integration/events?limit=100", &issuer);
        if let Some(e) = feed["items"].as_array().unwrap().iter().find(|e| e["type"] == "fine.paid") {
            break e.clone();
        }
        assert!(std::time::Instant::now() < deadline, "fine.paid in the feed: {feed}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(event["data"]["decision_number"], NUMBER);
    assert_eq!(event["data"]["amount_vnd"], 5_025_000);
    let delivered = receiver.wait_for(1);
    assert_eq!(delivered.len(), 1, "one webhook delivery");
    let body: Value = serde_json::from_str(&delivered[0].1).unwrap();
    assert_eq!(body["type"], "fine.paid", "{body}");

    // The receipt checks out, as JSON and as a PDF.
    let code = receipt["verification_code"].as_str().unwrap();
    let checked = app.get_json(&format!("/api/v1/receipts/{code}"));
    assert_eq!(checked["number"], "0000001");
    assert_eq!(checked["agency"]["code"], "H26.00070.CA");
    let pdf = app.get(&format!("/api/v1/receipts/{code}/pdf")).bytes().unwrap();
    let text = pdf_text(&pdf);
    for expected in ["BIÊN LAI THU ĐIỆN TỬ", "0000001", "5.025.000 đồng", NUMBER, code] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert_problem(app.get("/api/v1/receipts/KHONGCO"), 404, "not_found");
}

on_both_backends!(a_fine_is_registered_looked_up_and_paid_once);

fn dossier_payments_are_receipted_in_series(backend: Backend) {
    let app = TestApp::seeded(backend);
    let case = crate::payments::submitted_with_fee(&app);
    let second = crate::payments::submit_with_fee(&app, &case.citizen);
    let receipts = [
        crate::payments::paid_in_sandbox(&app, &case.citizen, &case.dossier),
        crate::payments::paid_in_sandbox(&app, &case.citizen, &second),
    ];
    let numbers: Vec<&str> = receipts.iter().map(|r| r["receipt"]["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["0000001", "0000002"], "numbered per agency");
    assert!(receipts[0]["receipt"]["content"].as_str().unwrap().contains(case.dossier["code"].as_str().unwrap()));
    assert_eq!(receipts[1]["receipt"]["amount_vnd"], 3_000);
    // The dossier's fees list the payments with their receipts.
    let id = case.dossier["id"].as_str().unwrap();
    let fees = app.get_json_with(&format!("/api/v1/dossiers/{id}/fees"), &case.citizen);
    assert_eq!(fees["payments"][0]["receipt"]["number"], "0000001");
}

on_both_backends!(dossier_payments_are_receipted_in_series);
