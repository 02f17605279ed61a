//! Issued results anyone can verify: the text an agency signs, and what the public may see.

use chrono::NaiveDateTime;

/// The facts an agency's signature covers, one per line, in a fixed order: anyone holding the
/// certificate can check a signature over exactly this text.
pub fn signed_text(
    verification_code: &str,
    sha256: &str,
    agency_code: &str,
    dossier_code: &str,
    issued_at: NaiveDateTime,
) -> String {
    format!(
        "dvc-result-v1\nverification_code={verification_code}\nsha256={sha256}\nagency={agency_code}\ndossier={dossier_code}\nissued_at={}\n",
        issued_at.and_utc().format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// A name as the public may see it: each word's first letter, the rest hidden
/// (`Nguyễn Văn An` → `N***** V** A*`).
pub fn masked_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            first + &"*".repeat(chars.count())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh verification code: 12 characters of an alphabet without look-alikes, in groups of four
/// (`K7QM-2XRD-9FHT`).
pub fn verification_code(random: [u8; 12]) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let chars: String = random.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
    format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_first_letters_only() {
        assert_eq!(masked_name("Nguyễn Văn An"), "N***** V** A*");
        assert_eq!(masked_name("  Lê   Thị "), "L* T**");
    }

    #[test]
    fn codes_have_three_groups_without_look_alikes() {
        let code = verification_code([0, 1, 2, 3, 31, 32, 33, 255, 100, 7, 8, 9]);
        assert_eq!(code, "2345-Z23Z-69AB");
    }

    #[test]
    fn the_signed_text_is_fixed() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).and_then(|d| d.and_hms_opt(2, 30, 0)).expect("date");
        assert_eq!(
            signed_text("K7QM-2XRD-9FHT", "ab", "G01", "G01-261203-0001", at),
            "dvc-result-v1\nverification_code=K7QM-2XRD-9FHT\nsha256=ab\nagency=G01\ndossier=G01-261203-0001\nissued_at=2026-12-03T02:30:00Z\n"
        );
    }
}
