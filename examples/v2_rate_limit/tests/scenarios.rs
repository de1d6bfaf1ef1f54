//! The scenarios in `tests/*.toml`, run against the built `.wasm` in an
//! in-process ledger with a server's semantics: what `cargo roda test`
//! does, from `cargo test`, through the roda-test library.
//!
//! Build the function first (`cargo roda build`), then `cargo test`.

use std::path::{Path, PathBuf};

use roda_test::{Runner, ScenarioFile};

/// Where `cargo roda build` leaves the release `.wasm`.
fn built_wasm() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("wasm32-unknown-unknown/release/rate_limit.wasm")
}

#[test]
fn scenarios_pass_against_the_built_wasm() {
    let runner = Runner::from_path(built_wasm(), "rate_limit")
        .unwrap_or_else(|e| panic!("{e}; build the function first with `cargo roda build`"))
        .with_profile(&roda_test::abi::V2);
    // Read with the module's interface manifest: `params` by name, and
    // statuses by the function's own names.
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let files = ScenarioFile::from_dir_with(tests, &runner.interfaces()).unwrap_or_else(|e| panic!("{e}"));
    for file in files {
        let report = runner.run_file(&file);
        assert!(report.passed(), "{report}");
    }
}
