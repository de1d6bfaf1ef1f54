//! `abi::validate` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| roda_fuzz::validate_is_total(bytes));
