//! Slow clients: connections that stall in their headers or their body are answered 408 and
//! closed after the configured time, other clients are served meanwhile, and a stalled request
//! changes nothing. A body that keeps arriving, however slowly, is accepted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::dossiers::{actors, birth_form};
use crate::on_both_backends;
use crate::support::{Backend, TestApp};

fn connect(app: &TestApp) -> TcpStream {
    let stream = TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// Reads until the server closes the connection; fails if it never does.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    match stream.read_to_end(&mut out) {
        Ok(_) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => panic!("the server kept a stalled connection open: {e}"),
    }
}

fn my_dossier_count(app: &TestApp, token: &str) -> i64 {
    app.get_json_with("/api/v1/me/dossiers", token)["total"].as_i64().unwrap()
}

fn slow_clients_are_cut_off(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| {
        c.header_timeout = Duration::from_millis(600);
        c.body_idle_timeout = Duration::from_millis(600);
    });
    let a = actors(&app);
    let before = my_dossier_count(&app, &a.citizen);
    let body = json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": birth_form(),
                      "delivery": {"method": "online"}})
    .to_string();

    // Forty connections stop in the middle of their headers, four in the middle of a body.
    let mut stalled_heads: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = connect(&app);
            s.write_all(b"POST /api/v1/dossiers HTTP/1.1\r\nHost: dvc\r\nContent-Type: application/json\r\n").unwrap();
            s
        })
        .collect();
    let mut stalled_bodies: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = connect(&app);
            let head = format!(
                "POST /api/v1/dossiers HTTP/1.1\r\nHost: dvc\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                a.citizen,
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
            s
        })
        .collect();

    // Everyone else is served while they hang.
    for _ in 0..5 {
        assert_eq!(app.get("/healthz").status(), 200);
        assert_eq!(app.get("/api/v1/procedures/1.001193").status(), 200);
    }

    for s in &mut stalled_heads {
        let answer = read_to_close(s);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "stalled headers: {answer:?}");
    }
    for s in &mut stalled_bodies {
        let answer = read_to_close(s);
        assert!(answer.starts_with("HTTP/1.1 408"), "stalled body: {answer:?}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        let json_start = answer.find("\r\n\r\n").unwrap() + 4;
        let problem: Value = serde_json::from_str(&answer[json_start..]).unwrap();
        assert_eq!(problem["code"], "request_timeout");
        assert_eq!(problem["status"], 408);
    }
    assert_eq!(my_dossier_count(&app, &a.citizen), before, "no stalled request created anything");

    // A body that trickles in, never silent for long, goes through.
    let mut s = connect(&app);
    let head = format!(
        "POST /api/v1/dossiers HTTP/1.1\r\nHost: dvc\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        a.citizen,
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    for piece in body.as_bytes().chunks(body.len() / 4 + 1) {
        std::thread::sleep(Duration::from_millis(200));
        s.write_all(piece).unwrap();
    }
    let answer = read_to_close(&mut s);
    assert!(answer.starts_with("HTTP/1.1 201"), "trickled body: {answer:?}");
    assert_eq!(my_dossier_count(&app, &a.citizen), before + 1);
}

on_both_backends!(slow_clients_are_cut_off);

/// A body that never pauses long but arrives slower than the minimum rate (one byte every 300 ms
/// against 100 bytes a second after a second's grace) is cut off with 408, while one that keeps up
/// goes through.
fn bodies_below_the_minimum_rate_are_cut_off(backend: Backend) {
    let app = TestApp::seeded_with(backend, |c| {
        c.body_idle_timeout = Duration::from_secs(5);
        c.body_min_rate = 100;
        c.body_rate_grace = Duration::from_secs(1);
    });
    let a = actors(&app);
    let before = my_dossier_count(&app, &a.citizen);
    let body = json!({"procedure_id": a.procedure_id, "agency_id": a.agency_id, "form_data": birth_form(),
                      "delivery": {"method": "online"}})
    .to_string();
    let head = format!(
        "POST /api/v1/dossiers HTTP/1.1\r\nHost: dvc\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        a.citizen,
        body.len()
    );
    let mut s = connect(&app);
    s.write_all(head.as_bytes()).unwrap();
    let mut reader = s.try_clone().unwrap();
    let answer = std::thread::spawn(move || read_to_close(&mut reader));
    let mut sent = 0;
    for byte in body.as_bytes() {
        if answer.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        if s.write_all(&[*byte]).is_err() {
            break;
        }
        sent += 1;
    }
    let answer = answer.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "a trickle below the rate: {answer:?}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(sent < body.len() / 4, "cut off early: {sent} of {} bytes sent", body.len());
    assert_eq!(my_dossier_count(&app, &a.citizen), before, "the slow request created nothing");

    // At the rate, the same body is accepted.
    let mut s = connect(&app);
    s.write_all(head.as_bytes()).unwrap();
    for piece in body.as_bytes().chunks(50) {
        std::thread::sleep(Duration::from_millis(100));
        s.write_all(piece).unwrap();
    }
    let answer = read_to_close(&mut s);
    assert!(answer.starts_with("HTTP/1.1 201"), "a body at the rate: {answer:?}");
    assert_eq!(my_dossier_count(&app, &a.citizen), before + 1);
}

on_both_backends!(bodies_below_the_minimum_rate_are_cut_off);
