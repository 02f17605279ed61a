//! The demo catalogue loaded by `dvc seed --demo`: administrative units in force since 1 July 2025,
//! and fields, agencies and procedures of the articles the portal was started from.
//!
//! Seeding is idempotent: records are keyed by their codes, ids are derived from the codes, and
//! what is already there is left alone.

pub mod synthetic;

use dvc_domain::catalogue::{FormTemplate, Tier};
use dvc_domain::text::fold;
use dvc_persistence::catalogue::{self as q, AdminUnitRow, AgencyRow, FieldRow};
use dvc_persistence::{now, DbConn};
use serde::Deserialize;

use crate::catalogue::ProcedureInput;

const ADMIN_UNITS_CSV: &str = include_str!("../../seed/admin-units-2025.csv");
const DEMO_CATALOGUE: &str = include_str!("../../seed/demo-catalogue.json");

/// A stable id for a seeded record, the same on every machine.
pub fn seed_id(kind: &str, code: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("dvc:{kind}:{code}").as_bytes()).to_string()
}

#[derive(Deserialize)]
struct DemoCatalogue {
    fields: Vec<DemoField>,
    agencies: Vec<DemoAgency>,
    procedures: Vec<DemoProcedure>,
}

#[derive(Deserialize)]
struct DemoField {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct DemoAgency {
    code: String,
    name: String,
    tier: Tier,
    admin_unit_code: Option<String>,
    parent_code: Option<String>,
}

#[derive(Deserialize)]
struct DemoForm {
    id: String,
    name: String,
    file_name: String,
}

#[derive(Deserialize)]
struct DemoProcedure {
    code: String,
    field: String,
    agencies: Vec<String>,
    forms: Vec<DemoForm>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// Counts of what a seeding run added.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub admin_units: usize,
    pub fields: usize,
    pub agencies: usize,
    pub procedures: usize,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "demo catalogue: added {} administrative units, {} fields, {} agencies, {} procedures",
            self.admin_units, self.fields, self.agencies, self.procedures
        )
    }
}

/// Parses the official list of units: the provinces, then their communes and wards.
pub fn admin_units() -> Vec<AdminUnitRow> {
    let mut provinces: Vec<AdminUnitRow> = Vec::new();
    let mut communes = Vec::new();
    for line in ADMIN_UNITS_CSV.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() != 6 {
            continue;
        }
        if !provinces.iter().any(|p| p.code == cols[0]) {
            provinces.push(AdminUnitRow {
                code: cols[0].into(),
                name: cols[1].into(),
                unit_type: cols[2].into(),
                level: "province".into(),
                parent_code: None,
                name_folded: fold(cols[1]),
            });
        }
        communes.push(AdminUnitRow {
            code: cols[3].into(),
            name: cols[4].into(),
            unit_type: cols[5].into(),
            level: "commune".into(),
            parent_code: Some(cols[0].into()),
            name_folded: fold(cols[4]),
        });
    }
    provinces.extend(communes);
    provinces
}

/// Loads the demo catalogue into the database, adding only what is missing.
pub fn demo(conn: &mut DbConn) -> Result<SeedReport, String> {
    let catalogue: DemoCatalogue = serde_json::from_str(DEMO_CATALOGUE).map_err(|e| format!("demo catalogue: {e}"))?;
    dvc_persistence::db::write_transaction(conn, |conn| load(conn, catalogue)).map_err(|e: SeedError| e.0)
}

struct SeedError(String);

impl From<diesel::result::Error> for SeedError {
    fn from(e: diesel::result::Error) -> Self {
        SeedError(e.to_string())
    }
}

fn load(conn: &mut DbConn, catalogue: DemoCatalogue) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport { admin_units: q::insert_admin_units(conn, &admin_units())?, ..Default::default() };
    let t = now();
    for f in &catalogue.fields {
        if q::find_field_by_code(conn, &f.code)?.is_none() {
            let row = FieldRow {
                id: seed_id("field", &f.code),
                code: f.code.clone(),
                name: f.name.clone(),
                created_at: t,
                updated_at: t,
            };
            q::insert_field(conn, &row)?;
            report.fields += 1;
        }
    }
    for a in &catalogue.agencies {
        if q::find_agency_by_code(conn, &a.code)?.is_some() {
            continue;
        }
        let row = AgencyRow {
            id: seed_id("agency", &a.code),
            code: a.code.clone(),
            name: a.name.clone(),
            name_folded: fold(&a.name),
            tier: a.tier.as_str().into(),
            admin_unit_code: a.admin_unit_code.clone(),
            parent_id: match &a.parent_code {
                Some(code) => q::find_agency_by_code(conn, code)?.map(|p| p.id),
                None => None,
            },
            address: None,
            phone: None,
            email: None,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        q::insert_agency(conn, &row)?;
        report.agencies += 1;
    }
    for p in catalogue.procedures {
        if let Some(existing) = q::find_procedure(conn, &p.code)? {
            if let Some(bundle) = p.rest.get("bundle").filter(|b| !b.is_null() && existing.bundle.is_none()) {
                q::add_bundle(conn, &existing.id, &bundle.to_string())?;
            }
            continue;
        }
        let field_id = q::find_field_by_code(conn, &p.field)?
            .ok_or_else(|| SeedError(format!("{}: unknown field {}", p.code, p.field)))?
            .id;
        let mut agency_ids = Vec::new();
        for code in &p.agencies {
            let agency = q::find_agency_by_code(conn, code)?
                .ok_or_else(|| SeedError(format!("{}: unknown agency {code}", p.code)))?;
            agency_ids.push(agency.id);
        }
        let forms: Vec<FormTemplate> = p
            .forms
            .into_iter()
            .map(|f| FormTemplate {
                // The PDF lists the fields of the online form; the template adds what to do with it.
                content: "Điền đầy đủ thông tin, ký và nộp kèm hồ sơ (bản giấy, bản quét PDF hoặc ảnh chụp).".into(),
                id: f.id,
                name: f.name,
                file_name: f.file_name,
                content_type: "application/pdf".into(),
            })
            .collect();
        let mut object = p.rest;
        object.insert("code".into(), p.code.clone().into());
        object.insert("field_id".into(), field_id.into());
        object.insert("agency_ids".into(), serde_json::json!(agency_ids));
        object.insert("forms".into(), serde_json::to_value(forms).map_err(|e| SeedError(e.to_string()))?);
        object.insert("effective_from".into(), "2025-07-01".into());
        let input: ProcedureInput = serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| SeedError(format!("{}: {e}", p.code)))?;
        let (row, agency_ids) = input
            .into_row(seed_id("procedure", &p.code), 1, t)
            .map_err(|e| SeedError(format!("{}: {:?}", p.code, e.errors)))?;
        q::insert_procedure(conn, &row, &agency_ids)?;
        report.procedures += 1;
    }
    Ok(report)
}
