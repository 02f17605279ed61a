//! The public catalogue: search without diacritics, detail, forms, fields, agencies, units.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn first_names(app: &TestApp, query: &str) -> Vec<String> {
    let body = app.get_json(&format!("/api/v1/procedures?q={}", query.replace(' ', "%20")));
    body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

fn search_ignores_diacritics_and_ranks(backend: Backend) {
    let app = TestApp::seeded(backend);
    let names = first_names(&app, "dang ky khai sinh");
    assert_eq!(names[0], "Đăng ký khai sinh");
    assert!(names.iter().any(|n| n == "Đăng ký lại khai sinh"), "all words match: {names:?}");
    // Every name with all the words comes before those that hold only some.
    let with_all = names.iter().take_while(|n| n.to_lowercase().contains("khai sinh")).count();
    assert!(with_all >= 3 && names[with_all..].iter().all(|n| !n.to_lowercase().contains("khai sinh")), "{names:?}");

    let names = first_names(&app, "DOI GIAY PHEP LAI XE");
    assert_eq!(names[0], "Đổi Giấy phép lái xe do ngành Giao thông vận tải cấp");

    let names = first_names(&app, "cap lai the bao hiem y te");
    assert_eq!(names[0], "Cấp lại thẻ bảo hiểm y tế do bị mất, hỏng");
    assert!(names.len() >= 2, "the broader procedure matches too: {names:?}");

    // đ folds to d, either way round.
    assert_eq!(first_names(&app, "đăng ký khai tử")[0], "Đăng ký khai tử");
    assert_eq!(first_names(&app, "dang ky khai tu")[0], "Đăng ký khai tử");
    // By code.
    assert_eq!(first_names(&app, "1.002804")[0], "Đổi Giấy phép lái xe do ngành Giao thông vận tải cấp");
    // Nothing matches: an empty page, not an error.
    let body = app.get_json("/api/v1/procedures?q=khong%20co%20thu%20tuc%20nay");
    assert_eq!(body["total"], 0);
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
}

fn search_combines_filters_and_pages(backend: Backend) {
    let app = TestApp::seeded(backend);
    let all = app.get_json("/api/v1/procedures?per_page=100");
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 30, "at least 30 demo procedures, got {total}");
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 100);

    let full = app.get_json("/api/v1/procedures?online=full&per_page=100");
    let full_items = full["items"].as_array().unwrap();
    assert!(full_items.len() >= 5);
    assert!(full_items.iter().all(|p| p["online"] == "full" && p["service_level"] == 4));

    let hotich = app.get_json("/api/v1/procedures?q=dang%20ky&tier=commune&service_level=4&per_page=100");
    for p in hotich["items"].as_array().unwrap() {
        assert_eq!(p["tier"], "commune");
        assert_eq!(p["service_level"], 4);
    }
    assert!(hotich["total"].as_i64().unwrap() >= 2);

    let business = app.get_json("/api/v1/procedures?audience=business&per_page=100");
    assert!(business["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["audiences"].as_array().unwrap().contains(&"business".into())));

    // Field and agency filters.
    let first = &all["items"][0];
    let field_id = first["field"]["id"].as_str().unwrap();
    let by_field = app.get_json(&format!("/api/v1/procedures?field_id={field_id}&per_page=100"));
    assert!(by_field["items"].as_array().unwrap().iter().all(|p| p["field"]["id"] == field_id));
    let agency_id = first["agencies"][0]["id"].as_str().unwrap();
    let by_agency = app.get_json(&format!("/api/v1/procedures?agency_id={agency_id}&per_page=100"));
    assert!(by_agency["total"].as_i64().unwrap() >= 1);
    assert!(by_agency["items"].as_array().unwrap().iter().all(|p| p["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == agency_id)));

    // Pages partition the list.
    let p1 = app.get_json("/api/v1/procedures?per_page=10&page=1");
    let p2 = app.get_json("/api/v1/procedures?per_page=10&page=2");
    assert_eq!(p1["items"].as_array().unwrap().len(), 10);
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    assert_eq!(p1["total"], p2["total"]);
}

fn bad_query_parameters_are_400(backend: Backend) {
    let app = TestApp::seeded(backend);
    for (query, field) in [
        ("per_page=abc", "per_page"),
        ("per_page=1000", "per_page"),
        ("per_page=0", "per_page"),
        ("page=-1", "page"),
        ("service_level=5", "service_level"),
        ("tier=district2", "tier"),
        ("online=maybe", "online"),
        ("audience=alien", "audience"),
    ] {
        let body = assert_problem(app.get(&format!("/api/v1/procedures?{query}")), 400, "validation_failed");
        assert_eq!(body["errors"][0]["field"], field, "{query}");
        assert!(!body["errors"][0]["message"].as_str().unwrap().is_ascii(), "Vietnamese by default");
    }
    let long = "a".repeat(201);
    assert_problem(app.get(&format!("/api/v1/procedures?q={long}")), 400, "validation_failed");
    let res = app
        .client
        .get(app.url("/api/v1/procedures?per_page=1000"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .unwrap();
    let body = assert_problem(res, 400, "validation_failed");
    assert_eq!(body["errors"][0]["message"], "Must be an integer from 1 to 100");
    assert_eq!(body["title"], "Invalid input");
    assert_problem(app.get("/api/v1/agencies?per_page=101"), 400, "validation_failed");
}

fn procedure_detail_by_id_or_code(backend: Backend) {
    let app = TestApp::seeded(backend);
    let by_code = app.get("/api/v1/procedures/1.001193");
    assert_eq!(by_code.status(), 200);
    let etag = by_code.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let p: serde_json::Value = by_code.json().unwrap();
    assert_eq!(p["name"], "Đăng ký khai sinh");
    assert_eq!(p["online"], "full");
    assert_eq!(p["service_level"], 4);
    assert_eq!(p["field"]["name"], "Hộ tịch");
    assert!(p["required_documents"].as_array().unwrap().iter().any(|d| d["mandatory"] == true));
    assert_eq!(p["form_schema"]["type"], "object");
    assert_eq!(p["version"], 1);
    assert!(etag.contains(p["id"].as_str().unwrap()));
    let id = p["id"].as_str().unwrap();
    let by_id = app.get_json(&format!("/api/v1/procedures/{id}"));
    assert_eq!(by_id, p);

    // The form downloads as a PDF to print and fill.
    let form = &p["forms"][0];
    let res = app.get(form["download_url"].as_str().unwrap());
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-disposition").unwrap().to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.headers().get("content-type").unwrap(), "application/pdf");
    let text = crate::support::pdf_text(&res.bytes().unwrap());
    assert!(text.contains("TỜ KHAI ĐĂNG KÝ KHAI SINH") && text.contains("Họ, chữ đệm, tên của trẻ"), "{text}");

    // Fees carry whole-đồng amounts and their modes.
    let gplx = app.get_json("/api/v1/procedures/1.002804");
    assert_eq!(gplx["fees"][0]["amount_vnd"], 135000);
    assert_eq!(gplx["fees"][0]["mode"], "before");

    assert_problem(app.get("/api/v1/procedures/9.999999"), 404, "not_found");
    assert_problem(app.get(&format!("/api/v1/procedures/{id}/forms/nope")), 404, "not_found");
    assert_problem(app.get("/api/v1/procedures/%00%ff"), 404, "not_found");
}

fn fields_agencies_units_levels(backend: Backend) {
    let app = TestApp::seeded(backend);
    let fields = app.get_json("/api/v1/fields");
    assert!(fields.as_array().unwrap().iter().any(|f| f["name"] == "Hộ tịch"));

    let provinces = app.get_json("/api/v1/admin-units");
    let provinces = provinces.as_array().unwrap();
    assert_eq!(provinces.len(), 34, "34 provinces and centrally-run cities since 1 July 2025");
    assert!(provinces.iter().any(|p| p["code"] == "01" && p["name"] == "Thành phố Hà Nội"));
    let hanoi = app.get_json("/api/v1/admin-units?parent_code=01");
    let hanoi = hanoi.as_array().unwrap();
    assert!(hanoi.len() > 100, "Hà Nội's communes and wards");
    assert!(hanoi.iter().any(|u| u["code"] == "00070" && u["name"] == "Phường Hoàn Kiếm"));
    assert_problem(app.get("/api/v1/admin-units?parent_code=999"), 404, "not_found");

    let agencies = app.get_json("/api/v1/agencies?tier=province&admin_unit_code=01&per_page=100");
    let items = agencies["items"].as_array().unwrap();
    assert!(items.iter().any(|a| a["name"] == "Sở Tư pháp Thành phố Hà Nội"));
    assert!(items.iter().all(|a| a["tier"] == "province" && a["admin_unit_code"] == "01"));
    let found = app.get_json("/api/v1/agencies?q=so%20tu%20phap%20ha%20noi");
    assert_eq!(found["items"][0]["name"], "Sở Tư pháp Thành phố Hà Nội");
    let id = found["items"][0]["id"].as_str().unwrap();
    assert_eq!(app.get_json(&format!("/api/v1/agencies/{id}"))["code"], "000.00.21.H26");
    assert_problem(app.get("/api/v1/agencies/unknown"), 404, "not_found");

    let levels = app.get_json("/api/v1/service-levels");
    assert_eq!(levels.as_array().unwrap().len(), 4);
    assert_eq!(levels[3]["online"], "full");
}

fn demo_seed_is_idempotent(backend: Backend) {
    let app = TestApp::seeded(backend);
    let before = app.get_json("/api/v1/procedures?per_page=100");
    let mut conn = app.conn();
    let report = dvc_api::seed::demo(&mut conn).unwrap();
    assert_eq!(report, dvc_api::seed::SeedReport::default(), "a second run adds nothing");
    let after = app.get_json("/api/v1/procedures?per_page=100");
    assert_eq!(before, after);
    let full_with_schema: Vec<_> =
        after["items"].as_array().unwrap().iter().filter(|p| p["online"] == "full").collect();
    assert!(full_with_schema.len() >= 5);
    // At least two full-online procedures with a fee before processing, two without.
    let (mut before_fee, mut no_upfront) = (0, 0);
    for p in full_with_schema {
        let d = app.get_json(&format!("/api/v1/procedures/{}", p["id"].as_str().unwrap()));
        if d["form_schema"].is_null() || d["required_documents"].as_array().unwrap().is_empty() {
            continue;
        }
        if d["fees"].as_array().unwrap().iter().any(|f| f["mode"] == "before" && f["amount_vnd"].as_i64().unwrap() > 0)
        {
            before_fee += 1;
        } else {
            no_upfront += 1;
        }
    }
    assert!(before_fee >= 2 && no_upfront >= 2, "{before_fee} with a fee before, {no_upfront} without");
}

on_both_backends!(
    search_ignores_diacritics_and_ranks,
    search_combines_filters_and_pages,
    bad_query_parameters_are_400,
    procedure_detail_by_id_or_code,
    fields_agencies_units_levels,
    demo_seed_is_idempotent,
);

/// Catalogue answers are cached; a change shows at once on the server that made it and within a
/// poll interval on every other server.
fn cached_answers_follow_changes_on_every_instance(backend: Backend) {
    let fast = |c: &mut dvc_api::config::Config| c.cache_poll = std::time::Duration::from_millis(50);
    let app = TestApp::seeded_with(backend, fast);
    let other = app.second_instance_with(fast);
    let admin = app.admin_token();
    let before = app.get_json("/api/v1/procedures/1.001193");
    let field = before["field"].clone();
    // Both servers have it cached, and the search too.
    assert_eq!(other.get_json("/api/v1/procedures/1.001193"), before);
    let search = "/api/v1/procedures?q=khai%20sinh&per_page=5";
    assert_eq!(other.get_json(search), app.get_json(search));
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/admin/fields/{}", field["id"].as_str().unwrap()))), &admin)
        .json(&json!({"code": field["code"], "name": "Hộ tịch (đã đổi tên)"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_json("/api/v1/procedures/1.001193")["field"]["name"], "Hộ tịch (đã đổi tên)", "at once here");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = other.get_json("/api/v1/procedures/1.001193");
        if seen["field"]["name"] == "Hộ tịch (đã đổi tên)" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other server kept a stale answer");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let names: Vec<String> = other.get_json(search)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "Hộ tịch (đã đổi tên)"), "{names:?}");
}

on_both_backends!(cached_answers_follow_changes_on_every_instance);
