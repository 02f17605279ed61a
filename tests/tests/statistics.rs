//! Service-quality statistics against a scenario with known on-time, late and overdue dossiers,
//! moving the server's clock to let deadlines pass.

use chrono::Duration;
use serde_json::{json, Value};

use crate::dossiers::{actors, ok_move, submitted};
use crate::feedback::{file, finish};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

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

/// A row of counts with its group, to compare the rollups with a count over the rows; groups with
/// nothing counted are left out on both sides.
type Counted = Vec<(Option<String>, Vec<i64>)>;

fn dossiers_counted(rows: Vec<dvc_persistence::statistics::DossierCounts>) -> Counted {
    let mut out: Counted = rows
        .into_iter()
        .map(|c| {
            let n = vec![
                c.received,
                c.received_online,
                c.with_fee,
                c.paid_online,
                c.finished,
                c.on_time,
                c.late,
                c.in_progress,
                c.overdue,
            ];
            (c.group_key, n)
        })
        .filter(|(_, n)| n.iter().any(|v| *v != 0))
        .collect();
    out.sort();
    out
}

fn ratings_counted(rows: Vec<dvc_persistence::statistics::RatingCounts>) -> Counted {
    let mut out: Counted = rows
        .into_iter()
        .map(|r| (r.group_key, vec![r.ratings, r.score_sum]))
        .filter(|(_, n)| n.iter().any(|v| *v != 0))
        .collect();
    out.sort();
    out
}

fn feedback_counted(
    rows: Vec<dvc_persistence::statistics::FeedbackCounts>,
) -> Vec<(Option<String>, String, String, i64)> {
    let mut out: Vec<_> = rows.into_iter().filter(|f| f.n != 0).map(|f| (f.group_key, f.kind, f.status, f.n)).collect();
    out.sort();
    out
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The per-day rollups answer what a count over the dossiers, payments, ratings and feedback
/// answers, for random rows (times near Vietnamese midnight included) inserted, moved, paid,
/// refunded and deleted at random, for random periods, every grouping, with and without an agency.
fn rollups_count_what_the_rows_say(backend: Backend) {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    use diesel::RunQueryDsl;
    use dvc_domain::dossier::{Channel, Timeliness};
    use dvc_domain::workflow::DossierStatus;
    use dvc_persistence::codes::Code;
    use dvc_persistence::dossiers::{find_dossier, insert_dossier, update_dossier};
    use dvc_persistence::statistics as st;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let template = crate::dossiers::draft(&app, &a);
    let mut conn = app.conn();
    let template = find_dossier(&mut conn, template["id"].as_str().unwrap()).unwrap().unwrap();
    let procedures: Vec<(String, String)> = diesel::sql_query(
        "SELECT p.id || ' ' || pa.agency_id AS id FROM procedures p JOIN procedure_agencies pa ON pa.procedure_id = p.id \
         ORDER BY p.id, pa.agency_id LIMIT 6",
    )
    .load::<Id>(&mut **conn)
    .unwrap()
    .into_iter()
    .map(|r| {
        let (p, a) = r.id.split_once(' ').unwrap();
        (p.to_string(), a.to_string())
    })
    .collect();
    assert!(procedures.len() >= 3, "{procedures:?}");
    let author =
        diesel::sql_query("SELECT id FROM accounts ORDER BY id LIMIT 1").get_result::<Id>(&mut **conn).unwrap().id;

    let mut rng = StdRng::seed_from_u64(766);
    let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    // Times on twenty days, a third of them within a minute of midnight in Vietnam (17:00 UTC).
    let mut time = |rng: &mut StdRng| -> NaiveDateTime {
        let day = base + Duration::days(rng.gen_range(0..20));
        let t = if rng.gen_bool(0.33) {
            NaiveTime::from_hms_opt(16, 59, 30).unwrap() + Duration::seconds(rng.gen_range(0..60))
        } else {
            NaiveTime::from_num_seconds_from_midnight_opt(rng.gen_range(0..86_400), 0).unwrap()
        };
        day.and_time(t)
    };
    let random_row = |rng: &mut StdRng,
                      time: &mut dyn FnMut(&mut StdRng) -> NaiveDateTime,
                      row: &mut dvc_persistence::dossiers::DossierRow| {
        let (p, ag) = procedures.choose(rng).unwrap().clone();
        row.procedure_id = p;
        row.agency_id = ag;
        row.status = Code(*DossierStatus::ALL.choose(rng).unwrap());
        row.channel = Code(*Channel::ALL.choose(rng).unwrap());
        row.fee_vnd = if rng.gen_bool(0.4) { 50_000 } else { 0 };
        row.submitted_at = rng.gen_bool(0.9).then(|| time(rng));
        row.received_at = rng.gen_bool(0.8).then(|| time(rng));
        row.finished_at = rng.gen_bool(0.5).then(|| time(rng));
        row.timeliness = rng.gen_bool(0.6).then(|| Code(*Timeliness::ALL.choose(rng).unwrap()));
        row.due_date = rng.gen_bool(0.8).then(|| base + Duration::days(rng.gen_range(0..25)));
    };

    let mut rows = Vec::new();
    for i in 0..160 {
        let mut row = template.clone();
        row.id = dvc_persistence::new_id();
        row.code = Some(format!("R-{i}"));
        random_row(&mut rng, &mut time, &mut row);
        insert_dossier(&mut conn, &row).unwrap();
        rows.push(row);
    }
    let payment = |conn: &mut dvc_persistence::DbConn, id: &str, dossier: &str, status: &str| {
        let insert = format!(
            "INSERT INTO payments (id, dossier_id, phase, provider, amount_vnd, status, reference, created_at, updated_at) \
             VALUES ('{id}', '{dossier}', 'before', 'sandbox', 50000, '{status}', '{id}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        );
        diesel::sql_query(insert).execute(conn).unwrap();
    };
    let mut payments = Vec::new();
    for (i, row) in rows.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let id = format!("pay-{i}");
        payment(&mut conn, &id, &row.id, ["pending", "paid", "refunded", "cancelled"][i % 4]);
        payments.push(id);
    }
    for (i, row) in rows.iter().enumerate().filter(|(i, _)| i % 4 == 1) {
        let created = time(&mut rng);
        let insert = format!(
            "INSERT INTO ratings (id, dossier_id, agency_id, procedure_id, author_id, score, created_at) \
             VALUES ('rate-{i}', '{}', '{}', '{}', '{author}', {}, '{created}')",
            row.id,
            row.agency_id,
            row.procedure_id,
            rng.gen_range(1..=5)
        );
        diesel::sql_query(insert).execute(&mut **conn).unwrap();
        let procedure = if i % 3 == 0 { "NULL".to_string() } else { format!("'{}'", row.procedure_id) };
        let kind = ["complaint", "reflection", "support_request"][i % 3];
        let insert = format!(
            "INSERT INTO feedback (id, code, kind, title, content, author_id, agency_id, procedure_id, status, publish, \
             version, created_at, updated_at) VALUES ('fb-{i}', 'PA-{i}', '{kind}', 't', 'c', '{author}', '{}', \
             {procedure}, 'new', false, 1, '{created}', '{created}')",
            row.agency_id
        );
        diesel::sql_query(insert).execute(&mut **conn).unwrap();
    }

    // Moves at random: rows rewritten, payments paid and refunded, feedback answered, and some
    // dossiers deleted with what hangs on them.
    for round in 0..120 {
        let k = rng.gen_range(0..rows.len());
        let row = &mut rows[k];
        let version = row.version;
        random_row(&mut rng, &mut time, row);
        row.version += 1;
        assert!(update_dossier(&mut conn, row, version).unwrap());
        if round % 4 == 0 {
            let p = payments.choose(&mut rng).unwrap();
            let status = ["pending", "paid", "refunded"][round % 3];
            diesel::sql_query(format!("UPDATE payments SET status = '{status}' WHERE id = '{p}'"))
                .execute(&mut **conn)
                .unwrap();
        }
        if round % 5 == 0 {
            let status = ["in_progress", "answered", "closed"][round % 3];
            diesel::sql_query(format!("UPDATE feedback SET status = '{status}' WHERE id = 'fb-{}'", (k / 4) * 4 + 1))
                .execute(&mut **conn)
                .unwrap();
        }
        if round % 7 == 0 {
            diesel::sql_query(format!(
                "UPDATE ratings SET score = {} WHERE id = 'rate-{}'",
                round % 5 + 1,
                (k / 4) * 4 + 1
            ))
            .execute(&mut **conn)
            .unwrap();
        }
    }
    for _ in 0..10 {
        let row = rows.swap_remove(rng.gen_range(0..rows.len()));
        diesel::sql_query(format!("DELETE FROM feedback WHERE dossier_id = '{0}'", row.id))
            .execute(&mut **conn)
            .unwrap();
        diesel::sql_query(format!("DELETE FROM dossiers WHERE id = '{}'", row.id)).execute(&mut **conn).unwrap();
    }
    diesel::sql_query(format!("DELETE FROM payments WHERE id = '{}'", payments[1])).execute(&mut **conn).unwrap();

    let agencies: Vec<String> = procedures.iter().map(|(_, a)| a.clone()).collect();
    let compared = compare_rollups(&mut conn, &mut rng, &agencies, base);
    assert!(compared > 60, "most periods count something: {compared}");

    // Compaction: the shares other connections left (PostgreSQL) and rows that count nothing are
    // folded away, and every count stays as it was.
    let rows_where = |conn: &mut dvc_persistence::DbConn, filter: &str| -> i64 {
        let sql = format!("SELECT COUNT(*) AS n FROM dossier_days WHERE {filter}");
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    };
    let nothing = "received = 0 AND received_online = 0 AND with_fee = 0 AND paid_online = 0 AND finished = 0 \
                   AND on_time = 0 AND late = 0 AND submitted = 0 AND closed = 0";
    if backend == Backend::Postgres {
        for (shard, delta) in [(6, 1), (7, -1)] {
            let sql = format!(
                "INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, submitted) \
                 SELECT procedure_id, agency_id, day, {shard}, {delta}, {delta} FROM dossier_days \
                 WHERE shard NOT IN (6, 7) ORDER BY procedure_id, day, agency_id LIMIT 20 \
                 ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET received = dossier_days.received + {delta}, \
                 submitted = dossier_days.submitted + {delta}"
            );
            diesel::sql_query(sql).execute(&mut **conn).unwrap();
        }
        assert!(rows_where(&mut conn, "shard IN (6, 7)") >= 40);
    }
    diesel::sql_query(
        "INSERT INTO dossier_days (procedure_id, agency_id, day, shard) \
         SELECT procedure_id, agency_id, '2026-02-01', 0 FROM dossier_days WHERE procedure_id <> '' GROUP BY procedure_id, agency_id",
    )
    .execute(&mut **conn)
    .unwrap();
    assert!(rows_where(&mut conn, nothing) > 0);
    let changed = st::compact(&mut conn, base + Duration::days(60)).unwrap();
    assert!(changed > 0);
    assert_eq!(rows_where(&mut conn, "shard <> 0"), 0, "one share left");
    assert_eq!(rows_where(&mut conn, nothing), 0);
    compare_rollups(&mut conn, &mut rng, &agencies, base);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Compares the rollups with the count over the rows for 25 random periods, every grouping, with
/// and without an agency; how many comparisons counted something.
fn compare_rollups(
    conn: &mut dvc_persistence::DbConn,
    rng: &mut rand::rngs::StdRng,
    agencies: &[String],
    base: chrono::NaiveDate,
) -> usize {
    use dvc_persistence::statistics::{self as st, scan, Grouping, Period};
    use rand::seq::SliceRandom;
    use rand::Rng;
    let mut compared = 0;
    for _ in 0..25 {
        let first = base + Duration::days(rng.gen_range(-2..22));
        let last = first + Duration::days(rng.gen_range(0..10));
        let report = last.min(base + Duration::days(rng.gen_range(0..25)));
        let period = Period::of_days(first, last, report);
        let agency = rng.gen_bool(0.5).then(|| agencies.choose(rng).unwrap().as_str());
        for grouping in [Grouping::All, Grouping::Agency, Grouping::Procedure, Grouping::Field] {
            let what = format!("{first}..={last} report {report}, agency {agency:?}, {grouping:?}");
            let rolled = dossiers_counted(st::dossier_counts(conn, period, agency, grouping).unwrap());
            let counted = dossiers_counted(scan::dossier_counts(conn, period, agency, grouping).unwrap());
            assert_eq!(rolled, counted, "dossiers {what}");
            compared += usize::from(!counted.is_empty());
            let rolled = ratings_counted(st::rating_counts(conn, period, agency, grouping).unwrap());
            let counted = ratings_counted(scan::rating_counts(conn, period, agency, grouping).unwrap());
            assert_eq!(rolled, counted, "ratings {what}");
            let rolled = feedback_counted(st::feedback_counts(conn, period, agency, grouping).unwrap());
            let counted = feedback_counted(scan::feedback_counts(conn, period, agency, grouping).unwrap());
            assert_eq!(rolled, counted, "feedback {what}");
        }
    }
    compared
}

on_both_backends!(rollups_count_what_the_rows_say);
