//! PostgreSQL going away under load: requests fail fast with 503 problem+json while it is down,
//! `/readyz` says so, and service comes back by itself. The test runs its own throwaway cluster.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Backend, TestApp};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL cluster of its own, in a temporary directory, on a free port.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres(program: &str, args: &[&str]) -> Command {
    // PostgreSQL refuses to run as root; the tests may.
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut cmd = if root { Command::new("runuser") } else { Command::new(format!("{BIN}/{program}")) };
    if root {
        cmd.args(["-u", "postgres", "--", &format!("{BIN}/{program}")]);
    }
    cmd.args(args);
    cmd
}

impl Cluster {
    fn new() -> Cluster {
        let dir = tempfile::Builder::new().prefix("dvc-pg-").tempdir().unwrap();
        let _ = Command::new("chown").args(["-R", "postgres:postgres", dir.path().to_str().unwrap()]).status();
        let data = dir.path().join("data");
        let status =
            as_postgres("initdb", &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"])
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
        assert!(status.success(), "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { dir, port };
        cluster.start();
        cluster
    }

    fn start(&self) {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        let status = as_postgres(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-o", &options, "-l", log.to_str().unwrap(), "-w", "start"],
        )
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
        assert!(status.success(), "pg_ctl start");
    }

    fn stop(&self) {
        let data = self.dir.path().join("data");
        let _ = as_postgres("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
    }

    /// A streaming replica of `primary` (pg_basebackup), started on its own port.
    fn replica_of(primary: &Cluster) -> Cluster {
        let dir = tempfile::Builder::new().prefix("dvc-pg-replica-").tempdir().unwrap();
        let _ = Command::new("chown").args(["-R", "postgres:postgres", dir.path().to_str().unwrap()]).status();
        let data = dir.path().join("data");
        let port = primary.port.to_string();
        let status = as_postgres(
            "pg_basebackup",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", data.to_str().unwrap(), "-R", "-X", "stream"],
        )
        .status()
        .unwrap();
        assert!(status.success(), "pg_basebackup");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let replica = Cluster { dir, port };
        replica.start();
        replica
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request under load: when it started, its status, content type, and how long it took.
type Sample = (Instant, u16, String, Duration);

#[test]
fn postgres_restart_under_load_fails_fast_and_recovers() {
    let cluster = Cluster::new();
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.database_url = cluster.url();
        c.db_timeout = Duration::from_millis(800);
    });
    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, log, base) = (stop.clone(), log.clone(), app.base.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let res = client.get(format!("{base}/api/v1/fields")).send().unwrap();
                    let kind =
                        res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                    log.lock().unwrap().push((started, res.status().as_u16(), kind, started.elapsed()));
                }
            })
        })
        .collect();
    // Some healthy traffic first.
    let warm = Instant::now() + Duration::from_secs(10);
    while log.lock().unwrap().len() < 20 && Instant::now() < warm {
        std::thread::sleep(Duration::from_millis(20));
    }
    let down_at = Instant::now();
    cluster.stop();
    std::thread::sleep(Duration::from_millis(2500));
    let ready = app.get("/readyz");
    assert_eq!(ready.status(), 503, "readiness reports the outage");
    let up_at = Instant::now();
    cluster.start();
    // Service resumes by itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.get("/readyz").status() != 200 {
        assert!(Instant::now() < deadline, "the server did not come back");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    let log = log.lock().unwrap();
    let before: Vec<_> = log.iter().filter(|(at, _, _, took)| *at + *took < down_at).collect();
    assert!(!before.is_empty() && before.iter().all(|(_, s, ..)| *s == 200), "healthy before");
    let outage: Vec<_> = log
        .iter()
        .filter(|(at, _, _, took)| *at > down_at + Duration::from_millis(100) && *at + *took < up_at)
        .collect();
    assert!(!outage.is_empty(), "requests were made while it was down");
    for (_, status, kind, took) in &outage {
        assert_eq!(*status, 503, "a clear 503 while the database is down");
        assert!(kind.starts_with("application/problem+json"), "{kind}");
        assert!(*took < Duration::from_secs(3), "failed fast: {took:?}");
    }
    let last = log.iter().max_by_key(|(at, ..)| *at).unwrap();
    assert_eq!(last.1, 200, "serving again");
}

fn reads_on(app: &TestApp, target: &str) -> f64 {
    let text = app.get("/metrics").text().unwrap();
    let prefix = format!("dvc_db_reads_total{{target=\"{target}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().parse().unwrap()).unwrap_or(0.0)
}

#[derive(diesel::QueryableByName)]
struct Lsn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    lsn: String,
}

#[test]
fn reads_go_to_a_streaming_replica_and_survive_its_loss_postgres() {
    let primary = Cluster::new();
    let replica = Cluster::replica_of(&primary);
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.database_url = primary.url();
        c.replica_urls = vec![replica.url()];
        c.replica_max_lag = Duration::from_secs(2);
    });
    dvc_api::seed::demo(&mut app.conn()).unwrap();
    // The replica has replayed the seeded catalogue before the first read (within its lag bound
    // it may serve what it has, and it may not have the catalogue yet).
    {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Replayed {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            done: bool,
        }
        let mut on_primary = <diesel::PgConnection as diesel::Connection>::establish(&primary.url()).unwrap();
        let written: String = diesel::sql_query("SELECT CAST(pg_current_wal_lsn() AS TEXT) AS lsn")
            .get_result::<Lsn>(&mut on_primary)
            .unwrap()
            .lsn;
        let mut on_replica = <diesel::PgConnection as diesel::Connection>::establish(&replica.url()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let replayed = diesel::sql_query("SELECT pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn) AS done")
                .bind::<diesel::sql_types::Text, _>(&written)
                .get_result::<Replayed>(&mut on_replica)
                .unwrap();
            if replayed.done {
                break;
            }
            assert!(Instant::now() < deadline, "the replica did not replay the seed");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Writes go to the primary (a replica refuses them); the replica catches up and serves reads.
    let a = crate::dossiers::actors(&app);
    let d = crate::dossiers::submitted(&app, &a);
    let code = d["code"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let before = reads_on(&app, "replica");
        let res = app.get(&format!("/api/v1/dossiers/lookup?code={code}"));
        if res.status() == 200 && reads_on(&app, "replica") > before {
            break;
        }
        assert!(Instant::now() < deadline, "no read was served by the replica");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = app.get_json(&format!("/api/v1/statistics/agencies/{}", a.agency_id));
    assert_eq!(stats["in_progress"], 1, "the replica has the dossier written on the primary");
    {
        use diesel::RunQueryDsl;
        let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&replica.url()).unwrap();
        let refused = diesel::sql_query("CREATE TABLE written_on_a_replica (id INTEGER)").execute(&mut conn);
        assert!(refused.is_err(), "a replica is read-only");
    }

    // The replica goes away: nothing fails, the primary answers.
    replica.stop();
    let on_primary = reads_on(&app, "primary");
    for _ in 0..10 {
        assert_eq!(app.get(&format!("/api/v1/dossiers/lookup?code={code}")).status(), 200);
        assert_eq!(app.get("/api/v1/statistics/summary").status(), 200);
    }
    assert!(reads_on(&app, "primary") >= on_primary + 15.0, "reads fell back to the primary");
    assert_eq!(app.get("/readyz").status(), 200);
}
