//! Whatever `abi::validate` calls valid, ledger-core registers and
//! instantiates, or a finding says why not.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roda_fuzz::valid_modules_register_and_instantiate(data));
