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
    assert!(
        names.contains(&"Giỗ Tổ Hùng Vương")
            && names.contains(&"Tết Âm lịch (mùng 1)")
            && names.contains(&"Quốc khánh")
    );
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

fn the_official_years_2025_and_2026(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.cache_poll = std::time::Duration::from_millis(50));
    let due = |start: &str, n: u32| -> String {
        let r = app.get_json(&format!("/api/v1/calendar/due-date?start={start}&working_days={n}"));
        r["due_date"].as_str().unwrap().to_string()
    };
    // 2025: Tết 27–31 January (the Monday before Lunar New Year is a day off, Monday 3 February
    // is not); 2 May off for Saturday 26 April worked; 1–2 September.
    assert_eq!(due("2025-01-24", 1), "2025-02-03");
    assert_eq!(due("2025-04-25", 1), "2025-04-26", "Saturday 26 April is worked");
    assert_eq!(due("2025-04-29", 1), "2025-05-05");
    assert_eq!(due("2025-08-29", 1), "2025-09-03");
    // 2026: 1–2 January for Saturday 10 January; Tết 16–20 February; 27 April for Hùng Kings'
    // day on a Sunday; 30 April – 1 May; 31 August – 2 September for Saturday 22 August.
    assert_eq!(due("2025-12-31", 1), "2026-01-05");
    assert_eq!(due("2026-01-09", 1), "2026-01-10", "Saturday 10 January is worked");
    assert_eq!(due("2026-02-13", 1), "2026-02-23");
    assert_eq!(due("2026-04-24", 1), "2026-04-28");
    assert_eq!(due("2026-04-29", 1), "2026-05-04");
    assert_eq!(due("2026-08-21", 1), "2026-08-22", "Saturday 22 August is worked");
    assert_eq!(due("2026-08-28", 1), "2026-09-03");
    // 24 November is an ordinary Tuesday in 2026.
    assert_eq!(due("2026-11-23", 1), "2026-11-24");
    let days = app.get_json("/api/v1/holidays?year=2026");
    let swap = days.as_array().unwrap().iter().find(|d| d["date"] == "2026-08-22").unwrap().clone();
    assert_eq!(swap["working"], true, "{swap}");

    // A database an earlier release seeded with the drafted year gets the official one; a year an
    // administrator changed is kept as it is.
    let (from, to) =
        (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    let draft: Vec<dvc_persistence::calendar::HolidayRow> = dvc_domain::calendar::OfficialYear::draft(2026)
        .days_off
        .into_iter()
        .map(|d| dvc_persistence::calendar::HolidayRow {
            day: d.date,
            name: d.name,
            working: false,
            updated_at: dvc_persistence::now(),
        })
        .collect();
    // Written behind the server's back: it follows within its poll interval.
    let eventually = |start: &str, expected: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while due(start, 1) != expected {
            assert!(std::time::Instant::now() < deadline, "{start} + 1 is still not {expected}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    dvc_persistence::calendar::replace_holidays(&mut app.conn(), from, to, &draft).unwrap();
    eventually("2026-01-09", "2026-01-12");
    dvc_api::calendar::seed_holidays(&mut app.conn()).unwrap();
    eventually("2026-01-09", "2026-01-10");
    let admin = app.admin_token();
    let res = app
        .with_token(app.client.put(app.url("/api/v1/admin/holidays/2026-11-24")), &admin)
        .json(&json!({"name": "Ngày Văn hóa Việt Nam"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    dvc_api::calendar::seed_holidays(&mut app.conn()).unwrap();
    assert_eq!(due("2026-11-23", 1), "2026-11-25", "the administrator's day off stays");
}

on_both_backends!(the_official_years_2025_and_2026);
