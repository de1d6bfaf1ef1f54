//! Scenario format version 2 on ABI v2: accounts opened by name, flags, KV,
//! links and records, set and checked; what it refuses; v2 fuzzing.

use ledger_core::Status;
use ledger_core::abi::{V1, V2};
use roda_test::fuzz::Violation;
use roda_test::{FuzzOptions, Lint, Mismatch, Problem, Runner, ScenarioError, ScenarioFile, SetupError};

/// `execute(mode, a, b, amount, x)`: 0 counts calls of `a` in KV under the
/// constant `counter` and moves `amount` from `a` to 0; 1 holds `amount` of
/// `a` in its linked account (type 1); 2 sets lane 1 of `a` to `x`; 3 sets
/// lane 1 twice (to 5, then 6) and fails with 200.
const RULES: &str = r#"
(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (import "ledger" "linked_account" (func $linked (param i64 i32) (result i64)))
  (import "ledger" "set_flag" (func $set_flag (param i64 i32 i32)))
  (import "ledger" "kv_get" (func $get (param i32 i32 i32 i32) (result i64)))
  (import "ledger" "kv_set" (func $set (param i32 i32 i32 i32 i64)))
  (import "ledger" "kv_register_constant" (func $define (param i32)))
  (import "ledger" "kv_get_constant" (func $constant (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "counter\00")
  (func (export "register") (call $define (i32.const 16)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (local $c i32)
    (if (i64.eq (local.get 0) (i64.const 0)) (then
      (local.set $c (call $constant (i32.const 16)))
      (call $set (local.get $c) (i32.wrap_i64 (local.get 1)) (i32.const 0) (i32.const 0)
        (i64.add (call $get (local.get $c) (i32.wrap_i64 (local.get 1)) (i32.const 0) (i32.const 0)) (i64.const 1)))
      (call $credit (local.get 1) (local.get 3))
      (call $debit (i64.const 0) (local.get 3))
      (return (i32.const 0))))
    (if (i64.eq (local.get 0) (i64.const 1)) (then
      (call $credit (local.get 1) (local.get 3))
      (call $debit (call $linked (local.get 1) (i32.const 1)) (local.get 3))
      (return (i32.const 0))))
    (if (i64.eq (local.get 0) (i64.const 2)) (then
      (call $set_flag (local.get 1) (i32.const 1) (i32.wrap_i64 (local.get 4)))
      (return (i32.const 0))))
    (call $set_flag (local.get 1) (i32.const 1) (i32.const 5))
    (call $set_flag (local.get 1) (i32.const 1) (i32.const 6))
    (i32.const 200)))
"#;

fn runner() -> Runner {
    Runner::new(wat::parse_str(RULES).unwrap(), "rules").with_profile(&V2)
}

fn file(text: &str) -> ScenarioFile {
    ScenarioFile::from_str(text, "v2.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn refuse(text: &str) -> String {
    ScenarioFile::from_str(text, "v2.toml").expect_err("refused").to_string()
}

const PASSING: &str = r#"
version = 2

[[scenario]]
name = "a counter, an escrow and a flag"
open = ["alice", "bob"]
balances = { alice = 100 }
flags = { bob = { 2 = 9 } }
kv = { "counter/bob" = 41 }
steps = [
  { call = "rules", params = [0, "alice", 0, 10], kv = { "counter/alice" = 1, "counter/bob" = 41 }, balances = { alice = 90, 0 = 10 }, records = [
      "kv counter/1/0/0 = 1", "credit 1 10 (balance 90)", "debit 0 10 (balance 10)",
  ] },
  { call = "rules", params = [0, "bob", 0, 1], kv = { "counter/bob" = 42 } },
  { call = "rules", params = [1, "alice", 0, 30], links = { alice = { 1 = 3 } }, balances = { alice = 60, 3 = 30 }, records = [
      "credit 1 30 (balance 60)", "open 3 x1 (flags 0x2)", "link 1 type 1 -> 3", "debit 3 30 (balance 30)",
  ] },
  { call = "rules", params = [2, "alice", 0, 0, 1], flags = { alice = { 0 = 1, 1 = 1 }, bob = { 2 = 9 } }, records = ["flags 1: 0x1 -> 0x101"] },
  { call = "rules", params = [0, 50, 0, 1], expect = "ACCOUNT_NOT_FOUND", records = [] },
  { open = 2, records = ["open 4 x2 (flags 0x1)"] },
  { deposit = { account = 4, amount = 7 }, balances = { 4 = 7 } },
  { deposit = { account = 3, amount = 1 }, expect = "ACCOUNT_NOT_FOUND" },
]
"#;

#[test]
fn a_version_2_scenario_sets_and_checks_accounts_flags_kv_links_and_records() {
    let report = runner().run_file(&file(PASSING));
    assert!(report.passed(), "{report}");
    assert_eq!(report.scenarios[0].steps.len(), 8);
}

#[test]
fn each_v2_expectation_reports_what_it_found() {
    let text = r#"
version = 2
[[scenario]]
name = "wrong"
open = ["alice"]
steps = [
  { call = "rules", params = [1, "alice", 0, 0], kv = { "counter/alice" = 3, "nope/1" = 1 }, flags = { alice = { 1 = 4 } }, links = { alice = { 1 = 9, 2 = 9 } }, records = ["debit 0 1"] },
]
"#;
    let report = runner().run_file(&file(text));
    let step = report.scenarios[0].failed_step().expect("a failed step");
    let kinds: Vec<&Mismatch> = step.mismatches.iter().collect();
    assert!(kinds.contains(&&Mismatch::Kv { key: "counter/1/0/0".into(), expected: 3, actual: 0 }), "{kinds:?}");
    assert!(kinds.contains(&&Mismatch::UnknownConstant { key: "nope/1/0/0".into(), name: "nope".into() }));
    assert!(kinds.contains(&&Mismatch::Flag { account: 1, lane: 1, expected: 4, actual: 0 }));
    assert!(kinds.contains(&&Mismatch::Link { parent: 1, link_type: 1, expected: 9, actual: Some(2) }));
    assert!(kinds.contains(&&Mismatch::Link { parent: 1, link_type: 2, expected: 9, actual: None }));
    assert!(kinds.iter().any(|m| matches!(m, Mismatch::Records { actual, .. } if actual.len() == 4)));
    let text = report.to_string();
    for line in [
        "kv counter/1/0/0: expected 3, got 0",
        "kv nope/1/0/0: no constant is named `nope`",
        "account 1 (alice) lane 1: expected 4, got 0",
        "link 1 (alice) type 2: expected account 9, none",
        "expected records: [debit 0 1]",
        "actual records:   [credit 1 0 (balance 0), open 2 x1 (flags 0x2), link 1 type 1 -> 2, debit 2 0 (balance 0)]",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
}

#[test]
fn a_v2_scenario_on_a_v1_runner_says_how_to_switch() {
    let report = runner().with_profile(&V1).run_file(&file(PASSING));
    let error = report.scenarios[0].error.as_ref().expect("refused");
    assert!(matches!(error, SetupError::NeedsV2 { profile: "v1", .. }), "{error:?}");
    assert!(error.to_string().contains("abi = \"v2\""), "{error}");
}

#[test]
fn a_starting_key_with_an_unknown_constant_is_refused_before_any_step() {
    let text = "version = 2\n[[scenario]]\nname = \"s\"\nkv = { \"nope/1\" = 1 }\nsteps = [{ open = 1 }]\n";
    let report = runner().run_file(&file(text));
    let error = report.scenarios[0].error.as_ref().expect("refused");
    assert_eq!(error, &SetupError::UnknownConstant { key: "nope/1/0/0".into(), name: "nope".into() });
    assert!(report.scenarios[0].steps.is_empty());
}

#[test]
fn version_1_files_cannot_use_version_2_keys() {
    for (body, key) in [
        ("open = [\"a\"]\nsteps = []", "open"),
        ("steps = [{ open = 1 }]", "open"),
        ("steps = [{ call = \"f\", params = [\"a\"] }]", "an account name in params"),
        ("steps = [{ call = \"f\", records = [] }]", "records"),
        ("kv = { \"a\" = 1 }\nsteps = []", "kv"),
        ("accounts = { treasury = 17 }", "accounts"),
    ] {
        let message = refuse(&format!("version = 1\n[[scenario]]\nname = \"s\"\n{body}\n"));
        assert!(message.contains(&format!("`{key}` is format version 2")), "{body}: {message}");
        assert!(message.contains("write `version = 2`"), "{message}");
    }
}

#[test]
fn bad_names_lanes_links_and_keys_are_refused_with_the_rule() {
    let scenario = |body: &str| refuse(&format!("version = 2\n[[scenario]]\nname = \"s\"\n{body}\n"));
    let cases = [
        ("open = [\"a\", \"a\"]", "`a` cannot name an account"),
        ("open = [\"1a\"]", "`1a` cannot name an account"),
        ("steps = [{ call = \"f\", params = [\"carol\"] }]", "`carol` is not an account"),
        ("steps = [{ deposit = { account = \"carol\", amount = 1 } }]", "`carol` is not an account"),
        ("flags = { 1 = { 8 = 1 } }", "flag lane `8`: lanes are 0 to 7"),
        ("steps = [{ open = 1, links = { 1 = { 70000 = 2 } } }]", "link type `70000`"),
        ("kv = { \"a/b/c/d/e\" = 1 }", "kv key `a/b/c/d/e`"),
        ("kv = { \"2147483648\" = 1 }", "kv key `2147483648`"),
        ("kv = { \"a//b\" = 1 }", "kv key `a//b`"),
        ("steps = [{ open = 1, deposit = { account = 1, amount = 1 } }]", "exactly one of"),
        ("open = [\"treasury\"]\naccounts = { treasury = 17 }", "`treasury` cannot name an account"),
        (
            "open = [\"a\"]\nsteps = [{ deposit = { account = \"a\", amount = 1 }, balances = { a = \"40\" } }]",
            "balance \"40\": write a number, or a change",
        ),
        (
            "open = [\"a\"]\nsteps = [{ deposit = { account = \"a\", amount = 1 }, balances = { a = \"+4x\" } }]",
            "balance \"+4x\"",
        ),
        (
            "steps = [{ deposit = { account = 1, amount = 1 } , balances = { carol = \"+1\" } }]",
            "`carol` is not an account",
        ),
    ];
    for (body, expected) in cases {
        let message = scenario(body);
        assert!(message.contains(expected), "{body}: {message}");
        assert!(message.starts_with("v2.toml: line "), "{message}");
    }
    assert!(matches!(
        ScenarioFile::from_str("version = 2\n[[scenario]]\nname = \"s\"\nopen = [\"a b\"]\n", "x"),
        Err(ScenarioError::Invalid { problem: Problem::InScenario { .. }, .. })
    ));
}

#[test]
fn fuzzing_v2_finds_a_failure_that_upstreams_rollback_leaves_behind() {
    let text = r#"
version = 2
[[scenario]]
name = "fuzz"
open = ["alice"]
[scenario.fuzz]
params = [{ range = [2, 3] }, { value = 1 }, { value = 0 }, { value = 0 }, { range = [0, 3] }]
allowed = ["NONE", "USER(200)"]
"#;
    let file = file(text);
    let report = runner().fuzz(&file, &file.scenarios[0], FuzzOptions::new(64, 7)).unwrap();
    let failure = report.failure.expect("mode 3 writes lane 1 twice then fails");
    assert_eq!(failure.reason, Violation::Lint(Lint::InexactRollback));
    assert_eq!((failure.params[0], failure.status), (3, Status::user(200)));
    assert!(failure.reason.to_string().contains("a real server's rollback leaves part of it behind"));

    // Without the double write, every failure rolls back cleanly.
    let clean = text.replace("range = [2, 3]", "value = 2");
    let file = self::file(&clean);
    let report = runner().fuzz(&file, &file.scenarios[0], FuzzOptions::new(64, 7)).unwrap();
    assert!(report.failure.is_none(), "{:?}", report.failure);
}

/// Each v2 hazard a server accepts without a word is a lint on the step
/// that did it, with what to do instead.
#[test]
fn v2_hazards_are_lints_on_the_step() {
    let hazards = r#"
(module
  (import "ledger" "set_flag" (func $set_flag (param i64 i32 i32)))
  (import "ledger" "kv_set" (func $set (param i32 i32 i32 i32 i64)))
  (import "ledger" "kv_register_constant" (func $define (param i32)))
  (import "ledger" "kv_get_constant" (func $constant (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "counter\00")
  (global $cached (mut i32) (i32.const 0))
  (func (export "register") (call $define (i32.const 16)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    ;; 0: look the constant up once and keep it; later calls use the copy.
    (if (i64.eq (local.get 0) (i64.const 0)) (then
      (if (i32.eqz (global.get $cached)) (then (global.set $cached (call $constant (i32.const 16)))))
      (call $set (global.get $cached) (i32.const 1) (i32.const 0) (i32.const 0) (local.get 1))
      (return (i32.const 0))))
    ;; 1: write 0 where nothing was written.
    (if (i64.eq (local.get 0) (i64.const 1)) (then
      (call $set (i32.const 9) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0))
      (return (i32.const 0))))
    ;; 2: lane 9 of account 1.
    (if (i64.eq (local.get 0) (i64.const 2)) (then
      (call $set_flag (i64.const 1) (i32.const 9) (i32.const 1))
      (return (i32.const 0))))
    ;; 3: a flag on account 40, never opened.
    (if (i64.eq (local.get 0) (i64.const 3)) (then
      (call $set_flag (i64.const 40) (i32.const 1) (i32.const 1))
      (return (i32.const 0))))
    ;; 4: lane 2 of account 1 written twice, then a failure.
    (call $set_flag (i64.const 1) (i32.const 2) (i32.const 1))
    (call $set_flag (i64.const 1) (i32.const 2) (i32.const 2))
    (i32.const 201)))
"#;
    let runner = Runner::new(wat::parse_str(hazards).unwrap(), "h").with_profile(&V2);
    for (params, expect, code) in [
        ("[0, 1], [0, 2]", "NONE", "constant-cached"),
        ("[1]", "NONE", "unchanged-kv-write"),
        ("[2]", "NONE", "flag-lane-wrapped"),
        ("[3]", "NONE", "flag-on-missing-account"),
        ("[4]", "USER(201)", "inexact-rollback"),
    ] {
        let steps: Vec<String> = params
            .split("], ")
            .map(|p| if p.ends_with(']') { p.to_owned() } else { format!("{p}]") })
            .map(|p| format!("{{ call = \"h\", params = {p}, expect = \"{expect}\" }}"))
            .collect();
        let text = format!("version = 2\n[[scenario]]\nname = \"s\"\nopen = [\"a\"]\nsteps = [{}]\n", steps.join(", "));
        let report = runner.run_file(&file(&text));
        let scenario = &report.scenarios[0];
        assert!(!scenario.passed(), "{code}: {report}");
        let last = scenario.steps.last().unwrap();
        assert!(last.mismatches.is_empty(), "{code}: {report}");
        let codes: Vec<&str> = last.lints.iter().map(Lint::code).collect();
        assert_eq!(codes, [code], "{report}");
        assert!(report.to_string().contains(&format!("lint[{code}]")), "{report}");
    }
}

#[test]
fn a_register_that_does_data_work_is_refused_with_what_it_did() {
    let wasm = wat::parse_str(
        r#"(module (import "ledger" "credit" (func $credit (param i64 i64)))
             (func (export "register") (call $credit (i64.const 0) (i64.const 1)) unreachable)
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let report = Runner::new(wasm, "f").with_profile(&V2).run_file(&file(PASSING));
    let error = report.scenarios[0].error.as_ref().expect("refused").to_string();
    assert!(
        error.starts_with("registering `f`: function registration failed: FailReason(8) (register() called a verb the register phase refuses"),
        "{error}"
    );
    assert!(error.contains("only kv_register_constant may be called); it then trapped"), "{error}");
}

/// The shrunk case of a version 2 file carries the scenario's `open` list,
/// flags and KV, so pasted into the file it opens the same accounts and
/// reproduces the failure.
#[test]
fn a_v2_fuzz_case_pastes_with_its_open_accounts_and_state() {
    let text = r#"version = 2
[[scenario]]
name = "counter"
open = ["alice", "bob"]
flags = { bob = { 2 = 9 } }
kv = { "counter/bob" = 41 }
[scenario.fuzz]
params = [{ value = 0 }, { accounts = ["alice", "bob"] }, { value = 0 }, { range = [0, 10] }]
balances = { accounts = ["alice"], range = [0, 5] }
never_negative = ["alice"]
"#;
    let parsed = file(text);
    let report = runner().fuzz(&parsed, &parsed.scenarios[0], FuzzOptions::new(500, 3)).unwrap();
    let failure = report.failure.expect("alice is overdrawn");
    assert!(matches!(failure.reason, Violation::Negative { account: 1, .. }), "{failure:?}");
    for line in ["open = [\"alice\", \"bob\"]", "flags = { bob = { 2 = 9 } }", "kv = { \"counter/bob/0/0\" = 41 }"] {
        assert!(failure.scenario.contains(line), "{line} in:\n{}", failure.scenario);
    }
    assert!(failure.scenario.contains("balances = { alice = "), "{}", failure.scenario);
    let pasted = file(&format!("version = 2\n{}", failure.scenario));
    let replay = runner().run_file(&pasted);
    assert!(replay.passed(), "{replay}");
    assert_eq!(replay.scenarios[0].steps[0].status, failure.status);
}

/// A scenario that names existing accounts runs on a ledger that holds
/// them (a fork): its `open` names get the ids that ledger issues (after
/// its own), which a parameter written as a name and a key of an account
/// follow; relative balances count from the scenario's start. A fresh
/// ledger refuses it and says where to run it.
#[test]
fn a_scenario_on_existing_accounts_runs_on_a_ledger_that_holds_them() {
    use ledger_core::v2::{Ledger, Operation};
    let scenarios = file(
        r#"
        version = 2
        [[scenario]]
        name = "on top of production"
        accounts = { treasury = 2 }
        open = ["alice"]
        steps = [
          { call = "rules", params = [0, "alice", 0, 0], kv = { "counter/alice" = 1 } },
          { transfer = { from = "treasury", to = "alice", amount = 40 }, balances = { treasury = "-40", alice = 40 } },
          { call = "rules", params = [0, "treasury", 0, 5], kv = { "counter/treasury" = 1 }, balances = { treasury = "-45", 0 = "+5" } },
        ]
        [[scenario]]
        name = "starts again from the ledger"
        accounts = { treasury = 2 }
        open = ["bob"]
        steps = [{ deposit = { account = "bob", amount = 1 }, balances = { treasury = 100, bob = "+1" } }]
        "#,
    );
    let mut ledger = Ledger::new(ledger_core::LedgerConfig::default()).unwrap();
    ledger.submit(&Operation::OpenAccount { count: 5, user_ref: 0 });
    ledger.submit(&Operation::Deposit { account: 2, amount: 100, user_ref: 0 });
    let reports = runner().run_files_on(std::slice::from_ref(&scenarios), ledger).unwrap();
    let [first, second] = &reports[0].scenarios[..] else { panic!("{:?}", reports) };
    assert!(first.passed() && second.passed(), "{}", reports[0]);
    let names = |report: &roda_test::ScenarioReport| report.accounts.clone().into_iter().collect::<Vec<_>>();
    assert_eq!(names(first), [(2, "treasury".to_owned()), (6, "alice".to_owned())]);
    assert_eq!(names(second), [(2, "treasury".to_owned()), (6, "bob".to_owned())], "each scenario starts afresh");

    let fresh = runner().run(&scenarios, &scenarios.scenarios[0]);
    let Some(error @ SetupError::NeedsFork { .. }) = &fresh.error else { panic!("{fresh}") };
    assert!(error.to_string().contains("cargo roda test --fork URL"), "{error}");
    let v1 = Runner::new(wat::parse_str(RULES).unwrap(), "rules");
    let refused = v1.run_files_on(&[], Ledger::new(ledger_core::LedgerConfig::default()).unwrap());
    assert_eq!(refused.unwrap_err().to_string(), "the ledger runs ABI v2 and the function ABI v1");
}

/// A relative balance counts from the scenario's start; a failed one says
/// the balance it expected.
#[test]
fn relative_balances_count_from_the_start() {
    let report = runner().run_file(&file(
        r#"
        version = 2
        [[scenario]]
        name = "relative"
        open = ["alice"]
        balances = { alice = 100 }
        steps = [
          { call = "rules", params = [0, "alice", 0, 10], balances = { alice = "-10", 0 = "+10" } },
          { call = "rules", params = [0, "alice", 0, 10], balances = { alice = "-10" } },
        ]
        "#,
    ));
    let failed = report.scenarios[0].failed_step().unwrap();
    assert_eq!(failed.step, 2);
    assert_eq!(failed.mismatches, [Mismatch::Balance { account: 1, expected: 90, actual: 80 }]);
    assert!(report.to_string().contains("1 (alice)"), "{report}");
}

/// What `Scenario::to_toml` writes parses back to the same scenario: every
/// operation, expectation and starting state, accounts by name.
#[test]
fn a_written_scenario_parses_back_the_same() {
    let without_lines = |mut scenario: roda_test::Scenario| {
        scenario.line = 0;
        scenario.steps.iter_mut().for_each(|step| step.line = 0);
        scenario.fuzz = None;
        scenario
    };
    let texts = [
        PASSING.to_owned(),
        r#"version = 2
[[scenario]]
name = "every kind of step"
accounts = { treasury = 17 }
open = ["alice", "bob"]
steps = [
  { deposit = { account = "alice", amount = 5 }, user_ref = 3, balances = { alice = "+5", treasury = 0 } },
  { withdrawal = { account = "alice", amount = 1 }, entries = [{ account = "alice", amount = 1, kind = "credit", balance = 4 }, { account = 0, amount = 1, kind = "debit" }] },
  { transfer = { from = "treasury", to = "bob", amount = 2 }, expect = "INSUFFICIENT_FUNDS", links = { alice = { 1 = "bob", 2 = 5 } } },
  { open = 2, kv = { "c/alice/7/treasury" = -1 } },
]
"#
        .to_owned(),
    ];
    for text in texts {
        let parsed = file(&text);
        for scenario in &parsed.scenarios {
            let written = scenario.to_toml(Some("a comment\non two lines"));
            assert!(written.contains("\n# a comment on two lines\n"), "{written}");
            let again = file(&format!("version = 2\n{written}"));
            assert_eq!(without_lines(again.scenarios[0].clone()), without_lines(scenario.clone()), "{written}");
        }
    }
}
