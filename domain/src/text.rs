//! Vietnamese text folding, shared by every search so that both databases match alike.

/// Folds Vietnamese text for search: composes it first (Unicode NFC, so that a letter typed as a
/// base and combining marks is one letter), removes tone and vowel marks, maps `đ`/`Đ` to `d`,
/// lower-cases, and collapses every run of characters other than letters, digits and `.`
/// into one space. `"Đăng ký  KHAI-SINH"` becomes `"dang ky khai sinh"`.
pub fn fold(input: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    // Text typed or stored is nearly always composed already: then it is read as it is.
    if is_nfc_quick(input.chars()) == IsNormalized::Yes {
        fold_composed(input.chars(), input.len())
    } else {
        fold_composed(input.nfc(), input.len())
    }
}

fn fold_composed(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for ch in chars {
        let base = base_letter(ch);
        for c in base.to_lowercase() {
            if c.is_alphanumeric() || c == '.' {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            } else {
                pending_space = true;
            }
        }
    }
    out
}

/// Text in Unicode NFC: letters and their marks composed, as Vietnamese is usually written.
pub fn nfc(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    input.nfc().collect()
}

/// Whether text holds control characters other than tab and line breaks (NUL included), which no
/// field of the portal accepts.
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Whether a value can be an identifier or code a client looks something up by: 1 to 100
/// printable characters.
pub fn is_lookup_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && !s.chars().any(char::is_control)
}

/// Splits a search query into folded tokens (at most `max`), dropping duplicates.
pub fn search_tokens(query: &str, max: usize) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for t in fold(query).split(' ') {
        let t = t.trim_matches('.');
        if !t.is_empty() && !tokens.iter().any(|x| x == t) {
            tokens.push(t.to_string());
        }
        if tokens.len() == max {
            break;
        }
    }
    tokens
}

/// The letter a Vietnamese character is written on, without its marks.
pub(crate) fn base_letter(ch: char) -> char {
    match ch {
        'à' | 'á' | 'ả' | 'ã' | 'ạ' | 'ă' | 'ằ' | 'ắ' | 'ẳ' | 'ẵ' | 'ặ' | 'â' | 'ầ' | 'ấ' | 'ẩ' | 'ẫ' | 'ậ' => {
            'a'
        }
        'À' | 'Á' | 'Ả' | 'Ã' | 'Ạ' | 'Ă' | 'Ằ' | 'Ắ' | 'Ẳ' | 'Ẵ' | 'Ặ' | 'Â' | 'Ầ' | 'Ấ' | 'Ẩ' | 'Ẫ' | 'Ậ' => {
            'A'
        }
        'è' | 'é' | 'ẻ' | 'ẽ' | 'ẹ' | 'ê' | 'ề' | 'ế' | 'ể' | 'ễ' | 'ệ' => 'e',
        'È' | 'É' | 'Ẻ' | 'Ẽ' | 'Ẹ' | 'Ê' | 'Ề' | 'Ế' | 'Ể' | 'Ễ' | 'Ệ' => 'E',
        'ì' | 'í' | 'ỉ' | 'ĩ' | 'ị' => 'i',
        'Ì' | 'Í' | 'Ỉ' | 'Ĩ' | 'Ị' => 'I',
        'ò' | 'ó' | 'ỏ' | 'õ' | 'ọ' | 'ô' | 'ồ' | 'ố' | 'ổ' | 'ỗ' | 'ộ' | 'ơ' | 'ờ' | 'ớ' | 'ở' | 'ỡ' | 'ợ' => {
            'o'
        }
        'Ò' | 'Ó' | 'Ỏ' | 'Õ' | 'Ọ' | 'Ô' | 'Ồ' | 'Ố' | 'Ổ' | 'Ỗ' | 'Ộ' | 'Ơ' | 'Ờ' | 'Ớ' | 'Ở' | 'Ỡ' | 'Ợ' => {
            'O'
        }
        'ù' | 'ú' | 'ủ' | 'ũ' | 'ụ' | 'ư' | 'ừ' | 'ứ' | 'ử' | 'ữ' | 'ự' => 'u',
        'Ù' | 'Ú' | 'Ủ' | 'Ũ' | 'Ụ' | 'Ư' | 'Ừ' | 'Ứ' | 'Ử' | 'Ữ' | 'Ự' => 'U',
        'ỳ' | 'ý' | 'ỷ' | 'ỹ' | 'ỵ' => 'y',
        'Ỳ' | 'Ý' | 'Ỷ' | 'Ỹ' | 'Ỵ' => 'Y',
        'đ' => 'd',
        'Đ' => 'D',
        _ => ch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_marks_case_and_d() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(fold("ĐỔI GIẤY PHÉP LÁI XE"), "doi giay phep lai xe");
        assert_eq!(fold("Cấp lại thẻ bảo hiểm y tế"), "cap lai the bao hiem y te");
        assert_eq!(fold("  Hộ-tịch,  (trích lục) "), "ho tich trich luc");
        assert_eq!(fold("1.000948.H38"), "1.000948.h38");
        // Decomposed: "Đăng" as D with stroke, a, combining breve, n, g.
        assert_eq!(fold("\u{0110}a\u{0306}ng ky\u{0301}"), "dang ky");
    }

    #[test]
    fn tokens_are_unique_and_bounded() {
        assert_eq!(search_tokens("Khai khai SINH", 8), vec!["khai", "sinh"]);
        assert_eq!(search_tokens("a b c d", 2), vec!["a", "b"]);
        assert!(search_tokens(" %_ ", 8).is_empty());
    }
}
