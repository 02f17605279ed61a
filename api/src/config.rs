//! Configuration from `DVC_*` environment variables, with an optional `KEY=VALUE` file.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server and the command line need to know about their environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: String,
    pub sandbox: bool,
    pub jwt_secret: String,
    pub jwt_previous_secrets: Vec<String>,
    pub access_token_ttl: Duration,
    pub data_dir: PathBuf,
    /// Uploaded files in S3-compatible object storage instead of `data_dir` (`DVC_STORAGE_URL=s3://bucket`).
    pub s3: Option<crate::storage::S3Settings>,
    pub auth_rate_per_minute: u32,
    /// Public lookups by code per minute per client address, per instance (0: no limit).
    pub lookup_rate_per_minute: u32,
    /// Payment notifications per minute per client address, per instance (0: no limit).
    pub callback_rate_per_minute: u32,
    /// How many trusted proxies stand in front when `trust_forwarded` is on: the client address
    /// is the one that many entries from the right of `X-Forwarded-For`.
    pub trusted_proxy_hops: usize,
    pub pool_size: u32,
    pub db_timeout: Duration,
    pub cors_origins: Vec<String>,
    pub workers: Option<usize>,
    pub max_json_bytes: usize,
    pub log_json: bool,
    /// PEM bundle of CA certificates trusted for signed registration challenges.
    pub trust_anchors: Option<PathBuf>,
    /// Take the client address from `Forwarded`/`X-Forwarded-For` (behind a trusted proxy only).
    pub trust_forwarded: bool,
    /// Largest uploaded file.
    pub max_file_bytes: usize,
    /// Largest total of a dossier's attachments.
    pub max_dossier_bytes: i64,
    /// The address clients reach this server at (for gateway return URLs).
    pub public_url: String,
    /// VNPay merchant code and secret; the provider is off without them.
    pub vnpay: Option<VnpayConfig>,
    /// Bank BIN and account that VietQR transfers go to.
    pub vietqr_bin: String,
    pub vietqr_account: String,
    /// Refuse webhook targets in private, loopback and link-local ranges (on by default).
    pub webhook_deny_private: bool,
    /// First retry delay of a failed webhook delivery; doubles each time, up to an hour.
    pub webhook_retry_base: Duration,
    /// How often the delivery worker looks for due deliveries.
    pub webhook_poll: Duration,
    /// Time allowed for a receiver to answer.
    pub webhook_timeout: Duration,
    /// Lifetime of an integration client's access token.
    pub integration_token_ttl: Duration,
    /// Memory for cached catalogue answers (0 turns the cache off).
    pub catalogue_cache_bytes: u64,
    /// How often each server checks whether the catalogue changed.
    pub cache_poll: Duration,
    /// PostgreSQL streaming replicas for read-only paths that tolerate lag.
    pub replica_urls: Vec<String>,
    /// How far behind the primary a replica may be and still serve reads.
    pub replica_max_lag: Duration,
    /// Time a client has to send a request's line and headers.
    pub header_timeout: Duration,
    /// Heavy work (statistics, their exports and charts): how many run at once (0 switches them
    /// off), how many more may wait, and how long a statement of it may take on PostgreSQL.
    pub heavy_running: usize,
    pub heavy_queue: usize,
    pub heavy_statement_timeout: Duration,
    /// The share of time (percent) each place of heavy work may work while other requests are
    /// served: after a report, its place rests so that the share holds.
    pub heavy_duty_percent: u8,
    /// Password hashes computed at once (each takes 19 MiB), and how many may wait.
    pub hashing_running: usize,
    pub hashing_queue: usize,
    /// Longest silence allowed while a request body arrives.
    pub body_idle_timeout: Duration,
    /// The slowest average a request body may arrive at, in bytes per second, after
    /// `body_rate_grace` (0: no such limit): each byte received buys `1 / body_min_rate` seconds.
    pub body_min_rate: u64,
    pub body_rate_grace: Duration,
    /// How many batches of one kind of request (lookups, list pages) run at once, each on a
    /// connection of its own (see `batch.rs`).
    pub batch_lanes: usize,
    /// Memory for rendered pages of applicants' lists and inboxes (0 turns the cache off).
    pub list_cache_bytes: u64,
    /// Channels that carry OTPs and notices (SMS, Zalo, e-mail).
    pub notify: crate::notify::NotifyConfig,
    /// Agencies' certificates and keys that sign the results they issue (`DVC_SIGNING_KEYS`).
    pub signing_keys: Vec<crate::signing::KeyFiles>,
    /// OpenID Connect providers to sign in with (`DVC_OIDC_*`).
    pub oidc: crate::oidc::OidcConfig,
    /// Registration, OTP resend and password reset need a solved proof-of-work challenge
    /// (`DVC_CHALLENGE`, on outside sandbox mode), of this difficulty.
    pub challenge: bool,
    pub challenge_max_number: u64,
}

/// The JWT secret used in sandbox mode when none is configured; refused outside sandbox mode.
pub const SANDBOX_JWT_SECRET: &str = "dvc-sandbox-secret-not-for-production-use-000000";

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/dvc.sqlite3".into(),
            listen: "127.0.0.1:8080".into(),
            sandbox: false,
            jwt_secret: String::new(),
            jwt_previous_secrets: Vec::new(),
            access_token_ttl: Duration::from_secs(15 * 60),
            data_dir: PathBuf::from("data/files"),
            s3: None,
            auth_rate_per_minute: 60,
            lookup_rate_per_minute: 300,
            callback_rate_per_minute: 120,
            trusted_proxy_hops: 1,
            pool_size: 16,
            db_timeout: Duration::from_secs(5),
            cors_origins: Vec::new(),
            workers: None,
            max_json_bytes: 1024 * 1024,
            log_json: false,
            trust_anchors: None,
            trust_forwarded: false,
            max_file_bytes: 10 * 1024 * 1024,
            max_dossier_bytes: 50 * 1024 * 1024,
            public_url: "http://127.0.0.1:8080".into(),
            vnpay: None,
            vietqr_bin: "970415".into(),
            vietqr_account: "0000000000".into(),
            webhook_deny_private: true,
            webhook_retry_base: Duration::from_secs(10),
            webhook_poll: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            integration_token_ttl: Duration::from_secs(10 * 60),
            catalogue_cache_bytes: 32 * 1024 * 1024,
            cache_poll: Duration::from_millis(500),
            replica_urls: Vec::new(),
            replica_max_lag: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            body_idle_timeout: Duration::from_secs(15),
            heavy_running: 4,
            heavy_queue: 16,
            heavy_statement_timeout: Duration::from_secs(10),
            heavy_duty_percent: 50,
            hashing_running: std::thread::available_parallelism().map_or(2, |n| n.get()),
            hashing_queue: 32,
            body_min_rate: 1024,
            body_rate_grace: Duration::from_secs(10),
            batch_lanes: std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8),
            list_cache_bytes: 16 * 1024 * 1024,
            notify: crate::notify::NotifyConfig::default(),
            signing_keys: Vec::new(),
            oidc: crate::oidc::OidcConfig::default(),
            challenge: false,
            challenge_max_number: 100_000,
        }
    }
}

impl Config {
    /// Reads the environment (and the file named by `DVC_CONFIG`, whose values the environment
    /// overrides). Fails on malformed values and, outside sandbox mode, on a missing secret.
    pub fn from_env() -> Result<Self, String> {
        let file = match std::env::var("DVC_CONFIG") {
            Ok(path) => read_config_file(&path)?,
            Err(_) => Vec::new(),
        };
        let get = |key: &str| -> Option<String> {
            std::env::var(key)
                .ok()
                .or_else(|| file.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
                .filter(|v| !v.trim().is_empty())
        };
        let mut c = Config::default();
        if let Some(v) = get("DVC_DATABASE_URL") {
            c.database_url = v;
        }
        if let Some(v) = get("DVC_LISTEN") {
            c.listen = v;
        }
        c.sandbox = matches!(get("DVC_SANDBOX").as_deref(), Some("1" | "true" | "yes"));
        if let Some(v) = get("DVC_JWT_SECRET") {
            c.jwt_secret = v;
        }
        if let Some(v) = get("DVC_JWT_PREVIOUS_SECRETS") {
            c.jwt_previous_secrets = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        }
        if let Some(v) = get("DVC_DATA_DIR") {
            c.data_dir = PathBuf::from(v);
        }
        if let Some(url) = get("DVC_STORAGE_URL").filter(|u| !u.trim().is_empty()) {
            let bucket = url
                .trim()
                .strip_prefix("s3://")
                .map(|b| b.trim_end_matches('/'))
                .filter(|b| !b.is_empty() && !b.contains('/'))
                .ok_or_else(|| format!("DVC_STORAGE_URL: expected s3://bucket, got {url}"))?;
            c.s3 = Some(crate::storage::S3Settings {
                bucket: bucket.to_string(),
                endpoint: get("DVC_S3_ENDPOINT"),
                region: get("DVC_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                access_key_id: get("DVC_S3_ACCESS_KEY_ID"),
                secret_access_key: get("DVC_S3_SECRET_ACCESS_KEY"),
            });
        }
        c.auth_rate_per_minute = parse(&get, "DVC_AUTH_RATE_PER_MINUTE", c.auth_rate_per_minute)?;
        c.lookup_rate_per_minute = parse(&get, "DVC_LOOKUP_RATE_PER_MINUTE", c.lookup_rate_per_minute)?;
        c.callback_rate_per_minute = parse(&get, "DVC_CALLBACK_RATE_PER_MINUTE", c.callback_rate_per_minute)?;
        c.trusted_proxy_hops = parse(&get, "DVC_TRUSTED_PROXY_HOPS", c.trusted_proxy_hops)?.max(1);
        c.pool_size = parse(&get, "DVC_DB_POOL_SIZE", c.pool_size)?.max(1);
        c.db_timeout = Duration::from_millis(parse(&get, "DVC_DB_TIMEOUT_MS", 5000u64)?);
        c.max_json_bytes = parse(&get, "DVC_MAX_JSON_BYTES", c.max_json_bytes)?;
        if let Some(v) = get("DVC_WORKERS") {
            c.workers = Some(v.parse().map_err(|_| format!("DVC_WORKERS: not a number: {v}"))?);
        }
        if let Some(v) = get("DVC_CORS_ORIGINS") {
            c.cors_origins = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        }
        c.log_json = matches!(get("DVC_LOG_FORMAT").as_deref(), Some("json"));
        c.trust_anchors = get("DVC_TRUST_ANCHORS").map(PathBuf::from);
        c.max_file_bytes = parse(&get, "DVC_MAX_FILE_BYTES", c.max_file_bytes)?;
        c.max_dossier_bytes = parse(&get, "DVC_MAX_DOSSIER_BYTES", c.max_dossier_bytes)?;
        if let Some(v) = get("DVC_PUBLIC_URL") {
            c.public_url = v.trim_end_matches('/').to_string();
        }
        if let (Some(tmn_code), Some(hash_secret)) = (get("DVC_VNPAY_TMN_CODE"), get("DVC_VNPAY_HASH_SECRET")) {
            c.vnpay = Some(VnpayConfig {
                tmn_code,
                hash_secret,
                pay_url: get("DVC_VNPAY_PAY_URL")
                    .unwrap_or_else(|| "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into()),
                return_url: format!("{}/api/v1/payments/return/vnpay", c.public_url),
            });
        }
        if let Some(v) = get("DVC_VIETQR_BIN") {
            c.vietqr_bin = v;
        }
        if let Some(v) = get("DVC_VIETQR_ACCOUNT") {
            c.vietqr_account = v;
        }
        c.webhook_deny_private = !matches!(get("DVC_WEBHOOK_ALLOW_PRIVATE").as_deref(), Some("1" | "true" | "yes"));
        c.webhook_retry_base = Duration::from_millis(parse(&get, "DVC_WEBHOOK_RETRY_BASE_MS", 10_000u64)?.max(1));
        c.webhook_poll = Duration::from_millis(parse(&get, "DVC_WEBHOOK_POLL_MS", 1_000u64)?.max(10));
        c.webhook_timeout = Duration::from_millis(parse(&get, "DVC_WEBHOOK_TIMEOUT_MS", 10_000u64)?.max(100));
        c.integration_token_ttl = Duration::from_secs(parse(&get, "DVC_INTEGRATION_TOKEN_TTL_SECS", 600u64)?.max(60));
        c.catalogue_cache_bytes = parse(&get, "DVC_CATALOGUE_CACHE_BYTES", c.catalogue_cache_bytes)?;
        c.cache_poll = Duration::from_millis(parse(&get, "DVC_CACHE_POLL_MS", 500u64)?.max(10));
        if let Some(v) = get("DVC_DATABASE_REPLICA_URLS") {
            c.replica_urls = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        }
        c.replica_max_lag = Duration::from_millis(parse(&get, "DVC_REPLICA_MAX_LAG_MS", 5_000u64)?);
        c.header_timeout = Duration::from_millis(parse(&get, "DVC_HEADER_TIMEOUT_MS", 5_000u64)?.max(100));
        c.body_idle_timeout = Duration::from_millis(parse(&get, "DVC_BODY_IDLE_TIMEOUT_MS", 15_000u64)?.max(100));
        c.body_min_rate = parse(&get, "DVC_BODY_MIN_RATE", c.body_min_rate)?;
        // Heavy work takes at most half the cores (and a quarter of the pool), so that the rest of
        // the machine keeps serving lookups, lists and submissions at their pace.
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let heavy_default = (c.pool_size as usize / 4).min(cores / 2).max(1);
        c.heavy_running = parse(&get, "DVC_HEAVY_RUNNING", heavy_default)?;
        c.heavy_queue = parse(&get, "DVC_HEAVY_QUEUE", c.heavy_queue)?;
        c.hashing_running = parse(&get, "DVC_HASHING_RUNNING", c.hashing_running)?;
        c.hashing_queue = parse(&get, "DVC_HASHING_QUEUE", c.hashing_queue)?;
        c.heavy_statement_timeout = Duration::from_millis(parse(&get, "DVC_HEAVY_STATEMENT_TIMEOUT_MS", 10_000u64)?);
        c.heavy_duty_percent = parse(&get, "DVC_HEAVY_DUTY_PERCENT", c.heavy_duty_percent)?;
        if !(1..=100).contains(&c.heavy_duty_percent) {
            return Err(format!("DVC_HEAVY_DUTY_PERCENT: expected 1 to 100, got {}", c.heavy_duty_percent));
        }
        c.body_rate_grace = Duration::from_millis(parse(&get, "DVC_BODY_RATE_GRACE_MS", 10_000u64)?.max(100));
        c.batch_lanes = parse(&get, "DVC_BATCH_LANES", c.batch_lanes)?.max(1);
        c.list_cache_bytes = parse(&get, "DVC_LIST_CACHE_BYTES", c.list_cache_bytes)?;
        c.notify = crate::notify::NotifyConfig::from_env(&get)?;
        c.challenge = match get("DVC_CHALLENGE").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("off" | "0" | "false" | "no") => false,
            Some("on" | "1" | "true" | "yes") => true,
            Some(other) => return Err(format!("DVC_CHALLENGE: expected on or off, got {other}")),
            None => !c.sandbox,
        };
        c.challenge_max_number = parse(&get, "DVC_CHALLENGE_MAX_NUMBER", c.challenge_max_number)?.max(1);
        c.oidc = crate::oidc::OidcConfig::from_env(&get)?;
        if let Some(v) = get("DVC_SIGNING_KEYS") {
            c.signing_keys = crate::signing::parse_key_files(&v)?;
        }
        c.trust_forwarded = matches!(get("DVC_TRUST_FORWARDED").as_deref(), Some("1" | "true" | "yes"));
        if c.sandbox && c.jwt_secret.is_empty() {
            c.jwt_secret = SANDBOX_JWT_SECRET.to_string();
        }
        Ok(c)
    }

    /// Serving outside sandbox mode needs a real secret; in sandbox mode a fixed one stands in.
    pub fn check_secret(&self) -> Result<(), String> {
        if self.jwt_secret.is_empty() {
            return Err("DVC_JWT_SECRET is required outside sandbox mode (DVC_SANDBOX=1)".into());
        }
        if !self.sandbox && (self.jwt_secret == SANDBOX_JWT_SECRET || self.jwt_secret.len() < 32) {
            return Err("DVC_JWT_SECRET must be at least 32 characters and not the sandbox default".into());
        }
        // An older secret still verifies tokens: it obeys the same rules.
        if !self.sandbox && self.jwt_previous_secrets.iter().any(|s| s == SANDBOX_JWT_SECRET || s.len() < 32) {
            return Err(
                "each of DVC_JWT_PREVIOUS_SECRETS must be at least 32 characters and not the sandbox default".into()
            );
        }
        Ok(())
    }
}

fn parse<T: std::str::FromStr>(get: &dyn Fn(&str) -> Option<String>, key: &str, default: T) -> Result<T, String> {
    match get(key) {
        Some(v) => v.trim().parse().map_err(|_| format!("{key}: not a valid number: {v}")),
        None => Ok(default),
    }
}

/// Reads `KEY=VALUE` lines; `#` starts a comment.
fn read_config_file(path: &str) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("DVC_CONFIG {path}: {e}"))?;
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| format!("DVC_CONFIG {path}:{}: expected KEY=VALUE", n + 1))?;
        pairs.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
    }
    Ok(pairs)
}

/// VNPay merchant settings.
#[derive(Debug, Clone)]
pub struct VnpayConfig {
    pub tmn_code: String,
    pub hash_secret: String,
    pub pay_url: String,
    pub return_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production(secret: &str, previous: &[&str]) -> Config {
        Config {
            sandbox: false,
            jwt_secret: secret.into(),
            jwt_previous_secrets: previous.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn previous_secrets_obey_the_rules_of_the_current_one() {
        let good = "a-production-secret-of-forty-characters-00";
        let older = "an-older-production-secret-of-enough-length";
        assert!(production(good, &[older]).check_secret().is_ok());
        assert!(production(good, &["short"]).check_secret().is_err(), "a short previous secret");
        assert!(production(good, &[older, SANDBOX_JWT_SECRET]).check_secret().is_err(), "the sandbox's");
        assert!(production("short", &[]).check_secret().is_err());
    }
}
