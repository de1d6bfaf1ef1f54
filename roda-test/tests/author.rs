//! What a function author writes in their own crate's `cargo test`: load
//! the project's `tests/*.toml`, run them against the built `.wasm`, assert.

mod support;

use roda_test::{Runner, ScenarioFile};

/// A function crate as `cargo roda new` lays it out: the built module and
/// the scenario files beside it.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("build")).unwrap();
    std::fs::write(dir.path().join("build/function.wasm"), support::fee_transfer()).unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    let template = include_str!("../../cargo-roda/templates/scenario.toml.tmpl").replace("{{name}}", "fee_transfer");
    std::fs::write(dir.path().join("tests/fee_transfer.toml"), template).unwrap();
    std::fs::write(
        dir.path().join("tests/builtins.toml"),
        "version = 1\n[[scenario]]\nname = \"deposit\"\nsteps = [{ deposit = { account = 7, amount = 3 }, balances = { 7 = 3 } }]\n",
    )
    .unwrap();
    dir
}

#[test]
fn every_scenario_in_tests_passes_against_the_built_wasm() {
    let project = project();
    let root = project.path();

    // This is the whole test a function author writes.
    let runner = Runner::from_path(root.join("build/function.wasm"), "fee_transfer").unwrap();
    for file in ScenarioFile::from_dir(root.join("tests")).unwrap() {
        let report = runner.run_file(&file);
        assert!(report.passed(), "{report}");
    }
}

#[test]
fn a_failing_scenario_fails_the_authors_test_with_the_report() {
    let project = project();
    let root = project.path();
    std::fs::write(root.join("build/function.wasm"), support::function("", "i32.const 1")).unwrap();
    let runner = Runner::from_path(root.join("build/function.wasm"), "fee_transfer").unwrap();
    let files = ScenarioFile::from_dir(root.join("tests")).unwrap();
    let names: Vec<_> = files.iter().map(|f| f.origin.file_name().unwrap().to_owned()).collect();
    assert_eq!(names, ["builtins.toml", "fee_transfer.toml"], "in name order");
    let report = runner.run_file(&files[1]);
    assert!(!report.passed());
    let text = report.to_string();
    assert!(text.contains("FAIL fee transfer moves the amount and the fee"), "{text}");
    assert!(text.contains("expected status NONE (0), got INSUFFICIENT_FUNDS (1)"), "{text}");
}

#[test]
fn a_missing_module_is_a_typed_error() {
    let error = Runner::from_path("no/such/function.wasm", "f").unwrap_err();
    assert!(matches!(error, roda_test::fs::LoadError::Read { .. }), "{error:?}");
}
