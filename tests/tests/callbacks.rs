//! What a payment gateway's notification can cost: the body read up to a limit, a forged one
//! kept as its digest, and a per-address limit on the callback path.

use serde_json::Value;

use crate::on_both_backends;
use crate::payments::app_with_vnpay;
use crate::support::{assert_problem, Backend, TestApp};

fn callback_rows(app: &TestApp) -> Vec<(bool, String)> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        signature_valid: bool,
        #[diesel(sql_type = diesel::sql_types::Text)]
        payload: String,
    }
    let mut conn = app.conn();
    let rows: Vec<Row> =
        diesel::sql_query("SELECT signature_valid, payload FROM payment_callbacks ORDER BY created_at")
            .load(&mut **conn)
            .unwrap();
    rows.into_iter().map(|r| (r.signature_valid, r.payload)).collect()
}

/// What a gateway notification can cost: a body over 16 KiB is refused unread, a forged one is
/// kept as its size and digest only, and one address may send only so many a minute.
fn payment_callbacks_cost_little(backend: Backend) {
    let app = app_with_vnpay(backend);
    let post = |body: String| {
        app.client
            .post(app.url("/api/v1/payments/callback/vnpay"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap()
    };
    let junk = "x".repeat(870 * 1024);
    assert_problem(post(format!("vnp_TxnRef=abc&vnp_OrderInfo={junk}")), 413, "payload_too_large");
    assert!(callback_rows(&app).is_empty(), "nothing of it was stored");

    let forged = format!("vnp_TxnRef=abc&vnp_Amount=100&vnp_OrderInfo={}&vnp_SecureHash=00", "y".repeat(12 * 1024));
    let res = post(forged);
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().unwrap()["RspCode"], "97");
    let rows = callback_rows(&app);
    assert_eq!(rows.len(), 1);
    let (valid, payload) = &rows[0];
    assert!(!valid);
    assert!(payload.len() < 200 && !payload.contains("yyyy"), "kept as a digest: {payload}");
    assert!(payload.contains("sha256"), "{payload}");
}

fn payment_callbacks_are_limited_per_address(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.callback_rate_per_minute = 3);
    for _ in 0..3 {
        // No provider is configured: 404, but each counts.
        assert_eq!(app.get("/api/v1/payments/callback/vnpay?vnp_TxnRef=a").status(), 404);
    }
    let res = app.get("/api/v1/payments/callback/vnpay?vnp_TxnRef=a");
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate_limited");
}

on_both_backends!(payment_callbacks_cost_little, payment_callbacks_are_limited_per_address);
