//! Which channels this server sends messages through, read from `DVC_*` settings.

use std::collections::BTreeMap;
use std::time::Duration;

use dvc_domain::notify::{Channel, Purpose};
use serde::Deserialize;

/// Messages: the channels set up, their order per purpose, and how patient senders are.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub email: Option<EmailSettings>,
    pub sms: Option<SmsGateway>,
    pub zalo: Option<ZaloSettings>,
    /// `DVC_NOTIFY_ORDER_<PURPOSE>` and the group defaults `DVC_NOTIFY_ORDER_OTP`, `..._NOTICE`.
    pub orders: BTreeMap<String, Vec<Channel>>,
    /// Time a provider has to answer.
    pub timeout: Duration,
    /// How often the outbox is looked at.
    pub poll: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            email: None,
            sms: None,
            zalo: None,
            orders: BTreeMap::new(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}

/// SMTP: `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS),
/// `smtp://host:25` (plain, for a relay on the same network).
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub url: String,
    pub from: String,
}

/// An SMS brandname provider's HTTP API as a template: the request to send one message, how to
/// read its answer, and how its delivery receipts look.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SmsGateway {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    /// With placeholders `{phone}` (84…), `{phone_local}` (0…), `{phone_e164}` (+84…), `{text}`,
    /// `{id}`, `{callback}`, `{api_key}`, `{secret_key}`, `{brandname}` and `{base64:…}`.
    pub body: String,
    /// JSON pointer to the provider's message id in its answer.
    pub id_field: Option<String>,
    /// JSON pointer to the field saying the request was taken, and the values that mean so.
    pub ok_field: Option<String>,
    pub ok_values: Vec<String>,
    /// Receipts: the parameter with the provider's message id, the one with the status, and the
    /// status values meaning delivered and failed (others mean "not yet").
    pub receipt_id_field: Option<String>,
    pub receipt_status_field: Option<String>,
    pub receipt_delivered: Vec<String>,
    pub receipt_failed: Vec<String>,
    #[serde(skip)]
    pub api_key: String,
    #[serde(skip)]
    pub secret_key: String,
    #[serde(skip)]
    pub brandname: String,
    /// Signs the receipt URL given to the provider (`DVC_SMS_RECEIPT_SECRET`); receipts are
    /// refused without a valid signature, and not expected when this is unset.
    #[serde(skip)]
    pub receipt_secret: Option<String>,
}

impl SmsGateway {
    /// Whether accepted messages wait for a receipt before they count as delivered.
    pub fn expects_receipts(&self) -> bool {
        self.receipt_secret.is_some() && self.receipt_status_field.is_some() && !self.receipt_delivered.is_empty()
    }
}

/// Zalo Notification Service: template messages to a phone number, with the Official Account's
/// OAuth tokens (the refresh token is used once, then replaced).
#[derive(Debug, Clone)]
pub struct ZaloSettings {
    pub app_id: String,
    pub secret_key: String,
    pub refresh_token: String,
    pub access_token: Option<String>,
    pub api_url: String,
    pub oauth_url: String,
    /// ZNS template id per purpose.
    pub templates: BTreeMap<String, String>,
}

const PRESETS: &str = include_str!("../../notify/sms_presets.json");

/// The ready-made gateway settings of a provider (`esms`, `speedsms`).
pub fn preset(name: &str) -> Option<SmsGateway> {
    let all: BTreeMap<String, SmsGateway> = serde_json::from_str(PRESETS).expect("sms_presets.json is valid");
    all.get(name).cloned()
}

fn list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn channels(key: &str, v: &str) -> Result<Vec<Channel>, String> {
    list(v)
        .iter()
        .map(|c| Channel::parse(c).ok_or_else(|| format!("{key}: unknown channel {c:?} (expected sms, zalo, email)")))
        .collect()
}

impl NotifyConfig {
    /// Reads the `DVC_SMTP_*`, `DVC_MAIL_FROM`, `DVC_SMS_*`, `DVC_ZALO_*` and `DVC_NOTIFY_*` settings.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut c = NotifyConfig::default();
        if let Some(url) = get("DVC_SMTP_URL") {
            let from = get("DVC_MAIL_FROM").ok_or("DVC_MAIL_FROM is required with DVC_SMTP_URL")?;
            from.parse::<lettre::message::Mailbox>().map_err(|e| format!("DVC_MAIL_FROM: {e}"))?;
            lettre::SmtpTransport::from_url(&url).map_err(|e| format!("DVC_SMTP_URL: {e}"))?;
            c.email = Some(EmailSettings { url, from });
        }
        let mut sms = match get("DVC_SMS_PRESET") {
            Some(name) => Some(
                preset(name.trim())
                    .ok_or_else(|| format!("DVC_SMS_PRESET: unknown preset {name:?} (esms, speedsms)"))?,
            ),
            None => None,
        };
        if let Some(url) = get("DVC_SMS_GATEWAY_URL") {
            sms.get_or_insert_with(SmsGateway::default).url = url;
        }
        if let Some(g) = sms.as_mut() {
            if let Some(v) = get("DVC_SMS_GATEWAY_METHOD") {
                g.method = v.trim().to_uppercase();
            }
            if let Some(v) = get("DVC_SMS_GATEWAY_HEADERS") {
                g.headers = serde_json::from_str(&v)
                    .map_err(|e| format!("DVC_SMS_GATEWAY_HEADERS: a JSON object of strings is expected: {e}"))?;
            }
            if let Some(v) = get("DVC_SMS_GATEWAY_BODY") {
                g.body = v;
            }
            if let Some(v) = get("DVC_SMS_GATEWAY_ID_FIELD") {
                g.id_field = Some(v);
            }
            if let Some(v) = get("DVC_SMS_GATEWAY_OK_FIELD") {
                g.ok_field = Some(v);
            }
            if let Some(v) = get("DVC_SMS_GATEWAY_OK_VALUES") {
                g.ok_values = list(&v);
            }
            if let Some(v) = get("DVC_SMS_RECEIPT_ID_FIELD") {
                g.receipt_id_field = Some(v);
            }
            if let Some(v) = get("DVC_SMS_RECEIPT_STATUS_FIELD") {
                g.receipt_status_field = Some(v);
            }
            if let Some(v) = get("DVC_SMS_RECEIPT_DELIVERED") {
                g.receipt_delivered = list(&v);
            }
            if let Some(v) = get("DVC_SMS_RECEIPT_FAILED") {
                g.receipt_failed = list(&v);
            }
            g.receipt_secret = get("DVC_SMS_RECEIPT_SECRET");
            g.api_key = get("DVC_SMS_API_KEY").unwrap_or_default();
            g.secret_key = get("DVC_SMS_SECRET_KEY").unwrap_or_default();
            g.brandname = get("DVC_SMS_BRANDNAME").unwrap_or_default();
            if g.method.is_empty() {
                g.method = "POST".into();
            }
            reqwest::Method::from_bytes(g.method.as_bytes())
                .map_err(|_| format!("DVC_SMS_GATEWAY_METHOD: not an HTTP method: {}", g.method))?;
            url::Url::parse(&g.url).map_err(|e| format!("DVC_SMS_GATEWAY_URL: {e}"))?;
        }
        c.sms = sms;
        if let Some(app_id) = get("DVC_ZALO_APP_ID") {
            let mut templates = BTreeMap::new();
            for pair in list(&get("DVC_ZALO_TEMPLATES").unwrap_or_default()) {
                let (purpose, id) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("DVC_ZALO_TEMPLATES: expected purpose=template_id, got {pair:?}"))?;
                let purpose = Purpose::parse(purpose.trim())
                    .ok_or_else(|| format!("DVC_ZALO_TEMPLATES: unknown purpose {purpose:?}"))?;
                templates.insert(purpose.as_str().to_string(), id.trim().to_string());
            }
            c.zalo = Some(ZaloSettings {
                app_id,
                secret_key: get("DVC_ZALO_SECRET_KEY").ok_or("DVC_ZALO_SECRET_KEY is required with DVC_ZALO_APP_ID")?,
                refresh_token: get("DVC_ZALO_REFRESH_TOKEN")
                    .ok_or("DVC_ZALO_REFRESH_TOKEN is required with DVC_ZALO_APP_ID")?,
                access_token: get("DVC_ZALO_ACCESS_TOKEN"),
                api_url: get("DVC_ZALO_API_URL")
                    .unwrap_or_else(|| "https://business.openapi.zalo.me".into())
                    .trim_end_matches('/')
                    .to_string(),
                oauth_url: get("DVC_ZALO_OAUTH_URL")
                    .unwrap_or_else(|| "https://oauth.zaloapp.com".into())
                    .trim_end_matches('/')
                    .to_string(),
                templates,
            });
        }
        let mut keys: Vec<String> = vec!["OTP".into(), "NOTICE".into()];
        keys.extend(Purpose::CODES.iter().map(|p| p.to_uppercase()));
        for key in keys {
            let name = format!("DVC_NOTIFY_ORDER_{key}");
            if let Some(v) = get(&name) {
                c.orders.insert(key, channels(&name, &v)?);
            }
        }
        if let Some(v) = get("DVC_NOTIFY_TIMEOUT_MS") {
            c.timeout = Duration::from_millis(v.trim().parse().map_err(|_| format!("DVC_NOTIFY_TIMEOUT_MS: {v}"))?);
        }
        Ok(c)
    }

    /// The channels this server can send through. With none set up, messages go to the log.
    pub fn available(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        if self.sms.is_some() {
            out.push(Channel::Sms);
        }
        if self.zalo.is_some() {
            out.push(Channel::Zalo);
        }
        if self.email.is_some() {
            out.push(Channel::Email);
        }
        if out.is_empty() {
            out.push(Channel::Log);
        }
        out
    }

    /// The order of channels for a purpose: its own setting, its group's, or the default
    /// (OTP: SMS, Zalo, e-mail; notices: Zalo, e-mail, SMS); the log comes last.
    pub fn order(&self, purpose: Purpose) -> Vec<Channel> {
        let own = self.orders.get(&purpose.as_str().to_uppercase()).or_else(|| self.orders.get(purpose.group()));
        let mut order = own.cloned().unwrap_or_else(|| {
            if purpose.is_otp() {
                vec![Channel::Sms, Channel::Zalo, Channel::Email]
            } else {
                vec![Channel::Zalo, Channel::Email, Channel::Sms]
            }
        });
        order.push(Channel::Log);
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_settings_override_them() {
        let env: BTreeMap<&str, &str> = [
            ("DVC_SMS_PRESET", "esms"),
            ("DVC_SMS_API_KEY", "K"),
            ("DVC_SMS_GATEWAY_URL", "http://127.0.0.1:9/send"),
            ("DVC_SMS_RECEIPT_SECRET", "s"),
            ("DVC_NOTIFY_ORDER_OTP", "zalo, sms"),
            ("DVC_NOTIFY_ORDER_RESULT_READY", "email"),
        ]
        .into();
        let get = |k: &str| env.get(k).map(|v| v.to_string());
        let c = NotifyConfig::from_env(&get).expect("test value");
        let sms = c.sms.as_ref().expect("test value");
        assert_eq!(sms.url, "http://127.0.0.1:9/send");
        assert_eq!(sms.id_field.as_deref(), Some("/SMSID"));
        assert_eq!(sms.api_key, "K");
        assert!(sms.expects_receipts());
        assert_eq!(c.order(Purpose::RegistrationOtp), vec![Channel::Zalo, Channel::Sms, Channel::Log]);
        assert_eq!(c.order(Purpose::ResultReady), vec![Channel::Email, Channel::Log]);
        assert_eq!(c.order(Purpose::Rejected), vec![Channel::Zalo, Channel::Email, Channel::Sms, Channel::Log]);
        assert_eq!(c.available(), vec![Channel::Sms]);
        assert!(preset("speedsms").is_some());
    }

    #[test]
    fn bad_settings_are_refused_with_their_name() {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[("DVC_SMS_PRESET", "nope")], "DVC_SMS_PRESET"),
            (&[("DVC_NOTIFY_ORDER_OTP", "sms,fax")], "DVC_NOTIFY_ORDER_OTP"),
            (&[("DVC_SMTP_URL", "smtp://127.0.0.1:25")], "DVC_MAIL_FROM"),
            (&[("DVC_SMS_GATEWAY_URL", "http://x/"), ("DVC_SMS_GATEWAY_HEADERS", "a: b")], "DVC_SMS_GATEWAY_HEADERS"),
        ];
        for (pairs, name) in cases {
            let env: BTreeMap<&str, &str> = pairs.iter().copied().collect();
            let get = |k: &str| env.get(k).map(|v| v.to_string());
            let err = NotifyConfig::from_env(&get).expect_err("refused");
            assert!(err.contains(name), "{err}");
        }
    }
}
