//! The schemas of the request bodies that are not JSON: multipart uploads and the gateway's
//! form-encoded notification.

use utoipa::ToSchema;

/// An attachment: the required-document slot, and either a file or a file uploaded before.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// The required-document slot of the procedure (`TK-KS`).
    #[schema(example = "TK-KS")]
    pub document_id: String,
    /// The document: PDF, JPEG, PNG, TIFF, DOCX or ODT, checked by its content.
    #[schema(value_type = Option<String>, format = Binary)]
    pub file: Option<Vec<u8>>,
    /// Instead of `file`: a file of yours uploaded before (see `GET /me/documents`).
    pub file_id: Option<String>,
}

/// A result document the agency issues.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ResultUpload {
    /// The result: PDF, JPEG, PNG, TIFF, DOCX or ODT, checked by its content.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// VNPay's payment notification as a form: the `vnp_` parameters and their signature (VNPay may
/// send more `vnp_` parameters; every one is signed).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VnpayNotification {
    #[schema(rename = "vnp_TxnRef", example = "3f6c2b0a9d")]
    pub txn_ref: String,
    /// The amount × 100.
    #[schema(rename = "vnp_Amount", example = "300000")]
    pub amount: String,
    #[schema(rename = "vnp_ResponseCode", example = "00")]
    pub response_code: String,
    #[schema(rename = "vnp_TransactionStatus", example = "00")]
    pub transaction_status: String,
    #[schema(rename = "vnp_TransactionNo")]
    pub transaction_no: Option<String>,
    #[schema(rename = "vnp_BankCode")]
    pub bank_code: Option<String>,
    #[schema(rename = "vnp_PayDate")]
    pub pay_date: Option<String>,
    /// Hex HMAC-SHA512 of the other parameters, sorted by name.
    #[schema(rename = "vnp_SecureHash")]
    pub secure_hash: String,
}
