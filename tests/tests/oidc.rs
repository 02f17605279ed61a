//! Sign-in through a real OpenID provider (the `oidc-provider` package from npm, started on
//! loopback): the web flow through the provider's own login and consent pages, the native-app
//! flow, account creation and linking, assurance levels, replayed states, and ID tokens that must
//! be refused; and VNeID's format (encrypted answers, no ID token) against a stand-in of it.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use dvc_api::oidc::vneid::{AesMode, RpKey, VneidConfig};
use dvc_api::oidc::{ClaimNames, OidcConfig, ProviderConfig, ProviderKind};
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

mod vneid;

const CLIENT_ID: &str = "dvc-test";
const CLIENT_SECRET: &str = "bi-mat-cua-dvc-tai-nha-cung-cap-0123456789";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oidc");

/// The provider, running until dropped.
struct Provider {
    issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something listens on `port`.
fn wait_for(port: u16, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Provider {
    fn start(redirect_uris: &[String]) -> Provider {
        let modules = std::env::var("DVC_OIDC_NODE_MODULES")
            .unwrap_or_else(|_| format!("{}/.cache/dvc/oidc/node_modules", std::env::var("HOME").unwrap_or_default()));
        let port = free_port();
        let clients = json!([{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris}]);
        let jwks = std::fs::read_to_string(format!("{FIXTURES}/provider-jwks.json")).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/oidc/provider.mjs");
        let child = Command::new("node")
            .arg(script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_JWKS", jwks)
            .env("OIDC_NODE_MODULES", &modules)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node is required for the OpenID provider: {e}"));
        wait_for(port, &format!("the OpenID provider (oidc-provider in {modules}; scripts/test-deps.sh installs it)"));
        Provider { issuer: format!("http://127.0.0.1:{port}"), child }
    }

    fn config(&self, redirect_uris: &[String]) -> OidcConfig {
        OidcConfig {
            providers: vec![ProviderConfig {
                name: "sso".into(),
                display_name: "Cổng dịch vụ công quốc gia".into(),
                issuer: self.issuer.clone(),
                client_id: CLIENT_ID.into(),
                client_secret: Some(CLIENT_SECRET.into()),
                scopes: vec!["openid".into(), "profile".into()],
                claims: ClaimNames {
                    id_number: "id_number".into(),
                    tax_code: "tax_code".into(),
                    full_name: "name".into(),
                    level: "level".into(),
                },
                kind: ProviderKind::Oidc,
            }],
            redirect_uris: redirect_uris.to_vec(),
        }
    }
}

/// A browser: keeps cookies and stops at the first address on `stop_port` (the app's page).
fn browser(stop_port: u16) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::custom(move |attempt| {
            if attempt.url().port() == Some(stop_port) || attempt.previous().len() > 20 {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap()
}

/// Signs in at the provider's login and consent pages, starting from `url` (which leads to the
/// provider's authorization endpoint); the query of the address the provider sends back to.
fn sign_in_at_provider(browser: &Client, url: &str, login: &str) -> Vec<(String, String)> {
    let page = browser.get(url).send().unwrap();
    assert_eq!(page.status(), 200, "the provider's login page");
    let form = page.url().clone();
    let back =
        browser.post(form).form(&[("prompt", "login"), ("login", login), ("password", "bat-ky")]).send().unwrap();
    assert_eq!(back.status(), 200, "the provider's consent page");
    let consent = back.url().clone();
    let done = browser.post(consent).form(&[("prompt", "consent")]).send().unwrap();
    assert!(done.status().is_redirection(), "sent back: {}", done.status());
    let location = done.headers()["location"].to_str().unwrap().to_string();
    reqwest::Url::parse(&location).unwrap().query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> &'a str {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name} in {query:?}"))
}

/// The claims of one of dvc's access tokens.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn web_sign_in(
    app: &TestApp,
    finish: &TestApp,
    app_page: &str,
    app_port: u16,
    login: &str,
) -> reqwest::blocking::Response {
    let start = app.url(&format!("/api/v1/auth/oidc/sso/authorize?redirect_uri={app_page}"));
    let b = browser(app_port);
    let query = sign_in_at_provider(&b, &start, login);
    finish.client.get(finish.url("/api/v1/auth/oidc/sso/callback")).query(&query).send().unwrap()
}

fn federated_sign_in_works(backend: Backend) {
    let app_port = free_port();
    let app_page = format!("http://127.0.0.1:{app_port}/dang-nhap/xong");
    let native = format!("http://127.0.0.1:{app_port}/native");
    let redirects = vec![app_page.clone(), native.clone()];
    let provider = Provider::start(&redirects);
    let app = TestApp::seeded_with(backend, |c| c.oidc = provider.config(&redirects));
    let a = crate::dossiers::actors(&app);
    let citizen = app.get_json_with("/api/v1/me", &a.citizen);

    let listed = app.get_json("/api/v1/auth/providers");
    assert_eq!(listed[0]["name"], "sso");
    assert_eq!(listed[0]["authorize_path"], "/api/v1/auth/oidc/sso/authorize");
    let refused = app
        .client
        .get(app.url("/api/v1/auth/oidc/sso/authorize?redirect_uri=https://ke-gian.example/cb"))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 400, "a redirect URI that is not allowed");
    assert_eq!(
        app.client.get(app.url("/api/v1/auth/oidc/khac/authorize?redirect_uri=x")).send().unwrap().status(),
        404
    );

    // The web flow: started on one server, finished on another (state kept in the database).
    let second = app.second_instance_with(|c| c.oidc = provider.config(&redirects));
    let start = app.url(&format!("/api/v1/auth/oidc/sso/authorize?redirect_uri={app_page}"));
    let no_follow = Client::builder().redirect(Policy::none()).build().unwrap();
    let first_hop = no_follow.get(&start).send().unwrap();
    if first_hop.status() != 302 {
        panic!("authorize answered {}: {}", first_hop.status(), first_hop.text().unwrap());
    }
    let to_provider = reqwest::Url::parse(first_hop.headers()["location"].to_str().unwrap()).unwrap();
    let asked: Vec<(String, String)> = to_provider.query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert!(to_provider.as_str().starts_with(&provider.issuer));
    assert_eq!(param(&asked, "code_challenge_method"), "S256");
    assert_eq!(param(&asked, "redirect_uri"), app_page);
    assert!(param(&asked, "nonce").len() >= 16 && param(&asked, "state").len() >= 16);

    let b = browser(app_port);
    let query = sign_in_at_provider(&b, &start, "001099012345");
    let res = second.client.get(second.url("/api/v1/auth/oidc/sso/callback")).query(&query).send().unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().unwrap_or_default());
    let tokens: Value = res.json().unwrap();
    let claims = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], citizen["id"], "the account with that ID number is linked, not duplicated");
    assert_eq!(claims["assurance_level"], 2);
    let me = app.get_json_with("/api/v1/me", tokens["access_token"].as_str().unwrap());
    assert_eq!(me["id_number"], "001099012345");
    // The refresh token works like a password sign-in's, and keeps the session's level.
    let refreshed = app.post("/api/v1/auth/refresh", &json!({"refresh_token": tokens["refresh_token"]}), None);
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().unwrap();
    assert_eq!(claims_of(refreshed["access_token"].as_str().unwrap())["assurance_level"], 2);
    // A password sign-in of the same account stays at the account's own level.
    let own = claims_of(&a.citizen);
    assert_eq!(own["assurance_level"], if own["assurance"] == "high" { 2 } else { 1 });

    // The state works once, on any server.
    let again = app.client.get(app.url("/api/v1/auth/oidc/sso/callback")).query(&query).send().unwrap();
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<Value>().unwrap()["errors"][0]["code"], "invalid_state");
    let unknown = app.client.get(app.url("/api/v1/auth/oidc/sso/callback?state=khong-co&code=x")).send().unwrap();
    assert_eq!(unknown.status(), 400);

    // A new person: a verified account is created, at the level the provider gave.
    let res = web_sign_in(&app, &app, &app_page, app_port, "001199054321-1");
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().unwrap();
    let claims = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["assurance_level"], 1, "level 1 at the provider");
    let created = claims["sub"].as_str().unwrap().to_string();
    assert_ne!(created, citizen["id"].as_str().unwrap());
    let me = app.get_json_with("/api/v1/me", tokens["access_token"].as_str().unwrap());
    assert_eq!((me["id_number"].as_str(), me["full_name"].as_str()), (Some("001199054321"), Some("Trần Thị Bình")));
    // The same person at level 2 (another subject at the provider, the same ID number): the same account.
    let res = web_sign_in(&app, &app, &app_page, app_port, "001199054321");
    let claims = claims_of(res.json::<Value>().unwrap()["access_token"].as_str().unwrap());
    assert_eq!((claims["sub"].as_str(), claims["assurance_level"].as_i64()), (Some(created.as_str()), Some(2)));
    // A procedure that requires level 2, shown in the catalogue: a level-1 sign-in may not file.
    let level_one = {
        let res = web_sign_in(&app, &app, &app_page, app_port, "001199054321-1");
        res.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_string()
    };
    let level_two = {
        let res = web_sign_in(&app, &app, &app_page, app_port, "001199054321");
        res.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_string()
    };
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE procedures SET min_assurance_level = 2 WHERE code = '1.001193'"),
        &mut **app.conn(),
    )
    .unwrap();
    let started = Instant::now();
    while app.get_json("/api/v1/procedures/1.001193")["min_assurance_level"] != 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "the catalogue shows the required level");
        std::thread::sleep(Duration::from_millis(100));
    }
    let body = json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": crate::dossiers::birth_form(),
                      "delivery": {"method": "online"}});
    let refused = app.post("/api/v1/dossiers", &body, Some(&level_one));
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().unwrap()["code"], "assurance_too_low");
    assert_eq!(app.post("/api/v1/dossiers", &body, Some(&level_two)).status(), 201);

    // An organisation by its tax code.
    let res = web_sign_in(&app, &app, &app_page, app_port, "0101234565");
    let claims = claims_of(res.json::<Value>().unwrap()["access_token"].as_str().unwrap());
    assert_eq!(claims["account_type"], "organization");

    // The native-app flow: the app runs the authorization with its own PKCE verifier.
    let verifier = "kiem-tra-pkce-cua-ung-dung-di-dong-0123456789abcdefXYZ";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let authorize = |nonce: &str| {
        let mut url = reqwest::Url::parse(&format!("{}/auth", provider.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", &native)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid profile")
            .append_pair("state", "ung-dung")
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let query = sign_in_at_provider(&browser(app_port), url.as_str(), "001099012345");
        param(&query, "code").to_string()
    };
    let post = |code: &str, verifier: &str, nonce: &str| {
        app.post(
            "/api/v1/auth/oidc/sso/token",
            &json!({"code": code, "code_verifier": verifier, "redirect_uri": native, "nonce": nonce}),
            None,
        )
    };
    let res = post(&authorize("n-1"), verifier, "n-1");
    assert_eq!(res.status(), 200);
    assert_eq!(claims_of(res.json::<Value>().unwrap()["access_token"].as_str().unwrap())["sub"], citizen["id"]);
    let wrong_nonce = post(&authorize("n-2"), verifier, "n-khac");
    assert_eq!(wrong_nonce.status(), 401, "an ID token with another nonce");
    let wrong_verifier = post(&authorize("n-3"), "sai-pkce-sai-pkce-sai-pkce-sai-pkce-sai-pkce-0000", "n-3");
    assert_eq!(wrong_verifier.status(), 401, "the provider refuses a code with the wrong verifier");
    let code = authorize("n-4");
    assert_eq!(post(&code, verifier, "n-4").status(), 200);
    assert_eq!(post(&code, verifier, "n-4").status(), 401, "a code works once");
}

on_both_backends!(federated_sign_in_works);

/// ID tokens signed by the provider's key but expired, for another audience, from another issuer
/// or with another nonce, and tokens signed by anyone else, are refused; a good one passes.
#[test]
fn id_tokens_that_must_be_refused() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let redirects = vec!["http://127.0.0.1:9/cb".to_string()];
    let provider = Provider::start(&redirects);
    let config = provider.config(&redirects);
    let federation = dvc_api::oidc::Federation::new(config.clone()).unwrap();
    let p = &config.providers[0];
    let key = EncodingKey::from_rsa_pem(&std::fs::read(format!("{FIXTURES}/provider-key.pem")).unwrap()).unwrap();
    let forger = EncodingKey::from_rsa_pem(&std::fs::read(format!("{FIXTURES}/forger-key.pem")).unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let good = json!({"iss": provider.issuer, "aud": CLIENT_ID, "sub": "001099012345", "iat": now, "exp": now + 300,
                      "nonce": "n-1"});
    let sign = |claims: &Value, key: &EncodingKey| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("dvc-test-provider".into());
        encode(&header, claims, key).unwrap()
    };
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let runtime = actix_web::rt::System::new();
    let verify = |token: String, nonce: Option<&str>| runtime.block_on(federation.verify_id_token(p, &token, nonce));
    assert_eq!(verify(sign(&good, &key), Some("n-1")).unwrap(), "001099012345");
    for (what, token, nonce) in [
        ("signed by another key", sign(&good, &forger), Some("n-1")),
        ("expired", sign(&with("exp", json!(now - 600)), &key), Some("n-1")),
        ("for another audience", sign(&with("aud", json!("ung-dung-khac")), &key), Some("n-1")),
        ("from another issuer", sign(&with("iss", json!("http://127.0.0.1:1")), &key), Some("n-1")),
        ("with another nonce", sign(&good, &key), Some("n-2")),
        ("without the nonce asked for", sign(&with("nonce", Value::Null), &key), Some("n-1")),
    ] {
        let refused = verify(token, nonce).expect_err(what);
        assert_eq!(refused.code, "federation_failed", "{what}");
    }
    let tampered = {
        let token = sign(&good, &key);
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&with("sub", json!("079099000001"))).unwrap());
        parts.join(".")
    };
    assert!(verify(tampered, Some("n-1")).is_err(), "a changed payload");
}
