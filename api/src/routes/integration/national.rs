//! The national portal's exchange format.

use super::*;

// ---------------------------------------------------------------------------------------------
// The national wire format

/// The applicant block on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalApplicant {
    pub ho_ten: Option<String>,
    pub so_dinh_danh: Option<String>,
    pub so_dien_thoai: Option<String>,
    pub email: Option<String>,
}

/// A document on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalDocument {
    /// The required-document slot, or `result`.
    pub ma_giay_to: String,
    pub ten_tep: String,
    /// `1` submitted by the applicant, `2` result.
    pub loai: i32,
    /// 0 not digitised, 1 digitised, 2 reused, 3 reused from another dossier's result.
    pub trang_thai_so_hoa: i32,
    pub ma_bam_sha256: String,
}

/// A fee on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalFee {
    /// `1` phí (fee), `2` lệ phí (charge).
    pub loai_phi: i32,
    pub ten_phi: String,
    pub so_tien: i64,
    /// `before`, `after`, `exempt` or `free`.
    pub thoi_diem_nop: String,
}

/// A step of the history on the national wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NationalStep {
    /// `yyyyMMddHHmmss`, Asia/Ho_Chi_Minh.
    pub thoi_diem: String,
    pub hanh_dong: String,
    pub trang_thai: Option<i32>,
    pub ghi_chu: Option<String>,
}

/// A dossier as one-stop systems exchange it with the national portal. Dates are
/// `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh; a due date (a day) is written at `000000`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NationalDossier {
    #[serde(rename = "MaHoSo")]
    pub ma_ho_so: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    #[serde(rename = "TenTTHC")]
    pub ten_tthc: String,
    #[serde(rename = "MaCoQuan")]
    pub ma_co_quan: String,
    /// 1–10, see the national status list (6: fees due before processing).
    #[serde(rename = "TrangThaiHoSo")]
    pub trang_thai_ho_so: Option<i32>,
    /// 1 in person, 2 online, 3 public post.
    #[serde(rename = "KenhThucHien")]
    pub kenh_thuc_hien: i32,
    #[serde(rename = "NgayNopHoSo")]
    pub ngay_nop_ho_so: Option<String>,
    #[serde(rename = "NgayTiepNhan")]
    pub ngay_tiep_nhan: Option<String>,
    /// The due date that judges the agency (an apology does not move it).
    #[serde(rename = "NgayHenTra")]
    pub ngay_hen_tra: Option<String>,
    /// The new appointment of an apology, if one was given.
    #[serde(rename = "NgayHenTraMoi")]
    pub ngay_hen_tra_moi: Option<String>,
    #[serde(rename = "NgayKetThucXuLy")]
    pub ngay_ket_thuc_xu_ly: Option<String>,
    /// `early`, `on_time` or `late` once the agency has finished.
    #[serde(rename = "TinhTrangHan")]
    pub tinh_trang_han: Option<String>,
    #[serde(rename = "ChuHoSo")]
    pub chu_ho_so: NationalApplicant,
    #[serde(rename = "DanhSachGiayTo")]
    pub danh_sach_giay_to: Vec<NationalDocument>,
    #[serde(rename = "DanhSachLePhi")]
    pub danh_sach_le_phi: Vec<NationalFee>,
    #[serde(rename = "TongPhiDaThanhToan")]
    pub tong_phi_da_thanh_toan: i64,
    #[serde(rename = "QuaTrinhXuLy")]
    pub qua_trinh_xu_ly: Vec<NationalStep>,
}

/// `yyyyMMddHHmmss` in Vietnam of a stored (UTC) time.
pub fn wire_time(t: NaiveDateTime) -> String {
    t.and_utc().with_timezone(&crate::calendar::vietnam()).format("%Y%m%d%H%M%S").to_string()
}

/// A business day on the wire: the day at `000000`.
fn wire_day(d: NaiveDate) -> String {
    format!("{}000000", d.format("%Y%m%d"))
}

fn national(conn: &mut DbConn, row: Dossier) -> Result<NationalDossier, ApiError> {
    let fees = svc::fee_state(conn, &row)?;
    let applicant: serde_json::Value = serde_json::from_str(row.applicant.get()).unwrap_or_default();
    let text = |key: &str| applicant.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let mut documents = Vec::new();
    for kind in [APPLICANT, RESULT] {
        for (a, f) in files::attachments(conn, row.id.as_str(), kind)? {
            documents.push(NationalDocument {
                ma_giay_to: a.document_id,
                ten_tep: f.filename,
                loai: if kind == RESULT { 2 } else { 1 },
                trang_thai_so_hoa: f.digitization,
                ma_bam_sha256: f.sha256,
            });
        }
    }
    let steps = d::events(conn, row.id.as_str())?
        .into_iter()
        .map(|e| {
            // A step that fees blocked says so (national status 6) in its data.
            let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
            let code = data.get("national_status_code").and_then(|c| c.as_i64()).map(|c| c as i32);
            NationalStep {
                thoi_diem: wire_time(e.at),
                hanh_dong: e.action.0.as_str().to_string(),
                trang_thai: code.or_else(|| e.to_status.0.national_code()),
                ghi_chu: e.note,
            }
        })
        .collect();
    let snap = row.procedure;
    Ok(NationalDossier {
        ma_ho_so: row.code.clone().unwrap_or_default(),
        ma_tthc: snap.code.clone(),
        ten_tthc: snap.name.clone(),
        ma_co_quan: snap.agency_code.clone(),
        trang_thai_ho_so: national_code(row.status, &fees),
        kenh_thuc_hien: row.channel.national_code(),
        ngay_nop_ho_so: row.submitted_at.map(wire_time),
        ngay_tiep_nhan: row.received_at.map(wire_time),
        ngay_hen_tra: row.clock.due_date.map(wire_day),
        ngay_hen_tra_moi: row.clock.rescheduled_due_date.map(wire_day),
        ngay_ket_thuc_xu_ly: row.finished_at.map(wire_time),
        tinh_trang_han: row.timeliness.map(|t| t.as_str().to_string()),
        chu_ho_so: NationalApplicant {
            ho_ten: text("full_name"),
            so_dinh_danh: text("id_number").or_else(|| text("tax_code")),
            so_dien_thoai: text("phone"),
            email: text("email"),
        },
        danh_sach_giay_to: documents,
        danh_sach_le_phi: snap
            .fees
            .iter()
            .map(|f| NationalFee {
                loai_phi: if f.kind == dvc_domain::catalogue::FeeKind::Fee { 1 } else { 2 },
                ten_phi: f.name.clone(),
                so_tien: f.amount_vnd,
                thoi_diem_nop: f.mode.as_str().into(),
            })
            .collect(),
        tong_phi_da_thanh_toan: fees.paid_before + fees.paid_after,
        qua_trinh_xu_ly: steps,
    })
}

/// A dossier of the client's agencies in the national portal's exchange format.
#[utoipa::path(operation_id = "getNationalDossier", tag = "integration", security(("bearer" = [])), params(("code" = String, Path, description = "Dossier code")), responses(
    (status = 200, description = "The dossier", body = NationalDossier),
    (status = 401, description = "No valid client token", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an integration client", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such dossier among the client's agencies", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integration/dossiers/{code}/national")]
pub async fn national_dossier(
    state: web::Data<AppState>,
    IntegrationToken(me): IntegrationToken,
    code: web::Path<String>,
) -> ApiResult<web::Json<NationalDossier>> {
    let client = caller(&state, &me).await?;
    let code = path_key(code.into_inner(), "hồ sơ", "Dossier")?;
    let view = state
        .db(move |conn| {
            let row = client_dossier(conn, &client, &code)?;
            national(conn, row)
        })
        .await?;
    Ok(web::Json(view))
}
