//! Signed access tokens, password hashes, and the caller that services are given.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use dvc_domain::auth::{AccountType, Assurance, Role};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Msg};

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub account_type: AccountType,
    pub assurance: Assurance,
    /// 2 when the identity was proved at VNeID's level 2 (or dvc's high assurance), else 1; what
    /// procedures that require level 2 check.
    #[serde(default = "level_one")]
    pub assurance_level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// An integration client's token: the version of the secret it was obtained with (when the
    /// secret was last rotated, in milliseconds; 0 if never), so that a rotation stops it at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sv: Option<i64>,
    /// A person's token: the session it belongs to (its refresh tokens' family). Signing out
    /// closes the session, and its access tokens stop at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

fn level_one() -> u8 {
    1
}

/// The assurance level of an assurance: high is level 2.
pub fn assurance_level(assurance: Assurance) -> u8 {
    if assurance == Assurance::High {
        2
    } else {
        1
    }
}

/// HMAC keys by key id: the current one signs, older ones still verify during a rotation.
pub struct TokenKeys {
    current_kid: String,
    encoding: EncodingKey,
    decoding: Vec<(String, DecodingKey)>,
    pub ttl_secs: i64,
}

fn key_id(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    format!("hs-{}", &hex::encode(digest)[..12])
}

impl TokenKeys {
    pub fn new(current: &str, previous: &[String], ttl_secs: i64) -> Self {
        let mut decoding = vec![(key_id(current), DecodingKey::from_secret(current.as_bytes()))];
        for old in previous {
            decoding.push((key_id(old), DecodingKey::from_secret(old.as_bytes())));
        }
        Self {
            current_kid: key_id(current),
            encoding: EncodingKey::from_secret(current.as_bytes()),
            decoding,
            ttl_secs,
        }
    }

    /// Signs an access token for a person, in a session (its refresh tokens' family).
    pub fn issue(
        &self,
        sub: &str,
        role: Role,
        account_type: AccountType,
        assurance: Assurance,
        agency_id: Option<String>,
        session: Option<&str>,
    ) -> Result<String, ApiError> {
        let ttl_secs = self.ttl_secs;
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_string(),
            role,
            account_type,
            assurance,
            assurance_level: assurance_level(assurance),
            agency_id,
            iat: now,
            exp: now + ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            sv: None,
            sid: session.map(str::to_string),
        };
        self.sign(&claims)
    }

    /// Signs an integration client's token, bound to the version of its secret.
    pub fn issue_client(&self, client_id: &str, secret_version: i64, ttl_secs: i64) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: client_id.to_string(),
            role: Role::Integration,
            account_type: AccountType::Organization,
            assurance: Assurance::High,
            assurance_level: 2,
            agency_id: None,
            iat: now,
            exp: now + ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            sv: Some(secret_version),
            sid: None,
        };
        self.sign(&claims)
    }

    fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current_kid.clone());
        encode(&header, claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a token");
            ApiError::internal()
        })
    }

    /// Verifies a token: known key id, HS256 only, signature, expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let bad = || {
            ApiError::unauthorized(Msg::new(
                "Mã truy cập không hợp lệ hoặc đã hết hạn",
                "Invalid or expired access token",
            ))
        };
        let header = decode_header(token).map_err(|_| bad())?;
        if header.alg != Algorithm::HS256 {
            return Err(bad());
        }
        let kid = header.kid.ok_or_else(bad)?;
        let key = self.decoding.iter().find(|(k, _)| *k == kid).map(|(_, key)| key).ok_or_else(bad)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        decode::<Claims>(token, key, &validation).map(|d| d.claims).map_err(|_| bad())
    }
}

/// A random URL-safe token of `bytes` random bytes, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| {
        tracing::error!(error = %e, "cannot hash a password");
        ApiError::internal()
    })
}

/// Checks a password against a stored argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the username is unknown, so that both cases take as long.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("dvc-timing-equaliser-Aa1!").unwrap_or_default())
}

/// Who calls a service: a plain value taken from a verified token, so that services need no HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    pub role: Role,
    pub account_type: AccountType,
    pub assurance: Assurance,
    /// The agency of an officer.
    pub agency_id: Option<String>,
}

impl From<&Claims> for Caller {
    fn from(c: &Claims) -> Self {
        Caller {
            id: c.sub.clone(),
            role: c.role,
            account_type: c.account_type,
            assurance: c.assurance,
            agency_id: c.agency_id.clone(),
        }
    }
}
