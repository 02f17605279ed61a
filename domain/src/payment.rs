//! Fees owed by a dossier and the states of a payment.

use crate::catalogue::{code_enum, FeeItem, FeeMode};

code_enum! {
    /// Where a payment stands.
    PaymentStatus { Unpaid = "unpaid", Pending = "pending", Paid = "paid", Cancelled = "cancelled", Refunded = "refunded" }
}

code_enum! {
    /// When fees are due: before the agency receives the dossier, or before the result is returned.
    FeePhase { Before = "before", After = "after" }
}

/// What a dossier owes in each phase, in whole đồng.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FeeTotals {
    pub before: i64,
    pub after: i64,
}

/// Sums the fees of each phase; exempt and free items owe nothing.
pub fn totals(fees: &[FeeItem]) -> FeeTotals {
    let mut t = FeeTotals::default();
    for fee in fees {
        match fee.mode {
            FeeMode::Before => t.before += fee.amount_vnd,
            FeeMode::After => t.after += fee.amount_vnd,
            FeeMode::Exempt | FeeMode::Free => {}
        }
    }
    t
}

impl FeeTotals {
    pub fn of(&self, phase: FeePhase) -> i64 {
        match phase {
            FeePhase::Before => self.before,
            FeePhase::After => self.after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::FeeKind;

    #[test]
    fn sums_by_phase() {
        let fee = |amount, mode| FeeItem { kind: FeeKind::Charge, name: "x".into(), amount_vnd: amount, mode };
        let t = totals(&[
            fee(50_000, FeeMode::Before),
            fee(100_000, FeeMode::Before),
            fee(30_000, FeeMode::After),
            fee(0, FeeMode::Exempt),
        ]);
        assert_eq!(t, FeeTotals { before: 150_000, after: 30_000 });
        assert_eq!(t.of(FeePhase::After), 30_000);
    }
}

/// VNPay 2.1.0 signatures: hex HMAC-SHA512 over the parameters sorted by name, form-encoded.
pub mod vnpay {
    use std::collections::BTreeMap;

    use hmac::{Hmac, Mac};
    use sha2::Sha512;

    /// Form-encodes a value as VNPay hashes it (`application/x-www-form-urlencoded`).
    fn encode(value: &str) -> String {
        form_urlencoded::byte_serialize(value.as_bytes()).collect()
    }

    /// `k=v&...` over the parameters sorted by name, hash fields excluded.
    pub fn hash_data(params: &BTreeMap<String, String>) -> String {
        params
            .iter()
            .filter(|(k, v)| k.as_str() != "vnp_SecureHash" && k.as_str() != "vnp_SecureHashType" && !v.is_empty())
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Hex HMAC-SHA512 of the sorted, encoded parameters.
    pub fn sign(secret: &str, params: &BTreeMap<String, String>) -> String {
        let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(hash_data(params).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks `vnp_SecureHash` in constant time.
    pub fn verify(secret: &str, params: &BTreeMap<String, String>) -> bool {
        let Some(given) = params.get("vnp_SecureHash").and_then(|h| hex::decode(h.to_ascii_lowercase()).ok()) else {
            return false;
        };
        let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(hash_data(params).as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}
