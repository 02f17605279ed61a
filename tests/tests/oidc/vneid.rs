//! Sign-in with VNeID's format (encrypted answers, no ID token) against a stand-in of it.

use super::*;

/// The stand-in of VNeID's format (scripts/oidc/vneid-standin.mjs), running until dropped;
/// it encrypts its answers to the public key in `public_pem` with `cipher`.
fn vneid_standin(redirect_uris: &[String], cipher: &str, public_pem: &str) -> Provider {
    let port = free_port();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/oidc/vneid-standin.mjs");
    let child = Command::new("node")
        .arg(script)
        .env("VNEID_PORT", port.to_string())
        .env("VNEID_CLIENT_ID", CLIENT_ID)
        .env("VNEID_CLIENT_SECRET", CLIENT_SECRET)
        .env("VNEID_REDIRECT_URIS", json!(redirect_uris).to_string())
        .env("VNEID_RP_PUBLIC_KEY", public_pem)
        .env("VNEID_CIPHER", cipher)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("node is required for the VNeID stand-in: {e}"));
    wait_for(port, "the VNeID stand-in");
    Provider { issuer: format!("http://127.0.0.1:{port}"), child }
}

fn vneid_provider(name: &str, standin: &Provider, mode: AesMode) -> ProviderConfig {
    let key = std::fs::read_to_string(format!("{FIXTURES}/rp-key.pem")).unwrap();
    ProviderConfig {
        name: name.into(),
        display_name: "Tài khoản định danh điện tử (VNeID)".into(),
        issuer: standin.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        scopes: vec!["openid".into()],
        claims: ClaimNames {
            id_number: "citizenPid".into(),
            tax_code: "taxCode".into(),
            full_name: "fullName".into(),
            level: "accountLevel".into(),
        },
        kind: ProviderKind::Vneid(VneidConfig {
            authorize_url: format!("{}/authorize", standin.issuer),
            token_url: format!("{}/token", standin.issuer),
            userinfo_url: format!("{}/userinfo", standin.issuer),
            key: RpKey::from_pem(&key).unwrap(),
            mode,
        }),
    }
}

/// Signs in at the stand-in's login page from `url`; the query it sends back.
fn sign_in_at_standin(browser: &Client, url: &str, login: &str) -> Vec<(String, String)> {
    let page = browser.get(url).send().unwrap();
    assert_eq!(page.status(), 200, "the stand-in's login page");
    let form = page.url().clone();
    let done = browser.post(form).form(&[("login", login)]).send().unwrap();
    assert!(done.status().is_redirection(), "sent back: {}", done.status());
    let location = done.headers()["location"].to_str().unwrap().to_string();
    reqwest::Url::parse(&location).unwrap().query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn vneid_sign_in_works(backend: Backend) {
    let app_port = free_port();
    let app_page = format!("http://127.0.0.1:{app_port}/dang-nhap/vneid");
    let native = format!("http://127.0.0.1:{app_port}/native");
    let redirects = vec![app_page.clone(), native.clone()];
    let public = std::fs::read_to_string(format!("{FIXTURES}/rp-public.pem")).unwrap();
    let ecb = vneid_standin(&redirects, "aes-ecb", &public);
    let cbc = vneid_standin(&redirects, "aes-cbc", &public);
    // Answers encrypted to someone else's key (the forger's private key holds its public part).
    let other =
        vneid_standin(&redirects, "aes-ecb", &std::fs::read_to_string(format!("{FIXTURES}/forger-key.pem")).unwrap());
    let config = OidcConfig {
        providers: vec![
            vneid_provider("vneid", &ecb, AesMode::Ecb),
            vneid_provider("vneidcbc", &cbc, AesMode::Cbc),
            vneid_provider("vneidsaimode", &cbc, AesMode::Ecb),
            vneid_provider("vneidkhoakhac", &other, AesMode::Ecb),
        ],
        redirect_uris: redirects.clone(),
    };
    let app = TestApp::seeded_with(backend, |c| c.oidc = config.clone());
    let second = app.second_instance_with(|c| c.oidc = config.clone());
    let a = crate::dossiers::actors(&app);
    let citizen = app.get_json_with("/api/v1/me", &a.citizen);
    assert_eq!(app.get_json("/api/v1/auth/providers")[0]["display_name"], "Tài khoản định danh điện tử (VNeID)");

    // The web flow: to VNeID with a state and PKCE, no nonce; finished on another server.
    let web = |provider: &str, login: &str, finish: &TestApp| {
        let start = app.url(&format!("/api/v1/auth/oidc/{provider}/authorize?redirect_uri={app_page}"));
        let query = sign_in_at_standin(&browser(app_port), &start, login);
        let res = finish.client.get(finish.url(&format!("/api/v1/auth/oidc/{provider}/callback"))).query(&query).send();
        (res.unwrap(), query)
    };
    let no_follow = Client::builder().redirect(Policy::none()).build().unwrap();
    let first_hop =
        no_follow.get(app.url(&format!("/api/v1/auth/oidc/vneid/authorize?redirect_uri={app_page}"))).send().unwrap();
    assert_eq!(first_hop.status(), 302);
    let to_vneid = reqwest::Url::parse(first_hop.headers()["location"].to_str().unwrap()).unwrap();
    let asked: Vec<(String, String)> = to_vneid.query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert!(to_vneid.as_str().starts_with(&format!("{}/authorize?", ecb.issuer)));
    assert_eq!(param(&asked, "code_challenge_method"), "S256");
    assert_eq!(param(&asked, "client_id"), CLIENT_ID);
    assert!(!asked.iter().any(|(k, _)| k == "nonce"), "VNeID takes no nonce");

    let (res, query) = web("vneid", "001099012345", &second);
    assert_eq!(res.status(), 200, "{}", res.text().unwrap_or_default());
    let claims = claims_of(res.json::<Value>().unwrap()["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], citizen["id"], "linked by the personal ID number");
    assert_eq!(claims["assurance_level"], 2);
    let again = app.client.get(app.url("/api/v1/auth/oidc/vneid/callback")).query(&query).send().unwrap();
    assert_eq!(again.status(), 400, "the state works once");

    // A new person at level 1: a verified account with VNeID's name and birth date.
    let (res, _) = web("vneid", "001199054321-1", &app);
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims_of(&token)["assurance_level"], 1);
    let me = app.get_json_with("/api/v1/me", &token);
    assert_eq!(
        (me["id_number"].as_str(), me["full_name"].as_str(), me["date_of_birth"].as_str()),
        (Some("001199054321"), Some("Trần Thị Bình"), Some("1990-09-02"))
    );
    // AES-CBC answers read where configured, refused where ECB is expected; answers for another key refused.
    assert_eq!(web("vneidcbc", "001199054321", &app).0.status(), 200);
    for provider in ["vneidsaimode", "vneidkhoakhac"] {
        let (res, _) = web(provider, "001199054321", &app);
        assert_eq!(res.status(), 401, "{provider}");
        assert_eq!(res.json::<Value>().unwrap()["code"], "federation_failed");
    }
    // No personal ID number in the answer: no account.
    let (res, _) = web("vneid", "khach", &app);
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().unwrap()["code"], "identity_missing");

    // The native-app flow: the app runs the authorization with its own PKCE verifier.
    let verifier = "kiem-tra-pkce-vneid-ung-dung-di-dong-0123456789abcdefXYZ";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let authorize = || {
        let mut url = reqwest::Url::parse(&format!("{}/authorize", ecb.issuer)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", &native)
            .append_pair("state", "ung-dung")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        param(&sign_in_at_standin(&browser(app_port), url.as_str(), "001099012345"), "code").to_string()
    };
    let post = |code: &str, verifier: &str| {
        app.post(
            "/api/v1/auth/oidc/vneid/token",
            &json!({"code": code, "code_verifier": verifier, "redirect_uri": native}),
            None,
        )
    };
    let code = authorize();
    let res = post(&code, verifier);
    assert_eq!(res.status(), 200);
    assert_eq!(claims_of(res.json::<Value>().unwrap()["access_token"].as_str().unwrap())["sub"], citizen["id"]);
    assert_eq!(post(&code, verifier).status(), 401, "a code works once");
    let wrong = post(&authorize(), "sai-pkce-sai-pkce-sai-pkce-sai-pkce-sai-pkce-0000");
    assert_eq!(wrong.status(), 401, "VNeID refuses a code with the wrong verifier");
}

on_both_backends!(vneid_sign_in_works);
