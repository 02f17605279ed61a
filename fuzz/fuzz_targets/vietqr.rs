//! VietQR payloads: TLV parsing and the CRC check take any text without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = dvc_domain::vietqr::crc_valid(s);
    if let Some(fields) = dvc_domain::vietqr::parse_tlv(s) {
        for (_, value) in fields {
            let _ = dvc_domain::vietqr::parse_tlv(&value);
        }
    }
});
