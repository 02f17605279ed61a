//! Citizen voice: complaints, reflections and support requests with their visibility rules, and
//! satisfaction ratings.

use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::dossiers::{actors, move_, ok_move, pdf, submitted, Actors};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

/// Takes a received dossier through processing to the returned result.
pub fn finish(app: &TestApp, a: &Actors, id: &str) {
    ok_move(app, &a.officer, id, json!({"action": "start_processing"}));
    let res = app.upload(&format!("/api/v1/dossiers/{id}/results"), &a.officer, &[], Some(("kq.pdf", pdf("KQ"))));
    assert_eq!(res.status(), 201);
    ok_move(app, &a.officer, id, json!({"action": "complete"}));
    let r = ok_move(app, &a.officer, id, json!({"action": "return_result"}));
    assert_eq!(r["status"], "returned");
}

/// Another agency than the one in `a`, and an officer of it.
fn other_officer(app: &TestApp, a: &Actors) -> String {
    let agencies = app.get_json("/api/v1/agencies?per_page=100");
    let other = agencies["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .find(|id| *id != a.agency_id)
        .expect("a second agency");
    app.officer_token("canbo.khac", Some(&other))
}

fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::blocking::Response {
    let builder = app.client.get(app.url(path));
    match token {
        Some(t) => app.with_token(builder, t),
        None => builder,
    }
    .send()
    .unwrap()
}

pub fn file(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/v1/feedback", &body, Some(token));
    assert_eq!(res.status(), 201, "{body}: {:?}", res.text());
    res.json().unwrap()
}

fn codes(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

fn feedback_kinds_and_visibility(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    let other_officer = other_officer(&app, &a);
    let dossier = submitted(&app, &a);
    let dossier_code = dossier["code"].as_str().unwrap();

    // A complaint about one's own dossier goes to the agency handling it.
    let complaint = file(
        &app,
        &a.citizen,
        json!({"kind": "complaint", "title": "Chậm tiếp nhận", "content": "Hồ sơ nộp đã lâu chưa được tiếp nhận.",
               "dossier_code": dossier_code}),
    );
    let cid = complaint["id"].as_str().unwrap();
    assert!(complaint["code"].as_str().unwrap().starts_with("KN-"), "{complaint}");
    assert_eq!(complaint["status"], "new");
    assert_eq!(complaint["agency"]["id"], a.agency_id.as_str());
    assert_eq!(complaint["procedure"]["id"], a.procedure_id.as_str());
    assert_eq!(complaint["dossier_code"], dossier_code);
    assert_eq!(complaint["history"][0]["action"], "create");

    // Someone else's dossier is refused exactly like a code that does not exist.
    let res = app.post(
        "/api/v1/feedback",
        &json!({"kind": "complaint", "title": "Khiếu nại", "content": "Nội dung", "dossier_code": dossier_code}),
        Some(&stranger),
    );
    let p = assert_problem(res, 400, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "dossier_code");
    let res = app.post(
        "/api/v1/feedback",
        &json!({"kind": "complaint", "title": "Khiếu nại", "content": "Nội dung", "dossier_code": "H00-000000-0000"}),
        Some(&stranger),
    );
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "dossier_code");
    // A complaint names what it is about; unknown kinds and blank text are refused; staff do not file.
    let res = app.post(
        "/api/v1/feedback",
        &json!({"kind": "complaint", "title": "Khiếu nại", "content": "Nội dung", "agency_id": a.agency_id}),
        Some(&a.citizen),
    );
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "procedure_id");
    let res = app.post("/api/v1/feedback", &json!({"kind": "praise", "title": " ", "content": "x"}), Some(&a.citizen));
    let p = assert_problem(res, 400, "validation_failed");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["kind", "title"]);
    let res = app.post(
        "/api/v1/feedback",
        &json!({"kind": "reflection", "title": "T", "content": "C", "agency_id": a.agency_id}),
        Some(&a.officer),
    );
    assert_problem(res, 403, "forbidden");
    let res = app.post("/api/v1/feedback", &json!({"kind": "reflection", "title": "T", "content": "C"}), None);
    assert_problem(res, 401, "unauthorized");

    // The author and the agency see a complaint; nobody else learns it exists.
    assert_eq!(get(&app, &format!("/api/v1/feedback/{cid}"), Some(&a.citizen)).status(), 200);
    assert_eq!(get(&app, &format!("/api/v1/feedback/{cid}"), Some(&a.officer)).status(), 200);
    assert_problem(get(&app, &format!("/api/v1/feedback/{cid}"), Some(&stranger)), 404, "not_found");
    assert_problem(get(&app, &format!("/api/v1/feedback/{cid}"), Some(&other_officer)), 404, "not_found");
    assert_problem(get(&app, &format!("/api/v1/feedback/{cid}"), None), 401, "unauthorized");
    let queue: Value = get(&app, "/api/v1/agency/feedback", Some(&a.officer)).json().unwrap();
    assert_eq!(codes(&queue), [complaint["code"].as_str().unwrap()]);
    let other_queue: Value = get(&app, "/api/v1/agency/feedback", Some(&other_officer)).json().unwrap();
    assert_eq!(other_queue["total"], 0);
    assert_problem(get(&app, "/api/v1/agency/feedback", Some(&a.citizen)), 403, "forbidden");
    // Nobody outside the agency moves it.
    assert_problem(
        app.post(&format!("/api/v1/feedback/{cid}/answer"), &json!({"content": "Trả lời"}), Some(&other_officer)),
        404,
        "not_found",
    );

    // Reflections: one to be published, one whose author opts out; a support request.
    let published = file(
        &app,
        &a.citizen,
        json!({"kind": "reflection", "title": "Đề nghị bỏ bản sao", "content": "Không nên yêu cầu bản sao giấy chứng sinh.",
               "procedure_id": a.procedure_id, "agency_id": a.agency_id}),
    );
    let private = file(
        &app,
        &a.citizen,
        json!({"kind": "reflection", "title": "Thái độ cán bộ", "content": "Cán bộ tiếp dân rất nhiệt tình.",
               "agency_id": a.agency_id, "publish": false}),
    );
    let support = file(
        &app,
        &stranger,
        json!({"kind": "support_request", "title": "Không tải được tệp", "content": "Tệp PDF 3MB bị từ chối.",
               "procedure_id": a.procedure_id}),
    );
    assert!(published["code"].as_str().unwrap().starts_with("PA-"));
    assert!(support["code"].as_str().unwrap().starts_with("HT-"));
    assert!(!support["agency"]["id"].as_str().unwrap().is_empty(), "routed to an agency of the procedure");
    let mine: Value = get(&app, "/api/v1/me/feedback", Some(&a.citizen)).json().unwrap();
    assert_eq!(mine["total"], 3);
    let mine: Value = get(&app, "/api/v1/me/feedback?kind=reflection", Some(&a.citizen)).json().unwrap();
    assert_eq!(mine["total"], 2);
    assert_problem(get(&app, "/api/v1/me/feedback?status=done", Some(&a.citizen)), 400, "validation_failed");

    // The officer takes up and answers; the author's phone gets a message; moves are the agency's.
    let pid = published["id"].as_str().unwrap();
    let started: Value =
        app.post(&format!("/api/v1/feedback/{pid}/start"), &json!({}), Some(&a.officer)).json().unwrap();
    assert_eq!(started["status"], "in_progress");
    assert_problem(
        app.post(&format!("/api/v1/feedback/{pid}/answer"), &json!({}), Some(&a.officer)),
        400,
        "validation_failed",
    );
    assert_problem(
        app.post(&format!("/api/v1/feedback/{pid}/answer"), &json!({"content": "Tôi tự trả lời"}), Some(&a.citizen)),
        403,
        "forbidden",
    );
    let answered: Value = app
        .post(
            &format!("/api/v1/feedback/{pid}/answer"),
            &json!({"content": "Đã bỏ yêu cầu bản sao từ 01/12."}),
            Some(&a.officer),
        )
        .json()
        .unwrap();
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["answer"], "Đã bỏ yêu cầu bản sao từ 01/12.");
    let sent = dvc_persistence::outbox::for_recipient(&mut app.conn(), "+84912345678").unwrap();
    assert!(sent.iter().any(|n| n.purpose.0 == dvc_domain::notify::Purpose::FeedbackAnswered
        && n.body.contains(published["code"].as_str().unwrap())));
    assert_problem(app.post(&format!("/api/v1/feedback/{pid}/reopen"), &json!({}), Some(&a.officer)), 403, "forbidden");
    let vid = private["id"].as_str().unwrap();
    let res =
        app.post(&format!("/api/v1/feedback/{vid}/answer"), &json!({"content": "Cảm ơn ông/bà."}), Some(&a.officer));
    assert_eq!(res.status(), 200);
    let res =
        app.post(&format!("/api/v1/feedback/{cid}/answer"), &json!({"content": "Đã tiếp nhận."}), Some(&a.officer));
    assert_eq!(res.status(), 200);

    // Only the answered reflection that may be published is public, without its author.
    let public = app.get_json("/api/v1/feedback/public");
    assert_eq!(codes(&public), [published["code"].as_str().unwrap()]);
    let item = &public["items"][0];
    assert_eq!(item["answer"], "Đã bỏ yêu cầu bản sao từ 01/12.");
    let text = item.to_string();
    for personal in ["001099012345", "+84912345678", "author", "Nguyễn"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    // Published is not the same as visible by id: the single view stays private.
    assert_problem(get(&app, &format!("/api/v1/feedback/{pid}"), Some(&stranger)), 404, "not_found");

    // Reopen once, answered again, then closed by the author.
    let reopened: Value = app
        .post(&format!("/api/v1/feedback/{pid}/reopen"), &json!({"content": "Vẫn còn yêu cầu ở xã."}), Some(&a.citizen))
        .json()
        .unwrap();
    assert_eq!(reopened["status"], "in_progress");
    assert_eq!(reopened["reopened"], 1);
    let res = app.post(
        &format!("/api/v1/feedback/{pid}/answer"),
        &json!({"content": "Đã chấn chỉnh ở xã."}),
        Some(&a.officer),
    );
    assert_eq!(res.status(), 200);
    let res = app.post(&format!("/api/v1/feedback/{pid}/reopen"), &json!({}), Some(&a.citizen));
    assert_problem(res, 409, "conflict");
    let closed: Value =
        app.post(&format!("/api/v1/feedback/{pid}/close"), &json!({}), Some(&a.citizen)).json().unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["allowed_actions"], json!([]));
    let actions: Vec<&str> =
        closed["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "start", "answer", "reopen", "answer", "close"]);
    assert_problem(app.post(&format!("/api/v1/feedback/{pid}/start"), &json!({}), Some(&a.officer)), 409, "conflict");
    assert_eq!(codes(&app.get_json("/api/v1/feedback/public")), [published["code"].as_str().unwrap()]);

    // The author withdraws publication: gone from the public list; only the author decides.
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/feedback/{pid}"))), &a.officer)
        .json(&json!({"publish": false}))
        .send()
        .unwrap();
    assert_problem(res, 403, "forbidden");
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/feedback/{pid}"))), &a.citizen)
        .json(&json!({"publish": false}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_json("/api/v1/feedback/public")["total"], 0);
}

fn rating_rules(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    let path = format!("/api/v1/dossiers/{id}/rating");
    let good = json!({"score": 4, "attitude": 5, "timeliness": 4, "transparency": 3, "comment": "Nhanh gọn"});

    // Too early: the agency has not finished.
    assert_problem(app.post(&path, &good, Some(&a.citizen)), 409, "not_finished");
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    assert_problem(app.post(&path, &good, Some(&a.citizen)), 409, "not_finished");
    finish(&app, &a, id);

    // Strangers are told the dossier does not exist; officers do not rate; scores are 1–5.
    assert_problem(app.post(&path, &good, Some(&stranger)), 404, "not_found");
    assert_problem(app.post(&path, &good, Some(&a.officer)), 403, "forbidden");
    let p = assert_problem(app.post(&path, &json!({"score": 6}), Some(&a.citizen)), 400, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "score");
    let p = assert_problem(
        app.post(&path, &json!({"score": 3, "attitude": 0, "transparency": 9}), Some(&a.citizen)),
        400,
        "validation_failed",
    );
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    assert_problem(app.post(&path, &json!({"score": "5"}), Some(&a.citizen)), 400, "validation_failed");
    assert_problem(get(&app, &path, Some(&a.citizen)), 404, "not_found");

    let res = app.post(&path, &good, Some(&a.citizen));
    assert_eq!(res.status(), 201);
    let rating: Value = res.json().unwrap();
    assert_eq!(rating["score"], 4);
    assert_eq!(rating["comment"], "Nhanh gọn");
    // Once only.
    assert_problem(app.post(&path, &json!({"score": 1}), Some(&a.citizen)), 409, "already_rated");
    assert_eq!(get(&app, &path, Some(&a.officer)).json::<Value>().unwrap()["score"], 4);
    assert_problem(get(&app, &path, Some(&stranger)), 404, "not_found");

    // A rejected dossier can be rated too.
    let d2 = submitted(&app, &a);
    let id2 = d2["id"].as_str().unwrap();
    let res = move_(&app, &a.officer, id2, json!({"action": "reject", "reason": "Sai thẩm quyền"}));
    assert_eq!(res.status(), 200);
    let res = app.post(&format!("/api/v1/dossiers/{id2}/rating"), &json!({"score": 2}), Some(&a.citizen));
    assert_eq!(res.status(), 201);
}

on_both_backends!(feedback_kinds_and_visibility, rating_rules);
