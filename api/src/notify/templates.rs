//! The texts of messages, per purpose and language, kept as data in `api/notify/templates.json`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use dvc_domain::notify::{fill, Language, Purpose};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Text {
    subject: String,
    text: String,
}

type Table = BTreeMap<String, BTreeMap<String, Text>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../notify/templates.json")).expect("templates.json is valid")
    })
}

/// The subject and text of a message, filled from `params`; Vietnamese when a language lacks it.
pub fn write(purpose: Purpose, language: Language, params: &BTreeMap<String, String>) -> (String, String) {
    let by_language = &table()[purpose.as_str()];
    let t = by_language.get(language.as_str()).unwrap_or(&by_language["vi"]);
    (fill(&t.subject, params), fill(&t.text, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_has_both_languages_and_fills_its_placeholders() {
        let params: BTreeMap<String, String> = [
            ("otp", "123456"),
            ("code", "G01-261203-0001"),
            ("procedure", "Đăng ký khai sinh"),
            ("deadline", "10/12/2026"),
            ("missing", "Tờ khai"),
            ("reason", "Thiếu giấy tờ"),
            ("phone", "+84******321"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        for &purpose in Purpose::ALL {
            for &language in Language::ALL {
                assert!(table()[purpose.as_str()].contains_key(language.as_str()), "{purpose:?} {language:?}");
                let (subject, text) = write(purpose, language, &params);
                assert!(!subject.contains('{') && !text.contains('{'), "{purpose:?} {language:?}: {subject} / {text}");
            }
        }
    }
}
