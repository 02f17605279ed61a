//! How catalogue records look on the wire, and how admin input becomes records.

use chrono::{NaiveDate, NaiveDateTime};
use dvc_domain::catalogue::{
    check_agency_code, check_form_schema, check_procedure_code, check_procedure_parts, check_text, Audience, Bundle,
    FeeItem, FormTemplate, OnlineMode, RequiredDocument, ServiceLevel, Tier,
};
use dvc_domain::{text::fold, FieldError};
use dvc_persistence::catalogue::{AgencyRef, AgencyRow, FieldRow, ProcedureBrief, ProcedureRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// A field (lĩnh vực) of procedures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldView {
    pub id: String,
    pub code: String,
    pub name: String,
}

impl From<FieldRow> for FieldView {
    fn from(r: FieldRow) -> Self {
        Self { id: r.id, code: r.code, name: r.name }
    }
}

/// An agency (cơ quan thực hiện).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyView {
    pub id: String,
    /// Official code, also the prefix of its dossier codes.
    pub code: String,
    pub name: String,
    pub tier: Tier,
    /// Code of the province or commune the agency serves.
    pub admin_unit_code: Option<String>,
    pub parent_id: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub version: i32,
}

impl AgencyView {
    pub fn from_row(r: AgencyRow) -> Result<Self, ApiError> {
        Ok(Self {
            tier: parse_stored(Tier::parse(&r.tier))?,
            id: r.id,
            code: r.code,
            name: r.name,
            admin_unit_code: r.admin_unit_code,
            parent_id: r.parent_id,
            address: r.address,
            phone: r.phone,
            email: r.email,
            version: r.version,
        })
    }
}

/// The agency reference shown inside a procedure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyBrief {
    pub id: String,
    pub code: String,
    pub name: String,
}

/// A downloadable form, as listed in a procedure.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormView {
    pub id: String,
    pub name: String,
    /// The name of the downloaded file (a PDF).
    pub file_name: String,
    /// Path of the download: a PDF to print, fill by hand and attach.
    pub download_url: String,
    /// `application/pdf`.
    pub content_type: String,
}

/// The name of a form's download: its file name, ASCII only, ending in `.pdf`.
pub fn pdf_file_name(name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let ascii: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("{}.pdf", if ascii.is_empty() { "bieu-mau" } else { &ascii })
}

/// A procedure as listed in search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureSummary {
    pub id: String,
    pub code: String,
    pub name: String,
    pub field: Option<FieldView>,
    pub agencies: Vec<AgencyBrief>,
    pub tier: Tier,
    /// Service level 1–4 (Circular 26/2009/TT-BTTTT).
    pub service_level: u8,
    /// Online mode under Decree 42/2022/NĐ-CP.
    pub online: OnlineMode,
    pub audiences: Vec<Audience>,
    /// Working days from receipt to result.
    pub processing_days: i32,
}

/// A procedure with everything an applicant needs to know.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureView {
    #[serde(flatten)]
    pub summary: ProcedureSummary,
    pub fees: Vec<FeeItem>,
    pub required_documents: Vec<RequiredDocument>,
    pub forms: Vec<FormView>,
    pub steps: Vec<String>,
    pub legal_basis: Vec<String>,
    /// What the applicant receives.
    pub result: String,
    /// JSON Schema of the online form (level 3 and up).
    #[schema(value_type = Option<Object>)]
    pub form_schema: Option<serde_json::Value>,
    pub version: i32,
    #[schema(value_type = String, format = Date, example = "2025-07-01")]
    pub effective_from: NaiveDate,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
    /// `HH:MM`: a dossier received at or after it (Vietnam's time), or on a day off, counts from
    /// the next working day.
    pub receipt_cutoff: Option<String>,
    /// The assurance level a dossier's applicant must have signed in at: 1, or 2 (an identity
    /// proved at VNeID's level 2 or dvc's high assurance). Below it, creating a dossier is 403
    /// `assurance_too_low`.
    #[schema(minimum = 1, maximum = 2)]
    pub min_assurance_level: i32,
    /// For an interconnected procedure (liên thông): its steps, each settled by its own agency as
    /// a dossier of its own; the applicant files once.
    pub bundle: Option<Bundle>,
    /// The file types a document may be (checked from the file's content, not its name).
    #[schema(example = json!(["application/pdf", "image/jpeg", "image/png"]))]
    pub accepted_file_types: Vec<&'static str>,
}

fn parse_stored<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        tracing::error!("a stored catalogue value is not a known code");
        ApiError::internal()
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| {
        tracing::error!(error = %e, "a stored catalogue document does not parse");
        ApiError::internal()
    })
}

pub use crate::wire_time::rfc3339;

pub fn summary_from_row(
    r: &ProcedureBrief,
    field: Option<FieldView>,
    agencies: Vec<AgencyBrief>,
) -> Result<ProcedureSummary, ApiError> {
    Ok(ProcedureSummary {
        id: r.id.clone(),
        code: r.code.clone(),
        name: r.name.clone(),
        field,
        agencies,
        tier: parse_stored(Tier::parse(&r.tier))?,
        service_level: parse_stored(ServiceLevel::new(r.service_level.into()))?.get(),
        online: parse_stored(OnlineMode::parse(&r.online))?,
        audiences: parse_json(&r.audiences)?,
        processing_days: r.processing_days,
    })
}

pub fn view_from_row(
    r: ProcedureRow,
    field: Option<FieldView>,
    agencies: Vec<AgencyBrief>,
) -> Result<ProcedureView, ApiError> {
    let summary = summary_from_row(&r.brief(), field, agencies)?;
    let forms: Vec<FormTemplate> = parse_json(&r.forms)?;
    Ok(ProcedureView {
        forms: forms
            .into_iter()
            .map(|f| FormView {
                download_url: format!("/api/v1/procedures/{}/forms/{}", r.id, f.id),
                file_name: pdf_file_name(&f.file_name),
                content_type: "application/pdf".into(),
                id: f.id,
                name: f.name,
            })
            .collect(),
        fees: parse_json(&r.fees)?,
        required_documents: parse_json(&r.required_documents)?,
        steps: parse_json(&r.steps)?,
        legal_basis: parse_json(&r.legal_basis)?,
        result: r.result,
        form_schema: r.form_schema.as_deref().map(parse_json).transpose()?,
        version: r.version,
        effective_from: r.effective_from,
        updated_at: rfc3339(r.updated_at),
        receipt_cutoff: r.receipt_cutoff,
        min_assurance_level: r.min_assurance_level,
        bundle: r.bundle.as_deref().map(parse_json).transpose()?,
        accepted_file_types: crate::storage::ALLOWED.to_vec(),
        summary,
    })
}

/// Groups agency references by procedure.
pub fn agencies_by_procedure(refs: Vec<AgencyRef>) -> std::collections::HashMap<String, Vec<AgencyBrief>> {
    let mut map: std::collections::HashMap<String, Vec<AgencyBrief>> = std::collections::HashMap::new();
    for r in refs {
        map.entry(r.procedure_id).or_default().push(AgencyBrief { id: r.id, code: r.code, name: r.name });
    }
    map
}

/// What an administrator sends to create or replace a procedure.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureInput {
    /// National catalogue code, e.g. `1.001193`.
    #[schema(example = "1.001193", pattern = r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]{1,8})*$", max_length = 32)]
    pub code: String,
    #[schema(example = "Đăng ký khai sinh", min_length = 1, max_length = 500, pattern = r"\S")]
    pub name: String,
    #[schema(min_length = 1, max_length = 64)]
    pub field_id: String,
    #[schema(min_items = 1, max_items = 50)]
    pub agency_ids: Vec<String>,
    pub tier: Tier,
    /// Level 1–4; derived from `online` when left out.
    #[schema(minimum = 1, maximum = 4)]
    pub service_level: Option<i64>,
    /// Derived from `service_level` when left out.
    pub online: Option<OnlineMode>,
    #[schema(min_items = 1)]
    pub audiences: Vec<Audience>,
    #[schema(minimum = 0, maximum = 365)]
    pub processing_days: i64,
    #[serde(default)]
    pub fees: Vec<FeeItem>,
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    #[serde(default)]
    pub forms: Vec<FormTemplate>,
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub legal_basis: Vec<String>,
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub result: String,
    #[schema(value_type = Option<Object>)]
    pub form_schema: Option<serde_json::Value>,
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_from: Option<NaiveDate>,
    /// `HH:MM` (Asia/Ho_Chi_Minh): a dossier received at or after this time, or on a day off,
    /// counts from the next working day (the "15:00 rule" some procedures state).
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub receipt_cutoff: Option<String>,
    /// The assurance level the applicant must have signed in at (1, the default, or 2).
    #[schema(minimum = 1, maximum = 2)]
    pub min_assurance_level: Option<i32>,
    /// For an interconnected procedure: its steps in order.
    pub bundle: Option<Bundle>,
}

impl ProcedureInput {
    /// Checks the input and builds the record to store (id, version and times filled by the caller).
    pub fn into_row(
        self,
        id: String,
        version: i32,
        now: NaiveDateTime,
    ) -> Result<(ProcedureRow, Vec<String>), ApiError> {
        let mut errors: Vec<FieldError> = Vec::new();
        if let Err(e) = check_procedure_code(&self.code) {
            errors.push(e);
        }
        check_text("name", &self.name, 500, &mut errors);
        check_text("result", &self.result, 2000, &mut errors);
        check_text("field_id", &self.field_id, 64, &mut errors);
        if self.agency_ids.is_empty() || self.agency_ids.len() > 50 {
            errors.push(FieldError::new(
                "agency_ids",
                "invalid_length",
                "Cần từ 1 đến 50 cơ quan",
                "Give 1 to 50 agencies",
            ));
        }
        if self.audiences.is_empty() {
            errors.push(FieldError::required("audiences"));
        }
        if !(0..=365).contains(&self.processing_days) {
            errors.push(FieldError::int_range("processing_days", 0, 365));
        }
        let (level, online) = match (self.service_level, self.online) {
            (None, None) => {
                errors.push(FieldError::required("service_level"));
                (None, OnlineMode::None)
            }
            (Some(l), online) => match ServiceLevel::new(l) {
                None => {
                    errors.push(FieldError::int_range("service_level", 1, 4));
                    (None, OnlineMode::None)
                }
                Some(level) => {
                    let online = online.unwrap_or(level.default_online());
                    if !online.consistent_with(level) {
                        errors.push(FieldError::new(
                            "online",
                            "inconsistent",
                            "Toàn trình ứng với mức độ 4, một phần với mức 3–4, không trực tuyến với mức 1–2",
                            "Full online is level 4, partial is level 3–4, none is level 1–2",
                        ));
                    }
                    (Some(level), online)
                }
            },
            (None, Some(online)) => (Some(online.default_level()), online),
        };
        check_procedure_parts(&self.fees, &self.required_documents, &self.forms, &mut errors);
        for (i, s) in self.steps.iter().enumerate() {
            check_text(&format!("steps[{i}]"), s, 2000, &mut errors);
        }
        for (i, s) in self.legal_basis.iter().enumerate() {
            check_text(&format!("legal_basis[{i}]"), s, 1000, &mut errors);
        }
        if let Some(schema) = &self.form_schema {
            if let Err(e) = check_form_schema(schema) {
                errors.push(e);
            }
        }
        let cutoff = self.receipt_cutoff.as_deref().filter(|c| !c.is_empty());
        if let Some(cutoff) = cutoff {
            if chrono::NaiveTime::parse_from_str(cutoff, "%H:%M").is_err() || cutoff.len() != 5 {
                errors.push(FieldError::new(
                    "receipt_cutoff",
                    "invalid_time",
                    "Giờ dạng HH:MM, ví dụ 15:00",
                    "A time as HH:MM, such as 15:00",
                ));
            }
        }
        let min_assurance_level = self.min_assurance_level.unwrap_or(1);
        if !(1..=2).contains(&min_assurance_level) {
            errors.push(FieldError::new("min_assurance_level", "out_of_range", "Mức 1 hoặc 2", "Level 1 or 2"));
        }
        if let Some(bundle) = &self.bundle {
            errors.extend(bundle.problems());
        }
        let level = match level {
            Some(l) if errors.is_empty() => l,
            _ => return Err(ApiError::validation(errors)),
        };
        let mut agency_ids = self.agency_ids;
        agency_ids.sort();
        agency_ids.dedup();
        let mut audiences = self.audiences;
        audiences.dedup();
        let name = self.name.trim().to_string();
        let name_folded = fold(&name);
        let row = ProcedureRow {
            id,
            code: self.code,
            name,
            name_folded,
            field_id: self.field_id,
            tier: self.tier.as_str().to_string(),
            service_level: level.get().into(),
            online: online.as_str().to_string(),
            audiences: to_json(&audiences),
            processing_days: self.processing_days as i32,
            fees: to_json(&self.fees),
            required_documents: to_json(&self.required_documents),
            forms: to_json(&self.forms),
            steps: to_json(&self.steps),
            legal_basis: to_json(&self.legal_basis),
            result: self.result.trim().to_string(),
            form_schema: self.form_schema.as_ref().map(to_json),
            version,
            effective_from: self.effective_from.unwrap_or_else(|| now.date()),
            created_at: now,
            updated_at: now,
            receipt_cutoff: cutoff.map(str::to_string),
            min_assurance_level,
            bundle: self.bundle.as_ref().map(to_json),
        };
        Ok((row, agency_ids))
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// What an administrator sends to create or replace an agency.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyInput {
    #[schema(example = "000.00.21.H26", pattern = r"^[A-Za-z0-9][A-Za-z0-9.-]{1,31}$")]
    pub code: String,
    #[schema(example = "Sở Tư pháp Thành phố Hà Nội", min_length = 1, max_length = 300, pattern = r"\S")]
    pub name: String,
    pub tier: Tier,
    #[schema(example = "01")]
    pub admin_unit_code: Option<String>,
    pub parent_id: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl AgencyInput {
    pub fn into_row(self, id: String, version: i32, now: NaiveDateTime) -> Result<AgencyRow, ApiError> {
        let mut errors = Vec::new();
        if let Err(e) = check_agency_code("code", &self.code) {
            errors.push(e);
        }
        check_text("name", &self.name, 300, &mut errors);
        for (field, value, max) in [
            ("address", &self.address, 500),
            ("phone", &self.phone, 20),
            ("email", &self.email, 254),
            ("admin_unit_code", &self.admin_unit_code, 10),
            ("parent_id", &self.parent_id, 64),
        ] {
            if let Some(v) = value {
                check_text(field, v, max, &mut errors);
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let name = self.name.trim().to_string();
        Ok(AgencyRow {
            id,
            name_folded: fold(&name),
            code: self.code,
            name,
            tier: self.tier.as_str().to_string(),
            admin_unit_code: self.admin_unit_code,
            parent_id: self.parent_id,
            address: self.address,
            phone: self.phone,
            email: self.email,
            version,
            created_at: now,
            updated_at: now,
        })
    }
}

/// What an administrator sends to create or rename a field.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    #[schema(example = "HO_TICH", pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$")]
    pub code: String,
    #[schema(example = "Hộ tịch", min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
}

impl FieldInput {
    pub fn into_row(self, id: String, now: NaiveDateTime) -> Result<FieldRow, ApiError> {
        let mut errors = Vec::new();
        if let Err(e) = check_agency_code("code", &self.code.replace('_', "-")) {
            errors.push(e);
        }
        check_text("name", &self.name, 200, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(FieldRow { id, code: self.code, name: self.name.trim().to_string(), created_at: now, updated_at: now })
    }
}
