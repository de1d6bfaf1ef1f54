//! `cargo roda test`.

use std::path::{Path, PathBuf};

use cargo_roda::builder;
use cargo_roda::costs::{self, Costs, Regression};
use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::fuzz::{self, FuzzOptions, FuzzResult};
use cargo_roda::junit;
use cargo_roda::output::Outcome;
use cargo_roda::scenario::{self, ScenarioResult, Subject};
use ledger_core::{LedgerConfig, Limits};
use serde::Serialize;

use super::{ProjectArgs, checked_module};

/// Run scenarios against the built .wasm in a local ledger, fuzz invariants,
/// and check fuel costs.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda test\n  cargo roda test --fuzz 100000 --seed 7\n  cargo roda test --wasm f.wasm tests/x.toml --junit report.xml\n  cargo roda test --costs costs.json            # write once, then compare"
)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Scenario files (default: the project's tests/*.toml).
    #[arg(value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Test this module instead of building the project.
    #[arg(long, value_name = "FILE")]
    pub wasm: Option<PathBuf>,
    /// Also fuzz each scenario's `[scenario.fuzz]` call this many times.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "100000")]
    pub fuzz: Option<u32>,
    /// The fuzzing seed (default: random, and printed).
    #[arg(long, requires = "fuzz")]
    pub seed: Option<u64>,
    /// Fuel per call.
    #[arg(long, default_value_t = ledger_core::DEFAULT_FUEL_PER_CALL)]
    pub fuel: u64,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A fuel baseline: written when missing, compared otherwise.
    #[arg(long, value_name = "FILE")]
    pub costs: Option<PathBuf>,
    /// Percent a step's fuel may grow over the baseline.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0, requires = "costs")]
    pub costs_tolerance: f64,
    /// Accept the current fuel as the new baseline.
    #[arg(long, requires = "costs")]
    pub update_costs: bool,
}

/// One scenario file's results.
#[derive(Debug, Serialize)]
pub struct FileResults {
    path: PathBuf,
    scenarios: Vec<ScenarioResult>,
}

/// What the fuel baseline said.
#[derive(Debug, Serialize)]
pub struct CostsReport {
    path: PathBuf,
    written: bool,
    regressions: Vec<Regression>,
}

/// Everything `cargo roda test` found.
#[derive(Debug, Serialize)]
pub struct Tested {
    function: String,
    wasm_size: usize,
    fuel_budget: u64,
    files: Vec<FileResults>,
    fuzz: Vec<FuzzResult>,
    costs: Option<CostsReport>,
    passed: usize,
    failed: usize,
}

impl Outcome for Tested {
    fn command(&self) -> &'static str {
        "test"
    }

    fn human(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            out.push_str(&format!("running {} scenario(s) from {}\n", file.scenarios.len(), file.path.display()));
            for result in &file.scenarios {
                render_scenario(&mut out, result, self.fuel_budget);
            }
        }
        for fuzz in &self.fuzz {
            out.push_str(&format!(
                "fuzz {}: {} executions in {:.2}s ({:.0}/s), seed {}\n",
                fuzz.scenario,
                fuzz.executions,
                fuzz.seconds,
                fuzz.per_second(),
                fuzz.seed
            ));
            if let Some(failure) = &fuzz.failure {
                out.push_str(&format!(
                    "  FAILED: {}\n  minimal case, ready to paste into a scenario file:\n\n{}\n  reproduce: cargo roda test --fuzz --seed {}\n",
                    failure.reason, failure.scenario, fuzz.seed
                ));
            }
        }
        if let Some(costs) = &self.costs {
            if costs.written {
                out.push_str(&format!("fuel baseline written to {}\n", costs.path.display()));
            }
            for r in &costs.regressions {
                out.push_str(&format!(
                    "FUEL REGRESSION {}: {} -> {} (+{:.1}%); accept with --update-costs\n",
                    r.key, r.baseline, r.now, r.percent
                ));
            }
        }
        let verdict = if self.failed == 0 { "ok" } else { "FAILED" };
        out.push_str(&format!("test result: {verdict}. {} passed; {} failed\n", self.passed, self.failed));
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.failed == 0 { ExitCode::Success } else { ExitCode::TestFailed }
    }
}

fn render_scenario(out: &mut String, result: &ScenarioResult, budget: u64) {
    let fuel: u64 = result.steps.iter().filter_map(|s| s.fuel).sum();
    let status = if result.passed() { "ok  " } else { "FAIL" };
    out.push_str(&format!("  {status} {} ({} step(s), {fuel} fuel)\n", result.name, result.steps.len()));
    if let Some(error) = &result.error {
        out.push_str(&format!("       {error}\n"));
    }
    for step in &result.steps {
        if let (false, Some(fuel)) = (result.passed(), step.fuel) {
            let share = fuel as f64 * 100.0 / budget as f64;
            out.push_str(&format!(
                "       step {}: {} -> {} ({fuel} fuel, {share:.4}% of the budget)\n",
                step.step, step.operation, step.status
            ));
        }
        if let Some(outcome) = &step.outcome {
            out.push_str(&format!("       step {}: the call {outcome}\n", step.step));
        }
        for lint in &step.lints {
            out.push_str(&format!("       step {}: lint[{}]: {}\n", step.step, lint.code, lint.message));
        }
    }
    if let Some(m) = &result.mismatch {
        out.push_str(&format!("       step {}: expectations not met\n", m.step));
        if let (Some(expected), Some(actual)) = (&m.expected_status, &m.actual_status) {
            out.push_str(&format!("         expected status {expected}, got {actual}\n"));
        }
        if !m.balances.is_empty() {
            out.push_str(&format!("         {:>12} {:>20} {:>20}\n", "account", "expected", "actual"));
            for (account, expected, actual) in &m.balances {
                out.push_str(&format!("         {account:>12} {expected:>20} {actual:>20}\n"));
            }
        }
        if let Some((expected, actual)) = &m.entries {
            out.push_str(&format!("         expected entries: [{}]\n", expected.join(", ")));
            out.push_str(&format!("         actual entries:   [{}]\n", actual.join(", ")));
        }
    }
}

fn failure_text(result: &ScenarioResult, fuel_budget: u64) -> Option<String> {
    if result.passed() {
        return None;
    }
    let mut text = String::new();
    render_scenario(&mut text, result, fuel_budget);
    Some(text)
}

fn scenario_files(args: &Args, root: Option<&Path>) -> Result<Vec<PathBuf>, Error> {
    if !args.scenarios.is_empty() {
        return Ok(args.scenarios.clone());
    }
    let dir = root.unwrap_or(Path::new(".")).join("tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| {
            Error::other(ExitCode::Error, format!("cannot list {}: {e}; pass scenario files explicitly", dir.display()))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::other(ExitCode::Error, format!("no scenario files (*.toml) in {}", dir.display())));
    }
    Ok(files)
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Tested, Error> {
    let module = checked_module(
        &args.project,
        args.wasm.as_deref(),
        true,
        "the module fails validation; fix it before testing",
    )?;
    let root = module.project.map(|p| p.root);
    let subject = Subject { name: module.name, wasm: module.bytes };
    let config =
        LedgerConfig { limits: Limits { fuel_per_call: args.fuel, ..Limits::default() }, ..LedgerConfig::default() };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    let mut files = Vec::new();
    let mut fuzzed = Vec::new();
    let mut now = Costs::new();
    for path in scenario_files(&args, root.as_deref())? {
        let loaded = scenario::load(&path).map_err(|e| Error::other(ExitCode::Error, e.to_string()))?;
        let mut scenarios = Vec::new();
        for scenario in &loaded.file.scenarios {
            let result = scenario::run_scenario(&subject, &loaded, scenario, &config);
            for step in &result.steps {
                if let Some(fuel) = step.fuel {
                    now.insert(costs::key(&path, &scenario.name, step.step), fuel);
                }
            }
            scenarios.push(result);
            if let (Some(cases), Some(spec)) = (args.fuzz, &scenario.fuzz) {
                let options = FuzzOptions { cases, seed };
                let result = fuzz::fuzz(&subject, &loaded, scenario, spec, &config, options)
                    .map_err(|e| Error::other(ExitCode::Error, format!("{}: {e}", path.display())))?;
                fuzzed.push(result);
            }
        }
        files.push(FileResults { path, scenarios });
    }
    if args.fuzz.is_some() && fuzzed.is_empty() {
        return Err(Error::other(ExitCode::Error, "--fuzz needs a [scenario.fuzz] table in a scenario file"));
    }
    let costs = match &args.costs {
        None => None,
        Some(path) => {
            let baseline = costs::load(path).map_err(|e| Error::other(ExitCode::Error, e))?;
            match baseline {
                Some(baseline) if !args.update_costs => Some(CostsReport {
                    path: path.clone(),
                    written: false,
                    regressions: costs::compare(&baseline, &now, args.costs_tolerance),
                }),
                _ => {
                    costs::save(path, &now).map_err(|e| Error::other(ExitCode::Error, e))?;
                    Some(CostsReport { path: path.clone(), written: true, regressions: Vec::new() })
                }
            }
        }
    };
    let mut cases = Vec::new();
    for file in &files {
        for result in &file.scenarios {
            cases.push(junit::Case {
                suite: file.path.display().to_string(),
                name: result.name.clone(),
                failure: failure_text(result, args.fuel),
            });
        }
    }
    for f in &fuzzed {
        cases.push(junit::Case {
            suite: "fuzz".into(),
            name: f.scenario.clone(),
            failure: f.failure.as_ref().map(|x| format!("{}\n{}", x.reason, x.scenario)),
        });
    }
    for r in costs.iter().flat_map(|c| &c.regressions) {
        cases.push(junit::Case {
            suite: "costs".into(),
            name: r.key.clone(),
            failure: Some(format!("fuel {} -> {} (+{:.1}%)", r.baseline, r.now, r.percent)),
        });
    }
    if let Some(path) = &args.junit {
        builder::write_atomically(path, junit::render(&cases).as_bytes())?;
    }
    let failed = cases.iter().filter(|c| c.failure.is_some()).count();
    Ok(Tested {
        function: subject.name,
        wasm_size: subject.wasm.len(),
        fuel_budget: args.fuel,
        files,
        fuzz: fuzzed,
        costs,
        passed: cases.len() - failed,
        failed,
    })
}
