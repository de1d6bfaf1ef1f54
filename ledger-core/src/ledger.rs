//! The in-process ledger: accounts, built-in operations and function calls,
//! with a real server's rules.

use std::collections::HashMap;

use ledger_abi::{Accounts, DEFAULT_MAX_ACCOUNTS, Entry, SYSTEM_ACCOUNT, Status, param_slots};

use crate::crc32c;
use crate::functions::{Functions, compile};
use crate::registry::{BinaryError, FunctionInfo, Prepared, Registered, RegistryError};
use crate::runtime::{CallOutcome, Interrupter, Limits, LoadedFunction, Runtime};

/// Largest `max_accounts` an in-process ledger accepts: balances are a
/// dense array up to the highest id used, 8 bytes each (1 GiB here).
pub const MAX_ACCOUNTS_LIMIT: u64 = 1 << 27;

/// How a ledger is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    /// Account ids are `0..max_accounts`; touching another is status 6.
    pub max_accounts: u64,
    /// Fuel, memory and stack bounds on every call.
    pub limits: Limits,
    /// Run every function call a second time on a fresh instance and report
    /// when the outcomes differ (see [`CallReport::carried_state`]). Costs one
    /// instantiation per call.
    pub check_carried_state: bool,
    /// Keep transactions' records and entries for [`Ledger::transaction`].
    /// Off for long fuzzing and benchmark runs.
    pub keep_history: bool,
    /// How many of the latest transactions the history keeps; older ones
    /// are dropped (a server keeps them only until its snapshot moves on).
    pub max_history: usize,
    /// How many transactions after it a `user_ref` is remembered for: a
    /// repeat within the window is DUPLICATE, a later one is new. Upstream
    /// remembers the `user_ref`s of one to two WAL segments; the window
    /// bounds the memory the dedup set takes.
    pub dedup_window: u64,
}

/// Default [`LedgerConfig::max_history`]: the last million transactions.
pub const DEFAULT_MAX_HISTORY: usize = 1_000_000;

/// Default [`LedgerConfig::dedup_window`]: a million transactions.
pub const DEFAULT_DEDUP_WINDOW: u64 = 1_000_000;

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            max_accounts: DEFAULT_MAX_ACCOUNTS,
            limits: Limits::default(),
            check_carried_state: false,
            keep_history: true,
            max_history: DEFAULT_MAX_HISTORY,
            dedup_window: DEFAULT_DEDUP_WINDOW,
        }
    }
}

/// What [`Ledger::register_function`] does when the name is already live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfRegistered {
    /// Refuse with [`RegistryError::AlreadyExists`], as a server does by
    /// default.
    #[default]
    Refuse,
    /// Replace it with a new version (the wire's `override_existing`).
    Override,
}

/// An operation, as `SubmitAndWait` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum Operation {
    /// Adds `amount` to `account`, taken from the system account 0.
    Deposit {
        /// Account credited with the amount (its balance rises).
        account: u64,
        /// Amount.
        amount: u64,
        /// Deduplication key; 0 never deduplicates.
        user_ref: u64,
    },
    /// Takes `amount` from `account` into the system account; status 1 if the
    /// balance is lower.
    Withdrawal {
        /// Account whose balance falls.
        account: u64,
        /// Amount.
        amount: u64,
        /// Deduplication key; 0 never deduplicates.
        user_ref: u64,
    },
    /// Moves `amount` from `from` to `to`; status 1 if `from` has less;
    /// `from == to` is a successful no-op.
    Transfer {
        /// Source account.
        from: u64,
        /// Destination account.
        to: u64,
        /// Amount.
        amount: u64,
        /// Deduplication key; 0 never deduplicates.
        user_ref: u64,
    },
    /// Calls a registered function.
    Function {
        /// Registered name.
        name: String,
        /// Up to 8 parameters; fewer are zero-padded, more are dropped (as a
        /// server does).
        params: Vec<i64>,
        /// Deduplication key; 0 never deduplicates.
        user_ref: u64,
    },
}

impl Operation {
    /// The operation's deduplication key.
    pub fn user_ref(&self) -> u64 {
        match self {
            Operation::Deposit { user_ref, .. }
            | Operation::Withdrawal { user_ref, .. }
            | Operation::Transfer { user_ref, .. }
            | Operation::Function { user_ref, .. } => *user_ref,
        }
    }
}

/// The metadata tags a server writes, 8 bytes each.
pub mod tags {
    /// Deposit.
    pub const DEPOSIT: [u8; 8] = *b"DEPOSIT\0";
    /// Withdrawal.
    pub const WITHDRAWAL: [u8; 8] = *b"WITHDRAW";
    /// Transfer.
    pub const TRANSFER: [u8; 8] = *b"TRANSFER";
    /// A transaction refused as a duplicate.
    pub const DUPLICATE: [u8; 8] = *b"DUPLICAT";
    /// v2: `OpenAccount`.
    pub const OPEN_ACCOUNT: [u8; 8] = *b"OPENACC\0";
    /// v2: a function registered or unregistered.
    pub const FUNCTION_REGISTRATION: [u8; 8] = *b"FNREG\0\0\0";

    /// A function call: `fnw\n` then the binary's CRC32C, little-endian (0
    /// when no function ran).
    ///
    /// ```
    /// assert_eq!(ledger_core::tags::function(0x1234_5678), *b"fnw\n\x78\x56\x34\x12");
    /// ```
    pub const fn function(crc32c: u32) -> [u8; 8] {
        let c = crc32c.to_le_bytes();
        [b'f', b'n', b'w', b'\n', c[0], c[1], c[2], c[3]]
    }
}

/// What ran when a function operation was processed. `R` is what a call
/// records: v1's [`Entry`], v2's [`Record`](crate::v2::Record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport<R = Entry> {
    /// Version that ran, if one was registered.
    pub version: Option<u32>,
    /// CRC32C of the binary that ran (0 if none).
    pub crc32c: u32,
    /// The typed outcome; the ledger status of anything but a return is 5.
    pub outcome: CallOutcome,
    /// Fuel the call used.
    pub fuel_used: u64,
    /// A credit or debit had an amount of 2^63 or more: the server applies
    /// it as a negative `i64`, so the balance moved the other way.
    pub wrapped_amount: bool,
    /// With [`LedgerConfig::check_carried_state`], set when a fresh instance
    /// gave another result: this call's outcome depended on an earlier call.
    pub carried_state: Option<CarriedState<R>>,
    /// Credits and debits made by the module's `start` function when this
    /// call instantiated it. A server makes them on its live ledger outside
    /// the transaction's rules (see `docs/differences.md`); here they are
    /// dropped.
    pub start_moves: usize,
}

/// A call whose outcome depended on state left by earlier calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedState<R = Entry> {
    /// What a fresh instance (what the seed promises) returned.
    pub fresh_outcome: CallOutcome,
    /// What the fresh instance recorded (v1: its entries).
    pub fresh_entries: Vec<R>,
}

/// A processed transaction: what [`Ledger::submit`] returns, what
/// [`Ledger::transaction`] keeps, and what a log records so that
/// [`Ledger::restore`] brings its effects back without running any function
/// again (instance state starts afresh, as on a server).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transaction {
    /// Transaction id, from 1; every operation gets one.
    pub tx_id: u64,
    /// Deduplication key; 0 never deduplicates.
    pub user_ref: u64,
    /// Final status.
    pub status: Status,
    /// Metadata tag (see [`tags`]).
    pub tag: [u8; 8],
    /// For a duplicate: the transaction that used the `user_ref` first.
    pub duplicate_of: Option<u64>,
    /// Committed entries, with the balances they left (none when it failed).
    pub entries: Vec<Entry>,
    /// For a failed transaction: the balance of every account it moved,
    /// after the rollback. The server's rollback is an inverse saturating
    /// move, so it does not always restore a balance exactly; replaying a
    /// log needs what it left.
    pub rolled_back: Vec<(u64, i64)>,
    /// For a function operation: what ran and how. Not logged.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub call: Option<CallReport>,
}

/// Why a recorded transaction cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transaction {found} cannot be restored next: the ledger expects transaction {expected}")]
pub struct RestoreError {
    /// The id the ledger expects.
    pub expected: u64,
    /// The id of the record.
    pub found: u64,
}

/// A function that passed every registration check and is compiled, not
/// installed yet.
pub struct PreparedFunction(Prepared<LoadedFunction<Accounts>>);

impl PreparedFunction {
    /// The name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The version and CRC it will be installed with.
    pub fn registered(&self) -> Registered {
        self.0.registered()
    }
}

/// Compiles function binaries for one ledger (see [`Ledger::compiler`]).
#[derive(Clone)]
pub struct Compiler(std::sync::Arc<Runtime<Accounts>>);

impl Compiler {
    /// Compiles and links a binary with a server's checks on it (parses,
    /// exports `execute (i64 x 8) -> i32`).
    ///
    /// # Errors
    ///
    /// [`BinaryError`] for a binary a server refuses.
    pub fn compile(&self, binary: &[u8]) -> Result<CompiledFunction, BinaryError> {
        Ok(CompiledFunction { crc32c: crc32c(binary), loaded: compile(&self.0, binary)? })
    }
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compiler")
    }
}

/// A binary a [`Compiler`] compiled, for [`Ledger::prepare_compiled`] of
/// the same ledger.
pub struct CompiledFunction {
    crc32c: u32,
    loaded: LoadedFunction<Accounts>,
}

/// Why a ledger could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// `max_accounts` is over what an in-process ledger holds.
    #[error(
        "max_accounts {requested} is over {limit}, the most an in-process ledger holds (balances are a dense array); use a smaller limit"
    )]
    TooManyAccounts {
        /// What the configuration asked for.
        requested: u64,
        /// [`MAX_ACCOUNTS_LIMIT`].
        limit: u64,
    },
    /// wasmtime refused the engine configuration.
    #[error("cannot set up the WebAssembly engine: {detail}")]
    Engine {
        /// wasmtime's message.
        detail: String,
    },
}

/// An in-process ledger that executes functions exactly as a roda-ledger
/// server does, plus fuel, memory and carried-state checks.
///
/// ```
/// use ledger_core::{IfRegistered, Ledger, Operation, Status};
///
/// let mut ledger = Ledger::new(Default::default()).unwrap();
/// let wasm = wat::parse_str(r#"
///   (module
///     (import "ledger" "credit" (func $credit (param i64 i64)))
///     (import "ledger" "debit" (func $debit (param i64 i64)))
///     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
///       local.get 0 local.get 1 call $credit
///       local.get 2 local.get 1 call $debit
///       i32.const 0))
/// "#).unwrap();
/// let registered = ledger.register_function("move", &wasm, IfRegistered::Refuse).unwrap();
/// assert_eq!(registered.version, 1);
///
/// ledger.submit(&Operation::Deposit { account: 1, amount: 100, user_ref: 0 });
/// let tx = ledger.submit(&Operation::Function { name: "move".into(), params: vec![1, 40, 2], user_ref: 7 });
/// assert_eq!(tx.status, Status::NONE);
/// assert_eq!(tx.entries.len(), 2);
/// assert_eq!((ledger.balance(1), ledger.balance(2)), (60, 40));
/// ```
pub struct Ledger {
    config: LedgerConfig,
    functions: Functions<Accounts>,
    accounts: Accounts,
    next_tx_id: u64,
    dedup: DedupWindow,
    history: History<Transaction>,
}

impl Ledger {
    /// Creates an empty ledger.
    ///
    /// # Errors
    ///
    /// [`SetupError`] when `max_accounts` is over [`MAX_ACCOUNTS_LIMIT`] or
    /// wasmtime refuses the limits.
    pub fn new(config: LedgerConfig) -> Result<Ledger, SetupError> {
        if config.max_accounts > MAX_ACCOUNTS_LIMIT {
            return Err(SetupError::TooManyAccounts { requested: config.max_accounts, limit: MAX_ACCOUNTS_LIMIT });
        }
        Ok(Ledger {
            accounts: Accounts::new(config.max_accounts),
            functions: Functions::new(config.limits)?,
            history: History::new(&config),
            config,
            next_tx_id: 1,
            dedup: DedupWindow::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// A handle that interrupts this ledger's running calls from another
    /// thread, for a server that shuts down while a call runs.
    pub fn interrupter(&self) -> Interrupter {
        self.functions.runtime.interrupter()
    }

    /// A handle that compiles functions for this ledger on any thread, so
    /// a server can compile with no lock held on the ledger.
    pub fn compiler(&self) -> Compiler {
        Compiler(self.functions.runtime.clone())
    }

    /// Registers a function with the server's checks and messages: the name,
    /// then the binary (parses, exports `execute (i64 x 8) -> i32`), then
    /// whether the name is taken. Like a server, it does not check imports or
    /// `start`: such a module registers and its calls fail with status 5. Use
    /// [`abi::validate`](crate::abi::validate) to catch those first.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message.
    pub fn register_function(
        &mut self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<Registered, RegistryError> {
        let prepared = self.prepare_function(name, binary, if_registered)?;
        Ok(self.install_function(prepared))
    }

    /// Every check and the compilation of
    /// [`register_function`](Ledger::register_function), changing nothing:
    /// a server writes the binary durably, then installs it. The name is
    /// checked before anything is compiled.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message.
    pub fn prepare_function(
        &self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<PreparedFunction, RegistryError> {
        Ok(PreparedFunction(self.functions.prepare(name, binary, if_registered)?))
    }

    /// Refuses a registration under a live name without compiling anything,
    /// when the server would refuse it for the name: the server checks the
    /// name's rules, then the binary, then whether the name is taken, so a
    /// binary it refuses still gets its own error (`Ok` here, and the
    /// compilation that follows reports it).
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`] or [`RegistryError::AlreadyExists`].
    pub fn refuse_taken_name(
        &self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<(), RegistryError> {
        self.functions.refuse_taken_name(name, binary, if_registered)
    }

    /// Like [`prepare_function`](Ledger::prepare_function), for a binary
    /// this ledger's [`Compiler`] already compiled: the name's checks, and
    /// the version it will get.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message.
    pub fn prepare_compiled(
        &self,
        name: &str,
        compiled: CompiledFunction,
        if_registered: IfRegistered,
    ) -> Result<PreparedFunction, RegistryError> {
        let CompiledFunction { crc32c, loaded } = compiled;
        Ok(PreparedFunction(self.functions.prepare_compiled(name, crc32c, loaded, if_registered)?))
    }

    /// Installs a prepared function; call it right after
    /// [`prepare_function`](Ledger::prepare_function).
    pub fn install_function(&mut self, prepared: PreparedFunction) -> Registered {
        self.functions.install(prepared.0).0
    }

    /// Instantiates function `name` now, as a server does on its first call,
    /// so that its `start` function runs (on a scratch state: a server makes
    /// those writes outside any transaction's rules).
    ///
    /// # Errors
    ///
    /// The outcome when the module cannot be instantiated
    /// ([`CallOutcome::StartFailed`] when its `start` does not finish), or
    /// [`CallOutcome::UnknownFunction`].
    pub fn instantiate_function(&mut self, name: &str) -> Result<(), CallOutcome> {
        match self.functions.instantiate(name, &self.accounts) {
            Some(result) => result.map(drop),
            None => Err(CallOutcome::UnknownFunction),
        }
    }

    /// The version an unregister of `name` would get, changing nothing.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when no function is live under the name.
    pub fn check_unregister(&self, name: &str) -> Result<u32, RegistryError> {
        self.functions.check_unregister(name)
    }

    /// Unregisters a function; returns the version of the unregister marker.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when no function is live under the name.
    pub fn unregister_function(&mut self, name: &str) -> Result<u32, RegistryError> {
        self.functions.unregister(name)
    }

    /// The live functions, sorted by name.
    pub fn list_functions(&self) -> Vec<FunctionInfo> {
        self.functions.list()
    }

    /// `true` when `name` was unregistered (registering it again gives a
    /// version a server at ee2b042 would number differently).
    pub fn was_unregistered(&self, name: &str) -> bool {
        self.functions.was_unregistered(name)
    }

    /// Every balance, as the ledger's arithmetic holds them: to copy the
    /// state (a server's snapshot stage keeps such a copy).
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// An account's balance; 0 for accounts never touched or out of range.
    pub fn balance(&self, account_id: u64) -> i64 {
        self.accounts.get_balance(account_id)
    }

    /// Sets a balance directly, outside any transaction, as restoring a
    /// snapshot would: for starting states in tests and simulations. The
    /// balances then need not sum to zero. Ids at or above `max_accounts`
    /// are ignored, as the ledger has no such account.
    pub fn seed_balance(&mut self, account_id: u64, balance: i64) {
        self.accounts.set_balance(account_id, balance);
    }

    /// Sets every balance to 0, keeping functions, transaction ids and the
    /// dedup set: a fresh starting state for the next simulated call.
    pub fn reset_balances(&mut self) {
        self.accounts.reset_balances();
    }

    /// Every account with a non-zero balance, by id.
    pub fn nonzero_balances(&self) -> impl Iterator<Item = (u64, i64)> + '_ {
        self.accounts.balances().iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, b)| (i as u64, *b))
    }

    /// The id the next transaction will get.
    pub fn next_tx_id(&self) -> u64 {
        self.next_tx_id
    }

    /// A processed transaction, if the history keeps it (see
    /// [`LedgerConfig::keep_history`] and [`LedgerConfig::max_history`]).
    pub fn transaction(&self, tx_id: u64) -> Option<&Transaction> {
        self.history.get(tx_id)
    }

    /// Processes one operation as a server's transactor does.
    pub fn submit(&mut self, operation: &Operation) -> Transaction {
        let tx_id = self.next_tx_id;
        self.next_tx_id += 1;
        self.accounts.begin();
        let user_ref = operation.user_ref();
        if user_ref != 0
            && let Some(original) = self.dedup.original(user_ref, tx_id, self.config.dedup_window)
        {
            return self.history.record(
                tx_id,
                Transaction {
                    tx_id,
                    user_ref,
                    status: Status::DUPLICATE,
                    tag: tags::DUPLICATE,
                    duplicate_of: Some(original),
                    entries: Vec::new(),
                    rolled_back: Vec::new(),
                    call: None,
                },
            );
        }
        let (tag, call) = match operation {
            Operation::Deposit { account, amount, .. } => {
                self.accounts.debit(*account, *amount);
                self.accounts.credit(SYSTEM_ACCOUNT, *amount);
                (tags::DEPOSIT, None)
            }
            Operation::Withdrawal { account, amount, .. } => {
                if self.accounts.get_balance(*account) < *amount as i64 {
                    self.accounts.fail(Status::INSUFFICIENT_FUNDS);
                } else {
                    self.accounts.credit(*account, *amount);
                    self.accounts.debit(SYSTEM_ACCOUNT, *amount);
                }
                (tags::WITHDRAWAL, None)
            }
            Operation::Transfer { from, to, amount, .. } => {
                if from == to {
                    // A no-op that commits, without even a funds check.
                } else if self.accounts.get_balance(*from) < *amount as i64 {
                    self.accounts.fail(Status::INSUFFICIENT_FUNDS);
                } else {
                    self.accounts.credit(*from, *amount);
                    self.accounts.debit(*to, *amount);
                }
                (tags::TRANSFER, None)
            }
            Operation::Function { name, params, .. } => {
                let check = self.config.check_carried_state;
                let report = self.functions.call(name, &mut self.accounts, param_slots(params), check);
                (tags::function(report.crc32c), Some(report))
            }
        };
        let status = self.accounts.settle();
        let mut rolled_back: Vec<(u64, i64)> =
            self.accounts.rolled_back().iter().map(|entry| (entry.account_id, 0)).collect();
        rolled_back.sort_unstable();
        rolled_back.dedup();
        for (account_id, balance) in &mut rolled_back {
            *balance = self.accounts.get_balance(*account_id);
        }
        if user_ref != 0 {
            self.dedup.insert(user_ref, tx_id, self.config.dedup_window);
        }
        let entries = self.accounts.entries().to_vec();
        self.history
            .record(tx_id, Transaction { tx_id, user_ref, status, tag, duplicate_of: None, entries, rolled_back, call })
    }

    /// Restores a logged transaction: its committed entries set the balances
    /// they recorded (a failed one's rollback sets what it left), its
    /// `user_ref` joins the dedup set, and the next id follows it. No
    /// function runs.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] when the record is not the next transaction.
    pub fn restore(&mut self, record: &Transaction) -> Result<(), RestoreError> {
        if record.tx_id != self.next_tx_id {
            return Err(RestoreError { expected: self.next_tx_id, found: record.tx_id });
        }
        self.next_tx_id += 1;
        self.accounts.replay(&record.entries);
        for &(account_id, balance) in &record.rolled_back {
            self.accounts.set_balance(account_id, balance);
        }
        if record.user_ref != 0 && record.duplicate_of.is_none() {
            self.dedup.insert(record.user_ref, record.tx_id, self.config.dedup_window);
        }
        self.history.record(record.tx_id, Transaction { call: None, ..record.clone() });
        Ok(())
    }

    /// Bytes the cached instances hold in linear memories and tables, at
    /// most [`Limits::max_cached_bytes`].
    pub fn cached_instance_bytes(&self) -> usize {
        self.functions.held_bytes()
    }
}

/// The latest transactions, oldest first, as [`LedgerConfig::keep_history`]
/// and [`LedgerConfig::max_history`] say; their ids are contiguous.
#[derive(Debug)]
pub(crate) struct History<T> {
    transactions: std::collections::VecDeque<T>,
    /// The id of the oldest transaction kept.
    oldest: u64,
    /// How many it keeps; 0 keeps none.
    capacity: usize,
}

impl<T: Clone> History<T> {
    pub(crate) fn new(config: &LedgerConfig) -> History<T> {
        let capacity = if config.keep_history { config.max_history } else { 0 };
        History { transactions: std::collections::VecDeque::new(), oldest: 0, capacity }
    }

    /// Keeps transaction `tx_id` (the one after the last kept) and hands
    /// it back.
    pub(crate) fn record(&mut self, tx_id: u64, transaction: T) -> T {
        if self.capacity > 0 {
            if self.transactions.len() == self.capacity {
                self.transactions.pop_front();
            }
            self.transactions.push_back(transaction.clone());
            self.oldest = tx_id + 1 - self.transactions.len() as u64;
        }
        transaction
    }

    /// Transaction `tx_id`, if kept.
    pub(crate) fn get(&self, tx_id: u64) -> Option<&T> {
        self.transactions.get(usize::try_from(tx_id.checked_sub(self.oldest)?).ok()?)
    }
}

/// The `user_ref`s of recent transactions, each with the transaction that
/// used it first, forgotten once they fall out of the window.
#[derive(Debug, Default)]
pub(crate) struct DedupWindow {
    by_ref: HashMap<u64, u64>,
    /// `(tx_id, user_ref)` in transaction order, to forget the oldest.
    order: std::collections::VecDeque<(u64, u64)>,
}

impl DedupWindow {
    /// The transaction that used `user_ref` within `window` transactions
    /// before `tx_id`.
    pub(crate) fn original(&mut self, user_ref: u64, tx_id: u64, window: u64) -> Option<u64> {
        self.forget_before(tx_id, window);
        self.by_ref.get(&user_ref).copied()
    }

    /// Remembers that `tx_id` used `user_ref`.
    pub(crate) fn insert(&mut self, user_ref: u64, tx_id: u64, window: u64) {
        self.forget_before(tx_id, window);
        self.by_ref.insert(user_ref, tx_id);
        self.order.push_back((tx_id, user_ref));
    }

    /// Forgets every `user_ref` that is out of the window at `tx_id`.
    fn forget_before(&mut self, tx_id: u64, window: u64) {
        while let Some(&(oldest, old_ref)) = self.order.front() {
            if oldest.saturating_add(window) >= tx_id {
                break;
            }
            self.order.pop_front();
            if self.by_ref.get(&old_ref) == Some(&oldest) {
                self.by_ref.remove(&old_ref);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registration refused because the name is taken compiles nothing,
    /// and a bad binary still gets the server's parse error first.
    #[test]
    fn a_taken_name_is_refused_without_compiling() {
        let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
        let wasm = |ret: i32| {
            wat::parse_str(format!(
                r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const {ret}))"#
            ))
            .unwrap()
        };
        ledger.register_function("f", &wasm(0), IfRegistered::Refuse).unwrap();
        let compiled = ledger.functions.compiled_modules();
        let err = ledger.prepare_function("f", &wasm(1), IfRegistered::Refuse).err().unwrap();
        assert!(matches!(err, RegistryError::AlreadyExists(_)), "{err}");
        assert_eq!(ledger.functions.compiled_modules(), compiled, "nothing compiled");
        let err = ledger.prepare_function("f", b"\0asm junk", IfRegistered::Refuse).err().unwrap();
        assert!(matches!(err, RegistryError::InvalidBinary(BinaryError::Parse { .. })), "{err}");
    }
}
