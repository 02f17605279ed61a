//! Hostile input: forged tokens, mass assignment, oversized and deeply nested bodies, paging
//! beyond limits, malformed multipart, garbage identifiers, and every dossier route walked as a
//! stranger. Each is a clear 4xx and changes nothing.

use base64::Engine;
use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::dossiers::{actors, submitted};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn get_with(app: &TestApp, path: &str, token: &str) -> reqwest::blocking::Response {
    app.with_token(app.client.get(app.url(path)), token).send().unwrap()
}

fn forged_tokens_are_refused(backend: Backend) {
    let app = TestApp::seeded(backend);
    let real = app.admin_token();
    let claims = real.split('.').nth(1).unwrap();
    let header = real.split('.').next().unwrap();
    let none = format!("{}.{claims}.", b64(&json!({"alg": "none", "typ": "JWT"})));
    let hs512 = format!("{}.{claims}.{}", b64(&json!({"alg": "HS512", "typ": "JWT"})), "c2ln");
    let resigned = {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"another-secret-of-an-attacker-0000000");
        let tag = ring::hmac::sign(&key, format!("{header}.{claims}").as_bytes());
        format!("{header}.{claims}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    let mut tampered_claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    tampered_claims["role"] = json!("admin");
    tampered_claims["sub"] = json!("someone-else");
    let tampered = format!("{header}.{}.{}", b64(&tampered_claims), real.split('.').nth(2).unwrap());
    for token in [none.as_str(), hs512.as_str(), resigned.as_str(), tampered.as_str(), "abc", "a.b.c", ""] {
        assert_problem(get_with(&app, "/api/v1/admin/staff", token), 401, "unauthorized");
    }
    assert_eq!(get_with(&app, "/api/v1/admin/staff", &real).status(), 200);
}

fn bodies_beyond_reason_are_refused(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    let draft = crate::dossiers::draft(&app, &a);
    let draft_id = draft["id"].as_str().unwrap();

    // Mass assignment: a PATCH cannot set status, owner, code or agency.
    for field in
        [json!({"status": "returned"}), json!({"applicant_id": "x"}), json!({"code": "X-1"}), json!({"agency_id": "x"})]
    {
        let res = app
            .with_token(app.client.patch(app.url(&format!("/api/v1/dossiers/{draft_id}"))), &a.citizen)
            .json(&field)
            .send()
            .unwrap();
        assert_problem(res, 400, "validation_failed");
    }
    let after = get_with(&app, &format!("/api/v1/dossiers/{draft_id}"), &a.citizen).json::<Value>().unwrap();
    assert_eq!((after["status"].clone(), after["version"].clone()), (json!("draft"), draft["version"].clone()));

    // Deep nesting and oversized bodies.
    let deep = format!("{{\"form_data\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/dossiers/{draft_id}"))), &a.citizen)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .unwrap();
    assert_problem(res, 400, "validation_failed");
    let huge = format!("{{\"reason\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let res = app
        .with_token(app.client.post(app.url(&format!("/api/v1/dossiers/{id}/withdraw"))), &a.citizen)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .unwrap();
    assert_eq!(res.status(), 413);
    let res = app
        .with_token(app.client.post(app.url(&format!("/api/v1/dossiers/{id}/withdraw"))), &a.citizen)
        .header("content-type", "application/json")
        .body("{\"reason\": ")
        .send()
        .unwrap();
    assert_problem(res, 400, "validation_failed");

    // Malformed multipart.
    let res = app
        .with_token(app.client.post(app.url(&format!("/api/v1/dossiers/{draft_id}/attachments"))), &a.citizen)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated")
        .send()
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());

    // Paging beyond limits.
    for query in ["per_page=101", "per_page=0", "page=0", "page=100001", "page=-1", "per_page=abc"] {
        assert_problem(app.get(&format!("/api/v1/procedures?{query}")), 400, "validation_failed");
        assert_problem(get_with(&app, &format!("/api/v1/me/dossiers?{query}"), &a.citizen), 400, "validation_failed");
    }

    // Garbage identifiers are simply not found.
    for garbage in ["%00", "..%2F..%2Fetc%2Fpasswd", "'%20OR%201=1--", &"9".repeat(5000), "%F0%9F%92%A3"] {
        let res = get_with(&app, &format!("/api/v1/dossiers/{garbage}"), &a.citizen);
        assert!(matches!(res.status().as_u16(), 400 | 404 | 414), "{garbage}: {}", res.status());
        let res = app.get(&format!("/api/v1/dossiers/lookup?code={garbage}"));
        assert!(matches!(res.status().as_u16(), 400 | 404 | 414), "{garbage}: {}", res.status());
    }
    let still = get_with(&app, &format!("/api/v1/dossiers/{id}"), &a.citizen).json::<Value>().unwrap();
    assert_eq!(still["status"], "submitted");
}

/// Every operation on a dossier's paths, called by another applicant on someone else's dossier,
/// answers 4xx and leaves the dossier as it was.
fn every_dossier_route_refuses_strangers(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    let attachment = d["attachments"][0]["id"].as_str().unwrap();
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    let before = get_with(&app, &format!("/api/v1/dossiers/{id}"), &a.citizen).json::<Value>().unwrap();
    let spec: Value = app.get_json("/api-docs/openapi.json");
    let mut walked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/dossiers/{id}") {
            continue;
        }
        let url = path
            .replace("{id}", id)
            .replace("{attachment_id}", attachment)
            .replace("{result_id}", attachment)
            .replace("{payment_id}", attachment);
        for method in operations.as_object().unwrap().keys() {
            let multipart = || {
                reqwest::blocking::multipart::Form::new().text("document_id", "TK-KS").part(
                    "file",
                    reqwest::blocking::multipart::Part::bytes(crate::dossiers::pdf("x")).file_name("x.pdf"),
                )
            };
            let builder = match method.as_str() {
                "post" if path.ends_with("/attachments") || path.ends_with("/results") => {
                    app.client.post(app.url(&url)).multipart(multipart())
                }
                "get" => app.client.get(app.url(&url)),
                "post" => {
                    // A body each operation accepts, so that only the caller is wrong.
                    let body = match path.rsplit('/').next().unwrap_or_default() {
                        "payments" => json!({"provider": "sandbox"}),
                        "transitions" => json!({"action": "receive"}),
                        "withdraw" => json!({"reason": "Không cần nữa"}),
                        "rating" => json!({"score": 5}),
                        "revoke" => json!({"reason": "Cấp nhầm"}),
                        _ => json!({}),
                    };
                    app.client.post(app.url(&url)).json(&body)
                }
                "patch" => app.client.patch(app.url(&url)).json(&json!({"form_data": {}})),
                "put" => app.client.put(app.url(&url)).json(&json!({})),
                "delete" => app.client.delete(app.url(&url)),
                _ => continue,
            };
            let res = app.with_token(builder, &stranger).send().unwrap();
            let status = res.status().as_u16();
            assert!(matches!(status, 403 | 404), "{method} {path} as a stranger: {status}");
            walked += 1;
        }
    }
    assert!(walked >= 12, "only {walked} operations walked");
    let after = get_with(&app, &format!("/api/v1/dossiers/{id}"), &a.citizen).json::<Value>().unwrap();
    assert_eq!(after, before, "nothing changed");
}

/// The public lookup by code is limited per client address: past the quota 429 with
/// `Retry-After`, while another address is still served. Behind a trusted proxy the address is
/// the one the proxy appended, so a client cannot pose as another by writing its own.
fn lookups_are_limited_per_address(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| {
        c.lookup_rate_per_minute = 5;
        c.trust_forwarded = true;
        c.trusted_proxy_hops = 1;
    });
    let a = actors(&app);
    let code = submitted(&app, &a)["code"].as_str().unwrap().to_string();
    let lookup = |forwarded: &str| {
        app.client
            .get(app.url(&format!("/api/v1/dossiers/lookup?code={code}")))
            .header("x-forwarded-for", forwarded)
            .send()
            .unwrap()
    };
    for i in 0..5 {
        // The client writes a different address of its own each time: it changes nothing.
        let res = lookup(&format!("10.9.8.{i}, 198.51.100.7"));
        assert_eq!(res.status(), 200, "lookup {i}");
    }
    let res = lookup("10.9.8.99, 198.51.100.7");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_problem(res, 429, "rate_limited");
    // Another client, as the proxy saw it, is served.
    assert_eq!(lookup("198.51.100.8").status(), 200);
}

/// Sends the head of an upload and the first bytes of its body, and reads the answer the server
/// gives without waiting for the rest.
fn answer_to_a_partial_upload(app: &TestApp, path: &str, token: &str, declared: usize) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: dvc\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let part = "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\
                Content-Type: application/pdf\r\n\r\n%PDF-1.7\n";
    stream.write_all(part.as_bytes()).unwrap();
    stream.write_all(&[b'x'; 4096]).unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).expect("an answer before the body is sent");
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

/// What one upload can cost is bounded before it is read: a stranger's upload is refused from its
/// head, a body declared over the limit at once; parts an operation does not name, more parts
/// than allowed and a second file are refused.
fn uploads_are_refused_before_they_are_read(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let d = crate::dossiers::draft(&app, &a);
    let id = d["id"].as_str().unwrap();
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    let path = format!("/api/v1/dossiers/{id}/attachments");
    // Nine MiB announced, four KiB sent: the answer comes without the rest.
    let answer = answer_to_a_partial_upload(&app, &path, &stranger, 9 << 20);
    assert!(answer.starts_with("HTTP/1.1 404"), "a stranger's upload: {answer}");
    let answer = answer_to_a_partial_upload(&app, &format!("/api/v1/dossiers/{id}/results"), &a.citizen, 9 << 20);
    assert!(answer.starts_with("HTTP/1.1 403"), "a result from the applicant: {answer}");
    let answer = answer_to_a_partial_upload(&app, &path, &a.citizen, 200 << 20);
    assert!(answer.starts_with("HTTP/1.1 413"), "two hundred MiB announced: {answer}");

    let send = |form: reqwest::blocking::multipart::Form| {
        app.with_token(app.client.post(app.url(&path)), &a.citizen).multipart(form).send().unwrap()
    };
    let file = || reqwest::blocking::multipart::Part::bytes(crate::dossiers::pdf("x")).file_name("x.pdf");
    let form = reqwest::blocking::multipart::Form::new().text("document_id", "TK-KS").part("evil", file());
    let body = assert_problem(send(form), 400, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "unknown_part");
    let mut form = reqwest::blocking::multipart::Form::new();
    for _ in 0..9 {
        form = form.text("document_id", "TK-KS");
    }
    let body = assert_problem(send(form), 400, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "too_many_parts");
    let form = reqwest::blocking::multipart::Form::new()
        .text("document_id", "TK-KS")
        .part("file", file())
        .part("file", file());
    let body = assert_problem(send(form), 400, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "one_file");
    let form = reqwest::blocking::multipart::Form::new().text("document_id", "TK-KS").part("file", file());
    assert_eq!(send(form).status(), 201, "a proper upload still goes through");
    let own = app.get_json_with(&format!("/api/v1/dossiers/{id}"), &a.citizen);
    assert_eq!(own["attachments"].as_array().unwrap().len(), 1, "only the proper upload was kept");
}

/// Registration, OTP resend and password reset need a solved proof-of-work challenge when
/// challenges are on; each solution serves once, and a wrong or foreign one is refused.
fn codes_are_sent_only_for_a_solved_challenge(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.challenge = true;
        c.challenge_max_number = 5_000;
    });
    let registration = json!({"account_type": "citizen", "method": "phone", "full_name": "Nguyễn Văn An",
        "id_number": "001099012345", "date_of_birth": "1999-05-01", "phone": "0912345678"});
    let post = |path: &str, body: &Value, solution: Option<&str>| {
        let mut req = app.client.post(app.url(path)).json(body);
        if let Some(s) = solution {
            req = req.header("x-challenge-solution", s);
        }
        req.send().unwrap()
    };
    assert_problem(post("/api/v1/registrations", &registration, None), 428, "challenge_required");
    assert_problem(
        post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), None),
        428,
        "challenge_required",
    );
    let solved = || {
        let res = app.get("/api/v1/challenges");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let c: dvc_api::challenge::Challenge = res.json().unwrap();
        assert_eq!((c.algorithm.as_str(), c.maxnumber), ("SHA-256", 5_000));
        let number = dvc_api::challenge::solve(&c).expect("a solution within maxnumber");
        let solution = json!({"algorithm": c.algorithm, "challenge": c.challenge, "number": number,
            "salt": c.salt, "signature": c.signature});
        (solution.clone(), base64::engine::general_purpose::STANDARD.encode(solution.to_string()))
    };
    let (solution, header) = solved();
    let res = post("/api/v1/registrations", &registration, Some(&header));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let id = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    // Used once: the same solution is refused, on this server and on another.
    let mut wrong = solution.clone();
    wrong["number"] = json!(solution["number"].as_u64().unwrap() + 1);
    let again = post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), Some(&header));
    assert_problem(again, 400, "challenge_failed");
    let second = app.second_instance_with(|c| c.challenge = true);
    let res = second
        .client
        .post(second.url("/api/v1/auth/password-reset"))
        .header("x-challenge-solution", &header)
        .json(&json!({"username": "0912345678"}))
        .send()
        .unwrap();
    assert_problem(res, 400, "challenge_failed");
    // A wrong number, garbage, or a challenge of another service are refused.
    let encode = |v: &Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    assert_problem(
        post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), Some(&encode(&wrong))),
        400,
        "challenge_failed",
    );
    assert_problem(
        post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), Some("%%%")),
        400,
        "challenge_failed",
    );
    let foreign = dvc_api::challenge::issue("another-service-secret", 10, chrono::Utc::now().timestamp());
    let n = dvc_api::challenge::solve(&foreign).unwrap();
    let foreign = json!({"algorithm": foreign.algorithm, "challenge": foreign.challenge, "number": n, "salt": foreign.salt, "signature": foreign.signature});
    assert_problem(
        post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), Some(&encode(&foreign))),
        400,
        "challenge_failed",
    );
    // A fresh solution serves the resend and the reset.
    let res = post(&format!("/api/v1/registrations/{id}/otp"), &json!({}), Some(&solved().1));
    assert_ne!(res.status(), 428);
    assert_ne!(res.status(), 400);
    let res = post("/api/v1/auth/password-reset", &json!({"username": "0912345678"}), Some(&solved().1));
    assert_eq!(res.status(), 202);
}

on_both_backends!(
    codes_are_sent_only_for_a_solved_challenge,
    uploads_are_refused_before_they_are_read,
    forged_tokens_are_refused,
    bodies_beyond_reason_are_refused,
    every_dossier_route_refuses_strangers,
    lookups_are_limited_per_address
);
