//! Results anyone can verify: registered and signed at issue, checked by code or by bytes without
//! signing in, revoked by the agency, kept in the applicant's wallet.

use base64::Engine;
use serde_json::{json, Value};

use crate::dossiers::{actors, ok_move, pdf, submitted};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

/// A self-signed ECDSA P-256 certificate and its PKCS#8 key, written to files.
fn agency_key(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.distinguished_name.push(rcgen::DnType::CountryName, "VN");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn verify_bytes(app: &TestApp, bytes: Vec<u8>) -> Value {
    let form = reqwest::blocking::multipart::Form::new()
        .part("file", reqwest::blocking::multipart::Part::bytes(bytes).file_name("ket-qua.pdf"));
    let res = app.client.post(app.url("/api/v1/verify")).multipart(form).send().unwrap();
    assert_eq!(res.status(), 200);
    res.json().unwrap()
}

fn issued_results_verify_by_code_and_bytes(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    // The agency of the birth registration in the demo catalogue.
    let probe = TestApp::seeded(backend);
    let procedure = probe.get_json("/api/v1/procedures/1.001193");
    let agency_code = procedure["agencies"][0]["code"].as_str().unwrap().to_string();
    drop(probe);
    let (cert, key) = agency_key(keys.path(), "ubnd");
    let code_for_keys = agency_code.clone();
    let app = TestApp::seeded_with(backend, |c| {
        c.signing_keys =
            vec![dvc_api::signing::KeyFiles { agency_code: code_for_keys, certificate: cert, private_key: key }];
        c.public_url = "https://dichvucong.example.vn".into();
    });
    let a = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    ok_move(&app, &a.officer, id, json!({"action": "start_processing"}));
    let document = pdf("Giấy khai sinh Nguyễn Minh Khang");
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/results"),
        &a.officer,
        &[],
        Some(("giay-khai-sinh.pdf", document.clone())),
    );
    assert_eq!(res.status(), 201);
    let issued: Value = res.json().unwrap();
    let code = issued["verification_code"].as_str().unwrap().to_string();
    assert_eq!(issued["signed"], true);
    assert_eq!(issued["verification_url"], format!("https://dichvucong.example.vn/api/v1/verify/{code}"));
    assert_eq!(issued["document_id"], "result", "the attachment's fields are all there");

    // Anyone, without signing in, by the code printed on it.
    let v = app.get_json(&format!("/api/v1/verify/{code}"));
    let sha256 = issued["sha256"].as_str().unwrap();
    assert_eq!(
        (v["sha256"].as_str(), v["signed"].as_bool(), v["signature_valid"].as_bool()),
        (Some(sha256), Some(true), Some(true))
    );
    assert_eq!((v["revoked"].as_bool(), v["kind"].as_str()), (Some(false), Some("result")));
    assert_eq!(v["agency"]["code"], agency_code.as_str());
    assert_eq!(v["holder"], "N***** V** A*", "the holder's name, masked");
    let text = serde_json::to_string(&v).unwrap();
    for personal in ["001099012345", "0912345678", "Nguyễn Văn An", "Minh Khang"] {
        assert!(!text.contains(personal), "{personal} is not shown");
    }
    assert_eq!(app.get_json(&format!("/api/v1/verify/{}", code.to_lowercase()))["sha256"], sha256);
    assert_problem(app.get("/api/v1/verify/AAAA-BBBB-CCCC"), 404, "not_found");

    // Without dvc: the certificate checks the signature over the signed text.
    let signed_text = v["signed_text"].as_str().unwrap();
    assert!(
        signed_text.contains(&format!("sha256={sha256}\n"))
            && signed_text.contains(&format!("verification_code={code}\n"))
    );
    let cert_pem = v["certificate_pem"].as_str().unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(cert_pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .unwrap();
    let spki = public_key_of(&der);
    let signature = base64::engine::general_purpose::STANDARD.decode(v["signature"].as_str().unwrap()).unwrap();
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, spki);
    assert!(public.verify(signed_text.as_bytes(), &signature).is_ok());
    assert!(public.verify(signed_text.replace(sha256, &"0".repeat(64)).as_bytes(), &signature).is_err());

    // By the bytes: genuine; one changed byte is unknown.
    let genuine = verify_bytes(&app, document.clone());
    assert_eq!(
        (genuine["verdict"].as_str(), genuine["result"]["verification_code"].as_str()),
        (Some("genuine"), Some(code.as_str()))
    );
    let mut changed = document.clone();
    changed[20] ^= 1;
    let unknown = verify_bytes(&app, changed);
    assert_eq!((unknown["verdict"].as_str(), unknown["result"].is_null()), (Some("unknown"), true));

    // The applicant finds it in the wallet with its code.
    let wallet = app.get_json_with("/api/v1/me/documents", &a.citizen);
    let kept = wallet["items"].as_array().unwrap().iter().find(|f| f["sha256"] == sha256).unwrap();
    assert_eq!(kept["verification_code"], code.as_str());

    // Only the agency revokes, with a reason, once.
    let rid = issued["id"].as_str().unwrap();
    let revoke =
        |token: &str, body: Value| app.post(&format!("/api/v1/dossiers/{id}/results/{rid}/revoke"), &body, Some(token));
    assert_problem(revoke(&a.citizen, json!({"reason": "Tôi muốn"})), 403, "forbidden");
    assert_problem(revoke(&a.officer, json!({"reason": "  "})), 400, "validation_failed");
    let other = app.officer_token("canbo.khac", None);
    assert_eq!(revoke(&other, json!({"reason": "Nhầm"})).status(), 404);
    let res = revoke(&a.officer, json!({"reason": "Cấp nhầm ngày sinh"}));
    assert_eq!(res.status(), 200);
    assert_problem(revoke(&a.officer, json!({"reason": "Lần nữa"})), 409, "conflict");
    let v = app.get_json(&format!("/api/v1/verify/{code}"));
    assert_eq!((v["revoked"].as_bool(), v["revoke_reason"].as_str()), (Some(true), Some("Cấp nhầm ngày sinh")));
    assert_eq!(v["signature_valid"], true, "the signature itself stays valid");
    assert_eq!(verify_bytes(&app, document)["verdict"], "revoked");
}

/// The subject public key bits of a DER certificate (walks the ASN.1 to the SubjectPublicKeyInfo).
fn public_key_of(der: &[u8]) -> Vec<u8> {
    // The uncompressed P-256 point: 0x04 followed by 64 bytes, after the BIT STRING's unused-bits byte.
    let marker = [0x03, 0x42, 0x00, 0x04];
    let at = der.windows(4).position(|w| w == marker).expect("a P-256 public key");
    der[at + 3..at + 3 + 65].to_vec()
}

fn results_of_an_agency_without_a_key_are_registered_unsigned(backend: Backend) {
    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    ok_move(&app, &a.officer, id, json!({"action": "start_processing"}));
    let res = app.upload(&format!("/api/v1/dossiers/{id}/results"), &a.officer, &[], Some(("kq.pdf", pdf("KQ"))));
    let issued: Value = res.json().unwrap();
    assert_eq!(issued["signed"], false);
    let v = app.get_json(&format!("/api/v1/verify/{}", issued["verification_code"].as_str().unwrap()));
    assert_eq!(
        (v["signed"].as_bool(), v["signature_valid"].as_bool(), v["signature"].is_null()),
        (Some(false), Some(false), true)
    );
    assert_eq!(verify_bytes(&app, pdf("KQ"))["verdict"], "genuine");
    let form = reqwest::blocking::multipart::Form::new().text("other", "x");
    let res = app.client.post(app.url("/api/v1/verify")).multipart(form).send().unwrap();
    assert_eq!(res.status(), 400);
}

/// What poppler's `pdfinfo` and `pdfimages -list` say of a PDF: its pages and its images.
fn pages_and_images(pdf: &[u8]) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.pdf");
    std::fs::write(&path, pdf).unwrap();
    let info = std::process::Command::new("pdfinfo").arg(&path).output().expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse::<usize>().unwrap_or(0)))
        .unwrap_or(0);
    let images = std::process::Command::new("pdfimages").arg("-list").arg(&path).output().expect("pdfimages");
    // Two header lines, then one line per image.
    let images = String::from_utf8_lossy(&images.stdout).lines().count().saturating_sub(2);
    (pages, images)
}

/// The electronic copy of a result: its pages (of a PDF, or an image on a page), each with the
/// verification code, the verification address and its QR code.
fn result_copies_carry_their_verification(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| c.public_url = "https://dichvucong.example.vn".into());
    let a = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    let dossier_code = d["code"].as_str().unwrap();
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    ok_move(&app, &a.officer, id, json!({"action": "start_processing"}));
    // A real PDF (the procedure's printable form), an image, and bytes that only claim to be a PDF.
    let form = app.get_json("/api/v1/procedures/1.001193")["forms"][0]["download_url"].as_str().unwrap().to_string();
    let form_pdf = app.get(&form).bytes().unwrap().to_vec();
    let (form_pages, _) = pages_and_images(&form_pdf);
    let png = dvc_api::payment::qr_png("anh-ket-qua").unwrap();
    let mut issued = Vec::new();
    for (name, bytes) in
        [("giay-khai-sinh.pdf", form_pdf.clone()), ("anh.png", png), ("hong.pdf", pdf("không đọc được"))]
    {
        let res = app.upload(&format!("/api/v1/dossiers/{id}/results"), &a.officer, &[], Some((name, bytes)));
        assert_eq!(res.status(), 201, "{name}: {:?}", res.text());
        let r: Value = res.json().unwrap();
        issued.push((r["id"].as_str().unwrap().to_string(), r["verification_code"].as_str().unwrap().to_string()));
    }
    let agency = d["agency"]["name"].as_str().unwrap();
    for (i, (rid, code)) in issued.iter().enumerate() {
        let path = format!("/api/v1/dossiers/{id}/results/{rid}/copy");
        let res = app.with_token(app.client.get(app.url(&path)), &a.citizen).send().unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        let copy = res.bytes().unwrap().to_vec();
        let text = crate::support::pdf_text(&copy);
        assert!(text.contains(&format!("Mã xác thực: {code}")), "{text}");
        assert!(text.contains(&format!("https://dichvucong.example.vn/api/v1/verify/{code}")), "{text}");
        assert!(text.contains(dossier_code) && text.contains(agency), "{text}");
        let (pages, images) = pages_and_images(&copy);
        match i {
            0 => {
                assert!(text.contains("TỜ KHAI ĐĂNG KÝ KHAI SINH"), "the result's own pages: {text}");
                assert_eq!((pages, images), (form_pages, form_pages), "each page with its QR code");
            }
            1 => assert_eq!((pages, images), (1, 2), "the image and the QR code"),
            _ => assert!(text.contains("tải bản gốc") && pages == 1 && images == 1, "{text}"),
        }
        // The officer may have it too; anyone else finds nothing.
        let res = app.with_token(app.client.get(app.url(&path)), &a.officer).send().unwrap();
        assert_eq!(res.status(), 200);
    }
    crate::accounts::register_citizen(&app, "079199000002", "0987654321");
    let other = app.sign_in("079199000002", crate::accounts::PASSWORD);
    let path = format!("/api/v1/dossiers/{id}/results/{}/copy", issued[0].0);
    assert_problem(app.with_token(app.client.get(app.url(&path)), &other).send().unwrap(), 404, "not_found");
    assert_problem(app.get(&path), 401, "unauthorized");
}

/// What poppler's `pdfsig` says of a PDF's signatures (certificates not checked against a trust
/// store, nothing fetched).
fn pdfsig(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfsig")
        .args(["-nocert", "-no-ocsp"])
        .arg(&path)
        .output()
        .expect("pdfsig (poppler-utils)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A self-signed certificate for an RSA key (the fixture's), written to files.
fn rsa_agency_key(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oidc/forger-key.pem")).unwrap();
    let key = rcgen::KeyPair::from_pem(&pem).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, pem).unwrap();
    (cert_path, key_path)
}

/// A PDF result carries the agency's signature inside: the original bytes, then an update whose
/// signature covers the whole file; poppler checks it, and finds a changed byte. With an ECDSA
/// P-256 key on SQLite, an RSA key on PostgreSQL.
fn pdf_results_are_signed_inside(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let probe = TestApp::seeded(backend);
    let agency_code =
        probe.get_json("/api/v1/procedures/1.001193")["agencies"][0]["code"].as_str().unwrap().to_string();
    drop(probe);
    let (cert, key) = match backend {
        Backend::Sqlite => agency_key(keys.path(), "ubnd-ky-pdf"),
        Backend::Postgres => rsa_agency_key(keys.path(), "ubnd-ky-pdf"),
    };
    let app = TestApp::seeded_with(backend, |c| {
        c.signing_keys = vec![dvc_api::signing::KeyFiles { agency_code, certificate: cert, private_key: key }];
    });
    let a = actors(&app);
    let d = submitted(&app, &a);
    let id = d["id"].as_str().unwrap();
    ok_move(&app, &a.officer, id, json!({"action": "receive"}));
    ok_move(&app, &a.officer, id, json!({"action": "start_processing"}));
    let form = app.get_json("/api/v1/procedures/1.001193")["forms"][0]["download_url"].as_str().unwrap().to_string();
    let original = app.get(&form).bytes().unwrap().to_vec();
    assert!(pdfsig(&original).contains("does not contain any signatures"), "{}", pdfsig(&original));
    let res =
        app.upload(&format!("/api/v1/dossiers/{id}/results"), &a.officer, &[], Some(("kq.pdf", original.clone())));
    assert_eq!(res.status(), 201);
    let issued: Value = res.json().unwrap();
    let rid = issued["id"].as_str().unwrap();
    let res = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/results/{rid}"))), &a.citizen)
        .send()
        .unwrap();
    let signed = res.bytes().unwrap().to_vec();
    assert!(signed.len() > original.len() && signed.starts_with(&original), "an incremental update");
    let report = pdfsig(&signed);
    assert!(report.contains("Signature is Valid"), "{report}");
    assert!(report.contains("ubnd-ky-pdf") && report.contains("Total document signed"), "{report}");
    // The registration is of the signed file: its bytes verify, and the text still reads.
    assert_eq!(verify_bytes(&app, signed.clone())["verdict"], "genuine");
    assert!(crate::support::pdf_text(&signed).contains("TỜ KHAI ĐĂNG KÝ KHAI SINH"));
    // One changed byte of the content: poppler finds the digest no longer matches.
    let mut changed = signed.clone();
    let at = original.len() / 2;
    changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
    let report = pdfsig(&changed);
    assert!(report.contains("Digest Mismatch") && !report.contains("Signature is Valid"), "{report}");
}

on_both_backends!(
    pdf_results_are_signed_inside,
    issued_results_verify_by_code_and_bytes,
    results_of_an_agency_without_a_key_are_registered_unsigned,
    result_copies_carry_their_verification
);
