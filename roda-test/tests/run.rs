//! Scenarios run against real modules: typed step results, mismatches with
//! expected and actual values, lints and setup errors.

mod support;

use ledger_core::{CallOutcome, Status, TrapCode};
use roda_test::model::{EntryKind, EntryValue};
use roda_test::{Action, Lint, Mismatch, Runner, ScenarioFile, SetupError};

/// Several steps of the seed's fee transfer, built-ins included.
const FEE_SCENARIOS: &str = include_str!("../../tests/scenarios/fee_steps.toml");

fn fee_runner() -> Runner {
    Runner::new(support::fee_transfer(), "fee_transfer")
}

#[test]
fn the_seed_fee_transfer_passes_every_step() {
    let file = ScenarioFile::from_str(FEE_SCENARIOS, "fee.toml").unwrap();
    let report = fee_runner().run_file(&file);
    assert!(report.passed(), "{report}");
    let steps = &report.scenarios[0].steps;
    let statuses: Vec<Status> = steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            Status::NONE,
            Status::INSUFFICIENT_FUNDS,
            Status::NONE,
            Status::DUPLICATE,
            Status::NONE,
            Status::INSUFFICIENT_FUNDS,
            Status::NONE
        ]
    );
    assert_eq!((&steps[2].operation, steps[2].user_ref), (&Action::Deposit { account: 101, amount: 100 }, 9));
    assert_eq!(steps[2].fuel, None, "built-ins use no fuel");
    assert!(steps[0].fuel.is_some_and(|f| f > 0));
    assert!(steps.iter().all(|s| s.lints.is_empty() && s.mismatches.is_empty() && s.outcome.is_none()));
    assert_eq!(report.scenarios[0].fuel(), steps.iter().filter_map(|s| s.fuel).sum::<u64>());
}

#[test]
fn a_failed_step_reports_each_mismatch_with_expected_and_actual() {
    let text = r#"version = 1
[[scenario]]
name = "wrong expectations"
balances = { 101 = 100 }
steps = [
  { call = "f", params = [101, 202, 999, 50, 100] },
  { call = "f", params = [101, 202, 999, 50, 100], expect = "INSUFFICIENT_FUNDS", balances = { 101 = 1, 202 = 50 },
    entries = [{ account = 101, amount = 1, kind = "credit" }] },
  { deposit = { account = 1, amount = 1 } },
]
"#;
    let file = ScenarioFile::from_str(text, "f.toml").unwrap();
    let report = Runner::new(support::fee_transfer(), "f").run(&file, &file.scenarios[0]);
    assert!(!report.passed());
    assert_eq!(report.steps.len(), 2, "the scenario stops at the failed step");
    let failed = report.failed_step().unwrap();
    assert_eq!((failed.step, failed.line, failed.status), (2, 7, Status::NONE));
    let [status, balance_101, balance_202, Mismatch::Entries { expected, actual }] = &failed.mismatches[..] else {
        panic!("{:?}", failed.mismatches)
    };
    assert_eq!(*status, Mismatch::Status { expected: Status::INSUFFICIENT_FUNDS, actual: Status::NONE });
    assert_eq!(*balance_101, Mismatch::Balance { account: 101, expected: 1, actual: 0 });
    assert_eq!(*balance_202, Mismatch::Balance { account: 202, expected: 50, actual: 100 });
    assert_eq!(*expected, [EntryValue { account: 101, amount: 1, kind: EntryKind::Credit, balance: None }]);
    assert_eq!(actual[0], EntryValue { account: 101, amount: 50, kind: EntryKind::Credit, balance: Some(0) });
    let text = report.to_string();
    assert!(text.starts_with("  FAIL wrong expectations (2 step(s), 92 fuel)\n"), "{text}");
    assert!(text.contains("expected status INSUFFICIENT_FUNDS (1), got NONE (0)"), "{text}");
    assert!(
        text.contains("expected entries: [credit 101 1]\n         actual entries:   [credit 101 50 (balance 0), "),
        "{text}"
    );
}

#[test]
fn entries_compare_exactly_with_the_balances_they_left() {
    let text = r#"version = 1
[[scenario]]
name = "s"
balances = { 101 = 20000 }
steps = [{ call = "f", params = [101, 202, 999, 10000, 50],
  entries = [{ account = 101, amount = 10050, kind = "credit", balance = 1 }, { account = 202, amount = 10000, kind = "debit" }, { account = 999, amount = 50, kind = "debit" }] }]
"#;
    let file = ScenarioFile::from_str(text, "f.toml").unwrap();
    let report = Runner::new(support::fee_transfer(), "f").run(&file, &file.scenarios[0]);
    let Mismatch::Entries { actual, .. } = &report.steps[0].mismatches[0] else { panic!("{report:?}") };
    assert_eq!(actual[0], EntryValue { account: 101, amount: 10050, kind: EntryKind::Credit, balance: Some(9950) });
    assert_eq!(actual[0].to_string(), "credit 101 10050 (balance 9950)");
}

/// The lints of a one-step scenario calling `wasm` with `params`.
fn lints_of(wasm: Vec<u8>, steps: &str, fuel: u64) -> Vec<Lint> {
    let file =
        ScenarioFile::from_str(&format!("version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{steps}]\n"), "l.toml")
            .unwrap();
    let report = Runner::new(wasm, "f")
        .with_limits(ledger_core::Limits { fuel_per_call: fuel, ..Default::default() })
        .run(&file, &file.scenarios[0]);
    assert!(!report.passed(), "a lint fails the scenario");
    report.steps.iter().flat_map(|s| s.lints.clone()).collect()
}

#[test]
fn lint_out_of_fuel() {
    let lints = lints_of(support::function("", "(loop br 0) i32.const 0"), "{ call = \"f\", expect = 5 }", 100_000);
    assert!(matches!(lints[..], [Lint::OutOfFuel { fuel_used }] if fuel_used >= 100_000), "{lints:?}");
    assert_eq!(lints[0].code(), "out-of-fuel");
    assert!(lints[0].to_string().contains("the server has no time limit"));
}

#[test]
fn lint_status_out_of_range() {
    let body = "(call $credit (i64.const 1) (i64.const 5)) (call $debit (i64.const 2) (i64.const 5)) i32.const 256";
    let lints = lints_of(support::function("", body), "{ call = \"f\" }", 1_000_000);
    assert_eq!(lints, [Lint::StatusOutOfRange { returned: 256 }]);
    assert!(lints[0].to_string().contains("256 commits"));
}

#[test]
fn lint_reserved_status() {
    let lints = lints_of(support::function("", "i32.const 42"), "{ call = \"f\", expect = 42 }", 1_000_000);
    assert_eq!(lints, [Lint::ReservedStatus { returned: 42 }]);
}

#[test]
fn lint_carried_state_on_the_second_call_only() {
    let counter = support::function(
        "(global $n (mut i64) (i64.const 0))",
        "(global.set $n (i64.add (global.get $n) (i64.const 1))) (call $credit (i64.const 1) (global.get $n)) (call $debit (i64.const 2) (global.get $n)) i32.const 0",
    );
    let lints = lints_of(counter, "{ call = \"f\" }, { call = \"f\" }", 1_000_000);
    assert_eq!(lints, [Lint::CarriedState]);
}

#[test]
fn lint_wrapped_amount() {
    let body = "(call $credit (local.get 0) (local.get 2)) (call $debit (local.get 1) (local.get 2)) i32.const 0";
    let lints = lints_of(support::function("", body), "{ call = \"f\", params = [1, 2, -1] }", 1_000_000);
    assert_eq!(lints, [Lint::WrappedAmount]);
    assert_eq!(serde_json::to_value(lints[0]).unwrap()["code"], "wrapped-amount");
}

#[test]
fn lint_memory_guard() {
    let body = "(drop (memory.grow (i32.const 32))) i32.const 0";
    let file = ScenarioFile::from_str(
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expect = 5 }]\n",
        "l.toml",
    )
    .unwrap();
    let limits = ledger_core::Limits { max_memory_bytes: 1 << 20, ..Default::default() };
    let report =
        Runner::new(support::function("(memory 1)", body), "f").with_limits(limits).run(&file, &file.scenarios[0]);
    let lints: Vec<Lint> = report.steps.iter().flat_map(|s| s.lints.clone()).collect();
    assert_eq!(lints, [Lint::MemoryGuard { requested_bytes: 33 << 16, limit_bytes: 1 << 20 }]);
    assert!(lints[0].to_string().contains("a server has no limit"), "{}", lints[0]);
}

#[test]
fn lint_start_moves_on_the_call_that_instantiates() {
    let start = "(func $init (call $credit (i64.const 1) (i64.const 5)) (call $debit (i64.const 2) (i64.const 5))) (start $init)";
    let lints = lints_of(support::function(start, "i32.const 0"), "{ call = \"f\" }, { call = \"f\" }", 1_000_000);
    assert_eq!(lints, [Lint::StartMoves { moves: 2 }], "the second call reuses the instance");
    assert_eq!(lints[0].code(), "start-moves");
}

#[test]
fn a_trap_is_the_step_outcome() {
    let file = ScenarioFile::from_str(
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expect = \"INVALID_OPERATION\" }]\n",
        "t.toml",
    )
    .unwrap();
    let report = Runner::new(support::function("", "unreachable"), "f").run(&file, &file.scenarios[0]);
    assert!(report.passed(), "the trap was expected: {report}");
    assert_eq!(report.steps[0].outcome, Some(CallOutcome::Trapped(TrapCode::Unreachable)));
}

#[test]
fn a_helper_may_not_replace_the_function_under_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.wat"), support::FEE_TRANSFER_WAT).unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, "version = 1\nfunctions = { f = \"f.wat\" }\n[[scenario]]\nname = \"s\"\n").unwrap();
    let file = ScenarioFile::from_path(&path).unwrap();
    let report = Runner::new(support::fee_transfer(), "f").run(&file, &file.scenarios[0]);
    assert!(!report.passed());
    assert_eq!(report.error, Some(SetupError::HelperNamedLikeSubject { origin: path, name: "f".into() }));
    assert!(report.to_string().contains("the name of the function under test"));
}

#[test]
fn a_helper_function_is_called_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fee.wat"), support::FEE_TRANSFER_WAT).unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "version = 1\nfunctions = { fee = \"fee.wat\" }\n[[scenario]]\nname = \"s\"\nbalances = { 1 = 100 }\nsteps = [{ call = \"fee\", params = [1, 2, 3, 50, 0], balances = { 2 = 50 } }, { call = \"f\" }]\n",
    )
    .unwrap();
    let file = ScenarioFile::from_path(&path).unwrap();
    let report = Runner::new(support::function("", "i32.const 0"), "f").run_file(&file);
    assert!(report.passed(), "{report}");
}

#[test]
fn a_function_the_ledger_refuses_is_a_setup_error() {
    let file = ScenarioFile::from_str("version = 1\n[[scenario]]\nname = \"s\"\n", "s.toml").unwrap();
    let report = Runner::new(b"not wasm".to_vec(), "f").run(&file, &file.scenarios[0]);
    assert!(matches!(&report.error, Some(SetupError::Register { name, .. }) if name == "f"), "{report:?}");
    let report = Runner::new(support::fee_transfer(), "not a name!").run(&file, &file.scenarios[0]);
    assert!(matches!(report.error, Some(SetupError::Register { .. })), "{report:?}");
}

#[test]
fn a_call_to_an_unregistered_name_fails_its_step() {
    let file =
        ScenarioFile::from_str("version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"fee\" }]\n", "s.toml")
            .unwrap();
    let report = Runner::new(support::fee_transfer(), "other").run(&file, &file.scenarios[0]);
    assert_eq!(report.steps[0].outcome, Some(CallOutcome::UnknownFunction));
    assert!(matches!(report.steps[0].mismatches[..], [Mismatch::Status { actual: Status::INVALID_OPERATION, .. }]));
}

#[test]
fn reports_serialise_statuses_and_operations_by_name() {
    let file = ScenarioFile::from_str(FEE_SCENARIOS, "fee.toml").unwrap();
    let json = serde_json::to_value(fee_runner().run_file(&file)).unwrap();
    assert_eq!(json["path"], "fee.toml");
    let step = &json["scenarios"][0]["steps"][1];
    assert_eq!(step["status"], "INSUFFICIENT_FUNDS");
    assert_eq!(step["operation"], "call fee_transfer(101, 202, 999, 10000, 50)");
    assert_eq!(step["lints"], serde_json::json!([]));
}
