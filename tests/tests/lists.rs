//! Pages of an applicant's dossiers and of an agency's inbox are kept rendered under the version
//! of their list, which the database moves with every change: a change made through this server,
//! through another one or straight in the database shows on the next page read, and so do a new
//! day, a new holiday and a payment.

use std::time::{Duration, Instant};

use chrono::Datelike;

use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::dossiers::{actors, birth_form, draft, ok_move, pdf};
use crate::on_both_backends;
use crate::support::{Backend, TestApp};

/// Reads `path` until `done` holds of the answer (another server's catalogue counter is polled).
fn eventually(app: &TestApp, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = app.get_json_with(path, token);
        if done(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "{path} never showed the change: {page}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn list_pages_follow_every_change(backend: Backend) {
    let app = TestApp::seeded(backend);
    let other = app.second_instance();
    let a = actors(&app);
    let mine = || app.get_json_with("/api/v1/me/dossiers", &a.citizen);
    let inbox = || app.get_json_with("/api/v1/agency/dossiers", &a.officer);
    // Read twice, so that the second answer comes from the kept page.
    assert_eq!(mine()["total"], 0);
    assert_eq!(mine()["items"], json!([]));
    assert_eq!(inbox()["total"], 0);

    let d = draft(&app, &a);
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(mine()["total"], 1);
    assert_eq!(mine()["items"][0]["status"], "draft");
    assert_eq!(inbox()["total"], 0, "a draft is in no inbox");

    // Another server changes the form: this one's next page shows it.
    let mut form = birth_form();
    form["child_full_name"] = json!("Nguyễn Minh Đức");
    let res = other
        .with_token(other.client.patch(other.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen)
        .json(&json!({"form_data": form}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text());
    assert_eq!(mine()["items"][0]["form_data"]["child_full_name"], "Nguyễn Minh Đức");

    // Attachments added and removed through another server.
    for doc in ["TK-KS", "GCS"] {
        let res = other.upload(
            &format!("/api/v1/dossiers/{id}/attachments"),
            &a.citizen,
            &[("document_id", doc)],
            Some((&format!("{doc}.pdf"), pdf(doc))),
        );
        assert_eq!(res.status(), 201);
    }
    let page = mine();
    assert_eq!(page["items"][0]["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["missing_documents"], json!([]));
    let first = page["items"][0]["attachments"][0]["id"].as_str().unwrap().to_string();
    let res = other
        .with_token(other.client.delete(other.url(&format!("/api/v1/dossiers/{id}/attachments/{first}"))), &a.citizen)
        .send()
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(mine()["items"][0]["attachments"].as_array().unwrap().len(), 1);
    let res = other.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &a.citizen,
        &[("document_id", "TK-KS")],
        Some(("TK-KS.pdf", pdf("again"))),
    );
    assert_eq!(res.status(), 201);

    // A change straight in the database, which no server hears of.
    {
        let mut conn = app.conn();
        let mut row = dvc_persistence::dossiers::find_dossier(&mut conn, &id).unwrap().unwrap();
        let expected = row.version;
        row.delivery = dvc_persistence::codes::Json(serde_json::from_value(json!({"method": "counter"})).unwrap());
        row.version += 1;
        assert!(dvc_persistence::dossiers::update_dossier(&mut conn, &row, expected).unwrap());
    }
    assert_eq!(mine()["items"][0]["delivery"]["method"], "counter");

    // Submitted through another server: the applicant's page and the inbox follow.
    let res = other.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
    assert_eq!(mine()["items"][0]["status"], "submitted");
    let page = inbox();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], id.as_str());

    // Received by an officer on the other server: both lists show the move and the due date.
    let received = ok_move(&other, &a.officer, &id, json!({"action": "receive"}));
    assert_eq!(inbox()["items"][0]["status"], "received");
    let page = mine();
    assert_eq!(page["items"][0]["status"], "received");
    assert_eq!(page["items"][0]["due_date"], received["due_date"]);
    assert_eq!(page["items"][0]["working_days_used"], 0);

    // A week later the deadline view has moved on, without any change to the dossier.
    app.clock.advance(chrono::Duration::days(7));
    let used = mine()["items"][0]["working_days_used"].as_i64().unwrap();
    assert!((3..=5).contains(&used), "{used}");
    // A day off declared on the other server counts on this one once it sees the calendar change:
    // a weekday of the week that is not a holiday yet (the business date is Vietnam's).
    let admin = app.admin_token();
    let today = dvc_api::calendar::local_date(dvc_persistence::now());
    let listed: Vec<Value> = [today.year(), today.year() + 1]
        .iter()
        .flat_map(|y| app.get_json(&format!("/api/v1/holidays?year={y}")).as_array().unwrap().clone())
        .collect();
    let day_off = (1..=7)
        .map(|n| today + chrono::Duration::days(n))
        .find(|d| d.weekday().number_from_monday() <= 5 && !listed.iter().any(|h| h["date"] == d.to_string()))
        .unwrap();
    let res = other
        .with_token(other.client.put(other.url(&format!("/api/v1/admin/holidays/{day_off}"))), &admin)
        .json(&json!({"name": "Nghỉ đột xuất"}))
        .send()
        .unwrap();
    assert!(res.status().is_success(), "{:?}", res.text());
    let page = eventually(&app, "/api/v1/me/dossiers", &a.citizen, |p| p["items"][0]["working_days_used"] != used);
    assert_eq!(page["items"][0]["working_days_used"].as_i64().unwrap(), used - 1);
    eventually(&app, "/api/v1/agency/dossiers", &a.officer, |p| p["items"][0]["working_days_used"] == used - 1);

    // Another applicant's list is their own.
    register_citizen(&app, "001099054321", "0987654321");
    let stranger = app.sign_in("001099054321", PASSWORD);
    assert_eq!(app.get_json_with("/api/v1/me/dossiers", &stranger)["total"], 0);
    // Filters and page sizes are pages of their own.
    assert_eq!(app.get_json_with("/api/v1/me/dossiers?status=draft", &a.citizen)["total"], 0);
    assert_eq!(app.get_json_with("/api/v1/me/dossiers?status=received", &a.citizen)["total"], 1);
    assert_eq!(app.get_json_with("/api/v1/me/dossiers?page=2", &a.citizen)["items"], json!([]));
}

/// A payment settled on another server shows in the applicant's list.
fn list_pages_follow_payments(backend: Backend) {
    let app = TestApp::seeded(backend);
    let other = app.second_instance();
    let procedure = app.get_json("/api/v1/procedures/1.004873");
    let agency_id = procedure["agencies"][0]["id"].as_str().unwrap().to_string();
    register_citizen(&app, "001099012345", "0912345678");
    let citizen = app.sign_in("001099012345", PASSWORD);
    let form = json!({"full_name": "Nguyễn Văn An", "date_of_birth": "1999-05-01", "residence": "Hoàn Kiếm, Hà Nội",
                      "marital_status": "Chưa đăng ký kết hôn", "purpose": "Đăng ký kết hôn"});
    let body = json!({"procedure_id": procedure["id"], "agency_id": agency_id, "form_data": form,
                      "delivery": {"method": "online"}});
    let d: Value = app.post("/api/v1/dossiers", &body, Some(&citizen)).json().unwrap();
    let id = d["id"].as_str().unwrap();
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &citizen,
        &[("document_id", "TK-XNHN")],
        Some(("tk.pdf", pdf("tk"))),
    );
    assert_eq!(res.status(), 201);
    assert_eq!(app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&citizen)).status(), 200);
    let mine = || app.get_json_with("/api/v1/me/dossiers", &citizen)["items"][0].clone();
    assert_eq!(mine()["fees"]["outstanding_before"], 3000);
    assert_eq!(mine()["national_status_code"], 6, "a fee is owed");

    let payment: Value = other
        .with_token(other.client.post(other.url(&format!("/api/v1/dossiers/{id}/payments"))), &citizen)
        .json(&json!({"provider": "sandbox"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let pid = payment["id"].as_str().unwrap();
    let res = other.post(&format!("/api/v1/payments/{pid}/sandbox-complete"), &json!({}), Some(&citizen));
    assert_eq!(res.json::<Value>().unwrap()["status"], "paid");
    let item = mine();
    assert_eq!(item["fees"]["paid_before"], 3000);
    assert_eq!(item["fees"]["outstanding_before"], 0);
    assert_eq!(item["national_status_code"], 1);
}

/// Walks a list page by page with `per_page`, by page number or by cursor; the ids in order and
/// whether each page had a cursor to the next.
fn walk(app: &TestApp, path: &str, token: &str, by_cursor: bool) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    for page in 1..=20 {
        let url = match (&after, by_cursor) {
            (Some(c), true) => format!("{path}&after={c}"),
            (None, true) if page > 1 => break,
            _ => format!("{path}&page={page}"),
        };
        let answer = app.get_json_with(&url, token);
        let items = answer["items"].as_array().unwrap();
        if items.is_empty() {
            assert!(answer.get("next_cursor").is_none(), "an empty page leads nowhere");
            break;
        }
        ids.extend(items.iter().map(|d| d["id"].as_str().unwrap().to_string()));
        after = answer.get("next_cursor").and_then(Value::as_str).map(str::to_string);
        if !by_cursor && after.is_none() {
            break;
        }
    }
    ids
}

/// Deep pages are read from a cursor (the sort key of the page before's last row) as cheaply as
/// the first: the same rows in the same order as page numbers give, on both kinds of list.
fn lists_page_by_cursor(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    for i in 0..11 {
        let d = crate::dossiers::submitted(&app, &a);
        // Some received (with a due date), some not yet (none): both orders of the inbox.
        if i % 3 == 0 {
            ok_move(&app, &a.officer, d["id"].as_str().unwrap(), json!({"action": "receive"}));
        }
    }
    for _ in 0..4 {
        draft(&app, &a);
    }
    let inbox = "/api/v1/agency/dossiers?per_page=4";
    let by_number = walk(&app, inbox, &a.officer, false);
    assert_eq!(by_number.len(), 11);
    assert_eq!(walk(&app, inbox, &a.officer, true), by_number);
    let mine = "/api/v1/me/dossiers?per_page=5";
    let by_number = walk(&app, mine, &a.citizen, false);
    assert_eq!(by_number.len(), 15);
    assert_eq!(walk(&app, mine, &a.citizen, true), by_number, "15 = three full pages, then an empty one");
    // Every agency's inbox (administrators'): the same order by page and by cursor, and its total.
    let admin = app.admin_token();
    let all = "/api/v1/agency/dossiers?per_page=3";
    let by_number = walk(&app, all, &admin, false);
    assert_eq!(by_number.len(), 11);
    assert_eq!(walk(&app, all, &admin, true), by_number);
    assert_eq!(app.get_json_with(all, &admin)["total"], 11);
    // The pages after a cursor at the usual size (whose statements carry their size), for one
    // agency's inbox and every agency's: the rest in the same order, after a received dossier's
    // cursor (the first three have a due date) and after one not yet received (the fifth).
    let path = "/api/v1/agency/dossiers";
    for token in [&a.officer, &admin] {
        for (before, dated) in [(3, true), (5, false)] {
            let first = app.get_json_with(&format!("{path}?per_page={before}"), token);
            assert_eq!(first["items"][before - 1]["due_date"].is_string(), dated);
            let cursor = first["next_cursor"].as_str().expect("a cursor after a full page");
            let rest = app.get_json_with(&format!("{path}?after={cursor}"), token);
            let ids: Vec<&str> = rest["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
            assert_eq!(ids, by_number[before..].iter().map(String::as_str).collect::<Vec<_>>(), "{path} {before}");
            assert!(rest.get("next_cursor").is_none(), "the rest does not fill a page of twenty");
        }
    }

    // A cursor is for its kind of list, alone, and as given.
    let first = app.get_json_with(inbox, &a.officer);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let get = |path: &str, token: &str| app.with_token(app.client.get(app.url(path)), token).send().unwrap();
    let res = get(&format!("/api/v1/me/dossiers?after={cursor}"), &a.citizen);
    assert_eq!(crate::support::assert_problem(res, 400, "validation_failed")["errors"][0]["code"], "invalid_cursor");
    let res = get(&format!("{inbox}&after={cursor}&page=2"), &a.officer);
    assert_eq!(crate::support::assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "page");
    for garbage in ["x", "aX4", "aX5-_", "%00"] {
        let res = get(&format!("{inbox}&after={garbage}"), &a.officer);
        crate::support::assert_problem(res, 400, "validation_failed");
    }
}

on_both_backends!(list_pages_follow_every_change, list_pages_follow_payments, lists_page_by_cursor);
