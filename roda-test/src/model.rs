//! The typed scenario model. Every value of these types is a scenario the
//! runner can run: the checks the file format needs (at most eight
//! parameters, ranges with `low <= high`, non-empty account sets) live in
//! the constructors, so a model built by hand is as sound as a parsed one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use ledger_core::abi::PARAM_COUNT;
use ledger_core::{Operation, Status};
use serde::Serialize;

/// The format version this crate reads.
pub const FORMAT_VERSION: u32 = 1;

/// Balances by account id.
pub type Balances = BTreeMap<u64, i64>;

/// A scenario file: the functions it registers besides the one under test,
/// and its scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFile {
    /// Where the file came from, as messages and reports name it.
    pub origin: PathBuf,
    /// Other functions to register, loaded.
    pub functions: Vec<HelperFunction>,
    /// The scenarios, in file order.
    pub scenarios: Vec<Scenario>,
}

/// A function the file registers besides the one under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperFunction {
    /// The name it is registered under.
    pub name: String,
    /// The binary.
    pub wasm: Vec<u8>,
}

/// One `[[scenario]]`: starting balances, steps run in a fresh ledger, and
/// optionally a call to fuzz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// The line of its `[[scenario]]` (0 when built by hand).
    pub line: usize,
    /// Starting balances, set directly.
    pub balances: Balances,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Invariant fuzzing.
    pub fuzz: Option<FuzzSpec>,
}

/// One step: an operation and what must hold after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The line it starts on (0 when built by hand).
    pub line: usize,
    /// What to submit.
    pub action: Action,
    /// Deduplication key; 0 never deduplicates.
    pub user_ref: u64,
    /// The status the step must end with.
    pub expect: Status,
    /// Balances that must hold after the step; others are not checked.
    pub balances: Balances,
    /// The committed entries, exactly, when checked.
    pub entries: Option<Vec<EntryValue>>,
}

/// What a step submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Calls a registered function.
    Call {
        /// Its registered name.
        function: String,
        /// Its parameters.
        params: Params<i64>,
    },
    /// Adds `amount` to `account` from the system account.
    Deposit {
        /// The account.
        account: u64,
        /// The amount.
        amount: u64,
    },
    /// Takes `amount` from `account` into the system account.
    Withdrawal {
        /// The account.
        account: u64,
        /// The amount.
        amount: u64,
    },
    /// Moves `amount` from `from` to `to`.
    Transfer {
        /// Source.
        from: u64,
        /// Destination.
        to: u64,
        /// The amount.
        amount: u64,
    },
}

impl Action {
    /// The ledger operation for this action.
    pub fn operation(&self, user_ref: u64) -> Operation {
        match self {
            Action::Call { function, params } => {
                Operation::Function { name: function.clone(), params: params.to_vec(), user_ref }
            }
            Action::Deposit { account, amount } => Operation::Deposit { account: *account, amount: *amount, user_ref },
            Action::Withdrawal { account, amount } => {
                Operation::Withdrawal { account: *account, amount: *amount, user_ref }
            }
            Action::Transfer { from, to, amount } => {
                Operation::Transfer { from: *from, to: *to, amount: *amount, user_ref }
            }
        }
    }
}

/// An operation the way reports show it: `call f(1, 2)`, `deposit 5 to 1`.
pub fn describe(operation: &Operation) -> String {
    match operation {
        Operation::Function { name, params, .. } => {
            let params: Vec<String> = params.iter().map(i64::to_string).collect();
            format!("call {name}({})", params.join(", "))
        }
        Operation::Deposit { account, amount, .. } => format!("deposit {amount} to {account}"),
        Operation::Withdrawal { account, amount, .. } => format!("withdraw {amount} from {account}"),
        Operation::Transfer { from, to, amount, .. } => format!("transfer {amount} from {from} to {to}"),
    }
}

/// At most [`PARAM_COUNT`] (8) values, one per parameter slot of `execute`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params<T>(Vec<T>);

/// More parameters than `execute` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{count} params; a function takes at most 8")]
pub struct TooManyParams {
    /// How many were given.
    pub count: usize,
}

impl<T> Params<T> {
    /// The values, checked against the slot count.
    ///
    /// # Errors
    ///
    /// [`TooManyParams`] for more than eight values.
    pub fn new(values: Vec<T>) -> Result<Params<T>, TooManyParams> {
        if values.len() > PARAM_COUNT {
            return Err(TooManyParams { count: values.len() });
        }
        Ok(Params(values))
    }

    /// The values.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T: Clone> Params<T> {
    /// The values, copied.
    pub fn to_vec(&self) -> Vec<T> {
        self.0.clone()
    }
}

/// An expected or committed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EntryValue {
    /// The account.
    pub account: u64,
    /// The amount.
    pub amount: u64,
    /// Credit (balance falls) or debit (balance rises).
    pub kind: EntryKind,
    /// The balance the entry left; `None` in an expectation does not check it.
    pub balance: Option<i64>,
}

impl EntryValue {
    /// Whether the committed `entry` is this one (the balance only when given).
    pub fn matches(&self, entry: &ledger_core::Entry) -> bool {
        self.account == entry.account_id
            && self.amount == entry.amount
            && self.kind == EntryKind::from(entry.kind)
            && self.balance.is_none_or(|b| b == entry.computed_balance)
    }
}

impl From<&ledger_core::Entry> for EntryValue {
    fn from(entry: &ledger_core::Entry) -> EntryValue {
        EntryValue {
            account: entry.account_id,
            amount: entry.amount,
            kind: entry.kind.into(),
            balance: Some(entry.computed_balance),
        }
    }
}

impl fmt::Display for EntryValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.kind, self.account, self.amount)?;
        match self.balance {
            Some(balance) => write!(f, " (balance {balance})"),
            None => Ok(()),
        }
    }
}

/// An entry's direction, as scenario files write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// The balance decreased.
    Credit,
    /// The balance increased.
    Debit,
}

impl From<ledger_core::EntryKind> for EntryKind {
    fn from(kind: ledger_core::EntryKind) -> EntryKind {
        match kind {
            ledger_core::EntryKind::Credit => EntryKind::Credit,
            ledger_core::EntryKind::Debit => EntryKind::Debit,
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Credit => "credit",
            EntryKind::Debit => "debit",
        })
    }
}

/// The `[scenario.fuzz]` table: a call whose parameters and starting
/// balances are drawn at random, and the invariants every draw must keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzSpec {
    /// The function to call; `None` calls the one under test.
    pub call: Option<String>,
    /// What each parameter slot ranges over.
    pub params: Params<Slot>,
    /// Random starting balances.
    pub balances: Option<FuzzBalances>,
    /// Statuses a call may end with; `None` allows any status the function
    /// returns itself, but none the ledger imposes.
    pub allowed: Option<Vec<Status>>,
    /// Accounts whose balance must never go negative.
    pub never_negative: Vec<u64>,
}

/// What one fuzzed parameter slot ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// One of these account ids.
    Accounts(AccountSet),
    /// An integer in the range.
    Range(InclusiveRange),
    /// Always this value.
    Value(i64),
}

/// Random starting balances: each account gets a value from the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzBalances {
    /// The accounts.
    pub accounts: Vec<u64>,
    /// The range balances are drawn from.
    pub range: InclusiveRange,
}

/// A non-empty set of account ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSet(Vec<u64>);

impl AccountSet {
    /// The set, or `None` when `accounts` is empty.
    pub fn new(accounts: Vec<u64>) -> Option<AccountSet> {
        (!accounts.is_empty()).then_some(AccountSet(accounts))
    }

    /// The accounts, never empty.
    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }
}

/// Integers from `low` to `high`, both included, with `low <= high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusiveRange {
    low: i64,
    high: i64,
}

impl InclusiveRange {
    /// The range, or `None` when `low > high`.
    pub fn new(low: i64, high: i64) -> Option<InclusiveRange> {
        (low <= high).then_some(InclusiveRange { low, high })
    }

    /// The lowest value.
    pub fn low(self) -> i64 {
        self.low
    }

    /// The highest value.
    pub fn high(self) -> i64 {
        self.high
    }
}
