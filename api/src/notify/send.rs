//! The channels: an SMS gateway over HTTP, Zalo Notification Service, e-mail over SMTP, and the
//! log. Each turns one message into an [`Outcome`]; none of them logs a message's text.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use chrono::NaiveDateTime;
use dvc_domain::notify::{without_marks, Outcome};
use dvc_persistence::outbox::{self, ProviderToken};
use dvc_persistence::DbConn;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::config::{EmailSettings, SmsGateway, ZaloSettings};

/// One message, written for its channel.
pub struct Outgoing<'a> {
    pub id: &'a str,
    pub purpose: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub params: &'a BTreeMap<String, String>,
}

fn client(timeout: Duration) -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("dvc-notify/1")
        .build()
        .map_err(|e| e.to_string())
}

/// An HTTP answer as an outcome: 2xx is for the caller to read, 408/429/5xx and transport errors
/// are worth a retry, other statuses are refusals.
fn http_outcome(result: reqwest::Result<reqwest::blocking::Response>) -> Result<(u16, String), Outcome> {
    match result {
        Err(e) => Err(Outcome::Temporary(format!("no answer: {}", e.without_url()))),
        Ok(res) => {
            let status = res.status().as_u16();
            let body = res.text().unwrap_or_default();
            let short: String = body.chars().take(300).collect();
            if (200..300).contains(&status) {
                Ok((status, body))
            } else if status == 408 || status == 429 || status >= 500 {
                Err(Outcome::Temporary(format!("HTTP {status}: {short}")))
            } else {
                Err(Outcome::Permanent(format!("HTTP {status}: {short}")))
            }
        }
    }
}

/// The signature of a receipt URL for a message (`n`): HMAC-SHA256 in hex.
pub fn receipt_signature(secret: &str, n: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(n.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `sig_hex` is the receipt signature of `n` (compared in constant time).
pub fn receipt_signature_matches(secret: &str, n: &str, sig_hex: &str) -> bool {
    let Ok(given) = hex::decode(sig_hex) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(n.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// How a placeholder's value is written where it stands.
#[derive(Clone, Copy)]
enum Escape {
    Raw,
    Json,
    Form,
}

fn escape(value: &str, how: Escape) -> String {
    match how {
        Escape::Raw => value.to_string(),
        Escape::Json => {
            let quoted = serde_json::to_string(value).unwrap_or_default();
            quoted[1..quoted.len() - 1].to_string()
        }
        Escape::Form => form_urlencoded::byte_serialize(value.as_bytes()).collect(),
    }
}

/// Fills a gateway template: `{name}` from `values`, `{base64:…}` (filled first) in Base64.
fn render(template: &str, values: &BTreeMap<&str, String>, how: Escape) -> String {
    let mut out = String::new();
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' {
            // The matching brace, counting nested ones.
            let mut depth = 0;
            let mut end = None;
            for (j, &c) in chars.iter().enumerate().skip(i) {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(end) = end {
                let inner: String = chars[i + 1..end].iter().collect();
                if let Some(rest) = inner.strip_prefix("base64:") {
                    let raw = render(rest, values, Escape::Raw);
                    out.push_str(&escape(&base64::engine::general_purpose::STANDARD.encode(raw), how));
                    i = end + 1;
                    continue;
                }
                if let Some(v) = values.get(inner.as_str()) {
                    out.push_str(&escape(v, how));
                    i = end + 1;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A JSON value at a pointer, as text (strings bare, numbers as written).
fn field(body: &Value, pointer: &str) -> Option<String> {
    match body.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The request an SMS gateway gets for a message: method, URL, headers and body.
pub struct GatewayRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl SmsGateway {
    pub fn request(&self, m: &Outgoing, public_url: &str) -> GatewayRequest {
        let digits: String = m.to.chars().filter(char::is_ascii_digit).collect();
        let local = digits.strip_prefix("84").map(|rest| format!("0{rest}")).unwrap_or_else(|| digits.clone());
        let callback = match &self.receipt_secret {
            Some(secret) => {
                format!("{public_url}/api/v1/gateway/sms/receipts?n={}&sig={}", m.id, receipt_signature(secret, m.id))
            }
            None => String::new(),
        };
        let values: BTreeMap<&str, String> = [
            ("phone", digits.clone()),
            ("phone_local", local),
            ("phone_e164", format!("+{digits}")),
            ("text", without_marks(m.text)),
            ("id", m.id.to_string()),
            ("callback", callback),
            ("api_key", self.api_key.clone()),
            ("secret_key", self.secret_key.clone()),
            ("brandname", self.brandname.clone()),
        ]
        .into();
        let form = self
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.contains("application/x-www-form-urlencoded"));
        GatewayRequest {
            method: self.method.clone(),
            url: render(&self.url, &values, Escape::Form),
            headers: self.headers.iter().map(|(k, v)| (k.clone(), render(v, &values, Escape::Raw))).collect(),
            body: render(&self.body, &values, if form { Escape::Form } else { Escape::Json }),
        }
    }

    pub fn send(&self, m: &Outgoing, public_url: &str, timeout: Duration) -> Outcome {
        let client = match client(timeout) {
            Ok(c) => c,
            Err(e) => return Outcome::Temporary(e),
        };
        let r = self.request(m, public_url);
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut builder = client.request(method.clone(), &r.url);
        for (k, v) in &r.headers {
            builder = builder.header(k, v);
        }
        if method != reqwest::Method::GET && !r.body.is_empty() {
            builder = builder.body(r.body);
        }
        let body = match http_outcome(builder.send()) {
            Ok((_, body)) => body,
            Err(outcome) => return outcome,
        };
        let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if let Some(ok_field) = &self.ok_field {
            let said = field(&json, ok_field);
            if !said.as_ref().is_some_and(|s| self.ok_values.contains(s)) {
                let short: String = body.chars().take(300).collect();
                return Outcome::Permanent(format!("refused by the gateway: {short}"));
            }
        }
        let provider_id = self.id_field.as_deref().and_then(|p| field(&json, p));
        if self.expects_receipts() {
            Outcome::Accepted { provider_id }
        } else {
            Outcome::Delivered { provider_id }
        }
    }
}

impl EmailSettings {
    pub fn send(&self, m: &Outgoing, timeout: Duration) -> Outcome {
        use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
        use lettre::Transport;
        let to: Mailbox = match m.to.parse() {
            Ok(to) => to,
            Err(e) => return Outcome::Permanent(format!("not an e-mail address: {e}")),
        };
        let from: Mailbox = match self.from.parse() {
            Ok(f) => f,
            Err(e) => return Outcome::Permanent(format!("DVC_MAIL_FROM: {e}")),
        };
        let html = format!(
            "<!doctype html><html lang=\"vi\"><body><p>{}</p></body></html>",
            html_escape(m.text).replace('\n', "<br>")
        );
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(m.subject)
            .message_id(Some(format!("<{}@dvc>", m.id)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(m.text.to_string()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
            );
        let message = match message {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(e.to_string()),
        };
        let transport = match lettre::SmtpTransport::from_url(&self.url) {
            Ok(t) => t.timeout(Some(timeout)).build(),
            Err(e) => return Outcome::Permanent(format!("DVC_SMTP_URL: {e}")),
        };
        match transport.send(&message) {
            Ok(response) => {
                let id = response.message().collect::<Vec<_>>().join(" ");
                Outcome::Delivered {
                    provider_id: Some(id.chars().take(200).collect()).filter(|s: &String| !s.is_empty()),
                }
            }
            Err(e) if e.is_permanent() => Outcome::Permanent(e.to_string()),
            Err(e) => Outcome::Temporary(e.to_string()),
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Refresh a Zalo access token this long before it runs out.
const ZALO_REFRESH_MARGIN_SECS: i64 = 300;

impl ZaloSettings {
    /// A valid access token: the shared one, refreshed first when it is about to run out (by one
    /// server at a time; the others keep using the current one meanwhile).
    fn access_token(&self, conn: &mut DbConn, timeout: Duration, now: NaiveDateTime) -> Result<String, Outcome> {
        let db = |e: diesel::result::Error| Outcome::Temporary(format!("database: {e}"));
        if outbox::token(conn, "zalo").map_err(db)?.is_none() {
            let row = ProviderToken {
                provider: "zalo".into(),
                access_token: self.access_token.clone().unwrap_or_default(),
                refresh_token: self.refresh_token.clone(),
                // A configured access token's age is unknown: it is refreshed at the first chance.
                expires_at: now,
                refreshing_until: None,
                updated_at: now,
            };
            outbox::seed_token(conn, &row).map_err(db)?;
        }
        let current = outbox::token(conn, "zalo").map_err(db)?.ok_or(Outcome::Temporary("no Zalo token".into()))?;
        let fresh = current.expires_at - chrono::Duration::seconds(ZALO_REFRESH_MARGIN_SECS) > now;
        if fresh && !current.access_token.is_empty() {
            return Ok(current.access_token);
        }
        let until = now + chrono::Duration::seconds(timeout.as_secs() as i64 * 2 + 5);
        if !outbox::claim_refresh(conn, "zalo", now, until).map_err(db)? {
            return if current.expires_at > now && !current.access_token.is_empty() {
                Ok(current.access_token)
            } else {
                Err(Outcome::Temporary("the Zalo token is being refreshed".into()))
            };
        }
        let client = client(timeout).map_err(Outcome::Temporary)?;
        let form = [
            ("refresh_token", current.refresh_token.as_str()),
            ("app_id", self.app_id.as_str()),
            ("grant_type", "refresh_token"),
        ];
        let answer = client
            .post(format!("{}/v4/oa/access_token", self.oauth_url))
            .header("secret_key", &self.secret_key)
            .form(&form)
            .send();
        let (_, body) = http_outcome(answer)?;
        let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let (Some(access), Some(refresh)) = (field(&json, "/access_token"), field(&json, "/refresh_token")) else {
            let short: String = body.chars().take(300).collect();
            return Err(Outcome::Temporary(format!("Zalo did not refresh the token: {short}")));
        };
        let seconds = field(&json, "/expires_in").and_then(|s| s.parse::<i64>().ok()).unwrap_or(3600);
        outbox::store_token(conn, "zalo", &access, &refresh, now + chrono::Duration::seconds(seconds), now)
            .map_err(db)?;
        Ok(access)
    }

    pub fn send(&self, conn: &mut DbConn, m: &Outgoing, timeout: Duration, now: NaiveDateTime) -> Outcome {
        let Some(template_id) = self.templates.get(m.purpose) else {
            return Outcome::Permanent(format!("no ZNS template for {}", m.purpose));
        };
        let token = match self.access_token(conn, timeout, now) {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        let client = match client(timeout) {
            Ok(c) => c,
            Err(e) => return Outcome::Temporary(e),
        };
        let phone: String = m.to.chars().filter(char::is_ascii_digit).collect();
        let body = serde_json::json!({
            "phone": phone,
            "template_id": template_id,
            "template_data": m.params,
            "tracking_id": m.id,
        });
        let answer = client
            .post(format!("{}/message/template", self.api_url))
            .header("access_token", token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send();
        let text = match http_outcome(answer) {
            Ok((_, text)) => text,
            Err(outcome) => return outcome,
        };
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let error = json.get("error").and_then(Value::as_i64);
        let message = field(&json, "/message").unwrap_or_default();
        match error {
            Some(0) => Outcome::Delivered { provider_id: field(&json, "/data/msg_id") },
            // The access token was refused: it is refreshed before the next try.
            Some(-124 | -216) => {
                let _ = outbox::store_token_expired(conn, "zalo", now);
                Outcome::Temporary(format!("Zalo {}: {message}", error.unwrap_or_default()))
            }
            Some(code) => Outcome::Permanent(format!("Zalo {code}: {message}")),
            None => Outcome::Temporary(format!(
                "Zalo answered without an error code: {}",
                text.chars().take(200).collect::<String>()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_escape_for_where_they_stand() {
        let values: BTreeMap<&str, String> = [("text", "Mã \"OTP\" & 1".to_string()), ("key", "k".to_string())].into();
        assert_eq!(render("{\"c\":\"{text}\"}", &values, Escape::Json), "{\"c\":\"Mã \\\"OTP\\\" & 1\"}");
        assert_eq!(render("c={text}", &values, Escape::Form), "c=M%C3%A3+%22OTP%22+%26+1");
        assert_eq!(render("Basic {base64:{key}:x}", &values, Escape::Raw), "Basic azp4");
        assert_eq!(render("{unknown}", &values, Escape::Raw), "{unknown}");
    }
}
