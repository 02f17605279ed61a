//! Interconnected procedures (liên thông): the birth → permanent residence → health insurance card
//! bundle (1.001022) walked by the officers of three agencies: steps in order, results passed on,
//! inbox isolation, the parent's status and deadline, withdrawal, a refused step, the public
//! lookup, and a step moved by an agency's integration client.

use serde_json::{json, Value};

use crate::dossiers::{move_, ok_move, pdf};
use crate::integration::{client, get_ok, token};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

struct Desk {
    agency_id: String,
    officer: String,
}

fn agency_id(app: &TestApp, code: &str) -> String {
    let page = app.get_json("/api/v1/agencies?per_page=100");
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let found = items.iter().find(|a| a["code"] == code).unwrap_or_else(|| panic!("agency {code}: {page}"));
    found["id"].as_str().unwrap().to_string()
}

fn desk(app: &TestApp, code: &str, username: &str) -> Desk {
    let agency_id = agency_id(app, code);
    Desk { officer: app.officer_token(username, Some(&agency_id)), agency_id }
}

/// A draft of the bundle at `agency` with both documents attached; its id.
fn filed_draft(app: &TestApp, citizen: &str, procedure_id: &str, agency: &str) -> String {
    let body = json!({"procedure_id": procedure_id, "agency_id": agency, "delivery": {"method": "online"},
                      "form_data": {"child_full_name": "Nguyễn Minh Khang", "mother_full_name": "Trần Thị Hoa"}});
    let res = app.post("/api/v1/dossiers", &body, Some(citizen));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let id = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    for doc in ["TK-LT-KS", "GCS"] {
        let res = app.upload(
            &format!("/api/v1/dossiers/{id}/attachments"),
            citizen,
            &[("document_id", doc)],
            Some((&format!("{doc}.pdf"), pdf(doc))),
        );
        assert_eq!(res.status(), 201);
    }
    id
}

fn submit(app: &TestApp, citizen: &str, id: &str) -> reqwest::blocking::Response {
    app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(citizen))
}

fn inbox_codes(app: &TestApp, officer: &str) -> Vec<String> {
    let page = app.get_json_with("/api/v1/agency/dossiers?limit=100", officer);
    page["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap_or_default().to_string()).collect()
}

fn step(parent: &Value, position: usize) -> &Value {
    &parent["bundle"]["steps"][position - 1]
}

/// Receives, processes, issues a result and completes a step.
fn settle(app: &TestApp, officer: &str, id: &str, result: &str) {
    ok_move(app, officer, id, json!({"action": "receive"}));
    ok_move(app, officer, id, json!({"action": "start_processing"}));
    let res = app.upload(&format!("/api/v1/dossiers/{id}/results"), officer, &[], Some((result, pdf(result))));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    ok_move(app, officer, id, json!({"action": "complete"}));
}

fn bundles_walk_across_agencies(backend: Backend) {
    let app = TestApp::seeded(backend);
    let admin = app.admin_token();
    let a = crate::dossiers::actors(&app);
    let bundle = app.get_json("/api/v1/procedures/1.001022");
    let steps = bundle["bundle"]["steps"].as_array().unwrap();
    let codes: Vec<&str> = steps.iter().map(|s| s["procedure_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["1.001193", "1.004222", "1.000310"]);
    assert_eq!((steps[1]["days"].as_i64(), steps[1]["needs"].clone()), (Some(2), json!([1])));
    assert_eq!(app.get_json("/api/v1/procedures/1.001193")["bundle"], Value::Null, "an ordinary procedure");
    let procedure_id = bundle["id"].as_str().unwrap().to_string();

    let commune = desk(&app, "H26.00070", "canbo.hoankiem");
    let police = desk(&app, "H26.00070.CA", "canbo.congan");
    let insurance = desk(&app, "000.00.27.H26", "canbo.bhxh");
    let (client_id, secret) = client(&app, &admin, "Hệ thống một cửa Công an", &[&police.agency_id]);
    let police_system = token(&app, &client_id, &secret);

    // Where no agency settles a step (no commune police in Ba Đình here), nothing is filed.
    let ba_dinh = agency_id(&app, "H26.00004");
    let draft = filed_draft(&app, &a.citizen, &procedure_id, &ba_dinh);
    assert_problem(submit(&app, &a.citizen, &draft), 422, "bundle_step_unsettled");
    assert_eq!(app.get_json_with(&format!("/api/v1/dossiers/{draft}"), &a.citizen)["status"], "draft");

    // Filed once: step 1 starts at the commune, steps 2 and 3 wait for its result.
    let id = filed_draft(&app, &a.citizen, &procedure_id, &commune.agency_id);
    let res = submit(&app, &a.citizen, &id);
    assert_eq!(res.status(), 200, "{:?}", res.text());
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen);
    let parent_code = parent["code"].as_str().unwrap().to_string();
    assert_eq!(parent["status"], "submitted");
    assert!(parent["due_date"].is_string(), "an overall deadline from the steps' budgets: {parent}");
    let birth = step(&parent, 1);
    assert_eq!((birth["status"].as_str(), birth["agency"]["code"].as_str()), (Some("submitted"), Some("H26.00070")));
    assert_ne!(birth["code"], parent["code"], "each step has its own code");
    assert_eq!(
        (step(&parent, 2)["status"].clone(), step(&parent, 3)["dossier_id"].clone()),
        (Value::Null, Value::Null)
    );
    let birth_id = birth["dossier_id"].as_str().unwrap().to_string();
    let birth_code = birth["code"].as_str().unwrap().to_string();
    let birth_view = app.get_json_with(&format!("/api/v1/dossiers/{birth_id}"), &commune.officer);
    assert_eq!(birth_view["step_of"], json!({"parent_id": id, "position": 1}));
    assert_eq!(birth_view["attachments"].as_array().unwrap().len(), 2, "the application's documents");

    // Inboxes: each agency sees its own step only; the parent moves by its steps.
    assert!(inbox_codes(&app, &commune.officer).contains(&birth_code));
    assert!(inbox_codes(&app, &police.officer).is_empty());
    assert!(inbox_codes(&app, &insurance.officer).is_empty());
    assert_problem(move_(&app, &commune.officer, &id, json!({"action": "receive"})), 409, "bundle_moves_by_steps");
    assert_eq!(app.get_json_with(&format!("/api/v1/dossiers/{id}"), &commune.officer)["allowed_actions"], json!([]));

    ok_move(&app, &commune.officer, &birth_id, json!({"action": "receive"}));
    assert_eq!(app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen)["status"], "received");
    ok_move(&app, &commune.officer, &birth_id, json!({"action": "start_processing"}));
    let res = app.upload(
        &format!("/api/v1/dossiers/{birth_id}/results"),
        &commune.officer,
        &[],
        Some(("giay-khai-sinh.pdf", pdf("GKS"))),
    );
    assert_eq!(res.status(), 201);
    ok_move(&app, &commune.officer, &birth_id, json!({"action": "complete"}));

    // Step 1's result starts steps 2 and 3, each with the birth certificate among its inputs.
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen);
    assert_eq!(step(&parent, 1)["result"][0]["filename"], "giay-khai-sinh.pdf");
    let residence_id = step(&parent, 2)["dossier_id"].as_str().unwrap().to_string();
    let card_id = step(&parent, 3)["dossier_id"].as_str().unwrap().to_string();
    let residence_code = step(&parent, 2)["code"].as_str().unwrap().to_string();
    let card_code = step(&parent, 3)["code"].as_str().unwrap().to_string();
    assert!(residence_code.starts_with("H26.00070.CA-") && card_code.starts_with("000.00.27.H26-"));
    assert_eq!(inbox_codes(&app, &police.officer), vec![residence_code.clone()]);
    assert_eq!(inbox_codes(&app, &insurance.officer), vec![card_code.clone()]);
    assert!(!inbox_codes(&app, &commune.officer).contains(&residence_code));
    let inputs = app.get_json_with(&format!("/api/v1/dossiers/{residence_id}"), &police.officer);
    let slots: Vec<&str> =
        inputs["attachments"].as_array().unwrap().iter().map(|x| x["document_id"].as_str().unwrap()).collect();
    assert!(slots.contains(&"KQ-B1") && slots.contains(&"GCS"), "{slots:?}");
    assert_eq!(inputs["working_days_allowed"], 2, "the step's budget, not the procedure's own 7 days");
    // Another agency's officer cannot see a step.
    assert_problem(
        app.with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{card_id}"))), &police.officer)
            .send()
            .unwrap(),
        404,
        "not_found",
    );

    // The police's one-stop system sees its step's events and moves it; the card step follows by hand.
    let events = get_ok(&app, "/api/v1/integration/events?limit=100", &police_system);
    assert!(
        events["items"].as_array().unwrap().iter().any(|e| e["dossier_code"] == residence_code.as_str()),
        "{events}"
    );
    assert!(!events["items"].as_array().unwrap().iter().any(|e| e["dossier_code"] == card_code.as_str()));
    let res = app.post(
        &format!("/api/v1/integration/dossiers/{residence_code}/transitions"),
        &json!({"action": "receive"}),
        Some(&police_system),
    );
    assert_eq!(res.status(), 200, "{:?}", res.text());
    ok_move(&app, &police.officer, &residence_id, json!({"action": "start_processing"}));
    let res = app.upload(
        &format!("/api/v1/dossiers/{residence_id}/results"),
        &police.officer,
        &[],
        Some(("xac-nhan-thuong-tru.pdf", pdf("TT"))),
    );
    assert_eq!(res.status(), 201);
    ok_move(&app, &police.officer, &residence_id, json!({"action": "complete"}));
    assert_eq!(app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen)["status"], "received");
    settle(&app, &insurance.officer, &card_id, "the-bhyt.pdf");
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen);
    assert_eq!(parent["status"], "completed", "every step completed");
    for (position, file) in [(1, "giay-khai-sinh.pdf"), (2, "xac-nhan-thuong-tru.pdf"), (3, "the-bhyt.pdf")] {
        assert_eq!(step(&parent, position)["result"][0]["filename"], file);
    }
    for (officer, step_id) in
        [(&commune.officer, &birth_id), (&police.officer, &residence_id), (&insurance.officer, &card_id)]
    {
        ok_move(&app, officer, step_id, json!({"action": "return_result"}));
    }
    assert_eq!(app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen)["status"], "returned");

    // The public lookup shows the steps, without personal data.
    let res = app.get(&format!("/api/v1/dossiers/lookup?code={parent_code}"));
    let text = res.text().unwrap();
    for secret in ["Nguyễn Văn An", "001099012345", "Nguyễn Minh Khang", "Trần Thị Hoa"] {
        assert!(!text.contains(secret), "lookup leaks {secret}: {text}");
    }
    let public: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(public["steps"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        (public["steps"][1]["code"].as_str(), public["steps"][1]["status"].as_str()),
        (Some(residence_code.as_str()), Some("returned"))
    );

    // Statistics: each step at its own agency, the bundle once (at the agency that received it).
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let period = format!("from={}&to={}", today - chrono::Duration::days(1), today + chrono::Duration::days(1));
    let received = |agency: &str| {
        let s = app.get_json(&format!("/api/v1/statistics/agencies/{agency}?{period}"));
        (s["received"].as_i64(), s["finished"].as_i64())
    };
    assert_eq!(received(&police.agency_id), (Some(1), Some(1)));
    assert_eq!(received(&insurance.agency_id), (Some(1), Some(1)));
    assert_eq!(received(&commune.agency_id), (Some(2), Some(2)), "the birth step and the bundle");

    // The other bundle of the demo catalogue: death registration first, at the same commune.
    let deaths = app.get_json("/api/v1/procedures/1.001048");
    let body = json!({"procedure_id": deaths["id"], "agency_id": commune.agency_id, "delivery": {"method": "online"},
                      "form_data": {}});
    let res = app.post("/api/v1/dossiers", &body, Some(&a.citizen));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let death = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    for doc in ["TK-LT-KT", "GBT"] {
        let res = app.upload(
            &format!("/api/v1/dossiers/{death}/attachments"),
            &a.citizen,
            &[("document_id", doc)],
            Some((&format!("{doc}.pdf"), pdf(doc))),
        );
        assert_eq!(res.status(), 201);
    }
    assert_eq!(submit(&app, &a.citizen, &death).status(), 200);
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{death}"), &a.citizen);
    let first = step(&parent, 1);
    assert_eq!(
        (first["procedure_code"].as_str(), first["status"].as_str(), first["agency"]["code"].as_str()),
        (Some("1.000656"), Some("submitted"), Some("H26.00070"))
    );
    assert_eq!(step(&parent, 3)["procedure_code"], "1.000323");

    // Withdrawing the whole withdraws the steps not completed; those waiting never start.
    let second = filed_draft(&app, &a.citizen, &procedure_id, &commune.agency_id);
    assert_eq!(submit(&app, &a.citizen, &second).status(), 200);
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{second}"), &a.citizen);
    let first_step = step(&parent, 1)["dossier_id"].as_str().unwrap().to_string();
    ok_move(&app, &commune.officer, &first_step, json!({"action": "receive"}));
    let res = app.post(
        &format!("/api/v1/dossiers/{second}/withdraw"),
        &json!({"reason": "Gia đình nộp lại sau"}),
        Some(&a.citizen),
    );
    assert_eq!(res.status(), 200, "{:?}", res.text());
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{second}"), &a.citizen);
    assert_eq!(
        (parent["status"].as_str(), step(&parent, 1)["status"].as_str()),
        (Some("withdrawn"), Some("withdrawn"))
    );
    assert_eq!(step(&parent, 2)["status"], Value::Null);
    assert_problem(
        move_(&app, &commune.officer, &first_step, json!({"action": "start_processing"})),
        409,
        "transition_not_allowed",
    );

    // A refused step stops the whole with its reason; the result already issued stays.
    let third = filed_draft(&app, &a.citizen, &procedure_id, &commune.agency_id);
    assert_eq!(submit(&app, &a.citizen, &third).status(), 200);
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{third}"), &a.citizen);
    let first_step = step(&parent, 1)["dossier_id"].as_str().unwrap().to_string();
    settle(&app, &commune.officer, &first_step, "giay-khai-sinh-2.pdf");
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{third}"), &a.citizen);
    let refused = step(&parent, 2)["dossier_id"].as_str().unwrap().to_string();
    ok_move(&app, &police.officer, &refused, json!({"action": "receive"}));
    ok_move(&app, &police.officer, &refused, json!({"action": "reject", "reason": "Chỗ ở chưa hợp pháp"}));
    let parent = app.get_json_with(&format!("/api/v1/dossiers/{third}"), &a.citizen);
    assert_eq!(parent["status"], "stopped");
    assert_eq!(step(&parent, 1)["result"][0]["filename"], "giay-khai-sinh-2.pdf");
    let history = app.get_json_with(&format!("/api/v1/dossiers/{third}/history"), &a.citizen);
    let text = history.to_string();
    assert!(text.contains("Chỗ ở chưa hợp pháp"), "the step's reason: {text}");
    assert_eq!(app.get_json_with(&format!("/api/v1/dossiers/{first_step}"), &a.citizen)["status"], "completed");
}

on_both_backends!(bundles_walk_across_agencies);
