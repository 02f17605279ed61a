//! Words as the search compares them: folded (NFC, no marks, lower case, `đ` as `d`), with the
//! spellings Vietnamese writers use interchangeably made one (`ký`/`kí`, `lý`/`lí`, `mỹ`/`mĩ`: `y`
//! after a consonant is `i`), and how far apart two words are for the typo rule.

use crate::text::fold;

/// The words of a text, folded and made canonical.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(' ').map(|w| w.trim_matches('.')).filter(|w| !w.is_empty()).map(canonical).collect()
}

/// The words of a text, each folded and canonical beside its written form (lower case, marks
/// kept), so that a suggestion can show a word as the catalogue writes it.
pub fn written_words(text: &str) -> Vec<(String, String)> {
    crate::text::nfc(text)
        .to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            let folded = fold(w);
            (!folded.is_empty() && !folded.contains(' ')).then(|| (canonical(&folded), w.to_string()))
        })
        .collect()
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// One spelling for the words written with `i` or `y` alike: a `y` that follows a consonant is
/// `i` (`ky` → `ki`, `ly` → `li`, `my` → `mi`, `quy` stays, `thuy` stays, `tay` stays).
pub fn canonical(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    for (i, &c) in chars.iter().enumerate() {
        let after_consonant = i > 0 && chars[i - 1].is_ascii_alphabetic() && !is_vowel(chars[i - 1]);
        // `qu` is a consonant written with a `u`: `quy` keeps its `y`.
        let after_qu = i > 1 && chars[i - 1] == 'u' && chars[i - 2] == 'q';
        if c == 'y' && after_consonant && !after_qu {
            out.push('i');
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `a` and `b` are one typing error apart: a letter missing or doubled (added), or two
/// neighbours swapped.
pub fn one_typo_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    match a.len() as isize - b.len() as isize {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            diff.len() == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]
        }
        1 => deletion_of(&a, &b),
        -1 => deletion_of(&b, &a),
        _ => false,
    }
}

/// Whether `short` is `long` with one letter left out.
fn deletion_of(long: &[char], short: &[char]) -> bool {
    let mut i = 0;
    while i < short.len() && long[i] == short[i] {
        i += 1;
    }
    long[i + 1..] == short[i..]
}

/// The restricted edit distance (insertions, deletions, substitutions, neighbours swapped) of two
/// words, for suggestions of what was meant.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The words one letter shorter than `word` (for finding words one typo away).
pub fn deletions(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len())
        .map(|skip| chars.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| c).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i_and_y_after_a_consonant_are_one() {
        assert_eq!(words("Đăng ký"), words("dang ki"));
        assert_eq!(words("Lý lịch"), words("li lich"));
        assert_eq!(words("Hoa Kỳ, Mỹ"), ["hoa", "ki", "mi"]);
        for kept in ["quy", "thuy", "tay", "y", "uy"] {
            assert_eq!(canonical(kept), kept);
        }
    }

    #[test]
    fn written_forms_stay_beside_their_words() {
        assert_eq!(
            written_words("Đăng ký (tạm trú)"),
            [
                ("dang".into(), "đăng".into()),
                ("ki".into(), "ký".into()),
                ("tam".into(), "tạm".into()),
                ("tru".into(), "trú".into())
            ] as [(String, String); 4]
        );
        // Decomposed input folds like composed.
        assert_eq!(words("\u{0110}a\u{0306}ng ky\u{0301}"), ["dang", "ki"]);
    }

    #[test]
    fn the_typo_rule() {
        assert!(one_typo_apart("sinhh", "sinh"), "a doubled letter");
        assert!(one_typo_apart("doanh", "doah"), "a letter missing");
        assert!(one_typo_apart("nghiep", "ngheip"), "neighbours swapped");
        assert!(!one_typo_apart("nghiep", "nghiep"));
        assert!(!one_typo_apart("nghiep", "nghiap"), "a wrong letter is not among the typos counted");
        assert!(!one_typo_apart("doanh", "doa"));
        assert_eq!(distance("kahi", "khai"), 1);
        assert_eq!(distance("tam", "tram"), 1);
        assert_eq!(distance("xyz", "khai"), 4);
        assert_eq!(deletions("abc"), ["bc", "ac", "ab"]);
    }
}
