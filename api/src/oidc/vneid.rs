//! VNeID's sign-in, as integrators of the Ministry of Public Security's electronic-identity
//! service describe its wire format. It is an OAuth 2.0 authorization code flow that differs from
//! OpenID Connect in these ways, and dvc follows those descriptions:
//! - no discovery document: the authorization, token and userinfo addresses are configured;
//! - the token request is form-urlencoded (`grant_type`, `code`, `redirect_uri`, `client_id`,
//!   `client_secret`, and `code_verifier` since dvc always sends a PKCE challenge);
//! - the token and userinfo answers are envelopes `{"data": ..., "key": ...}`: `key` is an AES key
//!   encrypted with the relying party's RSA public key (PKCS#1 v1.5), `data` the JSON answer
//!   encrypted with that AES key (AES-ECB, or AES-CBC with the 16-byte IV in front, PKCS#7 padding),
//!   both in base64;
//! - there is no ID token and no nonce: who signed in comes from the userinfo answer, whose claims
//!   are `citizenPid` (the 12-digit personal ID number), `fullName`, `birthDate`, `accountType`
//!   and `accountLevel` (1 or 2).
//!
//! The envelope's key is decrypted only from answers dvc fetched itself from the configured
//! address, so no one else can send dvc ciphertexts to decrypt.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, KeyInit, KeyIvInit};
use base64::Engine;
use openidconnect::{CsrfToken, PkceCodeChallenge};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use serde::Deserialize;

use super::{failed, identity, no_identity, unavailable, Identity, ProviderConfig, Started};
use crate::error::ApiError;

/// The largest answer read from VNeID.
const MAX_ANSWER: usize = 64 * 1024;

/// How the envelope's `data` is encrypted with its AES key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AesMode {
    /// AES-ECB with PKCS#7 padding (Java's `Cipher.getInstance("AES")`).
    Ecb,
    /// AES-CBC with PKCS#7 padding, the 16-byte IV before the ciphertext.
    Cbc,
}

impl AesMode {
    pub fn parse(value: &str) -> Option<AesMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "aes-ecb" | "ecb" => Some(AesMode::Ecb),
            "aes-cbc" | "cbc" => Some(AesMode::Cbc),
            _ => None,
        }
    }
}

/// The relying party's RSA private key (never printed).
#[derive(Clone)]
pub struct RpKey(Arc<RsaPrivateKey>);

impl fmt::Debug for RpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RpKey(..)")
    }
}

impl RpKey {
    /// A PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<RpKey, String> {
        RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map(|k| RpKey(Arc::new(k)))
            .map_err(|_| "not an RSA private key in PEM (PKCS#8 or PKCS#1)".to_string())
    }
}

/// Where VNeID is and how to read its answers.
#[derive(Debug, Clone)]
pub struct VneidConfig {
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub key: RpKey,
    pub mode: AesMode,
}

/// VNeID's authorization address for a new sign-in: a state and a PKCE S256 challenge, no nonce.
pub fn start(p: &ProviderConfig, v: &VneidConfig, redirect_uri: &str) -> Result<Started, ApiError> {
    let state = CsrfToken::new_random();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut url = url::Url::parse(&v.authorize_url).map_err(|_| ApiError::internal())?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &p.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &p.scopes.join(" "))
        .append_pair("state", state.secret())
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: String::new(),
        code_verifier: verifier.secret().clone(),
    })
}

/// Reads one answer, at most [`MAX_ANSWER`] bytes, and opens its envelope.
async fn answer(
    p: &ProviderConfig,
    v: &VneidConfig,
    what: &str,
    res: openidconnect::reqwest::Response,
) -> Result<serde_json::Value, ApiError> {
    let status = res.status();
    if res.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
        tracing::info!(provider = %p.name, what, "answer too large");
        return Err(failed());
    }
    let body = res.bytes().await.map_err(unavailable)?;
    if !status.is_success() || body.len() > MAX_ANSWER {
        tracing::info!(provider = %p.name, what, %status, "refused");
        return Err(failed());
    }
    open(v, &body).map_err(|e| {
        tracing::info!(provider = %p.name, what, error = ?e, "answer could not be read");
        failed()
    })
}

/// Exchanges the code (form-urlencoded, with the PKCE verifier), reads the access token from the
/// encrypted answer, and who signed in from the encrypted userinfo answer.
pub async fn finish(
    http: &openidconnect::reqwest::Client,
    p: &ProviderConfig,
    v: &VneidConfig,
    code: &str,
    code_verifier: &str,
    redirect_uri: &str,
) -> Result<Identity, ApiError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", p.client_id.as_str()),
        ("code_verifier", code_verifier),
    ];
    if let Some(secret) = &p.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let res = http.post(&v.token_url).form(&form).send().await.map_err(unavailable)?;
    let token = answer(p, v, "token", res).await?;
    let Some(access_token) = token.get("access_token").and_then(|t| t.as_str()) else {
        tracing::info!(provider = %p.name, "token answer without access_token");
        return Err(failed());
    };
    let res = http.get(&v.userinfo_url).bearer_auth(access_token).send().await.map_err(unavailable)?;
    let info = answer(p, v, "userinfo", res).await?;
    let (subject, claims) = claims(info).ok_or_else(no_identity)?;
    Ok(identity(&p.claims, &subject, &claims))
}

/// An encrypted answer.
#[derive(Debug, Deserialize)]
struct Envelope {
    data: String,
    key: String,
}

/// Why an envelope could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Unreadable {
    NotAnEnvelope,
    Base64,
    Key,
    Data,
    NotJson,
}

fn base64_any(text: &str) -> Result<Vec<u8>, Unreadable> {
    let t = text.trim();
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t.trim_end_matches('=')))
        .map_err(|_| Unreadable::Base64)
}

fn aes_decrypt(mode: AesMode, key: &[u8], data: &[u8]) -> Result<Vec<u8>, Unreadable> {
    macro_rules! with_key {
        ($aes:ty) => {
            match mode {
                AesMode::Ecb => ecb::Decryptor::<$aes>::new_from_slice(key)
                    .map_err(|_| Unreadable::Key)?
                    .decrypt_padded_vec_mut::<Pkcs7>(data)
                    .map_err(|_| Unreadable::Data),
                AesMode::Cbc => {
                    if data.len() < 32 {
                        return Err(Unreadable::Data);
                    }
                    let (iv, body) = data.split_at(16);
                    cbc::Decryptor::<$aes>::new_from_slices(key, iv)
                        .map_err(|_| Unreadable::Key)?
                        .decrypt_padded_vec_mut::<Pkcs7>(body)
                        .map_err(|_| Unreadable::Data)
                }
            }
        };
    }
    match key.len() {
        16 => with_key!(aes::Aes128),
        24 => with_key!(aes::Aes192),
        32 => with_key!(aes::Aes256),
        _ => Err(Unreadable::Key),
    }
}

/// The JSON inside one of VNeID's answers.
pub fn open(config: &VneidConfig, body: &[u8]) -> Result<serde_json::Value, Unreadable> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| Unreadable::NotAnEnvelope)?;
    let wrapped = base64_any(&envelope.key)?;
    let aes_key = config.key.0.decrypt(Pkcs1v15Encrypt, &wrapped).map_err(|_| Unreadable::Key)?;
    let data = base64_any(&envelope.data)?;
    let plain = aes_decrypt(config.mode, &aes_key, &data)?;
    serde_json::from_slice(&plain).map_err(|_| Unreadable::NotJson)
}

/// The claims of a userinfo answer, with the subject: the personal ID number, the one identifier
/// VNeID gives.
pub fn claims(value: serde_json::Value) -> Option<(String, HashMap<String, serde_json::Value>)> {
    let serde_json::Value::Object(map) = value else { return None };
    let claims: HashMap<String, serde_json::Value> = map.into_iter().collect();
    let subject = match claims.get("citizenPid")? {
        serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some((subject, claims))
}

/// `dd/mm/yyyy`, `yyyy-mm-dd` or `yyyymmdd`.
pub fn birth_date(text: &str) -> Option<chrono::NaiveDate> {
    let t = text.trim();
    ["%d/%m/%Y", "%Y-%m-%d", "%Y%m%d"].iter().find_map(|f| chrono::NaiveDate::parse_from_str(t, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockEncryptMut;
    use rsa::RsaPublicKey;

    const KEY: &str = include_str!("../../../tests/fixtures/oidc/rp-key.pem");

    fn config(mode: AesMode) -> Option<VneidConfig> {
        Some(VneidConfig {
            authorize_url: String::new(),
            token_url: String::new(),
            userinfo_url: String::new(),
            key: RpKey::from_pem(KEY).ok()?,
            mode,
        })
    }

    fn sealed(c: &VneidConfig, aes_key: &[u8], data: Vec<u8>) -> Option<Vec<u8>> {
        let public = RsaPublicKey::from(c.key.0.as_ref());
        let wrapped = public.encrypt(&mut rand::thread_rng(), Pkcs1v15Encrypt, aes_key).ok()?;
        let b64 = base64::engine::general_purpose::STANDARD;
        serde_json::to_vec(&serde_json::json!({"data": b64.encode(data), "key": b64.encode(wrapped)})).ok()
    }

    #[test]
    fn envelopes_open_in_both_modes_and_refuse_tampering() {
        let plain = br#"{"citizenPid":"001099012345","accountLevel":2}"#;
        let Some(ecb_config) = config(AesMode::Ecb) else { panic!("the fixture key") };
        let Some(cbc_config) = config(AesMode::Cbc) else { panic!("the fixture key") };
        let key = [7u8; 32];
        let ecb_data = ecb::Encryptor::<aes::Aes256>::new_from_slice(&key)
            .map(|e| e.encrypt_padded_vec_mut::<Pkcs7>(plain))
            .unwrap_or_default();
        let body = sealed(&ecb_config, &key, ecb_data.clone()).unwrap_or_default();
        assert_eq!(open(&ecb_config, &body).ok().map(|v| v["accountLevel"].clone()), Some(serde_json::json!(2)));
        assert!(open(&cbc_config, &body).is_err(), "read in the other mode");

        let iv = [3u8; 16];
        let mut cbc_data = iv.to_vec();
        cbc_data.extend(
            cbc::Encryptor::<aes::Aes128>::new_from_slices(&key[..16], &iv)
                .map(|e| e.encrypt_padded_vec_mut::<Pkcs7>(plain))
                .unwrap_or_default(),
        );
        let body = sealed(&cbc_config, &key[..16], cbc_data).unwrap_or_default();
        assert!(open(&cbc_config, &body).is_ok());

        let mut changed = ecb_data;
        changed[0] ^= 1;
        let body = sealed(&ecb_config, &key, changed).unwrap_or_default();
        assert!(open(&ecb_config, &body).is_err(), "a changed ciphertext");
        assert_eq!(open(&ecb_config, b"{\"access_token\":\"x\"}").err(), Some(Unreadable::NotAnEnvelope));
    }

    #[test]
    fn claims_take_the_personal_id_number_as_subject() {
        let value = serde_json::json!({"citizenPid": "001099012345", "fullName": "Nguyễn Văn An",
            "birthDate": "02/09/1990", "accountLevel": "2"});
        let (subject, claims) = claims(value).unwrap_or_default();
        assert_eq!(subject, "001099012345");
        assert_eq!(
            identity(&super::super::tests::names(), &subject, &claims).birth_date,
            chrono::NaiveDate::from_ymd_opt(1990, 9, 2)
        );
        assert!(super::claims(serde_json::json!({"fullName": "x"})).is_none(), "no citizenPid");
        assert_eq!(birth_date("19900902"), chrono::NaiveDate::from_ymd_opt(1990, 9, 2));
    }
}
