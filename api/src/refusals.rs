//! What the domain's refusals say over HTTP: each one, once, as problem+json.

use actix_web::http::StatusCode;
use dvc_domain::dossier::Refusal;
use dvc_domain::feedback::FeedbackRefusal;
use dvc_domain::workflow::allowed_actions;
use dvc_domain::FieldError;

use crate::error::{ApiError, Msg};

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotAllowed { from, action, side } => {
                let allowed: Vec<&str> = allowed_actions(from, side).into_iter().map(|a| a.as_str()).collect();
                let list = if allowed.is_empty() { "không có".to_string() } else { allowed.join(", ") };
                let list_en = if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") };
                let mut e = ApiError::conflict(Msg::new(
                    format!("Không thể {action} khi hồ sơ đang ở trạng thái {from}; thao tác hợp lệ: {list}"),
                    format!("Cannot {action} a dossier that is {from}; allowed now: {list_en}"),
                ));
                e.code = "transition_not_allowed";
                e
            }
            Refusal::FeeUnpaid { amount_vnd } => {
                let mut e = ApiError::conflict(Msg::new(
                    format!("Hồ sơ còn {amount_vnd} đồng phí, lệ phí chưa thanh toán"),
                    format!("{amount_vnd} VND of fees are still unpaid"),
                ));
                e.code = "fee_unpaid";
                e
            }
            Refusal::ResultRequired => ApiError::unprocessable(
                "result_required",
                Msg::new(
                    "Cần tải lên văn bản kết quả trước khi hoàn thành",
                    "Upload the result documents before completing",
                ),
            ),
            Refusal::Invalid(field) => ApiError::field(field),
            Refusal::DocumentsMissing(missing) => {
                let mut e = ApiError::unprocessable(
                    "documents_missing",
                    Msg::new(
                        format!("Thiếu thành phần hồ sơ bắt buộc: {}", missing.join(", ")),
                        format!("Mandatory documents missing: {}", missing.join(", ")),
                    ),
                );
                e.errors = missing
                    .iter()
                    .map(|m| {
                        FieldError::new(
                            format!("attachments.{m}"),
                            "required",
                            "Thiếu giấy tờ bắt buộc",
                            "Mandatory document missing",
                        )
                    })
                    .collect();
                e
            }
            Refusal::FormIncomplete(errors) => {
                let mut e = ApiError::validation(errors);
                e.status = StatusCode::UNPROCESSABLE_ENTITY;
                e.code = "form_incomplete";
                e
            }
            Refusal::CodeNotAllocated => {
                tracing::error!("a draft was submitted without the code allocated to it");
                ApiError::internal()
            }
            Refusal::OnlineDossier => ApiError::conflict(Msg::new(
                "Hồ sơ nộp trực tuyến được cập nhật qua các bước xử lý (transitions)",
                "Online dossiers move through transitions",
            )),
            Refusal::BundleMovesBySteps => {
                let mut e = ApiError::conflict(Msg::new(
                    "Hồ sơ liên thông được giải quyết qua hồ sơ của từng bước, tại cơ quan của bước đó",
                    "An interconnected dossier moves by its steps' dossiers, each at its own agency",
                ));
                e.code = "bundle_moves_by_steps";
                e
            }
            Refusal::Unreachable { from, to } => {
                let mut e = ApiError::conflict(Msg::new(
                    format!("Hồ sơ đang ở trạng thái {from} không thể chuyển sang {to}"),
                    format!("A dossier that is {from} cannot become {to}"),
                ));
                e.code = "transition_not_allowed";
                e
            }
        }
    }
}

impl From<FeedbackRefusal> for ApiError {
    fn from(r: FeedbackRefusal) -> Self {
        match r {
            FeedbackRefusal::Invalid(field) => ApiError::field(field),
            FeedbackRefusal::NotYours => ApiError::forbidden(),
            FeedbackRefusal::NotAllowed { from, action } => ApiError::conflict(Msg::new(
                format!("Không thể {action} khi đang ở trạng thái {from}"),
                format!("Cannot {action} feedback that is {from}"),
            )),
            FeedbackRefusal::ReopenedOnce => {
                ApiError::conflict(Msg::new("Chỉ được mở lại một lần", "Feedback can be reopened only once"))
            }
        }
    }
}
