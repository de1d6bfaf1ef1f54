//! Fuel baselines and JUnit reports from real runs, and their I/O errors.

mod support;

use roda_test::junit::Report;
use roda_test::{Costs, CostsError, FuzzOptions, Runner, ScenarioFile};

const SCENARIOS: &str = r#"version = 1
[[scenario]]
name = "moves <it>"
balances = { 101 = 20000 }
steps = [{ call = "fee", params = [101, 202, 999, 10000, 50] }, { deposit = { account = 1, amount = 1 } }]

[[scenario]]
name = "fails"
steps = [{ call = "fee", params = [101, 202, 999, 10000, 50] }]

[scenario.fuzz]
params = [{ accounts = [101] }, { value = 202 }, { value = 999 }, { range = [0, 100] }, { value = 0 }]
"#;

#[test]
fn costs_record_each_call_step_and_survive_a_round_trip() {
    let file = ScenarioFile::from_str(SCENARIOS, "tests/fee.toml").unwrap();
    let report = Runner::new(support::fee_transfer(), "fee").run_file(&file);
    let costs = Costs::from_reports([&report], ".".as_ref());
    let key = Costs::key("tests/fee.toml".as_ref(), "moves <it>", 1);
    assert_eq!(key, "tests/fee.toml › moves <it> › step 1");
    assert_eq!(costs.get(&key), report.scenarios[0].steps[0].fuel);
    assert_eq!(costs.get(&Costs::key("tests/fee.toml".as_ref(), "moves <it>", 2)), None, "built-ins use no fuel");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/costs.json");
    assert!(Costs::load(&path).unwrap().is_none(), "a missing baseline is no error");
    costs.save(&path).unwrap();
    let baseline = Costs::load(&path).unwrap().unwrap();
    assert_eq!(baseline, costs);
    assert!(baseline.regressions(&costs, 0.0).is_empty());

    let mut grown = costs.clone();
    grown.insert(key.clone(), costs.get(&key).unwrap() * 2);
    let regressions = baseline.regressions(&grown, 10.0);
    assert_eq!(regressions.len(), 1);
    assert_eq!((regressions[0].key.as_str(), regressions[0].percent), (key.as_str(), 100.0));
}

#[test]
fn a_costs_file_that_is_not_a_baseline_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("costs.json");
    std::fs::write(&path, "{ \"a\": \"lots\" }").unwrap();
    let error = Costs::load(&path).unwrap_err();
    assert!(matches!(error, CostsError::Malformed { .. }), "{error:?}");
    assert!(error.to_string().contains("not a costs file"), "{error}");

    let error = Costs::load(dir.path()).unwrap_err();
    assert!(matches!(error, CostsError::Read { .. }), "a directory: {error:?}");

    // Writing over a directory fails, and leaves it as it was.
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let error = Costs::new().save(&dir.path().join("taken")).unwrap_err();
    assert!(matches!(error, CostsError::Write { .. }), "{error:?}");
    assert!(dir.path().join("taken").is_dir());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left behind");
}

#[test]
fn junit_reports_scenarios_fuzzing_and_regressions() {
    let file = ScenarioFile::from_str(SCENARIOS, "tests/fee.toml").unwrap();
    let runner = Runner::new(support::fee_transfer(), "fee");
    let files = runner.run_file(&file);
    assert!(!files.scenarios[1].passed(), "INSUFFICIENT_FUNDS was not expected");
    let fuzz = runner.fuzz(&file, &file.scenarios[1], FuzzOptions::new(50, 1)).unwrap();
    let costs = Costs::from_reports([&files], ".".as_ref());
    let mut grown = Costs::new();
    let key = Costs::key("tests/fee.toml".as_ref(), "fails", 1);
    grown.insert(key.clone(), costs.get(&key).unwrap() + 1000);

    let mut report = Report::new("roda-test");
    report.add_file(&files);
    report.add_fuzz(&fuzz);
    report.add_regressions(&costs.regressions(&grown, 10.0));
    assert_eq!((report.passed(), report.failed()), (2, 2));
    let xml = report.render();
    assert!(xml.contains("<testsuites name=\"roda-test\" tests=\"4\" failures=\"2\">"), "{xml}");
    assert!(xml.contains("<testsuite name=\"tests/fee.toml\" tests=\"2\" failures=\"1\">"), "{xml}");
    assert!(xml.contains("name=\"moves &lt;it&gt;\"/>"), "{xml}");
    assert!(xml.contains("<failure message=\"  FAIL fails (1 step(s), "), "{xml}");
    assert!(xml.contains("<testsuite name=\"fuzz\" tests=\"1\" failures=\"0\">"), "{xml}");
    assert!(xml.contains("<testsuite name=\"costs\" tests=\"1\" failures=\"1\">"), "{xml}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/report.xml");
    report.write(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), xml);

    let error = report.write(dir.path()).unwrap_err();
    assert_eq!(error.path, dir.path());
    assert!(error.to_string().starts_with("cannot write the JUnit report"), "{error}");
}

/// A baseline means the same on every checkout: scenario files are keyed
/// by their path relative to the costs file's directory, never absolute.
#[test]
fn cost_keys_are_relative_to_the_costs_file() {
    let file = ScenarioFile::from_str(SCENARIOS, "/checkout/one/tests/fee.toml").unwrap();
    let report = Runner::new(support::fee_transfer(), "fee").run_file(&file);
    let here = Costs::from_reports([&report], "/checkout/one".as_ref());
    let key = "tests/fee.toml › moves <it> › step 1";
    assert!(here.get(key).is_some(), "{here:?}");
    let moved = ScenarioFile::from_str(SCENARIOS, "/elsewhere/two/tests/fee.toml").unwrap();
    let there =
        Costs::from_reports([&Runner::new(support::fee_transfer(), "fee").run_file(&moved)], "/elsewhere/two".as_ref());
    assert_eq!(here, there, "the same baseline from another checkout");
    let outside = Costs::from_reports([&report], "/somewhere/else".as_ref());
    assert!(outside.get("/checkout/one/tests/fee.toml › moves <it> › step 1").is_some(), "{outside:?}");
}
