//! The Decision 766 index on a scenario with known counts: dossiers early and late, results,
//! a reused document, ratings, reflections answered in time, late and reopened.

use chrono::Duration;
use serde_json::{json, Value};

use crate::dossiers::{actors, draft, ok_move, pdf, submitted};
use crate::feedback::{file, finish};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn criterion<'a>(index: &'a Value, group: &str, code: &str) -> &'a Value {
    let g = index["groups"].as_array().unwrap().iter().find(|g| g["code"] == group).expect(group);
    g["criteria"].as_array().unwrap().iter().find(|c| c["code"] == code).expect(code)
}

fn group<'a>(index: &'a Value, code: &str) -> &'a Value {
    index["groups"].as_array().unwrap().iter().find(|g| g["code"] == code).expect(code)
}

fn ratio(index: &Value, group: &str, code: &str) -> (Value, Value, Value) {
    let c = criterion(index, group, code);
    (c["numerator"].clone(), c["denominator"].clone(), c["value"].clone())
}

fn index766_on_known_data(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let start = app.clock.today();
    let first = submitted(&app, &a);
    let first_id = first["id"].as_str().unwrap().to_string();
    // A second dossier reuses the birth certificate sent with the first ("declare once").
    let second = draft(&app, &a);
    let second_id = second["id"].as_str().unwrap().to_string();
    let gcs = first["attachments"].as_array().unwrap().iter().find(|x| x["document_id"] == "GCS").unwrap();
    let path = format!("/api/v1/dossiers/{second_id}/attachments");
    let res = app.upload(&path, &a.citizen, &[("document_id", "TK-KS")], Some(("tk.pdf", pdf("TK"))));
    assert_eq!(res.status(), 201);
    let res =
        app.upload(&path, &a.citizen, &[("document_id", "GCS"), ("file_id", gcs["file_id"].as_str().unwrap())], None);
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let res = app.post(&format!("/api/v1/dossiers/{second_id}/submit"), &json!({}), Some(&a.citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
    let third_id = submitted(&app, &a)["id"].as_str().unwrap().to_string();
    for id in [&first_id, &second_id, &third_id] {
        ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    }
    // The first finishes at once; the second sixty days later, late; the third is still open.
    finish(&app, &a, &first_id);
    let answered = file(
        &app,
        &a.citizen,
        json!({"kind": "reflection", "title": "Góp ý", "content": "Nên gửi SMS khi có kết quả", "agency_id": a.agency_id}),
    );
    let reopened = file(
        &app,
        &a.citizen,
        json!({"kind": "reflection", "title": "Kiến nghị", "content": "Mở thêm quầy thứ Bảy", "agency_id": a.agency_id}),
    );
    for f in [&answered, &reopened] {
        let res = app.post(
            &format!("/api/v1/feedback/{}/answer", f["id"].as_str().unwrap()),
            &json!({"content": "Đã tiếp thu"}),
            Some(&a.officer),
        );
        assert_eq!(res.status(), 200);
    }
    let res = app.post(
        &format!("/api/v1/feedback/{}/reopen", reopened["id"].as_str().unwrap()),
        &json!({"content": "Chưa thấy thay đổi"}),
        Some(&a.citizen),
    );
    assert_eq!(res.status(), 200, "{:?}", res.text());
    // Never answered: late once its ten working days have passed.
    file(
        &app,
        &a.citizen,
        json!({"kind": "reflection", "title": "Phản ánh", "content": "Chờ lâu ở quầy", "agency_id": a.agency_id}),
    );
    app.clock.advance(Duration::days(60));
    finish(&app, &a, &second_id);
    for (id, score) in [(&first_id, 5), (&second_id, 1)] {
        let res = app.post(&format!("/api/v1/dossiers/{id}/rating"), &json!({"score": score}), Some(&a.citizen));
        assert_eq!(res.status(), 201);
    }
    let end = app.clock.today();

    let period = format!("from={}&to={}", start - Duration::days(1), end);
    let index = app.get_json(&format!("/api/v1/statistics/index766?{period}&agency_id={}", a.agency_id));
    assert_eq!(index["agency"]["id"], a.agency_id.as_str(), "{index}");
    assert_eq!(ratio(&index, "timeliness", "finished_on_time"), (json!(1), json!(2), json!(0.5)));
    assert_eq!(group(&index, "timeliness")["points"], 10.0);
    assert_eq!(ratio(&index, "digitisation", "electronic_results"), (json!(2), json!(2), json!(1.0)));
    assert_eq!(ratio(&index, "digitisation", "digitised_dossiers"), (json!(3), json!(3), json!(1.0)));
    assert_eq!(ratio(&index, "digitisation", "reused_data"), (json!(1), json!(3), json!(0.3333)));
    assert_eq!(ratio(&index, "online_services", "online_dossiers"), (json!(3), json!(3), json!(1.0)));
    assert_eq!(ratio(&index, "online_services", "online_payments"), (json!(0), json!(0), Value::Null));
    assert_eq!(ratio(&index, "satisfaction", "feedback_on_time"), (json!(2), json!(3), json!(0.6667)));
    assert_eq!(ratio(&index, "satisfaction", "feedback_satisfied"), (json!(1), json!(3), json!(0.3333)));
    assert_eq!(ratio(&index, "satisfaction", "dossiers_satisfied"), (json!(1), json!(2), json!(0.5)));
    // (2/3 + 1/3 + 1/2) / 3 of 18 points.
    assert_eq!(group(&index, "satisfaction")["points"], 9.0);
    // (1 + 1 + 1/3) / 3 of 22.
    assert_eq!(group(&index, "digitisation")["points"], 17.11);
    let unmeasured = criterion(&index, "transparency", "published_on_time");
    assert!(unmeasured["value"].is_null() && unmeasured["not_measured"].is_string());

    // The agency's procedures as the catalogue lists them.
    let listed = app.get_json(&format!("/api/v1/procedures?agency_id={}&per_page=100", a.agency_id));
    let items = listed["items"].as_array().unwrap();
    let online = items.iter().filter(|p| p["online"] != "none").count();
    assert_eq!(criterion(&index, "online_services", "online_procedures")["denominator"], items.len());
    assert_eq!(criterion(&index, "online_services", "online_procedures")["numerator"], online);
    assert_eq!(ratio(&index, "online_services", "online_procedures_used").0, json!(1), "only 1.001193 had dossiers");

    // Every group's points are its maximum times the mean of its values, and they add up.
    let mut total = 0.0;
    let mut max = 0.0;
    for g in index["groups"].as_array().unwrap() {
        let values: Vec<f64> = g["criteria"].as_array().unwrap().iter().filter_map(|c| c["value"].as_f64()).collect();
        if values.is_empty() {
            assert!(g["points"].is_null());
            continue;
        }
        let expected = g["max_points"].as_f64().unwrap() * values.iter().sum::<f64>() / values.len() as f64;
        let points = g["points"].as_f64().unwrap();
        assert!((points - expected).abs() < 0.01, "{}: {points} against {expected}", g["code"]);
        total += points;
        max += g["max_points"].as_f64().unwrap();
    }
    assert!((index["points"].as_f64().unwrap() - total).abs() < 0.001);
    assert_eq!(index["max_points"], max);
    assert_eq!(max, 100.0, "every group has something to count");
    assert!(index["decision"].as_str().unwrap().contains("766/QĐ-TTg"));
    assert!(!index["sources"].as_array().unwrap().is_empty());

    // Every agency together holds this one's dossiers; the code names the agency as well as the id.
    let all = app.get_json(&format!("/api/v1/statistics/index766?{period}"));
    assert!(all["agency"].is_null());
    assert_eq!(ratio(&all, "timeliness", "finished_on_time"), (json!(1), json!(2), json!(0.5)));
    let by_code = app.get_json(&format!(
        "/api/v1/statistics/index766?{period}&agency_id={}",
        index["agency"]["code"].as_str().unwrap()
    ));
    assert_eq!(by_code["points"], index["points"]);

    // As a spreadsheet and as a chart.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/statistics/index766?{period}&agency_id={}", a.agency_id)))
        .header("accept", "text/csv")
        .send()
        .unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().unwrap();
    assert!(
        csv.contains("timeliness,finished_on_time,\"Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn\",1,2,0.5,,\r\n"),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l.contains(",total,,Tổng điểm,")), "{csv}");
    let res = app.get(&format!("/api/v1/statistics/index766/chart.svg?{period}&agency_id={}", a.agency_id));
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Mức độ hài lòng") && svg.contains("9 / 18"), "{svg}");

    // Bad input.
    assert_problem(app.get("/api/v1/statistics/index766?from=2026-13-01"), 400, "validation_failed");
    assert_problem(app.get("/api/v1/statistics/index766?agency_id=KHONG-CO"), 404, "not_found");
}

on_both_backends!(index766_on_known_data);
