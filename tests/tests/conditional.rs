//! Mobile apps save data: catalogue answers and list pages carry ETags and answer 304 to an
//! `If-None-Match` that names the current one, and a change gives a new ETag.

use serde_json::json;

use crate::dossiers::{actors, draft};
use crate::on_both_backends;
use crate::support::{Backend, TestApp};

fn get_if(app: &TestApp, path: &str, tag: Option<&str>, token: Option<&str>) -> reqwest::blocking::Response {
    let mut builder = app.client.get(app.url(path));
    if let Some(tag) = tag {
        builder = builder.header("if-none-match", tag);
    }
    if let Some(token) = token {
        builder = app.with_token(builder, token);
    }
    builder.send().unwrap()
}

fn header(res: &reqwest::blocking::Response, name: &str) -> String {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

fn catalogue_answers_revalidate(backend: Backend) {
    let app = TestApp::seeded(backend);
    for path in
        ["/api/v1/procedures?q=khai%20sinh", "/api/v1/procedures/1.001193", "/api/v1/fields", "/api/v1/agencies"]
    {
        let first = get_if(&app, path, None, None);
        assert_eq!(first.status(), 200, "{path}");
        let tag = header(&first, "etag");
        assert!(!tag.is_empty(), "{path} has an ETag");
        assert!(header(&first, "cache-control").contains("public"), "{path}");
        let again = get_if(&app, path, Some(&tag), None);
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(header(&again, "etag"), tag);
        assert!(again.bytes().unwrap().is_empty(), "no body");
        assert_eq!(get_if(&app, path, Some("\"something-else\""), None).status(), 200);
    }
    // A change to the catalogue (a holiday moves its version) gives new tags.
    let before = header(&get_if(&app, "/api/v1/fields", None, None), "etag");
    let admin = app.admin_token();
    let res = app
        .with_token(app.client.put(app.url("/api/v1/admin/holidays/2026-12-24")), &admin)
        .json(&json!({"name": "Nghỉ thử"}))
        .send()
        .unwrap();
    assert!(res.status().is_success());
    let after = get_if(&app, "/api/v1/fields", Some(&before), None);
    assert_eq!(after.status(), 200, "the old tag is stale");
    assert_ne!(header(&after, "etag"), before);
}

on_both_backends!(catalogue_answers_revalidate);

fn list_pages_revalidate(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    draft(&app, &a);
    let first = get_if(&app, "/api/v1/me/dossiers", None, Some(&a.citizen));
    assert_eq!(first.status(), 200);
    let tag = header(&first, "etag");
    assert!(!tag.is_empty());
    assert!(header(&first, "cache-control").contains("no-store"), "personal data stays out of shared caches");
    assert_eq!(get_if(&app, "/api/v1/me/dossiers", Some(&tag), Some(&a.citizen)).status(), 304);
    // Another dossier: the list moved.
    draft(&app, &a);
    let moved = get_if(&app, "/api/v1/me/dossiers", Some(&tag), Some(&a.citizen));
    assert_eq!(moved.status(), 200);
    assert_ne!(header(&moved, "etag"), tag);
    assert_eq!(moved.json::<serde_json::Value>().unwrap()["total"], 2);
    // The inbox too.
    let inbox = get_if(&app, "/api/v1/agency/dossiers", None, Some(&a.officer));
    let inbox_tag = header(&inbox, "etag");
    assert_eq!(get_if(&app, "/api/v1/agency/dossiers", Some(&inbox_tag), Some(&a.officer)).status(), 304);
}

on_both_backends!(list_pages_revalidate);
