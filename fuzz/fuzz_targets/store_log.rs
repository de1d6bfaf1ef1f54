//! See `roda_fuzz::store_opens_any_log`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roda_fuzz::store_opens_any_log(data));
