//! `cargo roda diff`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use roda_test::diff::StepChange;
use roda_test::{FuzzOptions, FuzzReport, Runner, ScenarioFile};
use serde::Serialize;

use super::{AbiArgs, ProjectArgs, checked_module};

/// Fuzzed draws per scenario when `--fuzz` is not given.
pub const DEFAULT_DIFF_CASES: u32 = 1000;

/// What a new version of a function changes: its interface (imports,
/// exports, and the manifest's parameters, statuses and constants), then
/// its behaviour: the project's scenarios and fuzzed draws
/// of their `[scenario.fuzz]` calls through both binaries from identical
/// states, every input where the answers differ (fuzzed ones shrunk).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda diff                          # the last recorded deployment against this build\n  cargo roda diff old.wasm                 # old.wasm against this build\n  cargo roda diff old.wasm new.wasm --scenario tests/x.toml --name f --fuzz 10000\n\nExit code 5 when the behaviour changed."
)]
pub struct Args {
    /// The old module (default: the last deployment recorded in
    /// .roda/deployments.toml, rebuilt at its revision and checked against
    /// its SHA-256).
    #[arg(value_name = "OLD")]
    pub old: Option<PathBuf>,
    /// The new module (default: the project's build).
    #[arg(value_name = "NEW")]
    pub new: Option<PathBuf>,
    /// Scenario files (repeatable; default: the project's tests/*.toml).
    #[arg(long = "scenario", value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    /// Fuzzed draws per scenario with a `[scenario.fuzz]` table.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DIFF_CASES)]
    pub fuzz: u32,
    /// The fuzzing seed (default: from the clock, and printed).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub abi: AbiArgs,
}

/// What changed.
#[derive(Debug, Serialize)]
pub struct Diffed {
    function: String,
    /// Where the old binary came from.
    old: String,
    /// Their SHA-256s: old, new.
    sha256: [String; 2],
    #[serde(flatten)]
    changes: Changes,
}

/// An upgrade's changes, interface and behaviour.
#[derive(Debug, Serialize)]
pub struct Changes {
    /// Imports, exports, parameters, statuses and constants added (`+`)
    /// or removed (`-`).
    pub interface: Vec<String>,
    /// Per scenario, the first step where the binaries answer differently.
    pub steps: Vec<StepChange>,
    /// Per fuzzed scenario, the smallest draw where they answer
    /// differently, if one was found.
    pub fuzz: Vec<FuzzReport>,
    /// The seed the fuzzing used.
    pub seed: u64,
}

impl Changes {
    /// Whether the behaviour changed (an interface change alone does not
    /// count: it shows in the behaviour when it matters).
    pub fn behaviour_changed(&self) -> bool {
        !self.steps.is_empty() || self.fuzz.iter().any(|f| f.failure.is_some())
    }

    /// The changes as text.
    pub fn human(&self) -> String {
        let mut out = String::new();
        match self.interface.is_empty() {
            true => out.push_str("interface: the same imports, exports, parameters, statuses and constants\n"),
            false => out.push_str(&format!("interface:\n  {}\n", self.interface.join("\n  "))),
        }
        for change in &self.steps {
            out.push_str(&format!(
                "CHANGED {} (line {}), step {}: {}\n",
                change.scenario, change.line, change.step, change.operation
            ));
            for d in &change.differences {
                out.push_str(&format!("  {}: old {}, new {}\n", d.what, d.left, d.right));
            }
        }
        for fuzz in &self.fuzz {
            match &fuzz.failure {
                None => out.push_str(&format!(
                    "fuzz {}: {} draws, the same answers (seed {})\n",
                    fuzz.scenario, fuzz.executions, fuzz.seed
                )),
                Some(failure) => out.push_str(&format!(
                    "CHANGED fuzz {}: {}\n  the smallest draw, as a scenario (expecting the new answer):\n\n{}\n",
                    fuzz.scenario, failure.reason, failure.scenario
                )),
            }
        }
        out.push_str(match self.behaviour_changed() {
            true => "behaviour changed\n",
            false => "no behaviour change found\n",
        });
        out
    }
}

impl Outcome for Diffed {
    fn command(&self) -> &'static str {
        "diff"
    }

    fn human(&self) -> String {
        format!(
            "`{}`: old {} ({}), new {}\n{}",
            self.function,
            self.old,
            &self.sha256[0][..12],
            &self.sha256[1][..12],
            self.changes.human()
        )
    }

    fn exit_code(&self) -> ExitCode {
        if self.changes.behaviour_changed() { ExitCode::TestFailed } else { ExitCode::Success }
    }
}

/// What `old` and `new` (binaries of `function`, of the ABI `runner`s run)
/// do differently on `files`: the interface, each scenario's steps, and
/// `cases` fuzzed draws of each fuzz table.
///
/// # Errors
///
/// A scenario that cannot start on either binary, or fuzzing that gives up.
pub fn changes(old: &Runner, new: &Runner, files: &[ScenarioFile], cases: u32, seed: u64) -> Result<Changes, Error> {
    let interface = interface_changes(old.wasm(), new.wasm());
    let steps = new
        .changes_from(old, files)
        .map_err(|(scenario, error)| Error::Usage(format!("scenario `{scenario}` cannot start: {error}")))?;
    let mut fuzz = Vec::new();
    if cases > 0 {
        for file in files {
            for scenario in file.scenarios.iter().filter(|s| s.fuzz.is_some()) {
                fuzz.push(new.fuzz_against(old, file, scenario, FuzzOptions::new(cases, seed))?);
            }
        }
    }
    Ok(Changes { interface, steps, fuzz, seed })
}

/// Imports, exports and what the interface manifest declares (parameters
/// with their slots and kinds, statuses, constants, ABI) one binary has and
/// the other lacks.
fn interface_changes(old: &[u8], new: &[u8]) -> Vec<String> {
    let names = |bytes: &[u8]| -> std::collections::BTreeSet<String> {
        let report = ledger_core::abi::validate(bytes);
        let imports = report.imports.iter().map(|i| format!("import {}.{}: {}", i.module, i.name, i.ty));
        let mut names: std::collections::BTreeSet<String> =
            imports.chain(report.exports.iter().map(|e| format!("export {}", e.name))).collect();
        if let Ok(Some(interface)) = ledger_core::interface::Interface::from_module(bytes) {
            names.extend(interface.abi.iter().map(|abi| format!("manifest abi {abi}")));
            names.extend(
                interface
                    .params
                    .iter()
                    .enumerate()
                    .map(|(slot, p)| format!("param {slot} {}: {}", p.name, p.kind.name())),
            );
            names.extend(interface.statuses.iter().map(|s| format!("status {}", interface.describe(s.status))));
            names.extend(interface.constants.iter().map(|c| format!("constant {c}")));
        }
        names
    };
    let (before, after) = (names(old), names(new));
    let removed = before.difference(&after).map(|n| format!("- {n}"));
    removed.chain(after.difference(&before).map(|n| format!("+ {n}"))).collect()
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Diffed, Error> {
    let new = checked_module(&args.project, args.new.as_deref(), true, "the new module fails validation", &args.abi)?;
    let (old_from, old_bytes) = match (&args.old, &new.project) {
        (Some(path), _) => (path.display().to_string(), roda_test::fs::load_module(path)?),
        (None, Some(project)) => {
            let (record, bytes) = super::deployed_binary(project, &new.name, None)?;
            (format!("v{} deployed to {} ({})", record.version, record.server, record.deployed_at), bytes)
        }
        (None, None) => return Err(Error::Usage("name the old module: cargo roda diff OLD [NEW]".into())),
    };
    // Scenarios are read as the new version names things.
    let interfaces = roda_test::Interfaces::of(&new.name, &new.bytes);
    let files: Vec<ScenarioFile> = match (&args.scenarios[..], &new.project) {
        ([], Some(project)) => ScenarioFile::from_dir_with(project.root.join("tests"), &interfaces)?,
        ([], None) => return Err(Error::Usage("name scenario files with --scenario FILE (no project here)".into())),
        (paths, _) => {
            paths.iter().map(|path| ScenarioFile::from_path_with(path, &interfaces)).collect::<Result<_, _>>()?
        }
    };
    let runner = |bytes: Vec<u8>| Runner::new(bytes, new.name.clone()).with_profile(new.abi.profile());
    let (old, new_runner) = (runner(old_bytes), runner(new.bytes.clone()));
    let seed = args.seed.unwrap_or_else(super::test::clock_seed);
    let changes = changes(&old, &new_runner, &files, args.fuzz, seed)?;
    Ok(Diffed {
        function: new.name,
        old: old_from,
        sha256: [old.wasm(), new_runner.wasm()].map(cargo_roda::validate::sha256_hex),
        changes,
    })
}
