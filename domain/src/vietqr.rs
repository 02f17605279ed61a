//! VietQR: the NAPAS bank-transfer QR on EMVCo's merchant-presented format.

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as EMVCo's field 63 uses.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in data {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

fn tlv(id: &str, value: &str) -> String {
    format!("{id}{:02}{value}", value.len())
}

/// A dynamic (amount-bearing) VietQR transfer to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The acquirer's 6-digit BIN, e.g. 970415.
    pub bank_bin: String,
    pub account: String,
    pub amount_vnd: i64,
    /// Shown to the payer and carried to the payee: the dossier code.
    pub purpose: String,
}

/// Keeps the characters a bank app shows in a transfer purpose (ASCII letters, digits, `-`, `.`,
/// space), at most 25 (the field's limit).
fn purpose_text(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ' ')).take(25).collect()
}

impl Transfer {
    /// The payload string to encode in the QR.
    pub fn payload(&self) -> String {
        let beneficiary = tlv("00", &self.bank_bin) + &tlv("01", &self.account);
        let merchant = tlv("00", "A000000727") + &tlv("01", &beneficiary) + &tlv("02", "QRIBFTTA");
        let mut out = String::new();
        out += &tlv("00", "01");
        out += &tlv("01", "12");
        out += &tlv("38", &merchant);
        out += &tlv("53", "704");
        out += &tlv("54", &self.amount_vnd.to_string());
        out += &tlv("58", "VN");
        out += &tlv("62", &tlv("08", &purpose_text(&self.purpose)));
        out += "6304";
        let crc = crc16(out.as_bytes());
        out + &format!("{crc:04X}")
    }
}

/// Splits an EMVCo TLV string into (id, value) pairs; `None` when malformed.
pub fn parse_tlv(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        // The id and the length are four ASCII digits; anything else (even a character whose
        // bytes straddle them) is malformed.
        if rest.len() < 4 || !rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let id = &rest[..2];
        let len: usize = rest[2..4].parse().ok()?;
        if rest.len() < 4 + len || !rest.is_char_boundary(4 + len) {
            return None;
        }
        out.push((id.to_string(), rest[4..4 + len].to_string()));
        rest = &rest[4 + len..];
    }
    Some(out)
}

/// Checks a payload's CRC (field 63 over everything before its value).
pub fn crc_valid(payload: &str) -> bool {
    if payload.len() < 8 || !payload.is_char_boundary(payload.len() - 4) {
        return false;
    }
    let (body, crc) = payload.split_at(payload.len() - 4);
    body.ends_with("6304") && u16::from_str_radix(crc, 16).ok() == Some(crc16(body.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tlv_is_refused_not_a_panic() {
        // Found by the fuzzer: a multi-byte character across the id and the length.
        assert_eq!(parse_tlv("0\u{72e}000"), None);
        assert_eq!(parse_tlv("AB02xy"), None);
        assert_eq!(parse_tlv("0002xy"), Some(vec![("00".to_string(), "xy".to_string())]));
    }

    #[test]
    fn crc_of_the_standard_check_string() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn payload_round_trips() {
        let t = Transfer {
            bank_bin: "970415".into(),
            account: "113366668888".into(),
            amount_vnd: 135000,
            purpose: "000.00.05.H26-261120-0001".into(),
        };
        let p = t.payload();
        assert!(crc_valid(&p));
        let fields = parse_tlv(&p).expect("tlv");
        assert_eq!(fields[0], ("00".into(), "01".into()));
        assert!(fields.contains(&("54".into(), "135000".into())));
        let additional = fields.iter().find(|(id, _)| id == "62").map(|(_, v)| v.clone()).expect("62");
        assert_eq!(parse_tlv(&additional).expect("62 tlv")[0].1, "000.00.05.H26-261120-0001");
        let mut broken = p.clone();
        broken.replace_range(10..11, "9");
        assert!(!crc_valid(&broken));
    }
}
