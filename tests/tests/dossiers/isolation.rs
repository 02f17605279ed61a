//! What one applicant, officer or agency may see and do of another's dossiers.

use serde_json::{json, Value};

use super::{actors, birth_form, pdf, submitted};
use crate::accounts::{register_citizen, PASSWORD};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn isolation(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let s = submitted(&app, &a);
    let id = s["id"].as_str().unwrap();
    let aid = s["attachments"][0]["id"].as_str().unwrap();
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    let other_agency = app.get_json("/api/v1/procedures/1.001193")["agencies"][1]["id"].as_str().unwrap().to_string();
    let outsider = app.officer_token("canbo.khac", Some(&other_agency));
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/dossiers/{id}"), None),
        ("PATCH", format!("/api/v1/dossiers/{id}"), Some(json!({"form_data": birth_form()}))),
        ("GET", format!("/api/v1/dossiers/{id}/history"), None),
        ("GET", format!("/api/v1/dossiers/{id}/attachments/{aid}"), None),
        ("DELETE", format!("/api/v1/dossiers/{id}/attachments/{aid}"), None),
        ("POST", format!("/api/v1/dossiers/{id}/submit"), Some(json!({}))),
        ("POST", format!("/api/v1/dossiers/{id}/withdraw"), Some(json!({"reason": "x"}))),
        ("POST", format!("/api/v1/dossiers/{id}/transitions"), Some(json!({"action": "receive"}))),
        ("GET", format!("/api/v1/dossiers/{id}/results/{aid}"), None),
    ];
    for (method, path, body) in &routes {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let send = |token: Option<&str>| {
            let mut b = app.client.request(m.clone(), app.url(path));
            if let Some(t) = token {
                b = app.with_token(b, t);
            }
            if let Some(body) = body {
                b = b.json(body);
            }
            b.send().unwrap()
        };
        assert_problem(send(None), 401, "unauthorized");
        assert_problem(send(Some(&stranger)), 404, "not_found");
        assert_problem(send(Some(&outsider)), 404, "not_found");
    }
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &stranger,
        &[("document_id", "GCS")],
        Some(("x.pdf", pdf("x"))),
    );
    assert_problem(res, 404, "not_found");
    let res = app.upload(&format!("/api/v1/dossiers/{id}/results"), &outsider, &[], Some(("x.pdf", pdf("x"))));
    assert_problem(res, 404, "not_found");
    // Inboxes and lists are each one's own.
    let inbox: Value =
        app.with_token(app.client.get(app.url("/api/v1/agency/dossiers")), &outsider).send().unwrap().json().unwrap();
    assert_eq!(inbox["total"], 0);
    let mine: Value =
        app.with_token(app.client.get(app.url("/api/v1/me/dossiers")), &stranger).send().unwrap().json().unwrap();
    assert_eq!(mine["total"], 0);
    assert_problem(
        app.with_token(app.client.get(app.url("/api/v1/agency/dossiers")), &stranger).send().unwrap(),
        403,
        "forbidden",
    );
    // Another applicant cannot reuse someone else's file.
    let d = {
        let body = json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": birth_form(), "delivery": {"method": "online"}});
        app.post("/api/v1/dossiers", &body, Some(&stranger)).json::<Value>().unwrap()
    };
    let res = app.upload(
        &format!("/api/v1/dossiers/{}/attachments", d["id"].as_str().unwrap()),
        &stranger,
        &[("document_id", "GCS"), ("file_id", s["attachments"][0]["file_id"].as_str().unwrap())],
        None,
    );
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "file_id");
    // Nothing changed on the dossier.
    let unchanged: Value = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}"))), &a.citizen)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(unchanged["status"], "submitted");
    assert_eq!(unchanged["version"], s["version"]);
}

on_both_backends!(isolation);
