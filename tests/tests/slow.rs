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
