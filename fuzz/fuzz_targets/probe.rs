//! Run as its instrumented copy, a valid module answers and uses fuel as
//! it does run as it is, and its profile totals that fuel.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roda_fuzz::probed_calls_answer_as_plain_ones(data));
