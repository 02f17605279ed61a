//! The synthetic data set behind `make bench`: consistent with the API, and new dossiers continue
//! its codes.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

fn synthetic_data_serves_like_real_data(backend: Backend) {
    let app = TestApp::start(backend);
    let report = dvc_api::seed::synthetic::load(&mut app.conn(), 40, 3000).unwrap();
    assert_eq!((report.procedures, report.dossiers, report.accounts), (40, 3000, 1001));
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

    // A new dossier of a synthetic procedure gets a code after the loaded ones.
    let procedure = app.get_json("/api/v1/procedures/SYN.000001");
    let citizen = app.sign_in("syn00001", dvc_api::seed::synthetic::PASSWORD);
    let body = json!({"procedure_id": procedure["id"], "agency_id": procedure["agencies"][0]["id"],
                      "form_data": {}, "delivery": {"method": "online"}});
    let draft: Value = app.post("/api/v1/dossiers", &body, Some(&citizen)).json().unwrap();
    let res =
        app.post(&format!("/api/v1/dossiers/{}/submit", draft["id"].as_str().unwrap()), &json!({}), Some(&citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
}

on_both_backends!(synthetic_data_serves_like_real_data);
