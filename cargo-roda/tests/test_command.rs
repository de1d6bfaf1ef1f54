//! `cargo roda test` on real projects and on deliberately broken functions.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, roda};

/// A WAT project named `f` with `function.wat` and `tests/f.toml` replaced.
fn wat_project(dir: &Path, wat: &str, scenarios: &str) -> PathBuf {
    assert_eq!(roda(dir, &["new", "f", "--lang", "wat", "--abi", "v1"]).code, 0);
    let project = dir.join("f");
    std::fs::write(project.join("function.wat"), wat).unwrap();
    std::fs::write(project.join("tests/f.toml"), scenarios).unwrap();
    project
}

/// `execute` with the host imports, these globals and this body.
fn function(globals: &str, body: &str) -> String {
    include_str!("../../tests/scenarios/execute.wat.tmpl").replace("{globals}", globals).replace("{body}", body)
}

fn lint_codes(json: &serde_json::Value) -> Vec<String> {
    json["files"][0]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap().iter())
        .flat_map(|step| step["lints"].as_array().unwrap().iter())
        .map(|l| l["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Several steps of the seed's fee transfer, built-ins included.
const FEE_SCENARIOS: &str = include_str!("../../tests/scenarios/fee_steps.toml");

fn statuses(run: &Run) -> Vec<String> {
    let json = run.json();
    json["files"][0]["scenarios"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_seed_project_passes_identically_in_rust_assemblyscript_and_wat() {
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for lang in ["rust", "assemblyscript", "wat"] {
        let root = dir.path().join(lang);
        std::fs::create_dir(&root).unwrap();
        assert_eq!(roda(&root, &["new", "fee_transfer", "--lang", lang, "--abi", "v1"]).code, 0);
        let project = root.join("fee_transfer");
        // The scaffolded scenario passes as generated.
        let run = roda(&project, &["test"]);
        assert_eq!(run.code, 0, "{lang}: {run:?}");
        std::fs::write(project.join("tests/fee_transfer.toml"), FEE_SCENARIOS).unwrap();
        let run = roda(&project, &["test", "--output", "json"]);
        assert_eq!(run.code, 0, "{lang}: {run:?}");
        results.push(statuses(&run));
    }
    assert_eq!(results[0], ["NONE", "INSUFFICIENT_FUNDS", "NONE", "DUPLICATE", "NONE", "INSUFFICIENT_FUNDS", "NONE"]);
    assert_eq!(results[0], results[1], "Rust and AssemblyScript");
    assert_eq!(results[0], results[2], "Rust and WAT");
}

/// `cargo roda new --abi v2` in each language: Roda.toml says v2, the build
/// validates for v2 (and only v2), the scaffolded scenarios pass with the
/// same statuses, and the Rust crate's own `cargo test` passes natively.
#[test]
fn the_v2_project_passes_identically_in_rust_assemblyscript_and_wat() {
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for lang in ["rust", "assemblyscript", "wat"] {
        let root = dir.path().join(lang);
        std::fs::create_dir(&root).unwrap();
        let created = roda(&root, &["new", "xfer", "--lang", lang, "--abi", "v2", "--output", "json"]);
        assert_eq!(created.code, 0, "{lang}: {created:?}");
        assert_eq!(created.json()["abi"], "v2");
        let project = root.join("xfer");
        assert!(std::fs::read_to_string(project.join("Roda.toml")).unwrap().contains("abi = \"v2\""));
        let built = roda(&project, &["build", "--output", "json"]);
        assert_eq!(built.code, 0, "{lang}: {built:?}");
        let report = built.json()["report"].clone();
        assert_eq!((report["abi"].as_str(), report["warnings"].as_u64()), (Some("v2"), Some(0)), "{lang}: {report:#}");
        assert_eq!(report["satisfies"], serde_json::json!(["v2"]), "{lang}");
        let run = roda(&project, &["test", "--output", "json"]);
        assert_eq!(run.code, 0, "{lang}: {run:?}");
        results.push(statuses(&run));
        if lang == "rust" {
            let native = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
                .args(["test", "--quiet"])
                .current_dir(&project)
                .envs(support::guest_build_env())
                .output()
                .unwrap();
            assert!(native.status.success(), "{}", String::from_utf8_lossy(&native.stderr));
        }
    }
    assert_eq!(results[0], ["NONE", "INSUFFICIENT_FUNDS", "ACCOUNT_NOT_FOUND"]);
    assert_eq!(results[0], results[1], "Rust and AssemblyScript");
    assert_eq!(results[0], results[2], "Rust and WAT");
}

/// A project's `abi` decides how it is checked and run; `--abi` overrides
/// it, and a project without the key is v1 and told how to say so.
#[test]
fn the_projects_abi_decides_and_the_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "xfer", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.path().join("xfer");
    let as_v1 = roda(&project, &["test", "--abi", "v1"]);
    assert_eq!(as_v1.code, 3, "refused by v1 validation: {as_v1:?}");
    assert!(as_v1.stderr.contains("--abi v2"), "the hint names the other profile: {as_v1:?}");

    let roda_toml = project.join("Roda.toml");
    let text = std::fs::read_to_string(&roda_toml).unwrap();
    std::fs::write(&roda_toml, text.replace("abi = \"v2\"", "")).unwrap();
    let implicit = roda(&project, &["build"]);
    assert!(implicit.stderr.contains("has no `abi`, so the function is ABI v1"), "{implicit:?}");
    assert_eq!(implicit.code, 3, "a v2 module is not a valid v1 function: {implicit:?}");
    let flagged = roda(&project, &["test", "--abi", "v2"]);
    assert_eq!(flagged.code, 0, "{flagged:?}");
}

#[test]
fn failures_show_the_step_the_statuses_and_the_balances_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    let scenarios = r#"version = 1
[[scenario]]
name = "wrong expectations"
balances = { 101 = 100 }
steps = [
  { call = "f", params = [101, 202, 999, 50, 100] },
  { call = "f", params = [101, 202, 999, 50, 100], balances = { 101 = 1, 202 = 50 } },
]
"#;
    let project = wat_project(dir.path(), &wat, scenarios);
    let run = roda(&project, &["test", "tests/f.toml"]);
    assert_eq!(run.code, 5, "{run:?}");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn lint_out_of_fuel() {
    let dir = tempfile::tempdir().unwrap();
    let project = wat_project(
        dir.path(),
        &function("", "(loop br 0) i32.const 0"),
        "version = 1\n[[scenario]]\nname = \"spin\"\nsteps = [{ call = \"f\", expect = 5 }]\n",
    );
    let run = roda(&project, &["test", "--fuel", "100000", "--output", "json"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert_eq!(lint_codes(&run.json()), ["out-of-fuel"]);
    assert!(roda(&project, &["test", "--fuel", "100000"]).stdout.contains("the server has no time limit"));
}

#[test]
fn lint_status_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let body = "(call $credit (i64.const 1) (i64.const 5)) (call $debit (i64.const 2) (i64.const 5)) i32.const 256";
    let project = wat_project(
        dir.path(),
        &function("", body),
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\" }]\n",
    );
    let run = roda(&project, &["test"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stdout.contains("lint[status-out-of-range]") && run.stdout.contains("256 commits"), "{run:?}");
}

#[test]
fn lint_reserved_status() {
    let dir = tempfile::tempdir().unwrap();
    let project = wat_project(
        dir.path(),
        &function("", "i32.const 42"),
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expect = 42 }]\n",
    );
    let run = roda(&project, &["test", "--output", "json"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert_eq!(lint_codes(&run.json()), ["reserved-status"]);
}

#[test]
fn lint_carried_state() {
    let dir = tempfile::tempdir().unwrap();
    let counter = function(
        "(global $n (mut i64) (i64.const 0))",
        "(global.set $n (i64.add (global.get $n) (i64.const 1))) (call $credit (i64.const 1) (global.get $n)) (call $debit (i64.const 2) (global.get $n)) i32.const 0",
    );
    let project = wat_project(
        dir.path(),
        &counter,
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\" }, { call = \"f\" }]\n",
    );
    let run = roda(&project, &["test", "--output", "json"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert_eq!(lint_codes(&run.json()), ["carried-state"], "reported on the second call only");
}

#[test]
fn lint_wrapped_amount() {
    let dir = tempfile::tempdir().unwrap();
    let body = "(call $credit (local.get 0) (local.get 2)) (call $debit (local.get 1) (local.get 2)) i32.const 0";
    let project = wat_project(
        dir.path(),
        &function("", body),
        "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", params = [1, 2, -1] }]\n",
    );
    let run = roda(&project, &["test", "--output", "json"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert_eq!(lint_codes(&run.json()), ["wrapped-amount"]);
}

/// A fee transfer that pays the fee account one unit too much when the fee
/// is exactly 77 bps on more than 1000: only the fuzzer finds it.
const SOMETIMES_UNBALANCED: &str = include_str!("../../tests/scenarios/sometimes_unbalanced.wat");

const FUZZ_SCENARIO: &str = include_str!("../../tests/scenarios/fee_fuzz.toml");

#[test]
fn fuzzing_finds_and_shrinks_a_zero_sum_bug() {
    let dir = tempfile::tempdir().unwrap();
    let project = wat_project(dir.path(), SOMETIMES_UNBALANCED, FUZZ_SCENARIO);
    let run = roda(&project, &["test", "--fuzz", "20000", "--seed", "42", "--output", "json"]);
    assert_eq!(run.code, 5, "{run:?}");
    let json = run.json();
    let failure = &json["fuzz"][0]["failure"];
    assert!(failure["reason"].as_str().unwrap().contains("zero-sum"), "{failure:#}");
    // Shrunk: the smallest amount over 1000 and the first account of each set.
    assert_eq!(failure["params"], serde_json::json!([101, 202, 999, 1001, 77]), "{failure:#}");
    assert_eq!(failure["status"], "ZERO_SUM_VIOLATION");

    // The printed case pastes into a scenario file and reproduces the status.
    let pasted = format!("version = 1\n{}", failure["scenario"].as_str().unwrap());
    std::fs::write(project.join("repro.toml"), pasted).unwrap();
    let run = roda(&project, &["test", "repro.toml"]);
    assert_eq!(run.code, 0, "the pasted case reproduces ZERO_SUM_VIOLATION: {run:?}");

    // Human output shows the command that reproduces it: the count and the
    // seed, and the files and module it was given.
    let run = roda(&project, &["test", "--fuzz", "20000", "--seed", "42"]);
    assert!(run.stdout.contains("reproduce: cargo roda test --fuzz 20000 --seed 42\n"), "{run:?}");
    let wasm = project.join("build/function.wasm");
    let wasm = wasm.to_str().unwrap();
    let run =
        roda(&project, &["test", "tests/f.toml", "--wasm", wasm, "--name", "f", "--fuzz", "20000", "--seed", "42"]);
    let line = format!("reproduce: cargo roda test tests/f.toml --wasm {wasm} --name f --fuzz 20000 --seed 42\n");
    assert!(run.stdout.contains(&line), "{line}{run:?}");
}

#[test]
fn fuzzing_a_correct_function_passes() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    let project = wat_project(dir.path(), &wat, FUZZ_SCENARIO);
    let run = roda(&project, &["test", "--fuzz", "5000", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let fuzz = &run.json()["fuzz"][0];
    assert_eq!(fuzz["failure"], serde_json::Value::Null);
    assert!(fuzz["executions"].as_u64().unwrap() >= 5000);
}

#[test]
fn junit_and_costs() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    let project = wat_project(dir.path(), &wat, FUZZ_SCENARIO);
    let run = roda(&project, &["test", "--junit", "report.xml", "--costs", "costs.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("fuel baseline written"), "{run:?}");
    let xml = std::fs::read_to_string(project.join("report.xml")).unwrap();
    assert!(xml.contains("<testcase classname=") && xml.contains("failures=\"0\""), "{xml}");
    assert_eq!(roda(&project, &["test", "--costs", "costs.json"]).code, 0, "unchanged fuel passes");

    // The same function doing extra work: its fuel grows past 10%.
    let slower = wat.replace("(local $total i64)", "(local $total i64) (drop (i64.mul (local.get 5) (local.get 6))) (drop (i64.mul (local.get 5) (local.get 6))) (drop (i64.mul (local.get 5) (local.get 6)))");
    std::fs::write(project.join("function.wat"), slower).unwrap();
    let run = roda(&project, &["test", "--costs", "costs.json", "--junit", "report.xml"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stdout.contains("FUEL REGRESSION") && run.stdout.contains("--update-costs"), "{run:?}");
    assert!(
        run.stdout.contains("test result: FAILED. 1 scenario(s) passed, 0 failed; 1 fuel regression(s)\n"),
        "scenarios and regressions are counted apart: {run:?}"
    );
    // The baseline kept the fuel by function: the report names the one
    // whose fuel grew (three multiplications, three `local.get` pairs).
    assert!(run.stdout.contains("  execute used 9 more fuel: "), "{run:?}");
    assert!(std::fs::read_to_string(project.join("report.xml")).unwrap().contains("<failure"));
    assert_eq!(roda(&project, &["test", "--costs", "costs.json", "--update-costs"]).code, 0);
    assert_eq!(roda(&project, &["test", "--costs", "costs.json"]).code, 0, "the new baseline holds");
}

#[test]
fn a_bare_wasm_with_explicit_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_file(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    std::fs::write(dir.path().join("fee.wasm"), wasm).unwrap();
    std::fs::write(dir.path().join("s.toml"), FEE_SCENARIOS.replace("fee_transfer", "fee")).unwrap();
    let run = roda(dir.path(), &["test", "--wasm", "fee.wasm", "s.toml"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = roda(dir.path(), &["test", "--wasm", "fee.wasm", "--name", "other", "s.toml", "--output", "json"]);
    assert_eq!(run.code, 5, "the calls name `fee`, which is not registered: {run:?}");
}

#[test]
fn scenario_file_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    for (scenarios, message) in [
        ("version = 1\n[[scenario]]\nname = \"s\"\nstep = []\n", "line 4"),
        ("version = 3\n", "format version 3 is not supported"),
        ("version = 1\n[[scenario]]\nname = \"s\"\nopen = [\"a\"]\n", "`open` is format version 2"),
        (
            "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [\n  { call = \"f\" },\n  { call = \"f\", deposit = { account = 1, amount = 1 } },\n]\n",
            "line 6: a step needs exactly one",
        ),
        (
            "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expect = \"SOMETIMES\" }]\n",
            "unknown status",
        ),
        (
            "version = 1\n[[scenario]]\nname = \"s\"\nbalances = { alice = 5 }\n",
            "`alice` is not an account: use an id or",
        ),
        (
            "version = 1\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", params = [1,2,3,4,5,6,7,8,9] }]\n",
            "at most 8",
        ),
    ] {
        let project = dir.path().join(format!("p{}", message.len()));
        std::fs::create_dir(&project).unwrap();
        let project = wat_project(&project, &wat, scenarios);
        let run = roda(&project, &["test"]);
        assert_eq!(run.code, 1, "{scenarios}: {run:?}");
        assert!(run.stderr.contains(message), "{scenarios}: {run:?}");
    }
}

#[test]
fn an_invalid_module_is_not_tested() {
    let dir = tempfile::tempdir().unwrap();
    let bad = r#"(module (import "env" "abort" (func (param i32 i32 i32 i32)))
      (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#;
    let project = wat_project(dir.path(), bad, "version = 1\n");
    let run = roda(&project, &["test"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("env-abort"), "{run:?}");
}

#[test]
fn fuzz_without_a_fuzz_table_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    let project = wat_project(dir.path(), &wat, "version = 1\n[[scenario]]\nname = \"s\"\n");
    let run = roda(&project, &["test", "--fuzz"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("[scenario.fuzz]"), "{run:?}");
}

/// Without an `allowed` list, a status the ledger imposed (here 6, for an
/// account out of range) is still a failure.
#[test]
fn fuzzing_without_allowed_catches_statuses_the_ledger_imposed() {
    let dir = tempfile::tempdir().unwrap();
    let body = "(call $credit (local.get 0) (i64.const 1)) (call $debit (local.get 1) (i64.const 1)) i32.const 0";
    let scenarios = "version = 1\n[[scenario]]\nname = \"s\"\n[scenario.fuzz]\nparams = [{ accounts = [1, 2] }, { accounts = [3, 2000000] }]\n";
    let project = wat_project(dir.path(), &function("", body), scenarios);
    let run = roda(&project, &["test", "--fuzz", "2000", "--seed", "3", "--output", "json"]);
    assert_eq!(run.code, 5, "{run:?}");
    let failure = &run.json()["fuzz"][0]["failure"];
    assert!(failure["reason"].as_str().unwrap().contains("ACCOUNT_LIMIT_EXCEEDED"), "{failure:#}");
    assert_eq!(failure["params"], serde_json::json!([1, 2000000]));
}

#[test]
fn a_helper_may_not_replace_the_function_under_test() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    let scenarios = "version = 1\nfunctions = { f = \"../function.wat\" }\n[[scenario]]\nname = \"s\"\nsteps = [{ deposit = { account = 1, amount = 1 } }]\n";
    let project = wat_project(dir.path(), &wat, scenarios);
    let run = roda(&project, &["test"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stdout.contains("the name of the function under test"), "{run:?}");
}

/// Each failure of `cargo roda test` outside the scenarios themselves has
/// its own JSON kind and exits 1, never 4 "build failed".
#[test]
fn scenario_costs_fuzz_and_junit_errors_have_their_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let wat = std::fs::read_to_string(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    let project = wat_project(dir.path(), &wat, "version = 1\n[[scenario]]\nname = \"s\"\n");
    let kind = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--output", "json"]);
        let run = roda(&project, &args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        let json = run.json();
        (json["error"]["kind"].as_str().unwrap().to_owned(), json["error"]["message"].as_str().unwrap().to_owned())
    };

    // The report goes where a directory is: the write fails, the directory stays.
    let (kind_name, message) = kind(&["test", "--junit", "tests"]);
    assert_eq!(kind_name, "junit");
    assert!(message.contains("cannot write the JUnit report"), "{message}");
    assert!(project.join("tests/f.toml").is_file());

    std::fs::write(project.join("costs.json"), "[1, 2]").unwrap();
    let (kind_name, message) = kind(&["test", "--costs", "costs.json"]);
    assert_eq!(kind_name, "costs");
    assert!(message.contains("not a costs file"), "{message}");

    assert_eq!(kind(&["test", "--fuzz", "10"]).0, "fuzz");

    std::fs::write(project.join("tests/f.toml"), "version = 1\nscenarios = []\n").unwrap();
    let (kind_name, message) = kind(&["test"]);
    assert_eq!(kind_name, "scenario");
    assert!(message.contains("line 2"), "{message}");
    std::fs::remove_file(project.join("tests/f.toml")).unwrap();
    let (kind_name, message) = kind(&["test"]);
    assert_eq!(kind_name, "scenario");
    assert!(message.contains("no scenario files (*.toml)"), "{message}");
}

/// A helper that loops `amount` times, called when the amount is small;
/// a refusal in a function of its own.
const PROFILED: &str = r#"(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (func $count (param i64) (result i64) (local i64)
    (block $done (loop $again
      (br_if $done (i64.eqz (local.get 0)))
      (local.set 1 (i64.add (local.get 1) (i64.const 1)))
      (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
      (br $again)))
    (local.get 1))
  (func $refuse (result i32) (i32.const 140))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (if (i64.lt_s (local.get 2) (i64.const 0)) (then (return (call $refuse))))
    (call $credit (local.get 0) (call $count (local.get 2)))
    (call $debit (local.get 1) (local.get 2))
    (i32.const 0)))"#;

const PROFILED_SCENARIOS: &str = r#"version = 1
[[scenario]]
name = "moves five"
balances = { 1 = 10 }
steps = [{ call = "f", params = [1, 2, 5], balances = { 1 = 5, 2 = 5 } }]
"#;

#[test]
fn a_profile_names_guest_functions_and_host_calls_and_totals_the_fuel_charged() {
    let dir = tempfile::tempdir().unwrap();
    let project = wat_project(dir.path(), PROFILED, PROFILED_SCENARIOS);
    let run = roda(&project, &["test", "--profile", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    let charged = json["files"][0]["scenarios"][0]["steps"][0]["fuel"].as_u64().unwrap();
    let profile = &json["profiles"][0];
    assert_eq!(profile["fuel"].as_u64(), Some(charged), "{profile:#}");
    let folded = std::fs::read_to_string(profile["folded"].as_str().unwrap()).unwrap();
    let total: u64 = folded.lines().map(|line| line.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap()).sum();
    assert_eq!(total, charged, "{folded}");
    for stack in ["execute;count ", "execute;ledger::credit 1", "execute;ledger::debit 1"] {
        assert!(folded.lines().any(|line| line.starts_with(stack)), "{stack} in\n{folded}");
    }
    assert!(!folded.contains("refuse"), "a function that never ran uses no fuel: {folded}");
    assert_eq!(
        Path::new(profile["folded"].as_str().unwrap()),
        project.join(".roda/profiles/f--moves-five.folded"),
        "the default directory, a file per scenario"
    );
    let svg = std::fs::read_to_string(profile["svg"].as_str().unwrap()).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("ledger::credit") && svg.contains("fuel"), "{svg}");

    // Human output: where the fuel went, the top functions first.
    let run = roda(&project, &["test", "--profile", "prof"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(&format!("profile moves five: {charged} fuel (count ")), "{run:?}");
    assert!(project.join("prof/f--moves-five.svg").is_file());
}

#[test]
fn coverage_by_function_without_a_line_table_and_the_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let project = wat_project(dir.path(), PROFILED, PROFILED_SCENARIOS);
    let run = roda(&project, &["test", "--lcov", "cov.lcov", "--min-coverage", "50", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let coverage = &run.json()["coverage"];
    assert_eq!(coverage["by_line"], false);
    assert_eq!((coverage["functions_hit"].as_u64(), coverage["functions"].as_u64()), (Some(2), Some(3)));
    assert_eq!(coverage["functions_not_run"], serde_json::json!(["refuse"]));
    assert_eq!(coverage["host_called"], serde_json::json!(["ledger::credit", "ledger::debit"]));
    let lcov = std::fs::read_to_string(project.join("cov.lcov")).unwrap();
    assert!(lcov.contains("FNDA:0,refuse\n") && lcov.contains("FNDA:1,count\n") && lcov.contains("FNH:2\n"), "{lcov}");

    // Under the bar: the run fails, saying by how much.
    let run = roda(&project, &["test", "--min-coverage", "80%"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stdout.contains("COVERAGE 66.7% is below --min-coverage 80%"), "{run:?}");
    assert!(run.stdout.contains("never ran: refuse"), "{run:?}");
    assert!(run.stdout.contains("test result: FAILED. 1 scenario(s) passed, 0 failed; coverage 66.7%"), "{run:?}");

    // A bar that is not a percentage, and an lcov file that cannot be written.
    let run = roda(&project, &["test", "--min-coverage", "120"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("`120` is not a percentage from 0 to 100"), "{run:?}");
    let run = roda(&project, &["test", "--lcov", "function.wat/cov.lcov"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot write the lcov file function.wat/cov.lcov"), "{run:?}");
    let run = roda(&project, &["test", "--profile", "function.wat"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("function.wat: "), "the directory that cannot be made: {run:?}");

    // Scenarios that never call the function: nothing to measure.
    std::fs::write(project.join("tests/f.toml"), "version = 1\n[[scenario]]\nname = \"idle\"\n").unwrap();
    let run = roda(&project, &["test", "--coverage"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no scenario step or fuzz run called the function"), "{run:?}");
}

#[test]
fn a_line_table_that_does_not_parse_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let wat = PROFILED.replace(
        "(module",
        r#"(module (@custom ".debug_info" "\ff\ff\ff\ff\ff\ff\ff\ff") (@custom ".debug_line" "\00")"#,
    );
    std::fs::write(dir.path().join("f.wasm"), wat::parse_str(&wat).unwrap()).unwrap();
    std::fs::write(dir.path().join("s.toml"), PROFILED_SCENARIOS).unwrap();
    let run = roda(dir.path(), &["test", "--wasm", "f.wasm", "s.toml", "--coverage"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the module's DWARF line table cannot be read"), "{run:?}");
}

#[test]
fn coverage_by_line_in_a_rust_project_leaves_a_skipped_branch_unreached() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "cov", "--lang", "rust", "--abi", "v1"]).code, 0);
    let project = dir.path().join("cov");
    // The refusal in a function of its own, which LTO keeps apart, on lines
    // of its own.
    std::fs::write(
        project.join("src/lib.rs"),
        r#"#![cfg_attr(not(test), no_std)]
use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, status};

/// Over the limit.
#[status]
pub const TOO_MUCH: Status = Status::user(140);

#[inline(never)]
fn refuse(amount: u64) -> Status {
    if amount % 2 == 0 { TOO_MUCH } else { Status::user(141) }
}

#[execute]
pub fn cov(from: AccountId, to: AccountId, amount: Amount) -> Result<(), Status> {
    if amount.get() > 1000 {
        return Err(refuse(amount.get()));
    }
    credit(from, amount.get());
    debit(to, amount.get());
    Ok(())
}
"#,
    )
    .unwrap();
    std::fs::write(
        project.join("tests/cov.toml"),
        "version = 1\n[[scenario]]\nname = \"small\"\nsteps = [{ call = \"cov\", params = [1, 2, 5] }]\n",
    )
    .unwrap();
    let run = roda(&project, &["test", "--lcov", "cov.lcov", "--min-coverage", "100", "--output", "json"]);
    assert_eq!(run.code, 5, "the skipped branch is under the bar: {run:?}");
    let coverage = &run.json()["coverage"];
    assert_eq!(coverage["by_line"], true, "{coverage:#}");
    assert_eq!(coverage["functions_not_run"], serde_json::json!(["cov::refuse"]), "{coverage:#}");
    let lcov = std::fs::read_to_string(project.join("cov.lcov")).unwrap();
    assert!(lcov.contains(&format!("SF:{}\n", project.join("src/lib.rs").display())), "{lcov}");
    let runs = |line: u32| {
        lcov.lines().find_map(|l| l.strip_prefix(&format!("DA:{line},"))).map(|n| n.parse::<u64>().unwrap())
    };
    assert_eq!(runs(10), Some(0), "the refusal's line never ran:\n{lcov}");
    assert!(runs(15).is_some_and(|n| n > 0), "the check ran:\n{lcov}");
    assert!(lcov.contains("FNDA:0,cov::refuse\n"), "{lcov}");
}

/// A status no random draw reaches: three parameters must each be one
/// value of 61.
const NESTED: &str = r#"(module
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (if (i64.eq (local.get 0) (i64.const 7))
      (then (if (i64.eq (local.get 1) (i64.const 13))
        (then (if (i64.eq (local.get 2) (i64.const 42))
          (then (return (i32.const 150))))))))
    (i32.const 0)))"#;

const NESTED_FUZZ: &str = r#"version = 1
[[scenario]]
name = "never 150"
[scenario.fuzz]
params = [{ range = [0, 60], exact = true }, { range = [0, 60], exact = true }, { range = [0, 60], exact = true }]
allowed = ["NONE"]
"#;

#[test]
fn fuzzing_guided_by_coverage_reaches_a_nested_condition() {
    let dir = tempfile::tempdir().unwrap();
    let project = wat_project(dir.path(), NESTED, NESTED_FUZZ);
    let args = ["test", "--fuzz", "8192", "--seed", "5", "--jobs", "1", "--output", "json"];
    let blind = roda(&project, &args);
    assert_eq!(blind.code, 0, "without probes the draws stay blind: {blind:?}");
    let guided = roda(&project, &[&args[..], &["--coverage"]].concat());
    assert_eq!(guided.code, 5, "{guided:?}");
    let json = guided.json();
    assert_eq!(json["fuzz"][0]["failure"]["params"], serde_json::json!([7, 13, 42]), "{json:#}");
    assert!(json["reproduce"].as_str().unwrap().ends_with("--fuzz 8192 --seed 5 --coverage"), "{json:#}");
    // The same seed, the same case, on any number of threads.
    let again =
        roda(&project, &["test", "--fuzz", "8192", "--seed", "5", "--jobs", "2", "--coverage", "--output", "json"]);
    assert_eq!(again.json()["fuzz"][0]["failure"]["params"], serde_json::json!([7, 13, 42]), "{again:?}");
}

#[test]
fn coverage_of_a_v2_function_lists_the_flag_lanes_and_kv_keys_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "x", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.path().join("x");
    // The template counts transfers in KV; a step of this file also sets
    // flag lane 2 of the sender.
    std::fs::write(
        project.join("tests/flag.toml"),
        r#"version = 2
[[scenario]]
name = "flag"
open = ["a"]
steps = [{ call = "flagger", params = ["a"] }]
"#,
    )
    .unwrap();
    let flagger = wat::parse_str(
        r#"(module
          (import "ledger" "set_flag" (func $set_flag (param i64 i32 i32)))
          (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
            (call $set_flag (local.get 0) (i32.const 2) (i32.const 1))
            (i32.const 0)))"#,
    )
    .unwrap();
    std::fs::write(project.join("flagger.wasm"), flagger).unwrap();
    let run = roda(&project, &["test", "tests/x.toml", "--coverage", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let coverage = &run.json()["coverage"];
    assert_eq!(coverage["kv_keys"], serde_json::json!(["transfers/1/0/0"]), "{coverage:#}");
    assert_eq!(coverage["flag_lanes"], serde_json::json!([]), "{coverage:#}");
    let run = roda(&project, &["test", "--wasm", "flagger.wasm", "--name", "flagger", "tests/flag.toml", "--coverage"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("  flag lanes changed: 2; KV keys written: none\n"), "{run:?}");
}
