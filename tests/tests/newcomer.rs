//! What a newcomer meets first: agencies named by their code as well as their id, the procedure's
//! printable form attached as it is, and Swagger UI at `/docs`.

use serde_json::{json, Value};

use crate::dossiers::{actors, birth_form};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn agencies_are_named_by_code_or_id(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let agency = app.get_json(&format!("/api/v1/agencies/{}", a.agency_id));
    let code = agency["code"].as_str().unwrap().to_string();
    assert_eq!(app.get_json(&format!("/api/v1/agencies/{code}"))["id"], a.agency_id.as_str());

    // A draft for the agency named by its code belongs to the agency's id.
    let body = json!({"procedure_id": "1.001193", "agency_id": code, "form_data": birth_form(),
                      "delivery": {"method": "online"}});
    let res = app.post("/api/v1/dossiers", &body, Some(&a.citizen));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let draft: Value = res.json().unwrap();
    assert_eq!(draft["agency"]["id"], a.agency_id.as_str());
    assert_eq!(draft["agency"]["code"], code.as_str());
    // A code that names no agency of the procedure is refused as before.
    let wrong = json!({"procedure_id": "1.001193", "agency_id": "H29.26743.CA", "form_data": birth_form(),
                       "delivery": {"method": "online"}});
    let refused = assert_problem(app.post("/api/v1/dossiers", &wrong, Some(&a.citizen)), 400, "validation_failed");
    assert_eq!(refused["errors"][0]["field"], "agency_id");

    // An officer created for the agency's code is the agency's officer.
    let admin = app.admin_token();
    let staff = json!({"username": "canbo.ma", "full_name": "Lê Thị Bình", "agency_id": code, "role": "officer",
                       "password": "Canbo@2026"});
    let res = app.post("/api/v1/admin/staff", &staff, Some(&admin));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    assert_eq!(res.json::<Value>().unwrap()["agency_id"], a.agency_id.as_str());
    let officer = app.sign_in("canbo.ma", "Canbo@2026");
    let id = draft["id"].as_str().unwrap();
    let seen = app.get_json_with(&format!("/api/v1/dossiers/{id}"), &officer);
    assert_eq!(seen["id"], id);

    // Filters, statistics and integration clients take the code too.
    let by_code = app.get_json_with(&format!("/api/v1/admin/staff?agency_id={code}"), &admin);
    let names: Vec<&str> =
        by_code["items"].as_array().unwrap().iter().map(|s| s["username"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "the officer of `actors` and the new one: {names:?}");
    assert!(names.contains(&"canbo.ma"));
    let stats = app.get_json(&format!("/api/v1/statistics/agencies/{code}"));
    assert_eq!(stats["agency_id"], a.agency_id.as_str());
    let client = json!({"name": "Một cửa phường", "agency_ids": [code]});
    let res = app.post("/api/v1/admin/integration-clients", &client, Some(&admin));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    assert_eq!(res.json::<Value>().unwrap()["agency_ids"], json!([a.agency_id]));
    let unknown = json!({"name": "Không có", "agency_ids": ["H99.00000"]});
    assert_problem(app.post("/api/v1/admin/integration-clients", &unknown, Some(&admin)), 400, "validation_failed");
}

on_both_backends!(agencies_are_named_by_code_or_id);

fn the_printable_form_is_a_document_the_upload_takes(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let procedure = app.get_json("/api/v1/procedures/1.001193");
    let accepted: Vec<&str> =
        procedure["accepted_file_types"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(accepted.contains(&"application/pdf") && accepted.contains(&"image/jpeg"), "{accepted:?}");
    let form = &procedure["forms"][0];
    assert!(form["file_name"].as_str().unwrap().ends_with(".pdf"));
    let pdf = app.get(form["download_url"].as_str().unwrap()).bytes().unwrap().to_vec();
    let text = crate::support::pdf_text(&pdf);
    for line in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Giới tính (*) (Nam / Nữ):", "NGƯỜI YÊU CẦU"]
    {
        assert!(text.contains(line), "{line} in {text}");
    }
    let draft = crate::dossiers::draft(&app, &a);
    let id = draft["id"].as_str().unwrap();
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &a.citizen,
        &[("document_id", "TK-KS")],
        Some(("to-khai.pdf", pdf)),
    );
    assert_eq!(res.status(), 201, "the form as downloaded is accepted: {:?}", res.text());
}

on_both_backends!(the_printable_form_is_a_document_the_upload_takes);

#[test]
fn swagger_ui_answers_at_docs_without_the_slash() {
    let app = TestApp::start(Backend::Sqlite);
    let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.get(app.url("/docs")).send().unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers().get("location").unwrap(), "/docs/");
    assert_eq!(app.get("/docs").status(), 200, "followed, it is Swagger UI");
}
