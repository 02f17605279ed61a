//! Service-quality statistics against a scenario with known on-time, late and overdue dossiers,
//! moving the server's clock to let deadlines pass.

use chrono::Duration;
use serde_json::{json, Value};

use crate::dossiers::{actors, ok_move, submitted};
use crate::feedback::{file, finish};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

mod rollups;

fn statistics_match_a_scenario(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let start = app.clock.today();
    let ids: Vec<String> = (0..4).map(|_| submitted(&app, &a)["id"].as_str().unwrap().to_string()).collect();
    for id in &ids[..3] {
        ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    }
    // One finished at once: early. Then sixty days pass.
    finish(&app, &a, &ids[0]);
    app.clock.advance(Duration::days(60));
    let end = app.clock.today();
    // One finished now, long past its due date; one still processing, overdue; one never received.
    finish(&app, &a, &ids[1]);
    ok_move(&app, &a.officer, &ids[2], json!({"action": "start_processing"}));
    for (id, score) in [(&ids[0], 5), (&ids[1], 2)] {
        let res = app.post(&format!("/api/v1/dossiers/{id}/rating"), &json!({"score": score}), Some(&a.citizen));
        assert_eq!(res.status(), 201);
    }
    file(
        &app,
        &a.citizen,
        json!({"kind": "complaint", "title": "Trễ hạn", "content": "Hồ sơ trễ hạn", "procedure_id": a.procedure_id,
               "agency_id": a.agency_id}),
    );
    let reflection = file(
        &app,
        &a.citizen,
        json!({"kind": "reflection", "title": "Góp ý", "content": "Nên gửi SMS khi có kết quả", "agency_id": a.agency_id}),
    );
    let rid = reflection["id"].as_str().unwrap();
    let res =
        app.post(&format!("/api/v1/feedback/{rid}/answer"), &json!({"content": "Đã triển khai"}), Some(&a.officer));
    assert_eq!(res.status(), 200);

    let period = format!("from={}&to={}", start - Duration::days(1), end);
    let s = app.get_json(&format!("/api/v1/statistics/agencies/{}?{period}", a.agency_id));
    assert_eq!(s["received"], 3, "{s}");
    assert_eq!(s["finished"], 2);
    assert_eq!(s["on_time"], 1);
    assert_eq!(s["late"], 1);
    assert_eq!(s["on_time_rate"], 0.5);
    assert_eq!(s["in_progress"], 2, "one processing, one never received");
    assert_eq!(s["overdue"], 1);
    assert_eq!(s["online_rate"], 1.0);
    assert!(s["online_payment_rate"].is_null(), "a free procedure owes nothing");
    assert_eq!(s["ratings"], 2);
    assert_eq!(s["average_rating"], 3.5);
    assert_eq!(s["feedback"]["total"], 2);
    assert_eq!(s["feedback"]["complaint"]["new"], 1);
    assert_eq!(s["feedback"]["reflection"]["answered"], 1);
    assert_eq!(s["groups"], json!([]));

    // Per procedure within the agency, and per agency across the country: the same figures.
    let by_procedure =
        app.get_json(&format!("/api/v1/statistics/agencies/{}?{period}&group_by=procedure", a.agency_id));
    let row = by_procedure["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == a.procedure_id.as_str())
        .expect("the procedure's row");
    assert_eq!(
        (row["received"].clone(), row["late"].clone(), row["average_rating"].clone()),
        (json!(3), json!(1), json!(3.5))
    );
    let summary = app.get_json(&format!("/api/v1/statistics/summary?{period}"));
    assert_eq!(summary["received"], 3);
    assert_eq!(summary["group_by"], "agency");
    let agency_row = summary["groups"].as_array().unwrap().iter().find(|g| g["id"] == a.agency_id.as_str()).unwrap();
    assert_eq!(agency_row["on_time"], 1);
    assert!(agency_row["name"].is_string());
    // Totals added up from the groups equal the totals counted at once.
    let whole = app.get_json(&format!("/api/v1/statistics/summary?{period}&group_by=none"));
    let by_field_totals = app.get_json(&format!("/api/v1/statistics/summary?{period}&group_by=field"));
    for key in [
        "received",
        "finished",
        "on_time",
        "late",
        "in_progress",
        "overdue",
        "on_time_rate",
        "online_rate",
        "online_payment_rate",
        "average_rating",
        "ratings",
        "feedback",
    ] {
        assert_eq!(summary[key], whole[key], "{key} by agency");
        assert_eq!(by_field_totals[key], whole[key], "{key} by field");
    }
    let by_field = app.get_json(&format!("/api/v1/statistics/summary?{period}&group_by=field"));
    assert_eq!(by_field["groups"][0]["received"], 3);

    // A period before anything happened counts nothing.
    let before = format!("from={}&to={}", start - Duration::days(30), start - Duration::days(1));
    let empty = app.get_json(&format!("/api/v1/statistics/agencies/{}?{before}", a.agency_id));
    assert_eq!((empty["received"].clone(), empty["finished"].clone()), (json!(0), json!(0)));
    assert!(empty["on_time_rate"].is_null());

    // CSV for reporting: one row per group and the total.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/statistics/summary?{period}")))
        .header("accept", "text/csv")
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group_id,group_code,group_name,from,to,received,finished,on_time,late"));
    let total = lines.last().unwrap();
    assert!(total.starts_with("total,,,"), "{total}");
    assert!(total.contains(",3,2,1,1,2,1,0.5,1,"), "{total}");
    assert!(lines.iter().any(|l| l.starts_with(a.agency_id.as_str())));

    // The chart: received in the first month, the late one in the month it finished.
    let res = app.get(&format!("/api/v1/statistics/agencies/{}/chart.svg?{period}", a.agency_id));
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains(&format!("Tiếp nhận {}: 3", start.format("%Y-%m"))), "{svg}");
    assert!(svg.contains(&format!("Trễ hạn {}: 1", end.format("%Y-%m"))));

    // Bad input is a clear 400; unknown agencies are 404.
    let path = format!("/api/v1/statistics/agencies/{}", a.agency_id);
    for query in
        ["from=2026-13-01", "from=2026-05-01&to=2026-04-01", "group_by=province", "to=yesterday", "from=1900-01-01"]
    {
        let p = assert_problem(app.get(&format!("{path}?{query}")), 400, "validation_failed");
        assert!(!p["errors"].as_array().unwrap().is_empty(), "{query}");
    }
    assert_problem(app.get("/api/v1/statistics/agencies/00000000-0000-0000-0000-000000000000"), 404, "not_found");
    assert_problem(app.get("/api/v1/statistics/agencies/nope/chart.svg"), 404, "not_found");
}

on_both_backends!(statistics_match_a_scenario);

/// Figures are counted by the database: a grouped report over many dossiers matches a count
/// done row by row.
fn summary_agrees_with_the_rows(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    for i in 0..6 {
        let id = submitted(&app, &a)["id"].as_str().unwrap().to_string();
        if i % 2 == 0 {
            ok_move(&app, &a.officer, &id, json!({"action": "receive"}));
        }
        if i % 3 == 0 {
            ok_move(&app, &a.officer, &id, json!({"action": "reject", "reason": "Không đủ điều kiện"}));
        }
    }
    let today = app.clock.today();
    let s: Value = app.get_json(&format!("/api/v1/statistics/summary?from={today}&to={today}&group_by=none"));
    // Received: 0, 2, 4; rejected: 0 (after receipt: counted on time), 3 (before receipt).
    assert_eq!(s["received"], 3, "{s}");
    assert_eq!(s["finished"], 2);
    assert_eq!(s["on_time"], 1, "only a rejection after receipt runs against a deadline");
    assert_eq!(s["in_progress"], 4);
    assert!(s["group_by"].is_null());
}

on_both_backends!(summary_agrees_with_the_rows);

/// An apology gives a new appointment; the dossier finished after its due date is still late,
/// in its own view, in the statistics and on the national wire.
fn an_apologised_dossier_finished_late_stays_late(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let start = app.clock.today();
    let id = submitted(&app, &a)["id"].as_str().unwrap().to_string();
    let received = ok_move(&app, &a.officer, &id, json!({"action": "receive"}));
    let due = received["due_date"].as_str().unwrap().to_string();
    let due_day = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
    let new_date = due_day + Duration::days(20);
    let sorry = json!({"action": "apologize", "reason": "Chờ xác minh", "new_due_date": new_date.to_string()});
    let apologised = ok_move(&app, &a.officer, &id, sorry);
    assert_eq!(
        (apologised["due_date"].as_str(), apologised["rescheduled_due_date"].as_str()),
        (Some(due.as_str()), Some(new_date.to_string().as_str()))
    );
    // Finished before the new appointment, but after the due date.
    app.clock.advance(due_day - app.clock.today() + Duration::days(5));
    finish(&app, &a, &id);
    let history = app.get_json_with(&format!("/api/v1/dossiers/{id}/history"), &a.citizen);
    let done = history.as_array().unwrap().iter().find(|e| e["action"] == "complete").expect("completed");
    assert_eq!(done["data"]["timeliness"], "late");
    let public = app.get_json(&format!("/api/v1/dossiers/lookup?code={}", received["code"].as_str().unwrap()));
    assert_eq!(
        (public["timeliness"].as_str(), public["rescheduled_due_date"].as_str()),
        (Some("late"), Some(new_date.to_string().as_str()))
    );
    let period = format!("from={}&to={}", start - Duration::days(1), app.clock.today());
    let s = app.get_json(&format!("/api/v1/statistics/summary?{period}"));
    assert_eq!((s["finished"].clone(), s["late"].clone(), s["on_time"].clone()), (json!(1), json!(1), json!(0)), "{s}");
}

on_both_backends!(an_apologised_dossier_finished_late_stays_late);

/// Heavy work has a share of its own: with no place for it, every statistics answer is 503 with
/// `Retry-After`, and the rest of the service answers as before.
fn statistics_are_shed_beyond_their_share(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| c.heavy_running = 0);
    let a = actors(&app);
    let code = submitted(&app, &a)["code"].as_str().unwrap().to_string();
    for path in [
        "/api/v1/statistics/summary".to_string(),
        format!("/api/v1/statistics/agencies/{}", a.agency_id),
        format!("/api/v1/statistics/agencies/{}/chart.svg", a.agency_id),
        "/api/v1/statistics/index766".to_string(),
        "/api/v1/statistics/index766/chart.svg".to_string(),
    ] {
        let res = app.get(&path);
        assert!(res.headers().contains_key("retry-after"), "{path}");
        assert_problem(res, 503, "busy");
    }
    assert_eq!(app.get(&format!("/api/v1/dossiers/lookup?code={code}")).status(), 200);
    assert_eq!(app.get("/api/v1/procedures/1.001193").status(), 200);
    assert_eq!(app.get_json_with("/api/v1/me/dossiers", &a.citizen)["total"], 1);
}

on_both_backends!(statistics_are_shed_beyond_their_share);

/// On PostgreSQL a heavy statement past its time is cancelled, and the answer is 503 to try again.
#[test]
fn heavy_statements_time_out_postgres() {
    let app = TestApp::start_with(Backend::Postgres, |_| {});
    let mut conn = app.conn();
    let conn: &mut dvc_persistence::DbConn = &mut conn;
    let slow = dvc_persistence::db::with_statement_timeout(conn, 50, |c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_sleep(2)").execute(c)
    });
    let error = slow.expect_err("cancelled");
    assert!(error.to_string().contains("statement timeout"), "{error}");
    let answer = dvc_api::error::ApiError::from(error);
    assert_eq!((answer.status.as_u16(), answer.code, answer.retry_after), (503, "busy", Some(5)));
    // The limit ended with its transaction.
    let fine: Result<usize, diesel::result::Error> = {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_sleep(0.2)").execute(conn)
    };
    assert!(fine.is_ok());
}
