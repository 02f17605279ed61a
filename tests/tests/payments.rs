//! Fees and payment: fee rules in the workflow, the sandbox, VNPay's signed IPN, VietQR, refunds,
//! idempotent creation and reconciliation.

use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::dossiers::pdf;
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

const VNPAY_SECRET: &str = "VNPAYTESTSECRET0123456789ABCDEF";

pub(crate) fn app_with_vnpay(backend: Backend) -> TestApp {
    let app = TestApp::start_with(backend, |c| {
        c.vnpay = Some(dvc_api::payment::VnpayConfig {
            tmn_code: "DVCTEST1".into(),
            hash_secret: VNPAY_SECRET.into(),
            pay_url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into(),
            return_url: "http://127.0.0.1/api/v1/payments/return/vnpay".into(),
        });
        c.vietqr_bin = "970415".into();
        c.vietqr_account = "113366668888".into();
    });
    dvc_api::seed::demo(&mut app.conn()).unwrap();
    app
}

pub(crate) struct Case {
    pub(crate) citizen: String,
    officer: String,
    pub(crate) dossier: Value,
}

/// A submitted marital-status dossier (3,000 đồng due before processing).
pub(crate) fn submitted_with_fee(app: &TestApp) -> Case {
    let procedure = app.get_json("/api/v1/procedures/1.004873");
    let agency_id = procedure["agencies"][0]["id"].as_str().unwrap().to_string();
    register_citizen(app, "001099012345", "0912345678");
    let citizen = app.sign_in("001099012345", PASSWORD);
    let officer = app.officer_token("canbo.hotich", Some(&agency_id));
    let dossier = submit_with_fee(app, &citizen);
    Case { citizen, officer, dossier }
}

/// Another marital-status dossier of the citizen, submitted.
pub(crate) fn submit_with_fee(app: &TestApp, citizen: &str) -> Value {
    let procedure = app.get_json("/api/v1/procedures/1.004873");
    let agency_id = procedure["agencies"][0]["id"].as_str().unwrap().to_string();
    let citizen = citizen.to_string();
    let form = json!({"full_name": "Nguyễn Văn An", "date_of_birth": "1999-05-01", "residence": "Hoàn Kiếm, Hà Nội",
                      "marital_status": "Chưa đăng ký kết hôn", "purpose": "Đăng ký kết hôn"});
    let body = json!({"procedure_id": procedure["id"], "agency_id": agency_id, "form_data": form, "delivery": {"method": "post", "address": "Số 1 Tràng Tiền, Hà Nội"}});
    let res = app.post("/api/v1/dossiers", &body, Some(&citizen));
    assert_eq!(res.status(), 201);
    let d: Value = res.json().unwrap();
    let id = d["id"].as_str().unwrap();
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &citizen,
        &[("document_id", "TK-XNHN")],
        Some(("tk.pdf", pdf("tk"))),
    );
    assert_eq!(res.status(), 201);
    app.post(&format!("/api/v1/dossiers/{id}/submit"), &json!({}), Some(&citizen)).json().unwrap()
}

/// Pays a submitted dossier's fees in the sandbox; the payment as read afterwards.
pub(crate) fn paid_in_sandbox(app: &TestApp, citizen: &str, dossier: &Value) -> Value {
    let id = dossier["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/dossiers/{id}/payments"), &json!({"provider": "sandbox"}), Some(citizen));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let pid = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let res = app.post(&format!("/api/v1/payments/{pid}/sandbox-complete"), &json!({}), Some(citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
    app.get_json_with(&format!("/api/v1/payments/{pid}"), citizen)
}

fn pay(app: &TestApp, case: &Case, provider: &str, key: Option<&str>) -> reqwest::blocking::Response {
    let id = case.dossier["id"].as_str().unwrap();
    let mut b = app
        .with_token(app.client.post(app.url(&format!("/api/v1/dossiers/{id}/payments"))), &case.citizen)
        .json(&json!({"provider": provider}));
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    b.send().unwrap()
}

fn receive(app: &TestApp, case: &Case) -> reqwest::blocking::Response {
    let id = case.dossier["id"].as_str().unwrap();
    app.post(&format!("/api/v1/dossiers/{id}/transitions"), &json!({"action": "receive"}), Some(&case.officer))
}

fn fee_before_blocks_receive_until_paid_in_sandbox(backend: Backend) {
    let app = app_with_vnpay(backend);
    let case = submitted_with_fee(&app);
    assert_eq!(case.dossier["national_status_code"], 6, "payment requested");
    assert_eq!(case.dossier["fees"]["outstanding_before"], 3000);
    assert_problem(receive(&app, &case), 409, "fee_unpaid");
    let code = case.dossier["code"].as_str().unwrap().to_string();
    let tracked = || app.get_json(&format!("/api/v1/dossiers/lookup?code={code}"))["national_status_code"].clone();
    assert_eq!(tracked(), 6, "public tracking shows the fee owed");

    // Idempotent creation: the same key and body give the same payment.
    let first = pay(&app, &case, "sandbox", Some("k-1"));
    assert_eq!(first.status(), 201);
    let first: Value = first.json().unwrap();
    let again: Value = pay(&app, &case, "sandbox", Some("k-1")).json().unwrap();
    assert_eq!(first, again);
    let id = case.dossier["id"].as_str().unwrap();
    let other = app
        .with_token(app.client.post(app.url(&format!("/api/v1/dossiers/{id}/payments"))), &case.citizen)
        .header("idempotency-key", "k-1")
        .json(&json!({"provider": "vnpay"}))
        .send()
        .unwrap();
    assert_problem(other, 422, "idempotency_key_reused");
    let fees: Value = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/fees"))), &case.citizen)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(fees["payments"].as_array().unwrap().len(), 1, "one payment for one key");
    assert_eq!(first["amount_vnd"], 3000);
    assert_eq!(first["status"], "pending");

    // VietQR: the CRC verifies and the fields decode to the amount and the dossier code.
    let qr = first["vietqr"].as_str().unwrap();
    assert!(dvc_domain::vietqr::crc_valid(qr));
    let fields = dvc_domain::vietqr::parse_tlv(qr).unwrap();
    let get = |id: &str| fields.iter().find(|(k, _)| k == id).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("54"), "3000");
    assert_eq!(get("53"), "704");
    assert_eq!(get("58"), "VN");
    let merchant = dvc_domain::vietqr::parse_tlv(&get("38")).unwrap();
    assert_eq!(merchant[0].1, "A000000727");
    assert_eq!(dvc_domain::vietqr::parse_tlv(&merchant[1].1).unwrap()[0].1, "970415");
    let purpose = dvc_domain::vietqr::parse_tlv(&get("62")).unwrap();
    assert_eq!(
        purpose[0].1,
        case.dossier["code"].as_str().unwrap()[..25.min(case.dossier["code"].as_str().unwrap().len())]
    );
    let png = app
        .with_token(
            app.client.get(app.url(&format!("/api/v1/payments/{}/vietqr.png", first["id"].as_str().unwrap()))),
            &case.citizen,
        )
        .send()
        .unwrap();
    assert_eq!(png.headers().get("content-type").unwrap(), "image/png");
    assert_eq!(&png.bytes().unwrap()[..8], b"\x89PNG\r\n\x1a\n");

    // The sandbox settles it; receive now passes.
    let pid = first["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/payments/{pid}/sandbox-complete"), &json!({}), Some(&case.citizen));
    assert_eq!(res.json::<Value>().unwrap()["status"], "paid");
    assert_eq!(tracked(), 1, "public tracking sees the payment");
    assert_problem(
        app.post(&format!("/api/v1/payments/{pid}/sandbox-complete"), &json!({}), Some(&case.citizen)),
        409,
        "conflict",
    );
    let received: Value = receive(&app, &case).json().unwrap();
    assert_eq!(received["status"], "received");
    assert_eq!(received["fees"]["outstanding_before"], 0);
    // Paid online: the statistics count it, and the agency's one-stop system hears of it.
    let agency_id = received["agency"]["id"].as_str().unwrap();
    let stats = app.get_json(&format!("/api/v1/statistics/agencies/{agency_id}"));
    assert_eq!((stats["received"].clone(), stats["online_payment_rate"].clone()), (json!(1), json!(1.0)));
    let admin = app.admin_token();
    let client: Value = app
        .post("/api/v1/admin/integration-clients", &json!({"name": "Một cửa", "agency_ids": [agency_id]}), Some(&admin))
        .json()
        .unwrap();
    let token: Value = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let feed: Value = app
        .with_token(app.client.get(app.url("/api/v1/integration/events")), token["access_token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let paid: Vec<&Value> = feed["items"].as_array().unwrap().iter().filter(|e| e["type"] == "payment.paid").collect();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["data"]["amount_vnd"], 3000);
    assert_eq!(paid[0]["dossier_code"], case.dossier["code"]);
    // Nothing more to pay.
    assert_problem(pay(&app, &case, "sandbox", None), 409, "nothing_due");

    // Only the owner and the agency see the payment.
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    assert_problem(
        app.with_token(app.client.get(app.url(&format!("/api/v1/payments/{pid}"))), &stranger).send().unwrap(),
        404,
        "not_found",
    );
    assert_eq!(
        app.with_token(app.client.get(app.url(&format!("/api/v1/payments/{pid}"))), &case.officer)
            .send()
            .unwrap()
            .status(),
        200
    );

    // Refund by the agency, recorded in the history.
    assert_problem(
        app.post(&format!("/api/v1/payments/{pid}/refund"), &json!({"reason": "x"}), Some(&case.citizen)),
        403,
        "forbidden",
    );
    let res = app.post(&format!("/api/v1/payments/{pid}/refund"), &json!({"reason": "Thu trùng"}), Some(&case.officer));
    assert_eq!(res.json::<Value>().unwrap()["status"], "refunded");
    assert_problem(
        app.post(&format!("/api/v1/payments/{pid}/refund"), &json!({"reason": "Lần nữa"}), Some(&case.officer)),
        409,
        "conflict",
    );
    let history: Value = app
        .with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/history"))), &case.citizen)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let actions: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"payment_paid") && actions.contains(&"payment_refunded"), "{actions:?}");

    // Results by post need the tracking number.
    let did = id;
    app.post(
        &format!("/api/v1/dossiers/{did}/transitions"),
        &json!({"action": "start_processing"}),
        Some(&case.officer),
    );
    app.upload(&format!("/api/v1/dossiers/{did}/results"), &case.officer, &[], Some(("kq.pdf", pdf("kq"))));
    app.post(&format!("/api/v1/dossiers/{did}/transitions"), &json!({"action": "complete"}), Some(&case.officer));
    let res = app.post(
        &format!("/api/v1/dossiers/{did}/transitions"),
        &json!({"action": "return_result"}),
        Some(&case.officer),
    );
    assert_eq!(assert_problem(res, 400, "validation_failed")["errors"][0]["field"], "postal_tracking_number");
    let res = app.post(
        &format!("/api/v1/dossiers/{did}/transitions"),
        &json!({"action": "return_result", "postal_tracking_number": "EE123456789VN"}),
        Some(&case.officer),
    );
    assert_eq!(res.status(), 200);
}

/// VNPay's signature, computed independently of the server: sorted `k=v` joined by `&`, HMAC-SHA512.
fn vnpay_sign(params: &[(&str, String)]) -> String {
    let mut sorted: Vec<&(&str, String)> = params.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let data = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA512, VNPAY_SECRET.as_bytes());
    ring::hmac::sign(&key, data.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn ipn(app: &TestApp, params: &[(&str, String)], signature: &str) -> Value {
    let mut query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    query.push(format!("vnp_SecureHash={signature}"));
    app.get_json(&format!("/api/v1/payments/callback/vnpay?{}", query.join("&")))
}

fn vnpay_ipn_rules(backend: Backend) {
    let app = app_with_vnpay(backend);
    let case = submitted_with_fee(&app);
    let res = pay(&app, &case, "vnpay", Some("vnp-1"));
    assert_eq!(res.status(), 201);
    let payment: Value = res.json().unwrap();
    let url = payment["redirect_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://sandbox.vnpayment.vn/paymentv2/vpcpay.html?")
            && url.contains("vnp_Amount=300000")
            && url.contains("vnp_SecureHash=")
    );
    assert!(
        url.contains("vnp_Version=2.1.0") && url.contains("vnp_TmnCode=DVCTEST1") && url.contains("vnp_CurrCode=VND")
    );
    let reference = payment["reference"].as_str().unwrap().to_string();
    let params = |amount: &str, txn: &str| {
        vec![
            ("vnp_Amount", amount.to_string()),
            ("vnp_BankCode", "NCB".to_string()),
            ("vnp_PayDate", "20261122103000".to_string()),
            ("vnp_ResponseCode", "00".to_string()),
            ("vnp_TmnCode", "DVCTEST1".to_string()),
            ("vnp_TransactionNo", "14123456".to_string()),
            ("vnp_TransactionStatus", "00".to_string()),
            ("vnp_TxnRef", txn.to_string()),
        ]
    };
    let pid = payment["id"].as_str().unwrap();
    let status = || {
        app.with_token(app.client.get(app.url(&format!("/api/v1/payments/{pid}"))), &case.citizen)
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()["status"]
            .clone()
    };

    // A bad signature, a wrong amount, an unknown reference: refused, nothing changes.
    let good = params("300000", &reference);
    assert_eq!(ipn(&app, &good, &"0".repeat(128))["RspCode"], "97");
    let wrong_amount = params("100", &reference);
    assert_eq!(ipn(&app, &wrong_amount, &vnpay_sign(&wrong_amount))["RspCode"], "04");
    let unknown = params("300000", "nosuchreference");
    assert_eq!(ipn(&app, &unknown, &vnpay_sign(&unknown))["RspCode"], "01");
    assert_eq!(status(), "pending");
    assert_problem(receive(&app, &case), 409, "fee_unpaid");

    // Signed with the configured secret: accepted once; the replay is "already confirmed".
    let answer = ipn(&app, &good, &vnpay_sign(&good));
    assert_eq!(answer, json!({"RspCode": "00", "Message": "Confirm Success"}));
    assert_eq!(status(), "paid");
    assert_eq!(ipn(&app, &good, &vnpay_sign(&good))["RspCode"], "02");
    let history: Value = app
        .with_token(
            app.client.get(app.url(&format!("/api/v1/dossiers/{}/history", case.dossier["id"].as_str().unwrap()))),
            &case.citizen,
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(history.as_array().unwrap().iter().filter(|e| e["action"] == "payment_paid").count(), 1, "settled once");
    assert_eq!(receive(&app, &case).status(), 200);

    // The return URL checks the signature and changes nothing.
    let mut q: Vec<String> = good.iter().map(|(k, v)| format!("{k}={v}")).collect();
    q.push(format!("vnp_SecureHash={}", "1".repeat(128)));
    assert_problem(app.get(&format!("/api/v1/payments/return/vnpay?{}", q.join("&"))), 400, "bad_request");
    q.pop();
    q.push(format!("vnp_SecureHash={}", vnpay_sign(&good)));
    assert_eq!(app.get_json(&format!("/api/v1/payments/return/vnpay?{}", q.join("&")))["status"], "paid");

    // Reconciliation sees the confirmed payment and flags the callback for an unknown reference.
    let admin = app.admin_token();
    let today = chrono::Utc::now().with_timezone(&dvc_api::calendar::vietnam()).date_naive();
    let rec: Value = app
        .with_token(app.client.get(app.url(&format!("/api/v1/admin/payments/reconciliation?date={today}"))), &admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(rec["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["provider"] == "vnpay" && g["status"] == "paid" && g["amount_vnd"] == 3000));
    let kinds: Vec<&str> = rec["mismatches"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["callback_for_unknown_reference"]);
    assert_problem(
        app.with_token(app.client.get(app.url("/api/v1/admin/payments/reconciliation?date=nope")), &admin)
            .send()
            .unwrap(),
        400,
        "validation_failed",
    );
}

on_both_backends!(fee_before_blocks_receive_until_paid_in_sandbox, vnpay_ipn_rules);

/// Fees that block the next step show as national status 6 in the history and on the national
/// wire, as well as on the dossier.
fn fees_requested_appear_in_the_history_and_the_national_format(backend: Backend) {
    let app = app_with_vnpay(backend);
    let case = submitted_with_fee(&app);
    let id = case.dossier["id"].as_str().unwrap();
    let history = app.get_json_with(&format!("/api/v1/dossiers/{id}/history"), &case.citizen);
    let submit = history.as_array().unwrap().iter().find(|e| e["action"] == "submit").expect("submitted");
    assert_eq!(submit["data"]["national_status_code"], 6, "{history}");
    let admin = app.admin_token();
    let agency = case.dossier["agency"]["id"].as_str().unwrap();
    let (client_id, secret) = crate::integration::client(&app, &admin, "Một cửa tỉnh", &[agency]);
    let token = crate::integration::token(&app, &client_id, &secret);
    let code = case.dossier["code"].as_str().unwrap();
    let wire = crate::integration::get_ok(&app, &format!("/api/v1/integration/dossiers/{code}/national"), &token);
    assert_eq!(wire["TrangThaiHoSo"], 6);
    let steps = wire["QuaTrinhXuLy"].as_array().unwrap();
    assert_eq!(steps.iter().find(|s| s["HanhDong"] == "submit").unwrap()["TrangThai"], 6, "{wire}");
    assert_eq!(steps.iter().find(|s| s["HanhDong"] == "create").unwrap()["TrangThai"], serde_json::Value::Null);
}

on_both_backends!(fees_requested_appear_in_the_history_and_the_national_format);

fn fees_follow_the_channel_and_the_pages(backend: Backend) {
    let crate::integration::Setup { app, a, admin, .. } = crate::integration::setup(TestApp::seeded(backend));
    let fees_of = |id: &str| -> Value {
        app.with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/fees"))), &a.citizen)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let new_draft = |code: &str, form: Value| -> String {
        let procedure = app.get_json(&format!("/api/v1/procedures/{code}"));
        let agency = procedure["agencies"].as_array().unwrap().iter().find(|g| g["id"] == a.agency_id.as_str());
        let agency = agency.unwrap_or(&procedure["agencies"][0])["id"].clone();
        let body = json!({"procedure_id": procedure["id"], "agency_id": agency, "form_data": form, "delivery": {"method": "online"}});
        let res = app.post("/api/v1/dossiers", &body, Some(&a.citizen));
        assert_eq!(res.status(), 201, "{:?}", res.text());
        res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
    };
    // Temporary residence online: the online amount only.
    let residence =
        new_draft("1.004194", json!({"address": "12 Hàng Bạc", "commune_code": "00070", "from_date": "2026-12-01"}));
    let fees = fees_of(&residence);
    assert_eq!(fees["due_before"], 7_000, "{fees}");
    assert_eq!(fees["items"].as_array().unwrap().len(), 1);
    assert_eq!(fees["items"][0]["channel"], "online");
    // Certified copies: 5 pages, 2 copies = (2 × 2,000 + 3 × 1,000) × 2.
    let copies = new_draft("2.000815", json!({"document_title": "Bằng tốt nghiệp", "pages": 5, "copies": 2}));
    let fees = fees_of(&copies);
    assert_eq!(fees["due_before"], 14_000, "{fees}");
    assert_eq!(fees["items"][0]["quantity"], 10);
    assert_eq!(fees["items"][0]["owed_vnd"], 14_000);
    // A thick document reaches the cap for each copy.
    let res = app
        .with_token(app.client.patch(app.url(&format!("/api/v1/dossiers/{copies}"))), &a.citizen)
        .json(&json!({"form_data": {"document_title": "Hồ sơ thiết kế", "pages": 400, "copies": 2}}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text());
    assert_eq!(fees_of(&copies)["due_before"], 400_000);
    // At the police's counter, the in-person amount.
    let procedure = app.get_json("/api/v1/procedures/1.004194");
    let police = &procedure["agencies"][0];
    let (id, secret) = crate::integration::client(&app, &admin, "Một cửa công an", &[police["id"].as_str().unwrap()]);
    let token = crate::integration::token(&app, &id, &secret);
    let code = format!("{}-261120-0077", police["code"].as_str().unwrap());
    let res = app
        .with_token(app.client.put(app.url(&format!("/api/v1/integration/dossiers/{code}"))), &token)
        .json(&json!({"procedure_id": procedure["id"], "channel": "counter",
                      "applicant": {"full_name": "Lê Văn Tám", "id_number": "001099012345"}}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let registered: Value = res.json().unwrap();
    assert_eq!(registered["fees"]["due_before"], 15_000, "{registered}");
}

on_both_backends!(fees_follow_the_channel_and_the_pages);
