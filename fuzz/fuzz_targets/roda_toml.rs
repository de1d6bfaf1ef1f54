//! See `roda_fuzz::roda_toml_is_total`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roda_fuzz::roda_toml_is_total(data));
