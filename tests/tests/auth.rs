//! Staff sign-in and the token checks every protected endpoint relies on.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp, ADMIN_PASSWORD};

fn staff_sign_in_and_token_checks(backend: Backend) {
    let app = TestApp::seeded(backend);
    let token = app.admin_token();
    assert_eq!(token.split('.').count(), 3);

    let wrong = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": "Sai@12345"}))
        .send()
        .unwrap();
    assert_problem(wrong, 401, "unauthorized");
    let unknown = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "nobody", "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_problem(unknown, 401, "unauthorized");
    let missing = app.client.post(app.url("/api/v1/auth/token")).json(&json!({"username": "admin"})).send().unwrap();
    assert_eq!(assert_problem(missing, 400, "validation_failed")["errors"][0]["field"], "password");

    let body = json!({"code": "KIEM_TRA", "name": "Kiểm tra"});
    let post =
        |t: &str| app.with_token(app.client.post(app.url("/api/v1/admin/fields")), t).json(&body).send().unwrap();

    // A token signed with another key, an `alg: none` token, and a tampered payload are refused.
    let parts: Vec<&str> = token.split('.').collect();
    let forged_sig = format!("{}.{}.{}", parts[0], parts[1], "A".repeat(43));
    assert_problem(post(&forged_sig), 401, "unauthorized");
    let none_header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    assert_problem(post(&format!("{none_header}.{}.", parts[1])), 401, "unauthorized");
    let claims =
        String::from_utf8(base64url_decode(parts[1])).unwrap().replace("\"role\":\"admin\"", "\"role\":\"admin\" ");
    assert_problem(post(&format!("{}.{}.{}", parts[0], base64url(claims.as_bytes()), parts[2])), 401, "unauthorized");

    // Expired: a token issued with a negative lifetime, for the administrator's own account.
    let me: Value = app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap().json().unwrap();
    let admin_id = me["id"].as_str().unwrap().to_string();
    // The administrator's own session, as its token names it.
    let claims: Value = serde_json::from_slice(&base64url_decode(parts[1])).unwrap();
    let sid = claims["sid"].as_str().unwrap().to_string();
    let keys = dvc_api::auth::TokenKeys::new("test-secret-for-the-dvc-test-suite-0123456789", &[], -120);
    let expired = keys
        .issue(
            &admin_id,
            dvc_domain::auth::Role::Admin,
            dvc_domain::auth::AccountType::Staff,
            dvc_domain::auth::Assurance::High,
            None,
            Some(&sid),
        )
        .unwrap();
    assert_problem(post(&expired), 401, "unauthorized");
    // The same key with a normal lifetime works: the check above failed for expiry alone.
    let fresh = dvc_api::auth::TokenKeys::new("test-secret-for-the-dvc-test-suite-0123456789", &[], 600)
        .issue(
            &admin_id,
            dvc_domain::auth::Role::Admin,
            dvc_domain::auth::AccountType::Staff,
            dvc_domain::auth::Assurance::High,
            None,
            Some(&sid),
        )
        .unwrap();
    assert_eq!(post(&fresh).status(), 201);
    // A well-signed administrator's token for no administrator's account is refused: the role
    // claim alone is not trusted.
    let nobody = dvc_api::auth::TokenKeys::new("test-secret-for-the-dvc-test-suite-0123456789", &[], 600)
        .issue(
            "x",
            dvc_domain::auth::Role::Admin,
            dvc_domain::auth::AccountType::Staff,
            dvc_domain::auth::Assurance::High,
            None,
            Some(&sid),
        )
        .unwrap();
    assert_problem(post(&nobody), 401, "unauthorized");

    // English on request.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("accept-language", "en")
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .unwrap();
    assert_eq!(assert_problem(res, 401, "unauthorized")["detail"], "Wrong username or password");

    // A disabled account cannot sign in.
    let mut conn = app.conn();
    let mut account = dvc_persistence::accounts::find_by_username(&mut conn, "admin").unwrap().unwrap();
    account.disabled = true;
    dvc_persistence::accounts::update(&mut conn, &account).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_problem(res, 401, "unauthorized");
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let vals: Vec<u32> = text.bytes().filter_map(|c| A.iter().position(|a| *a == c).map(|p| p as u32)).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

on_both_backends!(staff_sign_in_and_token_checks);
