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

/// Pages after many cursors read together (one statement for every agency's inbox, one for single
/// agencies' on PostgreSQL) are the pages each cursor reads alone, which are the pages by number:
/// full ones, one where the dated rows end (the rest from those without a due date), one after an
/// undated cursor, one of another size and one of an applicant's list.
fn pages_after_many_cursors_read_together(backend: Backend) {
    use dvc_persistence::dossier_lists::{self as d, Cursor, DossierFilter};
    let app = TestApp::start(backend);
    dvc_api::seed::synthetic::load(&mut app.conn(), 40, 3000).unwrap();
    let mut conn = app.conn();
    let every = DossierFilter { exclude_drafts: true, ..Default::default() };
    let officer = dvc_persistence::accounts::find_by_username(&mut conn, dvc_api::seed::synthetic::OFFICER)
        .unwrap()
        .expect("the officer");
    let agency = DossierFilter { agency_id: officer.agency_id, ..every.clone() };
    let busy = dvc_persistence::accounts::find_by_username(&mut conn, dvc_api::seed::synthetic::BUSY_APPLICANT)
        .unwrap()
        .expect("the busy applicant");
    let applicant = DossierFilter { applicant_id: Some(busy.id), ..Default::default() };
    // Where each asked page starts (the row before it gives the cursor), with its size.
    let mut asked: Vec<(DossierFilter, i64, i64)> = Vec::new();
    for f in [&every, &agency] {
        let all = d::list_page(&mut conn, f, 0, 100_000).unwrap();
        let dated_rows = all.iter().filter(|r| r.due_date.is_some()).count() as i64;
        assert!(
            dated_rows > 60 && all.len() as i64 > dated_rows + 3,
            "both kinds of rows: {dated_rows} of {}",
            all.len()
        );
        for start in [1, 17, 40, dated_rows - 5, dated_rows + 3] {
            asked.push((f.clone(), start, 20));
        }
        asked.push((f.clone(), 9, 7));
    }
    asked.push((applicant.clone(), 1, 2));
    let cursors: Vec<Cursor> = asked
        .iter()
        .map(|(f, start, _)| {
            let before = d::list_page(&mut conn, f, start - 1, 1).unwrap();
            Cursor::after(f, &before[0]).expect("a submitted dossier")
        })
        .collect();
    let pages: Vec<(&DossierFilter, &Cursor, i64)> =
        asked.iter().zip(&cursors).map(|((f, _, size), c)| (f, c, *size)).collect();
    let together = d::list_pages_after(&mut conn, &pages).unwrap();
    assert_eq!(together.len(), asked.len());
    let ids = |rows: &[dvc_persistence::dossiers::DossierRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    for (((f, start, size), cursor), page) in asked.iter().zip(&cursors).zip(&together) {
        let alone = d::list_page_after(&mut conn, f, cursor, *size).unwrap();
        let by_number = d::list_page(&mut conn, f, *start, *size).unwrap();
        assert_eq!(ids(page), ids(&alone), "{f:?} from {start}");
        assert_eq!(ids(page), ids(&by_number), "{f:?} from {start}");
        assert!(!page.is_empty());
    }
}

on_both_backends!(pages_after_many_cursors_read_together);

/// Statements that take a list of keys (accounts, public tracking) answer alike for
/// every number of keys: lists of 1 to 64 parameters, longer ones in runs of 64, a short list
/// filled up with its last key.
fn lists_of_keys_of_any_length(backend: Backend) {
    use std::collections::BTreeSet;
    let app = TestApp::start(backend);
    dvc_api::seed::synthetic::load(&mut app.conn(), 40, 300).unwrap();
    let mut conn = app.conn();
    let page = dvc_persistence::dossier_lists::DossierFilter { exclude_drafts: true, ..Default::default() };
    let rows = dvc_persistence::dossier_lists::list_page(&mut conn, &page, 0, 150).unwrap();
    let accounts: Vec<String> = {
        let mut ids: Vec<String> = rows.iter().filter_map(|r| r.applicant_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    assert!(accounts.len() > 70, "{} applicants", accounts.len());
    for n in [1, 2, 3, 5, 63, 64, 65, 70] {
        let mut asked: Vec<String> = accounts[..n].to_vec();
        asked.push("no-such-account".into());
        let found: BTreeSet<String> =
            dvc_persistence::accounts::find_many(&mut conn, &asked).unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(found, accounts[..n].iter().cloned().collect::<BTreeSet<_>>(), "{n} accounts");
        let codes: Vec<String> = rows[..n].iter().filter_map(|r| r.code.clone()).collect();
        let tracked: BTreeSet<String> =
            dvc_persistence::dossiers::tracking(&mut conn, &codes).unwrap().into_iter().map(|t| t.code).collect();
        assert_eq!(tracked, codes.iter().cloned().collect::<BTreeSet<_>>(), "{n} codes");
    }
}

on_both_backends!(lists_of_keys_of_any_length);
