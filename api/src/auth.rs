//! Signed access tokens and the extractors that enforce who may call an endpoint.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use dvc_domain::auth::{AccountType, Assurance, Role};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Msg};
use crate::state::AppState;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub account_type: AccountType,
    pub assurance: Assurance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
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

    /// Signs an access token for a principal.
    pub fn issue(
        &self,
        sub: &str,
        role: Role,
        account_type: AccountType,
        assurance: Assurance,
        agency_id: Option<String>,
    ) -> Result<String, ApiError> {
        self.issue_for(sub, role, account_type, assurance, agency_id, self.ttl_secs)
    }

    /// Signs an access token that lives `ttl_secs`.
    pub fn issue_for(
        &self,
        sub: &str,
        role: Role,
        account_type: AccountType,
        assurance: Assurance,
        agency_id: Option<String>,
        ttl_secs: i64,
    ) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_string(),
            role,
            account_type,
            assurance,
            agency_id,
            iat: now,
            exp: now + ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current_kid.clone());
        encode(&header, &claims, &self.encoding).map_err(|e| {
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

/// Any signed-in principal.
#[derive(Debug, Clone)]
pub struct Principal(pub Claims);

impl Principal {
    pub fn id(&self) -> &str {
        &self.0.sub
    }

    pub fn role(&self) -> Role {
        self.0.role
    }
}

fn principal_of(req: &HttpRequest) -> Result<Principal, ApiError> {
    let missing = || {
        ApiError::unauthorized(Msg::new(
            "Cần đăng nhập (Authorization: Bearer <token>)",
            "Sign-in required (Authorization: Bearer <token>)",
        ))
    };
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)?;
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(ApiError::internal)?;
    state.keys.verify(token).map(Principal)
}

/// People's routes: an integration client's token is refused with 403 (it acts for agencies
/// through `/integration` only).
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(|p| match p.role() {
            Role::Integration => Err(ApiError::forbidden()),
            _ => Ok(p),
        }))
    }
}

/// The token of an integration client (`/integration` routes); people's tokens get 403.
#[derive(Debug, Clone)]
pub struct IntegrationToken(pub Principal);

impl FromRequest for IntegrationToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(|p| match p.role() {
            Role::Integration => Ok(IntegrationToken(p)),
            _ => Err(ApiError::forbidden()),
        }))
    }
}

/// A signed-in administrator; other principals get 403.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(|p| {
            if p.role() == Role::Admin {
                Ok(Admin(p))
            } else {
                Err(ApiError::forbidden())
            }
        }))
    }
}

/// A signed-in officer or administrator.
#[derive(Debug, Clone)]
pub struct Staff(pub Principal);

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(
            |p| {
                if p.role().is_staff() {
                    Ok(Staff(p))
                } else {
                    Err(ApiError::forbidden())
                }
            },
        ))
    }
}
