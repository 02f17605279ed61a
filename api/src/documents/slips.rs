//! The one-stop documents of a dossier (the forms of Circular 01/2018/TT-VPCP, annex: the receipt
//! and appointment slip, the supplement request, the refusal, the apology with its new
//! appointment, and the control sheet of the handling), each with the dossier's code, the
//! agency, the dates, the applicant's name as written, and a QR code of the public tracking address.

use chrono::{NaiveDate, NaiveDateTime};

use super::pdf::{Align, Layout, PdfError, Style};

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = DossierDocumentKind, rename_all = "snake_case")]
pub enum Kind {
    Receipt,
    SupplementRequest,
    Refusal,
    Apology,
    ControlSheet,
}

impl Kind {
    pub const CODES: &'static [&'static str] =
        &["receipt", "supplement_request", "refusal", "apology", "control_sheet"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "receipt" => Kind::Receipt,
            "supplement_request" => Kind::SupplementRequest,
            "refusal" => Kind::Refusal,
            "apology" => Kind::Apology,
            "control_sheet" => Kind::ControlSheet,
            _ => return None,
        })
    }

    /// The form's number in the circular's annex, and its title.
    fn form(self) -> (&'static str, &'static str) {
        match self {
            Kind::Receipt => ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
            Kind::SupplementRequest => ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
            Kind::Refusal => ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
            Kind::Apology => ("04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
            Kind::ControlSheet => ("05", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
        }
    }

    /// A file name for it.
    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::Receipt => "giay-tiep-nhan",
            Kind::SupplementRequest => "phieu-yeu-cau-bo-sung",
            Kind::Refusal => "phieu-tu-choi",
            Kind::Apology => "phieu-xin-loi",
            Kind::ControlSheet => "phieu-kiem-soat",
        }
    }
}

/// One step of the handling, for the control sheet.
pub struct Step {
    pub at: NaiveDateTime,
    pub action: String,
    pub actor: String,
    pub note: Option<String>,
}

/// What a document shows of its dossier.
pub struct Slip {
    pub kind: Kind,
    pub agency_name: String,
    pub agency_code: String,
    pub dossier_code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub applicant_name: String,
    pub applicant_phone: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    pub due_date: Option<NaiveDate>,
    /// The documents attached (name, copies).
    pub documents: Vec<(String, i32)>,
    /// When the document's event happened (the request, the refusal, the apology).
    pub at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    /// For a supplement request: what is missing.
    pub missing: Vec<String>,
    /// For an apology: the appointment that was missed, and the new one.
    pub previous_due_date: Option<NaiveDate>,
    pub new_due_date: Option<NaiveDate>,
    pub steps: Vec<Step>,
    pub tracking_url: String,
}

fn local(t: NaiveDateTime) -> String {
    t.and_utc().with_timezone(&crate::calendar::vietnam()).format("%H giờ %M phút, ngày %d/%m/%Y").to_string()
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The document as a PDF.
pub fn render(s: &Slip) -> Result<Vec<u8>, PdfError> {
    let (number, title) = s.kind.form();
    let mut page = Layout::new();
    page.text(&format!("Mẫu số {number} (Thông tư 01/2018/TT-VPCP)"), Style { align: Align::Right, ..Style::SMALL });
    page.text(&s.agency_name.to_uppercase(), Style::CENTER_BOLD);
    page.text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Style::CENTER_BOLD);
    page.text("Độc lập - Tự do - Hạnh phúc", Style::CENTER_BOLD);
    page.gap(14.0);
    page.text(title, Style::TITLE);
    page.text(&format!("Mã hồ sơ: {}", s.dossier_code), Style::CENTER_BOLD);
    page.gap(10.0);
    let qr = crate::payment::qr_png(&s.tracking_url).map_err(PdfError)?;
    page.image_right(qr, 80.0);
    page.field("Cơ quan:", &format!("{} ({})", s.agency_name, s.agency_code));
    page.field("Thủ tục:", &format!("{} — {}", s.procedure_code, s.procedure_name));
    page.field("Người nộp hồ sơ:", &s.applicant_name);
    if let Some(phone) = &s.applicant_phone {
        page.field("Điện thoại:", phone);
    }
    match s.kind {
        Kind::Receipt => {
            if let Some(at) = s.received_at {
                page.field("Thời điểm tiếp nhận:", &local(at));
            }
            if let Some(due) = s.due_date {
                page.field("Ngày hẹn trả kết quả:", &day(due));
            }
            page.gap(6.0);
            page.text("Thành phần hồ sơ đã nhận:", Style::LABEL);
            for (i, (name, copies)) in s.documents.iter().enumerate() {
                page.text(&format!("{}. {name} — {copies} bản", i + 1), Style::BODY);
            }
        }
        Kind::SupplementRequest => {
            if let Some(at) = s.at {
                page.field("Thời điểm yêu cầu:", &local(at));
            }
            page.gap(6.0);
            page.text("Hồ sơ cần bổ sung, hoàn thiện những nội dung sau:", Style::LABEL);
            for (i, item) in s.missing.iter().enumerate() {
                page.text(&format!("{}. {item}", i + 1), Style::BODY);
            }
            if let Some(reason) = &s.reason {
                page.text(&format!("Lý do: {reason}"), Style::BODY);
            }
            page.text("Thời hạn giải quyết tạm dừng cho đến khi hồ sơ được bổ sung đầy đủ.", Style::BODY);
        }
        Kind::Refusal => {
            if let Some(at) = s.at {
                page.field("Thời điểm từ chối:", &local(at));
            }
            page.field("Lý do từ chối:", s.reason.as_deref().unwrap_or(""));
        }
        Kind::Apology => {
            if let Some(at) = s.received_at {
                page.field("Thời điểm tiếp nhận:", &local(at));
            }
            if let Some(previous) = s.previous_due_date {
                page.field("Ngày hẹn trước đây:", &day(previous));
            }
            page.field("Lý do chậm:", s.reason.as_deref().unwrap_or(""));
            if let Some(new) = s.new_due_date {
                page.field("Ngày hẹn trả kết quả mới:", &day(new));
            }
            page.text("Cơ quan xin lỗi ông/bà vì sự chậm trễ này và hẹn trả kết quả vào ngày nêu trên.", Style::BODY);
        }
        Kind::ControlSheet => {
            if let Some(at) = s.received_at {
                page.field("Thời điểm tiếp nhận:", &local(at));
            }
            if let Some(due) = s.due_date {
                page.field("Ngày hẹn trả kết quả:", &day(due));
            }
            page.gap(6.0);
            page.text("Quá trình giải quyết hồ sơ:", Style::LABEL);
            for step in &s.steps {
                let note = step.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
                page.text(&format!("{}: {} ({}){note}", local(step.at), step.action, step.actor), Style::BODY);
            }
        }
    }
    page.gap(10.0);
    page.text(&format!("Tra cứu tình trạng hồ sơ: {}", s.tracking_url), Style::SMALL);
    page.finish()
}

/// How the control sheet names who acted (the role or side the history records).
pub fn actor_label(role: &str) -> &str {
    use dvc_domain::auth::Role;
    use dvc_domain::workflow::Side;
    match (Role::parse(role), Side::parse(role)) {
        (Some(Role::Citizen | Role::Business | Role::Organization), _) | (_, Some(Side::Applicant)) => "người nộp",
        (Some(Role::Officer), _) | (_, Some(Side::Agency)) => "cán bộ",
        (Some(Role::Admin), _) => "quản trị",
        (Some(Role::Integration), _) => "hệ thống một cửa",
        _ => role,
    }
}

/// How the control sheet names an action.
pub fn action_label(action: &str) -> &'static str {
    match action {
        "create" => "Tạo hồ sơ",
        "submit" => "Nộp hồ sơ",
        "withdraw" => "Rút hồ sơ",
        "resubmit" => "Bổ sung hồ sơ",
        "receive" => "Tiếp nhận",
        "reject" => "Từ chối",
        "request_supplement" => "Yêu cầu bổ sung",
        "start_processing" => "Bắt đầu giải quyết",
        "complete" => "Có kết quả",
        "return_result" => "Trả kết quả",
        "stop" => "Dừng giải quyết",
        "apologize" => "Xin lỗi, hẹn lại",
        "register" => "Tiếp nhận tại bộ phận một cửa",
        "sync" => "Cập nhật từ hệ thống một cửa",
        "payment_paid" => "Nộp phí, lệ phí",
        "payment_refunded" => "Hoàn phí",
        _ => "Bước xử lý",
    }
}
