//! Dossier codes from paths and lookups: parsed or refused, and what is parsed writes back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Some((agency, day, n)) = dvc_domain::workflow::parse_dossier_code(s) {
        let digits = s.rsplit('-').next().unwrap_or_default().len();
        let again = format!("{agency}-{}-{n:0digits$}", day.format("%y%m%d"));
        assert_eq!(dvc_domain::workflow::parse_dossier_code(&again), Some((agency, day, n)));
    }
});
