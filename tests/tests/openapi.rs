//! The committed openapi.yaml is what the code generates and what the server serves.

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

fn committed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
        .expect("openapi.yaml at the top level")
}

#[test]
fn committed_spec_is_current() {
    assert!(dvc_api::openapi::yaml() == committed(), "openapi.yaml is stale: run `make openapi` and commit it");
}

fn served_spec_equals_committed(backend: Backend) {
    let app = TestApp::start(backend);
    let served = app.get_json("/api-docs/openapi.json");
    let committed: serde_json::Value = serde_yaml::from_str(&committed()).unwrap();
    assert_eq!(served, committed);
    // Every operation documents its responses, and protected ones their error answers; public ones
    // say that they need no token.
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            let security = op["security"].as_array().unwrap_or_else(|| panic!("{method} {path} declares its security"));
            if !security.is_empty() {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path} documents 401 and 403"
                );
            }
        }
    }
    assert!(served["components"]["securitySchemes"]["bearer"].is_object());
}

on_both_backends!(served_spec_equals_committed);

/// Swagger UI shows summaries as plain text: they hold no Markdown, on one line; what needs
/// Markdown goes in the description, which it renders.
#[test]
fn summaries_are_plain_text_on_one_line() {
    let spec: serde_json::Value = serde_yaml::from_str(&committed()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let summary = op["summary"].as_str().unwrap_or_else(|| panic!("{method} {path} has a summary"));
            assert!(!summary.contains('`') && !summary.contains('\n'), "{method} {path}: {summary:?}");
        }
    }
}
