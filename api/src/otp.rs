//! One-time passwords: drawn from the OS's CSPRNG, stored only as keyed hashes.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

/// How long an OTP stays valid.
pub const OTP_TTL_SECS: i64 = 5 * 60;
/// Wrong tries after which the registration or reset is dead.
pub const MAX_OTP_ATTEMPTS: i32 = 5;
/// Time between two sends to the same registration.
pub const RESEND_COOLDOWN_SECS: i64 = 60;

/// A fresh 6-digit code.
pub fn generate() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// HMAC-SHA256 of the code, keyed by the server secret and bound to what it proves.
pub fn hash(secret: &str, subject: &str, code: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(subject.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Compares a submitted code with the stored hash in constant time.
pub fn matches(secret: &str, subject: &str, code: &str, stored: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(subject.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    match hex::decode(stored) {
        Ok(bytes) => mac.verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// SHA-256 hex of a bearer secret (refresh tokens), for lookup without storing the secret.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_verify() {
        let code = generate();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        let h = hash("k", "reg-1", &code);
        assert!(matches("k", "reg-1", &code, &h));
        assert!(!matches("k", "reg-2", &code, &h), "bound to its subject");
        assert!(!matches("other", "reg-1", &code, &h), "bound to the key");
    }
}
