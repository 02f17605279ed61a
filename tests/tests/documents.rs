//! The one-stop documents of a dossier as PDF, read back with poppler's `pdftotext`: the receipt
//! and appointment slip, the supplement request, the refusal, the apology and the control sheet.

use serde_json::{json, Value};

use crate::dossiers::{actors, ok_move, submitted, Actors};
use crate::on_both_backends;
use crate::support::{assert_problem, pdf_text, Backend, TestApp};

fn document(app: &TestApp, token: &str, id: &str, kind: &str) -> reqwest::blocking::Response {
    app.with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/documents/{kind}"))), token).send().unwrap()
}

fn text_of(app: &TestApp, token: &str, id: &str, kind: &str) -> String {
    let res = document(app, token, id, kind);
    assert_eq!(res.status(), 200, "{kind}: {:?}", res.text());
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let text = pdf_text(&res.bytes().unwrap());
    assert!(!text.contains("::"), "each label once: {text}");
    text
}

fn day(iso: &str) -> String {
    let d = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap();
    d.format("%d/%m/%Y").to_string()
}

fn one_stop_documents_come_out_as_pdf(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a: Actors = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    let code = d["code"].as_str().unwrap();
    // Not received yet: no receipt.
    assert_problem(document(&app, &a.citizen, id, "receipt"), 409, "not_reached");
    let received = ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    let due = received["due_date"].as_str().unwrap().to_string();
    let agency = received["agency"]["name"].as_str().unwrap().to_string();

    let receipt = text_of(&app, &a.citizen, id, "receipt");
    for expected in
        ["GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", code, "Nguyễn Văn An", &day(&due), "Giấy chứng sinh", "Mẫu số 01"]
    {
        assert!(receipt.contains(expected), "{expected} in {receipt}");
    }
    assert!(receipt.to_uppercase().contains(&agency.to_uppercase()), "{agency} in {receipt}");

    // A supplement request, then the apology with its new appointment.
    ok_move(
        &app,
        &a.officer,
        id,
        json!({"action": "request_supplement", "missing_documents": ["GCS"], "note": "Bản chụp mờ"}),
    );
    let request = text_of(&app, &a.officer, id, "supplement_request");
    for expected in ["PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", code, "Giấy chứng sinh", "Bản chụp mờ"]
    {
        assert!(request.contains(expected), "{expected} in {request}");
    }
    assert_problem(document(&app, &a.citizen, id, "apology"), 409, "not_reached");
    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    let new_due =
        (chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap() + chrono::Duration::days(10)).to_string();
    ok_move(
        &app,
        &a.officer,
        id,
        json!({"action": "apologize", "reason": "Chờ xác minh của cơ quan khác", "new_due_date": new_due}),
    );
    let apology = text_of(&app, &a.citizen, id, "apology");
    for expected in ["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Chờ xác minh của cơ quan khác", &day(&new_due)]
    {
        assert!(apology.contains(expected), "{expected} in {apology}");
    }
    let control = text_of(&app, &a.officer, id, "control_sheet");
    for expected in [
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        "Nộp hồ sơ (người nộp)",
        "Tiếp nhận (cán bộ)",
        "Yêu cầu bổ sung",
        "Bổ sung hồ sơ",
        "Xin lỗi, hẹn lại",
    ] {
        assert!(control.contains(expected), "{expected} in {control}");
    }

    // A refusal, with its reason.
    let other = submitted(&app, &a);
    let oid = other["id"].as_str().unwrap();
    assert_problem(document(&app, &a.citizen, oid, "refusal"), 409, "not_reached");
    ok_move(&app, &a.officer, oid, json!({"action": "reject", "reason": "Không thuộc thẩm quyền của phường"}));
    let refusal = text_of(&app, &a.citizen, oid, "refusal");
    for expected in [
        "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        "Không thuộc thẩm quyền của phường",
        other["code"].as_str().unwrap(),
    ] {
        assert!(refusal.contains(expected), "{expected} in {refusal}");
    }

    // The agency's integration client reads them; strangers, other agencies and unknown kinds: 404.
    let admin = app.admin_token();
    let (cid, secret) = crate::integration::client(&app, &admin, "Một cửa phường", &[&a.agency_id]);
    let client = crate::integration::token(&app, &cid, &secret);
    assert!(text_of(&app, &client, id, "control_sheet").contains(code));
    crate::accounts::register_citizen(&app, "001099012346", "0912345670");
    let stranger = app.sign_in("001099012346", crate::accounts::PASSWORD);
    assert_problem(document(&app, &stranger, id, "receipt"), 404, "not_found");
    let elsewhere: Value = app.get_json("/api/v1/agencies?per_page=100");
    let other_agency = elsewhere["items"].as_array().unwrap().iter().find(|g| g["id"] != a.agency_id.as_str()).unwrap();
    let other_officer = app.officer_token("canbo.khac", Some(other_agency["id"].as_str().unwrap()));
    assert_problem(document(&app, &other_officer, id, "receipt"), 404, "not_found");
    assert_problem(document(&app, &a.citizen, id, "giay-gi-do"), 404, "not_found");
    assert_problem(app.get(&format!("/api/v1/dossiers/{id}/documents/receipt")), 401, "unauthorized");
}

on_both_backends!(one_stop_documents_come_out_as_pdf);
