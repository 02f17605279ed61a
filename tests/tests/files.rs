//! Files on any instance: uploads kept in S3-compatible object storage (a real server, s3s-fs,
//! started on loopback for each test), shared by two instances on one database; a store that is
//! down answers 503 and records nothing; `dvc storage import` moves local files into the store.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dvc_api::config::Config;
use serde_json::Value;

use crate::dossiers::{actors, draft, pdf};
use crate::on_both_backends;
use crate::support::{assert_problem, Backend, TestApp};

const ACCESS_KEY: &str = "dvc-test-access";
const SECRET_KEY: &str = "dvc-test-secret-0123456789";
const BUCKET: &str = "dvc-files";

/// The s3s-fs binary: `DVC_S3S_FS`, or where `scripts/test-deps.sh` installs it.
fn s3s_fs() -> PathBuf {
    let path = std::env::var("DVC_S3S_FS").map(PathBuf::from).unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        PathBuf::from(home).join(".cache/dvc/s3s/bin/s3s-fs")
    });
    assert!(path.exists(), "{} is missing: scripts/test-deps.sh installs it", path.display());
    path
}

/// A real S3-compatible server on a free loopback port, serving a temporary directory.
pub(crate) struct S3Server {
    child: Option<Child>,
    port: u16,
    root: tempfile::TempDir,
}

impl S3Server {
    pub(crate) fn start() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join(BUCKET)).expect("the bucket");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = S3Server { child: None, port, root };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new(s3s_fs())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The store goes down.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// How many objects the bucket holds.
    pub(crate) fn objects(&self) -> usize {
        walk(&self.root.path().join(BUCKET))
    }

    pub(crate) fn configure(&self, c: &mut Config) {
        c.s3 = Some(dvc_api::storage::S3Settings {
            bucket: BUCKET.into(),
            endpoint: Some(format!("http://127.0.0.1:{}", self.port)),
            region: "us-east-1".into(),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
        });
    }
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        usize::from(!e.file_name().to_string_lossy().starts_with('.'))
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn download(app: &TestApp, token: &str, id: &str, aid: &str) -> reqwest::blocking::Response {
    app.with_token(app.client.get(app.url(&format!("/api/v1/dossiers/{id}/attachments/{aid}"))), token).send().unwrap()
}

fn attachments_of(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    app.get_json_with(&format!("/api/v1/dossiers/{id}"), token)["attachments"].as_array().unwrap().clone()
}

fn files_are_shared_through_object_storage(backend: Backend) {
    let mut s3 = S3Server::start();
    let app = TestApp::seeded_with(backend, |c| s3.configure(c));
    let other = app.second_instance_with(|c| s3.configure(c));
    let a = actors(&app);
    let d = draft(&app, &a);
    let id = d["id"].as_str().unwrap();
    let path = format!("/api/v1/dossiers/{id}/attachments");
    let body = pdf("to khai khai sinh");
    let res = app.upload(&path, &a.citizen, &[("document_id", "TK-KS")], Some(("tk.pdf", body.clone())));
    assert_eq!(res.status(), 201, "{:?}", res.text());
    let attachment: Value = res.json().unwrap();
    assert_eq!(s3.objects(), 1, "the file is in the bucket");

    // Uploaded through one instance, downloaded through the other, byte for byte, streamed.
    let res = download(&other, &a.citizen, id, attachment["id"].as_str().unwrap());
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-length"], body.len().to_string().as_str());
    assert_eq!(res.bytes().unwrap().as_ref(), body.as_slice());

    // An upload refused after its file was stored (no such document slot) leaves no object behind.
    let res = app.upload(&path, &a.citizen, &[("document_id", "KHONG-CO")], Some(("x.pdf", pdf("khong co"))));
    assert_problem(res, 400, "validation_failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s3.objects() != 1 {
        assert!(Instant::now() < deadline, "the refused upload's object was removed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let res = other.upload(&path, &a.citizen, &[("document_id", "GCS")], Some(("gcs.pdf", pdf("giay chung sinh"))));
    assert_eq!(res.status(), 201);
    let res = app.post(&format!("/api/v1/dossiers/{id}/submit"), &serde_json::json!({}), Some(&a.citizen));
    assert_eq!(res.status(), 200, "{:?}", res.text());
    assert_eq!(s3.objects(), 2);

    // The store goes down: uploads and downloads answer 503 and nothing is recorded.
    let second = draft(&app, &a);
    let second_id = second["id"].as_str().unwrap();
    s3.stop();
    let res = app.upload(
        &format!("/api/v1/dossiers/{second_id}/attachments"),
        &a.citizen,
        &[("document_id", "TK-KS")],
        Some(("tk.pdf", pdf("x"))),
    );
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "unavailable");
    assert!(attachments_of(&app, &a.citizen, second_id).is_empty(), "nothing half-written");
    assert_problem(download(&other, &a.citizen, id, attachment["id"].as_str().unwrap()), 503, "unavailable");
    // Back up: everything is as it was.
    s3.spawn();
    assert_eq!(download(&app, &a.citizen, id, attachment["id"].as_str().unwrap()).status(), 200);
    assert_eq!(s3.objects(), 2);
}

/// Files kept in a local directory move into the store with `dvc storage import`, and servers
/// using the store serve them.
fn local_files_move_into_the_store(backend: Backend) {
    let s3 = S3Server::start();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_path_buf();
    let app = TestApp::seeded_with(backend, |c| c.data_dir = data_dir.clone());
    let a = actors(&app);
    let d = draft(&app, &a);
    let id = d["id"].as_str().unwrap();
    let body = pdf("ban chup giay chung sinh");
    let res = app.upload(
        &format!("/api/v1/dossiers/{id}/attachments"),
        &a.citizen,
        &[("document_id", "GCS")],
        Some(("gcs.pdf", body.clone())),
    );
    assert_eq!(res.status(), 201);
    let aid = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(s3.objects(), 0);

    let run = |args: &[&str]| {
        Command::new(crate::crash::dvc())
            .args(args)
            .env("DVC_DATABASE_URL", app.database_url())
            .env("DVC_DATA_DIR", &data_dir)
            .env("DVC_STORAGE_URL", format!("s3://{BUCKET}"))
            .env("DVC_S3_ENDPOINT", format!("http://127.0.0.1:{}", s3.port))
            .env("DVC_S3_ACCESS_KEY_ID", ACCESS_KEY)
            .env("DVC_S3_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("DVC_SANDBOX", "1")
            .output()
            .expect("dvc runs")
    };
    let out = run(&["storage", "import"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 files copied"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(s3.objects(), 1);
    let again = run(&["storage", "import"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 files copied into the object store, 1 were there already")
    );

    let on_store = app.second_instance_with(|c| s3.configure(c));
    let res = download(&on_store, &a.citizen, id, &aid);
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().unwrap().as_ref(), body.as_slice());
}

on_both_backends!(files_are_shared_through_object_storage, local_files_move_into_the_store);
