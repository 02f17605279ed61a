//! Which providers people may sign in with, and how each speaks: read from the environment.

use openidconnect::IssuerUrl;

use super::vneid;

/// Where in the provider's claims dvc finds who signed in.
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub id_number: String,
    pub tax_code: String,
    pub full_name: String,
    /// The assurance level: `acr` (the standard claim) or a claim of the provider's own.
    pub level: String,
}

/// One provider, as configured.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    pub claims: ClaimNames,
    pub kind: ProviderKind,
}

/// How a provider speaks.
#[derive(Debug, Clone)]
pub enum ProviderKind {
    /// OpenID Connect: discovery from the issuer, an ID token checked by the provider's keys.
    Oidc,
    /// VNeID's format (see [`vneid`]).
    Vneid(vneid::VneidConfig),
}

/// The providers and where people may be sent back to.
#[derive(Debug, Clone, Default)]
pub struct OidcConfig {
    pub providers: Vec<ProviderConfig>,
    /// `redirect_uri`s a sign-in may name (each also registered at the providers).
    pub redirect_uris: Vec<String>,
}

impl OidcConfig {
    /// `DVC_OIDC_PROVIDERS=name,...`, then for each NAME (upper case) `DVC_OIDC_<NAME>_ISSUER`,
    /// `_CLIENT_ID`, `_CLIENT_SECRET`, `_SCOPES` (`openid profile`), `_KIND` (`oidc`),
    /// `_DISPLAY_NAME`, and the claims `_CLAIM_ID_NUMBER` (`id_number`), `_CLAIM_TAX_CODE`
    /// (`tax_code`), `_CLAIM_NAME` (`name`), `_CLAIM_LEVEL` (`acr`); `DVC_OIDC_REDIRECT_URIS`.
    /// `_KIND=vneid` takes `_AUTHORIZE_URL`, `_TOKEN_URL`, `_USERINFO_URL`, the relying party's
    /// RSA key `_PRIVATE_KEY_FILE` (or the PEM in `_PRIVATE_KEY`) and `_CIPHER` (`aes-ecb` or
    /// `aes-cbc`) instead of an issuer; its claims default to `citizenPid`, `taxCode`,
    /// `fullName` and `accountLevel`.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let list = |v: String| -> Vec<String> {
            v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
        };
        let mut c = OidcConfig {
            redirect_uris: get("DVC_OIDC_REDIRECT_URIS").map(list).unwrap_or_default(),
            ..Default::default()
        };
        for name in get("DVC_OIDC_PROVIDERS").map(list).unwrap_or_default() {
            if !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') || name.len() > 32 {
                return Err(format!("DVC_OIDC_PROVIDERS: {name:?} is not a name of letters, digits and _"));
            }
            let key = |suffix: &str| format!("DVC_OIDC_{}_{suffix}", name.to_ascii_uppercase());
            let required = |suffix: &str| get(&key(suffix)).ok_or_else(|| format!("{} is required", key(suffix)));
            let claim = |suffix: &str, default: &str| get(&key(suffix)).unwrap_or_else(|| default.to_string());
            let (kind, issuer, defaults) = match get(&key("KIND")).as_deref().map(str::trim) {
                None | Some("oidc") => {
                    let issuer = required("ISSUER")?;
                    IssuerUrl::new(issuer.clone()).map_err(|e| format!("{}: {e}", key("ISSUER")))?;
                    (ProviderKind::Oidc, issuer, ["id_number", "tax_code", "name", "acr"])
                }
                Some("vneid") => {
                    let url = |suffix: &str| -> Result<String, String> {
                        let v = required(suffix)?;
                        url::Url::parse(&v).map_err(|e| format!("{}: {e}", key(suffix)))?;
                        Ok(v)
                    };
                    let pem = match (get(&key("PRIVATE_KEY")), get(&key("PRIVATE_KEY_FILE"))) {
                        (Some(pem), _) => pem,
                        (None, Some(path)) => std::fs::read_to_string(&path)
                            .map_err(|e| format!("{}: {path}: {e}", key("PRIVATE_KEY_FILE")))?,
                        (None, None) => {
                            return Err(format!("{} or {} is required", key("PRIVATE_KEY_FILE"), key("PRIVATE_KEY")))
                        }
                    };
                    let mode = match get(&key("CIPHER")) {
                        None => vneid::AesMode::Ecb,
                        Some(v) => vneid::AesMode::parse(&v)
                            .ok_or_else(|| format!("{}: {v:?} is not aes-ecb or aes-cbc", key("CIPHER")))?,
                    };
                    let authorize_url = url("AUTHORIZE_URL")?;
                    let issuer = get(&key("ISSUER")).unwrap_or_else(|| authorize_url.clone());
                    let config = vneid::VneidConfig {
                        token_url: url("TOKEN_URL")?,
                        userinfo_url: url("USERINFO_URL")?,
                        authorize_url,
                        key: vneid::RpKey::from_pem(&pem).map_err(|e| format!("{}: {e}", key("PRIVATE_KEY")))?,
                        mode,
                    };
                    (ProviderKind::Vneid(config), issuer, ["citizenPid", "taxCode", "fullName", "accountLevel"])
                }
                Some(other) => return Err(format!("{}: unknown kind {other:?} (oidc or vneid)", key("KIND"))),
            };
            c.providers.push(ProviderConfig {
                display_name: get(&key("DISPLAY_NAME")).unwrap_or_else(|| name.clone()),
                issuer,
                client_id: required("CLIENT_ID")?,
                client_secret: get(&key("CLIENT_SECRET")),
                scopes: get(&key("SCOPES")).map(list).unwrap_or_else(|| match kind {
                    ProviderKind::Oidc => vec!["openid".into(), "profile".into()],
                    ProviderKind::Vneid(_) => vec!["openid".into()],
                }),
                claims: ClaimNames {
                    id_number: claim("CLAIM_ID_NUMBER", defaults[0]),
                    tax_code: claim("CLAIM_TAX_CODE", defaults[1]),
                    full_name: claim("CLAIM_NAME", defaults[2]),
                    level: claim("CLAIM_LEVEL", defaults[3]),
                },
                kind,
                name,
            });
        }
        if !c.providers.is_empty() && c.redirect_uris.is_empty() {
            return Err("DVC_OIDC_REDIRECT_URIS is required when DVC_OIDC_PROVIDERS names providers".into());
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn vneid_providers_are_configured_by_their_addresses_and_key() {
        let key_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/oidc/rp-key.pem");
        let env = |extra: &[(&str, &str)]| {
            let mut vars: HashMap<String, String> = [
                ("DVC_OIDC_PROVIDERS", "vneid"),
                ("DVC_OIDC_REDIRECT_URIS", "https://app.example/cb"),
                ("DVC_OIDC_VNEID_KIND", "vneid"),
                ("DVC_OIDC_VNEID_CLIENT_ID", "dvc"),
                ("DVC_OIDC_VNEID_AUTHORIZE_URL", "https://vneid.example/authorize"),
                ("DVC_OIDC_VNEID_TOKEN_URL", "https://vneid.example/token"),
                ("DVC_OIDC_VNEID_USERINFO_URL", "https://vneid.example/userinfo"),
                ("DVC_OIDC_VNEID_PRIVATE_KEY_FILE", key_file),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            for (k, v) in extra {
                if v.is_empty() {
                    vars.remove(*k);
                } else {
                    vars.insert(k.to_string(), v.to_string());
                }
            }
            OidcConfig::from_env(&|k| vars.get(k).cloned())
        };
        let c = env(&[]).expect("configured");
        let p = &c.providers[0];
        assert_eq!((p.claims.id_number.as_str(), p.claims.level.as_str()), ("citizenPid", "accountLevel"));
        assert!(matches!(&p.kind, ProviderKind::Vneid(v) if v.mode == vneid::AesMode::Ecb));
        let cbc = env(&[("DVC_OIDC_VNEID_CIPHER", "aes-cbc")]).expect("configured");
        assert!(matches!(&cbc.providers[0].kind, ProviderKind::Vneid(v) if v.mode == vneid::AesMode::Cbc));
        for (what, extra) in [
            ("no key", ("DVC_OIDC_VNEID_PRIVATE_KEY_FILE", "")),
            ("not a key", ("DVC_OIDC_VNEID_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----")),
            ("an unknown cipher", ("DVC_OIDC_VNEID_CIPHER", "des")),
            ("no token address", ("DVC_OIDC_VNEID_TOKEN_URL", "")),
            ("an address that is none", ("DVC_OIDC_VNEID_USERINFO_URL", "vneid userinfo")),
        ] {
            assert!(env(&[extra]).is_err(), "{what}");
        }
    }
}
