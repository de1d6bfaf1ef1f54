//! Replays the fuzz targets' kept corpus (`fuzz/corpus/<target>/`) through
//! the same properties the targets check (`fuzz/src/lib.rs`), on stable and
//! in seconds: what fuzzing found once stays fixed.
//!
//! Fuzzing itself needs nightly and cargo-fuzz:
//! `cd fuzz && cargo +nightly fuzz run validate -- -max_total_time=600`.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod properties;

use std::path::Path;

/// Runs `property` on every file of `fuzz/corpus/<target>`; returns how many.
fn replay(target: &str, property: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| property(&input));
        assert!(outcome.is_ok(), "{target}: {} fails the property", path.display());
        count += 1;
    }
    count
}

#[test]
fn validate_corpus() {
    assert!(replay("validate", properties::validate_is_total) > 0, "the corpus is kept in the repository");
}

#[test]
fn scenario_corpus() {
    assert!(replay("scenario", properties::scenario_parser_is_total) > 0, "the corpus is kept in the repository");
}

#[test]
fn store_log_corpus() {
    assert!(replay("store_log", properties::store_opens_any_log) > 0, "the corpus is kept in the repository");
}

#[test]
fn roda_toml_corpus() {
    assert!(replay("roda_toml", properties::roda_toml_is_total) > 0, "the corpus is kept in the repository");
}

#[test]
fn validate_then_run_corpus() {
    assert!(
        replay("validate_then_run", properties::valid_modules_register_and_instantiate) > 0,
        "the corpus is kept in the repository"
    );
}

#[test]
fn v2_calls_corpus() {
    assert!(replay("v2_calls", properties::v2_calls_keep_the_invariants) > 0, "the corpus is kept in the repository");
}

/// The modules of the `validate_then_run` corpus, run as their instrumented
/// copies.
#[test]
fn probe_corpus() {
    assert!(
        replay("validate_then_run", properties::probed_calls_answer_as_plain_ones) > 0,
        "the corpus is kept in the repository"
    );
}
