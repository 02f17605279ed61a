//! Sign-in through OpenID Connect providers (the national portal's SSO, a ministry's or a
//! province's identity provider): dvc is the relying party. Discovery and the provider's keys
//! come from its issuer; each sign-in uses the authorization code flow with PKCE (S256), a state
//! and a nonce; the ID token is checked (signature by the provider's keys, issuer, audience,
//! expiry, nonce) by the `openidconnect` crate, and the person's claims are read from the ID token
//! and the provider's userinfo endpoint. VNeID's own format (no discovery, no ID token,
//! encrypted answers) is read by [`vneid`] behind the same interface.

mod config;
pub mod vneid;

pub use config::{ClaimNames, OidcConfig, ProviderConfig, ProviderKind};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::str::FromStr;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Msg};

/// A provider's client after discovery.
type Rp = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// How long a provider's discovery document and keys are used before they are read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);

/// Claims beyond the standard ones, as the provider names them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    all: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

/// A sign-in on its way to the provider: where to send the person, and what to keep for the way back.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    pub full_name: Option<String>,
    /// 1 or 2 (VNeID's levels; `acr` values ending in a digit are read the same way).
    pub level: u8,
    pub birth_date: Option<chrono::NaiveDate>,
}

/// The configured providers, each discovered on first use.
pub struct Federation {
    config: OidcConfig,
    http: openidconnect::reqwest::Client,
    discovered: Mutex<HashMap<String, (Instant, Arc<Rp>)>>,
}

/// The provider did not confirm the sign-in (it refused, or its answer did not verify).
pub(crate) fn failed() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNAUTHORIZED,
        "federation_failed",
        Msg::new("Chưa xác thực", "Unauthorized"),
        Msg::new(
            "Nhà cung cấp định danh không xác nhận lần đăng nhập này",
            "The identity provider did not confirm the sign-in",
        ),
    )
}

/// The provider confirmed a sign-in but not who signed in.
pub(crate) fn no_identity() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNAUTHORIZED,
        "identity_missing",
        Msg::new("Chưa xác thực", "Unauthorized"),
        Msg::new(
            "Nhà cung cấp định danh không cho biết số định danh cá nhân hoặc mã số thuế",
            "The identity provider gave no personal ID number or tax code",
        ),
    )
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "identity provider unreachable");
    ApiError::later(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "provider_unavailable",
        Msg::new("Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
        Msg::new("Nhà cung cấp định danh tạm thời không phản hồi", "The identity provider is not answering"),
        5,
    )
}

impl Federation {
    pub fn new(config: OidcConfig) -> Result<Self, String> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // The provider's answers are read, never followed elsewhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Federation { config, http, discovered: Mutex::new(HashMap::new()) })
    }

    pub fn providers(&self) -> &[ProviderConfig] {
        &self.config.providers
    }

    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.config.providers.iter().find(|p| p.name == name)
    }

    /// Whether a sign-in may send people back to `uri`: exactly one of the configured ones.
    pub fn redirect_allowed(&self, uri: &str) -> bool {
        self.config.redirect_uris.iter().any(|allowed| allowed == uri)
    }

    async fn client(&self, p: &ProviderConfig) -> Result<Arc<Rp>, ApiError> {
        if let Ok(cache) = self.discovered.lock() {
            if let Some((at, rp)) = cache.get(&p.name) {
                if at.elapsed() < DISCOVERY_TTL {
                    return Ok(rp.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(unavailable)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(unavailable)?;
        let rp = Arc::new(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client_id.clone()),
            p.client_secret.clone().map(ClientSecret::new),
        ));
        if let Ok(mut cache) = self.discovered.lock() {
            cache.insert(p.name.clone(), (Instant::now(), rp.clone()));
        }
        Ok(rp)
    }

    /// The provider's authorization address for a new sign-in that comes back to `redirect_uri`.
    pub async fn start(&self, p: &ProviderConfig, redirect_uri: &str) -> Result<Started, ApiError> {
        let rp = match &p.kind {
            ProviderKind::Oidc => self.client(p).await?,
            ProviderKind::Vneid(v) => return vneid::start(p, v, redirect_uri),
        };
        let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|_| ApiError::internal())?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = rp
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .set_pkce_challenge(challenge);
        for scope in p.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            code_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code for the provider's tokens, checks the ID token (and its nonce, when the
    /// sign-in had one), and reads who signed in.
    pub async fn finish(
        &self,
        p: &ProviderConfig,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
        nonce: Option<&str>,
    ) -> Result<Identity, ApiError> {
        let rp = match &p.kind {
            ProviderKind::Oidc => self.client(p).await?,
            ProviderKind::Vneid(v) => return vneid::finish(&self.http, p, v, code, code_verifier, redirect_uri).await,
        };
        let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|_| failed())?;
        let token = rp
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::info!(provider = %p.name, error = %e, "code exchange refused");
                failed()
            })?;
        let id_token = token.id_token().ok_or_else(failed)?;
        let claims = checked(&rp, p, id_token, nonce)?;
        let subject = claims.subject().clone();
        let mut found: HashMap<String, serde_json::Value> = HashMap::new();
        if let Some(acr) = claims.auth_context_ref() {
            found.insert("acr".into(), serde_json::Value::String(acr.to_string()));
        }
        if let Some(name) = claims.name().and_then(|n| n.get(None)) {
            found.insert("name".into(), serde_json::Value::String(name.to_string()));
        }
        if let Ok(request) = rp.user_info(token.access_token().clone(), Some(subject.clone())) {
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> =
                request.request_async(&self.http).await.map_err(|e| {
                    tracing::info!(provider = %p.name, error = %e, "userinfo refused");
                    failed()
                })?;
            if let Some(name) = info.name().and_then(|n| n.get(None)) {
                found.insert("name".into(), serde_json::Value::String(name.to_string()));
            }
            found.extend(info.additional_claims().all.clone());
        }
        Ok(identity(&p.claims, subject.as_str(), &found))
    }
}

/// An ID token's claims once its signature (by the provider's keys), issuer, audience, expiry and
/// nonce (when the sign-in had one) are checked.
fn checked<'a>(
    rp: &Rp,
    p: &ProviderConfig,
    id_token: &'a CoreIdToken,
    nonce: Option<&str>,
) -> Result<&'a CoreIdTokenClaims, ApiError> {
    let verifier = rp.id_token_verifier();
    match nonce {
        Some(n) => id_token.claims(&verifier, &Nonce::new(n.to_string())),
        None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(|e| {
        tracing::info!(provider = %p.name, error = %e, "ID token refused");
        failed()
    })
}

impl Federation {
    /// Checks an ID token of the provider as a sign-in does; its subject when it passes.
    pub async fn verify_id_token(
        &self,
        p: &ProviderConfig,
        raw: &str,
        nonce: Option<&str>,
    ) -> Result<String, ApiError> {
        if let ProviderKind::Vneid(_) = p.kind {
            return Err(failed()); // VNeID issues no ID tokens
        }
        let rp = self.client(p).await?;
        let token = CoreIdToken::from_str(raw).map_err(|_| failed())?;
        Ok(checked(&rp, p, &token, nonce)?.subject().to_string())
    }
}

/// The text of a claim, whether the provider sent it as a string or a number.
fn text(claims: &HashMap<String, serde_json::Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        serde_json::Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Level 2 when the provider's level ends in 2 or more (`2`, `level2`, `loa-3`); level 1 otherwise.
pub fn level_of(value: Option<&str>) -> u8 {
    match value.and_then(|v| v.trim().chars().last()).and_then(|c| c.to_digit(10)) {
        Some(d) if d >= 2 => 2,
        _ => 1,
    }
}

/// Who signed in, from the claims the provider gave, named as configured.
pub fn identity(names: &ClaimNames, subject: &str, claims: &HashMap<String, serde_json::Value>) -> Identity {
    let id_number = text(claims, &names.id_number).filter(|v| v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()));
    let id_number = id_number.filter(|v| dvc_domain::identity::CitizenId::parse(&names.id_number, v, None).is_ok());
    let tax_code =
        text(claims, &names.tax_code).filter(|v| dvc_domain::identity::TaxCode::parse(&names.tax_code, v).is_ok());
    Identity {
        subject: subject.to_string(),
        id_number,
        tax_code,
        full_name: text(claims, &names.full_name),
        level: level_of(text(claims, &names.level).as_deref()),
        birth_date: text(claims, "birthdate").or_else(|| text(claims, "birthDate")).and_then(|b| vneid::birth_date(&b)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(super) fn names() -> ClaimNames {
        ClaimNames {
            id_number: "id_number".into(),
            tax_code: "tax_code".into(),
            full_name: "name".into(),
            level: "level".into(),
        }
    }

    #[test]
    fn levels_read_the_last_digit() {
        assert_eq!(level_of(Some("2")), 2);
        assert_eq!(level_of(Some("level2")), 2);
        assert_eq!(level_of(Some("urn:loa-3")), 2);
        assert_eq!(level_of(Some("1")), 1);
        assert_eq!(level_of(Some("bronze")), 1);
        assert_eq!(level_of(None), 1);
    }

    #[test]
    fn identities_take_only_well_formed_numbers() {
        let claims: HashMap<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
            "id_number": "001099012345", "name": " Nguyễn Văn An ", "level": 2, "tax_code": "12"
        }))
        .expect("claims");
        let who = identity(&names(), "s1", &claims);
        assert_eq!(who.id_number.as_deref(), Some("001099012345"));
        assert_eq!(who.tax_code, None, "not a tax code");
        assert_eq!(who.full_name.as_deref(), Some("Nguyễn Văn An"));
        assert_eq!(who.level, 2);
        let claims: HashMap<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({"id_number": "0010990123"})).expect("claims");
        assert_eq!(identity(&names(), "s2", &claims).id_number, None, "ten digits are no personal ID number");
    }
}
