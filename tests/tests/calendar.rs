//! The working-day calendar: public holidays, days off and swaps that administrators declare, and
//! due dates counted over them.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn due_dates_follow_the_calendar(backend: Backend) {
    let app = TestApp::start(backend);
    let due = |start: &str, n: u32| app.get_json(&format!("/api/v1/calendar/due-date?start={start}&working_days={n}"));
    let r = due("2026-11-20", 3);
    assert_eq!(r["due_date"], "2026-11-25");
    assert_eq!(r["skipped"], json!(["2026-11-21", "2026-11-22"]));
    // 30 April and 1 May, then a weekend.
    assert_eq!(due("2026-04-29", 2)["due_date"], "2026-05-05");
    // Lunar New Year 2026 (16–20 February).
    assert_eq!(due("2026-02-13", 1)["due_date"], "2026-02-23");
    let holidays = app.get_json("/api/v1/holidays?year=2026");
    let names: Vec<&str> = holidays.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Giỗ Tổ Hùng Vương") && names.contains(&"Tết Âm lịch") && names.contains(&"Quốc khánh"));
    assert!(app.get_json("/api/v1/holidays?year=2027").as_array().unwrap().iter().any(|h| h["date"] == "2027-04-16"));
    // An administrator adds a day off; deadlines follow at once. Removing it restores them.
    let admin = app.admin_token();
    let res = app
        .with_token(app.client.put(app.url("/api/v1/admin/holidays/2026-11-24")), &admin)
        .json(&json!({"name": "Nghỉ đột xuất"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(due("2026-11-20", 3)["due_date"], "2026-11-26");
    // A Saturday declared a working day counts.
    app.with_token(app.client.put(app.url("/api/v1/admin/holidays/2026-11-21")), &admin)
        .json(&json!({"name": "Làm bù", "working": true}))
        .send()
        .unwrap();
    assert_eq!(due("2026-11-20", 3)["due_date"], "2026-11-25");
    for day in ["2026-11-24", "2026-11-21"] {
        let res = app
            .with_token(app.client.delete(app.url(&format!("/api/v1/admin/holidays/{day}"))), &admin)
            .send()
            .unwrap();
        assert_eq!(res.status(), 204);
    }
    assert_eq!(due("2026-11-20", 3)["due_date"], "2026-11-25");
    let officer = app.officer_token("canbo", None);
    let res = app
        .with_token(app.client.put(app.url("/api/v1/admin/holidays/2026-11-24")), &officer)
        .json(&json!({"name": "x"}))
        .send()
        .unwrap();
    assert_problem(res, 403, "forbidden");
    assert_problem(app.get("/api/v1/calendar/due-date?start=2026-13-01&working_days=3"), 400, "validation_failed");
    assert_problem(app.get("/api/v1/calendar/due-date?start=2026-11-20&working_days=-1"), 400, "validation_failed");
    assert_problem(app.get("/api/v1/holidays?year=abc"), 400, "validation_failed");
}

on_both_backends!(due_dates_follow_the_calendar);
