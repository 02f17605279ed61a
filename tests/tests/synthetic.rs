//! The synthetic data set behind `make bench`: consistent with the API, and new dossiers continue
//! its codes.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

fn synthetic_data_serves_like_real_data(backend: Backend) {
    let app = TestApp::start(backend);
    let report = dvc_api::seed::synthetic::load(&mut app.conn(), 40, 3000).unwrap();
    assert_eq!((report.procedures, report.dossiers, report.accounts), (40, 3000, 1002));
    assert!(dvc_api::seed::synthetic::load(&mut app.conn(), 40, 10).is_err(), "loaded once only");

    let found = app.get_json("/api/v1/procedures?q=SYN.0000&per_page=100");
    assert_eq!(found["total"], 40);
    let mine = app.get_json_with(
        "/api/v1/me/dossiers?per_page=100",
        &app.sign_in(dvc_api::seed::synthetic::BUSY_APPLICANT, dvc_api::seed::synthetic::PASSWORD),
    );
    assert_eq!(mine["total"], 6, "every 500th dossier");
    let officer = app.sign_in(dvc_api::seed::synthetic::OFFICER, dvc_api::seed::synthetic::PASSWORD);
    let inbox = app.get_json_with("/api/v1/agency/dossiers", &officer);
    assert!(inbox["total"].as_i64().unwrap() > 100);
    let summary = app.get_json("/api/v1/statistics/summary?from=2025-01-01&group_by=none");
    assert!(summary["finished"].as_i64().unwrap() > 1500, "{summary}");
    assert!(summary["late"].as_i64().unwrap() > 0 && summary["on_time"].as_i64().unwrap() > 0);
    let code = mine["items"][0]["code"].as_str().unwrap();
    assert_eq!(app.get_json(&format!("/api/v1/dossiers/lookup?code={code}"))["code"], code);

    // The inbox total is kept by the database too; it agrees with the per-status counts.
    let inbox_total = || app.get_json_with("/api/v1/agency/dossiers?per_page=1", &officer)["total"].as_i64().unwrap();
    let inbox_counted = || -> i64 {
        [
            "submitted",
            "received",
            "supplement_requested",
            "processing",
            "completed",
            "returned",
            "rejected",
            "withdrawn",
            "stopped",
        ]
        .iter()
        .map(|s| {
            let page = app.get_json_with(&format!("/api/v1/agency/dossiers?status={s}&per_page=1"), &officer);
            page["total"].as_i64().unwrap()
        })
        .sum()
    };
    let inbox_before = inbox_total();
    assert_eq!(inbox_before, inbox_counted());

    // A new dossier of a synthetic procedure gets a code after the loaded ones.
    let procedure = app.get_json("/api/v1/procedures/SYN.000001");
    let citizen = app.sign_in("syn00001", dvc_api::seed::synthetic::PASSWORD);
    let body = json!({"procedure_id": procedure["id"], "agency_id": procedure["agencies"][0]["id"],
                      "form_data": {}, "delivery": {"method": "online"}});
    let draft: Value = app.post("/api/v1/dossiers", &body, Some(&citizen)).json().unwrap();
    let res =
        app.post(&format!("/api/v1/dossiers/{}/submit", draft["id"].as_str().unwrap()), &json!({}), Some(&citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
    // The officer's agency handles SYN.000001: a draft is not in its inbox, a submission is.
    assert_eq!(procedure["agencies"][0]["id"], app.get_json_with("/api/v1/me", &officer)["agency_id"]);
    assert_eq!(inbox_total(), inbox_before + 1);
    assert_eq!(inbox_counted(), inbox_before + 1);

    // The total of an applicant's list is kept by the database as dossiers come and go; it agrees
    // with a count of the dossiers themselves (the summary counts them per status).
    let total = |token: &str| app.get_json_with("/api/v1/me/dossiers?per_page=1", token)["total"].as_i64().unwrap();
    let counted = |token: &str| app.get_json_with("/api/v1/me/summary", token)["total"].as_i64().unwrap();
    let before = total(&citizen);
    assert_eq!(before, counted(&citizen));
    assert!(before > 1);
    let second: Value = app.post("/api/v1/dossiers", &body, Some(&citizen)).json().unwrap();
    assert_eq!(total(&citizen), before + 1);
    assert_eq!(counted(&citizen), before + 1);
    let removed = dvc_persistence::dossiers::delete_dossier(&mut app.conn(), second["id"].as_str().unwrap()).unwrap();
    assert_eq!(removed, 1);
    assert_eq!(total(&citizen), before);
    assert_eq!(counted(&citizen), before);
    let busy = app.sign_in(dvc_api::seed::synthetic::BUSY_APPLICANT, dvc_api::seed::synthetic::PASSWORD);
    assert_eq!(total(&busy), 6, "another applicant's total is untouched");
    assert_eq!(inbox_total(), inbox_before + 1, "a draft is in no inbox");
}

on_both_backends!(synthetic_data_serves_like_real_data);
