//! Migrations run up, down and up again on both backends, and the two folders stay in step.

use diesel::RunQueryDsl;
use dvc_persistence::db::{revert_all_migrations, run_migrations, DatabaseUrl};

use crate::on_both_backends;
use crate::support::{Backend, TestDb};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn table_count(conn: &mut dvc_persistence::DbConn, backend: Backend) -> i64 {
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'procedures'",
        Backend::Postgres => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'procedures'",
    };
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

fn migrations_round_trip(backend: Backend) {
    let db = TestDb::new(backend);
    let mut conn = DatabaseUrl::parse(&db.url).unwrap().connect().unwrap();
    let applied = run_migrations(&mut conn).unwrap();
    assert!(!applied.is_empty());
    assert_eq!(table_count(&mut conn, backend), 1);
    assert!(run_migrations(&mut conn).unwrap().is_empty(), "nothing left to apply");
    assert_eq!(revert_all_migrations(&mut conn).unwrap(), applied.len());
    assert_eq!(table_count(&mut conn, backend), 0);
    assert_eq!(run_migrations(&mut conn).unwrap().len(), applied.len());
    assert_eq!(table_count(&mut conn, backend), 1);
}

on_both_backends!(migrations_round_trip);

#[test]
fn migration_folders_match() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[test]
fn unknown_database_schemes_are_refused() {
    let err = DatabaseUrl::parse("mysql://root@localhost/dvc").unwrap_err().to_string();
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(DatabaseUrl::parse("sqlite://").is_err());
    assert!(matches!(DatabaseUrl::parse("sqlite://data/x.db").unwrap(), DatabaseUrl::Sqlite(_)));
    assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db").unwrap(), DatabaseUrl::Postgres(_)));
    // A PostgreSQL URL that cannot connect is an error, not a fallback to a file.
    assert!(DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").unwrap().connect().is_err());
}

/// The migrations' constraints and triggers know the domain's codes, all of them and no others:
/// every dossier status, channel and timeliness is stored (PostgreSQL refuses an unknown one), and
/// the triggers that keep the agencies' inboxes count a dossier exactly when the domain says the
/// agency sees it.
fn triggers_follow_the_domain(backend: Backend) {
    use dvc_domain::dossier::{Channel, Timeliness};
    use dvc_domain::workflow::DossierStatus;
    use dvc_persistence::codes::Code;
    use dvc_persistence::dossier_lists::{list_states, KeptList};
    use dvc_persistence::dossiers::{find_dossier, insert_dossier, update_dossier};

    let app = crate::support::TestApp::seeded(backend);
    let a = crate::dossiers::actors(&app);
    let template = crate::dossiers::draft(&app, &a);
    let mut conn = app.conn();
    let mut row = find_dossier(&mut conn, template["id"].as_str().unwrap()).unwrap().unwrap();
    let inbox = |conn: &mut dvc_persistence::DbConn| {
        list_states(conn, KeptList::Inbox, std::slice::from_ref(&a.agency_id))
            .unwrap()
            .get(&a.agency_id)
            .map_or(0, |s| s.total)
    };
    // The template is a draft: in no inbox.
    assert_eq!(inbox(&mut conn), 0);
    let mut expected = 0;
    for (i, status) in DossierStatus::ALL.iter().enumerate() {
        // A new dossier of each status ...
        let mut new = row.clone();
        new.id = dvc_persistence::new_id();
        new.code = Some(format!("T-{i}"));
        new.status = Code(*status);
        new.channel = Code(Channel::ALL[i % Channel::ALL.len()]);
        new.timeliness = Some(Code(Timeliness::ALL[i % Timeliness::ALL.len()]));
        insert_dossier(&mut conn, &new).unwrap_or_else(|e| panic!("{status} refused: {e}"));
        expected += i64::from(status.reaches_agency());
        assert_eq!(inbox(&mut conn), expected, "after inserting a dossier that is {status}");
    }
    // ... and the template moved through every status.
    for status in DossierStatus::ALL {
        let was = row.status.0;
        let version = row.version;
        row.status = Code(*status);
        row.version += 1;
        assert!(update_dossier(&mut conn, &row, version).unwrap());
        expected += i64::from(status.reaches_agency()) - i64::from(was.reaches_agency());
        assert_eq!(inbox(&mut conn), expected, "after moving {was} to {status}");
    }
    if backend == Backend::Postgres {
        for (column, value) in [("status", "lost"), ("channel", "pigeon"), ("timeliness", "never")] {
            let sql = format!("UPDATE dossiers SET {column} = '{value}' WHERE id = '{}'", row.id);
            let refused = diesel::sql_query(sql).execute(&mut **conn);
            assert!(refused.is_err(), "an unknown {column} is refused");
        }
    }
}

on_both_backends!(triggers_follow_the_domain);
