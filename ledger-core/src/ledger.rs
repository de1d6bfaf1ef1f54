//! The in-process ledger: accounts, built-in operations and function calls,
//! with a real server's rules.

use std::collections::HashMap;
use std::ops::Range;

use crate::abi::{self, PARAM_COUNT};
use crate::registry::{BinaryError, FunctionInfo, Prepared, Registered, Registry, RegistryError};
use crate::runtime::{CallOutcome, Interrupter, Limits, LoadedFunction, RawCall, Runtime};
use crate::state::{Entry, EntryKind, SYSTEM_ACCOUNT, TxState};
use crate::{Status, crc32c};

/// Default number of accounts, as on a server: ids `0..1_000_000`.
pub const DEFAULT_MAX_ACCOUNTS: u64 = 1_000_000;

/// Largest `max_accounts` an in-process ledger accepts: balances are a
/// dense array up to the highest id used, 8 bytes each (1 GiB here).
pub const MAX_ACCOUNTS_LIMIT: u64 = 1 << 27;

/// Most entries one transaction may produce; one more is status 4.
pub const MAX_ENTRIES_PER_TX: usize = u8::MAX as usize;

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
    /// Keep every transaction's record and entries for
    /// [`Ledger::transaction`]. Off for long fuzzing and benchmark runs.
    pub keep_history: bool,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            max_accounts: DEFAULT_MAX_ACCOUNTS,
            limits: Limits::default(),
            check_carried_state: false,
            keep_history: true,
        }
    }
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

/// What ran when a function operation was processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport {
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
    pub carried_state: Option<CarriedState>,
}

/// A call whose outcome depended on state left by earlier calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedState {
    /// What a fresh instance (what the seed promises) returned.
    pub fresh_outcome: CallOutcome,
    /// The entries the fresh instance produced.
    pub fresh_entries: Vec<Entry>,
}

/// The result of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction id, from 1; every operation gets one.
    pub tx_id: u64,
    /// Final status.
    pub status: Status,
    /// Metadata tag.
    pub tag: [u8; 8],
    /// For a duplicate: the transaction that used the `user_ref` first.
    pub duplicate_of: Option<u64>,
    /// For a function operation: what ran and how.
    pub call: Option<CallReport>,
}

/// A recorded transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transaction<'a> {
    /// Transaction id.
    pub tx_id: u64,
    /// Deduplication key.
    pub user_ref: u64,
    /// Final status.
    pub status: Status,
    /// Metadata tag.
    pub tag: [u8; 8],
    /// For a duplicate: the original transaction.
    pub duplicate_of: Option<u64>,
    /// Committed entries (none for a failed transaction).
    pub entries: &'a [Entry],
}

/// A processed transaction as a server's log keeps it: its effects, so a
/// restart restores them without running any function again (instance
/// state starts afresh, as on a server).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TransactionRecord {
    /// Transaction id.
    pub tx_id: u64,
    /// Deduplication key.
    pub user_ref: u64,
    /// Final status.
    pub status: Status,
    /// Metadata tag.
    pub tag: [u8; 8],
    /// For a duplicate: the original transaction.
    pub duplicate_of: Option<u64>,
    /// Committed entries, with the balances they left.
    pub entries: Vec<Entry>,
    /// For a failed transaction: each account its rollback moved and the
    /// balance it left. A rollback undoes moves the server's way (inverse
    /// saturating moves), so after a saturated move these are not the
    /// balances from before the transaction; a restore must set them.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Vec::is_empty"))]
    pub rolled_back: Vec<(u64, i64)>,
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

#[derive(Debug, Clone)]
struct TxRecord {
    user_ref: u64,
    status: Status,
    tag: [u8; 8],
    duplicate_of: Option<u64>,
    entries: Range<usize>,
}

/// A function that passed every registration check and is compiled, not
/// installed yet.
pub struct PreparedFunction(Prepared<LoadedFunction>);

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
pub struct Compiler(std::sync::Arc<Runtime>);

impl Compiler {
    /// Compiles and links a binary with a server's checks on it (parses,
    /// exports `execute (i64 x 8) -> i32`).
    ///
    /// # Errors
    ///
    /// [`BinaryError`] for a binary a server refuses.
    pub fn compile(&self, binary: &[u8]) -> Result<CompiledFunction, BinaryError> {
        Ok(CompiledFunction { crc32c: crc32c(binary), loaded: compile_function(&self.0, binary)? })
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
    loaded: LoadedFunction,
}

/// Compiles, checks the entry point the server's way, and links.
fn compile_function(runtime: &Runtime, binary: &[u8]) -> Result<LoadedFunction, BinaryError> {
    let module = runtime.compile(binary).map_err(|e| BinaryError::Parse { detail: format!("{e:#}") })?;
    check_entry_point(&module)?;
    Ok(runtime.load(module))
}

/// Why a ledger could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the ledger: {0}")]
pub struct SetupError(String);

/// An in-process ledger that executes functions exactly as a roda-ledger
/// server does, plus fuel, memory and carried-state checks.
///
/// ```
/// use ledger_core::{Ledger, Operation, Status};
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
/// let registered = ledger.register_function("move", &wasm, false).unwrap();
/// assert_eq!(registered.version, 1);
///
/// ledger.submit(&Operation::Deposit { account: 1, amount: 100, user_ref: 0 });
/// let receipt = ledger.submit(&Operation::Function { name: "move".into(), params: vec![1, 40, 2], user_ref: 7 });
/// assert_eq!(receipt.status, Status::NONE);
/// assert_eq!((ledger.balance(1), ledger.balance(2)), (60, 40));
/// ```
pub struct Ledger {
    config: LedgerConfig,
    /// Shared with [`Compiler`]s, which compile without borrowing the ledger.
    runtime: std::sync::Arc<Runtime>,
    registry: Registry<LoadedFunction>,
    state: TxState,
    next_tx_id: u64,
    dedup: HashMap<u64, u64>,
    history: Vec<TxRecord>,
    history_entries: Vec<Entry>,
}

impl Ledger {
    /// Creates an empty ledger.
    pub fn new(config: LedgerConfig) -> Result<Ledger, SetupError> {
        if config.max_accounts > MAX_ACCOUNTS_LIMIT {
            return Err(SetupError(format!(
                "max_accounts {} is over {MAX_ACCOUNTS_LIMIT}, the most an in-process ledger holds",
                config.max_accounts
            )));
        }
        let runtime = Runtime::new(config.limits).map_err(|e| SetupError(format!("the WebAssembly engine: {e:#}")))?;
        Ok(Ledger {
            state: TxState::new(config.max_accounts),
            config,
            runtime: std::sync::Arc::new(runtime),
            registry: Registry::default(),
            next_tx_id: 1,
            dedup: HashMap::new(),
            history: Vec::new(),
            history_entries: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// A handle that interrupts this ledger's running calls from another
    /// thread, for a server that shuts down while a call runs.
    pub fn interrupter(&self) -> Interrupter {
        self.runtime.interrupter()
    }

    /// Registers a function with the server's checks and messages: the name,
    /// then the binary (parses, exports `execute (i64 x 8) -> i32`), then
    /// whether the name is taken. Like a server, it does not check imports or
    /// `start`: such a module registers and its calls fail with status 5. Use
    /// [`abi::validate`] to catch those first.
    pub fn register_function(
        &mut self,
        name: &str,
        binary: &[u8],
        override_existing: bool,
    ) -> Result<Registered, RegistryError> {
        let prepared = self.prepare_function(name, binary, override_existing)?;
        Ok(self.install_function(prepared))
    }

    /// Every check and the compilation of
    /// [`register_function`](Ledger::register_function), changing nothing:
    /// a server writes the binary durably, then installs it.
    pub fn prepare_function(
        &self,
        name: &str,
        binary: &[u8],
        override_existing: bool,
    ) -> Result<PreparedFunction, RegistryError> {
        let prepared = self
            .registry
            .prepare(name, crc32c(binary), override_existing, || compile_function(&self.runtime, binary))?;
        Ok(PreparedFunction(prepared))
    }

    /// A handle that compiles functions for this ledger on any thread, so
    /// a server can compile with no lock held on the ledger.
    pub fn compiler(&self) -> Compiler {
        Compiler(self.runtime.clone())
    }

    /// Like [`prepare_function`](Ledger::prepare_function), for a binary
    /// this ledger's [`Compiler`] already compiled: the name's checks, and
    /// the version it will get.
    pub fn prepare_compiled(
        &self,
        name: &str,
        compiled: CompiledFunction,
        override_existing: bool,
    ) -> Result<PreparedFunction, RegistryError> {
        let CompiledFunction { crc32c, loaded } = compiled;
        Ok(PreparedFunction(self.registry.prepare(name, crc32c, override_existing, || Ok(loaded))?))
    }

    /// Installs a prepared function; call it right after
    /// [`prepare_function`](Ledger::prepare_function).
    pub fn install_function(&mut self, prepared: PreparedFunction) -> Registered {
        self.registry.install(prepared.0)
    }

    /// The version an unregister of `name` would get, changing nothing.
    pub fn check_unregister(&self, name: &str) -> Result<u32, RegistryError> {
        self.registry.check_unregister(name)
    }

    /// Unregisters a function; returns the version of the unregister marker.
    pub fn unregister_function(&mut self, name: &str) -> Result<u32, RegistryError> {
        self.registry.unregister(name)
    }

    /// The live functions, sorted by name.
    pub fn list_functions(&self) -> Vec<FunctionInfo> {
        self.registry.list()
    }

    /// `true` when `name` was unregistered (registering it again gives a
    /// version a server at ee2b042 would number differently).
    pub fn was_unregistered(&self, name: &str) -> bool {
        self.registry.was_unregistered(name)
    }

    /// An account's balance; 0 for accounts never touched or out of range.
    pub fn balance(&self, account_id: u64) -> i64 {
        self.state.balance(account_id)
    }

    /// Sets a balance directly, outside any transaction, as restoring a
    /// snapshot would: for starting states in tests and simulations. The
    /// balances then need not sum to zero. Ids at or above `max_accounts`
    /// are ignored, as the ledger has no such account.
    pub fn seed_balance(&mut self, account_id: u64, balance: i64) {
        self.state.seed(account_id, balance);
    }

    /// Sets every balance to 0, keeping functions, transaction ids and the
    /// dedup set: a fresh starting state for the next simulated call.
    pub fn reset_balances(&mut self) {
        self.state.reset_balances();
    }

    /// Every account with a non-zero balance, by id.
    pub fn nonzero_balances(&self) -> impl Iterator<Item = (u64, i64)> + '_ {
        self.state.balances().iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, b)| (i as u64, *b))
    }

    /// The id the next transaction will get.
    pub fn next_tx_id(&self) -> u64 {
        self.next_tx_id
    }

    /// A recorded transaction (needs [`LedgerConfig::keep_history`]).
    pub fn transaction(&self, tx_id: u64) -> Option<Transaction<'_>> {
        let record = self.history.get(usize::try_from(tx_id.checked_sub(1)?).ok()?)?;
        Some(Transaction {
            tx_id,
            user_ref: record.user_ref,
            status: record.status,
            tag: record.tag,
            duplicate_of: record.duplicate_of,
            entries: &self.history_entries[record.entries.clone()],
        })
    }

    /// The committed entries of the last transaction (empty if it failed).
    pub fn last_entries(&self) -> &[Entry] {
        &self.state.entries
    }

    /// Processes one operation as a server's transactor does.
    pub fn submit(&mut self, operation: &Operation) -> Receipt {
        let tx_id = self.next_tx_id;
        self.next_tx_id += 1;
        self.state.begin();
        let user_ref = operation.user_ref();
        if user_ref != 0
            && let Some(&original) = self.dedup.get(&user_ref)
        {
            let receipt = Receipt {
                tx_id,
                status: Status::DUPLICATE,
                tag: tags::DUPLICATE,
                duplicate_of: Some(original),
                call: None,
            };
            self.record(user_ref, &receipt);
            return receipt;
        }
        let (tag, call) = match operation {
            Operation::Deposit { account, amount, .. } => {
                self.state.apply(EntryKind::Debit, *account, *amount);
                self.state.apply(EntryKind::Credit, SYSTEM_ACCOUNT, *amount);
                (tags::DEPOSIT, None)
            }
            Operation::Withdrawal { account, amount, .. } => {
                if self.state.balance(*account) < *amount as i64 {
                    self.state.fail(Status::INSUFFICIENT_FUNDS);
                } else {
                    self.state.apply(EntryKind::Credit, *account, *amount);
                    self.state.apply(EntryKind::Debit, SYSTEM_ACCOUNT, *amount);
                }
                (tags::WITHDRAWAL, None)
            }
            Operation::Transfer { from, to, amount, .. } => {
                if from == to {
                    // A no-op that commits, without even a funds check.
                } else if self.state.balance(*from) < *amount as i64 {
                    self.state.fail(Status::INSUFFICIENT_FUNDS);
                } else {
                    self.state.apply(EntryKind::Credit, *from, *amount);
                    self.state.apply(EntryKind::Debit, *to, *amount);
                }
                (tags::TRANSFER, None)
            }
            Operation::Function { name, params, .. } => {
                let mut padded = [0i64; PARAM_COUNT];
                for (slot, value) in padded.iter_mut().zip(params) {
                    *slot = *value;
                }
                let report = self.call(name, padded);
                (tags::function(report.crc32c), Some(report))
            }
        };
        let status = self.state.verify();
        if !status.is_success() {
            self.state.rollback();
        }
        if user_ref != 0 {
            self.dedup.insert(user_ref, tx_id);
        }
        let receipt = Receipt { tx_id, status, tag, duplicate_of: None, call };
        self.record(user_ref, &receipt);
        receipt
    }

    /// The record of the transaction [`submit`](Ledger::submit) just
    /// processed, for a log.
    pub fn record_of(&self, receipt: &Receipt, user_ref: u64) -> TransactionRecord {
        TransactionRecord {
            tx_id: receipt.tx_id,
            user_ref,
            status: receipt.status,
            tag: receipt.tag,
            duplicate_of: receipt.duplicate_of,
            entries: self.state.entries.clone(),
            rolled_back: self.state.rolled_back.clone(),
        }
    }

    /// Restores a logged transaction: its committed entries set the balances
    /// they recorded, its `user_ref` joins the dedup set, and the next id
    /// follows it. No function runs.
    pub fn restore(&mut self, record: &TransactionRecord) -> Result<(), RestoreError> {
        if record.tx_id != self.next_tx_id {
            return Err(RestoreError { expected: self.next_tx_id, found: record.tx_id });
        }
        self.next_tx_id += 1;
        self.state.begin();
        for entry in &record.entries {
            self.state.seed(entry.account_id, entry.computed_balance);
        }
        for &(account_id, balance) in &record.rolled_back {
            self.state.seed(account_id, balance);
        }
        self.state.entries.clone_from(&record.entries);
        if record.user_ref != 0 && record.duplicate_of.is_none() {
            self.dedup.insert(record.user_ref, record.tx_id);
        }
        let receipt = Receipt {
            tx_id: record.tx_id,
            status: record.status,
            tag: record.tag,
            duplicate_of: record.duplicate_of,
            call: None,
        };
        self.record(record.user_ref, &receipt);
        Ok(())
    }

    /// Runs a function for [`submit`](Ledger::submit), setting the
    /// transaction's failure the server's way.
    fn call(&mut self, name: &str, params: [i64; PARAM_COUNT]) -> CallReport {
        let Some(live) = self.registry.get_mut(name) else {
            self.state.fail(Status::INVALID_OPERATION);
            return CallReport {
                version: None,
                crc32c: 0,
                outcome: CallOutcome::UnknownFunction,
                fuel_used: 0,
                wrapped_amount: false,
                carried_state: None,
            };
        };
        let function = &mut live.payload;
        let fresh = self.config.check_carried_state.then(|| {
            self.state.start_journal();
            let fresh = function.call_fresh(&self.runtime, &mut self.state, params);
            let entries = self.state.entries.clone();
            self.state.restore_journal();
            (fresh, entries)
        });
        let RawCall { outcome, fuel_used } = function.call(&self.runtime, &mut self.state, params);
        let carried_state = fresh.and_then(|(fresh, fresh_entries)| {
            (fresh.outcome != outcome || fresh_entries != self.state.entries)
                .then_some(CarriedState { fresh_outcome: fresh.outcome, fresh_entries })
        });
        let status = outcome.status();
        if !status.is_success() {
            self.state.fail(status);
        } else if self.state.entries.len() > MAX_ENTRIES_PER_TX {
            self.state.fail(Status::ENTRY_LIMIT_EXCEEDED);
        }
        // A module that cannot be instantiated is treated by a server as an
        // unknown function: its transaction carries CRC 0.
        let ran = !matches!(outcome, CallOutcome::InstantiationFailed(_));
        CallReport {
            version: Some(live.version),
            crc32c: if ran { live.crc32c } else { 0 },
            outcome,
            fuel_used,
            wrapped_amount: self.state.wrapped_amount,
            carried_state,
        }
    }

    fn record(&mut self, user_ref: u64, receipt: &Receipt) {
        if !self.config.keep_history {
            return;
        }
        let start = self.history_entries.len();
        self.history_entries.extend_from_slice(&self.state.entries);
        self.history.push(TxRecord {
            user_ref,
            status: receipt.status,
            tag: receipt.tag,
            duplicate_of: receipt.duplicate_of,
            entries: start..self.history_entries.len(),
        });
    }
}

/// The server's entry-point check, on the compiled module.
fn check_entry_point(module: &wasmtime::Module) -> Result<(), abi::EntryPointError> {
    let export = module.get_export(abi::ENTRY_POINT.name).ok_or(abi::EntryPointError::Missing)?;
    let wasmtime::ExternType::Func(ty) = export else {
        return Err(abi::EntryPointError::NotAFunction);
    };
    let to_abi = |t: wasmtime::ValType| match t {
        wasmtime::ValType::I32 => Some(abi::ValType::I32),
        wasmtime::ValType::I64 => Some(abi::ValType::I64),
        _ => None,
    };
    abi::check_execute_signature(ty.params().map(to_abi), ty.results().map(to_abi))
}
