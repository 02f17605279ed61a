//! Identifiers people and businesses are known by, parsed once at the boundary.

use chrono::{Datelike, NaiveDate};

use crate::FieldError;

/// The 63 province codes in force before the 2025 merger; a CCCD starts with `0` and one of them
/// (the province where the birth was registered).
const PROVINCE_CODES_BEFORE_2025: [&str; 63] = [
    "01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24", "25", "26", "27", "30",
    "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45", "46", "48", "49", "51", "52", "54", "56", "58",
    "60", "62", "64", "66", "67", "68", "70", "72", "74", "75", "77", "79", "80", "82", "83", "84", "86", "87", "89",
    "91", "92", "93", "94", "95", "96",
];

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A 12-digit citizen ID number (CCCD / số định danh cá nhân).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenId(String);

impl CitizenId {
    /// Checks the length, the province code, and — when the date of birth is known — that the
    /// fourth digit (sex and century) and the two year digits agree with it.
    pub fn parse(field: &str, raw: &str, date_of_birth: Option<NaiveDate>) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.len() != 12 || !digits(s) {
            return Err(FieldError::new(
                field,
                "invalid_format",
                "Số định danh cá nhân gồm đúng 12 chữ số",
                "A citizen ID number is exactly 12 digits",
            ));
        }
        if !s.starts_with('0') || !PROVINCE_CODES_BEFORE_2025.contains(&&s[1..3]) {
            return Err(FieldError::new(
                field,
                "invalid_province",
                "Ba chữ số đầu không phải mã tỉnh nơi đăng ký khai sinh",
                "The first three digits are not a province code",
            ));
        }
        let century_digit = s.as_bytes()[3] - b'0';
        let century_start = match century_digit {
            0 | 1 => 1900,
            2 | 3 => 2000,
            4 | 5 => 2100,
            6 | 7 => 2200,
            _ => 2300,
        };
        if let Some(dob) = date_of_birth {
            let year = century_start + i32::from(s.as_bytes()[4] - b'0') * 10 + i32::from(s.as_bytes()[5] - b'0');
            if dob.year() != year {
                return Err(FieldError::new(
                    field,
                    "inconsistent_birth_year",
                    "Số định danh không khớp với năm sinh",
                    "The ID number does not match the year of birth",
                ));
            }
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Female when the sex-and-century digit is odd.
    pub fn is_female(&self) -> bool {
        (self.0.as_bytes()[3] - b'0') % 2 == 1
    }
}

/// A Vietnamese mobile number, kept in E.164 (`+84912345678`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `0xxxxxxxxx`, `84xxxxxxxxx` or `+84xxxxxxxxx` (spaces, dots and dashes ignored) in
    /// the ranges allocated to mobile networks ([`is_allocated_mobile`]).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = compact
            .strip_prefix("+84")
            .or_else(|| compact.strip_prefix("84").filter(|r| r.len() == 9))
            .or_else(|| compact.strip_prefix('0'))
            .unwrap_or("");
        if is_allocated_mobile(national) {
            Ok(Self(format!("+84{national}")))
        } else {
            Err(FieldError::new(
                field,
                "invalid_phone",
                "Số điện thoại di động có dạng 0xxxxxxxxx hoặc +84xxxxxxxxx, trong dải số đã cấp cho các mạng di động",
                "A mobile number looks like 0xxxxxxxxx or +84xxxxxxxxx, in a range allocated to a mobile network",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last three digits hidden, for logs and answers.
    pub fn masked(&self) -> String {
        format!("+84******{}", &self.0[self.0.len() - 3..])
    }
}

/// Whether a 9-digit national number (after the leading `0`) is in a range allocated to mobile
/// networks: 3x; 52[238], 559, 5[1689]; 7[06-9]; 8[1-8], 89[6-9]; 9[0-8], 99[013-9]. Source: the
/// mobile pattern of Vietnam in libphonenumber's metadata (PhoneNumberMetadata.xml, `VN`), which
/// follows the Ministry of Information and Communications' allocations.
pub fn is_allocated_mobile(national: &str) -> bool {
    let d = national.as_bytes();
    if d.len() != 9 || !digits(national) {
        return false;
    }
    let (a, b, c) = (d[0] - b'0', d[1] - b'0', d[2] - b'0');
    match a {
        3 => true,
        5 => matches!(b, 1 | 6 | 8 | 9) || (b == 2 && matches!(c, 2 | 3 | 8)),
        7 => matches!(b, 0 | 6..=9),
        8 => matches!(b, 1..=8) || (b == 9 && matches!(c, 6..=9)),
        9 => matches!(b, 0..=8) || (b == 9 && c != 2),
        _ => false,
    }
}

/// A 10-digit social insurance code (mã số BHXH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BhxhCode(String);

impl BhxhCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.len() == 10 && digits(s) {
            Ok(Self(s.to_string()))
        } else {
            Err(FieldError::new(
                field,
                "invalid_format",
                "Mã số BHXH gồm đúng 10 chữ số",
                "A social insurance code is exactly 10 digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tax code (mã số thuế): 10 digits whose last is a check digit, `NNNNNNNNNN-NNN` for a
/// dependent unit (branch), or, since 1 July 2025, an individual's or household business's
/// 12-digit personal identification number (Circular 86/2024/TT-BTC, art. 5), checked as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxCode(String);

/// The weights of the first nine digits of a tax code; the tenth is `10 - (Σ weight × digit) mod
/// 11` (a code whose sum leaves 0 is never issued). Circular 105/2020/TT-BTC, art. 5, gives the
/// structure (N1…N9 and the check digit N10); the weights are those the tax administration's
/// check uses, verified here against published codes (0100109106, 0101248141).
const TAX_CODE_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// Whether ten digits end with their check digit.
pub fn tax_check_digit_ok(ten: &str) -> bool {
    let d: Vec<u32> = ten.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = TAX_CODE_WEIGHTS.iter().zip(&d).map(|(w, n)| w * n).sum();
    let check = 10 - sum % 11;
    check < 10 && check == d[9]
}

impl TaxCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let shape = |e: &'static str, vi: &'static str, en: &'static str| FieldError::new(field, e, vi, en);
        let head = match s.split_once('-') {
            None if s.len() == 12 && digits(s) => {
                return CitizenId::parse(field, s, None).map(|_| Self(s.to_string()));
            }
            None if s.len() == 10 && digits(s) => s,
            Some((head, branch)) if head.len() == 10 && digits(head) && branch.len() == 3 && digits(branch) => head,
            _ => {
                return Err(shape(
                    "invalid_format",
                    "Mã số thuế gồm 10 chữ số, 10-3 chữ số với đơn vị phụ thuộc, hoặc số định danh cá nhân 12 chữ số",
                    "A tax code is 10 digits, 10-3 digits for a dependent unit, or a 12-digit personal identification number",
                ))
            }
        };
        if tax_check_digit_ok(head) {
            Ok(Self(s.to_string()))
        } else {
            Err(shape(
                "invalid_check_digit",
                "Chữ số kiểm tra (chữ số thứ 10) của mã số thuế không đúng",
                "The tax code's check digit (its tenth digit) is wrong",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked for shape only (a message proves the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            })
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s.to_lowercase()))
        } else {
            Err(FieldError::new(field, "invalid_email", "Địa chỉ thư điện tử không hợp lệ", "Invalid e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An identity read from a certificate subject, the way Vietnamese CAs write the UID attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateIdentity {
    /// `CCCD:` — citizen ID number.
    Cccd(String),
    /// `CMND:` — the older identity card number.
    Cmnd(String),
    /// `MST:` — tax code of a business or organisation.
    Mst(String),
}

impl CertificateIdentity {
    /// Reads `CCCD:001099012345`, `CMND:012345678`, `MST:0101234565` (prefix case ignored).
    pub fn from_uid(value: &str) -> Option<Self> {
        let (prefix, id) = value.trim().split_once(':')?;
        let id = id.trim().to_string();
        if id.is_empty() {
            return None;
        }
        match prefix.trim().to_ascii_uppercase().as_str() {
            "CCCD" => Some(Self::Cccd(id)),
            "CMND" => Some(Self::Cmnd(id)),
            "MST" => Some(Self::Mst(id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn citizen_ids() {
        assert!(CitizenId::parse("id", "001099012345", date(1999, 5, 1)).is_ok());
        assert!(CitizenId::parse("id", "079301012345", date(2001, 1, 1)).expect("valid").is_female());
        assert_eq!(CitizenId::parse("id", "00109901234", None).expect_err("short").code, "invalid_format");
        assert_eq!(
            CitizenId::parse("id", "003099012345", None).expect_err("03 is no province").code,
            "invalid_province"
        );
        assert_eq!(
            CitizenId::parse("id", "001299012345", date(1999, 1, 1)).expect_err("2 means 2000s").code,
            "inconsistent_birth_year"
        );
        assert_eq!(
            CitizenId::parse("id", "001098012345", date(1999, 1, 1)).expect_err("year digits").code,
            "inconsistent_birth_year"
        );
        assert!(CitizenId::parse("id", "00109901234a", None).is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(PhoneNumber::parse("p", "0912345678").expect("ok").as_str(), "+84912345678");
        assert_eq!(PhoneNumber::parse("p", "+84 912 345 678").expect("ok").as_str(), "+84912345678");
        assert_eq!(PhoneNumber::parse("p", "84912345678").expect("ok").as_str(), "+84912345678");
        assert!(PhoneNumber::parse("p", "0212345678").is_err(), "landline prefix");
        for allocated in [
            "0321234567",
            "0522123456",
            "0591234567",
            "0701234567",
            "0761234567",
            "0812345678",
            "0886543210",
            "0896123456",
            "0991234567",
            "0961234567",
        ] {
            assert!(PhoneNumber::parse("p", allocated).is_ok(), "{allocated}");
        }
        for unallocated in [
            "0501234567",
            "0541234567",
            "0711234567",
            "0751234567",
            "0801234567",
            "0891234567",
            "0992123456",
            "0601234567",
            "0411234567",
        ] {
            assert!(PhoneNumber::parse("p", unallocated).is_err(), "{unallocated}");
        }
        assert!(PhoneNumber::parse("p", "091234567").is_err());
        assert!(PhoneNumber::parse("p", "+1912345678").is_err());
        assert_eq!(PhoneNumber::parse("p", "0912345678").expect("ok").masked(), "+84******678");
    }

    #[test]
    fn codes() {
        assert!(BhxhCode::parse("b", "0123456789").is_ok());
        assert!(BhxhCode::parse("b", "012345678").is_err());
        for code in ["0100109106", "0101248141", "0101234565", "0101234565-001", "001099012345"] {
            assert!(TaxCode::parse("t", code).is_ok(), "{code}");
        }
        let wrong = TaxCode::parse("t", "0101234567").expect_err("a wrong check digit");
        assert_eq!(wrong.code, "invalid_check_digit");
        assert_eq!(TaxCode::parse("t", "0101234567-001").expect_err("wrong").code, "invalid_check_digit");
        assert!(TaxCode::parse("t", "0101234565-01").is_err());
        assert!(TaxCode::parse("t", "010123456").is_err());
        assert_eq!(TaxCode::parse("t", "999099012345").expect_err("not a CCCD").code, "invalid_province");
        // Every check digit but the right one fails.
        for last in 0..10 {
            let code = format!("010010910{last}");
            assert_eq!(TaxCode::parse("t", &code).is_ok(), last == 6, "{code}");
        }
        assert!(Email::parse("e", "An.Nguyen@Example.vn").is_ok());
        assert!(Email::parse("e", "no-at-sign").is_err());
        assert!(Email::parse("e", "a@b").is_err());
    }

    #[test]
    fn certificate_uids() {
        assert_eq!(
            CertificateIdentity::from_uid("CCCD:001099012345"),
            Some(CertificateIdentity::Cccd("001099012345".into()))
        );
        assert_eq!(
            CertificateIdentity::from_uid("mst: 0101234565"),
            Some(CertificateIdentity::Mst("0101234565".into()))
        );
        assert_eq!(CertificateIdentity::from_uid("PASSPORT:B123"), None);
    }
}
