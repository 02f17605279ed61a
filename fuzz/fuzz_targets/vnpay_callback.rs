//! Signed gateway callbacks: any query string is verified without panicking, and a forged one is
//! refused; the same parameters signed with the secret are accepted.
#![no_main]
use std::collections::BTreeMap;

use dvc_domain::payment::vnpay::{sign, verify};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-0123456789";

fuzz_target!(|data: &[u8]| {
    let mut params: BTreeMap<String, String> =
        form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let claimed = params.get("vnp_SecureHash").cloned();
    let valid = verify(SECRET, &params);
    let signature = sign(SECRET, &params);
    if valid {
        assert_eq!(claimed.map(|c| c.to_ascii_lowercase()), Some(signature.clone()), "only the real signature verifies");
    }
    params.insert("vnp_SecureHash".into(), signature);
    assert!(verify(SECRET, &params), "a correctly signed callback verifies");
});
