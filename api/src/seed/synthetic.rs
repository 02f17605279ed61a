//! A large, realistic data set for load tests: procedures with Vietnamese names over the demo
//! fields and agencies, applicant accounts, and dossiers in every state of the workflow spread over
//! the last year, written with multi-row inserts.

use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use dvc_domain::dossier::{Channel, Delivery, DeliveryMethod, ProcedureSnapshot, Step, Timeliness};
use dvc_domain::text::fold;
use dvc_domain::workflow::DossierStatus as S;
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::catalogue::{self as q, ProcedureRow};
use dvc_persistence::codes::{Code, Json};
use dvc_persistence::dossiers::{self as d, DossierRow, EventRow};
use dvc_persistence::{now, DbConn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Password of every synthetic account (`syn.officer`, `syn00000` …).
pub const PASSWORD: &str = "Matkhau@2026";
/// The applicant who owns many dossiers (every 500th).
pub const BUSY_APPLICANT: &str = "syn00000";
/// An officer of the first synthetic agency.
pub const OFFICER: &str = "syn.officer";
/// An administrator, who sees every agency's inbox.
pub const ADMIN: &str = "syn.admin";

const VERBS: &[&str] = &[
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Điều chỉnh",
    "Gia hạn",
    "Đăng ký",
    "Xác nhận",
    "Thu hồi",
    "Công nhận",
    "Thẩm định",
    "Chấp thuận",
    "Phê duyệt",
];
const OBJECTS: &[&str] = &[
    "giấy phép xây dựng",
    "giấy phép kinh doanh",
    "chứng chỉ hành nghề",
    "giấy chứng nhận quyền sử dụng đất",
    "giấy phép lái xe",
    "thẻ bảo hiểm y tế",
    "giấy phép lao động",
    "giấy chứng nhận đủ điều kiện",
    "giấy phép hoạt động",
    "giấy chứng nhận đăng ký",
    "giấy phép môi trường",
    "giấy phép khai thác",
    "quyết định thành lập",
    "giấy xác nhận",
    "chứng nhận an toàn thực phẩm",
    "giấy phép tổ chức sự kiện",
];
const QUALIFIERS: &[&str] = &[
    "nhà ở riêng lẻ",
    "cho người nước ngoài",
    "cơ sở bán lẻ thuốc",
    "trường mầm non",
    "phòng khám đa khoa",
    "doanh nghiệp nhỏ và vừa",
    "hộ kinh doanh",
    "cơ sở karaoke",
    "tàu cá",
    "phương tiện thủy nội địa",
    "cơ sở giáo dục nghề nghiệp",
    "hợp tác xã",
    "công trình công nghiệp",
    "cơ sở lưu trú du lịch",
    "trạm sạc xe điện",
    "nước sạch nông thôn",
    "biển quảng cáo",
    "đại lý bảo hiểm",
];

/// What was loaded, and how long it took.
#[derive(Debug, Default)]
pub struct Report {
    pub procedures: usize,
    pub accounts: usize,
    pub dossiers: usize,
    pub seconds: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "synthetic data: {} procedures, {} accounts, {} dossiers in {:.1} s",
            self.procedures, self.accounts, self.dossiers, self.seconds
        )
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Loads `procedures` procedures and `dossiers` dossiers (with 1,000 applicants, an officer and an
/// administrator).
/// Refuses to run twice on one database.
pub fn load(conn: &mut DbConn, procedures: usize, dossiers: usize) -> Result<Report, String> {
    let started = Instant::now();
    super::demo(conn).map_err(err)?;
    if q::find_procedure(conn, "SYN.000001").map_err(err)?.is_some() {
        return Err("synthetic data is already loaded in this database".into());
    }
    let fields = q::list_fields(conn).map_err(err)?;
    let agencies = q::all_agencies(conn).map_err(err)?;
    if fields.is_empty() || agencies.is_empty() {
        return Err("the demo catalogue is missing".into());
    }
    let mut rng = StdRng::seed_from_u64(2026);
    let t = now();
    let effective = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or_default();

    // Procedures, each offered by one agency.
    let mut catalogue: Vec<(ProcedureRow, usize)> = Vec::with_capacity(procedures);
    for i in 0..procedures {
        let name = format!(
            "{} {} {}",
            VERBS[rng.gen_range(0..VERBS.len())],
            OBJECTS[rng.gen_range(0..OBJECTS.len())],
            QUALIFIERS[rng.gen_range(0..QUALIFIERS.len())]
        );
        let code = format!("SYN.{:06}", i + 1);
        let name_folded = fold(&name);
        let fee = rng.gen_bool(0.3).then(|| rng.gen_range(1..20) * 10_000);
        let fees = match fee {
            Some(amount) => format!(r#"[{{"kind":"charge","name":"Lệ phí","amount_vnd":{amount},"mode":"after"}}]"#),
            None => "[]".into(),
        };
        let row = ProcedureRow {
            id: super::seed_id("procedure", &code),
            code,
            name,
            name_folded,
            field_id: fields[i % fields.len()].id.clone(),
            tier: if i % 3 == 0 { "commune" } else { "province" }.into(),
            service_level: 4,
            online: "full".into(),
            audiences: r#"["citizen"]"#.into(),
            processing_days: rng.gen_range(3..20),
            fees,
            required_documents: "[]".into(),
            forms: "[]".into(),
            steps: r#"["Nộp hồ sơ trực tuyến","Cơ quan tiếp nhận và giải quyết","Trả kết quả"]"#.into(),
            legal_basis: r#"["Nghị định 61/2018/NĐ-CP"]"#.into(),
            result: "Văn bản chấp thuận".into(),
            form_schema: None,
            version: 1,
            effective_from: effective,
            created_at: t,
            updated_at: t,
            receipt_cutoff: None,
            min_assurance_level: 1,
            bundle: None,
        };
        catalogue.push((row, i % agencies.len()));
    }
    for chunk in catalogue.chunks(500) {
        let rows: Vec<ProcedureRow> = chunk.iter().map(|(r, _)| r.clone()).collect();
        let links: Vec<(String, String)> = chunk.iter().map(|(r, a)| (r.id.clone(), agencies[*a].id.clone())).collect();
        q::insert_procedures_batch(conn, &rows, &links).map_err(err)?;
    }

    // Applicants, one officer and one administrator; one password hash for all.
    let hash = crate::auth::hash_password(PASSWORD).map_err(|_| "cannot hash".to_string())?;
    let applicants: Vec<AccountRow> = (0..1000)
        .map(|i| {
            let mut a = AccountRow::staff(
                super::seed_id("account", &format!("syn{i:05}")),
                "citizen",
                &format!("syn{i:05}"),
                &format!("Công dân thử {i}"),
                hash.clone(),
                None,
                t,
            );
            a.account_type = "citizen".into();
            a.assurance = "medium".into();
            a.phone = Some(format!("+849{i:08}"));
            a
        })
        .collect();
    for chunk in applicants.chunks(500) {
        accounts::insert_batch(conn, chunk).map_err(err)?;
    }
    let officer = AccountRow::staff(
        super::seed_id("account", OFFICER),
        "officer",
        OFFICER,
        "Cán bộ thử",
        hash.clone(),
        Some(agencies[0].id.clone()),
        t,
    );
    let admin = AccountRow::staff(super::seed_id("account", ADMIN), "admin", ADMIN, "Quản trị thử", hash, None, t);
    accounts::insert_batch(conn, &[officer.clone(), admin]).map_err(err)?;

    // Dossiers over the last year, in every state.
    let a_count = agencies.len();
    let days = 365usize;
    let mut batch = Vec::with_capacity(1000);
    let mut events = Vec::with_capacity(5000);
    let mut counters: std::collections::HashMap<String, i32> = std::collections::HashMap::new();
    for i in 0..dossiers {
        let agency = i % a_count;
        let day = (i / a_count) % days;
        let n = i / (a_count * days) + 1;
        let (procedure, _) = &catalogue[(i / a_count * a_count + agency) % catalogue.len().max(1)];
        // Office hours (07:00–17:00 in Vietnam) of one day, so that a day's codes share its date.
        let date = crate::calendar::local_date(t) - Duration::days(day as i64);
        let submitted = date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(rng.gen_range(0..600));
        let prefix = format!("{}-{}", agencies[agency].code, date.format("%y%m%d"));
        let code = format!("{prefix}-{n:04}");
        let last = counters.entry(prefix).or_default();
        *last = (*last).max(n as i32);
        let applicant = if i % 500 == 0 { 0 } else { 1 + i % 999 };
        let roll: f64 = rng.gen();
        let status = match roll {
            r if r < 0.70 => S::Returned,
            r if r < 0.75 => S::Rejected,
            r if r < 0.85 => S::Processing,
            r if r < 0.90 => S::Received,
            r if r < 0.95 => S::Submitted,
            r if r < 0.98 => S::SupplementRequested,
            _ => S::Withdrawn,
        };
        let received = (status != S::Submitted && status != S::Withdrawn).then(|| submitted + Duration::hours(2));
        let allowed = procedure.processing_days;
        let due = received.map(|r| (r + Duration::days(i64::from(allowed) * 7 / 5)).date());
        let finished = matches!(status, S::Returned | S::Rejected | S::Withdrawn);
        let late = rng.gen_bool(0.12);
        let finished_at = finished.then(|| match (received, late) {
            (Some(r), true) => r + Duration::days(i64::from(allowed) * 2),
            (Some(r), false) => r + Duration::days(rng.gen_range(1..=i64::from(allowed))),
            (None, _) => submitted + Duration::days(1),
        });
        let timeliness =
            (finished && received.is_some()).then_some(Code(if late { Timeliness::Late } else { Timeliness::OnTime }));
        let fees: Vec<dvc_domain::catalogue::FeeItem> = serde_json::from_str(&procedure.fees).unwrap_or_default();
        let fee: i64 = fees.iter().map(|x| x.amount_vnd).sum();
        let document = |id: &str, name: &str| dvc_domain::catalogue::RequiredDocument {
            id: id.into(),
            name: name.into(),
            mandatory: false,
            copies: 1,
        };
        let snapshot = ProcedureSnapshot {
            code: procedure.code.clone(),
            name: procedure.name.clone(),
            processing_days: allowed,
            fees,
            required_documents: vec![document("TK", "Tờ khai theo mẫu"), document("CCCD", "Bản sao căn cước công dân")],
            form_schema: None,
            agency_code: agencies[agency].code.clone(),
            agency_name: agencies[agency].name.clone(),
            receipt_cutoff: None,
            bundle: None,
            bundle_agencies: Vec::new(),
            step_of: None,
        };
        let account = &applicants[applicant];
        let id = dvc_persistence::new_id();
        events.extend(history(&id, status, submitted, received, finished_at, &account.id, &officer.id));
        let form = serde_json::json!({
            "full_name": account.full_name, "date_of_birth": "1990-01-01", "phone": account.phone,
            "address": format!("Số {} đường Lê Lợi, phường Bến Thành, TP. Hồ Chí Minh", 1 + i % 300),
            "purpose": "Bổ sung hồ sơ xin việc", "copies": 1 + i % 3,
        });
        batch.push(DossierRow {
            id,
            code: Some(code),
            procedure_id: procedure.id.clone(),
            procedure_version: 1,
            procedure_snapshot: Json(snapshot),
            agency_id: agencies[agency].id.clone(),
            applicant_id: Some(account.id.clone()),
            applicant: raw(&serde_json::json!({
                "account_type": "citizen", "full_name": account.full_name, "phone": account.phone,
            }))?,
            status: Code(status),
            channel: Code(if i % 10 == 0 { Channel::Counter } else { Channel::Online }),
            form_data: raw(&form)?,
            delivery: Json(Delivery { method: DeliveryMethod::Online, address: None }),
            submitted_at: Some(submitted),
            received_at: received,
            due_date: due,
            working_days_allowed: allowed,
            working_days_spent: 0,
            clock_started_on: received.filter(|_| status.clock_running()).map(|r| r.date()),
            finished_at,
            timeliness,
            version: 3,
            created_at: submitted,
            updated_at: finished_at.unwrap_or(submitted),
            fee_vnd: fee,
            rescheduled_due_date: None,
        });
        if batch.len() == 1000 {
            dvc_persistence::dossier_writes::insert_dossiers(conn, &batch).map_err(err)?;
            batch.clear();
            for chunk in events.chunks(1000) {
                dvc_persistence::dossier_writes::insert_events(conn, chunk).map_err(err)?;
            }
            events.clear();
        }
    }
    if !batch.is_empty() {
        dvc_persistence::dossier_writes::insert_dossiers(conn, &batch).map_err(err)?;
        for chunk in events.chunks(1000) {
            dvc_persistence::dossier_writes::insert_events(conn, chunk).map_err(err)?;
        }
    }
    // Codes allocated from now on continue after the loaded ones.
    let counters: Vec<(String, i32)> = counters.into_iter().collect();
    d::set_code_counters(conn, &counters).map_err(err)?;
    // The statistics rollups as the servers' compaction keeps them: one row per key and day.
    let tomorrow = crate::calendar::local_date(t) + Duration::days(1);
    dvc_persistence::statistics::compact(conn, tomorrow).map_err(err)?;
    if let DbConn::Postgres(_) = conn {
        use diesel::connection::SimpleConnection;
        // As autovacuum would: statistics for the planner, and the visibility map for index-only scans.
        conn.batch_execute("VACUUM ANALYZE").map_err(err)?;
    }
    Ok(Report { procedures, accounts: applicants.len() + 2, dossiers, seconds: started.elapsed().as_secs_f64() })
}

/// A JSON document as a dossier keeps it.
fn raw(value: &serde_json::Value) -> Result<dvc_persistence::dossiers::RawJson, String> {
    serde_json::value::to_raw_value(value).map(Json).map_err(err)
}

/// The moves that brought a synthetic dossier to its state, as the workflow would have recorded them.
fn history(
    dossier: &str,
    status: S,
    submitted: NaiveDateTime,
    received: Option<NaiveDateTime>,
    finished: Option<NaiveDateTime>,
    applicant: &str,
    officer: &str,
) -> Vec<EventRow> {
    let mut steps: Vec<(NaiveDateTime, Step, Option<S>, S, &str)> = vec![
        (submitted - Duration::minutes(20), Step::Create, None, S::Draft, "applicant"),
        (submitted, Step::Submit, Some(S::Draft), S::Submitted, "applicant"),
    ];
    if let Some(r) = received {
        steps.push((r, Step::Receive, Some(S::Submitted), S::Received, "officer"));
        if status != S::Received {
            let started = r + Duration::hours(1);
            steps.push((started, Step::StartProcessing, Some(S::Received), S::Processing, "officer"));
            match (status, finished) {
                (S::Returned, Some(f)) => {
                    steps.push((f - Duration::hours(2), Step::Complete, Some(S::Processing), S::Completed, "officer"));
                    steps.push((f, Step::ReturnResult, Some(S::Completed), S::Returned, "officer"));
                }
                (S::Rejected, Some(f)) => steps.push((f, Step::Reject, Some(S::Processing), S::Rejected, "officer")),
                (S::SupplementRequested, _) => steps.push((
                    started + Duration::hours(3),
                    Step::RequestSupplement,
                    Some(S::Processing),
                    S::SupplementRequested,
                    "officer",
                )),
                _ => {}
            }
        }
    } else if let (S::Withdrawn, Some(f)) = (status, finished) {
        steps.push((f, Step::Withdraw, Some(S::Submitted), S::Withdrawn, "applicant"));
    }
    steps
        .into_iter()
        .map(|(at, action, from, to, role)| EventRow {
            id: dvc_persistence::new_id(),
            dossier_id: dossier.to_string(),
            at,
            action: Code(action),
            from_status: from.map(Code),
            to_status: Code(to),
            actor_id: Some(if role == "officer" { officer } else { applicant }.to_string()),
            actor_role: role.into(),
            note: None,
            data: "{}".into(),
        })
        .collect()
}
