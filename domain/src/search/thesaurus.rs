//! The thesaurus: phrases people use for the catalogue's words, and words a query may leave out.
//! It is data (a text the project ships, plus what administrators add), read here.

use serde::{Deserialize, Serialize};

use super::analyze::words;
use crate::catalogue::code_enum;
use crate::text::has_control_chars;
use crate::FieldError;

/// One line of the thesaurus, as written: `a = b | c`, `a => b | c` or `stop: w | w w`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The phrases: for `same`, two or more that mean the same; for `expands`, the one phrase
    /// that also finds the expansions; for `stop`, the words without meaning.
    #[cfg_attr(feature = "openapi", schema(example = json!(["lấy vợ"]), max_items = 50))]
    pub terms: Vec<String>,
    /// What the terms also find: for `=`, each other; for `=>`, these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(example = json!(["kết hôn"]), max_items = 50))]
    pub expansions: Vec<String>,
    pub kind: EntryKind,
}

code_enum! {
    /// What an entry says: its phrases mean the same (`a = b`), its phrase also finds others
    /// (`a => b`), or its words carry no meaning in a query (`stop: a | b`).
    EntryKind { Same = "same", Expands = "expands", Stop = "stop" }
}

/// The thesaurus, made of folded words: each phrase with what it also finds, and the stop words.
#[derive(Debug, Clone, Default)]
pub struct Thesaurus {
    /// (phrase, alternatives), longest phrases first.
    pub rules: Vec<(Vec<String>, Vec<Vec<String>>)>,
    /// Phrases that carry no meaning.
    pub stop: Vec<Vec<String>>,
}

/// Reads the thesaurus's text form; each line that cannot be read is reported with its number.
pub fn parse(text: &str) -> Result<Vec<Entry>, FieldError> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let split = |s: &str| s.split('|').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect::<Vec<_>>();
        let entry = if let Some(rest) = line.strip_prefix("stop:") {
            Entry { terms: split(rest), expansions: vec![], kind: EntryKind::Stop }
        } else if let Some((left, right)) = line.split_once("=>") {
            Entry { terms: split(left), expansions: split(right), kind: EntryKind::Expands }
        } else if let Some((left, right)) = line.split_once('=') {
            let mut terms = split(left);
            terms.extend(split(right));
            Entry { terms, expansions: vec![], kind: EntryKind::Same }
        } else {
            return Err(bad_line(n + 1, line));
        };
        check(&entry).map_err(|_| bad_line(n + 1, line))?;
        entries.push(entry);
    }
    Ok(entries)
}

fn bad_line(n: usize, line: &str) -> FieldError {
    FieldError::new(
        "synonyms",
        "invalid_line",
        format!("Dòng {n} không đúng dạng `a = b`, `a => b` hoặc `stop: a | b`: {line}"),
        format!("Line {n} is not `a = b`, `a => b` or `stop: a | b`: {line}"),
    )
}

/// Checks an entry: phrases with words in them, enough of them for the kind, none too long.
pub fn check(e: &Entry) -> Result<(), FieldError> {
    let phrases = e.terms.iter().chain(&e.expansions);
    let ok = phrases.clone().all(|p| !words(p).is_empty() && p.chars().count() <= 100 && !has_control_chars(p))
        && match e.kind {
            EntryKind::Same => e.terms.len() >= 2,
            EntryKind::Expands => e.terms.len() == 1 && !e.expansions.is_empty(),
            EntryKind::Stop => !e.terms.is_empty() && e.expansions.is_empty(),
        }
        && phrases.count() <= 50;
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "synonyms",
            "invalid_entry",
            "Mỗi mục cần các cụm từ có chữ (tối đa 100 ký tự); `same` cần từ hai cụm, `expands` một cụm và cách hiểu của nó",
            "Each entry needs phrases with words (100 characters at most); `same` needs two or more, `expands` one and what it finds",
        ))
    }
}

impl Thesaurus {
    /// The thesaurus of some entries, folded.
    pub fn of(entries: &[Entry]) -> Self {
        let mut t = Thesaurus::default();
        for e in entries {
            let phrases: Vec<Vec<String>> = e.terms.iter().map(|p| words(p)).collect();
            match e.kind {
                EntryKind::Stop => t.stop.extend(phrases),
                EntryKind::Expands => {
                    let alternatives = e.expansions.iter().map(|p| words(p)).collect();
                    if let Some(term) = phrases.into_iter().next() {
                        t.add(term, alternatives);
                    }
                }
                EntryKind::Same => {
                    for (i, term) in phrases.iter().enumerate() {
                        let others = phrases.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| p.clone());
                        t.add(term.clone(), others.collect());
                    }
                }
            }
        }
        t.rules.sort_by_key(|(term, _)| std::cmp::Reverse(term.len()));
        t.stop.sort_by_key(|p| std::cmp::Reverse(p.len()));
        t
    }

    fn add(&mut self, term: Vec<String>, alternatives: Vec<Vec<String>>) {
        match self.rules.iter_mut().find(|(t, _)| *t == term) {
            Some((_, existing)) => {
                for a in alternatives {
                    if !existing.contains(&a) {
                        existing.push(a);
                    }
                }
            }
            None => self.rules.push((term, alternatives)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_each_kind() {
        let entries =
            parse("# note\n\nGPLX = giấy phép lái xe\nbáo tử => khai tử | tử\nstop: làm | thủ tục\n").unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].kind, EntryKind::Same);
        assert_eq!(entries[0].terms, ["GPLX", "giấy phép lái xe"]);
        assert_eq!(entries[1].kind, EntryKind::Expands);
        assert_eq!(entries[1].expansions, ["khai tử", "tử"]);
        let t = Thesaurus::of(&entries);
        let find = |term: &[&str]| t.rules.iter().find(|(w, _)| w == term).map(|(_, a)| a.clone());
        assert_eq!(find(&["gplx"]), Some(vec![words("giay phep lai xe")]));
        assert_eq!(find(&["giay", "phep", "lai", "xe"]), Some(vec![vec!["gplx".to_string()]]), "`=` works both ways");
        assert_eq!(find(&["khai", "tu"]), None, "`=>` one way only");
        assert_eq!(t.stop, [words("thu tuc"), words("lam")], "longest first");
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = parse("gplx = giấy phép lái xe\nnothing to read here\n").unwrap_err();
        assert!(e.message_en.contains("Line 2"), "{}", e.message_en);
        assert!(parse("a => \n").is_err(), "an expansion is needed");
        assert!(parse("stop:\n").is_err());
        assert!(parse(&format!("a = {}", "x".repeat(101))).is_err());
    }
}
