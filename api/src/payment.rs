//! Payment providers: the sandbox and VNPay 2.1.0 (signed redirect, signed IPN), and VietQR.

use std::collections::BTreeMap;

pub use crate::config::VnpayConfig;

pub use dvc_domain::payment::vnpay::{hash_data, sign, verify};

/// The URL that sends the payer to VNPay's payment page.
pub fn payment_url(
    cfg: &VnpayConfig,
    reference: &str,
    amount_vnd: i64,
    order_info: &str,
    ip: &str,
    created: &str,
) -> String {
    let mut params = BTreeMap::new();
    for (k, v) in [
        ("vnp_Version", "2.1.0"),
        ("vnp_Command", "pay"),
        ("vnp_TmnCode", cfg.tmn_code.as_str()),
        ("vnp_CurrCode", "VND"),
        ("vnp_TxnRef", reference),
        ("vnp_OrderInfo", order_info),
        ("vnp_OrderType", "other"),
        ("vnp_Locale", "vn"),
        ("vnp_ReturnUrl", cfg.return_url.as_str()),
        ("vnp_IpAddr", ip),
        ("vnp_CreateDate", created),
    ] {
        params.insert(k.to_string(), v.to_string());
    }
    params.insert("vnp_Amount".into(), (amount_vnd * 100).to_string());
    let hash = sign(&cfg.hash_secret, &params);
    format!("{}?{}&vnp_SecureHash={hash}", cfg.pay_url, hash_data(&params))
}

/// A payment gateway: how a payment starts. Confirmations arrive through each gateway's own
/// signed callback.
pub trait Provider: Send {
    /// The name clients choose it by.
    fn name(&self) -> &'static str;

    /// Where to send the payer to pay `amount_vnd` under `reference`, if anywhere.
    fn redirect_url(
        &self,
        reference: &str,
        amount_vnd: i64,
        order_info: &str,
        ip: &str,
        created: &str,
    ) -> Option<String>;
}

/// Settled by the applicant through `sandbox-complete`; sandbox mode only.
pub struct Sandbox;

impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn redirect_url(&self, _: &str, _: i64, _: &str, _: &str, _: &str) -> Option<String> {
        None
    }
}

/// VNPay 2.1.0: a signed redirect to VNPay's page; settled by VNPay's signed IPN.
pub struct Vnpay(pub VnpayConfig);

impl Provider for Vnpay {
    fn name(&self) -> &'static str {
        "vnpay"
    }

    fn redirect_url(
        &self,
        reference: &str,
        amount_vnd: i64,
        order_info: &str,
        ip: &str,
        created: &str,
    ) -> Option<String> {
        Some(payment_url(&self.0, reference, amount_vnd, order_info, ip, created))
    }
}

/// The provider named `name`: `Ok(None)` when it exists but is not enabled here, a field error when
/// there is no such provider.
pub fn provider(
    config: &crate::config::Config,
    name: &str,
) -> Result<Option<Box<dyn Provider>>, dvc_domain::FieldError> {
    match name {
        "sandbox" => Ok(config.sandbox.then(|| Box::new(Sandbox) as Box<dyn Provider>)),
        "vnpay" => Ok(config.vnpay.clone().map(|cfg| Box::new(Vnpay(cfg)) as Box<dyn Provider>)),
        _ => Err(dvc_domain::FieldError::one_of("provider", &["sandbox", "vnpay"])),
    }
}

/// A QR image (PNG) of a payload.
pub fn qr_png(payload: &str) -> Result<Vec<u8>, String> {
    let code = qrcode::QrCode::new(payload.as_bytes()).map_err(|e| e.to_string())?;
    let image = code.render::<image::Luma<u8>>().min_dimensions(320, 320).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_sorted_encoded_parameters() {
        let mut p = BTreeMap::new();
        p.insert("vnp_b".to_string(), "x y".to_string());
        p.insert("vnp_a".to_string(), "1".to_string());
        assert_eq!(hash_data(&p), "vnp_a=1&vnp_b=x+y");
        let h = sign("secret", &p);
        p.insert("vnp_SecureHash".into(), h);
        assert!(verify("secret", &p));
        assert!(!verify("other", &p));
        p.insert("vnp_a".into(), "2".into());
        assert!(!verify("secret", &p));
    }
}
