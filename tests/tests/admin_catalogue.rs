//! Administrators keep the catalogue: create, replace, delete; others are refused.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn procedure_body(app: &TestApp, code: &str) -> Value {
    let fields = app.get_json("/api/v1/fields");
    let agencies = app.get_json("/api/v1/agencies?tier=commune&per_page=2");
    json!({
        "code": code,
        "name": "Đăng ký giám hộ",
        "field_id": fields[0]["id"],
        "agency_ids": [agencies["items"][0]["id"], agencies["items"][1]["id"]],
        "tier": "commune",
        "service_level": 4,
        "audiences": ["citizen"],
        "processing_days": 3,
        "fees": [{"kind": "charge", "name": "Lệ phí đăng ký giám hộ", "amount_vnd": 0, "mode": "exempt"}],
        "required_documents": [{"id": "TK-GH", "name": "Tờ khai đăng ký giám hộ", "mandatory": true, "copies": 1}],
        "forms": [{"id": "TK-GH", "name": "Tờ khai đăng ký giám hộ", "file_name": "to-khai-giam-ho.txt", "content": "TỜ KHAI"}],
        "steps": ["Nộp hồ sơ", "Trả kết quả"],
        "legal_basis": ["Luật Hộ tịch số 60/2014/QH13"],
        "result": "Trích lục đăng ký giám hộ",
        "form_schema": {"type": "object", "properties": {"ward_full_name": {"type": "string"}}}
    })
}

fn admin_endpoints_need_an_administrator(backend: Backend) {
    let app = TestApp::seeded(backend);
    let body = procedure_body(&app, "1.999001");
    let anonymous = app.client.post(app.url("/api/v1/admin/procedures")).json(&body).send().unwrap();
    assert_problem(anonymous, 401, "unauthorized");
    let bad =
        app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), "not-a-token").json(&body).send().unwrap();
    assert_problem(bad, 401, "unauthorized");
    let officer = app.officer_token("canbo1", None);
    for (method, path) in [
        ("POST", "/api/v1/admin/procedures"),
        ("PUT", "/api/v1/admin/procedures/x"),
        ("DELETE", "/api/v1/admin/procedures/x"),
        ("POST", "/api/v1/admin/agencies"),
        ("PUT", "/api/v1/admin/agencies/x"),
        ("DELETE", "/api/v1/admin/agencies/x"),
        ("POST", "/api/v1/admin/fields"),
        ("PUT", "/api/v1/admin/fields/x"),
        ("DELETE", "/api/v1/admin/fields/x"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app.client.request(m.clone(), app.url(path)).json(&body).send().unwrap();
        assert_problem(res, 401, "unauthorized");
        let res = app.with_token(app.client.request(m, app.url(path)), &officer).json(&body).send().unwrap();
        assert_problem(res, 403, "forbidden");
    }
    // Nothing was created by the refused calls.
    assert_problem(app.get("/api/v1/procedures/1.999001"), 404, "not_found");
}

fn admin_creates_updates_and_deletes_procedures(backend: Backend) {
    let app = TestApp::seeded(backend);
    let token = app.admin_token();
    let body = procedure_body(&app, "1.999002");
    let res = app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token).json(&body).send().unwrap();
    assert_eq!(res.status(), 201);
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let created: Value = res.json().unwrap();
    assert_eq!(created["online"], "full", "derived from level 4");
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap().to_string();

    // Searchable at once, without marks.
    let found = app.get_json("/api/v1/procedures?q=dang%20ky%20giam%20ho");
    assert_eq!(found["items"][0]["id"], id.as_str());

    // Duplicate code.
    let res = app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token).json(&body).send().unwrap();
    assert_problem(res, 409, "conflict");

    // Replace with If-Match; a stale ETag afterwards is 412.
    let mut changed = body.clone();
    changed["name"] = json!("Đăng ký chấm dứt giám hộ");
    changed["processing_days"] = json!(2);
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/admin/procedures/{id}"))), &token)
        .header("if-match", &etag)
        .json(&changed)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["name"], "Đăng ký chấm dứt giám hộ");
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/admin/procedures/{id}"))), &token)
        .header("if-match", &etag)
        .json(&changed)
        .send()
        .unwrap();
    assert_problem(res, 412, "precondition_failed");
    assert_eq!(app.get_json(&format!("/api/v1/procedures/{id}"))["version"], 2);
    let found = app.get_json("/api/v1/procedures?q=cham%20dut%20giam%20ho");
    assert_eq!(found["items"][0]["id"], id.as_str(), "the search index follows updates");

    // Invalid input names each field.
    let mut bad = body.clone();
    bad["code"] = json!("not-a-code");
    bad["service_level"] = json!(7);
    bad["fees"][0]["amount_vnd"] = json!(-5);
    bad["form_schema"] = json!({"type": "array"});
    let res = app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token).json(&bad).send().unwrap();
    let problem = assert_problem(res, 400, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["code", "service_level", "fees[0].amount_vnd", "form_schema"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mut wrong_type = body.clone();
    wrong_type["fees"][0]["mode"] = json!("sometimes");
    let res =
        app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token).json(&wrong_type).send().unwrap();
    let problem = assert_problem(res, 400, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "fees[0].mode");
    let mut inconsistent = body.clone();
    inconsistent["code"] = json!("1.999003");
    inconsistent["service_level"] = json!(2);
    inconsistent["online"] = json!("full");
    let res = app
        .with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token)
        .json(&inconsistent)
        .send()
        .unwrap();
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "online");
    let mut unknown_refs = body.clone();
    unknown_refs["code"] = json!("1.999004");
    unknown_refs["field_id"] = json!("nope");
    unknown_refs["agency_ids"] = json!(["nope"]);
    let res = app
        .with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token)
        .json(&unknown_refs)
        .send()
        .unwrap();
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"].as_array().unwrap().len(), 2);
    let res = app
        .with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_problem(res, 400, "validation_failed");
    let res = app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token).body("x").send().unwrap();
    assert_problem(res, 415, "unsupported_media_type");
    assert_problem(app.get("/api/v1/procedures/1.999004"), 404, "not_found");

    // Delete.
    let res =
        app.with_token(app.client.delete(app.url(&format!("/api/v1/admin/procedures/{id}"))), &token).send().unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get(&format!("/api/v1/procedures/{id}")), 404, "not_found");
    let res =
        app.with_token(app.client.delete(app.url(&format!("/api/v1/admin/procedures/{id}"))), &token).send().unwrap();
    assert_problem(res, 404, "not_found");
    let found = app.get_json("/api/v1/procedures?q=cham%20dut%20giam%20ho");
    assert_eq!(found["total"], 0, "gone from the search index");
}

fn admin_manages_agencies_and_fields(backend: Backend) {
    let app = TestApp::seeded(backend);
    let token = app.admin_token();
    let agency = json!({"code": "000.00.30.H26", "name": "Sở Y tế Thành phố Hà Nội", "tier": "province", "admin_unit_code": "01"});
    let res = app.with_token(app.client.post(app.url("/api/v1/admin/agencies")), &token).json(&agency).send().unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().unwrap();
    let id = created["id"].as_str().unwrap();
    let mut bad = agency.clone();
    bad["code"] = json!("000.00.31.H26");
    bad["admin_unit_code"] = json!("77777");
    let res = app.with_token(app.client.post(app.url("/api/v1/admin/agencies")), &token).json(&bad).send().unwrap();
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "admin_unit_code");
    let mut renamed = agency.clone();
    renamed["name"] = json!("Sở Y tế Hà Nội");
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/admin/agencies/{id}"))), &token)
        .json(&renamed)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_json(&format!("/api/v1/agencies/{id}"))["version"], 2);
    let res =
        app.with_token(app.client.delete(app.url(&format!("/api/v1/admin/agencies/{id}"))), &token).send().unwrap();
    assert_eq!(res.status(), 204);

    // An agency that procedures use cannot go.
    let used = app.get_json("/api/v1/procedures/1.001193")["agencies"][0]["id"].as_str().unwrap().to_string();
    let res =
        app.with_token(app.client.delete(app.url(&format!("/api/v1/admin/agencies/{used}"))), &token).send().unwrap();
    assert_problem(res, 409, "conflict");

    let res = app
        .with_token(app.client.post(app.url("/api/v1/admin/fields")), &token)
        .json(&json!({"code": "Y_TE", "name": "Y tế"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    let field: Value = res.json().unwrap();
    let fid = field["id"].as_str().unwrap();
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/admin/fields/{fid}"))), &token)
        .json(&json!({"code": "Y_TE", "name": "Y tế dự phòng"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let res =
        app.with_token(app.client.delete(app.url(&format!("/api/v1/admin/fields/{fid}"))), &token).send().unwrap();
    assert_eq!(res.status(), 204);
    let used_field = app.get_json("/api/v1/procedures/1.001193")["field"]["id"].as_str().unwrap().to_string();
    let res = app
        .with_token(app.client.delete(app.url(&format!("/api/v1/admin/fields/{used_field}"))), &token)
        .send()
        .unwrap();
    assert_problem(res, 409, "conflict");
    let res = app
        .with_token(app.client.post(app.url("/api/v1/admin/fields")), &token)
        .json(&json!({"code": "HO_TICH", "name": "Trùng"}))
        .send()
        .unwrap();
    assert_problem(res, 409, "conflict");
}

/// An interconnected procedure names its steps: ordinary procedures of the catalogue, each needing
/// only earlier steps.
fn admin_sets_the_steps_of_an_interconnected_procedure(backend: Backend) {
    let app = TestApp::seeded(backend);
    let token = app.admin_token();
    let post = |body: &Value| {
        app.with_token(app.client.post(app.url("/api/v1/admin/procedures")), &token).json(body).send().unwrap()
    };
    let step = |code: &str, needs: Value| json!({"procedure_code": code, "tier": "commune", "days": 1, "needs": needs});
    let mut body = procedure_body(&app, "1.999001");
    body["bundle"] = json!({"steps": [step("1.001193", json!([])), step("1.004194", json!([1]))]});
    let res = post(&body);
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let shown = app.get_json("/api/v1/procedures/1.999001");
    assert_eq!(shown["bundle"]["steps"][1]["procedure_code"], "1.004194");
    assert_eq!(shown["bundle"]["steps"][1]["needs"], json!([1]));
    // A step that is no procedure, one that is a bundle itself, and one that needs a later step.
    let mut bad = procedure_body(&app, "1.999002");
    bad["bundle"] =
        json!({"steps": [step("1.001193", json!([2])), step("1.999999", json!([])), step("1.001022", json!([]))]});
    let problem = assert_problem(post(&bad), 400, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["bundle.steps[0].needs"], "the shape first");
    bad["bundle"]["steps"][0]["needs"] = json!([]);
    let problem = assert_problem(post(&bad), 400, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["bundle.steps[1].procedure_code", "bundle.steps[2].procedure_code"]);
    bad["bundle"] = json!({"steps": [step("1.001193", json!([]))]});
    assert_problem(post(&bad), 400, "validation_failed");
    assert_problem(app.get("/api/v1/procedures/1.999002"), 404, "not_found");
}

on_both_backends!(
    admin_sets_the_steps_of_an_interconnected_procedure,
    admin_endpoints_need_an_administrator,
    admin_creates_updates_and_deletes_procedures,
    admin_manages_agencies_and_fields,
);
