//! Requests that reach the database together are served in batches (`batch.rs`): each keeps its
//! own checks and its own answer, and what a batch writes is what the requests would have written
//! one by one.

use std::collections::HashMap;

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::dossiers::{actors, draft};
use crate::on_both_backends;
use crate::support::{Backend, TestApp};

/// A procedure offered online that asks for no documents, handled by one commune.
fn simple_procedure(app: &TestApp) -> (String, String) {
    let admin = app.admin_token();
    let fields = app.get_json("/api/v1/fields");
    let agency = app.get_json("/api/v1/agencies?tier=commune&per_page=1")["items"][0].clone();
    let body = json!({"code": "1.999200", "name": "Thủ tục thử nghiệm theo lô", "field_id": fields[0]["id"],
        "agency_ids": [agency["id"]], "tier": "commune", "service_level": 4, "audiences": ["citizen"],
        "processing_days": 3, "result": "Kết quả"});
    let res = app.post("/api/v1/admin/procedures", &body, Some(&admin));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let procedure: Value = res.json().unwrap();
    (procedure["id"].as_str().unwrap().to_string(), agency["id"].as_str().unwrap().to_string())
}

/// The largest batch of a kind the server's metrics have seen (the upper bound of the smallest
/// histogram bucket that holds them all).
fn largest_batch(app: &TestApp, kind: &str) -> f64 {
    let text = app.get("/metrics").text().unwrap();
    let prefix = format!("dvc_batch_requests_bucket{{kind=\"{kind}\",le=\"");
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("dvc_batch_requests_count{{kind=\"{kind}\"}} ")))
        .map(|v| v.trim().parse::<f64>().unwrap())
        .unwrap_or(0.0);
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_once("\"} "))
        .filter(|(_, n)| n.trim().parse::<f64>().unwrap() >= total)
        .filter_map(|(le, _)| le.parse::<f64>().ok())
        .fold(f64::INFINITY, f64::min)
}

fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    let conn: &mut dvc_persistence::DbConn = &mut conn;
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

fn concurrent_requests_keep_their_own_answers(backend: Backend) {
    let app = TestApp::seeded(backend);
    let (procedure, agency) = simple_procedure(&app);
    let a = actors(&app);
    register_citizen(&app, "001099054321", "0987654321");
    let stranger = app.sign_in("001099054321", PASSWORD);
    let good = json!({"procedure_id": procedure, "agency_id": agency, "delivery": {"method": "online"}});
    let unknown = json!({"procedure_id": "no-such-procedure", "agency_id": agency, "delivery": {"method": "online"}});
    let wrong_agency = json!({"procedure_id": a.procedure_id, "agency_id": agency, "delivery": {"method": "online"}});
    let bad_form = json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": {"child_sex": 7},
                          "delivery": {"method": "online"}});

    // Drafts, good and bad, all at once.
    let mut cases: Vec<(&Value, &str, u16)> = Vec::new();
    for i in 0..40 {
        match i % 8 {
            1 => cases.push((&unknown, &a.citizen, 400)),
            3 => cases.push((&wrong_agency, &a.citizen, 400)),
            5 => cases.push((&bad_form, &a.citizen, 400)),
            7 => cases.push((&good, &a.officer, 403)),
            _ => cases.push((&good, &a.citizen, 201)),
        }
    }
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(body, token, _)| {
                let app = &app;
                scope.spawn(move || {
                    let res = app.post("/api/v1/dossiers", body, Some(token));
                    (res.status().as_u16(), res.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut drafts = Vec::new();
    for ((_, _, expected), (status, body)) in cases.iter().zip(&answers) {
        assert_eq!(status, expected, "{body}");
        if *status == 201 {
            assert_eq!(body["status"], "draft");
            assert_eq!(body["applicant"]["id_number"], "001099012345", "prefilled from the profile");
            drafts.push(body["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(drafts.len(), 20);
    assert!(largest_batch(&app, "drafts") > 1.0, "some drafts were served together");

    // Submissions at once: each draft twice, someone else's, one without its documents.
    let incomplete = draft(&app, &a);
    let incomplete = incomplete["id"].as_str().unwrap().to_string();
    let mut submits: Vec<(&str, &str)> = Vec::new();
    for id in &drafts {
        submits.push((id, &a.citizen));
        submits.push((id, &a.citizen));
    }
    submits.push((&drafts[0], &stranger));
    submits.push((&incomplete, &a.citizen));
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = submits
            .iter()
            .map(|(id, token)| {
                let app = &app;
                scope.spawn(move || {
                    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(token));
                    (res.status().as_u16(), res.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut submitted: HashMap<String, String> = HashMap::new();
    for ((id, token), (status, body)) in submits.iter().zip(&answers) {
        if *token == stranger {
            assert_eq!(*status, 404, "another applicant's dossier does not exist for them: {body}");
        } else if *id == incomplete {
            assert_eq!(*status, 422, "{body}");
            assert_eq!(body["code"], "documents_missing");
        } else if *status == 200 {
            assert_eq!(body["status"], "submitted");
            assert_eq!(body["national_status_code"], 1);
            assert!(
                submitted.insert(id.to_string(), body["code"].as_str().unwrap().to_string()).is_none(),
                "{id} twice"
            );
        } else {
            assert_eq!(*status, 409, "the second submission of {id}: {body}");
        }
    }
    assert_eq!(submitted.len(), drafts.len(), "every draft submitted exactly once");
    let mut numbers: Vec<u32> = submitted.values().map(|c| c.rsplit('-').next().unwrap().parse().unwrap()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20, "distinct codes");
    assert!(largest_batch(&app, "submissions") > 1.0, "some submissions were served together");

    // What the batches wrote is what twenty single requests would have written.
    for id in &drafts {
        let history = app.get_json_with(&format!("/api/v1/dossiers/{id}/history"), &a.citizen);
        let actions: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["create", "submit"], "{id}");
        let tracked = app.get_json(&format!("/api/v1/dossiers/lookup?code={}", submitted[id]));
        assert_eq!(tracked["status"], "submitted");
    }
    let feed = |event: &str| {
        count(
            &app,
            &format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM integration_events WHERE event_type = '{event}' \
                 AND dossier_id IN (SELECT id FROM dossiers WHERE procedure_id = '{procedure}')"
            ),
        )
    };
    assert_eq!(feed("dossier.submitted"), 20);
    assert_eq!(feed("dossier.status_changed"), 20);
    let mine = app.get_json_with("/api/v1/me/dossiers?per_page=100", &a.citizen);
    assert_eq!(mine["total"], 21);
    assert_eq!(mine["items"].as_array().unwrap().len(), 21);
    let inbox = app.get_json_with("/api/v1/agency/dossiers?per_page=1", &app.officer_token("canbo.xa", Some(&agency)));
    assert_eq!(inbox["total"], 20, "every submission joined the inbox once");
}

/// Lookups that arrive together are answered together, each with its own dossier or a 404.
fn concurrent_lookups_get_their_own_dossiers(backend: Backend) {
    let app = TestApp::seeded(backend);
    let (procedure, agency) = simple_procedure(&app);
    let a = actors(&app);
    let body = json!({"procedure_id": procedure, "agency_id": agency, "delivery": {"method": "online"}});
    let codes: Vec<String> = (0..10)
        .map(|_| {
            let d: Value = app.post("/api/v1/dossiers", &body, Some(&a.citizen)).json().unwrap();
            let id = d["id"].as_str().unwrap();
            let s: Value =
                app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen)).json().unwrap();
            s["code"].as_str().unwrap().to_string()
        })
        .collect();
    let asked: Vec<String> =
        (0..60).map(|i| if i % 6 == 5 { format!("KHONG-CO-{i}") } else { codes[i % codes.len()].clone() }).collect();
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = asked
            .iter()
            .map(|code| {
                let app = &app;
                scope.spawn(move || {
                    let res = app.get(&format!("/api/v1/dossiers/lookup?code={code}"));
                    (res.status().as_u16(), res.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (code, (status, body)) in asked.iter().zip(&answers) {
        if code.starts_with("KHONG-CO") {
            assert_eq!(*status, 404, "{body}");
        } else {
            assert_eq!(*status, 200, "{body}");
            assert_eq!(body["code"], code.as_str());
            assert_eq!(body["timeline"][0]["action"], "submit");
            assert!(body.get("applicant").is_none(), "no personal data");
        }
    }
    assert!(largest_batch(&app, "tracking") > 1.0, "some lookups were served together");
}

/// Pages of several lists rendered together (no page kept, so that every one is read): each is
/// the page a request alone gets, and a dossier on two pages of a batch is whole on both.
fn concurrent_pages_are_the_pages_alone(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| c.list_cache_bytes = 0);
    let (procedure, agency) = simple_procedure(&app);
    let a = actors(&app);
    register_citizen(&app, "001099054321", "0987654321");
    let other = app.sign_in("001099054321", PASSWORD);
    let body = json!({"procedure_id": procedure, "agency_id": agency, "delivery": {"method": "online"}});
    for (i, token) in [&a.citizen, &other].into_iter().cycle().take(14).enumerate() {
        let d: Value = app.post("/api/v1/dossiers", &body, Some(token)).json().unwrap();
        if i % 3 != 0 {
            let id = d["id"].as_str().unwrap();
            assert_eq!(app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(token)).status(), 200);
        }
    }
    let officer = app.officer_token("canbo.xa", Some(&agency));
    let mut asked: Vec<(String, &str)> = Vec::new();
    for per_page in [1, 2, 3, 5] {
        for page in 1..=4 {
            for token in [&a.citizen, &other, &officer] {
                let path = if *token == officer { "/api/v1/agency/dossiers" } else { "/api/v1/me/dossiers" };
                asked.push((format!("{path}?page={page}&per_page={per_page}"), token));
            }
        }
    }
    asked.push(("/api/v1/me/dossiers?status=draft".into(), &a.citizen));
    asked.push(("/api/v1/agency/dossiers?status=submitted&per_page=4".into(), &officer));
    let alone: Vec<Value> = asked.iter().map(|(path, token)| app.get_json_with(path, token)).collect();
    for round in 0..3 {
        let together: Vec<Value> = std::thread::scope(|scope| {
            let handles: Vec<_> = asked
                .iter()
                .map(|(path, token)| {
                    let app = &app;
                    scope.spawn(move || app.get_json_with(path, token))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (((path, _), one), many) in asked.iter().zip(&alone).zip(&together) {
            assert_eq!(one, many, "round {round}: {path}");
        }
    }
    assert!(alone[0]["total"].as_i64().unwrap() == 7 && alone[2]["total"].as_i64().unwrap() == 9, "{}", alone[2]);
    // The pages tile their list in its order: an applicant's newest first, an inbox by due date
    // (none is due yet) and then by submission.
    for (path, token, key) in [
        ("/api/v1/me/dossiers", &a.citizen, "created_at"),
        ("/api/v1/me/dossiers", &other, "created_at"),
        ("/api/v1/agency/dossiers", &officer, "submitted_at"),
    ] {
        let whole = app.get_json_with(&format!("{path}?per_page=100"), token)["items"].as_array().unwrap().clone();
        let times: Vec<&str> = whole.iter().map(|d| d[key].as_str().unwrap()).collect();
        let mut sorted = times.clone();
        sorted.sort();
        if key == "created_at" {
            sorted.reverse();
        }
        assert_eq!(times, sorted, "{path}");
        for per_page in [1, 2, 3, 5] {
            let tiled: Vec<Value> = (1..=4)
                .flat_map(|page| {
                    let i = asked.iter().position(|(p, t)| {
                        p.starts_with(path)
                            && *t == token.as_str()
                            && *p == format!("{path}?page={page}&per_page={per_page}")
                    });
                    alone[i.unwrap()]["items"].as_array().unwrap().clone()
                })
                .collect();
            let n = (4 * per_page).min(whole.len());
            assert_eq!(tiled, whole[..n].to_vec(), "{path} in pages of {per_page}");
        }
    }
    assert!(largest_batch(&app, "lists") > 1.0, "some pages were rendered together");
}

/// A request that waits in the queue past the database timeout is answered 503 and never served;
/// the batch that was running when it gave up still answers its own requests.
fn a_request_stuck_behind_a_batch_gives_up_unserved(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| {
        c.batch_lanes = 1;
        c.db_timeout = std::time::Duration::from_millis(800);
    });
    let (procedure, agency) = simple_procedure(&app);
    let a = actors(&app);
    let body = json!({"procedure_id": procedure, "agency_id": agency, "delivery": {"method": "online"}});
    let ids: Vec<String> = (0..3)
        .map(|_| {
            app.post("/api/v1/dossiers", &body, Some(&a.citizen)).json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Another writer holds what a submission must write: the first batch waits for it.
    let mut blocker = app.conn();
    {
        use diesel::connection::SimpleConnection;
        let lock = match backend {
            Backend::Postgres => "BEGIN; LOCK TABLE dossier_code_counters IN SHARE ROW EXCLUSIVE MODE;",
            Backend::Sqlite => "BEGIN IMMEDIATE;",
        };
        blocker.batch_execute(lock).unwrap();
    }
    let submit = |id: &str| {
        let started = std::time::Instant::now();
        let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen));
        let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (res.status().as_u16(), kind, started.elapsed())
    };
    std::thread::scope(|scope| {
        let first = scope.spawn(|| submit(&ids[0]));
        std::thread::sleep(std::time::Duration::from_millis(200));
        let queued: Vec<_> = ids[1..].iter().map(|id| scope.spawn(move || submit(id))).collect();
        for q in queued {
            let (status, kind, took) = q.join().unwrap();
            assert_eq!(status, 503, "gave up in the queue");
            assert!(kind.starts_with("application/problem+json"), "{kind}");
            assert!(took < std::time::Duration::from_secs(3), "{took:?}");
        }
        use diesel::connection::SimpleConnection;
        blocker.batch_execute("COMMIT;").unwrap();
        let (status, _, _) = first.join().unwrap();
        assert_eq!(status, 200, "the running batch finished its work");
    });
    drop(blocker);
    for id in &ids[1..] {
        let d = app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen);
        assert_eq!(d["status"], "draft", "a request that gave up was not served");
        assert_eq!(app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&a.citizen)).status(), 200);
    }
}

/// Fifty submissions at once through two server instances on one PostgreSQL get fifty codes.
#[test]
fn concurrent_submissions_get_distinct_codes_postgres() {
    let app = TestApp::seeded(Backend::Postgres);
    let second = app.second_instance();
    let admin = app.admin_token();
    let fields = app.get_json("/api/v1/fields");
    let agency = app.get_json("/api/v1/agencies?tier=commune&per_page=1")["items"][0].clone();
    let body = json!({"code": "1.999100", "name": "Thủ tục thử nghiệm đồng thời", "field_id": fields[0]["id"], "agency_ids": [agency["id"]],
        "tier": "commune", "service_level": 3, "audiences": ["citizen"], "processing_days": 2, "result": "Kết quả"});
    let procedure: Value = app.post("/api/v1/admin/procedures", &body, Some(&admin)).json().unwrap();
    register_citizen(&app, "001099012345", "0912345678");
    let token = app.sign_in("001099012345", PASSWORD);
    let ids: Vec<String> = (0..50)
        .map(|_| {
            let body =
                json!({"procedure_id": procedure["id"], "agency_id": agency["id"], "delivery": {"method": "online"}});
            app.post("/api/v1/dossiers", &body, Some(&token)).json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let codes: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let (target, token) = (if i % 2 == 0 { &app } else { &second }, &token);
                scope.spawn(move || {
                    let res = target.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(token));
                    assert_eq!(res.status(), 200);
                    res.json::<Value>().unwrap()["code"].as_str().unwrap().to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut numbers: Vec<u32> = codes.iter().map(|c| c.rsplit('-').next().unwrap().parse().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>(), "fifty distinct, gapless codes: {codes:?}");
}

/// List pages check their sessions in the batch that serves them, new drafts and submissions
/// before theirs: the requests of a signed-out session get 401 and change nothing, while the
/// requests beside them, in the same batches, are served.
fn ended_sessions_are_refused_in_their_batch(backend: Backend) {
    let app = TestApp::seeded(backend);
    let (procedure, agency) = simple_procedure(&app);
    let a = actors(&app);
    let session = |username: &str, password: &str| -> Value {
        app.post("/api/v1/auth/token", &json!({"username": username, "password": password}), None).json().unwrap()
    };
    let citizen = session("001099012345", PASSWORD);
    let officer = session("canbo.hotich", crate::support::ADMIN_PASSWORD);
    let access = |s: &Value| s["access_token"].as_str().unwrap().to_string();
    let (citizen_ended, officer_ended) = (access(&citizen), access(&officer));
    let good = json!({"procedure_id": procedure, "agency_id": agency, "delivery": {"method": "online"}});
    let res = app.post("/api/v1/dossiers", &good, Some(&citizen_ended));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let early: Value = res.json().unwrap();
    let early = early["id"].as_str().unwrap().to_string();
    for s in [&citizen, &officer] {
        let res = app.post("/api/v1/auth/logout", &json!({"refresh_token": s["refresh_token"]}), None);
        assert_eq!(res.status(), 204);
    }
    let dossiers_before = count(&app, "SELECT COUNT(*) AS n FROM dossiers");
    let submit_early = format!("/api/v1/dossiers/{early}/submit");
    let mut cases: Vec<(&str, &str, &str, u16)> = Vec::new();
    for i in 0..48 {
        cases.push(match i % 8 {
            0 => ("GET", "/api/v1/me/dossiers", citizen_ended.as_str(), 401),
            1 => ("GET", "/api/v1/me/dossiers", a.citizen.as_str(), 200),
            2 => ("POST", "/api/v1/dossiers", citizen_ended.as_str(), 401),
            3 => ("POST", "/api/v1/dossiers", a.citizen.as_str(), 201),
            4 => ("POST", submit_early.as_str(), citizen_ended.as_str(), 401),
            5 => ("GET", "/api/v1/agency/dossiers", officer_ended.as_str(), 401),
            _ => ("GET", "/api/v1/agency/dossiers", a.officer.as_str(), 200),
        });
    }
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(method, path, token, _)| {
                let (app, good) = (&app, &good);
                scope.spawn(move || {
                    let res = if *method == "GET" {
                        app.with_token(app.client.get(app.url(path)), token).send().unwrap()
                    } else if path.ends_with("/submit") {
                        app.post(path, &json!({}), Some(token))
                    } else {
                        app.post(path, good, Some(token))
                    };
                    (res.status().as_u16(), res.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut created = 0;
    for ((method, path, _, expected), (status, body)) in cases.iter().zip(&answers) {
        assert_eq!(status, expected, "{method} {path}: {body}");
        match status {
            401 => assert_eq!(body["code"], "unauthorized"),
            201 => created += 1,
            _ => assert!(body["items"].is_array(), "{body}"),
        }
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM dossiers"),
        dossiers_before + created,
        "no draft of the ended session"
    );
    let early_now = app.get_json_with(&format!("/api/v1/dossiers/{early}"), &a.citizen);
    assert_eq!(early_now["status"], "draft", "the ended session submitted nothing");
}

on_both_backends!(
    ended_sessions_are_refused_in_their_batch,
    a_request_stuck_behind_a_batch_gives_up_unserved,
    concurrent_requests_keep_their_own_answers,
    concurrent_lookups_get_their_own_dossiers,
    concurrent_pages_are_the_pages_alone
);
