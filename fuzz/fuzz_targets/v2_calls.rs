//! v2 through wasm: whatever `validate_for(V2)` calls valid registers, and
//! every call commits balanced entries or fails leaving no trace (unless it
//! reports the inexact-rollback hazard).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roda_fuzz::v2_calls_keep_the_invariants(data));
