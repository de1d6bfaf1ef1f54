//! `cargo roda test`.

use std::path::{Path, PathBuf};

use cargo_roda::builder::BuildProfile;
use cargo_roda::coverage::{Coverage, PROJECT_PREFIX, Sources, Symbols};
use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::flame;
use cargo_roda::output::Outcome;
use cargo_roda::project::{Language, Origin, Project};
use ledger_core::LedgerConfig;
use ledger_core::probe::{ProbeError, Recording};
use roda_test::junit;
use roda_test::{Costs, FileReport, FuzzOptions, FuzzReport, Regression, Runner, ScenarioFile};
use serde::Serialize;

use super::{ProjectArgs, checked_module};

/// `--fuzz` without N: the count docs/scenarios.md states.
const DEFAULT_FUZZ_CASES: &str = "10000";

/// Run scenarios against the built .wasm in a local ledger, fuzz invariants,
/// and check fuel costs.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda test\n  cargo roda test --fuzz 100000 --seed 7 --jobs 2\n  cargo roda test --wasm f.wasm tests/x.toml --junit report.xml\n  cargo roda test --costs costs.json            # write once, then compare\n  cargo roda test --server http://127.0.0.1:50051   # also on a live server, step by step\n  cargo roda test --fork http://ledger.internal:50051@1200"
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
    /// Also fuzz each scenario's `[scenario.fuzz]` call N times (10000 when
    /// N is left out).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = DEFAULT_FUZZ_CASES)]
    pub fuzz: Option<u32>,
    /// The fuzzing seed (default: random, and printed).
    #[arg(long, requires = "fuzz")]
    pub seed: Option<u64>,
    /// Fuzzing threads (default: one per core); a seed finds the same case
    /// whatever their number.
    #[arg(long, value_name = "N", requires = "fuzz")]
    pub jobs: Option<std::num::NonZeroUsize>,
    #[command(flatten)]
    pub limits: super::LimitArgs,
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
    #[command(flatten)]
    pub abi: super::AbiArgs,
    /// Also run the scenarios on the live server at URL, the function
    /// deployed under a run-unique name, and compare each step's answer with
    /// the simulator's (exit 5 when a scenario fails there).
    #[arg(long, value_name = "URL", conflicts_with_all = ["fuzz", "fork"])]
    pub server: Option<String>,
    /// Run the scenarios on a fork of the live HEAD ledger at URL, as it was
    /// at transaction TX (default: its last), instead of a fresh ledger.
    #[arg(long, value_name = "URL[@TX]", conflicts_with = "fuzz")]
    pub fork: Option<String>,
    /// Every `.wasm` and `.wat` file in DIR is a module the fork may run
    /// for the functions it holds (the one under test is always this build).
    #[arg(long, value_name = "DIR", requires = "fork")]
    pub functions: Option<PathBuf>,
    /// Run again each time the project's sources or scenarios change,
    /// printing each run's report, until interrupted (human output only).
    #[arg(long, conflicts_with = "wasm")]
    pub watch: bool,
    /// Write where each scenario's (and fuzz run's) fuel went into DIR
    /// (default: .roda/profiles): folded stacks, which speedscope opens,
    /// and an SVG flame graph, guest functions named and host calls as
    /// leaves.
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with = "fork")]
    pub profile: Option<Option<PathBuf>>,
    /// Report which of the function's code the scenarios and fuzzing ran:
    /// by source line when the build has a line table (Rust projects), by
    /// function otherwise; and the host calls made and statuses returned.
    #[arg(long)]
    pub coverage: bool,
    /// Write the coverage as an lcov tracefile (implies --coverage).
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,
    /// Fail when less than PERCENT of the code ran (implies --coverage).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub min_coverage: Option<f64>,
}

/// A percentage, 0 to 100.
fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100 (write 80 or 80%)")),
    }
}

impl Args {
    fn coverage_wanted(&self) -> bool {
        self.coverage || self.lcov.is_some() || self.min_coverage.is_some()
    }

    /// Whether the scenarios run on a probing ledger: for profiles,
    /// coverage, and the fuel by function a cost baseline keeps.
    fn probing(&self) -> bool {
        self.profile.is_some() || self.coverage_wanted() || self.costs.is_some()
    }
}

/// What the coverage was.
#[derive(Debug, Serialize)]
pub struct CoverageReport {
    /// Percent of the lines (or, without a line table, functions) that ran.
    percent: f64,
    /// By source line (else by function).
    by_line: bool,
    lines_hit: usize,
    lines: usize,
    functions_hit: usize,
    functions: usize,
    /// Functions that never ran.
    functions_not_run: Vec<String>,
    /// Host imports called, and never called.
    host_called: Vec<String>,
    host_not_called: Vec<String>,
    /// Statuses the scenarios' calls of the function returned, with counts.
    statuses: std::collections::BTreeMap<String, usize>,
    /// The flag lanes and KV keys the scenarios' transactions wrote (v2).
    #[serde(flatten)]
    writes: ledger_core::Writes,
    /// The lcov file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    lcov: Option<PathBuf>,
    /// The bar, and whether the run fell below it.
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    below_min: bool,
    /// Why names or lines are missing, when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
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
    files: Vec<FileReport>,
    fuzz: Vec<FuzzReport>,
    costs: Option<CostsReport>,
    passed: usize,
    failed: usize,
    /// The command that runs the same fuzzing again (with the seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    reproduce: Option<String>,
    /// The run on a live server (`--server`).
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<roda_rpc::live::LiveRun>,
    /// Where the scenarios ran (`--fork`): the fork's source and transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    fork: Option<Forked>,
    /// The fuel profiles written (`--profile`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    profiles: Vec<Profile>,
    /// What the scenarios reached (`--coverage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<CoverageReport>,
}

/// A fuel profile written.
#[derive(Debug, Serialize)]
pub struct Profile {
    /// The scenario (and ` (fuzz)` for a fuzz run).
    scenario: String,
    #[serde(flatten)]
    written: cargo_roda::flame::Written,
    /// The functions that used the most fuel themselves, most first.
    top: Vec<(String, u64)>,
}

/// The fork the scenarios ran on.
#[derive(Debug, Serialize)]
pub struct Forked {
    source: String,
    at: u64,
    /// Functions on the fork whose binary was not given: calls to them fail
    /// with status 5.
    unmatched: Vec<ledger_core::FunctionInfo>,
}

impl Outcome for Tested {
    fn command(&self) -> &'static str {
        "test"
    }

    fn human(&self) -> String {
        let mut out = String::new();
        if let Some(fork) = &self.fork {
            out.push_str(&format!("on a fork of {} at transaction {}\n", fork.source, fork.at));
            for function in &fork.unmatched {
                out.push_str(&format!(
                    "  warning: no binary for `{}` v{} (crc32c {:08x}): its calls fail with 5; pass its build with --functions DIR\n",
                    function.name, function.version, function.crc32c
                ));
            }
        }
        for file in &self.files {
            out.push_str(&file.to_string());
        }
        for fuzz in &self.fuzz {
            render_fuzz(&mut out, fuzz, self.reproduce.as_deref().unwrap_or_default());
        }
        if let Some(costs) = &self.costs {
            render_costs(&mut out, costs);
        }
        for profile in &self.profiles {
            let top: Vec<String> = profile.top.iter().map(|(name, fuel)| format!("{name} {fuel}")).collect();
            out.push_str(&format!(
                "profile {}: {} fuel ({}); {}\n",
                profile.scenario,
                profile.written.fuel,
                top.join(", "),
                profile.written.svg.display()
            ));
        }
        if let Some(coverage) = &self.coverage {
            render_coverage(&mut out, coverage);
        }
        if let Some(live) = &self.live {
            out.push_str(&live.to_string());
        }
        let verdict = if self.failed == 0 { "ok" } else { "FAILED" };
        let scenarios: Vec<&roda_test::ScenarioReport> = self.files.iter().flat_map(|f| &f.scenarios).collect();
        let scenarios_failed = scenarios.iter().filter(|s| !s.passed()).count();
        let mut parts =
            vec![format!("{} scenario(s) passed, {scenarios_failed} failed", scenarios.len() - scenarios_failed)];
        if !self.fuzz.is_empty() {
            let fuzz_failed = self.fuzz.iter().filter(|f| f.failure.is_some()).count();
            parts.push(format!("{} fuzzed, {fuzz_failed} failed", self.fuzz.len()));
        }
        if let Some(costs) = &self.costs {
            parts.push(format!("{} fuel regression(s)", costs.regressions.len()));
        }
        if let Some(coverage) = &self.coverage {
            parts.push(format!("coverage {:.1}%", coverage.percent));
        }
        if let Some(live) = &self.live {
            let not_run = live
                .scenarios()
                .filter(|s| matches!(s.outcome, roda_rpc::live::LiveOutcome::NotReproducible { .. }))
                .count();
            let disagreed =
                live.scenarios().filter(|s| matches!(s.outcome, roda_rpc::live::LiveOutcome::Disagreed { .. })).count();
            let mut part = format!("on the server {} failed", live.failed());
            if disagreed > 0 {
                part.push_str(&format!(" ({disagreed} where server and simulator disagree)"));
            }
            if not_run > 0 {
                part.push_str(&format!(", {not_run} could not be run there"));
            }
            parts.push(part);
        }
        out.push_str(&format!("test result: {verdict}. {}\n", parts.join("; ")));
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.failed == 0 { ExitCode::Success } else { ExitCode::TestFailed }
    }
}

fn render_fuzz(out: &mut String, fuzz: &FuzzReport, reproduce: &str) {
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
            "  FAILED: {}\n  minimal case, ready to paste into the scenario file:\n\n{}\n  reproduce: {reproduce}\n",
            failure.reason, failure.scenario
        ));
    }
}

fn render_costs(out: &mut String, costs: &CostsReport) {
    if costs.written {
        out.push_str(&format!("fuel baseline written to {}\n", costs.path.display()));
    }
    for r in &costs.regressions {
        out.push_str(&format!(
            "FUEL REGRESSION {}: {} -> {} (+{:.1}%); accept with --update-costs\n",
            r.key, r.baseline, r.now, r.percent
        ));
        for growth in &r.functions {
            out.push_str(&format!(
                "  {} used {} more fuel: {} -> {}\n",
                growth.name,
                growth.now - growth.baseline,
                growth.baseline,
                growth.now
            ));
        }
    }
}

fn render_coverage(out: &mut String, coverage: &CoverageReport) {
    if coverage.by_line {
        out.push_str(&format!(
            "coverage: {} of {} lines ({:.1}%), {} of {} functions\n",
            coverage.lines_hit, coverage.lines, coverage.percent, coverage.functions_hit, coverage.functions
        ));
    } else {
        out.push_str(&format!(
            "coverage: {} of {} functions ({:.1}%; no line table, so by function)\n",
            coverage.functions_hit, coverage.functions, coverage.percent
        ));
    }
    if !coverage.functions_not_run.is_empty() {
        out.push_str(&format!("  never ran: {}\n", coverage.functions_not_run.join(", ")));
    }
    let list = |names: &[String]| if names.is_empty() { "none".to_owned() } else { names.join(", ") };
    out.push_str(&format!(
        "  host calls made: {}; never made: {}\n",
        list(&coverage.host_called),
        list(&coverage.host_not_called)
    ));
    let statuses: Vec<String> = coverage.statuses.iter().map(|(status, n)| format!("{status} ×{n}")).collect();
    out.push_str(&format!("  statuses returned: {}\n", list(&statuses)));
    if !coverage.writes.is_empty() {
        let lanes: Vec<String> = coverage.writes.flag_lanes.iter().map(u8::to_string).collect();
        let keys: Vec<String> = coverage.writes.kv_keys.iter().cloned().collect();
        out.push_str(&format!("  flag lanes changed: {}; KV keys written: {}\n", list(&lanes), list(&keys)));
    }
    if let Some(note) = &coverage.note {
        out.push_str(&format!("  note: {note}\n"));
    }
    if let Some(path) = &coverage.lcov {
        out.push_str(&format!("  lcov written to {}\n", path.display()));
    }
    if let Some(min) = coverage.min.filter(|_| coverage.below_min) {
        out.push_str(&format!("COVERAGE {:.1}% is below --min-coverage {min}%\n", coverage.percent));
    }
}

/// The files named, else the project's `tests/*.toml`, loaded. A crate
/// without a Roda.toml and without scenarios (one made elsewhere) has
/// nothing to run, which is said; a Roda.toml project without any is an
/// error.
fn scenario_files(
    args: &Args,
    project: Option<&Project>,
    interfaces: &roda_test::Interfaces,
) -> Result<Vec<ScenarioFile>, Error> {
    if !args.scenarios.is_empty() {
        return Ok(args
            .scenarios
            .iter()
            .map(|path| ScenarioFile::from_path_with(path, interfaces))
            .collect::<Result<_, _>>()?);
    }
    let dir = project.map_or(Path::new("."), |p| p.root.as_path()).join("tests");
    let foreign_crate = project.is_some_and(|p| matches!(p.origin, Origin::Crate { .. }));
    match ScenarioFile::from_dir_with(&dir, interfaces) {
        Err(roda_test::ScenarioError::NoFiles { .. } | roda_test::ScenarioError::ListDir { .. }) if foreign_crate => {
            eprintln!(
                "warning: no scenario files in {}: only the build and validation ran; write one (`cargo roda new NAME` shows the format, and docs/scenarios.md)",
                dir.display()
            );
            Ok(Vec::new())
        }
        other => Ok(other?),
    }
}

/// Fuzzes every scenario with a `[scenario.fuzz]` table.
fn fuzz_all(runner: &Runner, files: &[ScenarioFile], options: FuzzOptions) -> Result<Vec<FuzzReport>, Error> {
    let mut reports = Vec::new();
    for file in files {
        for scenario in file.scenarios.iter().filter(|s| s.fuzz.is_some()) {
            reports.push(runner.fuzz(file, scenario, options)?);
        }
    }
    if reports.is_empty() {
        return Err(Error::NothingToFuzz);
    }
    Ok(reports)
}

/// Compares the fuel now with the baseline at `path`, or writes it there
/// when it is missing or `--update-costs` says so.
fn check_costs(path: &Path, now: &Costs, args: &Args) -> Result<CostsReport, Error> {
    let path = path.to_path_buf();
    match Costs::load(&path)? {
        Some(baseline) if !args.update_costs => {
            let regressions = baseline.regressions(now, args.costs_tolerance);
            Ok(CostsReport { path, written: false, regressions })
        }
        _ => {
            now.save(&path)?;
            Ok(CostsReport { path, written: true, regressions: Vec::new() })
        }
    }
}

/// A seed from the clock, for runs without `--seed`; printed with the result.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Tested, Error> {
    if args.watch {
        return watch(&args);
    }
    run(&args)
}

/// Runs the tests, then again at each change of the project's files; each
/// report is printed as the run ends. Returns only when the watcher fails.
fn watch(args: &Args) -> Result<Tested, Error> {
    let project = args.project.load()?;
    let watcher = cargo_roda::watch::Watcher::new(&project.root)?;
    loop {
        match run(args) {
            Ok(tested) => {
                let verdict = if tested.exit_code() == ExitCode::Success { "passed" } else { "FAILED" };
                print!("{}", tested.human());
                eprintln!("cargo roda test: {verdict}; watching {} for changes", project.root.display());
            }
            Err(error) => eprintln!("error: {error}\ncargo roda test: watching {} for changes", project.root.display()),
        }
        eprintln!("cargo roda test: {}", cargo_roda::watch::describe(&watcher.next_change()?));
    }
}

/// One run: build, validate, scenarios, then what the flags ask for.
fn run(args: &Args) -> Result<Tested, Error> {
    let module = checked_module(
        &args.project,
        args.wasm.as_deref(),
        true,
        "the module fails validation; fix it before testing",
        &args.abi,
    )?;
    let interfaces = roda_test::Interfaces::of(&module.name, &module.bytes);
    let files = scenario_files(args, module.project.as_ref(), &interfaces)?;
    let config = LedgerConfig { limits: args.limits.limits(), probe: args.probing(), ..LedgerConfig::default() };
    let runner = Runner::new(module.bytes, module.name).with_config(config).with_profile(module.abi.profile());
    let (mut reports, fork) = match &args.fork {
        Some(source) => on_fork(&runner, &files, source, args.functions.as_ref())?,
        None => (files.iter().map(|file| runner.run_file(file)).collect(), None),
    };
    let live = match &args.server {
        Some(url) => Some(on_server(url, &runner, &files)?),
        None => None,
    };
    let seed = args.seed.unwrap_or_else(clock_seed);
    let mut fuzzed = match args.fuzz {
        Some(cases) => {
            let options = FuzzOptions::new(cases, seed);
            fuzz_all(&runner, &files, FuzzOptions { jobs: args.jobs.unwrap_or(options.jobs), ..options })?
        }
        None => Vec::new(),
    };
    let reproduce = args.fuzz.map(|cases| reproduce(args, cases, seed));
    let symbols = match args.probing() {
        true => symbols(module.project.as_ref(), runner.wasm(), args.wasm.is_some())?,
        false => Symbols::default(),
    };
    let recordings = reports
        .iter_mut()
        .flat_map(|file| &mut file.scenarios)
        .map(|scenario| &mut scenario.recording)
        .chain(fuzzed.iter_mut().map(|fuzz| &mut fuzz.recording));
    for recording in recordings.flatten().flatten() {
        symbols.name(recording);
    }
    let profiles = match &args.profile {
        Some(dir) => {
            write_profiles(&profile_dir(dir.as_ref(), module.project.as_ref()), runner.function(), &reports, &fuzzed)?
        }
        None => Vec::new(),
    };
    let coverage = match args.coverage_wanted() {
        true => Some(coverage(args, &symbols, module.project.as_ref(), &runner, &reports, &fuzzed, fork.is_some())?),
        false => None,
    };
    let costs = match &args.costs {
        Some(path) => {
            let costs_dir = path.parent().unwrap_or(Path::new("."));
            Some(check_costs(path, &Costs::from_reports(&reports, costs_dir), args)?)
        }
        None => None,
    };
    let mut junit = junit::Report::new("cargo roda test");
    reports.iter().for_each(|file| junit.add_file(file));
    fuzzed.iter().for_each(|fuzz| junit.add_fuzz(fuzz));
    junit.add_regressions(costs.as_ref().map_or(&[], |c| &c.regressions));
    if let Some(path) = &args.junit {
        junit.write(path)?;
    }
    Ok(Tested {
        function: runner.function().to_owned(),
        wasm_size: runner.wasm().len(),
        fuel_budget: runner.fuel_per_call(),
        files: reports,
        fuzz: fuzzed,
        costs,
        passed: junit.passed(),
        failed: junit.failed()
            + live.as_ref().map_or(0, roda_rpc::live::LiveRun::failed)
            + usize::from(coverage.as_ref().is_some_and(|c| c.below_min)),
        reproduce,
        live,
        fork,
        profiles,
        coverage,
    })
}

/// The symbols that name the recordings' functions and lines: a project's
/// symbols build (see [`BuildProfile::Symbols`]), else the module's own.
fn symbols(project: Option<&Project>, wasm: &[u8], given: bool) -> Result<Symbols, Error> {
    // A WAT build keeps the names its source gives.
    let build = match project.filter(|p| !given && p.file.function.language != Language::Wat) {
        Some(project) => Some(roda_test::fs::load_module(&super::build_project(project, BuildProfile::Symbols)?)?),
        None => None,
    };
    Ok(Symbols::of(wasm, build.as_deref())?)
}

/// `--profile`'s directory: as given, or `.roda/profiles` in the project
/// (in the current directory outside one).
fn profile_dir(given: Option<&PathBuf>, project: Option<&Project>) -> PathBuf {
    match (given, project) {
        (Some(dir), _) => dir.clone(),
        (None, Some(project)) => project.root.join(".roda/profiles"),
        (None, None) => PathBuf::from(".roda/profiles"),
    }
}

/// Writes a profile of each scenario and fuzz run that recorded one.
fn write_profiles(
    dir: &Path,
    function: &str,
    reports: &[FileReport],
    fuzzed: &[FuzzReport],
) -> Result<Vec<Profile>, Error> {
    let mut profiles = Vec::new();
    let mut write = |recording: &Recording, stem: String, scenario: String| -> Result<(), Error> {
        let title = format!("{function}: {scenario} (fuel)");
        let written = cargo_roda::flame::write(recording, dir, &stem, &title)?;
        let top = recording.self_fuel().into_iter().take(3).collect();
        profiles.push(Profile { scenario, written, top });
        Ok(())
    };
    for file in reports {
        let file_stem = file.path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        for scenario in &file.scenarios {
            if let Some(recording) = probed(&scenario.recording)? {
                write(
                    recording,
                    format!("{}--{}", flame::file_stem(&file_stem), flame::file_stem(&scenario.name)),
                    scenario.name.clone(),
                )?;
            }
        }
    }
    for fuzz in fuzzed {
        if let Some(recording) = probed(&fuzz.recording)? {
            write(
                recording,
                format!("fuzz--{}", flame::file_stem(&fuzz.scenario)),
                format!("{} (fuzz)", fuzz.scenario),
            )?;
        }
    }
    Ok(profiles)
}

/// A recording that used fuel, or the error that the module could not be
/// probed.
fn probed(recording: &Option<Result<Recording, ProbeError>>) -> Result<Option<&Recording>, Error> {
    match recording {
        Some(Ok(recording)) if recording.total_fuel() == 0 && recording.blocks.iter().all(|&runs| runs == 0) => {
            Ok(None)
        }
        Some(Ok(recording)) => Ok(Some(recording)),
        Some(Err(error)) => Err(Error::Probe(error.clone())),
        None => Ok(None),
    }
}

/// What the scenarios and fuzz runs reached, written as lcov when asked.
fn coverage(
    args: &Args,
    symbols: &Symbols,
    project: Option<&Project>,
    runner: &Runner,
    reports: &[FileReport],
    fuzzed: &[FuzzReport],
    forked: bool,
) -> Result<CoverageReport, Error> {
    let sources = project.map(|project| Sources { prefix: PROJECT_PREFIX, root: &project.root });
    let scenarios = reports.iter().flat_map(|file| &file.scenarios);
    // On a fork every scenario ran on one ledger: the last one's recording
    // holds them all.
    let recordings: Vec<&Option<Result<Recording, ProbeError>>> = match forked {
        true => scenarios.clone().last().map(|s| &s.recording).into_iter().collect(),
        false => scenarios.clone().map(|s| &s.recording).chain(fuzzed.iter().map(|f| &f.recording)).collect(),
    };
    let recordings: Vec<&Recording> =
        recordings.into_iter().map(probed).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect();
    let total = Coverage::of_all(recordings, symbols.lines.as_ref(), sources.as_ref()).ok_or_else(|| {
        Error::Usage("no scenario step or fuzz run called the function, so there is no coverage to report: add a step that calls it".into())
    })?;
    let mut statuses = std::collections::BTreeMap::new();
    let mut writes = ledger_core::Writes::default();
    for step in scenarios.flat_map(|s| &s.steps) {
        if matches!(&step.operation, roda_test::Action::Call { function, .. } if function == runner.function()) {
            *statuses.entry(step.describe(step.status)).or_insert(0) += 1;
            writes.add(&step.writes);
        }
    }
    if let Some(path) = &args.lcov {
        let module = project.map_or_else(|| args.wasm.clone().unwrap_or_default(), cargo_roda::builder::last_build);
        roda_test::fs::write_atomically(path, total.lcov(&module).as_bytes())
            .map_err(Error::io(format!("cannot write the lcov file {}", path.display())))?;
    }
    let (lines_hit, lines) = total.lines();
    let percent = total.percent();
    Ok(CoverageReport {
        percent,
        by_line: total.by_line(),
        lines_hit,
        lines,
        functions_hit: total.functions_hit(),
        functions: total.functions.len(),
        functions_not_run: total.functions.iter().filter(|f| f.runs == 0).map(|f| f.name.clone()).collect(),
        host_called: total.host_called,
        host_not_called: total.host_not_called,
        statuses,
        writes,
        lcov: args.lcov.clone(),
        min: args.min_coverage,
        below_min: args.min_coverage.is_some_and(|min| percent < min),
        note: symbols.note.clone(),
    })
}

/// Runs the scenarios on a fork of the ledger at `source` (`URL[@TX]`).
fn on_fork(
    runner: &Runner,
    files: &[ScenarioFile],
    source: &str,
    functions: Option<&PathBuf>,
) -> Result<(Vec<FileReport>, Option<Forked>), Error> {
    if runner.profile().id != ledger_core::abi::ProfileId::V2 {
        return Err(Error::Usage(format!(
            "--fork runs on a fork of a HEAD (e14b146) ledger, on ABI v2; this function is ABI {}: set `abi = \"v2\"` or pass --abi v2",
            runner.profile().name
        )));
    }
    // The function under test is this build, already made.
    let mut binaries = super::module_files(None, &[], functions)?;
    binaries.push(runner.wasm().to_vec());
    let forked = super::fork("test", source, &binaries, runner.ledger_config().clone())?;
    let reports = runner.run_files_on(files, forked.ledger)?;
    Ok((reports, Some(Forked { source: source.to_owned(), at: forked.at, unmatched: forked.unmatched })))
}

/// Runs the scenarios on the live server at `url`, beside the simulator.
fn on_server(url: &str, runner: &Runner, files: &[ScenarioFile]) -> Result<roda_rpc::live::LiveRun, Error> {
    roda_rpc::client::check_server_url(url).map_err(Error::Usage)?;
    // The clock's low bits make the run's names and user_refs its own.
    let run_id = clock_seed() as u32;
    super::block_on(async {
        let client = roda_rpc::client::Client::connect(&roda_rpc::client::Endpoint::new(url)).await?;
        Ok(roda_rpc::live::run(&client, runner, files, run_id).await?)
    })?
}

/// The command line that fuzzes the same files, module and function with
/// the same count and seed, so that it finds the same case.
fn reproduce(args: &Args, cases: u32, seed: u64) -> String {
    let mut line = String::from("cargo roda test");
    for path in &args.scenarios {
        line.push(' ');
        line.push_str(&shell_word(&path.display().to_string()));
    }
    let flags = [
        ("--wasm", args.wasm.as_ref().map(|p| p.display().to_string())),
        ("--name", args.project.name.clone()),
        ("--project", args.project.project.as_ref().map(|p| p.display().to_string())),
        ("--abi", args.abi.abi.map(|abi| abi.id().to_owned())),
    ];
    for (flag, value) in flags {
        if let Some(value) = value {
            line.push_str(&format!(" {flag} {}", shell_word(&value)));
        }
    }
    if args.limits.fuel != ledger_core::DEFAULT_FUEL_PER_CALL {
        line.push_str(&format!(" --fuel {}", args.limits.fuel));
    }
    line.push_str(&format!(" --fuzz {cases} --seed {seed}"));
    // Probing guides the fuzzing: the same seed finds the same case only
    // with it.
    if args.probing() {
        line.push_str(" --coverage");
    }
    line
}

/// `word` quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b)) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
