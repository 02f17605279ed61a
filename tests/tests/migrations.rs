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
