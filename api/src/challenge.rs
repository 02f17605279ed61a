//! A proof-of-work challenge before the requests that send codes or create records for anyone
//! who asks (registration, OTP resend, password reset), in the style of ALTCHA: the server picks a
//! secret number up to `maxnumber` and gives `SHA-256(salt + number)`; the client finds the number
//! by trying (a fraction of a second on a phone, a cost per request for a bot) and sends it back
//! with the server's signature. Nothing is kept until a solution is used: then it is recorded
//! until it expires, so that each challenge serves once, on any server.

use base64::Engine;
use chrono::{NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, Msg};
use crate::state::AppState;

/// The header that carries a solution: Base64 of the JSON of [`Solution`].
pub const HEADER: &str = "x-challenge-solution";
/// How long a challenge may be solved and used.
const TTL_SECS: i64 = 600;

/// A challenge to solve.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Challenge {
    /// Always `SHA-256`.
    #[schema(example = "SHA-256")]
    pub algorithm: String,
    /// Hex SHA-256 of `salt` followed by the secret number in decimal.
    pub challenge: String,
    /// The secret number is at most this.
    pub maxnumber: u64,
    /// Random, with the expiry: `<hex>?expires=<unix seconds>`.
    pub salt: String,
    /// The server's signature of `challenge`, returned with the solution.
    pub signature: String,
}

/// A solution: the challenge's fields and the number found.
#[derive(Debug, Serialize, Deserialize)]
pub struct Solution {
    pub algorithm: String,
    pub challenge: String,
    pub number: u64,
    pub salt: String,
    pub signature: String,
}

fn key(secret: &str) -> Hmac<Sha256> {
    let derived = Sha256::digest(format!("dvc-challenge\n{secret}").as_bytes());
    Hmac::<Sha256>::new_from_slice(&derived).expect("any key length")
}

fn hash(salt: &str, number: u64) -> String {
    hex::encode(Sha256::digest(format!("{salt}{number}").as_bytes()))
}

/// A fresh challenge, signed with a key derived from the server secret (shared by every server).
pub fn issue(secret: &str, maxnumber: u64, now: i64) -> Challenge {
    let mut rng = rand::thread_rng();
    let salt = format!("{}?expires={}", hex::encode(rng.gen::<[u8; 12]>()), now + TTL_SECS);
    let number = rng.gen_range(0..=maxnumber);
    let challenge = hash(&salt, number);
    let mut mac = key(secret);
    mac.update(challenge.as_bytes());
    Challenge {
        algorithm: "SHA-256".into(),
        challenge,
        maxnumber,
        salt,
        signature: hex::encode(mac.finalize().into_bytes()),
    }
}

/// Finds the number of a challenge by trying every one (what a client does).
pub fn solve(c: &Challenge) -> Option<u64> {
    (0..=c.maxnumber).find(|n| hash(&c.salt, *n) == c.challenge)
}

fn failed(en: &'static str, vi: &'static str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::BAD_REQUEST,
        "challenge_failed",
        Msg::new("Mã xác nhận không hợp lệ", "The challenge solution is not valid"),
        Msg::new(vi, en),
    )
}

/// Checks a solution's form, signature, number and expiry; the challenge and its expiry.
pub fn check(secret: &str, header: &str, now: i64) -> Result<(String, NaiveDateTime), ApiError> {
    let bad = || failed("The solution cannot be read", "Không đọc được lời giải");
    let json = base64::engine::general_purpose::STANDARD.decode(header.trim()).map_err(|_| bad())?;
    let s: Solution = serde_json::from_slice(&json).map_err(|_| bad())?;
    if s.algorithm != "SHA-256" {
        return Err(bad());
    }
    let mut mac = key(secret);
    mac.update(s.challenge.as_bytes());
    let signature = hex::decode(&s.signature).map_err(|_| bad())?;
    mac.verify_slice(&signature)
        .map_err(|_| failed("The challenge was not issued by this service", "Thử thách không do hệ thống cấp"))?;
    if hash(&s.salt, s.number) != s.challenge {
        return Err(failed("The number does not solve the challenge", "Số tìm được không đúng"));
    }
    let expires = s.salt.split_once("?expires=").and_then(|(_, e)| e.parse::<i64>().ok()).ok_or_else(bad)?;
    if expires <= now {
        return Err(failed(
            "The challenge has expired; ask for a new one",
            "Thử thách đã hết hạn; hãy lấy thử thách mới",
        ));
    }
    let expires = chrono::DateTime::from_timestamp(expires, 0).map(|t| t.naive_utc()).ok_or_else(bad)?;
    Ok((s.challenge, expires))
}

/// Requires a solved, unused challenge on this request when challenges are on.
pub async fn require(state: &AppState, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    if !state.config.challenge {
        return Ok(());
    }
    let Some(value) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::PRECONDITION_REQUIRED,
            "challenge_required",
            Msg::new("Cần mã xác nhận", "A solved challenge is required"),
            Msg::new(
                "Lấy thử thách tại GET /api/v1/challenges, giải và gửi lời giải trong tiêu đề X-Challenge-Solution",
                "Get one from GET /api/v1/challenges, solve it and send the solution in the X-Challenge-Solution header",
            ),
        ));
    };
    let now = Utc::now().timestamp();
    let (challenge, expires) = check(&state.config.jwt_secret, value, now)?;
    let fresh = state.db(move |conn| Ok(dvc_persistence::outbox::use_challenge(conn, &challenge, expires)?)).await?;
    if !fresh {
        return Err(failed(
            "This challenge was used already; ask for a new one",
            "Thử thách này đã được dùng; hãy lấy thử thách mới",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(s: &Solution) -> String {
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(s).expect("json"))
    }

    #[test]
    fn a_solved_challenge_checks_and_tampering_does_not() {
        let now = 1_800_000_000;
        let c = issue("secret", 2_000, now);
        let number = solve(&c).expect("solvable");
        let good = Solution {
            algorithm: c.algorithm.clone(),
            challenge: c.challenge.clone(),
            number,
            salt: c.salt.clone(),
            signature: c.signature.clone(),
        };
        assert!(check("secret", &encode(&good), now).is_ok());
        assert!(check("another server's secret", &encode(&good), now).is_err());
        assert!(check("secret", &encode(&good), now + TTL_SECS).is_err(), "expired");
        let wrong = Solution { number: number + 1, ..good };
        assert!(check("secret", &encode(&wrong), now).is_err());
        let forged_salt = Solution { salt: c.salt.replace("?expires=", "?expires=9"), ..wrong };
        assert!(check("secret", &encode(&forged_salt), now).is_err());
        assert!(check("secret", "not base64!", now).is_err());
    }
}
