//! Scenario text into the typed model, and every way it can be refused,
//! with the line.

mod support;

use std::collections::BTreeMap;

use ledger_core::Status;
use roda_test::model::{EntryKind, EntryValue, InclusiveRange, Params, Slot};
use roda_test::{Action, Problem, ScenarioError, ScenarioFile};

const FULL: &str = r#"version = 1

[[scenario]]
name = "every kind of step"
balances = { 101 = 20000 }
steps = [
  { call = "fee", params = [101, 202, 999, 10000, 50], expect = "NONE",
    balances = { 101 = 9950 } },
  { deposit = { account = 101, amount = 5 }, user_ref = 7 },
  { transfer = { from = 101, to = 202, amount = 1 }, user_ref = 7, expect = "DUPLICATE" },
  { withdrawal = { account = 202, amount = 1 }, expect = 130,
    entries = [{ account = 202, amount = 1, kind = "credit" }, { account = 0, amount = 1, kind = "debit", balance = 1 }] },
]

[scenario.fuzz]
params = [{ accounts = [101, 202] }, { range = [0, 100] }, { value = 999 }]
balances = { accounts = [101], range = [0, 5] }
allowed = ["NONE", "USER(130)"]
never_negative = [999]
"#;

#[test]
fn every_step_kind_and_expectation_is_typed() {
    let file = ScenarioFile::from_str(FULL, "t/full.toml").unwrap();
    assert_eq!(file.origin, std::path::Path::new("t/full.toml"));
    let scenario = &file.scenarios[0];
    assert_eq!((scenario.name.as_str(), scenario.line), ("every kind of step", 3));
    assert_eq!(scenario.balances, BTreeMap::from([(101, 20000)]));
    let steps = &scenario.steps;
    assert_eq!(steps.iter().map(|s| s.line).collect::<Vec<_>>(), [7, 9, 10, 11]);
    assert_eq!(
        steps[0].action,
        Action::Call { function: "fee".into(), params: Params::new(vec![101, 202, 999, 10000, 50]).unwrap() }
    );
    assert_eq!((steps[0].expect, steps[0].balances.get(&101)), (Status::NONE, Some(&9950)));
    assert_eq!(steps[1].action, Action::Deposit { account: 101, amount: 5 });
    assert_eq!((steps[1].user_ref, steps[1].expect), (7, Status::NONE), "expect defaults to NONE");
    assert_eq!(steps[2].action, Action::Transfer { from: 101, to: 202, amount: 1 });
    assert_eq!(steps[2].expect, Status::DUPLICATE);
    assert_eq!(steps[3].action, Action::Withdrawal { account: 202, amount: 1 });
    assert_eq!(steps[3].expect, Status::from_code(130));
    assert_eq!(
        steps[3].entries.as_deref(),
        Some(
            &[
                EntryValue { account: 202, amount: 1, kind: EntryKind::Credit, balance: None },
                EntryValue { account: 0, amount: 1, kind: EntryKind::Debit, balance: Some(1) },
            ][..]
        )
    );
    let fuzz = scenario.fuzz.as_ref().unwrap();
    assert_eq!(fuzz.call, None);
    assert!(matches!(fuzz.params.as_slice()[0], Slot::Accounts(ref set) if set.as_slice() == [101, 202]));
    assert_eq!(fuzz.params.as_slice()[1], Slot::Range { range: InclusiveRange::new(0, 100).unwrap(), exact: false });
    assert_eq!(fuzz.params.as_slice()[2], Slot::Value(999));
    assert_eq!(fuzz.allowed, Some(vec![Status::NONE, Status::from_code(130)]));
    assert_eq!(fuzz.never_negative, [999]);
}

/// The error for `text`, which must be refused.
fn refuse(text: &str) -> ScenarioError {
    ScenarioFile::from_str(text, "s.toml").expect_err(text)
}

/// The line and problem of an `Invalid` error.
fn invalid(text: &str) -> (usize, Problem) {
    match refuse(text) {
        ScenarioError::Invalid { line, problem, .. } => (line, problem),
        other => panic!("{text}: not Invalid: {other:?}"),
    }
}

#[test]
fn an_unknown_key_is_a_syntax_error_with_its_line_and_column() {
    let error = refuse("version = 1\n[[scenario]]\nname = \"s\"\nstep = []\n");
    let ScenarioError::Syntax { line, column, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*line, *column), (Some(4), Some(1)));
    let message = error.to_string();
    assert!(message.starts_with("s.toml: ") && message.contains("line 4") && message.contains("unknown field `step`"));
}

#[test]
fn a_later_version_is_refused_for_its_version_before_its_keys() {
    let error = refuse("# a comment\nversion = 3\nnew_key = true\n");
    assert!(matches!(error, ScenarioError::Version { line: 2, found: 3, .. }), "{error:?}");
    assert!(error.to_string().contains("format version 3 is not supported"), "{error}");
    assert!(error.to_string().contains("reads versions 1 and 2"), "{error}");
    assert!(refuse("").to_string().contains("missing field `version`"));
}

#[test]
fn a_step_needs_exactly_one_operation() {
    let text = "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [\n  { call = \"f\" },\n  { call = \"f\", deposit = { account = 1, amount = 1 } },\n]\n";
    assert_eq!(invalid(text), (6, Problem::StepKind));
    assert!(refuse(text).to_string().contains("line 6: a step needs exactly one"));
    assert_eq!(invalid("version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ user_ref = 1 }]\n").1, Problem::StepKind);
}

#[test]
fn params_are_at_most_eight_and_only_for_calls() {
    let (line, problem) =
        invalid("version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", params = [1,2,3,4,5,6,7,8,9] }]\n");
    assert_eq!(line, 4);
    assert!(matches!(problem, Problem::TooManyParams(ref e) if e.count == 9));
    assert!(problem.to_string().contains("at most 8"));
    let text =
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ deposit = { account = 1, amount = 1 }, params = [1] }]\n";
    assert_eq!(invalid(text), (4, Problem::ParamsWithoutCall));
}

#[test]
fn statuses_are_names_or_numbers_up_to_255() {
    let text = "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expect = \"SOMETIMES\" }]\n";
    assert_eq!(invalid(text), (4, Problem::UnknownStatus("`SOMETIMES`".into())));
    assert!(refuse(text).to_string().contains("unknown status"));
    let text = "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expect = 256 }]\n";
    assert_eq!(invalid(text).1, Problem::UnknownStatus("256".into()));
}

#[test]
fn balance_keys_are_account_ids() {
    let text = "version = 1\n[[scenario]]\nname = \"s\"\nbalances = { alice = 5 }\n";
    let not_an_account = |scenario: Option<&str>, key: &str, open: &[&str]| Problem::NotAnAccount {
        scenario: scenario.map(str::to_owned),
        key: key.into(),
        open: open.iter().map(|n| n.to_string()).collect(),
    };
    assert_eq!(invalid(text), (2, not_an_account(Some("s"), "alice", &[])));
    assert!(
        refuse(text).to_string().contains("`alice` is not an account: use an id or a name the scenario opens: `open")
    );
    let text = "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", balances = { -1 = 5 } }]\n";
    assert_eq!(invalid(text), (4, not_an_account(None, "-1", &[])));
    assert!(refuse(text).to_string().contains("`-1` is not an account id (an unsigned integer)"));
    // A name the `open` list lacks: the list is named.
    let text = "version = 2\n[[scenario]]\nname = \"s\"\nopen = [\"alice\", \"bob\"]\nbalances = { carol = 5 }\n";
    assert!(
        refuse(text).to_string().contains(
            "`carol` is not an account: use an id or a name from the scenario's `open` or `accounts` (alice, bob)"
        ),
        "{}",
        refuse(text)
    );
    let text = "version = 2\n[[scenario]]\nname = \"s\"\nopen = [\"alice\"]\nsteps = [{ call = \"f\", params = [\"carol\"] }]\n";
    assert!(
        refuse(text).to_string().contains(
            "`carol` is not an account: use an id or a name from the scenario's `open` or `accounts` (alice)"
        )
    );
}

#[test]
fn a_quoted_number_is_not_a_name() {
    for version in [1, 2] {
        let text = format!(
            "version = {version}\n[[scenario]]\nname = \"s\"\nsteps = [{{ call = \"f\", params = [1, \"40\"] }}]\n"
        );
        assert_eq!(invalid(&text), (4, Problem::QuotedNumber("40".into())));
        assert!(refuse(&text).to_string().contains("\"40\" is a string, not a number: write numbers without quotes"));
    }
}

#[test]
fn fuzz_tables_are_checked() {
    let fuzz = |table: &str| invalid(&format!("version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\n{table}\n"));
    let empty = Problem::EmptyFuzzDomain { scenario: "s".into() };
    assert_eq!(fuzz("params = [{ range = [5, 1] }]"), (2, empty.clone()));
    assert_eq!(fuzz("params = [{ accounts = [] }]").1, empty);
    assert_eq!(fuzz("params = []\nbalances = { accounts = [1], range = [1, 0] }").1, empty);
    assert_eq!(
        fuzz("params = [{ value = 1 }, { value = 1 }, { value = 1 }, { value = 1 }, { value = 1 }, { value = 1 }, { value = 1 }, { value = 1 }, { value = 1 }]").1,
        Problem::TooManyFuzzParams { scenario: "s".into(), count: 9 }
    );
    assert_eq!(
        fuzz("params = []\nallowed = [\"MAYBE\"]").1,
        Problem::UnknownAllowedStatus { scenario: "s".into(), written: "`MAYBE`".into() }
    );
    let wrong_kind = |slot| Problem::FuzzSlotKind { scenario: "s".into(), slot };
    assert_eq!(fuzz("params = [{ value = 1 }, { range = [0, 1], value = 1 }]").1, wrong_kind(1));
    assert_eq!(fuzz("params = [{ exact = true }]").1, wrong_kind(0));
    assert_eq!(fuzz("params = [{ value = 1, exact = true }]").1, wrong_kind(0));
    let message = fuzz("params = [{}]").1.to_string();
    assert!(message.contains("needs exactly one of `accounts = [...]`, `range = [low, high]`"), "{message}");
    // A name in a version 1 file, which opens no accounts.
    let unknown = fuzz("params = [{ accounts = [\"alice\"] }]").1;
    assert!(unknown.to_string().contains("`alice` is not an account"), "{unknown}");
}

/// Fuzz sections take account names wherever an id goes, and a range can
/// be `exact`.
#[test]
fn fuzz_tables_take_account_names() {
    let text = r#"version = 2
[[scenario]]
name = "s"
open = ["alice", "bob"]
[scenario.fuzz]
params = [{ accounts = ["alice", "bob", 50] }, { range = [0, 10], exact = true }]
balances = { accounts = ["alice"], range = [0, 5] }
never_negative = ["alice", "bob"]
allowed = ["NONE", "NEGATIVE_AMOUNT"]
"#;
    let file = ScenarioFile::from_str(text, "t.toml").unwrap();
    let fuzz = file.scenarios[0].fuzz.as_ref().unwrap();
    assert!(matches!(fuzz.params.as_slice()[0], Slot::Accounts(ref set) if set.as_slice() == [1, 2, 50]));
    assert_eq!(fuzz.params.as_slice()[1], Slot::Range { range: InclusiveRange::new(0, 10).unwrap(), exact: true });
    assert_eq!(fuzz.balances.as_ref().unwrap().accounts, [1]);
    assert_eq!(fuzz.never_negative, [1, 2]);
    assert_eq!(fuzz.allowed, Some(vec![Status::NONE, Status::NEGATIVE_AMOUNT]));
    let unknown = invalid(&text.replace("never_negative = [\"alice\", \"bob\"]", "never_negative = [\"carol\"]"));
    assert!(unknown.1.to_string().contains("`carol` is not an account"), "{}", unknown.1);
}

#[test]
fn helper_functions_load_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("helper.wat"), support::FEE_TRANSFER_WAT).unwrap();
    let path = dir.path().join("tests/s.toml");
    std::fs::write(&path, "version = 1\nfunctions = { helper = \"../helper.wat\" }\n").unwrap();
    let file = ScenarioFile::from_path(&path).unwrap();
    assert_eq!(file.functions[0].name, "helper");
    assert_eq!(file.functions[0].wasm, support::fee_transfer());

    std::fs::write(&path, "version = 1\nfunctions = { helper = \"../missing.wasm\" }\n").unwrap();
    let error = ScenarioFile::from_path(&path).unwrap_err();
    assert!(matches!(&error, ScenarioError::Function { name, .. } if name == "helper"), "{error:?}");
    assert!(error.to_string().contains("functions.helper: cannot read"), "{error}");

    // The text is checked before any helper is read.
    std::fs::write(
        &path,
        "version = 1\nfunctions = { helper = \"../missing.wasm\" }\n[[scenario]]\nname = \"s\"\nsteps = [{}]\n",
    )
    .unwrap();
    assert!(matches!(ScenarioFile::from_path(&path), Err(ScenarioError::Invalid { line: 5, .. })));
}

#[test]
fn files_and_directories_that_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    assert!(matches!(ScenarioFile::from_path(&missing), Err(ScenarioError::Read { .. })));
    assert!(matches!(ScenarioFile::from_dir(dir.path().join("nope")), Err(ScenarioError::ListDir { .. })));
    std::fs::write(dir.path().join("notes.md"), "not a scenario").unwrap();
    let error = ScenarioFile::from_dir(dir.path()).unwrap_err();
    assert!(matches!(error, ScenarioError::NoFiles { .. }), "{error:?}");
    assert!(error.to_string().contains("no scenario files (*.toml)"));
}

#[test]
fn the_template_scenario_file_parses() {
    let text = include_str!("../../cargo-roda/templates/scenario.toml.tmpl").replace("{{name}}", "fee_transfer");
    let file = ScenarioFile::from_str(&text, "tests/fee_transfer.toml").unwrap();
    assert_eq!(file.scenarios[0].steps.len(), 2);
}
