//! See `roda_fuzz::scenario_parser_is_total`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roda_fuzz::scenario_parser_is_total(data));
