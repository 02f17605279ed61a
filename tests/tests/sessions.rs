//! Sessions: growing waits after wrong passwords, rate limits, refresh-token rotation, logout, password reset, the profile,
//! and staff accounts.

use serde_json::{json, Value};

use crate::accounts::{register_citizen, start, PASSWORD};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn token_request(app: &TestApp, username: &str, password: &str) -> reqwest::blocking::Response {
    app.post("/api/v1/auth/token", &json!({"username": username, "password": password}), None)
}

/// Wrong passwords slow down the (username, address) pair that sends them, growing with each one,
/// and lock nobody out: the owner signs in from elsewhere at once, and a username that is no
/// one's is answered the same.
fn failures_slow_the_sender_and_lock_out_nobody(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.trust_forwarded = true);
    let user = register_citizen(&app, "001099012345", "0912345678");
    let from = |address: &str, username: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .header("x-forwarded-for", address)
            .json(&json!({"username": username, "password": password}))
            .send()
            .unwrap()
    };
    let attacker = "203.0.113.66";
    let nobody = "001099099999";
    for username in [user.as_str(), nobody] {
        for _ in 0..3 {
            assert_problem(from(attacker, username, "Sai@mat-khau1"), 401, "unauthorized");
        }
        let res = from(attacker, username, PASSWORD);
        assert_eq!(res.headers()["retry-after"], "1", "{username}");
        assert_problem(res, 429, "too_many_attempts");
    }
    // The owner, from another address, is not held back.
    assert_eq!(from("198.51.100.20", &user, PASSWORD).status(), 200);

    // Each further failure doubles the wait.
    let expire = || {
        use diesel::prelude::*;
        use dvc_persistence::schema::sign_in_failures::dsl as f;
        let past = dvc_persistence::now() - chrono::Duration::seconds(1);
        diesel::update(f::sign_in_failures).set(f::blocked_until.eq(past)).execute(&mut **app.conn()).unwrap();
    };
    expire();
    assert_problem(from(attacker, &user, "Sai@mat-khau1"), 401, "unauthorized");
    assert_eq!(from(attacker, &user, PASSWORD).headers()["retry-after"], "2");
    expire();
    assert_problem(from(attacker, &user, "Sai@mat-khau1"), 401, "unauthorized");
    assert_eq!(from(attacker, &user, PASSWORD).headers()["retry-after"], "4");
    // Once the wait is over, the right password works and the failures are forgotten.
    expire();
    assert_eq!(from(attacker, &user, PASSWORD).status(), 200);
    for _ in 0..2 {
        assert_problem(from(attacker, &user, "Sai@mat-khau1"), 401, "unauthorized");
    }
    assert_eq!(from(attacker, &user, PASSWORD).status(), 200);
}

fn auth_endpoints_are_rate_limited(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.auth_rate_per_minute = 3);
    for _ in 0..3 {
        assert_problem(token_request(&app, "nobody", "Sai@mat-khau1"), 401, "unauthorized");
    }
    let res = token_request(&app, "nobody", "Sai@mat-khau1");
    let retry: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_problem(res, 429, "rate_limited");
    let body = json!({"account_type": "citizen", "method": "phone", "full_name": "B", "id_number": "001099012346",
        "date_of_birth": "1999-01-01", "phone": "0912345679"});
    assert_problem(app.post("/api/v1/registrations", &body, None), 429, "rate_limited");
    // Other endpoints are not limited.
    assert_eq!(app.get("/api/v1/fields").status(), 200);
}

fn refresh_rotation_reuse_and_logout(backend: Backend) {
    let app = TestApp::start(backend);
    let user = register_citizen(&app, "001099012345", "0912345678");
    let first: Value = token_request(&app, &user, PASSWORD).json().unwrap();
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let second: Value = app.post("/api/v1/auth/refresh", &json!({"refresh_token": r1}), None).json().unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let me =
        app.with_token(app.client.get(app.url("/api/v1/me")), second["access_token"].as_str().unwrap()).send().unwrap();
    assert_eq!(me.status(), 200);
    // Reusing r1 is theft: the whole family goes, r2 included.
    assert_problem(app.post("/api/v1/auth/refresh", &json!({"refresh_token": r1}), None), 401, "unauthorized");
    assert_problem(app.post("/api/v1/auth/refresh", &json!({"refresh_token": r2}), None), 401, "unauthorized");
    // Logout revokes; other sessions stay.
    let a: Value = token_request(&app, &user, PASSWORD).json().unwrap();
    let b: Value = token_request(&app, &user, PASSWORD).json().unwrap();
    let res = app.post("/api/v1/auth/logout", &json!({"refresh_token": a["refresh_token"]}), None);
    assert_eq!(res.status(), 204);
    assert_problem(
        app.post("/api/v1/auth/refresh", &json!({"refresh_token": a["refresh_token"]}), None),
        401,
        "unauthorized",
    );
    assert_eq!(app.post("/api/v1/auth/refresh", &json!({"refresh_token": b["refresh_token"]}), None).status(), 200);
    assert_problem(app.post("/api/v1/auth/refresh", &json!({"refresh_token": "made-up"}), None), 401, "unauthorized");
}

fn password_reset_by_otp(backend: Backend) {
    let app = TestApp::start(backend);
    let user = register_citizen(&app, "001099012345", "0912345678");
    let session: Value = token_request(&app, &user, PASSWORD).json().unwrap();
    let res = app.post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), None);
    assert_eq!(res.status(), 202);
    let started: Value = res.json().unwrap();
    let reset_id = started["reset_id"].as_str().unwrap();
    let code = started["sandbox_otp"].as_str().unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": reset_id, "otp": wrong, "new_password": "Moi@matkhau9"}),
        None,
    );
    assert_problem(res, 400, "validation_failed");
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": reset_id, "otp": code, "new_password": "weak"}),
        None,
    );
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "new_password");
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": reset_id, "otp": code, "new_password": "Moi@matkhau9"}),
        None,
    );
    assert_eq!(res.status(), 204);
    assert_problem(token_request(&app, &user, PASSWORD), 401, "unauthorized");
    assert_eq!(token_request(&app, &user, "Moi@matkhau9").status(), 200);
    assert_problem(
        app.post("/api/v1/auth/refresh", &json!({"refresh_token": session["refresh_token"]}), None),
        401,
        "unauthorized",
    );
    // The code works once.
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": reset_id, "otp": code, "new_password": "Khac@matkhau9"}),
        None,
    );
    assert_problem(res, 400, "validation_failed");
    // An unknown name gets the same answer and changes nothing.
    let res = app.post("/api/v1/auth/password-reset", &json!({"username": "079301099999"}), None);
    assert_eq!(res.status(), 202);
    let fake: Value = res.json().unwrap();
    assert!(fake["reset_id"].is_string() && fake["otp_expires_at"].is_string());
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": fake["reset_id"], "otp": fake["sandbox_otp"], "new_password": "Moi@matkhau9"}),
        None,
    );
    assert_problem(res, 400, "validation_failed");
}

fn profile_declare_once(backend: Backend) {
    let app = TestApp::seeded(backend);
    let user = register_citizen(&app, "001099012345", "0912345678");
    let token = app.sign_in(&user, PASSWORD);
    assert_problem(app.get("/api/v1/me"), 401, "unauthorized");
    let res = app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap();
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let me: Value = res.json().unwrap();
    assert_eq!(me["full_name"], "Nguyễn Văn An");
    assert_eq!(me["date_of_birth"], "1999-05-01");
    let patch = json!({"email": "an@example.vn", "address": {"province_code": "01", "commune_code": "00070", "street": "Số 1 Tràng Tiền"}});
    let res = app
        .with_token(app.client.patch(app.url("/api/v1/me")), &token)
        .header("if-match", &etag)
        .json(&patch)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().unwrap();
    assert_eq!(updated["address"]["commune_code"], "00070");
    assert_eq!(updated["email"], "an@example.vn");
    assert_eq!(updated["version"], 2);
    let res = app
        .with_token(app.client.patch(app.url("/api/v1/me")), &token)
        .header("if-match", &etag)
        .json(&patch)
        .send()
        .unwrap();
    assert_problem(res, 412, "precondition_failed");
    for (body, field) in [
        (json!({"id_number": "001099099999"}), "id_number"),
        (json!({"full_name": "Người khác"}), "full_name"),
        (json!({"address": {"province_code": "01", "commune_code": "26743"}}), "address.commune_code"),
        (json!({"address": {"province_code": "99"}}), "address.province_code"),
        (json!({"phone": "12345"}), "phone"),
        (json!({"role": "admin"}), "role"),
    ] {
        let res = app.with_token(app.client.patch(app.url("/api/v1/me")), &token).json(&body).send().unwrap();
        let problem = assert_problem(res, 400, "validation_failed");
        assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{field} in {problem}");
    }
    let me: Value = app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap().json().unwrap();
    assert_eq!(me["id_number"], "001099012345", "unchanged");
    assert_eq!(me["role"], "citizen");
    assert_eq!(me["version"], 2);
}

fn staff_accounts(backend: Backend) {
    let app = TestApp::seeded(backend);
    let admin = app.admin_token();
    let agency =
        app.get_json("/api/v1/agencies?q=so%20tu%20phap%20ha%20noi")["items"][0]["id"].as_str().unwrap().to_string();
    let body = json!({"username": "canbo.tuphap", "full_name": "Trần Thị Bình", "agency_id": agency, "role": "officer", "password": PASSWORD});
    let res = app.post("/api/v1/admin/staff", &body, Some(&admin));
    assert_eq!(res.status(), 201);
    let officer: Value = res.json().unwrap();
    assert_eq!(officer["agency_id"], agency.as_str());
    assert_problem(app.post("/api/v1/admin/staff", &body, Some(&admin)), 409, "conflict");
    let res = app.post(
        "/api/v1/admin/staff",
        &json!({"username": "x", "full_name": "", "role": "officer", "password": "weak"}),
        Some(&admin),
    );
    let problem = assert_problem(res, 400, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["username", "full_name", "agency_id", "password"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let token = app.sign_in("canbo.tuphap", PASSWORD);
    // The officer's token carries the agency; officers are not administrators.
    let me: Value = app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap().json().unwrap();
    assert_eq!(me["agency_id"], agency.as_str());
    assert_eq!(me["role"], "officer");
    assert_problem(app.post("/api/v1/admin/staff", &body, Some(&token)), 403, "forbidden");
    let list = app
        .with_token(app.client.get(app.url(&format!("/api/v1/admin/staff?agency_id={agency}"))), &admin)
        .send()
        .unwrap();
    let list: Value = list.json().unwrap();
    assert_eq!(list["total"], 1);
    // Disabled officers cannot sign in; enabled again, they can.
    let id = officer["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/admin/staff/{id}/disable"), &json!({}), Some(&admin));
    assert_eq!(res.json::<Value>().unwrap()["disabled"], true);
    assert_problem(token_request(&app, "canbo.tuphap", PASSWORD), 401, "unauthorized");
    assert_problem(app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap(), 401, "unauthorized");
    app.post(&format!("/api/v1/admin/staff/{id}/enable"), &json!({}), Some(&admin));
    assert_eq!(token_request(&app, "canbo.tuphap", PASSWORD).status(), 200);
    assert_problem(app.post("/api/v1/admin/staff/nope/disable", &json!({}), Some(&admin)), 404, "not_found");
    // Citizens are not staff.
    let user = register_citizen(&app, "001099012345", "0912345678");
    let citizen = app.sign_in(&user, PASSWORD);
    assert_problem(
        app.with_token(app.client.get(app.url("/api/v1/admin/staff")), &citizen).send().unwrap(),
        403,
        "forbidden",
    );
    let started = start(
        &app,
        json!({"account_type": "citizen", "method": "phone", "full_name": "B", "id_number": "001099012346", "date_of_birth": "1999-01-01", "phone": "0912345679"}),
    );
    assert!(started["id"].is_string());
}

/// Password hashing has a share of its own: beyond it sign-in answers 503 with `Retry-After` at
/// once instead of queueing hashes of 19 MiB each without end; the rest of the service answers.
fn password_hashing_is_shed_beyond_its_share(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.hashing_running = 0);
    let res = token_request(&app, "001099012345", PASSWORD);
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "busy");
    assert_eq!(app.get("/healthz").status(), 200);
}

/// An administrator's token is checked against the account on every request: once the account is
/// disabled, the token it still holds can neither read nor re-enable it nor create anyone.
fn a_disabled_administrator_is_refused_at_once(backend: Backend) {
    let app = TestApp::seeded(backend);
    let admin = app.admin_token();
    let body = json!({"username": "quantri.hai", "full_name": "Quản trị hai", "role": "admin", "password": PASSWORD});
    let res = app.post("/api/v1/admin/staff", &body, Some(&admin));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let id = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let second = app.sign_in("quantri.hai", PASSWORD);
    let list = |token: &str| app.with_token(app.client.get(app.url("/api/v1/admin/staff")), token).send().unwrap();
    assert_eq!(list(&second).status(), 200);
    let res = app.post(&format!("/api/v1/admin/staff/{id}/disable"), &json!({}), Some(&admin));
    assert_eq!(res.json::<Value>().unwrap()["disabled"], true);
    assert_problem(list(&second), 401, "unauthorized");
    assert_problem(
        app.post(&format!("/api/v1/admin/staff/{id}/enable"), &json!({}), Some(&second)),
        401,
        "unauthorized",
    );
    let another = json!({"username": "quantri.ba", "full_name": "Quản trị ba", "role": "admin", "password": PASSWORD});
    assert_problem(app.post("/api/v1/admin/staff", &another, Some(&second)), 401, "unauthorized");
    assert_eq!(list(&admin).status(), 200, "the other administrator is served");
}

/// Every signed-in request checks its session: signing out, signing out everywhere, a password
/// reset, a disabled account and a changed role stop the access tokens already issued, at once.
fn sessions_end_when_they_should(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = crate::dossiers::actors(&app);
    let me = |token: &str| app.with_token(app.client.get(app.url("/api/v1/me")), token).send().unwrap();
    let user = "001099012345";
    let pair = || token_request(&app, user, PASSWORD).json::<Value>().unwrap();
    let (first, second, third) = (pair(), pair(), pair());
    let access = |t: &Value| t["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(&access(&first)).status(), 200);
    // Signing out ends that session's access token, not the others'.
    let res = app.post("/api/v1/auth/logout", &json!({"refresh_token": first["refresh_token"]}), None);
    assert_eq!(res.status(), 204);
    assert_problem(me(&access(&first)), 401, "unauthorized");
    assert_eq!(me(&access(&second)).status(), 200);
    // A token that names no session (or one of another account) is refused.
    let keys = dvc_api::auth::TokenKeys::new("test-secret-for-the-dvc-test-suite-0123456789", &[], 600);
    let claims: Value = {
        let payload = access(&second).split('.').nth(1).unwrap().to_string();
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    let sessionless = keys
        .issue(
            claims["sub"].as_str().unwrap(),
            dvc_domain::auth::Role::Citizen,
            dvc_domain::auth::AccountType::Citizen,
            dvc_domain::auth::Assurance::Medium,
            None,
            None,
        )
        .unwrap();
    assert_problem(me(&sessionless), 401, "unauthorized");
    let officer_session = {
        let payload = a.officer.split('.').nth(1).unwrap().to_string();
        use base64::Engine;
        let c: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        c["sid"].as_str().unwrap().to_string()
    };
    let borrowed = keys
        .issue(
            claims["sub"].as_str().unwrap(),
            dvc_domain::auth::Role::Citizen,
            dvc_domain::auth::AccountType::Citizen,
            dvc_domain::auth::Assurance::Medium,
            None,
            Some(&officer_session),
        )
        .unwrap();
    assert_problem(me(&borrowed), 401, "unauthorized");
    // Signing out everywhere ends every session of the account, refresh tokens included.
    let res = app.with_token(app.client.post(app.url("/api/v1/auth/logout-all")), &access(&second)).send().unwrap();
    assert_eq!(res.status(), 204);
    for t in [&second, &third] {
        assert_problem(me(&access(t)), 401, "unauthorized");
        assert_problem(
            app.post("/api/v1/auth/refresh", &json!({"refresh_token": t["refresh_token"]}), None),
            401,
            "unauthorized",
        );
    }
    assert_eq!(me(&a.officer).status(), 200, "other accounts are untouched");
    // A password reset ends the sessions opened before it.
    let before = pair();
    let started: Value = app.post("/api/v1/auth/password-reset", &json!({"username": user}), None).json().unwrap();
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": started["reset_id"], "otp": started["sandbox_otp"], "new_password": "Moi@matkhau9"}),
        None,
    );
    assert_eq!(res.status(), 204);
    assert_problem(me(&access(&before)), 401, "unauthorized");
    // A disabled officer's token moves nothing; nor does one whose role changed.
    let d = crate::dossiers::submitted(
        &app,
        &crate::dossiers::Actors {
            citizen: app.sign_in(user, "Moi@matkhau9"),
            officer: a.officer.clone(),
            agency_id: a.agency_id.clone(),
            procedure_id: a.procedure_id.clone(),
        },
    );
    let id = d["id"].as_str().unwrap();
    let admin = app.admin_token();
    let officer_id: String = {
        use diesel::prelude::*;
        use dvc_persistence::schema::accounts::dsl as acc;
        acc::accounts.filter(acc::username.eq("canbo.hotich")).select(acc::id).first(&mut **app.conn()).unwrap()
    };
    let second_officer = app.sign_in("canbo.hotich", crate::support::ADMIN_PASSWORD);
    let res = app.post(&format!("/api/v1/admin/staff/{officer_id}/disable"), &json!({}), Some(&admin));
    assert_eq!(res.status(), 200);
    let move_ = |token: &str| {
        app.post(
            &format!("/api/v1/dossiers/{id}/transitions"),
            &json!({"action": "reject", "reason": "Thiếu giấy tờ"}),
            Some(token),
        )
    };
    assert_problem(move_(&a.officer), 401, "unauthorized");
    app.post(&format!("/api/v1/admin/staff/{officer_id}/enable"), &json!({}), Some(&admin));
    let fresh = app.sign_in("canbo.hotich", crate::support::ADMIN_PASSWORD);
    {
        use diesel::prelude::*;
        use dvc_persistence::schema::accounts::dsl as acc;
        diesel::update(acc::accounts.filter(acc::id.eq(&officer_id)))
            .set(acc::role.eq("admin"))
            .execute(&mut **app.conn())
            .unwrap();
    }
    assert_problem(move_(&fresh), 401, "unauthorized");
    assert_problem(move_(&second_officer), 401, "unauthorized");
    let status =
        app.get_json_with(&format!("/api/v1/dossiers/{id}"), &app.sign_in(user, "Moi@matkhau9"))["status"].clone();
    assert_eq!(status, "submitted", "nothing moved");
}

/// Password reset stays the owner's: another address's requests use up only their own share, the
/// answers never say whether a code went out, and the requester's daily share is the requester's.
fn resets_cannot_be_used_up_by_someone_else(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.trust_forwarded = true);
    let user = register_citizen(&app, "001099012345", "0912345678");
    let reset = |address: &str, username: &str| {
        app.client
            .post(app.url("/api/v1/auth/password-reset"))
            .header("x-forwarded-for", address)
            .json(&json!({"username": username}))
            .send()
            .unwrap()
    };
    let codes = || {
        dvc_persistence::outbox::for_recipient(&mut app.conn(), "+84912345678")
            .unwrap()
            .iter()
            .filter(|n| n.purpose.0 == dvc_domain::notify::Purpose::PasswordResetOtp)
            .count()
    };
    let attacker = "203.0.113.77";
    for _ in 0..7 {
        let res = reset(attacker, &user);
        assert_eq!(res.status(), 202);
        let body: Value = res.json().unwrap();
        assert!(body["reset_id"].is_string() && body["otp_expires_at"].is_string());
    }
    assert_eq!(codes(), 5, "five codes at one address's request, then none, silently");
    // The owner, from home, still gets a working code.
    let res = reset("198.51.100.9", &user);
    assert_eq!(res.status(), 202);
    assert_eq!(codes(), 6);
    let started: Value = res.json().unwrap();
    let res = app.post(
        "/api/v1/auth/password-reset/confirm",
        &json!({"reset_id": started["reset_id"], "otp": started["sandbox_otp"], "new_password": "Moi@matkhau9"}),
        None,
    );
    assert_eq!(res.status(), 204);
    // The asking address has its own share of requests, whatever name it asks for.
    for _ in 0..3 {
        assert_eq!(reset(attacker, "001099099999").status(), 202);
    }
    let res = reset(attacker, "001099099998");
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited");
    assert_eq!(reset("198.51.100.10", "001099099998").status(), 202, "others are not held back");
}

on_both_backends!(
    resets_cannot_be_used_up_by_someone_else,
    sessions_end_when_they_should,
    a_disabled_administrator_is_refused_at_once,
    password_hashing_is_shed_beyond_its_share,
    failures_slow_the_sender_and_lock_out_nobody,
    auth_endpoints_are_rate_limited,
    refresh_rotation_reuse_and_logout,
    password_reset_by_otp,
    profile_declare_once,
    staff_accounts,
);
