//! Dossiers end to end: drafts, attachments, submission, the officers' workflow, deadlines,
//! public tracking and isolation (the calendar: `calendar.rs`; concurrency: `batches.rs`).

use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

mod isolation;

/// A minimal valid PDF.
pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n1 0 obj<<>>endobj\n% {text}\ntrailer<<>>\n%%EOF\n").into_bytes()
}

pub struct Actors {
    pub citizen: String,
    pub officer: String,
    pub agency_id: String,
    pub procedure_id: String,
}

/// A citizen and an officer of the first agency of the birth-registration procedure.
pub fn actors(app: &TestApp) -> Actors {
    let procedure = app.get_json("/api/v1/procedures/1.001193");
    let agency_id = procedure["agencies"][0]["id"].as_str().unwrap().to_string();
    register_citizen(app, "001099012345", "0912345678");
    Actors {
        citizen: app.sign_in("001099012345", PASSWORD),
        officer: app.officer_token("canbo.hotich", Some(&agency_id)),
        agency_id,
        procedure_id: procedure["id"].as_str().unwrap().to_string(),
    }
}

pub fn birth_form() -> Value {
    json!({"child_full_name": "Nguyễn Minh Khang", "child_date_of_birth": "2026-11-01", "child_sex": "Nam",
           "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_full_name": "Trần Thị Hoa"})
}

pub fn draft(app: &TestApp, a: &Actors) -> Value {
    let body = json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": birth_form(), "delivery": {"method": "online"}});
    let res = app.post("/api/v1/dossiers", &body, Some(&a.citizen));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    res.json().unwrap()
}

pub fn move_(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::blocking::Response {
    app.post(&format!("/api/v1/dossiers/{id}/transitions"), &body, Some(token))
}

pub fn ok_move(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let res = move_(app, token, id, body.clone());
    assert_eq!(res.status(), 200, "{body}: {:?}", res.text());
    res.json().unwrap()
}

/// A submitted dossier with both mandatory documents attached.
pub fn submitted(app: &TestApp, a: &Actors) -> Value {
    let d = draft(app, a);
    let id = d["id"].as_str().unwrap();
    for doc in ["TK-KS", "GCS"] {
        let res = app.upload(
            &format!("/api/v1/dossiers/{id}/attachments"),
            &a.citizen,
            &[("document_id", doc)],
            Some((&format!("{doc}.pdf"), pdf(doc))),
        );
        assert_eq!(res.status(), 201);
    }
    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
    assert_eq!(res.status(), 200);
    res.json().unwrap()
}

fn full_workflow(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let d = draft(&app, &a);
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["status"], "draft");
    assert!(d["national_status_code"].is_null());
    assert_eq!(d["applicant"]["id_number"], "001099012345", "prefilled from the profile");
    assert_eq!(d["missing_documents"], json!(["TK-KS", "GCS"]));

    // Submitting without the mandatory documents names them.
    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
    let problem = assert_problem(res, 422, "documents_missing");
    assert!(
        problem["detail"].as_str().unwrap().contains("TK-KS") && problem["detail"].as_str().unwrap().contains("GCS")
    );

    let bytes = pdf("to khai");
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &a.citizen,
        &[("document_id", "TK-KS")],
        Some(("to-khai.pdf", bytes.clone())),
    );
    assert_eq!(res.status(), 201);
    let attached: Value = res.json().unwrap();
    assert_eq!(attached["content_type"], "application/pdf");
    assert_eq!(attached["size"], bytes.len());
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &a.citizen,
        &[("document_id", "GCS")],
        Some(("giay-chung-sinh.pdf", pdf("gcs"))),
    );
    assert_eq!(res.status(), 201);
    // The file comes back byte for byte.
    let aid = attached["id"].as_str().unwrap();
    let res = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/attachments/{aid}"))), &a.citizen)
        .send()
        .unwrap();
    assert_eq!(res.bytes().unwrap().to_vec(), bytes);

    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
    assert_eq!(res.status(), 200);
    let s: Value = res.json().unwrap();
    assert_eq!(s["status"], "submitted");
    assert_eq!(s["national_status_code"], 1);
    let code = s["code"].as_str().unwrap().to_string();
    let agency_code = s["agency"]["code"].as_str().unwrap();
    assert!(code.starts_with(&format!("{agency_code}-")) && code.ends_with("-0001"), "{code}");
    // Submitted: no longer editable.
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen)
        .json(&json!({"form_data": birth_form()}))
        .send()
        .unwrap();
    assert_problem(res, 409, "not_editable");

    // The officer sees it in the inbox and moves it.
    let inbox: Value = app
        .with_token(app.client.get(app.url("/api/v1/agency/dossiers?status=submitted")), &a.officer)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(inbox["total"], 1);
    assert_eq!(inbox["items"][0]["code"], code.as_str());
    let res = move_(&app, &a.officer, &id, json!({"action": "start_processing"}));
    assert_problem(res, 409, "transition_not_allowed");
    let r = ok_move(&app, &a.officer, &id, json!({"action": "receive", "note": "Hồ sơ hợp lệ"}));
    assert_eq!(r["status"], "received");
    assert_eq!(r["national_status_code"], 2);
    assert!(r["due_date"].is_string());
    assert_eq!(r["working_days_allowed"], 1);
    let res = move_(&app, &a.officer, &id, json!({"action": "request_supplement"}));
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "missing_documents");
    let r = ok_move(
        &app,
        &a.officer,
        &id,
        json!({"action": "request_supplement", "missing_documents": ["GCS"], "note": "Giấy chứng sinh mờ, đề nghị chụp lại"}),
    );
    assert_eq!(r["national_status_code"], 5);

    // The applicant edits (If-Match) and resubmits.
    let current =
        app.with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen).send().unwrap();
    let etag = current.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let mut form = birth_form();
    form["ethnicity"] = json!("Kinh");
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen)
        .header("if-match", &etag)
        .json(&json!({"form_data": form}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen)
        .header("if-match", &etag)
        .json(&json!({"form_data": form}))
        .send()
        .unwrap();
    assert_problem(res, 412, "precondition_failed");
    let version_of = || {
        let res =
            app.with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen).send().unwrap();
        res.headers().get("etag").unwrap().to_str().unwrap().to_string()
    };
    let before_upload = version_of();
    app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &a.citizen,
        &[("document_id", "GCS")],
        Some(("gcs-ro.pdf", pdf("ro"))),
    );
    assert_ne!(version_of(), before_upload, "a document change is a new version of the dossier");
    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
    assert_eq!(res.json::<Value>().unwrap()["code"], code.as_str(), "the code stays");

    ok_move(&app, &a.officer, &id, json!({"action": "receive"}));
    ok_move(&app, &a.officer, &id, json!({"action": "start_processing"}));
    let res = move_(&app, &a.officer, &id, json!({"action": "complete"}));
    assert_problem(res, 422, "result_required");
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/results"),
        &a.officer,
        &[],
        Some(("giay-khai-sinh.pdf", pdf("GKS"))),
    );
    assert_eq!(res.status(), 201);
    let result: Value = res.json().unwrap();
    let c = ok_move(&app, &a.officer, &id, json!({"action": "complete"}));
    assert_eq!(c["national_status_code"], 9);
    assert!(["early", "on_time"].contains(&c["timeliness"].as_str().unwrap()));
    let r = ok_move(&app, &a.officer, &id, json!({"action": "return_result"}));
    assert_eq!(r["status"], "returned");
    assert_eq!(r["national_status_code"], 10);
    // The owner downloads the result.
    let rid = result["id"].as_str().unwrap();
    let res = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/results/{rid}"))), &a.citizen)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().unwrap().to_vec(), pdf("GKS"));

    // History: every move, in order, with who and from/to.
    let history: Value = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/history"))), &a.citizen)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let actions: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "create",
            "submit",
            "receive",
            "request_supplement",
            "resubmit",
            "receive",
            "start_processing",
            "complete",
            "return_result"
        ]
    );
    assert_eq!(history[3]["actor"], "officer");
    assert_eq!(history[3]["from_status"], "received");
    assert_eq!(history[3]["note"], "Giấy chứng sinh mờ, đề nghị chụp lại");
    assert_eq!(history[4]["actor"], "citizen");

    // The summary counts it.
    draft(&app, &a);
    let summary: Value =
        app.with_token(app.client.get(app.url("/api/v1/me/summary")), &a.citizen).send().unwrap().json().unwrap();
    assert_eq!(
        (summary["total"].as_i64(), summary["returned"].as_i64(), summary["draft"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    let mine: Value = app
        .with_token(app.client.get(app.url("/api/v1/me/dossiers?status=returned")), &a.citizen)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(mine["total"], 1);

    // Public lookup: progress without personal data.
    let res = app.get(&format!("/api/v1/dossiers/lookup?code={code}"));
    assert_eq!(res.status(), 200);
    let text = res.text().unwrap();
    for secret in [
        "Nguyễn Văn An",
        "001099012345",
        "0912345678",
        "+84912345678",
        "an.nguyen@example.vn",
        "Nguyễn Minh Khang",
        "mờ",
    ] {
        assert!(!text.contains(secret), "lookup leaks {secret}: {text}");
    }
    let public: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(public["status"], "returned");
    assert_eq!(public["procedure"]["name"], "Đăng ký khai sinh");
    assert_eq!(public["timeline"].as_array().unwrap().len(), 8);
    assert_problem(app.get("/api/v1/dossiers/lookup?code=NOPE-000000-0000"), 404, "not_found");
    assert_problem(app.get("/api/v1/dossiers/lookup"), 400, "validation_failed");
}

fn draft_rules(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.max_file_bytes = 64 * 1024);
    {
        let mut conn = app.conn();
        dvc_api::seed::demo(&mut conn).unwrap();
    }
    let a = actors(&app);
    // Not offered online: level 2.
    let offline = app.get_json("/api/v1/procedures/1.009975");
    let body = json!({"procedure_id": offline["id"], "agency_id": offline["agencies"][0]["id"], "delivery": {"method": "counter"}});
    assert_problem(app.post("/api/v1/dossiers", &body, Some(&a.citizen)), 422, "not_online");
    // The form follows the procedure's schema; errors point into it.
    let mut form = birth_form();
    form["child_sex"] = json!("Không rõ");
    form.as_object_mut().unwrap().remove("mother_full_name");
    let body = json!({"procedure_id": "1.001193", "agency_id": a.agency_id, "form_data": form, "delivery": {"method": "online"}});
    let problem = assert_problem(app.post("/api/v1/dossiers", &body, Some(&a.citizen)), 400, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"form_data.child_sex") && fields.contains(&"form_data"), "{fields:?}");
    let body = json!({"procedure_id": "1.001193", "agency_id": "some-other-agency", "form_data": birth_form(), "delivery": {"method": "online"}});
    assert_eq!(
        assert_problem(app.post("/api/v1/dossiers", &body, Some(&a.citizen)), 400, "validation_failed")["errors"][0]
            ["field"],
        "agency_id"
    );
    let body = json!({"procedure_id": "1.001193", "agency_id": a.agency_id, "form_data": birth_form(), "delivery": {"method": "post"}});
    assert_eq!(
        assert_problem(app.post("/api/v1/dossiers", &body, Some(&a.citizen)), 400, "validation_failed")["errors"][0]
            ["field"],
        "delivery.address"
    );
    // Staff do not file dossiers.
    let body = json!({"procedure_id": "1.001193", "agency_id": a.agency_id, "form_data": birth_form(), "delivery": {"method": "online"}});
    assert_problem(app.post("/api/v1/dossiers", &body, Some(&a.officer)), 403, "forbidden");

    let d = draft(&app, &a);
    let id = d["id"].as_str().unwrap();
    let url = format!("/api/v1/dossiers/{id}/attachments");
    // Content type from the bytes: a text file named .pdf is refused.
    assert_problem(
        app.upload(&url, &a.citizen, &[("document_id", "TK-KS")], Some(("fake.pdf", b"just text".to_vec()))),
        415,
        "unsupported_file_type",
    );
    // Size limit.
    let mut big = pdf("big");
    big.resize(65 * 1024, b' ');
    assert_problem(
        app.upload(&url, &a.citizen, &[("document_id", "TK-KS")], Some(("big.pdf", big))),
        413,
        "payload_too_large",
    );
    assert_eq!(
        assert_problem(
            app.upload(&url, &a.citizen, &[("document_id", "NOPE")], Some(("a.pdf", pdf("a")))),
            400,
            "validation_failed"
        )["errors"][0]["field"],
        "document_id"
    );
    assert_problem(app.upload(&url, &a.citizen, &[], Some(("a.pdf", pdf("a")))), 400, "validation_failed");
    let res = app
        .with_token(app.client.post(app.url(&url)), &a.citizen)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\ngarbage")
        .send()
        .unwrap();
    assert!(res.status().is_client_error());
    // Nothing of the refused uploads stayed: no attachment, no file.
    let current = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(current["attachments"].as_array().unwrap().len(), 0);
    let docs: Value =
        app.with_token(app.client.get(app.url("/api/v1/me/documents")), &a.citizen).send().unwrap().json().unwrap();
    assert_eq!(docs["total"], 0);

    // Declare once: a file uploaded for one dossier is attached to another by reference.
    let res = app.upload(&url, &a.citizen, &[("document_id", "GCS")], Some(("gcs.pdf", pdf("gcs"))));
    let first: Value = res.json().unwrap();
    let docs: Value =
        app.with_token(app.client.get(app.url("/api/v1/me/documents")), &a.citizen).send().unwrap().json().unwrap();
    assert_eq!(docs["items"][0]["file_id"], first["file_id"]);
    let other = draft(&app, &a);
    let res = app.upload(
        &format!("/api/v1/dossiers/{}/attachments", other["id"].as_str().unwrap()),
        &a.citizen,
        &[("document_id", "GCS"), ("file_id", first["file_id"].as_str().unwrap())],
        None,
    );
    assert_eq!(res.status(), 201);
    let reused: Value = res.json().unwrap();
    assert_eq!(reused["digitization"], 2);
    assert_eq!(reused["sha256"], first["sha256"]);
    // Deleting an attachment of a draft.
    let res = app
        .with_token(
            app.client.delete(app.url(&format!("/api/v1/dossiers/{id}/attachments/{}", first["id"].as_str().unwrap()))),
            &a.citizen,
        )
        .send()
        .unwrap();
    assert_eq!(res.status(), 204);

    // The procedure changes after the draft: the dossier keeps the version in force at submission.
    let early = draft(&app, &a);
    let early_id = early["id"].as_str().unwrap();
    assert_eq!(early["procedure_version"], 1);
    for doc in ["TK-KS", "GCS"] {
        app.upload(
            &format!("/api/v1/dossiers/{early_id}/attachments"),
            &a.citizen,
            &[("document_id", doc)],
            Some(("x.pdf", pdf(doc))),
        );
    }
    {
        use diesel::prelude::*;
        use dvc_persistence::schema::procedures::dsl as p;
        diesel::update(p::procedures.filter(p::code.eq("1.001193")))
            .set((p::version.eq(p::version + 1), p::processing_days.eq(4)))
            .execute(&mut **app.conn())
            .unwrap();
    }
    let res = app.post(&format!("/api/v1/dossiers/{early_id}/submit"), &json!({}), Some(&a.citizen));
    let early: Value = res.json().unwrap();
    assert_eq!((early["procedure_version"].as_i64(), early["working_days_allowed"].as_i64()), (Some(2), Some(4)));
    // Workflow refusals.
    let s = submitted(&app, &a);
    let sid = s["id"].as_str().unwrap();
    assert_eq!(
        assert_problem(move_(&app, &a.officer, sid, json!({"action": "reject"})), 400, "validation_failed")["errors"]
            [0]["field"],
        "reason"
    );
    assert_problem(move_(&app, &a.officer, sid, json!({"action": "return_result"})), 409, "transition_not_allowed");
    assert_problem(move_(&app, &a.citizen, sid, json!({"action": "receive"})), 403, "forbidden");
    assert_eq!(
        assert_problem(move_(&app, &a.officer, sid, json!({"action": "fly"})), 400, "validation_failed")["errors"][0]
            ["field"],
        "action"
    );
    // Apologise with a new date after the old one.
    let r = ok_move(&app, &a.officer, sid, json!({"action": "receive"}));
    let due = r["due_date"].as_str().unwrap();
    assert_problem(
        move_(&app, &a.officer, sid, json!({"action": "apologize", "reason": "Chờ xác minh", "new_due_date": due})),
        400,
        "validation_failed",
    );
    let later = chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").unwrap() + chrono::Duration::days(10);
    let r = ok_move(
        &app,
        &a.officer,
        sid,
        json!({"action": "apologize", "reason": "Chờ xác minh", "new_due_date": later.to_string()}),
    );
    assert_eq!(r["due_date"], due, "the due date that judges the agency stays");
    assert_eq!(r["rescheduled_due_date"], later.to_string());
    assert_eq!(r["status"], "received", "an apology changes no status");
    // Withdraw needs a reason; then it is final.
    let res = app.post(&format!("/api/v1/dossiers/{sid}/withdraw"), &json!({"reason": "Nộp nhầm"}), Some(&a.citizen));
    assert_eq!(res.json::<Value>().unwrap()["national_status_code"], 7);
    assert_problem(
        app.post(&format!("/api/v1/dossiers/{sid}/withdraw"), &json!({"reason": "Lần nữa"}), Some(&a.citizen)),
        409,
        "transition_not_allowed",
    );
}

on_both_backends!(full_workflow, draft_rules);
