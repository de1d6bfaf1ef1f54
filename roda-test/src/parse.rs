//! Scenario files, format versions 1 and 2: TOML into the typed model,
//! every error with its line. Version 2 adds ABI v2's keys: `open` (accounts
//! by name), `flags`, `kv`, `links`, `records`, and account names wherever
//! an account goes.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ledger_core::Status;
use ledger_core::interface::Interface;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::fs::{LoadError, load_module};
use crate::model::{
    AccountSet, Action, Balances, EntryKind, EntryValue, FORMAT_VERSION, Flags, FuzzBalances, FuzzSpec, HelperFunction,
    InclusiveRange, KeyComponent, KeySpec, PLACEHOLDER_BASE, Params, Scenario, ScenarioFile, Slot, Step, TooManyParams,
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
        "{}: line {line}: format version {found} is not supported; roda-test {} reads versions 1 and {FORMAT_VERSION}: write `version = 1` (ABI v1) or `version = {FORMAT_VERSION}`",
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
    /// A step with none, or more than one, of the operations.
    StepKind,
    /// A key of format version 2 in a version 1 file.
    Version2Key(&'static str),
    /// An account name no `open` list declares.
    UnknownAccount {
        /// The name.
        name: String,
        /// The names the scenario opens.
        open: Vec<String>,
    },
    /// A number written as a string (`"40"`) where a parameter goes.
    QuotedNumber(String),
    /// An `open` name that is not a name, or is declared twice.
    BadAccountName(String),
    /// A flag lane over 7, or not a number.
    BadLane(String),
    /// A link type that is not a 16-bit number.
    BadLinkType(String),
    /// A KV key with more than four components, an empty one, or an
    /// integer of 2^31 or more.
    BadKey(String),
    /// More than eight parameters.
    TooManyParams(TooManyParams),
    /// `params` on a step that calls no function.
    ParamsWithoutCall,
    /// A problem in a scenario's own keys (`open`, `flags`, `kv`).
    InScenario {
        /// The scenario.
        scenario: String,
        /// The problem.
        problem: Box<Problem>,
    },
    /// An expected balance written as text that is not a change (`"+40"`).
    BadRelative(String),
    /// A status that is neither a known name nor a number 0..=255.
    UnknownStatus(String),
    /// Parameters by name for a function whose interface manifest is
    /// unknown.
    NoInterface(String),
    /// Parameters by name that do not make a call of the function.
    NamedParams {
        /// The function called.
        function: String,
        /// What is wrong.
        error: String,
    },
    /// A balance key that is not an account id, nor a name the scenario
    /// opens.
    NotAnAccount {
        /// The scenario, when the key is in its starting balances.
        scenario: Option<String>,
        /// The key.
        key: String,
        /// The names the scenario opens.
        open: Vec<String>,
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
    /// A fuzz parameter slot with none, or more than one, of `accounts`,
    /// `range` and `value`, or `exact` without `range`.
    FuzzSlotKind {
        /// The scenario.
        scenario: String,
        /// The slot's position in `params`, from 0.
        slot: usize,
    },
}

/// "a name from the scenario's `open` or `accounts` (alice, bob)", or how to
/// declare one when it opens none.
fn names_opened(open: &[String]) -> String {
    match open {
        [] => "a name the scenario opens: `open = [\"alice\", \"bob\"]` names accounts 1, 2, ... (format version 2)"
            .into(),
        names => format!("a name from the scenario's `open` or `accounts` ({})", names.join(", ")),
    }
}

const STATUS_HELP: &str = "use a name (NONE, INSUFFICIENT_FUNDS, ..., DUPLICATE, USER(130)), the function's own name for it (from its interface manifest) or a number 0..=255";

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::StepKind => {
                f.write_str("a step needs exactly one of `call`, `deposit`, `withdrawal`, `transfer`, `open`")
            }
            Problem::Version2Key(key) => {
                write!(f, "`{key}` is format version 2 (ABI v2): write `version = 2` at the top of the file")
            }
            Problem::UnknownAccount { name, open } => {
                write!(f, "`{name}` is not an account: use an id or {}", names_opened(open))
            }
            Problem::QuotedNumber(text) => {
                write!(f, "\"{text}\" is a string, not a number: write numbers without quotes (names go in quotes)")
            }
            Problem::BadAccountName(name) => write!(
                f,
                "`{name}` cannot name an account: use letters, digits and `_`, starting with a letter, each name once"
            ),
            Problem::BadLane(lane) => write!(f, "flag lane `{lane}`: lanes are 0 to 7 (0 is the account's status)"),
            Problem::BadLinkType(link) => write!(f, "link type `{link}`: link types are 0 to 65535"),
            Problem::BadKey(key) => write!(
                f,
                "kv key `{key}`: write up to four `/`-joined components, each an integer below 2^31, an account name or a constant name"
            ),
            Problem::TooManyParams(too_many) => too_many.fmt(f),
            Problem::InScenario { scenario, problem } => write!(f, "scenario `{scenario}`: {problem}"),
            Problem::ParamsWithoutCall => f.write_str("`params` goes with `call`"),
            Problem::UnknownStatus(written) => write!(f, "unknown status {written}: {STATUS_HELP}"),
            Problem::NoInterface(function) => write!(
                f,
                "params by name need `{function}`'s interface manifest (a `roda.interface` section: Rust's `#[execute]` writes one, AssemblyScript and WAT projects declare `[interface]` in Roda.toml), and its module has none; or write `params` as a list in slot order"
            ),
            Problem::NamedParams { function, error } => write!(f, "params of `{function}`: {error}"),
            Problem::BadRelative(text) => write!(
                f,
                "balance \"{text}\": write a number, or a change from the scenario's start with its sign in quotes (\"+40\", \"-5\")"
            ),
            Problem::NotAnAccount { scenario, key, open } => {
                if let Some(scenario) = scenario {
                    write!(f, "scenario `{scenario}`: ")?;
                }
                match key.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
                    true => write!(f, "`{key}` is not an account id (an unsigned integer)"),
                    false => write!(f, "`{key}` is not an account: use an id or {}", names_opened(open)),
                }
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
            Problem::FuzzSlotKind { scenario, slot } => write!(
                f,
                "scenario `{scenario}`: fuzz params[{slot}] needs exactly one of `accounts = [...]`, `range = [low, high]` (with `exact = true` to try no value outside it) or `value = N`"
            ),
        }
    }
}

/// A status as written: a name (`"INSUFFICIENT_FUNDS"`, `"USER(130)"`) or a number.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawStatus {
    Name(String),
    Code(u32),
}

impl RawStatus {
    /// The status, by the function's own name first (from its interface
    /// manifest, when it has one).
    fn resolve(&self, own: Option<&Interface>) -> Result<Status, String> {
        match self {
            RawStatus::Name(name) => own
                .and_then(|i| i.status_by_name(name))
                .or_else(|| Status::parse(name))
                .ok_or_else(|| format!("`{name}`")),
            RawStatus::Code(code) => u8::try_from(*code).map(Status::from_code).map_err(|_| code.to_string()),
        }
    }
}

/// An account as written: an id, or a name from the scenario's `open`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawAccount {
    Id(u64),
    Name(String),
}

/// An expected balance as written: a number, or a change from the
/// scenario's start (`"+40"`, `"-5"`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawBalance {
    Absolute(i64),
    Relative(String),
}

/// A parameter as written: an integer, `true`/`false`, or an account name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawParam {
    Int(i64),
    Bool(bool),
    Name(String),
}

/// A step's parameters: a list in slot order, or a table by name (which
/// the called function's interface manifest maps to slots).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawParams {
    List(Vec<RawParam>),
    Named(BTreeMap<String, RawParam>),
}

impl Default for RawParams {
    fn default() -> Self {
        RawParams::List(Vec::new())
    }
}

impl RawParams {
    fn is_empty(&self) -> bool {
        match self {
            RawParams::List(list) => list.is_empty(),
            RawParams::Named(table) => table.is_empty(),
        }
    }

    fn values(&self) -> Box<dyn Iterator<Item = &RawParam> + '_> {
        match self {
            RawParams::List(list) => Box::new(list.iter()),
            RawParams::Named(table) => Box::new(table.values()),
        }
    }
}

/// The interface manifests scenarios are read with, by the name each
/// function is registered under: `params = { amount = 100 }` and the
/// function's own status names (`expect = "COLLATERAL_SHORT"`) resolve
/// through them.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    by_name: BTreeMap<String, Interface>,
    under_test: Option<String>,
}

impl Interfaces {
    /// The manifest of the function under test, registered as `function`
    /// (none when `wasm` has no readable one; the validator reports a
    /// broken one).
    pub fn of(function: &str, wasm: &[u8]) -> Interfaces {
        Interfaces { by_name: BTreeMap::new(), under_test: Some(function.to_owned()) }.with(function, wasm)
    }

    /// These and the manifest of `wasm`, registered as `function`.
    fn with(mut self, function: &str, wasm: &[u8]) -> Interfaces {
        if let Ok(Some(interface)) = Interface::from_module(wasm) {
            self.by_name.insert(function.to_owned(), interface);
        }
        self
    }

    /// The manifest of the function `call` names (the function under test
    /// when it names none).
    fn get(&self, call: Option<&str>) -> Option<&Interface> {
        call.or(self.under_test.as_deref()).and_then(|name| self.by_name.get(name))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawAccountMove {
    account: RawAccount,
    amount: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    from: RawAccount,
    to: RawAccount,
    amount: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    account: RawAccount,
    amount: u64,
    #[schemars(schema_with = "entry_kind")]
    kind: EntryKind,
    balance: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawStep {
    call: Option<String>,
    #[serde(default)]
    params: RawParams,
    deposit: Option<RawAccountMove>,
    withdrawal: Option<RawAccountMove>,
    transfer: Option<RawTransfer>,
    open: Option<u32>,
    #[serde(default)]
    user_ref: u64,
    expect: Option<RawStatus>,
    balances: Option<BTreeMap<String, RawBalance>>,
    entries: Option<Vec<RawEntry>>,
    flags: Option<RawFlags>,
    kv: Option<BTreeMap<String, i64>>,
    links: Option<BTreeMap<String, BTreeMap<String, RawAccount>>>,
    records: Option<Vec<String>>,
}

/// Flag lanes by account, then lane: `{ alice = { 1 = 1 } }`.
type RawFlags = BTreeMap<String, BTreeMap<String, u8>>;

/// A fuzz parameter slot: exactly one of `accounts`, `range` (with
/// `exact`) or `value`. A struct rather than an untagged enum, so that a
/// mistake gets a message naming the key instead of serde's "did not match
/// any variant".
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSlot {
    accounts: Option<Vec<RawAccount>>,
    range: Option<[i64; 2]>,
    exact: Option<bool>,
    value: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFuzzBalances {
    accounts: Vec<RawAccount>,
    range: [i64; 2],
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFuzz {
    call: Option<String>,
    params: Vec<RawSlot>,
    balances: Option<RawFuzzBalances>,
    allowed: Option<Vec<RawStatus>>,
    #[serde(default)]
    never_negative: Vec<RawAccount>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    open: Vec<String>,
    #[serde(default)]
    accounts: BTreeMap<String, u64>,
    #[serde(default)]
    balances: BTreeMap<String, i64>,
    #[serde(default)]
    flags: RawFlags,
    #[serde(default)]
    kv: BTreeMap<String, i64>,
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    steps: Vec<Spanned<RawStep>>,
    fuzz: Option<RawFuzz>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[schemars(range(min = 1, max = FORMAT_VERSION))]
    version: u32,
    #[serde(default)]
    functions: BTreeMap<String, PathBuf>,
    #[serde(default, rename = "scenario")]
    #[schemars(with = "Vec<RawScenario>")]
    scenarios: Vec<Spanned<RawScenario>>,
}

/// `credit` or `debit`, as [`EntryKind`] is written.
fn entry_kind(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<serde_json::Value> = [EntryKind::Credit, EntryKind::Debit]
        .iter()
        .map(|kind| serde_json::to_value(kind).expect("a kind is a string"))
        .collect();
    schemars::json_schema!({ "enum": names })
}

/// The JSON Schema of a scenario file (format versions 1 and 2), generated
/// from the types that parse it, for editors that check TOML against one
/// (`cargo roda schema scenarios` prints it). The rules beyond a file's
/// shape (names declared before use, a step's one action, ...) are the
/// parser's.
///
/// ```
/// let schema = roda_test::scenario_schema();
/// assert_eq!(schema["properties"]["version"]["maximum"], 2);
/// assert_eq!(schema["additionalProperties"], false);
/// ```
pub fn scenario_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawFile);
    schema.insert("title".into(), "roda-ledger scenario file".into());
    schema.to_value()
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
    /// The file's format version.
    version: u32,
    /// The manifests of the functions its steps call.
    interfaces: Interfaces,
}

/// The account names a scenario's `open` declares, with their ids.
type Names = BTreeMap<String, u64>;

/// An account reference resolved: an id as is, a name by `names`.
fn account(names: &Names, raw: &RawAccount) -> Result<u64, Problem> {
    match raw {
        RawAccount::Id(id) => Ok(*id),
        RawAccount::Name(name) => {
            names.get(name).copied().ok_or_else(|| Problem::UnknownAccount { name: name.clone(), open: opened(names) })
        }
    }
}

/// The names a scenario opens, in id order.
fn opened(names: &Names) -> Vec<String> {
    let mut opened: Vec<(&u64, &String)> = names.iter().map(|(name, id)| (id, name)).collect();
    opened.sort();
    opened.into_iter().map(|(_, name)| name.clone()).collect()
}

/// A table key naming an account: an id or a name.
fn account_key(names: &Names, key: &str) -> Result<u64, Problem> {
    key.parse().or_else(|_| account(names, &RawAccount::Name(key.to_owned())))
}

/// A KV key as written, its account names resolved.
fn key_spec(names: &Names, written: &str) -> Result<KeySpec, Problem> {
    let bad = || Problem::BadKey(written.to_owned());
    let parts: Vec<&str> = written.split('/').collect();
    if parts.len() > 4 {
        return Err(bad());
    }
    let mut key = [const { KeyComponent::Int(0) }; 4];
    for (slot, part) in key.iter_mut().zip(parts) {
        *slot = if part.is_empty() {
            return Err(bad());
        } else if let Ok(value) = part.parse::<u32>() {
            if value >= ledger_core::v2::CONSTANT_BIT {
                return Err(bad());
            }
            KeyComponent::Int(value)
        } else if part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        } else if let Some(&id) = names.get(part) {
            KeyComponent::Account(id)
        } else {
            KeyComponent::Constant(part.to_owned())
        };
    }
    Ok(KeySpec(key))
}

/// Flag lanes by account id and lane.
fn flags(names: &Names, raw: RawFlags) -> Result<Flags, Problem> {
    let mut flags = Flags::new();
    for (account_written, lanes) in raw {
        let id = account_key(names, &account_written)?;
        for (lane, value) in lanes {
            let index = lane.parse::<u8>().ok().filter(|l| *l < 8).ok_or_else(|| Problem::BadLane(lane.clone()))?;
            flags.insert((id, index), value);
        }
    }
    Ok(flags)
}

/// KV values by key.
fn kv(names: &Names, raw: BTreeMap<String, i64>) -> Result<Vec<(KeySpec, i64)>, Problem> {
    raw.into_iter().map(|(key, value)| Ok((key_spec(names, &key)?, value))).collect()
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

    /// Refuses a version 2 key in a version 1 file.
    fn v2_key(&self, present: bool, key: &'static str) -> Result<(), Problem> {
        if present && self.version < 2 { Err(Problem::Version2Key(key)) } else { Ok(()) }
    }

    fn file(mut self, raw: RawFile) -> Result<ScenarioFile, ScenarioError> {
        // The helpers are read first, since their manifests name their
        // parameters; an error in the text is still reported before one in
        // another file.
        let dir = self.origin.parent().unwrap_or(Path::new("."));
        let mut functions = Vec::new();
        for (name, path) in raw.functions {
            let loaded = load_module(&dir.join(&path)).map_err(|source| ScenarioError::Function {
                origin: self.origin.into(),
                name: name.clone(),
                source,
            });
            if let Ok(wasm) = &loaded {
                self.interfaces = std::mem::take(&mut self.interfaces).with(&name, wasm);
            }
            functions.push(loaded.map(|wasm| HelperFunction { name, wasm }));
        }
        let scenarios = raw.scenarios.into_iter().map(|s| self.scenario(s)).collect::<Result<_, _>>()?;
        let functions = functions.into_iter().collect::<Result<_, _>>()?;
        Ok(ScenarioFile { origin: self.origin.into(), functions, scenarios })
    }

    fn scenario(&self, raw: Spanned<RawScenario>) -> Result<Scenario, ScenarioError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let name = raw.name;
        let invalid = |problem| self.invalid(&span, problem);
        let in_scenario =
            |problem: Problem| invalid(Problem::InScenario { scenario: name.clone(), problem: Box::new(problem) });
        self.v2_key(!raw.open.is_empty(), "open").map_err(&in_scenario)?;
        self.v2_key(!raw.flags.is_empty(), "flags").map_err(&in_scenario)?;
        self.v2_key(!raw.kv.is_empty(), "kv").map_err(&in_scenario)?;
        self.v2_key(!raw.accounts.is_empty(), "accounts").map_err(&in_scenario)?;
        let first_opened = if raw.accounts.is_empty() { 1 } else { PLACEHOLDER_BASE };
        let mut names = Names::new();
        let declared = raw.accounts.iter().map(|(name, &id)| (name, id));
        let opened = raw.open.iter().zip(first_opened..);
        for (account_name, id) in declared.chain(opened) {
            let valid = account_name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && account_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid || names.insert(account_name.clone(), id).is_some() {
                return Err(in_scenario(Problem::BadAccountName(account_name.clone())));
            }
        }
        let balances = balances(&names, raw.balances).map_err(|key| {
            invalid(Problem::NotAnAccount { scenario: Some(name.clone()), key, open: raw.open.clone() })
        })?;
        let flags = flags(&names, raw.flags).map_err(&in_scenario)?;
        let kv = kv(&names, raw.kv).map_err(&in_scenario)?;
        let steps = raw.steps.into_iter().map(|s| self.step(&names, s)).collect::<Result<_, _>>()?;
        let fuzz = raw.fuzz.map(|f| self.fuzz(&span, &names, &name, f)).transpose()?;
        Ok(Scenario {
            line: position(self.text, span.start).0,
            name,
            open: raw.open,
            existing: raw.accounts,
            balances,
            flags,
            kv,
            steps,
            fuzz,
        })
    }

    fn step(&self, names: &Names, raw: Spanned<RawStep>) -> Result<Step, ScenarioError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let invalid = |problem| self.invalid(&span, problem);
        let quoted = raw.params.values().find_map(|p| match p {
            RawParam::Name(text) if text.parse::<i64>().is_ok() => Some(text.clone()),
            _ => None,
        });
        if let Some(text) = quoted {
            return Err(invalid(Problem::QuotedNumber(text)));
        }
        for (present, key) in [
            (raw.open.is_some(), "open"),
            (raw.flags.is_some(), "flags"),
            (raw.kv.is_some(), "kv"),
            (raw.links.is_some(), "links"),
            (raw.records.is_some(), "records"),
            (raw.params.values().any(|p| matches!(p, RawParam::Name(_))), "an account name in params"),
        ] {
            self.v2_key(present, key).map_err(invalid)?;
        }
        let account = |raw: &RawAccount| account(names, raw).map_err(invalid);
        let params_without_call = raw.call.is_none() && !raw.params.is_empty();
        let own = self.interfaces.get(raw.call.as_deref());
        let value = |param: &RawParam| match param {
            RawParam::Int(value) => Ok(*value),
            RawParam::Bool(value) => Ok(i64::from(*value)),
            RawParam::Name(name) => account(&RawAccount::Name(name.clone())).map(|id| id as i64),
        };
        // The slots in order, and which of them name an account (a mask).
        let names_account = |param: &&RawParam| matches!(param, RawParam::Name(_));
        let (params, account_params): (Vec<i64>, u8) = match (&raw.params, &raw.call) {
            (_, None) => (Vec::new(), 0),
            (RawParams::List(list), Some(_)) => {
                let values = list.iter().map(value).collect::<Result<_, _>>()?;
                let accounts = list.iter().take(8).enumerate().filter(|(_, param)| names_account(param));
                (values, accounts.fold(0, |mask, (slot, _)| mask | 1 << slot))
            }
            (RawParams::Named(table), Some(function)) => {
                let Some(interface) = own else {
                    return Err(invalid(Problem::NoInterface(function.clone())));
                };
                let named = table.iter().map(|(name, param)| value(param).map(|v| (name.as_str(), v)));
                let values = interface
                    .slots(named.collect::<Result<Vec<_>, _>>()?)
                    .map_err(|e| invalid(Problem::NamedParams { function: function.clone(), error: e.to_string() }))?;
                let accounts = table.iter().filter(|(_, param)| names_account(param));
                let slots = accounts.filter_map(|(name, _)| interface.param(name)).map(|(slot, _)| slot);
                (values, slots.fold(0, |mask, slot| mask | 1 << slot))
            }
        };
        let action = match (raw.call, raw.deposit, raw.withdrawal, raw.transfer, raw.open) {
            (Some(function), None, None, None, None) => {
                Action::Call { function, params: Params::new(params).map_err(|e| invalid(Problem::TooManyParams(e)))? }
            }
            (None, Some(m), None, None, None) => Action::Deposit { account: account(&m.account)?, amount: m.amount },
            (None, None, Some(m), None, None) => Action::Withdrawal { account: account(&m.account)?, amount: m.amount },
            (None, None, None, Some(t), None) => {
                Action::Transfer { from: account(&t.from)?, to: account(&t.to)?, amount: t.amount }
            }
            (None, None, None, None, Some(count)) => Action::OpenAccount { count },
            _ => return Err(invalid(Problem::StepKind)),
        };
        if params_without_call {
            return Err(invalid(Problem::ParamsWithoutCall));
        }
        let expect = match raw.expect {
            Some(status) => status.resolve(own).map_err(|written| invalid(Problem::UnknownStatus(written)))?,
            None => Status::NONE,
        };
        let mut absolute = BTreeMap::new();
        let mut relative = Balances::new();
        for (key, balance) in raw.balances.unwrap_or_default() {
            match balance {
                RawBalance::Absolute(value) => {
                    absolute.insert(key, value);
                }
                RawBalance::Relative(text) => {
                    let id = account_key(names, &key).map_err(|_| {
                        invalid(Problem::NotAnAccount { scenario: None, key: key.clone(), open: opened(names) })
                    })?;
                    let change = relative_balance(&text).ok_or_else(|| invalid(Problem::BadRelative(text.clone())))?;
                    relative.insert(id, change);
                }
            }
        }
        let balances = balances(names, absolute)
            .map_err(|key| invalid(Problem::NotAnAccount { scenario: None, key, open: opened(names) }))?;
        let entries = match raw.entries {
            Some(entries) => Some(
                entries
                    .into_iter()
                    .map(|e| {
                        Ok(EntryValue {
                            account: account(&e.account)?,
                            amount: e.amount,
                            kind: e.kind,
                            balance: e.balance,
                        })
                    })
                    .collect::<Result<Vec<_>, ScenarioError>>()?,
            ),
            None => None,
        };
        let mut links = Vec::new();
        for (parent, by_type) in raw.links.unwrap_or_default() {
            let parent = account_key(names, &parent).map_err(invalid)?;
            for (link_type, child) in by_type {
                let link_type =
                    link_type.parse::<u16>().map_err(|_| invalid(Problem::BadLinkType(link_type.clone())))?;
                links.push((parent, link_type, account(&child)?));
            }
        }
        Ok(Step {
            line: position(self.text, span.start).0,
            action,
            user_ref: raw.user_ref,
            expect,
            balances,
            relative,
            entries,
            flags: flags(names, raw.flags.unwrap_or_default()).map_err(invalid)?,
            kv: kv(names, raw.kv.unwrap_or_default()).map_err(invalid)?,
            links,
            records: raw.records,
            account_params,
        })
    }

    fn fuzz(
        &self,
        span: &Range<usize>,
        names: &Names,
        scenario: &str,
        raw: RawFuzz,
    ) -> Result<FuzzSpec, ScenarioError> {
        let invalid = |problem| self.invalid(span, problem);
        let in_scenario =
            |problem: Problem| invalid(Problem::InScenario { scenario: scenario.into(), problem: Box::new(problem) });
        let empty = || invalid(Problem::EmptyFuzzDomain { scenario: scenario.into() });
        let accounts = |raw: &[RawAccount]| -> Result<Vec<u64>, ScenarioError> {
            raw.iter().map(|a| account(names, a).map_err(&in_scenario)).collect()
        };
        let count = raw.params.len();
        let mut slots = Vec::with_capacity(count);
        for (index, slot) in raw.params.into_iter().enumerate() {
            let wrong_kind = || invalid(Problem::FuzzSlotKind { scenario: scenario.into(), slot: index });
            slots.push(match slot {
                RawSlot { accounts: Some(list), range: None, exact: None, value: None } => {
                    AccountSet::new(accounts(&list)?).map(Slot::Accounts).ok_or_else(empty)?
                }
                RawSlot { accounts: None, range: Some([low, high]), exact, value: None } => Slot::Range {
                    range: InclusiveRange::new(low, high).ok_or_else(empty)?,
                    exact: exact.unwrap_or(false),
                },
                RawSlot { accounts: None, range: None, exact: None, value: Some(value) } => Slot::Value(value),
                _ => return Err(wrong_kind()),
            });
        }
        let params =
            Params::new(slots).map_err(|_| invalid(Problem::TooManyFuzzParams { scenario: scenario.into(), count }))?;
        let balances = match raw.balances {
            Some(RawFuzzBalances { accounts: list, range: [low, high] }) => Some(FuzzBalances {
                accounts: accounts(&list)?,
                range: InclusiveRange::new(low, high).ok_or_else(empty)?,
            }),
            None => None,
        };
        let allowed = match raw.allowed {
            Some(statuses) => Some(
                statuses
                    .iter()
                    .map(|s| {
                        s.resolve(self.interfaces.get(raw.call.as_deref())).map_err(|written| {
                            invalid(Problem::UnknownAllowedStatus { scenario: scenario.into(), written })
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        Ok(FuzzSpec { call: raw.call, params, balances, allowed, never_negative: accounts(&raw.never_negative)? })
    }
}

/// A change of balance as written: `+40`, `-5`, `+0`.
fn relative_balance(text: &str) -> Option<i64> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    text[1..].bytes().all(|b| b.is_ascii_digit()).then(|| text[1..].parse::<i64>().ok()).flatten().map(|v| sign * v)
}

/// Balances keyed by account id or name; the first key that is neither.
fn balances(names: &Names, raw: BTreeMap<String, i64>) -> Result<Balances, String> {
    raw.into_iter()
        .map(|(key, balance)| account_key(names, &key).map(|account| (account, balance)).map_err(|_| key))
        .collect()
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
        ScenarioFile::from_str_with(text, origin, &Interfaces::default())
    }

    /// [`ScenarioFile::from_str`], with the interface manifests of the
    /// functions it calls: steps may then give `params` by name and expect
    /// a status by the function's own name.
    ///
    /// ```
    /// use roda_test::{Interfaces, ScenarioFile};
    ///
    /// let wasm = wat::parse_str(r#"(module
    ///     (@custom "roda.interface" "{\"roda.interface\":1}\n{\"function\":\"pay\",\"params\":[{\"name\":\"to\",\"kind\":\"account\"},{\"name\":\"amount\",\"kind\":\"amount\"}]}\n{\"status\":\"TOO_MUCH\",\"code\":140}")
    ///     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 140))"#)?;
    /// let text = r#"
    ///     version = 1
    ///     [[scenario]]
    ///     name = "named"
    ///     steps = [{ call = "pay", params = { amount = 5, to = 2 }, expect = "TOO_MUCH" }]
    /// "#;
    /// let file = ScenarioFile::from_str_with(text, "pay.toml", &Interfaces::of("pay", &wasm))?;
    /// assert_eq!(file.scenarios[0].steps[0].expect.code(), 140);
    /// assert_eq!(file.scenarios[0].steps[0].action.to_string(), "call pay(2, 5)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ScenarioFile::from_str`], and for `params` by name that the
    /// function's manifest does not take (or a function without one).
    pub fn from_str_with(
        text: &str,
        origin: impl AsRef<Path>,
        interfaces: &Interfaces,
    ) -> Result<ScenarioFile, ScenarioError> {
        let mut checker = Checker { origin: origin.as_ref(), text, version: 1, interfaces: interfaces.clone() };
        let version: VersionOnly = toml::from_str(text).map_err(|e| checker.syntax(&e))?;
        if let Some(version) = version.version.filter(|v| !(1..=i64::from(FORMAT_VERSION)).contains(v.get_ref())) {
            let (line, _) = position(text, version.span().start);
            return Err(ScenarioError::Version { origin: checker.origin.into(), line, found: *version.get_ref() });
        }
        let raw: RawFile = toml::from_str(text).map_err(|e| checker.syntax(&e))?;
        checker.version = raw.version;
        checker.file(raw)
    }

    /// Reads and parses a scenario file.
    ///
    /// # Errors
    ///
    /// [`ScenarioError::Read`] when it cannot be read, else as
    /// [`ScenarioFile::from_str`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<ScenarioFile, ScenarioError> {
        ScenarioFile::from_path_with(path, &Interfaces::default())
    }

    /// [`ScenarioFile::from_path`] with interface manifests, as
    /// [`ScenarioFile::from_str_with`].
    ///
    /// # Errors
    ///
    /// As [`ScenarioFile::from_path`] and [`ScenarioFile::from_str_with`].
    pub fn from_path_with(path: impl AsRef<Path>, interfaces: &Interfaces) -> Result<ScenarioFile, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.into(), source })?;
        ScenarioFile::from_str_with(&text, path, interfaces)
    }

    /// Reads every `*.toml` in `dir`, in name order: a project's `tests/`.
    ///
    /// # Errors
    ///
    /// As [`scenario_paths`], then as [`ScenarioFile::from_path`] for the
    /// first file that fails.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Vec<ScenarioFile>, ScenarioError> {
        ScenarioFile::from_dir_with(dir, &Interfaces::default())
    }

    /// [`ScenarioFile::from_dir`] with interface manifests, as
    /// [`ScenarioFile::from_str_with`].
    ///
    /// # Errors
    ///
    /// As [`ScenarioFile::from_dir`] and [`ScenarioFile::from_str_with`].
    pub fn from_dir_with(dir: impl AsRef<Path>, interfaces: &Interfaces) -> Result<Vec<ScenarioFile>, ScenarioError> {
        scenario_paths(dir.as_ref())?.iter().map(|path| ScenarioFile::from_path_with(path, interfaces)).collect()
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
