//! Registration by every method, sign-in, lockout, rate limits, refresh tokens, password reset,
//! profile and staff.

use std::sync::OnceLock;

use base64::Engine;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

pub const PASSWORD: &str = "Matkhau@2026";

/// Starts a registration and returns its answer.
pub fn start(app: &TestApp, body: Value) -> Value {
    let res = app.post("/api/v1/registrations", &body, None);
    assert_eq!(res.status(), 201, "registration {body}");
    res.json().unwrap()
}

fn citizen(id_number: &str, dob: &str, method: &str, phone: &str) -> Value {
    json!({"account_type": "citizen", "method": method, "full_name": "Nguyễn Văn An", "id_number": id_number,
           "date_of_birth": dob, "phone": phone, "email": "an.nguyen@example.vn", "bhxh_code": "0123456789"})
}

/// Registers a citizen by phone OTP and returns (username, password).
pub fn register_citizen(app: &TestApp, id_number: &str, phone: &str) -> String {
    let started = start(app, citizen(id_number, "1999-05-01", "phone", phone));
    let id = started["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": started["sandbox_otp"]}), None);
    assert_eq!(res.status(), 200);
    let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": PASSWORD}), None);
    assert_eq!(res.status(), 201);
    id_number.to_string()
}

fn registers_by_otp_methods(backend: Backend) {
    let app = TestApp::start(backend);
    for (i, method) in ["phone", "bhxh", "vnpost"].into_iter().enumerate() {
        let id_number = format!("00109901234{i}");
        let phone = format!("091234567{i}");
        let started = start(&app, citizen(&id_number, "1999-05-01", method, &phone));
        assert_eq!(started["next"], "verify_otp");
        assert_eq!(started["method"], method);
        assert_eq!(started["otp_sent_to"], format!("+84******67{i}"));
        let code = started["sandbox_otp"].as_str().unwrap().to_string();
        assert_eq!(code.len(), 6);
        let id = started["id"].as_str().unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let res = app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": wrong}), None);
        assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["code"], "wrong_otp");
        // Completing before the identity is proven is refused.
        let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": PASSWORD}), None);
        assert_problem(res, 409, "registration_closed");
        let res = app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": code}), None);
        assert_eq!(res.status(), 200);
        let verified: Value = res.json().unwrap();
        assert_eq!(verified["assurance"], "medium");
        for (weak, code) in [
            ("Sh0rt!", "weak_password"),
            ("matkhau2026!", "weak_password"),
            (&*format!("A!a{id_number}"), "password_contains_identifier"),
        ] {
            let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": weak}), None);
            assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["code"], code, "{weak}");
        }
        let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": PASSWORD}), None);
        assert_eq!(res.status(), 201);
        let created: Value = res.json().unwrap();
        assert_eq!(created["username"], id_number.as_str());
        // Signs in with the ID number, and with the phone.
        let token = app.sign_in(&id_number, PASSWORD);
        let me: Value = app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap().json().unwrap();
        assert_eq!(me["id_number"], id_number.as_str());
        assert_eq!(me["phone"], format!("+8491234567{i}"));
        assert_eq!(me["assurance"], "medium");
        assert_eq!(me["role"], "citizen");
        app.sign_in(&phone, PASSWORD);
        // The same identity cannot register twice, and asking does not tell whether it has an
        // account: the answer looks like any other, no working code exists, and the owner hears of it.
        let other_phone = format!("098765432{i}");
        let res = app.post("/api/v1/registrations", &citizen(&id_number, "1999-05-01", method, &other_phone), None);
        assert_eq!(res.status(), 201);
        let again: Value = res.json().unwrap();
        let fresh_id = format!("00109901238{i}");
        let res = app.post(
            "/api/v1/registrations",
            &citizen(&fresh_id, "1999-05-01", method, &format!("097765432{i}")),
            None,
        );
        let fresh: Value = res.json().unwrap();
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&again), keys(&fresh), "the same shape");
        assert_eq!(again["next"], "verify_otp");
        let rid = again["id"].as_str().unwrap();
        let res = app.post(&format!("/api/v1/registrations/{rid}/verify"), &json!({"otp": again["sandbox_otp"]}), None);
        assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["code"], "wrong_otp");
        let to_requester = dvc_persistence::outbox::for_recipient(&mut app.conn(), &format!("+8498765432{i}")).unwrap();
        assert!(to_requester.is_empty(), "no code went to the requester");
        let to_owner = dvc_persistence::outbox::for_recipient(&mut app.conn(), &format!("+8491234567{i}")).unwrap();
        let notice = to_owner
            .iter()
            .find(|n| n.purpose.0 == dvc_domain::notify::Purpose::RegistrationAttempt)
            .expect("the owner is told");
        assert!(notice.body.contains(&format!("+84******32{i}")), "{}", notice.body);
    }
    // A business registers by phone with its tax code.
    let started = start(
        &app,
        json!({"account_type": "business", "method": "phone", "full_name": "Công ty TNHH An Bình",
        "tax_code": "0101234565", "phone": "0987654321"}),
    );
    let id = started["id"].as_str().unwrap();
    app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": started["sandbox_otp"]}), None);
    let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": PASSWORD}), None);
    assert_eq!(res.json::<Value>().unwrap()["username"], "0101234565");
    app.sign_in("0101234565", PASSWORD);

    // The OTPs went through the outbox, and the sender keeps no code once a message is sent.
    let mut sent = false;
    for _ in 0..50 {
        let rows = dvc_persistence::outbox::for_recipient(&mut app.conn(), "+84912345670").unwrap();
        assert!(!rows.is_empty());
        if rows.iter().all(|r| r.status.0 == dvc_domain::notify::NoticeStatus::Delivered) {
            let longest_digit_run =
                |body: &str| body.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            assert!(rows.iter().all(|r| longest_digit_run(&r.body) < 4 && r.body.contains("******")), "codes redacted");
            sent = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(sent, "the outbox is drained");
}

fn registration_input_errors(backend: Backend) {
    let app = TestApp::start(backend);
    let cases: Vec<(Value, &str, &str)> = vec![
        (citizen("00109901234", "1999-05-01", "phone", "0912345678"), "id_number", "invalid_format"),
        (citizen("003099012345", "1999-05-01", "phone", "0912345678"), "id_number", "invalid_province"),
        (citizen("001299012345", "1999-05-01", "phone", "0912345678"), "id_number", "inconsistent_birth_year"),
        (citizen("001099012345", "1999-05-01", "phone", "0212345678"), "phone", "invalid_phone"),
        (citizen("001099012345", "1999-05-01", "phone", "+1 555 0100"), "phone", "invalid_phone"),
        (
            json!({"account_type": "citizen", "method": "bhxh", "full_name": "A", "id_number": "001099012345", "date_of_birth": "1999-05-01", "phone": "0912345678", "bhxh_code": "12345"}),
            "bhxh_code",
            "invalid_format",
        ),
        (
            json!({"account_type": "citizen", "method": "bhxh", "full_name": "A", "id_number": "001099012345", "date_of_birth": "1999-05-01", "phone": "0912345678"}),
            "bhxh_code",
            "required",
        ),
        (
            json!({"account_type": "business", "method": "phone", "full_name": "A", "tax_code": "01012345", "phone": "0912345678"}),
            "tax_code",
            "invalid_format",
        ),
        (
            json!({"account_type": "business", "method": "phone", "full_name": "A", "phone": "0912345678"}),
            "tax_code",
            "required",
        ),
        (
            json!({"account_type": "business", "method": "bhxh", "full_name": "A", "tax_code": "0101234565", "phone": "0912345678", "bhxh_code": "0123456789"}),
            "method",
            "method_not_allowed",
        ),
        (
            json!({"account_type": "citizen", "method": "phone", "full_name": "A", "id_number": "001099012345", "date_of_birth": "1999-05-01", "phone": "0912345678", "email": "not-an-email"}),
            "email",
            "invalid_email",
        ),
        (
            json!({"account_type": "citizen", "method": "phone", "full_name": "A", "id_number": "001099012345", "phone": "0912345678"}),
            "date_of_birth",
            "required",
        ),
        (
            json!({"account_type": "staff", "method": "phone", "full_name": "A", "phone": "0912345678"}),
            "account_type",
            "invalid_choice",
        ),
        (json!({"account_type": "citizen", "method": "carrier_pigeon", "full_name": "A"}), "method", "invalid_value"),
        (
            json!({"account_type": "citizen", "method": "phone", "full_name": "A", "id_number": "001099012345", "date_of_birth": "1999-02-30", "phone": "0912345678"}),
            "date_of_birth",
            "invalid_value",
        ),
    ];
    for (body, field, code) in cases {
        let res = app.post("/api/v1/registrations", &body, None);
        let problem = assert_problem(res, 400, "validation_failed");
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["field"] == field && e["code"] == code),
            "{field}/{code} in {problem} for {body}"
        );
    }
    // Nothing was registered.
    let res =
        app.post("/api/v1/registrations/00000000-0000-0000-0000-000000000000/verify", &json!({"otp": "123456"}), None);
    assert_problem(res, 404, "not_found");
}

fn otp_rules(backend: Backend) {
    let app = TestApp::start(backend);
    // Five wrong tries kill the registration.
    let started = start(&app, citizen("001099000001", "1999-05-01", "phone", "0912000001"));
    let id = started["id"].as_str().unwrap().to_string();
    let code = started["sandbox_otp"].as_str().unwrap().to_string();
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for _ in 0..5 {
        let res = app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": wrong}), None);
        assert_problem(res, 400, "validation_failed");
    }
    let res = app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": code}), None);
    assert_problem(res, 409, "registration_closed");

    // Resend: a cool-down, then a new code that replaces the old one.
    let started = start(&app, citizen("001099000002", "1999-05-01", "phone", "0912000002"));
    let id = started["id"].as_str().unwrap().to_string();
    let res = app.post(&format!("/api/v1/registrations/{id}/otp"), &json!({}), None);
    assert!(res.headers().get("retry-after").is_some());
    assert_problem(res, 429, "rate_limited");
    {
        use diesel::prelude::*;
        use dvc_persistence::schema::registrations::dsl as r;
        let past = dvc_persistence::now() - chrono::Duration::minutes(2);
        diesel::update(r::registrations.find(&id))
            .set(r::otp_last_sent_at.eq(past))
            .execute(&mut **app.conn())
            .unwrap();
    }
    let res = app.post(&format!("/api/v1/registrations/{id}/otp"), &json!({}), None);
    assert_eq!(res.status(), 200);
    let resent: Value = res.json().unwrap();
    let new_code = resent["sandbox_otp"].as_str().unwrap();
    if new_code != started["sandbox_otp"].as_str().unwrap() {
        let res =
            app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": started["sandbox_otp"]}), None);
        assert_problem(res, 400, "validation_failed");
    }
    // An expired code is refused as expired.
    {
        use diesel::prelude::*;
        use dvc_persistence::schema::registrations::dsl as r;
        let past = dvc_persistence::now() - chrono::Duration::minutes(6);
        diesel::update(r::registrations.find(&id)).set(r::otp_expires_at.eq(past)).execute(&mut **app.conn()).unwrap();
    }
    let res = app.post(&format!("/api/v1/registrations/{id}/verify"), &json!({"otp": new_code}), None);
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["code"], "otp_expired");

    // A phone gets at most five codes a day, across registrations.
    for i in 0..3 {
        start(&app, citizen(&format!("00109900010{i}"), "1999-05-01", "phone", "0912000002"));
    }
    let res = app.post("/api/v1/registrations", &citizen("001099000199", "1999-05-01", "phone", "0912000002"), None);
    assert_problem(res, 429, "rate_limited");
}

/// A test certificate authority, made once per run.
struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pem: String,
}

fn test_ca(name: &str) -> TestCa {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.distinguished_name.push(rcgen::DnType::CountryName, "VN");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    TestCa { pem: cert.pem(), issuer: rcgen::Issuer::new(params, key) }
}

fn trusted_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| test_ca("DVC Test CA"))
}

/// A signing key of a subscriber: ECDSA P-256 or RSA 2048.
enum SignerKey {
    Ecdsa(Vec<u8>),
    Rsa(Vec<u8>),
}

fn rsa_pkcs8() -> &'static Vec<u8> {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        key.to_pkcs8_der().unwrap().as_bytes().to_vec()
    })
}

impl SignerKey {
    fn rcgen(&self) -> rcgen::KeyPair {
        match self {
            SignerKey::Ecdsa(der) => rcgen::KeyPair::try_from(der.as_slice()).unwrap(),
            SignerKey::Rsa(der) => {
                let pem = pem_encode("PRIVATE KEY", der);
                rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap()
            }
        }
    }

    fn sign(&self, message: &[u8], pss: bool) -> String {
        let rng = ring::rand::SystemRandom::new();
        let sig = match self {
            SignerKey::Ecdsa(der) => {
                let key = ring::signature::EcdsaKeyPair::from_pkcs8(
                    &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    der,
                    &rng,
                )
                .unwrap();
                key.sign(&rng, message).unwrap().as_ref().to_vec()
            }
            SignerKey::Rsa(der) => {
                let key = ring::signature::RsaKeyPair::from_pkcs8(der).unwrap();
                let mut sig = vec![0; key.public().modulus_len()];
                let padding: &dyn ring::signature::RsaEncoding =
                    if pss { &ring::signature::RSA_PSS_SHA256 } else { &ring::signature::RSA_PKCS1_SHA256 };
                key.sign(padding, &rng, message, &mut sig).unwrap();
                sig
            }
        };
        base64::engine::general_purpose::STANDARD.encode(sig)
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn new_ecdsa() -> SignerKey {
    SignerKey::Ecdsa(rcgen::KeyPair::generate().unwrap().serialize_der())
}

/// A subscriber certificate with `UID=<uid>` issued by `ca`, valid now unless `expired`.
fn subscriber_cert(ca: &TestCa, key: &SignerKey, uid: &str, expired: bool) -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "Nguyễn Văn An");
    params.distinguished_name.push(rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]), uid);
    let now = time::OffsetDateTime::now_utc();
    if expired {
        params.not_before = now - time::Duration::days(400);
        params.not_after = now - time::Duration::days(30);
    } else {
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
    }
    params.signed_by(&key.rcgen(), &ca.issuer).unwrap().pem()
}

fn app_trusting_test_ca(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("anchors.pem");
    std::fs::write(&path, &trusted_ca().pem).unwrap();
    TestApp::start_with(backend, move |c| c.trust_anchors = Some(path))
}

fn registers_with_signed_challenges(backend: Backend) {
    let app = app_trusting_test_ca(backend);
    let ca = trusted_ca();
    let methods = [("usb_token", false), ("sim_ca", false), ("smartca", true)];
    for (i, (method, pss)) in methods.into_iter().enumerate() {
        let id_number = format!("07930101234{i}");
        let key = if i == 0 { new_ecdsa() } else { SignerKey::Rsa(rsa_pkcs8().clone()) };
        let started = start(
            &app,
            json!({"account_type": "citizen", "method": method, "full_name": "Nguyễn Thị Bình",
            "id_number": id_number, "date_of_birth": "2001-02-03", "phone": format!("098765432{i}")}),
        );
        assert_eq!(started["next"], "sign_challenge");
        assert!(started.get("sandbox_otp").is_none());
        let challenge = started["challenge"].as_str().unwrap();
        let id = started["id"].as_str().unwrap();
        let cert = subscriber_cert(ca, &key, &format!("CCCD:{id_number}"), false);
        let res = app.post(
            &format!("/api/v1/registrations/{id}/verify"),
            &json!({"certificate_pem": cert, "signature_b64": key.sign(challenge.as_bytes(), pss)}),
            None,
        );
        assert_eq!(res.status(), 200, "{method}: {:?}", res.text());
        let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": PASSWORD}), None);
        assert_eq!(res.status(), 201);
        let token = app.sign_in(&id_number, PASSWORD);
        let me: Value = app.with_token(app.client.get(app.url("/api/v1/me")), &token).send().unwrap().json().unwrap();
        assert_eq!(me["assurance"], "high", "signature methods give high assurance");
    }
    // A business proves its tax code.
    let key = new_ecdsa();
    let started = start(
        &app,
        json!({"account_type": "business", "method": "usb_token", "full_name": "Công ty CP Sông Hồng", "tax_code": "0109876557"}),
    );
    let cert = subscriber_cert(ca, &key, "MST:0109876557", false);
    let res = app.post(&format!("/api/v1/registrations/{}/verify", started["id"].as_str().unwrap()),
        &json!({"certificate_pem": cert, "signature_b64": key.sign(started["challenge"].as_str().unwrap().as_bytes(), false)}), None);
    assert_eq!(res.status(), 200);
}

fn refuses_bad_certificates_and_signatures(backend: Backend) {
    let app = app_trusting_test_ca(backend);
    let ca = trusted_ca();
    let rogue = test_ca("Rogue CA");
    let id_number = "079301012399";
    let fresh = |app: &TestApp| {
        start(
            app,
            json!({"account_type": "citizen", "method": "usb_token", "full_name": "Nguyễn Thị Bình",
            "id_number": id_number, "date_of_birth": "2001-02-03"}),
        )
    };
    let key = new_ecdsa();
    let other_key = new_ecdsa();
    type BodyFor<'a> = Box<dyn Fn(&str) -> Value + 'a>;
    let cases: Vec<(&str, BodyFor)> = vec![
        (
            "bad_signature",
            Box::new(|c: &str| {
                json!({"certificate_pem": subscriber_cert(ca, &key, &format!("CCCD:{id_number}"), false),
            "signature_b64": other_key.sign(c.as_bytes(), false)})
            }),
        ),
        (
            "bad_signature",
            Box::new(|_c: &str| {
                json!({"certificate_pem": subscriber_cert(ca, &key, &format!("CCCD:{id_number}"), false),
            "signature_b64": key.sign(b"another challenge", false)})
            }),
        ),
        (
            "untrusted_certificate",
            Box::new(|c: &str| {
                json!({"certificate_pem": subscriber_cert(&rogue, &key, &format!("CCCD:{id_number}"), false),
            "signature_b64": key.sign(c.as_bytes(), false)})
            }),
        ),
        (
            "certificate_expired",
            Box::new(|c: &str| {
                json!({"certificate_pem": subscriber_cert(ca, &key, &format!("CCCD:{id_number}"), true),
            "signature_b64": key.sign(c.as_bytes(), false)})
            }),
        ),
        (
            "identity_mismatch",
            Box::new(|c: &str| {
                json!({"certificate_pem": subscriber_cert(ca, &key, "CCCD:001099012345", false),
            "signature_b64": key.sign(c.as_bytes(), false)})
            }),
        ),
        (
            "malformed_certificate",
            Box::new(|c: &str| {
                json!({"certificate_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "signature_b64": key.sign(c.as_bytes(), false)})
            }),
        ),
    ];
    for (code, body) in cases {
        let started = fresh(&app);
        let id = started["id"].as_str().unwrap();
        let res = app.post(
            &format!("/api/v1/registrations/{id}/verify"),
            &body(started["challenge"].as_str().unwrap()),
            None,
        );
        assert_problem(res, 422, code);
        // Still unverified: it cannot be completed.
        let res = app.post(&format!("/api/v1/registrations/{id}/complete"), &json!({"password": PASSWORD}), None);
        assert_problem(res, 409, "registration_closed");
    }
    let started = fresh(&app);
    let res = app.post(
        &format!("/api/v1/registrations/{}/verify", started["id"].as_str().unwrap()),
        &json!({"certificate_pem": "x", "signature_b64": "%%%"}),
        None,
    );
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "signature_b64");
}

on_both_backends!(
    registers_by_otp_methods,
    registration_input_errors,
    otp_rules,
    registers_with_signed_challenges,
    refuses_bad_certificates_and_signatures,
);
