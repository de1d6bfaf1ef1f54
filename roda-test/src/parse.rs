//! Format version 1 of scenario files: TOML into the typed model, every
//! error with its line.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ledger_core::Status;
use serde::Deserialize;
use toml::Spanned;

use crate::fs::{LoadError, load_module};
use crate::model::{
    AccountSet, Action, Balances, EntryKind, EntryValue, FORMAT_VERSION, FuzzBalances, FuzzSpec, HelperFunction,
    InclusiveRange, Params, Scenario, ScenarioFile, Slot, Step, TooManyParams,
};

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not TOML, or not the shape of a scenario file (unknown keys included).
    #[error("{}: {message}", .origin.display())]
    Syntax {
        /// The file.
        origin: PathBuf,
        /// 1-based line, where known.
        line: Option<usize>,
        /// 1-based column, where known.
        column: Option<usize>,
        /// The TOML parser's message, with the line shown.
        message: String,
    },
    /// A format version this crate does not read.
    #[error(
        "{}: line {line}: format version {found} is not supported; roda-test {} reads version {FORMAT_VERSION}: write `version = {FORMAT_VERSION}`",
        .origin.display(),
        env!("CARGO_PKG_VERSION")
    )]
    Version {
        /// The file.
        origin: PathBuf,
        /// 1-based line of `version`.
        line: usize,
        /// The version written.
        found: i64,
    },
    /// Well-formed TOML whose content breaks a rule of the format.
    #[error("{}: line {line}: {problem}", .origin.display())]
    Invalid {
        /// The file.
        origin: PathBuf,
        /// 1-based line of the step or scenario.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        problem: Problem,
    },
    /// A function in `functions` could not be loaded.
    #[error("{}: functions.{name}: {source}", .origin.display())]
    Function {
        /// The file.
        origin: PathBuf,
        /// The name it was to be registered under.
        name: String,
        /// Why it could not be loaded.
        source: LoadError,
    },
    /// A directory of scenario files could not be listed.
    #[error("cannot list {}: {source}; name the scenario files instead", .dir.display())]
    ListDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A directory holds no scenario file.
    #[error("no scenario files (*.toml) in {}", .dir.display())]
    NoFiles {
        /// The directory.
        dir: PathBuf,
    },
}

/// A rule of the format that a scenario file breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A step with none, or more than one, of the four operations.
    StepKind,
    /// More than eight parameters.
    TooManyParams(TooManyParams),
    /// `params` on a step that calls no function.
    ParamsWithoutCall,
    /// A status that is neither a known name nor a number 0..=255.
    UnknownStatus(String),
    /// A balance key that is not an account id.
    NotAnAccount {
        /// The scenario, when the key is in its starting balances.
        scenario: Option<String>,
        /// The key.
        key: String,
    },
    /// A fuzz table with more than eight parameter slots.
    TooManyFuzzParams {
        /// The scenario.
        scenario: String,
        /// How many slots.
        count: usize,
    },
    /// An unknown status in a fuzz table's `allowed`.
    UnknownAllowedStatus {
        /// The scenario.
        scenario: String,
        /// The status as written.
        written: String,
    },
    /// A fuzz range with `low > high`, or an empty account set.
    EmptyFuzzDomain {
        /// The scenario.
        scenario: String,
    },
}

const STATUS_HELP: &str = "use a name (NONE, INSUFFICIENT_FUNDS, ..., DUPLICATE, USER(130)) or a number 0..=255";

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::StepKind => f.write_str("a step needs exactly one of `call`, `deposit`, `withdrawal`, `transfer`"),
            Problem::TooManyParams(too_many) => too_many.fmt(f),
            Problem::ParamsWithoutCall => f.write_str("`params` goes with `call`"),
            Problem::UnknownStatus(written) => write!(f, "unknown status {written}: {STATUS_HELP}"),
            Problem::NotAnAccount { scenario, key } => {
                if let Some(scenario) = scenario {
                    write!(f, "scenario `{scenario}`: ")?;
                }
                write!(f, "`{key}` is not an account id (an unsigned integer)")
            }
            Problem::TooManyFuzzParams { scenario, count } => {
                write!(f, "scenario `{scenario}`: fuzz has {count} params; at most 8")
            }
            Problem::UnknownAllowedStatus { scenario, written } => {
                write!(f, "scenario `{scenario}`: unknown status {written}: {STATUS_HELP}")
            }
            Problem::EmptyFuzzDomain { scenario } => {
                write!(f, "scenario `{scenario}`: every fuzz range needs low <= high and every account set an account")
            }
        }
    }
}

/// A status as written: a name (`"INSUFFICIENT_FUNDS"`, `"USER(130)"`) or a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawStatus {
    Name(String),
    Code(u32),
}

impl RawStatus {
    fn resolve(&self) -> Result<Status, String> {
        match self {
            RawStatus::Name(name) => Status::parse(name).ok_or_else(|| format!("`{name}`")),
            RawStatus::Code(code) => u8::try_from(*code).map(Status::from_code).map_err(|_| code.to_string()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccountMove {
    account: u64,
    amount: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    from: u64,
    to: u64,
    amount: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    account: u64,
    amount: u64,
    kind: EntryKind,
    balance: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    call: Option<String>,
    #[serde(default)]
    params: Vec<i64>,
    deposit: Option<RawAccountMove>,
    withdrawal: Option<RawAccountMove>,
    transfer: Option<RawTransfer>,
    #[serde(default)]
    user_ref: u64,
    expect: Option<RawStatus>,
    balances: Option<BTreeMap<String, i64>>,
    entries: Option<Vec<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum RawSlot {
    Accounts { accounts: Vec<u64> },
    Range { range: [i64; 2] },
    Value { value: i64 },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFuzzBalances {
    accounts: Vec<u64>,
    range: [i64; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFuzz {
    call: Option<String>,
    params: Vec<RawSlot>,
    balances: Option<RawFuzzBalances>,
    allowed: Option<Vec<RawStatus>>,
    #[serde(default)]
    never_negative: Vec<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    balances: BTreeMap<String, i64>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
    fuzz: Option<RawFuzz>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code, reason = "checked first, by `VersionOnly`")]
    version: u32,
    #[serde(default)]
    functions: BTreeMap<String, PathBuf>,
    #[serde(default, rename = "scenario")]
    scenarios: Vec<Spanned<RawScenario>>,
}

/// The first pass: only the version, so a file of a later version is
/// refused for its version rather than for keys this version lacks.
#[derive(Debug, Deserialize)]
struct VersionOnly {
    version: Option<Spanned<i64>>,
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Turns raw TOML values into the model, knowing where they are.
struct Checker<'a> {
    origin: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    fn syntax(&self, error: &toml::de::Error) -> ScenarioError {
        let (line, column) = match error.span() {
            Some(span) => {
                let (line, column) = position(self.text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        ScenarioError::Syntax { origin: self.origin.into(), line, column, message: error.to_string() }
    }

    fn invalid(&self, span: &Range<usize>, problem: Problem) -> ScenarioError {
        let (line, column) = position(self.text, span.start);
        ScenarioError::Invalid { origin: self.origin.into(), line, column, problem }
    }

    fn file(&self, raw: RawFile) -> Result<ScenarioFile, ScenarioError> {
        // The text is checked whole before any other file is read.
        let scenarios = raw.scenarios.into_iter().map(|s| self.scenario(s)).collect::<Result<_, _>>()?;
        let dir = self.origin.parent().unwrap_or(Path::new("."));
        let mut functions = Vec::new();
        for (name, path) in raw.functions {
            let wasm = load_module(&dir.join(&path)).map_err(|source| ScenarioError::Function {
                origin: self.origin.into(),
                name: name.clone(),
                source,
            })?;
            functions.push(HelperFunction { name, wasm });
        }
        Ok(ScenarioFile { origin: self.origin.into(), functions, scenarios })
    }

    fn scenario(&self, raw: Spanned<RawScenario>) -> Result<Scenario, ScenarioError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let name = raw.name;
        let balances = balances(raw.balances)
            .map_err(|key| self.invalid(&span, Problem::NotAnAccount { scenario: Some(name.clone()), key }))?;
        let steps = raw.steps.into_iter().map(|s| self.step(s)).collect::<Result<_, _>>()?;
        let fuzz = raw.fuzz.map(|f| self.fuzz(&span, &name, f)).transpose()?;
        Ok(Scenario { line: position(self.text, span.start).0, name, balances, steps, fuzz })
    }

    fn step(&self, raw: Spanned<RawStep>) -> Result<Step, ScenarioError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let invalid = |problem| self.invalid(&span, problem);
        let params_without_call = raw.call.is_none() && !raw.params.is_empty();
        let action = match (raw.call, raw.deposit, raw.withdrawal, raw.transfer) {
            (Some(function), None, None, None) => Action::Call {
                function,
                params: Params::new(raw.params).map_err(|e| invalid(Problem::TooManyParams(e)))?,
            },
            (None, Some(m), None, None) => Action::Deposit { account: m.account, amount: m.amount },
            (None, None, Some(m), None) => Action::Withdrawal { account: m.account, amount: m.amount },
            (None, None, None, Some(t)) => Action::Transfer { from: t.from, to: t.to, amount: t.amount },
            _ => return Err(invalid(Problem::StepKind)),
        };
        if params_without_call {
            return Err(invalid(Problem::ParamsWithoutCall));
        }
        let expect = match raw.expect {
            Some(status) => status.resolve().map_err(|written| invalid(Problem::UnknownStatus(written)))?,
            None => Status::NONE,
        };
        let balances = balances(raw.balances.unwrap_or_default())
            .map_err(|key| invalid(Problem::NotAnAccount { scenario: None, key }))?;
        let entries = raw.entries.map(|entries| {
            entries
                .into_iter()
                .map(|e| EntryValue { account: e.account, amount: e.amount, kind: e.kind, balance: e.balance })
                .collect()
        });
        Ok(Step { line: position(self.text, span.start).0, action, user_ref: raw.user_ref, expect, balances, entries })
    }

    fn fuzz(&self, span: &Range<usize>, scenario: &str, raw: RawFuzz) -> Result<FuzzSpec, ScenarioError> {
        let invalid = |problem| self.invalid(span, problem);
        let empty = || invalid(Problem::EmptyFuzzDomain { scenario: scenario.into() });
        let count = raw.params.len();
        let slots = raw
            .params
            .into_iter()
            .map(|slot| match slot {
                RawSlot::Accounts { accounts } => AccountSet::new(accounts).map(Slot::Accounts).ok_or_else(empty),
                RawSlot::Range { range: [low, high] } => {
                    InclusiveRange::new(low, high).map(Slot::Range).ok_or_else(empty)
                }
                RawSlot::Value { value } => Ok(Slot::Value(value)),
            })
            .collect::<Result<Vec<_>, _>>();
        let params = Params::new(slots?)
            .map_err(|_| invalid(Problem::TooManyFuzzParams { scenario: scenario.into(), count }))?;
        let balances = match raw.balances {
            Some(RawFuzzBalances { accounts, range: [low, high] }) => {
                Some(FuzzBalances { accounts, range: InclusiveRange::new(low, high).ok_or_else(empty)? })
            }
            None => None,
        };
        let allowed = match raw.allowed {
            Some(statuses) => Some(
                statuses
                    .iter()
                    .map(|s| {
                        s.resolve().map_err(|written| {
                            invalid(Problem::UnknownAllowedStatus { scenario: scenario.into(), written })
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        Ok(FuzzSpec { call: raw.call, params, balances, allowed, never_negative: raw.never_negative })
    }
}

/// Balances keyed by account id; the first key that is not one.
fn balances(raw: BTreeMap<String, i64>) -> Result<Balances, String> {
    raw.into_iter().map(|(key, balance)| key.parse().map(|account| (account, balance)).map_err(|_| key)).collect()
}

impl ScenarioFile {
    /// Parses scenario text. `origin` names the file in errors and reports,
    /// and the paths in its `functions` table are relative to its directory.
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] with the line for a syntax error, an unknown key,
    /// another format version or a broken rule; or when a function in
    /// `functions` cannot be loaded.
    pub fn from_str(text: &str, origin: impl AsRef<Path>) -> Result<ScenarioFile, ScenarioError> {
        let checker = Checker { origin: origin.as_ref(), text };
        let version: VersionOnly = toml::from_str(text).map_err(|e| checker.syntax(&e))?;
        if let Some(version) = version.version.filter(|v| *v.get_ref() != i64::from(FORMAT_VERSION)) {
            let (line, _) = position(text, version.span().start);
            return Err(ScenarioError::Version { origin: checker.origin.into(), line, found: *version.get_ref() });
        }
        let raw: RawFile = toml::from_str(text).map_err(|e| checker.syntax(&e))?;
        checker.file(raw)
    }

    /// Reads and parses a scenario file.
    ///
    /// # Errors
    ///
    /// [`ScenarioError::Read`] when it cannot be read, else as
    /// [`ScenarioFile::from_str`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<ScenarioFile, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.into(), source })?;
        ScenarioFile::from_str(&text, path)
    }

    /// Reads every `*.toml` in `dir`, in name order: a project's `tests/`.
    ///
    /// # Errors
    ///
    /// As [`scenario_paths`], then as [`ScenarioFile::from_path`] for the
    /// first file that fails.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Vec<ScenarioFile>, ScenarioError> {
        scenario_paths(dir.as_ref())?.iter().map(ScenarioFile::from_path).collect()
    }
}

/// The `*.toml` files in `dir`, in name order.
///
/// # Errors
///
/// [`ScenarioError::ListDir`] when `dir` cannot be listed,
/// [`ScenarioError::NoFiles`] when it holds no `*.toml`.
pub fn scenario_paths(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::ListDir { dir: dir.into(), source })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ScenarioError::NoFiles { dir: dir.into() });
    }
    Ok(files)
}
