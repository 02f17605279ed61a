//! Cross-tenant access on every route: each secured operation of the OpenAPI document is called
//! by every role that must not reach the resources it names (anonymous callers, another citizen,
//! officers of another agency, integration clients of another agency, and any role outside the
//! route's audience), and must answer 401/403/404 while the database stays exactly as it was.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{json, Value};

use crate::accounts::{register_citizen, PASSWORD};
use crate::dossiers::{actors, pdf, submitted};
use crate::integration::{client, token};
use crate::on_both_backends;
use crate::support::{Backend, TestApp};
use crate::webhooks::fast_webhooks;

/// The caller of one request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Anonymous,
    Owner,
    Stranger,
    Officer,
    OtherOfficer,
    Admin,
    Client,
    OtherClient,
}

const ROLES: [Role; 8] = [
    Role::Anonymous,
    Role::Owner,
    Role::Stranger,
    Role::Officer,
    Role::OtherOfficer,
    Role::Admin,
    Role::Client,
    Role::OtherClient,
];

/// Whether `role` must be refused `path`, whose resources belong to the owner citizen, the
/// owner agency (and its officer and integration client) and the administrator.
fn must_refuse(role: Role, path: &str) -> bool {
    use Role::*;
    if role == Anonymous {
        return true;
    }
    let integration = matches!(role, Client | OtherClient);
    let rest = path.trim_start_matches("/api/v1/");
    let first = rest.split('/').next().unwrap_or_default();
    let names_resource = rest.contains('{');
    match first {
        "admin" => role != Admin,
        "integration" => !integration || (role == OtherClient && names_resource),
        "agency" => !matches!(role, Officer | OtherOfficer | Admin),
        // The handling agency's one-stop system reads a dossier's documents.
        "dossiers" if rest.contains("/documents/") => matches!(role, Stranger | OtherOfficer | OtherClient),
        "dossiers" | "payments" | "feedback" if names_resource => {
            matches!(role, Stranger | OtherOfficer | Client | OtherClient)
        }
        // Lists and creations scoped to the caller, and one's own sessions: only people have them.
        "me" | "dossiers" | "feedback" | "auth" => integration,
        other => panic!("no tenancy rule for /{other} ({path}): add one"),
    }
}

/// The number of rows of every table a refused request could touch.
fn row_counts(app: &TestApp) -> Vec<(String, i64)> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    [
        "accounts",
        "admin_units",
        "agencies",
        "dossier_attachments",
        "dossier_code_counters",
        "dossier_events",
        "dossiers",
        "feedback",
        "feedback_events",
        "fields",
        "files",
        "fine_payments",
        "fines",
        "holidays",
        "idempotency_keys",
        "integration_clients",
        "integration_events",
        "notifications",
        "password_resets",
        "payment_callbacks",
        "payments",
        "procedure_agencies",
        "procedures",
        "ratings",
        "receipts",
        "registrations",
        "search_synonyms",
        "webhook_deliveries",
        "webhooks",
    ]
    .iter()
    .map(|t| {
        let n = diesel::sql_query(format!("SELECT count(*) AS n FROM {t}")).get_result::<N>(&mut **conn).unwrap().n;
        (t.to_string(), n)
    })
    .collect()
}

/// Every secured operation, as every role that must not reach it: 401 when anonymous, else
/// 403/404; and no row anywhere changed.
fn every_route_refuses_every_outsider(backend: Backend) {
    let app = TestApp::seeded_with(backend, fast_webhooks);
    let a = actors(&app);
    let admin = app.admin_token();

    // The owner agency's integration client and its webhook, registered before the dossier moves.
    let (client_id, client_secret) = client(&app, &admin, "Một cửa tỉnh A", &[&a.agency_id]);
    let client_token = token(&app, &client_id, &client_secret);
    let hook = app.post(
        "/api/v1/integration/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "events": ["dossier.status_changed"], "secret": "whsec-tinh-a-000000"}),
        Some(&client_token),
    );
    assert_eq!(hook.status(), 201);
    let hook: Value = hook.json().unwrap();

    // The owner's dossier (submitted, with attachments), a fee dossier with a payment, a complaint.
    let d = submitted(&app, &a);
    let fee_procedure = app.get_json("/api/v1/procedures/1.004873");
    let fee_agency = fee_procedure["agencies"][0]["id"].as_str().unwrap().to_string();
    let form = json!({"full_name": "Nguyễn Văn An", "date_of_birth": "1999-05-01", "residence": "Hoàn Kiếm, Hà Nội",
                      "marital_status": "Chưa đăng ký kết hôn", "purpose": "Đăng ký kết hôn"});
    let res = app.post(
        "/api/v1/dossiers",
        &json!({"procedure_id": fee_procedure["id"], "agency_id": fee_agency, "form_data": form, "delivery": {"method": "online"}}),
        Some(&a.citizen),
    );
    assert_eq!(res.status(), 201);
    let fee_dossier: Value = res.json().unwrap();
    let fid = fee_dossier["id"].as_str().unwrap();
    let res = app.upload(
        &format!("/api/v1/dossiers/{fid}/attachments"),
        &a.citizen,
        &[("document_id", "TK-XNHN")],
        Some(("tk.pdf", pdf("tk"))),
    );
    assert_eq!(res.status(), 201);
    assert_eq!(app.post(&format!("/api/v1/dossiers/{fid}/submit"), &json!({}), Some(&a.citizen)).status(), 200);
    let res = app.post(&format!("/api/v1/dossiers/{fid}/payments"), &json!({"provider": "sandbox"}), Some(&a.citizen));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let payment: Value = res.json().unwrap();
    let res = app.post(
        "/api/v1/feedback",
        &json!({"kind": "complaint", "dossier_code": d["code"], "title": "Chậm trả lời",
                "content": "Hồ sơ của tôi chưa được tiếp nhận sau nhiều ngày."}),
        Some(&a.citizen),
    );
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let feedback: Value = res.json().unwrap();

    // The outsiders: another citizen, an officer and a client of an agency handling neither dossier.
    let other_agency = app.get_json("/api/v1/agencies?per_page=100")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .find(|id| *id != a.agency_id && *id != fee_agency)
        .expect("a third agency");
    register_citizen(&app, "079099012345", "0987654321");
    let stranger = app.sign_in("079099012345", PASSWORD);
    let other_officer = app.officer_token("canbo.khac", Some(&other_agency));
    let (other_id, other_secret) = client(&app, &admin, "Một cửa tỉnh B", &[&other_agency]);
    let other_client = token(&app, &other_id, &other_secret);
    let token_of = |role: Role| -> Option<&str> {
        match role {
            Role::Anonymous => None,
            Role::Owner => Some(&a.citizen),
            Role::Stranger => Some(&stranger),
            Role::Officer => Some(&a.officer),
            Role::OtherOfficer => Some(&other_officer),
            Role::Admin => Some(&admin),
            Role::Client => Some(&client_token),
            Role::OtherClient => Some(&other_client),
        }
    };

    // What each path parameter names, by the collection it follows.
    let staff = app.get_json_with("/api/v1/admin/staff?per_page=100", &admin);
    let officer_id = staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "canbo.hotich")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .expect("the officer in the staff list");
    let deliveries = app.get_json_with(
        &format!("/api/v1/integration/webhooks/{}/deliveries", hook["id"].as_str().unwrap()),
        &client_token,
    );
    let delivery_id = deliveries["items"][0]["id"].as_str().expect("a delivery of the submission").to_string();
    // A fine decision of the owner agency, registered by its client.
    let fine = json!({"decided_on": "2026-11-20", "violator": {"full_name": "Nguyễn Văn An", "id_number": "001099012345"},
                      "plate": "30A-123.45", "violation": "Vượt đèn đỏ", "amount_vnd": 4_000_000, "pay_by": "2026-11-30"});
    let res = app
        .with_token(app.client.put(app.url("/api/v1/integration/fines/12345%2FQ%C4%90-XPHC")), &client_token)
        .json(&fine)
        .send()
        .unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let fields = app.get_json("/api/v1/fields");
    let field_id = fields.get("items").unwrap_or(&fields)[0]["id"].as_str().unwrap().to_string();
    let resolve = |path: &str| -> String {
        let segments: Vec<&str> = path.split('/').collect();
        let mut out = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            let before = if i > 0 { segments[i - 1] } else { "" };
            let value = match (*s, before) {
                ("{id}", "dossiers") => d["id"].as_str().unwrap().to_string(),
                ("{id}", "payments") => payment["id"].as_str().unwrap().to_string(),
                ("{id}", "feedback") => feedback["id"].as_str().unwrap().to_string(),
                ("{id}", "agencies") => a.agency_id.clone(),
                ("{id}", "fields") => field_id.clone(),
                ("{id}", "procedures") => a.procedure_id.clone(),
                ("{id}", "staff") => officer_id.clone(),
                ("{id}", "integration-clients") => client_id.clone(),
                ("{id}", "webhooks") => hook["id"].as_str().unwrap().to_string(),
                ("{code}", _) => d["code"].as_str().unwrap().to_string(),
                ("{aid}", _) | ("{rid}", _) => d["attachments"][0]["id"].as_str().unwrap().to_string(),
                ("{delivery_id}", _) => delivery_id.clone(),
                ("{date}", _) => "2026-09-02".to_string(),
                ("{kind}", "documents") => "receipt".to_string(),
                ("{decision_number}", _) => "12345%2FQ%C4%90-XPHC".to_string(),
                (p, _) if p.starts_with('{') => panic!("no value for {p} in {path}: add one"),
                (p, _) => p.to_string(),
            };
            out.push(value);
        }
        out.join("/")
    };

    // A body each operation accepts, so that only the caller is wrong.
    let body_for = |method: &str, path: &str| -> Value {
        let last = path.rsplit('/').next().unwrap_or_default();
        match (method, path) {
            ("patch", p) if p.starts_with("/api/v1/dossiers/") => json!({"form_data": {}}),
            ("patch", p) if p.starts_with("/api/v1/feedback/") => json!({"publish": false}),
            ("patch", "/api/v1/me") => json!({"email": "khac@example.vn"}),
            ("put", "/api/v1/integration/dossiers/{code}") => {
                json!({"procedure_id": a.procedure_id, "channel": "counter",
                "applicant": {"full_name": "Lê Văn Bình", "id_number": "001099012399"}})
            }
            ("put", p) if p.starts_with("/api/v1/admin/holidays/") => json!({"name": "Quốc khánh"}),
            ("put", "/api/v1/integration/fines/{decision_number}") => fine.clone(),
            ("put", "/api/v1/admin/search/synonyms") => json!({"entries": [{"kind": "stop", "terms": ["giúp"]}]}),
            ("put", "/api/v1/admin/fields/{id}") => fields.get("items").unwrap_or(&fields)[0].clone(),
            ("put", p) if p.starts_with("/api/v1/admin/") => app.get_json(&format!(
                "/api/v1/{}/{}",
                p.split('/').nth(4).unwrap(),
                resolve(p).rsplit('/').next().unwrap()
            )),
            ("post", _) => match last {
                "payments" => json!({"provider": "sandbox"}),
                "transitions" => json!({"action": "receive"}),
                "withdraw" => json!({"reason": "Không cần nữa"}),
                "rating" => json!({"score": 5}),
                "answer" => json!({"content": "Đã xử lý xong."}),
                "reopen" => json!({"content": "Chưa thoả đáng"}),
                "refund" => json!({"reason": "Thu nhầm"}),
                "revoke" => json!({"reason": "Cấp nhầm"}),
                "staff" => json!({"username": "canbo.moi", "full_name": "Cán bộ mới", "role": "officer",
                                  "agency_id": a.agency_id, "password": "Matkhau@2026"}),
                "integration-clients" => json!({"name": "Hệ thống mới", "agency_ids": [a.agency_id]}),
                "webhooks" => {
                    json!({"url": "http://127.0.0.1:9/x", "events": ["dossier.submitted"], "secret": "whsec-khac-0000000000"})
                }
                "dossiers" => json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": {},
                                     "delivery": {"method": "online"}}),
                "feedback" => json!({"kind": "reflection", "agency_id": a.agency_id, "title": "Góp ý",
                                     "content": "Nên mở thêm quầy tiếp nhận vào thứ Bảy."}),
                _ => json!({}),
            },
            _ => json!({}),
        }
    };

    let spec: Value = app.get_json("/api-docs/openapi.json");
    let before = row_counts(&app);
    let owner_view = app.get_json_with(&format!("/api/v1/dossiers/{}", d["id"].as_str().unwrap()), &a.citizen);
    let mut walked = 0;
    let mut refusals = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if operation["security"].as_array().is_none_or(|s| s.is_empty()) {
                continue;
            }
            let url = app.url(&resolve(path));
            for role in ROLES {
                if !must_refuse(role, path) {
                    continue;
                }
                let multipart = path.ends_with("/attachments") || path.ends_with("/results");
                let builder = match method.as_str() {
                    "get" => app.client.get(&url),
                    "delete" => app.client.delete(&url),
                    "post" if multipart => app.client.post(&url).multipart(
                        reqwest::blocking::multipart::Form::new()
                            .text("document_id", "TK-KS")
                            .part("file", reqwest::blocking::multipart::Part::bytes(pdf("x")).file_name("x.pdf")),
                    ),
                    "post" => app.client.post(&url).json(&body_for(method, path)),
                    "put" => app.client.put(&url).json(&body_for(method, path)),
                    "patch" => app.client.patch(&url).json(&body_for(method, path)),
                    other => panic!("{other} {path}: no request for this method"),
                };
                let builder = match token_of(role) {
                    Some(t) => app.with_token(builder, t),
                    None => builder,
                };
                let status = builder.send().unwrap().status().as_u16();
                let expected: &[u16] = if role == Role::Anonymous { &[401] } else { &[401, 403, 404] };
                if !expected.contains(&status) {
                    refusals.push(format!("{} {path} as {role:?}: {status}", method.to_uppercase()));
                }
                walked += 1;
            }
        }
    }
    assert!(refusals.is_empty(), "not refused:\n{}", refusals.join("\n"));
    assert!(walked >= 300, "only {walked} requests walked");
    assert_eq!(row_counts(&app), before, "no row was added or removed");
    let after = app.get_json_with(&format!("/api/v1/dossiers/{}", d["id"].as_str().unwrap()), &a.citizen);
    assert_eq!(after, owner_view, "the owner's dossier is as it was");
    let answered = app.get_json_with(&format!("/api/v1/feedback/{}", feedback["id"].as_str().unwrap()), &a.citizen);
    assert_eq!(answered["status"], "new", "the complaint is untouched");
    let paid = app.get_json_with(&format!("/api/v1/payments/{}", payment["id"].as_str().unwrap()), &a.citizen);
    assert_eq!(paid["status"], payment["status"], "the payment is untouched");
    let clients = app.get_json_with("/api/v1/admin/integration-clients", &admin);
    assert!(clients["items"].as_array().unwrap().iter().all(|c| c["revoked_at"].is_null()), "no client revoked");
    let staff_after = app.get_json_with("/api/v1/admin/staff?per_page=100", &admin);
    assert_eq!(staff_after, staff, "staff accounts are as they were");
}

on_both_backends!(every_route_refuses_every_outsider);
