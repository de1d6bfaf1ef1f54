//! The in-process ledger of ABI v1 (upstream ee2b042, the seed's):
//! accounts `0..max_accounts`, the built-in operations and function calls
//! with `credit`, `debit` and `get_balance`, with a real server's rules.

use ledger_abi::{Accounts, Entry, SYSTEM_ACCOUNT, Status};

use crate::engine::{
    Base, CallReport, Engine, IfRegistered, Installed, LedgerConfig, PreparedFunction, Processed, RestoreError,
    SetupError, operations, tags,
};
use crate::functions::Functions;
use crate::registry::{FunctionInfo, Registered, RegistryError};
use crate::runtime::CallOutcome;

/// Largest `max_accounts` an in-process ledger accepts: balances are a
/// dense array up to the highest id used, 8 bytes each (1 GiB here).
pub const MAX_ACCOUNTS_LIMIT: u64 = 1 << 27;

operations! {
    /// An operation a v1 server sequences, as `SubmitAndWait` carries it.
    pub enum Operation {}
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

impl Transaction {
    /// A slot for the history to fill: no id, no entries.
    fn vacant() -> Transaction {
        Transaction {
            tx_id: 0,
            user_ref: 0,
            status: Status::NONE,
            tag: [0; 8],
            duplicate_of: None,
            entries: Vec::new(),
            rolled_back: Vec::new(),
            call: None,
        }
    }
}

impl Processed for Transaction {
    type Record = Entry;

    fn tx_id(&self) -> u64 {
        self.tx_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    fn call(&self) -> Option<&CallReport<Entry>> {
        self.call.as_ref()
    }

    fn opened(&self) -> Option<(u64, u32)> {
        None
    }
}

/// What a v1 log keeps: registrations and unregisters (the registry is not
/// transactional at ee2b042) and transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum LogRecord {
    /// A registration or override: `functions/{name}_v{version}.wasm`.
    Register(FunctionInfo),
    /// An unregister (the 0-byte marker file of its version).
    Unregister {
        /// Name.
        name: String,
        /// The marker's version.
        version: u32,
    },
    /// A processed transaction and its effects.
    Transaction {
        /// The operation, for audit.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        op: Option<Operation>,
        /// What it did.
        record: Box<Transaction>,
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
    base: Base<Accounts, Transaction>,
    /// Boxed: a call moves it into the function's store and back.
    accounts: Box<Accounts>,
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
        Ok(Ledger { accounts: Box::new(Accounts::new(config.max_accounts)), base: Base::new(config)? })
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
        Engine::register(self, name, binary, if_registered)
    }

    /// Installs a prepared function; call it right after
    /// [`prepare_function`](Ledger::prepare_function).
    pub fn install_function(&mut self, prepared: PreparedFunction<Accounts>) -> Registered {
        self.base.functions.install(prepared.0).0
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
        match self.base.functions.instantiate(name, &mut self.accounts) {
            Some(result) => result.map(drop),
            None => Err(CallOutcome::UnknownFunction),
        }
    }

    /// Unregisters a function; returns the version of the unregister marker.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when no function is live under the name.
    pub fn unregister_function(&mut self, name: &str) -> Result<u32, RegistryError> {
        self.base.functions.unregister(name)
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

    /// Processes one operation as a server's transactor does.
    pub fn submit(&mut self, operation: &Operation) -> Transaction {
        self.process(operation).clone()
    }

    /// [`submit`](Ledger::submit), lending the transaction instead (see
    /// [`Engine::process`]).
    pub fn process(&mut self, operation: &Operation) -> &Transaction {
        let tx_id = self.base.take_tx_id();
        self.accounts.begin();
        let user_ref = operation.user_ref();
        let duplicate_of = match user_ref {
            0 => None,
            _ => self.base.original(user_ref, tx_id),
        };
        if user_ref != 0 && duplicate_of.is_none() {
            self.base.remember(user_ref, tx_id);
        }
        // Written in place: the slot keeps an earlier transaction's buffers
        // and call report, so a warm call moves and allocates nothing. Every
        // field is named, so that a new one is not forgotten here.
        let slot = self.base.history.slot(tx_id, Transaction::vacant);
        let Transaction {
            tx_id: slot_tx_id,
            user_ref: slot_user_ref,
            status,
            tag,
            duplicate_of: slot_duplicate_of,
            entries,
            rolled_back,
            call,
        } = slot;
        (*slot_tx_id, *slot_user_ref, *slot_duplicate_of) = (tx_id, user_ref, duplicate_of);
        (*status, *tag) = match duplicate_of {
            Some(_) => {
                *call = None;
                (Status::DUPLICATE, tags::DUPLICATE)
            }
            None => {
                let check = self.base.config.check_carried_state;
                let tag = execute(&mut self.base.functions, &mut self.accounts, check, operation, call);
                (self.accounts.settle(), tag)
            }
        };
        self.accounts.take_entries(entries);
        rolled_back.clear();
        if !self.accounts.rolled_back().is_empty() {
            // The balance of every account the rollback moved, as it left them.
            rolled_back.extend(self.accounts.rolled_back().iter().map(|entry| (entry.account_id, 0)));
            rolled_back.sort_unstable();
            rolled_back.dedup();
            for (account_id, balance) in rolled_back.iter_mut() {
                *balance = self.accounts.get_balance(*account_id);
            }
        }
        slot
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
        if record.tx_id != self.base.next_tx_id {
            return Err(RestoreError::OutOfOrder { expected: self.base.next_tx_id, found: record.tx_id });
        }
        let max_accounts = self.base.config.max_accounts;
        let moved = record.entries.iter().map(|e| e.account_id).chain(record.rolled_back.iter().map(|r| r.0));
        if let Some(account) = moved.filter(|a| *a >= max_accounts).max() {
            return Err(RestoreError::AccountOutOfRange { account, max_accounts });
        }
        self.base.next_tx_id += 1;
        self.accounts.replay(&record.entries);
        for &(account_id, balance) in &record.rolled_back {
            self.accounts.set_balance(account_id, balance);
        }
        // A server's recovery skips every transaction whose status is
        // DUPLICATE, a function's own return of 7 too (ee2b042 reads as
        // e14b146, where it was observed).
        if record.user_ref != 0 && record.status != Status::DUPLICATE {
            self.base.remember(record.user_ref, record.tx_id);
        }
        self.base.history.record(record.tx_id, Transaction { call: None, ..record.clone() });
        Ok(())
    }
}

/// Makes an operation's moves on the transaction in progress; returns its
/// tag. A call's report is written into `call` (in place when it holds one).
fn execute(
    functions: &mut Functions<Accounts>,
    accounts: &mut Box<Accounts>,
    check_carried_state: bool,
    operation: &Operation,
    call: &mut Option<CallReport>,
) -> [u8; 8] {
    if !matches!(operation, Operation::Function { .. }) {
        *call = None;
    }
    match operation {
        Operation::Deposit { account, amount, .. } => {
            accounts.debit(*account, *amount);
            accounts.credit(SYSTEM_ACCOUNT, *amount);
            tags::DEPOSIT
        }
        Operation::Withdrawal { account, amount, .. } => {
            if accounts.get_balance(*account) < *amount as i64 {
                accounts.fail(Status::INSUFFICIENT_FUNDS);
            } else {
                accounts.credit(*account, *amount);
                accounts.debit(SYSTEM_ACCOUNT, *amount);
            }
            tags::WITHDRAWAL
        }
        Operation::Transfer { from, to, amount, .. } => {
            if from == to {
                // A no-op that commits, without even a funds check.
            } else if accounts.get_balance(*from) < *amount as i64 {
                accounts.fail(Status::INSUFFICIENT_FUNDS);
            } else {
                accounts.credit(*from, *amount);
                accounts.debit(*to, *amount);
            }
            tags::TRANSFER
        }
        Operation::Function { name, params, .. } => {
            let report = call.get_or_insert_with(CallReport::unknown_function);
            functions.call(name, accounts, params, check_carried_state, report);
            tags::function(report.crc32c)
        }
    }
}

impl Engine for Ledger {
    const PROFILE: &'static crate::abi::Profile = &crate::abi::V1;
    type Host = Accounts;
    type Operation = Operation;
    type Transaction = Transaction;
    type LogRecord = LogRecord;
    type State = Accounts;

    fn new(config: LedgerConfig) -> Result<Self, SetupError> {
        Ledger::new(config)
    }

    fn base(&self) -> &Base<Accounts, Transaction> {
        &self.base
    }

    fn install(&mut self, prepared: PreparedFunction<Accounts>) -> Installed<LogRecord> {
        let name = prepared.name().to_owned();
        let Registered { version, crc32c } = self.install_function(prepared);
        Installed {
            outcome: Ok(Registered { version, crc32c }),
            record: LogRecord::Register(FunctionInfo { name, version, crc32c }),
        }
    }

    fn unregister(&mut self, name: &str) -> Result<(u32, LogRecord), RegistryError> {
        let version = self.unregister_function(name)?;
        Ok((version, LogRecord::Unregister { name: name.to_owned(), version }))
    }

    fn process(&mut self, operation: &Operation) -> &Transaction {
        Ledger::process(self, operation)
    }

    fn log_record(op: Option<Operation>, transaction: &Transaction) -> LogRecord {
        LogRecord::Transaction { op, record: Box::new(transaction.clone()) }
    }

    fn binary_needed(record: &LogRecord) -> Option<&FunctionInfo> {
        match record {
            LogRecord::Register(function) => Some(function),
            LogRecord::Unregister { .. } | LogRecord::Transaction { .. } => None,
        }
    }

    fn restore(&mut self, record: &LogRecord, binary: Option<&[u8]>) -> Result<(), RestoreError> {
        let numbered = |name: &str, replayed: u32, logged: u32| match replayed == logged {
            true => Ok(()),
            false => Err(RestoreError::Registry(format!("`{name}` replays as v{replayed}, the log says v{logged}"))),
        };
        match record {
            LogRecord::Register(function) => {
                let binary = binary.ok_or_else(|| RestoreError::MissingBinary(function.name.clone()))?;
                if crate::crc32c(binary) != function.crc32c {
                    return Err(RestoreError::WrongBinary(function.name.clone()));
                }
                let registered = self
                    .register_function(&function.name, binary, IfRegistered::Override)
                    .map_err(|e| RestoreError::Registry(format!("`{}` no longer registers: {e}", function.name)))?;
                numbered(&function.name, registered.version, function.version)
            }
            LogRecord::Unregister { name, version } => {
                let replayed = self.unregister_function(name).map_err(|e| RestoreError::Registry(e.to_string()))?;
                numbered(name, replayed, *version)
            }
            LogRecord::Transaction { record, .. } => Ledger::restore(self, record),
        }
    }

    fn balance(&self, account_id: u64) -> i64 {
        Ledger::balance(self, account_id)
    }

    fn flag(&self, _account_id: u64, _lane: u8) -> u8 {
        0
    }

    fn kv(&self, _key: [u32; 4]) -> i64 {
        0
    }

    fn linked(&self, _parent: u64, _link_type: u16) -> Option<u64> {
        None
    }

    fn constant(&self, _name: &[u8]) -> Option<u32> {
        None
    }

    fn seed_balance(&mut self, account_id: u64, balance: i64) {
        Ledger::seed_balance(self, account_id, balance);
    }

    fn seed_flag(&mut self, _account_id: u64, _lane: u8, _value: u8) {}

    fn seed_kv(&mut self, _key: [u32; 4], _value: i64) {}

    fn state(&self) -> Accounts {
        Accounts::clone(&self.accounts)
    }

    fn set_state(&mut self, state: &Accounts) {
        Accounts::clone_from(&mut self.accounts, state);
    }

    fn record_texts(&self, _transaction: &Transaction) -> Vec<String> {
        Vec::new()
    }

    fn hazards(_transaction: &Transaction) -> ledger_abi::v2::Hazards {
        ledger_abi::v2::Hazards::default()
    }

    fn writes(&self, _transaction: &Transaction) -> crate::Writes {
        crate::Writes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BinaryError;

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
        let compiled = ledger.base.functions.compiled_modules();
        let err = ledger.prepare_function("f", &wasm(1), IfRegistered::Refuse).err().unwrap();
        assert!(matches!(err, RegistryError::AlreadyExists(_)), "{err}");
        assert_eq!(ledger.base.functions.compiled_modules(), compiled, "nothing compiled");
        let err = ledger.prepare_function("f", b"\0asm junk", IfRegistered::Refuse).err().unwrap();
        assert!(matches!(err, RegistryError::InvalidBinary(BinaryError::Parse { .. })), "{err}");
    }
}
