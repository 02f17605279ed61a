//! Fees owed by a dossier and the states of a payment.

use crate::catalogue::{code_enum, FeeChannel, FeeItem, FeeMode, FeeUnit};
use crate::dossier::Channel;

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

/// Sums the fees of each phase (as assessed, where they are); exempt and free items owe nothing.
pub fn totals(fees: &[FeeItem]) -> FeeTotals {
    let mut t = FeeTotals::default();
    for fee in fees {
        match fee.mode {
            FeeMode::Before => t.before += fee.owed(),
            FeeMode::After => t.after += fee.owed(),
            FeeMode::Exempt | FeeMode::Free => {}
        }
    }
    t
}

/// The most copies or pages a form may declare for a fee.
pub const MAX_QUANTITY: i64 = 100_000;

/// A procedure's fees as one dossier owes them: the items of its channel only (online, or in
/// person for a counter or a postal submission), each counted by the copies or pages its form
/// declares (1 when it does not say), at the tier's amount from its unit on, up to the cap (for
/// pages, the cap and the tier apply to each copy, and the copies multiply).
pub fn assess(fees: &[FeeItem], channel: Channel, form: &serde_json::Value) -> Vec<FeeItem> {
    let online = channel == Channel::Online;
    fees.iter()
        .filter(|f| match f.channel {
            FeeChannel::Any => true,
            FeeChannel::Online => online,
            FeeChannel::InPerson => !online,
        })
        .map(|f| {
            let read =
                |field: &Option<String>| field.as_ref().and_then(|k| form.get(k)).and_then(quantity_of).unwrap_or(1);
            let (quantity, copies) = match f.unit {
                FeeUnit::Dossier => (1, 1),
                FeeUnit::Copy => (read(&f.quantity_field), 1),
                FeeUnit::Page => (read(&f.quantity_field), read(&f.copies_field)),
            };
            let full = match &f.tier {
                Some(t) => quantity.min(t.from_unit - 1).max(0),
                None => quantity,
            };
            let each = f
                .amount_vnd
                .saturating_mul(full)
                .saturating_add(f.tier.as_ref().map_or(0, |t| t.amount_vnd.saturating_mul(quantity - full)));
            let each = f.cap_vnd.map_or(each, |cap| each.min(cap));
            FeeItem {
                quantity: Some(quantity.saturating_mul(copies)),
                owed_vnd: Some(each.saturating_mul(copies)),
                ..f.clone()
            }
        })
        .collect()
}

/// A quantity written in a form: a whole number from 1 (as a number or as digits).
fn quantity_of(v: &serde_json::Value) -> Option<i64> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (1..=MAX_QUANTITY).contains(&n).then_some(n)
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
        let fee = |amount, mode| FeeItem::flat(FeeKind::Charge, "x", amount, mode);
        let t = totals(&[
            fee(50_000, FeeMode::Before),
            fee(100_000, FeeMode::Before),
            fee(30_000, FeeMode::After),
            fee(0, FeeMode::Exempt),
        ]);
        assert_eq!(t, FeeTotals { before: 150_000, after: 30_000 });
        assert_eq!(t.of(FeePhase::After), 30_000);
    }

    #[test]
    fn by_channel_and_by_copy_with_a_cap() {
        use serde_json::json;
        // Temporary residence (1.004194): less online than in person.
        let in_person = FeeItem {
            channel: FeeChannel::InPerson,
            ..FeeItem::flat(FeeKind::Charge, "Lệ phí", 15_000, FeeMode::Before)
        };
        let online = FeeItem {
            channel: FeeChannel::Online,
            ..FeeItem::flat(FeeKind::Charge, "Lệ phí", 7_000, FeeMode::Before)
        };
        let fees = [in_person, online];
        assert_eq!(totals(&assess(&fees, Channel::Online, &json!({}))).before, 7_000);
        assert_eq!(totals(&assess(&fees, Channel::Counter, &json!({}))).before, 15_000);
        assert_eq!(totals(&assess(&fees, Channel::Post, &json!({}))).before, 15_000);
        // Certified copies (Circular 226/2016/TT-BTC): 2,000 a page, 1,000 from the third page,
        // at most 200,000 a copy; each copy counts.
        let copies = FeeItem {
            unit: FeeUnit::Page,
            quantity_field: Some("pages".into()),
            copies_field: Some("copies".into()),
            tier: Some(crate::catalogue::FeeTier { from_unit: 3, amount_vnd: 1_000 }),
            cap_vnd: Some(200_000),
            ..FeeItem::flat(FeeKind::Fee, "Phí chứng thực", 2_000, FeeMode::Before)
        };
        let owed = |form| totals(&assess(std::slice::from_ref(&copies), Channel::Counter, &form)).before;
        assert_eq!(owed(json!({"pages": 2})), 4_000);
        assert_eq!(owed(json!({"pages": 3})), 5_000, "the third page at the tier");
        assert_eq!(owed(json!({"pages": "12"})), 14_000, "digits as text");
        assert_eq!(owed(json!({"pages": 500})), 200_000, "the cap");
        assert_eq!(owed(json!({"pages": 500, "copies": 2})), 400_000, "the cap is per copy");
        assert_eq!(owed(json!({"pages": 3, "copies": 3})), 15_000);
        assert_eq!(owed(json!({})), 2_000, "one when the form does not say");
        assert_eq!(owed(json!({"pages": 0})), 2_000, "nor nonsense");
        assert_eq!(owed(json!({"pages": -4})), 2_000);
        let assessed = assess(std::slice::from_ref(&copies), Channel::Counter, &json!({"pages": 7, "copies": 2}));
        assert_eq!((assessed[0].quantity, assessed[0].owed_vnd), (Some(14), Some(18_000)));
        assert_eq!(totals(&assessed).before, 18_000, "assessed items are summed as assessed");
        // Extracts (Circular 281/2016/TT-BTC): 8,000 a copy.
        let extract = FeeItem {
            unit: FeeUnit::Copy,
            quantity_field: Some("copies".into()),
            ..FeeItem::flat(FeeKind::Fee, "Phí", 8_000, FeeMode::Before)
        };
        assert_eq!(totals(&assess(&[extract], Channel::Online, &json!({"copies": 3}))).before, 24_000);
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
