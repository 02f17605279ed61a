//! A dossier's one-stop documents as PDF: the receipt and appointment slip, the supplement
//! request, the refusal, the apology, and the control sheet.

use actix_web::{get, web, HttpResponse};
use dvc_domain::auth::Role;
use dvc_domain::dossier::{Dossier, Step};
use dvc_persistence::dossiers::{self as d, EventRow};
use dvc_persistence::DbConn;

use crate::documents::slips::{self, Kind, Slip};
use crate::dossier::{self as svc, Access};
use crate::error::{ApiError, ApiResult, Msg, Problem};
use crate::guards::PersonOrClient;
use crate::routes::path_key;
use crate::state::AppState;

/// The latest event of one action.
fn latest(events: &[EventRow], step: Step) -> Option<&EventRow> {
    events.iter().rev().find(|e| e.action.0 == step)
}

fn data_str(e: &EventRow, key: &str) -> Option<String> {
    let data: serde_json::Value = serde_json::from_str(&e.data).ok()?;
    data.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

fn data_date(e: &EventRow, key: &str) -> Option<chrono::NaiveDate> {
    data_str(e, key).and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
}

fn not_yet(what_vi: &str, what_en: &str) -> ApiError {
    let mut e = ApiError::conflict(Msg::new(
        format!("Hồ sơ chưa đến bước có {what_vi}"),
        format!("The dossier has not reached the point of a {what_en}"),
    ));
    e.code = "not_reached";
    e
}

/// What the document of `kind` shows of a dossier, or 409 when the dossier has not reached it.
fn slip(conn: &mut DbConn, dossier: &Dossier, kind: Kind, tracking_url: String) -> Result<Slip, ApiError> {
    let events = d::events(conn, dossier.id.as_str())?;
    let applicant: serde_json::Value = serde_json::from_str(dossier.applicant.get()).unwrap_or_default();
    let attachments = dvc_persistence::files::attachments_of(conn, std::slice::from_ref(&dossier.id.0))?;
    let documents = attachments
        .iter()
        .filter(|(a, _)| a.kind != dvc_persistence::files::RESULT)
        .map(|(a, file)| {
            let required = dossier.procedure.required_documents.iter().find(|r| r.id == a.document_id);
            let name = required.map_or_else(|| file.filename.clone(), |r| r.name.clone());
            (name, required.map_or(1, |r| r.copies))
        })
        .collect();
    let event = match kind {
        Kind::Receipt | Kind::ControlSheet => {
            if dossier.received_at.is_none() {
                return Err(not_yet("giấy tiếp nhận", "receipt"));
            }
            None
        }
        Kind::SupplementRequest => Some(
            latest(&events, Step::RequestSupplement).ok_or_else(|| not_yet("yêu cầu bổ sung", "supplement request"))?,
        ),
        Kind::Refusal => Some(latest(&events, Step::Reject).ok_or_else(|| not_yet("từ chối", "refusal"))?),
        Kind::Apology => Some(latest(&events, Step::Apologize).ok_or_else(|| not_yet("xin lỗi", "apology"))?),
    };
    let missing: Vec<String> = event
        .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.data).ok())
        .and_then(|data| data.get("missing_documents").cloned())
        .and_then(|m| serde_json::from_value::<Vec<String>>(m).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|id| dossier.procedure.required_documents.iter().find(|r| r.id == id).map_or(id, |r| r.name.clone()))
        .collect();
    let reason = event.and_then(|e| data_str(e, "reason").or_else(|| e.note.clone()));
    let mut missing = missing;
    if kind == Kind::SupplementRequest && missing.is_empty() {
        missing.extend(event.and_then(|e| e.note.clone()));
    }
    Ok(Slip {
        kind,
        agency_name: dossier.procedure.agency_name.clone(),
        agency_code: dossier.procedure.agency_code.clone(),
        dossier_code: dossier.code.clone().unwrap_or_default(),
        procedure_code: dossier.procedure.code.clone(),
        procedure_name: dossier.procedure.name.clone(),
        applicant_name: applicant.get("full_name").and_then(|n| n.as_str()).unwrap_or_default().to_string(),
        applicant_phone: applicant.get("phone").and_then(|n| n.as_str()).map(str::to_string),
        submitted_at: dossier.submitted_at,
        received_at: dossier.received_at,
        due_date: dossier.clock.due_date,
        documents,
        at: event.map(|e| e.at),
        reason: if kind == Kind::SupplementRequest { event.and_then(|e| e.note.clone()) } else { reason },
        missing,
        previous_due_date: event.and_then(|e| data_date(e, "previous_due_date")),
        new_due_date: event.and_then(|e| data_date(e, "new_due_date")),
        steps: events
            .iter()
            .filter(|e| e.action.0 != Step::Create)
            .map(|e| slips::Step {
                at: e.at,
                action: slips::action_label(e.action.0.as_str()).to_string(),
                actor: slips::actor_label(&e.actor_role).to_string(),
                note: e.note.clone(),
            })
            .collect(),
        tracking_url,
    })
}

/// A one-stop document of a dossier, as a PDF.
///
/// `receipt` (the receipt and appointment slip), `supplement_request`, `refusal`, `apology` (with
/// the new appointment) or `control_sheet` (every step with its time), as Circular 01/2018/TT-VPCP
/// lays them out: the dossier's applicant, the handling agency's staff and its integration
/// clients may read them; 409 before the dossier reaches that point.
#[utoipa::path(operation_id = "getDossierDocument", tag = "dossiers", security(("bearer" = [])), params(
    ("id" = String, Path, description = "Dossier id"),
    ("kind" = Kind, Path, description = "Which document"),
), responses(
    (status = 200, description = "The document", body = Vec<u8>, content_type = "application/pdf"),
    (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not used: other people's dossiers are 404", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier for this caller, or no such kind", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The dossier has not reached that point", body = Problem, content_type = "application/problem+json"),
))]
#[get("/dossiers/{id}/documents/{kind}")]
pub async fn dossier_document(
    state: web::Data<AppState>,
    me: PersonOrClient,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let me = me.0;
    let (id, kind) = path.into_inner();
    let id = path_key(id, "hồ sơ", "Dossier")?;
    let kind = Kind::parse(&kind).ok_or_else(|| ApiError::not_found("loại giấy tờ", "Document kind"))?;
    let client_agencies = match me.role() {
        Role::Integration => Some(crate::routes::integration::caller(&state, &me).await?.agencies()),
        _ => None,
    };
    let caller = me.caller();
    let public_url = state.config.public_url.clone();
    let slip = state
        .db(move |conn| {
            let dossier = match &client_agencies {
                Some(agencies) => d::find(conn, &id)?
                    .filter(|row| agencies.iter().any(|a| a == row.agency_id.as_str()))
                    .ok_or_else(svc::not_found)?,
                None => {
                    let (dossier, access) = svc::load(conn, &caller, &id)?;
                    if access == Access::Admin {
                        return Err(svc::not_found());
                    }
                    dossier
                }
            };
            let code = dossier.code.clone().unwrap_or_default();
            let tracking = format!("{public_url}/api/v1/dossiers/lookup?code={code}");
            slip(conn, &dossier, kind, tracking)
        })
        .await?;
    let name = format!("{}-{}.pdf", kind.file_stem(), slip.dossier_code);
    crate::documents::pdf_answer("a one-stop document", &name, "inline", move || slips::render(&slip)).await
}
