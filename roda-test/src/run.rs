//! The runner: each scenario in a fresh in-process ledger, results as data.

use std::fmt;
use std::path::{Path, PathBuf};

use ledger_core::RegistryError;
use ledger_core::{CallOutcome, IfRegistered, Ledger, LedgerConfig, Limits, Operation, Status, Transaction};
use serde::Serialize;

use crate::fs::{LoadError, load_module};
use crate::lint::{Lint, lints};
use crate::model::{EntryValue, Scenario, ScenarioFile, Step, describe};

/// Runs scenarios against one function binary, registered under its name.
///
/// Every scenario gets a fresh ledger with the function, and the file's
/// other functions, registered; calls are checked for state carried
/// between them.
#[derive(Debug, Clone)]
pub struct Runner {
    function: String,
    wasm: Vec<u8>,
    config: LedgerConfig,
}

impl Runner {
    /// A runner for `wasm`, registered as `function`, with the default
    /// ledger configuration (fuel per call included).
    pub fn new(wasm: impl Into<Vec<u8>>, function: impl Into<String>) -> Runner {
        Runner { function: function.into(), wasm: wasm.into(), config: LedgerConfig::default() }
    }

    /// A runner for the module at `path` (`.wasm`, or `.wat` text).
    ///
    /// # Errors
    ///
    /// [`LoadError`] when the file cannot be read or its text does not parse.
    pub fn from_path(path: impl AsRef<Path>, function: impl Into<String>) -> Result<Runner, LoadError> {
        Ok(Runner::new(load_module(path.as_ref())?, function))
    }

    /// Runs every call under these limits (fuel, memory, stack).
    pub fn with_limits(mut self, limits: Limits) -> Runner {
        self.config.limits = limits;
        self
    }

    /// Runs in ledgers set up like this (account range, limits). Carried
    /// state is checked in scenarios and not while fuzzing, whatever it says.
    pub fn with_config(mut self, config: LedgerConfig) -> Runner {
        self.config = config;
        self
    }

    /// The name the function under test is registered under.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The binary under test.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// How each scenario's ledger is set up.
    pub fn ledger_config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The fuel each call gets.
    pub fn fuel_per_call(&self) -> u64 {
        self.config.limits.fuel_per_call
    }

    /// Runs every scenario of `file`.
    pub fn run_file(&self, file: &ScenarioFile) -> FileReport {
        FileReport { path: file.origin.clone(), scenarios: file.scenarios.iter().map(|s| self.run(file, s)).collect() }
    }

    /// Runs one scenario of `file` in a fresh ledger, up to the first step
    /// whose expectations do not hold.
    pub fn run(&self, file: &ScenarioFile, scenario: &Scenario) -> ScenarioReport {
        let mut report = ScenarioReport {
            name: scenario.name.clone(),
            fuel_budget: self.fuel_per_call(),
            steps: Vec::new(),
            error: None,
        };
        let config = LedgerConfig { check_carried_state: true, ..self.config.clone() };
        let mut ledger = match self.ledger(file, config) {
            Ok(ledger) => ledger,
            Err(error) => {
                report.error = Some(error);
                return report;
            }
        };
        for (&account, &balance) in &scenario.balances {
            ledger.seed_balance(account, balance);
        }
        for (index, step) in scenario.steps.iter().enumerate() {
            let operation = step.action.operation(step.user_ref);
            let receipt = ledger.submit(&operation);
            let mismatches = mismatches(step, &receipt, &ledger);
            let call = receipt.call.as_ref();
            let stop = !mismatches.is_empty();
            report.steps.push(StepReport {
                step: index + 1,
                line: step.line,
                operation,
                status: receipt.status,
                fuel: call.map(|c| c.fuel_used),
                outcome: call.map(|c| c.outcome.clone()).filter(|o| !matches!(o, CallOutcome::Returned(_))),
                lints: call.map(lints).unwrap_or_default(),
                mismatches,
            });
            if stop {
                break;
            }
        }
        report
    }

    /// A ledger with the function under test and the file's functions
    /// registered.
    pub(crate) fn ledger(&self, file: &ScenarioFile, config: LedgerConfig) -> Result<Ledger, SetupError> {
        if let Some(helper) = file.functions.iter().find(|f| f.name == self.function) {
            return Err(SetupError::HelperNamedLikeSubject { origin: file.origin.clone(), name: helper.name.clone() });
        }
        let mut ledger = Ledger::new(config).map_err(|e| SetupError::Ledger { message: e.to_string() })?;
        ledger
            .register_function(&self.function, &self.wasm, IfRegistered::Refuse)
            .map_err(|source| SetupError::Register { name: self.function.clone(), source })?;
        for helper in &file.functions {
            ledger
                .register_function(&helper.name, &helper.wasm, IfRegistered::Override)
                .map_err(|source| SetupError::Register { name: helper.name.clone(), source })?;
        }
        Ok(ledger)
    }
}

/// The expectations of `step` that do not hold after it.
fn mismatches(step: &Step, receipt: &Transaction, ledger: &Ledger) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if step.expect != receipt.status {
        mismatches.push(Mismatch::Status { expected: step.expect, actual: receipt.status });
    }
    for (&account, &expected) in &step.balances {
        let actual = ledger.balance(account);
        if actual != expected {
            mismatches.push(Mismatch::Balance { account, expected, actual });
        }
    }
    if let Some(expected) = &step.entries {
        let actual = receipt.entries.as_slice();
        let same = expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| e.matches(a));
        if !same {
            mismatches.push(Mismatch::Entries {
                expected: expected.clone(),
                actual: actual.iter().map(Into::into).collect(),
            });
        }
    }
    mismatches
}

/// Why a scenario could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The file's `functions` would replace the function under test.
    #[error(
        "{}: `functions` registers `{name}`, the name of the function under test; give the helper another name",
        .origin.display()
    )]
    HelperNamedLikeSubject {
        /// The scenario file.
        origin: PathBuf,
        /// The name.
        name: String,
    },
    /// The ledger could not be created (its configuration).
    #[error("{message}")]
    Ledger {
        /// The ledger's message.
        message: String,
    },
    /// A function was refused at registration, as a server would refuse it.
    #[error("registering `{name}`: {source}")]
    Register {
        /// The name.
        name: String,
        /// The server's reason.
        source: RegistryError,
    },
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// The step ended with another status.
    Status {
        /// The status expected.
        #[serde(serialize_with = "crate::display")]
        expected: Status,
        /// The status it ended with.
        #[serde(serialize_with = "crate::display")]
        actual: Status,
    },
    /// An account holds another balance.
    Balance {
        /// The account.
        account: u64,
        /// The balance expected.
        expected: i64,
        /// The balance it holds.
        actual: i64,
    },
    /// The committed entries differ.
    Entries {
        /// The entries expected.
        expected: Vec<EntryValue>,
        /// The entries committed.
        actual: Vec<EntryValue>,
    },
}

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// 1-based position in the scenario.
    pub step: usize,
    /// Its line in the file.
    pub line: usize,
    /// What was submitted (serialised as `call f(1, 2)`).
    #[serde(serialize_with = "crate::display_operation")]
    pub operation: Operation,
    /// The status it ended with.
    #[serde(serialize_with = "crate::display")]
    pub status: Status,
    /// Fuel used, for a call.
    pub fuel: Option<u64>,
    /// How a call ended when it did not return (trap, out of fuel, ...).
    #[serde(serialize_with = "crate::display_option")]
    pub outcome: Option<CallOutcome>,
    /// Lints the call raised.
    pub lints: Vec<Lint>,
    /// Expectations that did not hold; the scenario stops at such a step.
    pub mismatches: Vec<Mismatch>,
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// The fuel each call had.
    pub fuel_budget: u64,
    /// The steps that ran.
    pub steps: Vec<StepReport>,
    /// Why the scenario could not start.
    #[serde(serialize_with = "crate::display_option")]
    pub error: Option<SetupError>,
}

impl ScenarioReport {
    /// Started, every expectation held and no call raised a lint.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.steps.iter().all(|s| s.mismatches.is_empty() && s.lints.is_empty())
    }

    /// The step whose expectations did not hold.
    pub fn failed_step(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| !s.mismatches.is_empty())
    }

    /// Fuel used by all the steps.
    pub fn fuel(&self) -> u64 {
        self.steps.iter().filter_map(|s| s.fuel).sum()
    }
}

/// `  ok   name (2 step(s), 52 fuel)`, then for a failure each step, outcome,
/// lint and unmet expectation.
impl fmt::Display for ScenarioReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let passed = self.passed();
        let verdict = if passed { "ok  " } else { "FAIL" };
        writeln!(f, "  {verdict} {} ({} step(s), {} fuel)", self.name, self.steps.len(), self.fuel())?;
        if let Some(error) = &self.error {
            writeln!(f, "       {error}")?;
        }
        for step in &self.steps {
            let n = step.step;
            if let (false, Some(fuel)) = (passed, step.fuel) {
                let share = fuel as f64 * 100.0 / self.fuel_budget as f64;
                writeln!(
                    f,
                    "       step {n}: {} -> {} ({fuel} fuel, {share:.4}% of the budget)",
                    describe(&step.operation),
                    step.status
                )?;
            }
            if let Some(outcome) = &step.outcome {
                writeln!(f, "       step {n}: the call {outcome}")?;
            }
            for lint in &step.lints {
                writeln!(f, "       step {n}: lint[{}]: {lint}", lint.code())?;
            }
        }
        if let Some(step) = self.failed_step() {
            write_mismatches(f, step)?;
        }
        Ok(())
    }
}

fn write_mismatches(f: &mut fmt::Formatter<'_>, step: &StepReport) -> fmt::Result {
    writeln!(f, "       step {}: expectations not met", step.step)?;
    let mut table_started = false;
    for mismatch in &step.mismatches {
        match mismatch {
            Mismatch::Status { expected, actual } => writeln!(
                f,
                "         expected status {expected} ({}), got {actual} ({})",
                expected.code(),
                actual.code()
            )?,
            Mismatch::Balance { account, expected, actual } => {
                if !std::mem::replace(&mut table_started, true) {
                    writeln!(f, "         {:>12} {:>20} {:>20}", "account", "expected", "actual")?;
                }
                writeln!(f, "         {account:>12} {expected:>20} {actual:>20}")?;
            }
            Mismatch::Entries { expected, actual } => {
                writeln!(f, "         expected entries: [{}]", join(expected))?;
                writeln!(f, "         actual entries:   [{}]", join(actual))?;
            }
        }
    }
    Ok(())
}

fn join(entries: &[EntryValue]) -> String {
    entries.iter().map(EntryValue::to_string).collect::<Vec<_>>().join(", ")
}

/// One file's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The scenario file.
    pub path: PathBuf,
    /// Each scenario's result, in file order.
    pub scenarios: Vec<ScenarioReport>,
}

impl FileReport {
    /// Every scenario passed.
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(ScenarioReport::passed)
    }
}

/// `running N scenario(s) from PATH`, then each scenario.
impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "running {} scenario(s) from {}", self.scenarios.len(), self.path.display())?;
        self.scenarios.iter().try_for_each(|s| s.fmt(f))
    }
}
