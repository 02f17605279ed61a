//! Catalogue search as people type: abbreviations, no marks, `ký`/`kí`, typos, extra words; a
//! suggestion when nothing matches; search-as-you-type; and the thesaurus administrators extend,
//! followed by every server.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn search(app: &TestApp, query: &str) -> Value {
    let q: String = url_encode(query);
    app.get_json(&format!("/api/v1/procedures?q={q}"))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn top3(app: &TestApp, query: &str) -> Vec<String> {
    search(app, query)["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

fn how_people_type_finds_the_procedure(backend: Backend) {
    let app = TestApp::seeded(backend);
    // The queries that found nothing before, as a new user typed them.
    for (query, wanted) in [
        ("dky tam tru", &["1.004194"][..]),
        ("dang ki khai tu", &["1.000656"]),
        ("so bhxh", &["1.000306", "1.000311"]),
        ("giay phep kinh doanh", &["2.001610", "2.001711"]),
        ("the bao hiem y te bi hong", &["1.000307"]),
    ] {
        let found = top3(&app, query);
        assert!(found.iter().any(|c| wanted.contains(&c.as_str())), "{query}: {found:?}");
    }
    // Decomposed Unicode (as some keyboards send it) reads like composed.
    assert_eq!(top3(&app, "\u{0110}a\u{0306}ng ky\u{0301} ta\u{0323}m tru\u{0301}")[0], "1.004194");
    // One typing error in a long word; words without meaning; the name itself first.
    assert_eq!(top3(&app, "dang ky khai sinhh")[0], "1.001193");
    assert_eq!(top3(&app, "cach doi giay phep lai xe online")[0], "1.002804");
    assert_eq!(top3(&app, "Đăng ký khai sinh")[0], "1.001193");
    // About nothing in the catalogue: nothing.
    for query in ["mua ve may bay", "qwerty asdf", "dang ky xyzzy plugh"] {
        assert_eq!(search(&app, query)["total"], 0, "{query}");
    }
}

on_both_backends!(how_people_type_finds_the_procedure);

fn nothing_found_carries_a_suggestion(backend: Backend) {
    let app = TestApp::seeded(backend);
    let body = search(&app, "khia sinh");
    assert_eq!(body["total"], 0);
    assert_eq!(body["did_you_mean"], "khai sinh");
    let suggested = search(&app, body["did_you_mean"].as_str().unwrap());
    assert!(suggested["total"].as_i64().unwrap() > 0);
    assert!(suggested.get("did_you_mean").is_none(), "only when nothing is found");
    assert!(search(&app, "qwerty")["did_you_mean"].is_null(), "nothing close");
    // The filters hold for the suggestion too: nothing of this tier registers births.
    let body = app.get_json("/api/v1/procedures?q=khia%20sinh&tier=province");
    assert!(body["did_you_mean"].is_null(), "{body}");
}

on_both_backends!(nothing_found_carries_a_suggestion);

fn search_with_filters_and_pages(backend: Backend) {
    let app = TestApp::seeded(backend);
    let all = search(&app, "dang ky");
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 10, "{total}");
    let page2 = app.get_json("/api/v1/procedures?q=dang%20ky&per_page=3&page=2");
    assert_eq!(page2["total"], total);
    assert_eq!(page2["items"].as_array().unwrap()[..], all["items"].as_array().unwrap()[3..6]);
    // An agency named by its code, and a tier.
    let at_ward = app.get_json("/api/v1/procedures?q=khai%20sinh&agency_id=H26.00070");
    assert!(at_ward["items"].as_array().unwrap().iter().all(|p| p["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["code"] == "H26.00070")));
    assert!(at_ward["total"].as_i64().unwrap() > 0);
    let province = app.get_json("/api/v1/procedures?q=dang%20ky&tier=province");
    assert!(province["items"].as_array().unwrap().iter().all(|p| p["tier"] == "province"));
    assert!(province["total"].as_i64().unwrap() < total);
}

on_both_backends!(search_with_filters_and_pages);

fn search_as_you_type(backend: Backend) {
    let app = TestApp::seeded(backend);
    let names = |q: &str| -> Vec<String> {
        let body = app.get_json(&format!("/api/v1/procedures/suggest?q={}", url_encode(q)));
        body["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
    };
    let offered = names("dang ky kh");
    assert_eq!(offered[0], "Đăng ký khai tử", "{offered:?}");
    assert!(offered.contains(&"Đăng ký khai sinh".to_string()));
    // Names that begin with what was typed, then names that hold it elsewhere.
    let begins = offered.iter().take_while(|n| n.starts_with("Đăng ký kh")).count();
    assert!(begins >= 3 && begins < offered.len(), "{offered:?}");
    assert!(offered[begins..].iter().all(|n| n.to_lowercase().contains("đăng ký") && n.contains(" kh")), "{offered:?}");
    assert_eq!(names("ĐĂNG KÍ TẠM T"), ["Đăng ký tạm trú"]);
    assert_eq!(names("dky tam"), ["Đăng ký tạm trú"], "abbreviations before the last word");
    assert!(names("c").len() <= 10);
    assert_eq!(names("c").len(), 10, "the demo catalogue has more than ten such names");
    assert!(names("zzz").is_empty());
    assert!(names("").is_empty());
    let res = app.get(&format!("/api/v1/procedures/suggest?q={}", "a".repeat(201)));
    assert_problem(res, 400, "validation_failed");
    // The procedure itself is still found by its code.
    assert_eq!(app.get_json("/api/v1/procedures/1.004194")["code"], "1.004194");
}

on_both_backends!(search_as_you_type);

fn administrators_extend_the_thesaurus_on_every_server(backend: Backend) {
    let fast = |c: &mut dvc_api::config::Config| c.cache_poll = std::time::Duration::from_millis(50);
    let app = TestApp::seeded_with(backend, fast);
    let other = app.second_instance_with(fast);
    let admin = app.admin_token();
    let path = "/api/v1/admin/search/synonyms";
    let before = app.get_json_with(path, &admin);
    assert!(before["shipped"].as_array().unwrap().len() > 50);
    assert_eq!(before["entries"], json!([]));
    assert_eq!(search(&other, "lay vo")["total"], 0);
    let put = |body: Value| app.with_token(app.client.put(app.url(path)), &admin).json(&body).send().unwrap();
    let res = put(json!({"entries": [{"kind": "expands", "terms": ["lấy vợ"], "expansions": ["kết hôn"]}]}));
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().unwrap()["entries"][0]["terms"], json!(["lấy vợ"]));
    assert_eq!(top3(&app, "lay vo")[0], "1.000894", "at once here");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while top3(&other, "lay vo").first().map(String::as_str) != Some("1.000894") {
        assert!(std::time::Instant::now() < deadline, "the other server follows within its poll interval");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Bad entries are refused, each named, and nothing is lost.
    let res = put(json!({"entries": [
        {"kind": "same", "terms": ["chỉ một"]},
        {"kind": "expands", "terms": ["a"], "expansions": []},
        {"kind": "stop", "terms": ["  "]},
    ]}));
    let problem = assert_problem(res, 400, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["entries[0]", "entries[1]", "entries[2]"]);
    assert_problem(put(json!({"entries": [{"kind": "maybe", "terms": ["a", "b"]}]})), 400, "validation_failed");
    assert_eq!(app.get_json_with(path, &admin)["entries"].as_array().unwrap().len(), 1);
    // Only administrators.
    let citizen = app.officer_token("search.officer", None);
    let res = app.with_token(app.client.get(app.url(path)), &citizen).send().unwrap();
    assert_problem(res, 403, "forbidden");
    assert_problem(app.get(path), 401, "unauthorized");
    // Removing the entry takes it away again.
    assert_eq!(put(json!({"entries": []})).status(), 200);
    assert_eq!(search(&app, "lay vo")["total"], 0);
}

on_both_backends!(administrators_extend_the_thesaurus_on_every_server);
