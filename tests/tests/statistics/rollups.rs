//! The per-day rollups of the statistics against a count over the rows they sum.

use chrono::Duration;

use crate::dossiers::actors;
use crate::on_both_backends;
use crate::support::{Backend, TestApp};

/// A row of counts with its group, to compare the rollups with a count over the rows; groups with
/// nothing counted are left out on both sides.
type Counted = Vec<(Option<String>, Vec<i64>)>;

fn dossiers_counted(rows: Vec<dvc_persistence::statistics::DossierCounts>) -> Counted {
    let mut out: Counted = rows
        .into_iter()
        .map(|c| {
            let n = vec![
                c.received,
                c.received_online,
                c.with_fee,
                c.paid_online,
                c.finished,
                c.on_time,
                c.late,
                c.in_progress,
                c.overdue,
            ];
            (c.group_key, n)
        })
        .filter(|(_, n)| n.iter().any(|v| *v != 0))
        .collect();
    out.sort();
    out
}

fn ratings_counted(rows: Vec<dvc_persistence::statistics::RatingCounts>) -> Counted {
    let mut out: Counted = rows
        .into_iter()
        .map(|r| (r.group_key, vec![r.ratings, r.score_sum]))
        .filter(|(_, n)| n.iter().any(|v| *v != 0))
        .collect();
    out.sort();
    out
}

fn feedback_counted(
    rows: Vec<dvc_persistence::statistics::FeedbackCounts>,
) -> Vec<(Option<String>, String, String, i64)> {
    let mut out: Vec<_> = rows.into_iter().filter(|f| f.n != 0).map(|f| (f.group_key, f.kind, f.status, f.n)).collect();
    out.sort();
    out
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The per-day rollups answer what a count over the dossiers, payments, ratings and feedback
/// answers, for random rows (times near Vietnamese midnight included) inserted, moved, paid,
/// refunded and deleted at random, for random periods, every grouping, with and without an agency.
fn rollups_count_what_the_rows_say(backend: Backend) {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    use diesel::RunQueryDsl;
    use dvc_domain::dossier::{Channel, Timeliness};
    use dvc_domain::workflow::DossierStatus;
    use dvc_persistence::codes::Code;
    use dvc_persistence::dossiers::{find_dossier, insert_dossier, update_dossier};
    use dvc_persistence::statistics as st;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    let app = TestApp::seeded(backend);
    let a = actors(&app);
    let template = crate::dossiers::draft(&app, &a);
    let mut conn = app.conn();
    let template = find_dossier(&mut conn, template["id"].as_str().unwrap()).unwrap().unwrap();
    let procedures: Vec<(String, String)> = diesel::sql_query(
        "SELECT p.id || ' ' || pa.agency_id AS id FROM procedures p JOIN procedure_agencies pa ON pa.procedure_id = p.id \
         ORDER BY p.id, pa.agency_id LIMIT 6",
    )
    .load::<Id>(&mut **conn)
    .unwrap()
    .into_iter()
    .map(|r| {
        let (p, a) = r.id.split_once(' ').unwrap();
        (p.to_string(), a.to_string())
    })
    .collect();
    assert!(procedures.len() >= 3, "{procedures:?}");
    let author =
        diesel::sql_query("SELECT id FROM accounts ORDER BY id LIMIT 1").get_result::<Id>(&mut **conn).unwrap().id;

    let mut rng = StdRng::seed_from_u64(766);
    let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    // Times on twenty days, a third of them within a minute of midnight in Vietnam (17:00 UTC).
    let mut time = |rng: &mut StdRng| -> NaiveDateTime {
        let day = base + Duration::days(rng.gen_range(0..20));
        let t = if rng.gen_bool(0.33) {
            NaiveTime::from_hms_opt(16, 59, 30).unwrap() + Duration::seconds(rng.gen_range(0..60))
        } else {
            NaiveTime::from_num_seconds_from_midnight_opt(rng.gen_range(0..86_400), 0).unwrap()
        };
        day.and_time(t)
    };
    let random_row = |rng: &mut StdRng,
                      time: &mut dyn FnMut(&mut StdRng) -> NaiveDateTime,
                      row: &mut dvc_persistence::dossiers::DossierRow| {
        let (p, ag) = procedures.choose(rng).unwrap().clone();
        row.procedure_id = p;
        row.agency_id = ag;
        row.status = Code(*DossierStatus::ALL.choose(rng).unwrap());
        row.channel = Code(*Channel::ALL.choose(rng).unwrap());
        row.fee_vnd = if rng.gen_bool(0.4) { 50_000 } else { 0 };
        row.submitted_at = rng.gen_bool(0.9).then(|| time(rng));
        row.received_at = rng.gen_bool(0.8).then(|| time(rng));
        row.finished_at = rng.gen_bool(0.5).then(|| time(rng));
        row.timeliness = rng.gen_bool(0.6).then(|| Code(*Timeliness::ALL.choose(rng).unwrap()));
        row.due_date = rng.gen_bool(0.8).then(|| base + Duration::days(rng.gen_range(0..25)));
    };

    let mut rows = Vec::new();
    for i in 0..160 {
        let mut row = template.clone();
        row.id = dvc_persistence::new_id();
        row.code = Some(format!("R-{i}"));
        random_row(&mut rng, &mut time, &mut row);
        insert_dossier(&mut conn, &row).unwrap();
        rows.push(row);
    }
    let payment = |conn: &mut dvc_persistence::DbConn, id: &str, dossier: &str, status: &str| {
        let insert = format!(
            "INSERT INTO payments (id, dossier_id, phase, provider, amount_vnd, status, reference, created_at, updated_at) \
             VALUES ('{id}', '{dossier}', 'before', 'sandbox', 50000, '{status}', '{id}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        );
        diesel::sql_query(insert).execute(conn).unwrap();
    };
    let mut payments = Vec::new();
    for (i, row) in rows.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let id = format!("pay-{i}");
        payment(&mut conn, &id, &row.id, ["pending", "paid", "refunded", "cancelled"][i % 4]);
        payments.push(id);
    }
    for (i, row) in rows.iter().enumerate().filter(|(i, _)| i % 4 == 1) {
        let created = time(&mut rng);
        let insert = format!(
            "INSERT INTO ratings (id, dossier_id, agency_id, procedure_id, author_id, score, created_at) \
             VALUES ('rate-{i}', '{}', '{}', '{}', '{author}', {}, '{created}')",
            row.id,
            row.agency_id,
            row.procedure_id,
            rng.gen_range(1..=5)
        );
        diesel::sql_query(insert).execute(&mut **conn).unwrap();
        let procedure = if i % 3 == 0 { "NULL".to_string() } else { format!("'{}'", row.procedure_id) };
        let kind = ["complaint", "reflection", "support_request"][i % 3];
        let insert = format!(
            "INSERT INTO feedback (id, code, kind, title, content, author_id, agency_id, procedure_id, status, publish, \
             version, created_at, updated_at) VALUES ('fb-{i}', 'PA-{i}', '{kind}', 't', 'c', '{author}', '{}', \
             {procedure}, 'new', false, 1, '{created}', '{created}')",
            row.agency_id
        );
        diesel::sql_query(insert).execute(&mut **conn).unwrap();
    }

    // Moves at random: rows rewritten, payments paid and refunded, feedback answered, and some
    // dossiers deleted with what hangs on them.
    for round in 0..120 {
        let k = rng.gen_range(0..rows.len());
        let row = &mut rows[k];
        let version = row.version;
        random_row(&mut rng, &mut time, row);
        row.version += 1;
        assert!(update_dossier(&mut conn, row, version).unwrap());
        if round % 4 == 0 {
            let p = payments.choose(&mut rng).unwrap();
            let status = ["pending", "paid", "refunded"][round % 3];
            diesel::sql_query(format!("UPDATE payments SET status = '{status}' WHERE id = '{p}'"))
                .execute(&mut **conn)
                .unwrap();
        }
        if round % 5 == 0 {
            let status = ["in_progress", "answered", "closed"][round % 3];
            diesel::sql_query(format!("UPDATE feedback SET status = '{status}' WHERE id = 'fb-{}'", (k / 4) * 4 + 1))
                .execute(&mut **conn)
                .unwrap();
        }
        if round % 7 == 0 {
            diesel::sql_query(format!(
                "UPDATE ratings SET score = {} WHERE id = 'rate-{}'",
                round % 5 + 1,
                (k / 4) * 4 + 1
            ))
            .execute(&mut **conn)
            .unwrap();
        }
    }
    for _ in 0..10 {
        let row = rows.swap_remove(rng.gen_range(0..rows.len()));
        diesel::sql_query(format!("DELETE FROM feedback WHERE dossier_id = '{0}'", row.id))
            .execute(&mut **conn)
            .unwrap();
        diesel::sql_query(format!("DELETE FROM dossiers WHERE id = '{}'", row.id)).execute(&mut **conn).unwrap();
    }
    diesel::sql_query(format!("DELETE FROM payments WHERE id = '{}'", payments[1])).execute(&mut **conn).unwrap();

    let agencies: Vec<String> = procedures.iter().map(|(_, a)| a.clone()).collect();
    let compared = compare_rollups(&mut conn, &mut rng, &agencies, base);
    assert!(compared > 60, "most periods count something: {compared}");

    // Compaction: the shares other connections left (PostgreSQL) and rows that count nothing are
    // folded away, and every count stays as it was.
    let rows_where = |conn: &mut dvc_persistence::DbConn, filter: &str| -> i64 {
        let sql = format!("SELECT COUNT(*) AS n FROM dossier_days WHERE {filter}");
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    };
    let nothing = "received = 0 AND received_online = 0 AND with_fee = 0 AND paid_online = 0 AND finished = 0 \
                   AND on_time = 0 AND late = 0 AND submitted = 0 AND closed = 0";
    if backend == Backend::Postgres {
        for (shard, delta) in [(6, 1), (7, -1)] {
            let sql = format!(
                "INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, submitted) \
                 SELECT procedure_id, agency_id, day, {shard}, {delta}, {delta} FROM dossier_days \
                 WHERE shard NOT IN (6, 7) ORDER BY procedure_id, day, agency_id LIMIT 20 \
                 ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET received = dossier_days.received + {delta}, \
                 submitted = dossier_days.submitted + {delta}"
            );
            diesel::sql_query(sql).execute(&mut **conn).unwrap();
        }
        assert!(rows_where(&mut conn, "shard IN (6, 7)") >= 40);
    }
    diesel::sql_query(
        "INSERT INTO dossier_days (procedure_id, agency_id, day, shard) \
         SELECT procedure_id, agency_id, '2026-02-01', 0 FROM dossier_days WHERE procedure_id <> '' GROUP BY procedure_id, agency_id",
    )
    .execute(&mut **conn)
    .unwrap();
    assert!(rows_where(&mut conn, nothing) > 0);
    let changed = st::compact(&mut conn, base + Duration::days(60)).unwrap();
    assert!(changed > 0);
    assert_eq!(rows_where(&mut conn, "shard <> 0"), 0, "one share left");
    assert_eq!(rows_where(&mut conn, nothing), 0);
    compare_rollups(&mut conn, &mut rng, &agencies, base);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Compares the rollups with the count over the rows for 25 random periods, every grouping, with
/// and without an agency; how many comparisons counted something.
fn compare_rollups(
    conn: &mut dvc_persistence::DbConn,
    rng: &mut rand::rngs::StdRng,
    agencies: &[String],
    base: chrono::NaiveDate,
) -> usize {
    use dvc_persistence::statistics::{self as st, scan, Grouping, Period};
    use rand::seq::SliceRandom;
    use rand::Rng;
    let mut compared = 0;
    for _ in 0..25 {
        let first = base + Duration::days(rng.gen_range(-2..22));
        let last = first + Duration::days(rng.gen_range(0..10));
        let report = last.min(base + Duration::days(rng.gen_range(0..25)));
        let period = Period::of_days(first, last, report);
        let agency = rng.gen_bool(0.5).then(|| agencies.choose(rng).unwrap().as_str());
        for grouping in [Grouping::All, Grouping::Agency, Grouping::Procedure, Grouping::Field] {
            let what = format!("{first}..={last} report {report}, agency {agency:?}, {grouping:?}");
            let rolled = dossiers_counted(st::dossier_counts(conn, period, agency, grouping).unwrap());
            let counted = dossiers_counted(scan::dossier_counts(conn, period, agency, grouping).unwrap());
            assert_eq!(rolled, counted, "dossiers {what}");
            compared += usize::from(!counted.is_empty());
            let rolled = ratings_counted(st::rating_counts(conn, period, agency, grouping).unwrap());
            let counted = ratings_counted(scan::rating_counts(conn, period, agency, grouping).unwrap());
            assert_eq!(rolled, counted, "ratings {what}");
            let rolled = feedback_counted(st::feedback_counts(conn, period, agency, grouping).unwrap());
            let counted = feedback_counted(scan::feedback_counts(conn, period, agency, grouping).unwrap());
            assert_eq!(rolled, counted, "feedback {what}");
        }
    }
    compared
}

on_both_backends!(rollups_count_what_the_rows_say);
