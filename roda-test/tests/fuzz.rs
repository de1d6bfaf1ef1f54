//! Invariant fuzzing against real modules: the shrunk case, the scenario to
//! paste, and each invariant.

mod support;

use ledger_core::Status;
use roda_test::{FuzzError, FuzzOptions, FuzzReport, Lint, Runner, ScenarioFile, Violation};

/// A fee transfer that pays the fee account one unit too much when the fee
/// is exactly 77 bps on more than 1000: only the fuzzer finds it.
const SOMETIMES_UNBALANCED: &str = include_str!("../../tests/scenarios/sometimes_unbalanced.wat");

const FUZZ_SCENARIO: &str = include_str!("../../tests/scenarios/fee_fuzz.toml");

fn fuzz(wasm: Vec<u8>, text: &str, cases: u32, seed: u64) -> FuzzReport {
    let file = ScenarioFile::from_str(text, "fuzz.toml").unwrap();
    Runner::new(wasm, "f").fuzz(&file, &file.scenarios[0], FuzzOptions::new(cases, seed)).unwrap()
}

#[test]
fn finds_shrinks_and_writes_a_reproducing_scenario() {
    let wasm = wat::parse_str(SOMETIMES_UNBALANCED).unwrap();
    let report = fuzz(wasm.clone(), FUZZ_SCENARIO, 20_000, 42);
    let failure = report.failure.as_ref().expect("the bug is found");
    assert_eq!(failure.reason, Violation::ZeroSum);
    // Shrunk: the smallest amount over 1000 and the first account of each set.
    assert_eq!(failure.params, [101, 202, 999, 1001, 77]);
    assert_eq!(failure.status, Status::ZERO_SUM_VIOLATION);
    assert_eq!((report.scenario.as_str(), report.seed), ("fee transfer", 42));

    // The case pastes into a scenario file and reproduces the status.
    let pasted = ScenarioFile::from_str(&format!("version = 1\n{}", failure.scenario), "repro.toml").unwrap();
    let replay = Runner::new(wasm, "f").run_file(&pasted);
    assert!(replay.passed(), "{replay}");
    assert_eq!(replay.scenarios[0].steps[0].status, Status::ZERO_SUM_VIOLATION);
}

#[test]
fn the_same_seed_finds_the_same_case() {
    let wasm = wat::parse_str(SOMETIMES_UNBALANCED).unwrap();
    let first = fuzz(wasm.clone(), FUZZ_SCENARIO, 20_000, 7).failure;
    assert_eq!(first, fuzz(wasm, FUZZ_SCENARIO, 20_000, 7).failure);
}

/// Workers take the cases in chunks, each from a seed derived from the
/// run's, and the earliest chunk's case wins: one thread or four, the same
/// case, shrunk the same way.
#[test]
fn the_case_found_does_not_depend_on_the_number_of_jobs() {
    let wasm = wat::parse_str(SOMETIMES_UNBALANCED).unwrap();
    let file = ScenarioFile::from_str(FUZZ_SCENARIO, "fuzz.toml").unwrap();
    let runner = Runner::new(wasm, "f");
    let with = |jobs: usize| {
        let options = FuzzOptions { jobs: jobs.try_into().unwrap(), ..FuzzOptions::new(20_000, 7) };
        runner.fuzz(&file, &file.scenarios[0], options).unwrap()
    };
    let alone = with(1);
    assert!(alone.failure.is_some(), "the bug is found");
    for jobs in [2, 4] {
        assert_eq!(with(jobs).failure, alone.failure, "{jobs} jobs");
    }
    let passing = ScenarioFile::from_str(FUZZ_SCENARIO, "fuzz.toml").unwrap();
    let runner = Runner::new(support::fee_transfer(), "f");
    let options = FuzzOptions { jobs: 3.try_into().unwrap(), ..FuzzOptions::new(5000, 1) };
    let report = runner.fuzz(&passing, &passing.scenarios[0], options).unwrap();
    assert_eq!((report.failure, report.executions), (None, 5000), "every case runs once, across the workers");
}

#[test]
fn a_correct_function_passes() {
    let report = fuzz(support::fee_transfer(), FUZZ_SCENARIO, 3000, 1);
    assert_eq!(report.failure, None);
    assert!(report.executions >= 3000);
}

/// A transfer that takes its amount as a `u64`: `-5` moves 5 the other
/// way. Its fuzz range starts at 0, as authors' ranges do; the edge values
/// mixed into every range find the hole, unless the range is `exact`.
#[test]
fn edge_values_find_a_negative_amount_outside_the_range() {
    let body = "(call $credit (local.get 0) (local.get 2)) (call $debit (local.get 1) (local.get 2)) i32.const 0";
    let wasm = support::function("", body);
    let section = |exact: &str| {
        format!(
            "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = [{{ accounts = [1] }}, {{ accounts = [2] }}, {{ range = [0, 100]{exact} }}]\nbalances = {{ accounts = [1], range = [0, 100] }}\nnever_negative = [2]\n"
        )
    };
    let failure = fuzz(wasm.clone(), &section(""), 2000, 5).failure.expect("an edge value finds it");
    assert!(failure.params[2] < 0, "a negative amount: {failure:?}");
    assert!(failure.scenario.contains(&format!("params = [1, 2, {}]", failure.params[2])), "{}", failure.scenario);
    assert_eq!(fuzz(wasm, &section(", exact = true"), 2000, 5).failure, None, "inside the range it is fine");
}

/// Without an `allowed` list, a status the ledger imposed (here 6, for an
/// account out of range) is still a failure.
#[test]
fn without_allowed_a_status_the_ledger_imposed_fails() {
    let body = "(call $credit (local.get 0) (i64.const 1)) (call $debit (local.get 1) (i64.const 1)) i32.const 0";
    let text = "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = [{ accounts = [1, 2] }, { accounts = [3, 2000000] }]\n";
    let failure = fuzz(support::function("", body), text, 2000, 3).failure.unwrap();
    assert_eq!(failure.reason, Violation::ImposedByLedger { status: Status::ACCOUNT_LIMIT_EXCEEDED, returned: 0 });
    assert!(failure.reason.to_string().contains("ACCOUNT_LIMIT_EXCEEDED"));
    assert_eq!(failure.params, [1, 2000000]);
}

#[test]
fn a_status_outside_allowed_fails() {
    let text = "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = []\nallowed = [\"NONE\"]\n";
    let failure = fuzz(support::function("", "i32.const 200"), text, 100, 1).failure.unwrap();
    assert_eq!(failure.reason, Violation::NotAllowed { status: Status::from_code(200), allowed: vec![Status::NONE] });
}

#[test]
fn a_negative_balance_fails() {
    let body = "(call $credit (local.get 0) (i64.const 10)) (call $debit (i64.const 9) (i64.const 10)) i32.const 0";
    let text = "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = [{ accounts = [5] }]\nbalances = { accounts = [5], range = [0, 100] }\nnever_negative = [5]\n";
    let failure = fuzz(support::function("", body), text, 1000, 1).failure.unwrap();
    assert_eq!(failure.reason, Violation::Negative { account: 5, balance: -10 });
    assert_eq!(failure.balances.get(&5), Some(&0), "shrunk to the lowest starting balance");
}

#[test]
fn lints_are_fuzz_failures_with_the_same_wording() {
    let text = "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = []\n";
    let file = ScenarioFile::from_str(text, "fuzz.toml").unwrap();
    let runner = Runner::new(support::function("", "(loop br 0) i32.const 0"), "f")
        .with_limits(ledger_core::Limits { fuel_per_call: 10_000, ..Default::default() });
    let failure = runner.fuzz(&file, &file.scenarios[0], FuzzOptions::new(10, 1)).unwrap().failure.unwrap();
    let Violation::Lint(lint @ Lint::OutOfFuel { .. }) = failure.reason else { panic!("{failure:?}") };
    assert_eq!(failure.reason.to_string(), format!("lint[out-of-fuel]: {lint}"));
}

#[test]
fn a_trap_fails() {
    let text = "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = []\n";
    let failure = fuzz(support::function("", "unreachable"), text, 10, 1).failure.unwrap();
    assert!(matches!(failure.reason, Violation::DidNotReturn(_)), "{failure:?}");
}

#[test]
fn a_scenario_without_a_fuzz_table_is_an_error() {
    let file = ScenarioFile::from_str("version = 1\n[[scenario]]\nname = \"s\"\n", "fuzz.toml").unwrap();
    let error = Runner::new(support::fee_transfer(), "f").fuzz(&file, &file.scenarios[0], FuzzOptions::new(1, 1));
    assert!(matches!(&error, Err(FuzzError::NoFuzzTable { scenario }) if scenario == "s"), "{error:?}");
}

#[test]
fn a_function_the_ledger_refuses_is_a_setup_error() {
    let file = ScenarioFile::from_str(FUZZ_SCENARIO, "fuzz.toml").unwrap();
    let error = Runner::new(b"\0asm".to_vec(), "f").fuzz(&file, &file.scenarios[0], FuzzOptions::new(1, 1));
    assert!(matches!(error, Err(FuzzError::Setup(_))), "{error:?}");
}
