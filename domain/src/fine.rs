//! Administrative fines paid by decision number (traffic fines first): the decision as the
//! issuing authority registers it, who may look it up, what it owes on a given day, and the
//! electronic receipt of its payment.

use chrono::NaiveDate;

use crate::catalogue::code_enum;
use crate::FieldError;

code_enum! {
    /// Where a fine decision stands.
    FineStatus { Unpaid = "unpaid", Paid = "paid", Cancelled = "cancelled" }
}

/// The surcharge for paying late: 0.05% of the unpaid fine for each day past the deadline
/// (Law on Handling Administrative Violations 2012, as amended in 2020, art. 78 (check the
/// clause)), in whole đồng rounded down.
pub const LATE_PER_DAY_TEN_THOUSANDTHS: i64 = 5;

/// What a fine owes on a day: the fine, the days past its deadline, and the surcharge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owed {
    pub fine_vnd: i64,
    pub days_late: i64,
    pub surcharge_vnd: i64,
}

impl Owed {
    pub fn total(&self) -> i64 {
        self.fine_vnd + self.surcharge_vnd
    }
}

/// What a fine of `amount_vnd` due by `pay_by` owes on `today` (the deadline's day itself is on
/// time).
pub fn owed(amount_vnd: i64, pay_by: NaiveDate, today: NaiveDate) -> Owed {
    let days_late = (today - pay_by).num_days().max(0);
    let surcharge_vnd = amount_vnd.saturating_mul(LATE_PER_DAY_TEN_THOUSANDTHS).saturating_mul(days_late) / 10_000;
    Owed { fine_vnd: amount_vnd, days_late, surcharge_vnd }
}

/// A decision number as the authorities write it (`12345/QĐ-XPHC`, `0012345/QĐ-XPVPHC`): 1 to 60
/// letters, digits and `/ . -`, kept as written (trimmed; Vietnamese letters composed).
pub fn check_decision_number(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = crate::text::nfc(raw.trim());
    let ok = !s.is_empty()
        && s.chars().count() <= 60
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '-'));
    if ok {
        Ok(s)
    } else {
        Err(FieldError::new(
            field,
            "invalid_decision_number",
            "Số quyết định gồm chữ, số và / . - (tối đa 60 ký tự), ví dụ 12345/QĐ-XPHC",
            "A decision number is letters, digits and / . - (60 at most), such as 12345/QĐ-XPHC",
        ))
    }
}

/// A vehicle's plate, compared without its separators and case: `30A-123.45` is `30A12345`.
/// Two digits (the province), a series of one or two letters with perhaps a digit, then four or
/// five digits (Circular 79/2024/TT-BCA on vehicle registration, check).
pub fn normalize_plate(field: &str, raw: &str) -> Result<String, FieldError> {
    let s: String = raw.chars().filter(|c| !matches!(c, '-' | '.' | ' ')).flat_map(char::to_uppercase).collect();
    let b = s.as_bytes();
    let letters = b.iter().skip(2).take_while(|c| c.is_ascii_uppercase()).count();
    let rest = &b[(2 + letters).min(b.len())..];
    let ok = b.len() >= 7
        && b.len() <= 10
        && b[..2].iter().all(u8::is_ascii_digit)
        && (1..=2).contains(&letters)
        && rest.iter().all(u8::is_ascii_digit)
        && (4..=6).contains(&rest.len());
    if ok {
        Ok(s)
    } else {
        Err(FieldError::new(
            field,
            "invalid_plate",
            "Biển số có dạng 30A-123.45 hoặc 29B1-123.45",
            "A plate looks like 30A-123.45 or 29B1-123.45",
        ))
    }
}

/// A name shown to whoever looks a decision up: the family name in full, the others by their
/// initial (`Nguyễn V. A.`).
pub fn masked_name(name: &str) -> String {
    let mut words = name.split_whitespace();
    let Some(first) = words.next() else { return String::new() };
    let rest: Vec<String> = words.filter_map(|w| w.chars().next()).map(|c| format!("{c}.")).collect();
    if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first} {}", rest.join(" "))
    }
}

/// The serial (ký hiệu) of the electronic receipts an agency issues in a year: `BL/26E` (a
/// receipt, the year's last two digits, electronic), numbered from 1 in each agency and year with
/// seven digits (Decree 123/2020/NĐ-CP on invoices and receipts, arts. 30–32, check).
pub fn receipt_series(year: i32) -> String {
    format!("BL/{:02}E", year.rem_euclid(100))
}

/// A receipt's number as printed: seven digits.
pub fn receipt_number(n: i32) -> String {
    format!("{n:07}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn late_payment_grows_by_a_twentieth_of_a_percent_a_day() {
        let on_time = owed(4_000_000, day("2026-11-30"), day("2026-11-30"));
        assert_eq!(on_time, Owed { fine_vnd: 4_000_000, days_late: 0, surcharge_vnd: 0 });
        let late = owed(4_000_000, day("2026-11-30"), day("2026-12-10"));
        assert_eq!((late.days_late, late.surcharge_vnd, late.total()), (10, 20_000, 4_020_000));
        assert_eq!(owed(150_000, day("2026-11-30"), day("2026-12-01")).surcharge_vnd, 75, "rounded down");
        assert_eq!(owed(150_000, day("2026-11-30"), day("2026-11-01")).days_late, 0, "early is not negative");
    }

    #[test]
    fn decision_numbers_and_plates() {
        assert_eq!(check_decision_number("d", " 12345/QĐ-XPHC ").ok().as_deref(), Some("12345/QĐ-XPHC"));
        assert!(check_decision_number("d", "QĐ-XPHC").is_err(), "a number has digits");
        assert!(check_decision_number("d", "12345/QĐ XPHC").is_err());
        assert!(check_decision_number("d", &"1".repeat(61)).is_err());
        for (raw, plate) in [
            ("30A-123.45", "30A12345"),
            ("29b1 123.45", "29B112345"),
            ("51G12345", "51G12345"),
            ("30AB-123.45", "30AB12345"),
        ] {
            assert_eq!(normalize_plate("p", raw).ok().as_deref(), Some(plate), "{raw}");
        }
        for bad in ["ABC-123", "3A-12345", "30-12345", "30A-12", "30A-1234567"] {
            assert!(normalize_plate("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_receipts() {
        assert_eq!(masked_name("Nguyễn Văn An"), "Nguyễn V. A.");
        assert_eq!(masked_name("An"), "An");
        assert_eq!(receipt_series(2026), "BL/26E");
        assert_eq!(receipt_number(42), "0000042");
    }
}
