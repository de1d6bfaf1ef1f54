//! Scenario files for `cargo roda test`: format, loading and running.
//!
//! ```toml
//! version = 1
//! # Other functions to register, by name (paths relative to this file).
//! functions = { helper = "../helper/build/function.wasm" }
//!
//! [[scenario]]
//! name = "fee transfer moves the amount and the fee"
//! balances = { 101 = 20000 }        # starting balances, set directly
//! steps = [
//!   { call = "fee_transfer", params = [101, 202, 999, 10000, 50], expect = "NONE",
//!     balances = { 101 = 9950, 202 = 10000, 999 = 50 } },
//!   { deposit = { account = 101, amount = 5 }, user_ref = 7 },
//!   { transfer = { from = 101, to = 202, amount = 1 }, user_ref = 7, expect = "DUPLICATE" },
//!   { withdrawal = { account = 202, amount = 1 },
//!     entries = [{ account = 202, amount = 1, kind = "credit" }, { account = 0, amount = 1, kind = "debit" }] },
//! ]
//!
//! [scenario.fuzz]                   # for `cargo roda test --fuzz`
//! call = "fee_transfer"
//! params = [{ accounts = [101, 202] }, { accounts = [202, 303] }, { value = 999 },
//!           { range = [0, 1000000] }, { range = [0, 100] }]
//! balances = { accounts = [101, 202], range = [0, 2000000] }
//! allowed = ["NONE", "INSUFFICIENT_FUNDS"]
//! never_negative = [202, 999]
//! ```
//!
//! A step's `expect` defaults to `"NONE"`; statuses are names or numbers.
//! Only the balances listed are checked; `entries`, when given, must match
//! exactly. Unknown keys are errors, with their line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ledger_core::{CallOutcome, Entry, EntryKind, IfRegistered, Ledger, LedgerConfig, Operation, Status, Transaction};
use serde::{Deserialize, Serialize};

/// The format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A status as written: a name (`"INSUFFICIENT_FUNDS"`, `"USER(130)"`) or a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum StatusSpec {
    /// A name.
    Name(String),
    /// A number.
    Code(u32),
}

impl StatusSpec {
    /// The status named, or why the name is not one.
    pub fn resolve(&self) -> Result<Status, String> {
        let status = match self {
            StatusSpec::Name(name) => Status::parse(name),
            StatusSpec::Code(code) => u8::try_from(*code).ok().map(Status::from_code),
        };
        status.ok_or_else(|| {
            format!("unknown status {self:?}: use a name (NONE, INSUFFICIENT_FUNDS, ..., DUPLICATE, USER(130)) or a number 0..=255")
        })
    }
}

/// Balances by account id (TOML keys are strings: `{ 101 = 20000 }`).
pub type Balances = BTreeMap<String, i64>;

/// A built-in move of one account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountMove {
    /// The account.
    pub account: u64,
    /// The amount.
    pub amount: u64,
}

/// A built-in transfer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferMove {
    /// Source.
    pub from: u64,
    /// Destination.
    pub to: u64,
    /// Amount.
    pub amount: u64,
}

/// An expected entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    /// The account.
    pub account: u64,
    /// The amount.
    pub amount: u64,
    /// `credit` or `debit`.
    pub kind: KindSpec,
    /// The balance after the entry, if checked.
    pub balance: Option<i64>,
}

/// An entry kind as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindSpec {
    /// Balance decreased.
    Credit,
    /// Balance increased.
    Debit,
}

/// One step: exactly one of `call`, `deposit`, `withdrawal`, `transfer`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A function to call.
    pub call: Option<String>,
    /// Its parameters (at most 8).
    #[serde(default)]
    pub params: Vec<i64>,
    /// A deposit.
    pub deposit: Option<AccountMove>,
    /// A withdrawal.
    pub withdrawal: Option<AccountMove>,
    /// A transfer.
    pub transfer: Option<TransferMove>,
    /// Deduplication key.
    #[serde(default)]
    pub user_ref: u64,
    /// Expected status (default `NONE`).
    pub expect: Option<StatusSpec>,
    /// Expected balances after the step.
    pub balances: Option<Balances>,
    /// Expected committed entries, exactly.
    pub entries: Option<Vec<EntrySpec>>,
}

/// What one fuzz parameter slot ranges over.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum SlotSpec {
    /// One of these account ids.
    Accounts {
        /// The ids.
        accounts: Vec<u64>,
    },
    /// An integer in `[low, high]`.
    Range {
        /// Bounds, inclusive.
        range: [i64; 2],
    },
    /// Always this value.
    Value {
        /// The value.
        value: i64,
    },
}

/// Random starting balances for fuzzing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuzzBalances {
    /// Accounts that get a random balance.
    pub accounts: Vec<u64>,
    /// Bounds, inclusive.
    pub range: [i64; 2],
}

/// The `[scenario.fuzz]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuzzSpec {
    /// The function to fuzz (default: the one under test).
    pub call: Option<String>,
    /// Per parameter slot, what it ranges over.
    pub params: Vec<SlotSpec>,
    /// Random starting balances.
    pub balances: Option<FuzzBalances>,
    /// Statuses a call may end with (default: any the function returns itself).
    pub allowed: Option<Vec<StatusSpec>>,
    /// Accounts whose balance must never go negative.
    #[serde(default)]
    pub never_negative: Vec<u64>,
}

/// One `[[scenario]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Starting balances.
    #[serde(default)]
    pub balances: Balances,
    /// The steps, in order.
    #[serde(default)]
    pub steps: Vec<toml::Spanned<Step>>,
    /// Invariant fuzzing.
    pub fuzz: Option<FuzzSpec>,
}

/// A scenario file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Format version; must be [`FORMAT_VERSION`].
    pub version: u32,
    /// Other functions to register: name to `.wasm`/`.wat` path.
    #[serde(default)]
    pub functions: BTreeMap<String, PathBuf>,
    /// The scenarios.
    #[serde(default, rename = "scenario")]
    pub scenarios: Vec<Scenario>,
}

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", .path.display())]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, with the line where known.
    pub message: String,
}

/// A loaded file with everything it refers to.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub file: ScenarioFile,
    /// Other functions, loaded.
    pub functions: Vec<(String, Vec<u8>)>,
}

/// The function under test.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The name it is registered under.
    pub name: String,
    /// The binary.
    pub wasm: Vec<u8>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<LoadedFile, ScenarioError> {
    let error = |message: String| ScenarioError { path: path.into(), message };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
    let file: ScenarioFile = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
    if file.version != FORMAT_VERSION {
        return Err(error(format!(
            "format version {} is not supported; this cargo-roda reads version {FORMAT_VERSION}",
            file.version
        )));
    }
    for scenario in &file.scenarios {
        for step in &scenario.steps {
            let line = line_of(&text, step.span().start);
            let step = step.get_ref();
            let ops = [step.call.is_some(), step.deposit.is_some(), step.withdrawal.is_some(), step.transfer.is_some()];
            if ops.iter().filter(|op| **op).count() != 1 {
                return Err(error(format!(
                    "line {line}: a step needs exactly one of `call`, `deposit`, `withdrawal`, `transfer`"
                )));
            }
            if step.params.len() > 8 {
                return Err(error(format!("line {line}: {} params; a function takes at most 8", step.params.len())));
            }
            if step.call.is_none() && !step.params.is_empty() {
                return Err(error(format!("line {line}: `params` goes with `call`")));
            }
            let check = |r: Result<Status, String>| r.map(drop).map_err(|m| error(format!("line {line}: {m}")));
            if let Some(expect) = &step.expect {
                check(expect.resolve())?;
            }
            for key in step.balances.iter().flat_map(|b| b.keys()) {
                parse_account(key).map_err(|m| error(format!("line {line}: {m}")))?;
            }
        }
        for key in scenario.balances.keys() {
            parse_account(key).map_err(|m| error(format!("scenario `{}`: {m}", scenario.name)))?;
        }
        if let Some(fuzz) = &scenario.fuzz {
            if fuzz.params.len() > 8 {
                return Err(error(format!(
                    "scenario `{}`: fuzz has {} params; at most 8",
                    scenario.name,
                    fuzz.params.len()
                )));
            }
            for spec in fuzz.allowed.iter().flatten() {
                spec.resolve().map_err(|m| error(format!("scenario `{}`: {m}", scenario.name)))?;
            }
            let bad_range = fuzz.params.iter().any(|p| matches!(p, SlotSpec::Range { range } if range[0] > range[1]))
                || fuzz.balances.as_ref().is_some_and(|b| b.range[0] > b.range[1]);
            let empty_set =
                fuzz.params.iter().any(|p| matches!(p, SlotSpec::Accounts { accounts } if accounts.is_empty()));
            if bad_range || empty_set {
                return Err(error(format!(
                    "scenario `{}`: every fuzz range needs low <= high and every account set an account",
                    scenario.name
                )));
            }
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut functions = Vec::new();
    for (name, wasm_path) in &file.functions {
        let bytes =
            crate::validate::load_module(&dir.join(wasm_path)).map_err(|e| error(format!("functions.{name}: {e}")))?;
        functions.push((name.clone(), bytes));
    }
    Ok(LoadedFile { path: path.into(), file, functions })
}

fn parse_account(key: &str) -> Result<u64, String> {
    key.parse().map_err(|_| format!("`{key}` is not an account id (an unsigned integer)"))
}

/// A problem the server would not report but that hurts a production ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// Stable code.
    pub code: &'static str,
    /// What happened and why it matters.
    pub message: String,
}

/// The lints a function call raises.
pub fn lints(report: &ledger_core::CallReport) -> Vec<Lint> {
    let mut lints = Vec::new();
    match &report.outcome {
        CallOutcome::OutOfFuel => lints.push(Lint {
            code: "out-of-fuel",
            message: format!(
                "ran out of fuel after {} units: it would block the ledger, since the server has no time limit",
                report.fuel_used
            ),
        }),
        CallOutcome::Returned(ret) if !(0..=255).contains(ret) => lints.push(Lint {
            code: "status-out-of-range",
            message: format!(
                "returned {ret}, outside 0..=255: the server keeps the low byte ({}), so 256 commits",
                Status::from_execute_return(*ret)
            ),
        }),
        CallOutcome::Returned(ret) if Status::from_execute_return(*ret).is_reserved() => lints.push(Lint {
            code: "reserved-status",
            message: format!("returned {ret}: 8..=127 are reserved for the ledger's future reasons; use 128..=255"),
        }),
        _ => {}
    }
    if report.carried_state.is_some() {
        lints.push(Lint {
            code: "carried-state",
            message: "the result depended on state left by an earlier call (a mutable global or memory): the server reuses one instance per function, so results drift between calls and reset on restart".into(),
        });
    }
    if report.wrapped_amount {
        lints.push(Lint {
            code: "wrapped-amount",
            message: "a credit or debit had an amount of 2^63 or more: the server casts it to a negative i64, so the balance moves the other way".into(),
        });
    }
    lints
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    /// 1-based.
    pub step: usize,
    /// What ran, e.g. `call fee_transfer(101, 202)`.
    pub operation: String,
    /// Status, by name.
    pub status: String,
    /// Fuel used (calls only).
    pub fuel: Option<u64>,
    /// The call's outcome when it did not return (trap, out of fuel, ...).
    pub outcome: Option<String>,
    /// Lints raised.
    pub lints: Vec<Lint>,
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// 1-based step.
    pub step: usize,
    /// Expected status, if it differed.
    pub expected_status: Option<String>,
    /// Actual status, if it differed.
    pub actual_status: Option<String>,
    /// Balances that differ: account, expected, actual.
    pub balances: Vec<(u64, i64, i64)>,
    /// When the entries differ: expected and actual, rendered.
    pub entries: Option<(Vec<String>, Vec<String>)>,
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioResult {
    /// Its name.
    pub name: String,
    /// Steps run.
    pub steps: Vec<StepResult>,
    /// The first expectation that failed.
    pub mismatch: Option<Mismatch>,
    /// A setup problem (unknown function to register, ...).
    pub error: Option<String>,
}

impl ScenarioResult {
    /// No mismatch, no lint, no error.
    pub fn passed(&self) -> bool {
        self.mismatch.is_none() && self.error.is_none() && self.steps.iter().all(|s| s.lints.is_empty())
    }
}

/// A ledger with the subject and the file's functions registered.
pub fn ledger_for(subject: &Subject, file: &LoadedFile, config: LedgerConfig) -> Result<Ledger, String> {
    if file.functions.iter().any(|(name, _)| *name == subject.name) {
        return Err(format!(
            "{}: `functions` registers `{}`, the name of the function under test; give the helper another name",
            file.path.display(),
            subject.name
        ));
    }
    let mut ledger = Ledger::new(config).map_err(|e| e.to_string())?;
    ledger
        .register_function(&subject.name, &subject.wasm, IfRegistered::Refuse)
        .map_err(|e| format!("registering `{}`: {e}", subject.name))?;
    for (name, wasm) in &file.functions {
        ledger
            .register_function(name, wasm, IfRegistered::Override)
            .map_err(|e| format!("registering `{name}`: {e}"))?;
    }
    Ok(ledger)
}

fn operation(step: &Step) -> Operation {
    let user_ref = step.user_ref;
    match (&step.call, &step.deposit, &step.withdrawal, &step.transfer) {
        (Some(name), ..) => Operation::Function { name: name.clone(), params: step.params.clone(), user_ref },
        (_, Some(m), ..) => Operation::Deposit { account: m.account, amount: m.amount, user_ref },
        (_, _, Some(m), _) => Operation::Withdrawal { account: m.account, amount: m.amount, user_ref },
        (_, _, _, Some(t)) => Operation::Transfer { from: t.from, to: t.to, amount: t.amount, user_ref },
        _ => unreachable!("checked when loading: one operation per step"),
    }
}

/// Renders an operation the way reports show it.
pub fn describe(op: &Operation) -> String {
    match op {
        Operation::Function { name, params, .. } => {
            let params: Vec<String> = params.iter().map(i64::to_string).collect();
            format!("call {name}({})", params.join(", "))
        }
        Operation::Deposit { account, amount, .. } => format!("deposit {amount} to {account}"),
        Operation::Withdrawal { account, amount, .. } => format!("withdraw {amount} from {account}"),
        Operation::Transfer { from, to, amount, .. } => format!("transfer {amount} from {from} to {to}"),
    }
}

fn render_entry(account: u64, amount: u64, credit: bool, balance: Option<i64>) -> String {
    let kind = if credit { "credit" } else { "debit" };
    match balance {
        Some(b) => format!("{kind} {account} {amount} (balance {b})"),
        None => format!("{kind} {account} {amount}"),
    }
}

fn entries_match(expected: &[EntrySpec], actual: &[Entry]) -> bool {
    expected.len() == actual.len()
        && expected.iter().zip(actual).all(|(e, a)| {
            e.account == a.account_id
                && e.amount == a.amount
                && (e.kind == KindSpec::Credit) == (a.kind == EntryKind::Credit)
                && e.balance.is_none_or(|b| b == a.computed_balance)
        })
}

fn check(step_no: usize, step: &Step, receipt: &Transaction, ledger: &Ledger) -> Option<Mismatch> {
    let expected = step.expect.as_ref().map_or(Ok(Status::NONE), StatusSpec::resolve).unwrap_or(Status::NONE);
    let mut mismatch =
        Mismatch { step: step_no, expected_status: None, actual_status: None, balances: Vec::new(), entries: None };
    if expected != receipt.status {
        mismatch.expected_status = Some(format!("{} ({})", expected, expected.code()));
        mismatch.actual_status = Some(format!("{} ({})", receipt.status, receipt.status.code()));
    }
    for (key, want) in step.balances.iter().flatten() {
        let account = parse_account(key).expect("checked when loading");
        let actual = ledger.balance(account);
        if actual != *want {
            mismatch.balances.push((account, *want, actual));
        }
    }
    if let Some(expected) = &step.entries {
        let actual = receipt.entries.as_slice();
        if !entries_match(expected, actual) {
            mismatch.entries = Some((
                expected
                    .iter()
                    .map(|e| render_entry(e.account, e.amount, e.kind == KindSpec::Credit, e.balance))
                    .collect(),
                actual
                    .iter()
                    .map(|a| {
                        render_entry(a.account_id, a.amount, a.kind == EntryKind::Credit, Some(a.computed_balance))
                    })
                    .collect(),
            ));
        }
    }
    let differs = mismatch.expected_status.is_some() || !mismatch.balances.is_empty() || mismatch.entries.is_some();
    differs.then_some(mismatch)
}

/// Runs one scenario in a fresh ledger.
pub fn run_scenario(
    subject: &Subject,
    file: &LoadedFile,
    scenario: &Scenario,
    config: &LedgerConfig,
) -> ScenarioResult {
    let mut result = ScenarioResult { name: scenario.name.clone(), steps: Vec::new(), mismatch: None, error: None };
    let config = LedgerConfig { check_carried_state: true, ..config.clone() };
    let mut ledger = match ledger_for(subject, file, config) {
        Ok(ledger) => ledger,
        Err(error) => {
            result.error = Some(error);
            return result;
        }
    };
    for (account, balance) in &scenario.balances {
        ledger.seed_balance(parse_account(account).expect("checked when loading"), *balance);
    }
    for (index, step) in scenario.steps.iter().enumerate() {
        let step = step.get_ref();
        let op = operation(step);
        let receipt = ledger.submit(&op);
        let call = receipt.call.as_ref();
        result.steps.push(StepResult {
            step: index + 1,
            operation: describe(&op),
            status: receipt.status.to_string(),
            fuel: call.map(|c| c.fuel_used),
            outcome: call.filter(|c| !matches!(c.outcome, CallOutcome::Returned(_))).map(|c| c.outcome.to_string()),
            lints: call.map(lints).unwrap_or_default(),
        });
        if let Some(mismatch) = check(index + 1, step, &receipt, &ledger) {
            result.mismatch = Some(mismatch);
            break;
        }
    }
    result
}
