//! ID numbers, phone numbers, social-insurance and tax codes, e-mail addresses: any text is either
//! accepted or refused with a field error, never a panic; what is accepted parses again the same.
#![no_main]
use dvc_domain::identity::{BhxhCode, CitizenId, Email, PhoneNumber, TaxCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = CitizenId::parse("id_number", s, None);
    let _ = BhxhCode::parse("bhxh_code", s);
    let _ = TaxCode::parse("tax_code", s);
    let _ = Email::parse("email", s);
    if let Ok(phone) = PhoneNumber::parse("phone", s) {
        let again = PhoneNumber::parse("phone", phone.as_str()).expect("a normalised number parses");
        assert_eq!(again.as_str(), phone.as_str());
    }
});
