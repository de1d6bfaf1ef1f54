//! The typed scenario model. Every value of these types is a scenario the
//! runner can run: the checks the file format needs (at most eight
//! parameters, ranges with `low <= high`, non-empty account sets) live in
//! the constructors, so a model built by hand is as sound as a parsed one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use ledger_core::Status;
use ledger_core::abi::PARAM_COUNT;
use ledger_core::v2;
use serde::Serialize;

/// The latest format version this crate reads; it reads version 1 too.
/// Version 2 adds what ABI v2 needs: accounts opened by name, flags, KV,
/// links and records.
pub const FORMAT_VERSION: u32 = 2;

/// Balances by account id.
pub type Balances = BTreeMap<u64, i64>;

/// The id of the first `open` name of a scenario that also names existing
/// accounts (`accounts = { treasury = 17 }`): such a scenario runs only
/// where accounts exist already (a fork, a live server), whose ledger
/// issues its own ids, so its opened names hold placeholders from here that
/// no existing id can be, replaced by the ids issued when it runs.
pub const PLACEHOLDER_BASE: u64 = 1 << 40;

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
    /// ABI v2: accounts opened before anything else, in order (ids from 1),
    /// by the names steps use for them.
    pub open: Vec<String>,
    /// ABI v2: accounts that exist already on the ledger the scenario runs
    /// on (a fork's), by name: `accounts = { treasury = 17 }`.
    pub existing: BTreeMap<String, u64>,
    /// Starting balances, set directly.
    pub balances: Balances,
    /// ABI v2: starting flag lanes, set directly.
    pub flags: Flags,
    /// ABI v2: starting KV values, set directly (constants resolved after
    /// registration).
    pub kv: Vec<(KeySpec, i64)>,
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
    /// Balances that must hold after the step, as a change from the
    /// account's balance when the scenario started (`"+40"`): what a
    /// scenario on a fork, whose starting balances it does not set, checks.
    pub relative: Balances,
    /// The committed entries, exactly, when checked.
    pub entries: Option<Vec<EntryValue>>,
    /// ABI v2: flag lanes that must hold after the step.
    pub flags: Flags,
    /// ABI v2: KV values that must hold after the step.
    pub kv: Vec<(KeySpec, i64)>,
    /// ABI v2: linked accounts that must exist after the step: parent,
    /// link type, child.
    pub links: Vec<(u64, u16, u64)>,
    /// ABI v2: the committed records, exactly, in their text form (see
    /// [`record_text`]), when checked.
    pub records: Option<Vec<String>>,
    /// The call's parameters written as account names (bit `i` for
    /// `params[i]`): a ledger that issues other ids than the scenario's
    /// (a fork, a live server) gets its own there. A number is passed as
    /// written.
    pub account_params: u8,
}

impl Step {
    /// A step that submits `action` and expects `expect`, checking nothing
    /// else.
    pub fn new(action: Action, expect: Status) -> Step {
        Step {
            line: 0,
            action,
            user_ref: 0,
            expect,
            balances: Balances::new(),
            relative: Balances::new(),
            entries: None,
            flags: Flags::new(),
            kv: Vec::new(),
            links: Vec::new(),
            records: None,
            account_params: 0,
        }
    }

    /// Whether the step needs ABI v2 (opens accounts, or checks flags, KV,
    /// links or records).
    pub fn needs_v2(&self) -> bool {
        matches!(self.action, Action::OpenAccount { .. })
            || !self.flags.is_empty()
            || !self.kv.is_empty()
            || !self.links.is_empty()
            || self.records.is_some()
    }
}

impl Scenario {
    /// Whether the scenario needs ABI v2.
    pub fn needs_v2(&self) -> bool {
        !self.open.is_empty()
            || !self.existing.is_empty()
            || !self.flags.is_empty()
            || !self.kv.is_empty()
            || self.steps.iter().any(Step::needs_v2)
    }

    /// The id its first `open` name stands for: 1, as a fresh ledger issues
    /// it, or [`PLACEHOLDER_BASE`] when it also names existing accounts.
    pub fn first_opened(&self) -> u64 {
        if self.existing.is_empty() { 1 } else { PLACEHOLDER_BASE }
    }
}

/// Flag lanes by account: account id, lane (0..=7), value.
pub type Flags = BTreeMap<(u64, u8), u8>;

/// A KV key as scenario files write it: up to four `/`-joined components,
/// each an integer, an account name or a constant name; zero-padded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeySpec(pub [KeyComponent; 4]);

/// One component of a [`KeySpec`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyComponent {
    /// An integer below 2^31.
    Int(u32),
    /// An account, written by name: its id.
    Account(u64),
    /// A constant, by name: resolved when the scenario runs.
    Constant(String),
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, component) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            match component {
                KeyComponent::Int(value) => write!(f, "{value}")?,
                KeyComponent::Account(id) => write!(f, "{id}")?,
                KeyComponent::Constant(name) => f.write_str(name)?,
            }
        }
        Ok(())
    }
}

/// How scenarios write a committed v2 record: ledger-core's one renderer.
pub use ledger_core::v2::record_text;

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
    /// ABI v2: opens `count` accounts (0 opens one).
    OpenAccount {
        /// How many.
        count: u32,
    },
}

impl Action {
    /// The ledger operation for this action, of the newest profile (an
    /// engine converts it to its own, or has none: v1 opens no account).
    pub fn operation(&self, user_ref: u64) -> v2::Operation {
        match self {
            Action::Call { function, params } => {
                v2::Operation::Function { name: function.clone(), params: params.to_vec(), user_ref }
            }
            Action::Deposit { account, amount } => {
                v2::Operation::Deposit { account: *account, amount: *amount, user_ref }
            }
            Action::Withdrawal { account, amount } => {
                v2::Operation::Withdrawal { account: *account, amount: *amount, user_ref }
            }
            Action::Transfer { from, to, amount } => {
                v2::Operation::Transfer { from: *from, to: *to, amount: *amount, user_ref }
            }
            Action::OpenAccount { count } => v2::Operation::OpenAccount { count: *count, user_ref },
        }
    }
}

/// An action the way reports show it: `call f(1, 2)`, `deposit 5 to 1`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Call { function, params } => {
                let params: Vec<String> = params.as_slice().iter().map(i64::to_string).collect();
                write!(f, "call {function}({})", params.join(", "))
            }
            Action::Deposit { account, amount } => write!(f, "deposit {amount} to {account}"),
            Action::Withdrawal { account, amount } => write!(f, "withdraw {amount} from {account}"),
            Action::Transfer { from, to, amount } => write!(f, "transfer {amount} from {from} to {to}"),
            Action::OpenAccount { count } => write!(f, "open {count} account(s)"),
        }
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
    /// An integer in the range, mixed with the edge values a function must
    /// survive (0, ±1, the range's ends and their neighbours, negative
    /// numbers, `i64::MIN` and `i64::MAX`: see [`Slot::edges`]) unless
    /// `exact` says the range is all the slot may take.
    Range {
        /// The range.
        range: InclusiveRange,
        /// Only values inside the range (`exact = true`).
        exact: bool,
    },
    /// Always this value.
    Value(i64),
}

impl Slot {
    /// The values outside its random draws that a `range` slot also tries,
    /// unless it is `exact`: 0, ±1, -2, the range's ends and their
    /// neighbours, 2^31 and 2^32 (the ends of KV key components and `u32`),
    /// `i64::MIN`, `i64::MIN + 1` and `i64::MAX`. A negative amount read as a
    /// `u64`, or a sum that overflows, is found here.
    ///
    /// ```
    /// use roda_test::model::{InclusiveRange, Slot};
    ///
    /// let range = InclusiveRange::new(0, 100).unwrap();
    /// let edges = Slot::Range { range, exact: false }.edges();
    /// assert!(edges.contains(&-1) && edges.contains(&101) && edges.contains(&i64::MIN));
    /// assert!(Slot::Range { range, exact: true }.edges().is_empty());
    /// ```
    pub fn edges(&self) -> Vec<i64> {
        let Slot::Range { range, exact: false } = self else { return Vec::new() };
        let (low, high) = (range.low(), range.high());
        let mut edges = vec![
            0,
            1,
            -1,
            -2,
            low,
            low.saturating_sub(1),
            low.saturating_add(1),
            high,
            high.saturating_sub(1),
            high.saturating_add(1),
            1 << 31,
            1 << 32,
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
        ];
        edges.sort_unstable();
        edges.dedup();
        edges
    }
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

/// The ids a ledger issued for a scenario's accounts, by the ids the
/// scenario names them with (1, 2, ... for its `open` names, or
/// [`PLACEHOLDER_BASE`] onward): a fork or a live server issues its own.
/// An id it does not hold stands for itself.
///
/// ```
/// use roda_test::model::AccountMap;
///
/// let mut map = AccountMap::default();
/// map.insert(1, 1151);
/// assert_eq!((map.to_ledger(1), map.to_ledger(0)), (1151, 0));
/// assert_eq!(map.to_scenario(1151), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountMap(BTreeMap<u64, u64>);

impl AccountMap {
    /// Says that the ledger's `ledger_id` is the scenario's `scenario_id`
    /// (nothing to say when they are the same).
    pub fn insert(&mut self, scenario_id: u64, ledger_id: u64) {
        if scenario_id != ledger_id {
            self.0.insert(scenario_id, ledger_id);
        }
    }

    /// Says that the `count` accounts the ledger opened from `begin` are
    /// the scenario's from `first`, in order.
    ///
    /// ```
    /// use roda_test::model::AccountMap;
    ///
    /// let mut map = AccountMap::default();
    /// map.opened(1, 1151, 2);
    /// assert_eq!((map.to_ledger(1), map.to_ledger(2)), (1151, 1152));
    /// ```
    pub fn opened(&mut self, first: u64, begin: u64, count: u32) {
        for offset in 0..u64::from(count) {
            self.insert(first + offset, begin + offset);
        }
    }

    /// The ledger's id for the scenario's.
    pub fn to_ledger(&self, scenario_id: u64) -> u64 {
        self.0.get(&scenario_id).copied().unwrap_or(scenario_id)
    }

    /// The scenario's id for the ledger's.
    pub fn to_scenario(&self, ledger_id: u64) -> u64 {
        self.0.iter().find(|&(_, &issued)| issued == ledger_id).map_or(ledger_id, |(&id, _)| id)
    }

    /// Whether every id stands for itself.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Scenario id, ledger id, in scenario order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().map(|(&a, &b)| (a, b))
    }
}

impl Step {
    /// The step with the ledger's ids wherever it names an account: the
    /// operation, the parameters written as names, and every expectation.
    pub fn with_ids(&self, map: &AccountMap) -> Step {
        let id = |account: u64| map.to_ledger(account);
        let balances = |b: &Balances| b.iter().map(|(&account, &v)| (id(account), v)).collect();
        let action = match &self.action {
            Action::Call { function, params } => {
                let values = params
                    .as_slice()
                    .iter()
                    .enumerate()
                    .map(|(slot, &v)| if self.account_params & (1 << slot) != 0 { id(v as u64) as i64 } else { v })
                    .collect();
                Action::Call { function: function.clone(), params: Params(values) }
            }
            Action::Deposit { account, amount } => Action::Deposit { account: id(*account), amount: *amount },
            Action::Withdrawal { account, amount } => Action::Withdrawal { account: id(*account), amount: *amount },
            Action::Transfer { from, to, amount } => Action::Transfer { from: id(*from), to: id(*to), amount: *amount },
            Action::OpenAccount { count } => Action::OpenAccount { count: *count },
        };
        Step {
            action,
            balances: balances(&self.balances),
            relative: balances(&self.relative),
            entries: self
                .entries
                .as_ref()
                .map(|entries| entries.iter().map(|e| EntryValue { account: id(e.account), ..*e }).collect()),
            flags: self.flags.iter().map(|(&(account, lane), &v)| ((id(account), lane), v)).collect(),
            kv: self.kv.iter().map(|(key, v)| (key.with_ids(map), *v)).collect(),
            links: self.links.iter().map(|&(parent, t, child)| (id(parent), t, id(child))).collect(),
            ..self.clone()
        }
    }
}

impl KeySpec {
    /// The key with the ledger's ids for its accounts.
    pub fn with_ids(&self, map: &AccountMap) -> KeySpec {
        KeySpec(self.0.clone().map(|component| match component {
            KeyComponent::Account(id) => KeyComponent::Account(map.to_ledger(id)),
            other => other,
        }))
    }
}

impl Scenario {
    /// Every account the scenario names where an account goes (opened,
    /// existing, starting state, operations, parameters written as names,
    /// expectations), by the scenario's ids: what a run on another ledger
    /// reads and compares.
    pub fn accounts(&self) -> std::collections::BTreeSet<u64> {
        let mut accounts: std::collections::BTreeSet<u64> =
            (self.first_opened()..).take(self.open.len()).chain(self.existing.values().copied()).collect();
        accounts.extend(self.balances.keys());
        accounts.extend(self.flags.keys().map(|(account, _)| *account));
        for step in &self.steps {
            match &step.action {
                Action::Call { params, .. } => accounts.extend(
                    params
                        .as_slice()
                        .iter()
                        .enumerate()
                        .filter(|(slot, _)| step.account_params & (1 << slot) != 0)
                        .map(|(_, &v)| v as u64),
                ),
                Action::Deposit { account, .. } | Action::Withdrawal { account, .. } => {
                    accounts.insert(*account);
                }
                Action::Transfer { from, to, .. } => accounts.extend([*from, *to]),
                Action::OpenAccount { .. } => {}
            }
            accounts.extend(step.balances.keys().chain(step.relative.keys()));
            accounts.extend(step.entries.iter().flatten().map(|e| e.account));
            accounts.extend(step.flags.keys().map(|(account, _)| *account));
            accounts.extend(step.links.iter().flat_map(|&(parent, _, child)| [parent, child]));
        }
        accounts
    }

    /// Every KV key the scenario sets or checks.
    pub fn keys(&self) -> std::collections::BTreeSet<KeySpec> {
        self.kv.iter().chain(self.steps.iter().flat_map(|s| &s.kv)).map(|(key, _)| key.clone()).collect()
    }
}
