//! The in-process ledger of ABI v2: what a roda-ledger server at e14b146
//! does with functions, accounts, flags, linked accounts and KV.
//!
//! Accounts exist once opened ([`Operation::OpenAccount`]) or linked by a
//! function; built-in operations need OPEN accounts; a function's optional
//! `register()` export runs once, inside its registration's transaction;
//! every write a committed transaction makes is one of its
//! [`records`](Transaction::records), in call order; a failed one leaves
//! nothing but what upstream's own rollback leaves (see
//! [`State::settle`]). The arithmetic is [`ledger_abi::v2::State`], which
//! the guest's v2 mock shares.
//!
//! ```
//! use ledger_core::v2::{Ledger, Operation};
//! use ledger_core::{IfRegistered, Status};
//!
//! let counter = wat::parse_str(r#"
//!   (module
//!     (import "ledger" "kv_register_constant" (func $define (param i32)))
//!     (import "ledger" "kv_get_constant" (func $constant (param i32) (result i32)))
//!     (import "ledger" "kv_get" (func $get (param i32 i32 i32 i32) (result i64)))
//!     (import "ledger" "kv_set" (func $set (param i32 i32 i32 i32 i64)))
//!     (memory (export "memory") 1)
//!     (data (i32.const 16) "counter\00")
//!     (func (export "register") (call $define (i32.const 16)))
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       (local $c i32)
//!       (local.set $c (call $constant (i32.const 16)))
//!       (call $set (local.get $c) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0)
//!         (i64.add (call $get (local.get $c) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0))
//!                  (i64.const 1)))
//!       (i32.const 0)))
//! "#).unwrap();
//!
//! let mut ledger = Ledger::new(Default::default()).unwrap();
//! let registration = ledger.register_function("counter", &counter, IfRegistered::Refuse).unwrap();
//! assert_eq!(registration.registered.version, 1);
//! let id = ledger.constant(b"counter").expect("register() defined it");
//!
//! let call = Operation::Function { name: "counter".into(), params: vec![7], user_ref: 0 };
//! ledger.submit(&call);
//! assert_eq!(ledger.submit(&call).status, Status::NONE);
//! assert_eq!(ledger.kv([id | ledger_core::v2::CONSTANT_BIT, 7, 0, 0]), 2);
//! ```

pub use ledger_abi::v2::{AccountStatus, CONSTANT_BIT, Hazards, HostCall, INITIAL_CAPACITY, Record, State, lane_of};
use ledger_abi::v2::{CallEnd, CallPhase, HostTrap, constant_name_at};
use ledger_abi::{Entry, Status};
use wasmtime::{Caller, Extern, Linker};

use crate::abi;
use crate::engine::{
    Base, CallReport, Engine, IfRegistered, Installed, LedgerConfig, PreparedFunction, Processed, RestoreError,
    SetupError, operations, tags,
};
use crate::functions::Functions;
use crate::registry::{FunctionInfo, Registered, RegistryError};
use crate::runtime::{self, CallOutcome, Host, StartWrites, StoreData};

impl Host for State {
    const PROFILE: &'static abi::Profile = &abi::V2;

    fn link(linker: &mut Linker<StoreData<Self>>) -> wasmtime::Result<()> {
        macro_rules! link_v2 {
            (module = $module:literal; $( #[doc = $doc:literal] $(#[phase = $phase:ident])? fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
                $(
                    linker.func_wrap($module, stringify!($name), |mut caller: Caller<'_, StoreData<State>>, $($p: $t),*| {
                        // Read before the verb, while the state is at hand
                        // (no verb turns tracing on or off): after it, the
                        // state's address was loaded again (7 instructions
                        // a call under callgrind; 4 now).
                        let tracing = caller.data().host.tracing();
                        let result = host::$name(&mut caller, $($p),*);
                        if tracing {
                            let returned = result.as_ref().ok().and_then(host::Traced::traced);
                            host::trace(&mut caller, stringify!($name), &[$($p as i64),*], returned);
                        }
                        result
                    })?;
                )*
            };
        }
        // One host function per import of the v2 table, each `host::` function
        // of the same name taking the table's types: an import added to the
        // table without its semantics does not compile.
        abi::v2_host_imports!(link_v2);
        Ok(())
    }

    fn scratch(&self) -> Self {
        State::new()
    }

    type Record = Record;

    fn written(&self) -> &[Record] {
        self.records()
    }

    type Checkpoint = State;

    fn checkpoint(&mut self) -> State {
        self.clone()
    }

    fn rewind(&mut self, checkpoint: State) {
        *self = checkpoint;
    }

    fn fail(&mut self, status: Status) {
        State::fail(self, status);
    }

    fn end_call(&mut self, outcome: &CallOutcome) {
        State::end_call(self, call_end(outcome));
    }

    fn wrapped_amount(&self) -> bool {
        State::wrapped_amount(self)
    }
}

/// The v2 host imports, over [`State`]; the constant verbs read names from
/// the module's memory.
mod host {
    use super::*;

    type Ctx<'a> = Caller<'a, StoreData<State>>;
    type Result<T> = wasmtime::Result<T>;

    pub(super) fn credit(cx: &mut Ctx<'_>, account_id: u64, amount: u64) -> Result<()> {
        cx.data_mut().host.credit(account_id, amount);
        Ok(())
    }

    pub(super) fn debit(cx: &mut Ctx<'_>, account_id: u64, amount: u64) -> Result<()> {
        cx.data_mut().host.debit(account_id, amount);
        Ok(())
    }

    pub(super) fn get_balance(cx: &mut Ctx<'_>, account_id: u64) -> Result<i64> {
        Ok(cx.data_mut().host.get_balance(account_id))
    }

    pub(super) fn linked_account(cx: &mut Ctx<'_>, parent_id: u64, link_type: u32) -> Result<u64> {
        Ok(cx.data_mut().host.linked_account(parent_id, link_type))
    }

    pub(super) fn get_flag(cx: &mut Ctx<'_>, account_id: u64, lane: u32) -> Result<u32> {
        Ok(cx.data_mut().host.get_flag(account_id, lane))
    }

    pub(super) fn has_flag(cx: &mut Ctx<'_>, account_id: u64, lane: u32, value: u32) -> Result<u32> {
        Ok(cx.data_mut().host.has_flag(account_id, lane, value))
    }

    pub(super) fn set_flag(cx: &mut Ctx<'_>, account_id: u64, lane: u32, value: u32) -> Result<()> {
        cx.data_mut().host.set_flag(account_id, lane, value);
        Ok(())
    }

    pub(super) fn kv_get(cx: &mut Ctx<'_>, key0: u32, key1: u32, key2: u32, key3: u32) -> Result<i64> {
        Ok(cx.data_mut().host.kv_get([key0, key1, key2, key3]))
    }

    pub(super) fn kv_set(cx: &mut Ctx<'_>, key0: u32, key1: u32, key2: u32, key3: u32, value: i64) -> Result<()> {
        cx.data_mut().host.kv_set([key0, key1, key2, key3], value);
        Ok(())
    }

    pub(super) fn kv_register_constant(cx: &mut Ctx<'_>, name_ptr: u32) -> Result<()> {
        const IMPORT: &str = "kv_register_constant";
        // The phase first, as the server checks it: before the name is read.
        cx.data_mut().host.may_register_constant().map_err(|trap| stopped(IMPORT, b"", trap))?;
        with_memory(cx, IMPORT, name_ptr, |host, memory| {
            let name = constant_name_at(memory);
            host.kv_register_constant(name).map_err(|trap| stopped(IMPORT, name, trap))
        })
    }

    pub(super) fn kv_get_constant(cx: &mut Ctx<'_>, name_ptr: u32) -> Result<u32> {
        const IMPORT: &str = "kv_get_constant";
        cx.data_mut().host.may_get_constant().map_err(|trap| stopped(IMPORT, b"", trap))?;
        // The name is matched where it lies: most calls name a constant
        // found lately, and need not search for its NUL.
        with_memory(cx, IMPORT, name_ptr, |host, memory| {
            host.kv_get_constant_at(memory).map_err(|trap| stopped(IMPORT, constant_name_at(memory), trap))
        })
    }

    /// A host import's result as a trace shows it.
    pub(super) trait Traced {
        fn traced(&self) -> Option<i64>;
    }

    impl Traced for () {
        fn traced(&self) -> Option<i64> {
            None
        }
    }

    impl Traced for i64 {
        fn traced(&self) -> Option<i64> {
            Some(*self)
        }
    }

    impl Traced for u64 {
        fn traced(&self) -> Option<i64> {
            Some(*self as i64)
        }
    }

    impl Traced for u32 {
        fn traced(&self) -> Option<i64> {
            Some(i64::from(*self))
        }
    }

    /// Records a host call in the state's trace, with the fuel used so far.
    pub(super) fn trace(cx: &mut Ctx<'_>, import: &'static str, args: &[i64], result: Option<i64>) {
        let fuel_used = cx.data().fuel_budget().saturating_sub(cx.get_fuel().unwrap_or(0));
        cx.data_mut().host.record_host_call(HostCall { import, args: args.to_vec(), result, fuel_used });
    }

    /// Calls `verb` with the state and the exported `memory` from `ptr` on,
    /// where a name lies (read with [`constant_name_at`]: to the first NUL
    /// or the end of memory). A pointer equal to the size is the empty
    /// name, past it a trap. Memory is borrowed, not copied.
    fn with_memory<T>(
        cx: &mut Ctx<'_>,
        import: &'static str,
        ptr: u32,
        verb: impl FnOnce(&mut State, &[u8]) -> Result<T>,
    ) -> Result<T> {
        let memory_name = abi::V2.memory_export.unwrap_or("memory");
        // Found once per instance; a `start` function runs before that.
        let memory = match cx.data().memory {
            Some(memory) => memory,
            None => match cx.get_export(memory_name) {
                Some(Extern::Memory(memory)) => memory,
                _ => {
                    return Err(runtime::HostImportTrap {
                        import,
                        reason: format!(
                            "the module exports no memory named `{memory_name}` to read the constant's name from (export it: rustc and asc do by default)"
                        ),
                    }
                    .into());
                }
            },
        };
        let (bytes, data) = memory.data_and_store_mut(cx);
        let Some(rest) = bytes.get(ptr as usize..) else {
            return Err(runtime::HostImportTrap {
                import,
                reason: format!("the name pointer {ptr} is past the end of memory ({} bytes)", bytes.len()),
            }
            .into());
        };
        verb(&mut data.host, rest)
    }

    /// The trap a constant verb raises after setting its status.
    fn stopped(import: &'static str, name: &[u8], HostTrap(status): HostTrap) -> wasmtime::Error {
        let name = String::from_utf8_lossy(name);
        let reason = match status {
            Status::PROHIBITED_HOST_CALL if import == "kv_register_constant" => {
                "constants are defined inside `register()` only; move the call there".to_owned()
            }
            Status::PROHIBITED_HOST_CALL => {
                "constants are looked up while executing, not inside `register()`; define them there, look them up in `execute`".to_owned()
            }
            Status::CONSTANT_NOT_FOUND => {
                format!("no constant is named `{name}`; define it with kv_register_constant inside `register()`")
            }
            Status::CONSTANT_NAME_TOO_LONG => format!(
                "the constant name `{name}` is {} bytes, over the limit of {}; use a shorter name",
                name.len(),
                ledger_abi::MAX_CONSTANT_NAME_LEN
            ),
            _ => String::new(),
        };
        runtime::HostImportTrap { import, reason: format!("{reason} (status {} {})", status.code(), status.name()) }
            .into()
    }
}

operations! {
    /// An operation a v2 server sequences: v1's, with their v2 meaning
    /// (built-in operations need OPEN accounts), and OpenAccount.
    pub enum Operation {
        /// Opens `count` accounts (0 opens one) with contiguous ids from the
        /// next free one.
        OpenAccount {
            /// How many.
            count: u32,
            /// Deduplication key; 0 never deduplicates.
            user_ref: u64,
        },
    }
}

impl From<crate::v1::Operation> for Operation {
    /// A v1 operation as v2 has it: the same, with v2's meaning.
    fn from(operation: crate::v1::Operation) -> Operation {
        use crate::v1::Operation as V1;
        match operation {
            V1::Deposit { account, amount, user_ref } => Operation::Deposit { account, amount, user_ref },
            V1::Withdrawal { account, amount, user_ref } => Operation::Withdrawal { account, amount, user_ref },
            V1::Transfer { from, to, amount, user_ref } => Operation::Transfer { from, to, amount, user_ref },
            V1::Function { name, params, user_ref } => Operation::Function { name, params, user_ref },
        }
    }
}

impl From<&crate::v1::Operation> for Operation {
    fn from(operation: &crate::v1::Operation) -> Operation {
        Operation::from(operation.clone())
    }
}

impl From<&Operation> for Operation {
    /// A copy: what callers that take any operation by `Into` accept.
    fn from(operation: &Operation) -> Operation {
        operation.clone()
    }
}

/// A v2 operation that v1 does not have, refused in a conversion to v1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not an operation of ABI v1 (an ee2b042 server has none)")]
pub struct NotInV1(pub &'static str);

impl TryFrom<Operation> for crate::v1::Operation {
    type Error = NotInV1;

    /// A v2 operation as v1 has it: every one but OpenAccount.
    fn try_from(operation: Operation) -> Result<crate::v1::Operation, NotInV1> {
        use crate::v1::Operation as V1;
        Ok(match operation {
            Operation::Deposit { account, amount, user_ref } => V1::Deposit { account, amount, user_ref },
            Operation::Withdrawal { account, amount, user_ref } => V1::Withdrawal { account, amount, user_ref },
            Operation::Transfer { from, to, amount, user_ref } => V1::Transfer { from, to, amount, user_ref },
            Operation::Function { name, params, user_ref } => V1::Function { name, params, user_ref },
            Operation::OpenAccount { .. } => return Err(NotInV1("OpenAccount")),
        })
    }
}

/// A processed v2 transaction: what [`Ledger::submit`] returns, what
/// [`Ledger::transaction`] keeps, and what a log records so that
/// [`Ledger::restore`] brings its effects back without running any function
/// again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transaction {
    /// Transaction id, from 1; operations, registrations and unregisters
    /// each get one.
    pub tx_id: u64,
    /// Deduplication key; 0 never deduplicates.
    pub user_ref: u64,
    /// Final status.
    pub status: Status,
    /// Metadata tag (see [`tags`]).
    pub tag: [u8; 8],
    /// For a duplicate: the transaction that used the `user_ref` first.
    pub duplicate_of: Option<u64>,
    /// What it committed, in call order: entries, accounts opened and
    /// linked, flag updates, KV writes, constants. Empty when it failed.
    pub records: Vec<Record>,
    /// For a registration or unregister: the function (CRC 0 for an
    /// unregister, as the server's log writes it).
    pub function: Option<FunctionInfo>,
    /// For a function call, or a registration whose `register()` ran: what
    /// ran and how. Not logged.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub call: Option<CallReport<Record>>,
    /// What it did that a server accepts but that hurts the author. Not
    /// logged.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub hazards: Hazards,
}

impl Transaction {
    /// A slot for the history to fill: no id, no records.
    fn vacant() -> Transaction {
        Transaction {
            tx_id: 0,
            user_ref: 0,
            status: Status::NONE,
            tag: [0; 8],
            duplicate_of: None,
            records: Vec::new(),
            function: None,
            call: None,
            hazards: Hazards::default(),
        }
    }
}

impl Processed for Transaction {
    type Record = Record;

    fn tx_id(&self) -> u64 {
        self.tx_id
    }

    fn status(&self) -> Status {
        self.status
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.records.iter().filter_map(|record| match record {
            Record::Entry(entry) => Some(entry),
            _ => None,
        })
    }

    fn call(&self) -> Option<&CallReport<Record>> {
        self.call.as_ref()
    }

    fn opened(&self) -> Option<(u64, u32)> {
        self.records.iter().find_map(|record| match record {
            Record::AccountOpened { begin, count, .. } => Some((*begin, *count)),
            _ => None,
        })
    }
}

/// What a v2 log keeps: transactions, registrations and unregisters among
/// them (tag `FNREG`, the function's binary beside the log).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum LogRecord {
    /// A processed transaction and its effects.
    Transaction {
        /// The operation, for audit; none for a registration.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        op: Option<Operation>,
        /// What it did.
        record: Box<Transaction>,
    },
}

/// A committed record in the form scenarios and reports write it:
/// `debit 1 5 (balance 5)`, `credit 0 5 (balance -5)`, `open 4 x1 (flags
/// 0x2)`, `link 1 type 1 -> 4`, `flags 1: 0x1 -> 0x70001`, `kv
/// counter/1/0/0 = 1` (a constant by its name when `constant_name` knows
/// it, else `constant[id]` as a server's log shows it), `constant 1
/// counter`.
///
/// ```
/// use ledger_core::v2::{CONSTANT_BIT, Record, record_text};
///
/// let names = |id| (id == 1).then(|| "counter".to_string());
/// assert_eq!(record_text(&Record::Kv { key: [1 | CONSTANT_BIT, 7, 0, 0], value: 2 }, names), "kv counter/7/0/0 = 2");
/// assert_eq!(record_text(&Record::Kv { key: [2 | CONSTANT_BIT, 7, 0, 0], value: 2 }, names), "kv constant[2]/7/0/0 = 2");
/// ```
pub fn record_text(record: &Record, constant_name: impl Fn(u32) -> Option<String>) -> String {
    match record {
        Record::Entry(entry) => {
            let kind = match entry.kind {
                ledger_abi::EntryKind::Credit => "credit",
                ledger_abi::EntryKind::Debit => "debit",
            };
            format!("{kind} {} {} (balance {})", entry.account_id, entry.amount, entry.computed_balance)
        }
        Record::AccountOpened { begin, count, flags } => format!("open {begin} x{count} (flags {flags:#x})"),
        Record::AccountLinked { parent, link_type, child } => format!("link {parent} type {link_type} -> {child}"),
        Record::FlagsUpdated { account_id, prev, new } => format!("flags {account_id}: {prev:#x} -> {new:#x}"),
        Record::Kv { key, value } => format!("kv {} = {value}", key_text(key, constant_name)),
        Record::KvConstant { id, name } => format!("constant {id} {}", String::from_utf8_lossy(name)),
    }
}

/// A KV key as record texts show it: components by value, constants (bit
/// 31 set) by name.
fn key_text(key: &[u32; 4], constant_name: impl Fn(u32) -> Option<String>) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|&part| match part & CONSTANT_BIT {
            0 => part.to_string(),
            _ => constant_name(part & !CONSTANT_BIT).unwrap_or_else(|| format!("constant[{}]", part & !CONSTANT_BIT)),
        })
        .collect();
    parts.join("/")
}

/// A registration that committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The version and CRC installed.
    pub registered: Registered,
    /// Its transaction (tag `FNREG`): the constants `register()` defined
    /// are its records.
    pub transaction: Transaction,
    /// The module could not be instantiated, so `register()` did not run
    /// and every call will fail with status 5; a server registers such a
    /// module all the same.
    pub not_instantiable: Option<CallOutcome>,
}

/// How a transaction ended, for [`Ledger::finish`].
struct Settled {
    status: Status,
    tag: [u8; 8],
    duplicate_of: Option<u64>,
}

/// A registration whose `register()` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRegistration {
    /// [`RegistryError::RegisterFailed`], with what stopped it.
    pub error: RegistryError,
    /// Its transaction, failed: a server logs it, and its id is taken.
    pub transaction: Box<Transaction>,
}

/// An in-process ledger of ABI v2 (upstream e14b146), plus the fuel, memory
/// and carried-state checks of [`crate::Ledger`].
///
/// ```
/// use ledger_core::v2::{AccountStatus, Ledger, Operation};
/// use ledger_core::Status;
///
/// let mut ledger = Ledger::new(Default::default()).unwrap();
/// let deposit = Operation::Deposit { account: 1, amount: 5, user_ref: 0 };
/// assert_eq!(ledger.submit(&deposit).status, Status::ACCOUNT_NOT_FOUND, "not opened yet");
/// ledger.submit(&Operation::OpenAccount { count: 2, user_ref: 0 });
/// assert_eq!(ledger.account_status(2), AccountStatus::Open);
/// assert_eq!(ledger.submit(&deposit).status, Status::NONE);
/// assert_eq!(ledger.balance(1), 5);
/// ```
pub struct Ledger {
    base: Base<State, Transaction>,
    /// Boxed: a call moves it into the function's store and back.
    state: Box<State>,
}

impl Ledger {
    /// Creates an empty ledger: account 0 the system account, capacity
    /// [`INITIAL_CAPACITY`], no account open. `max_accounts` is not used: a
    /// v2 server has no account maximum.
    ///
    /// # Errors
    ///
    /// [`SetupError`] when wasmtime refuses the limits.
    pub fn new(config: LedgerConfig) -> Result<Ledger, SetupError> {
        Ok(Ledger { state: Box::new(State::new()), base: Base::new(config)? })
    }

    /// Registers a function as an e14b146 server does: the name, the binary
    /// (parses, `execute (i64 x 8) -> i32`, a `register` export of type
    /// `() -> ()`) and whether the name is taken are checked first, with no
    /// transaction; then a transaction (tag `FNREG`) installs it and runs
    /// its `register()`, on the instance later calls reuse. A `register()`
    /// that fails (status 8, 10, or 5 for a trap) rolls the registration
    /// back: the previous version stays live, its constants are dropped.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message;
    /// [`RegistryError::RegisterFailed`] when `register()` failed (that
    /// transaction still took an id).
    pub fn register_function(
        &mut self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<Registration, RegistryError> {
        let prepared = self.prepare_function(name, binary, if_registered)?;
        self.install_function(prepared).map_err(|failed| failed.error)
    }

    /// Installs a prepared function in a transaction (tag `FNREG`) that
    /// instantiates it (a `start` function runs there, in the execute
    /// phase: its moves are the transaction's) and runs its `register()`,
    /// as an e14b146 server does.
    ///
    /// # Errors
    ///
    /// [`FailedRegistration`] when the transaction failed; it took an id.
    /// When `register()` failed the previous version stays live; when the
    /// `start` function's moves failed it, the new version stays live (a
    /// server's until it restarts: see
    /// [`RegistryError::RegisterFailed`]).
    pub fn install_function(&mut self, prepared: PreparedFunction<State>) -> Result<Registration, FailedRegistration> {
        let name = prepared.name().to_owned();
        let last_version = self.base.functions.last_version(&name);
        let (registered, previous) = self.base.functions.install(prepared.0);
        let tx_id = self.begin(CallPhase::Execute);
        let (runtime, live) = self.base.functions.for_call(&name).expect("installed above");
        let instantiated = live.payload.ensure_instance(runtime, &mut self.state, StartWrites::Transaction);
        self.state.enter_phase(CallPhase::Register);
        let (call, not_instantiable) = match instantiated {
            Err(outcome) => (None, Some(outcome)),
            Ok(start_moves) => match live.payload.call_register(runtime, &mut self.state) {
                None => (None, None),
                Some((outcome, fuel_used)) => {
                    Host::end_call(&mut *self.state, &outcome);
                    let report = CallReport {
                        version: Some(registered.version),
                        crc32c: registered.crc32c,
                        outcome,
                        fuel_used,
                        wrapped_amount: false,
                        carried_state: None,
                        start_moves,
                    };
                    (Some(report), None)
                }
            },
        };
        // A server reverts the install when `register()` ends with a status,
        // a host reason the `start` function set included; any other failure
        // only rolls the transaction back. More than 65,535 constants it
        // commits with a wrapped record count, which this ledger refuses as
        // `register()`'s failure (docs/differences.md).
        let register_failed = call.is_some()
            && (!self.state.failure().is_success() || self.state.records().len() > ledger_abi::V2_MAX_RECORDS_PER_TX);
        let status = self.state.settle();
        let function = FunctionInfo { name: name.clone(), version: registered.version, crc32c: registered.crc32c };
        // What stopped `register()` when it did not return.
        let stopped =
            call.as_ref().map(|report| &report.outcome).filter(|o| !matches!(o, CallOutcome::Returned(_))).cloned();
        let settled = Settled { status, tag: tags::FUNCTION_REGISTRATION, duplicate_of: None };
        let transaction = self.finish(tx_id, 0, settled, Some(function), call).clone();
        if !status.is_success() {
            if register_failed {
                self.base.functions.revert_install(&name, previous, last_version);
            }
            let error = RegistryError::RegisterFailed {
                status: status.code(),
                outcome: stopped,
                live_until_restart: !register_failed,
            };
            return Err(FailedRegistration { error, transaction: Box::new(transaction) });
        }
        Ok(Registration { registered, transaction, not_instantiable })
    }

    /// Unregisters a function in a transaction (tag `FNREG`, the function's
    /// CRC 0); returns it, its `function` carrying the unregister's version.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when no function is live under the
    /// name, or the name breaks the rules.
    pub fn unregister_function(&mut self, name: &str) -> Result<Transaction, RegistryError> {
        let version = self.base.functions.unregister(name)?;
        let tx_id = self.begin(CallPhase::Execute);
        let status = self.state.settle();
        let function = FunctionInfo { name: name.to_owned(), version, crc32c: 0 };
        let settled = Settled { status, tag: tags::FUNCTION_REGISTRATION, duplicate_of: None };
        Ok(self.finish(tx_id, 0, settled, Some(function), None).clone())
    }

    /// Processes one operation as an e14b146 server's transactor does.
    pub fn submit(&mut self, operation: &Operation) -> Transaction {
        self.process(operation).clone()
    }

    /// [`submit`](Ledger::submit), lending the transaction instead (see
    /// [`Engine::process`]).
    pub fn process(&mut self, operation: &Operation) -> &Transaction {
        let tx_id = self.begin(CallPhase::Execute);
        let user_ref = operation.user_ref();
        if user_ref != 0
            && let Some(original) = self.base.original(user_ref, tx_id)
        {
            let duplicate = Settled { status: Status::DUPLICATE, tag: tags::DUPLICATE, duplicate_of: Some(original) };
            return self.finish(tx_id, user_ref, duplicate, None, None);
        }
        if user_ref != 0 {
            self.base.remember(user_ref, tx_id);
        }
        // The call's report is written into the slot's, in place: a warm
        // call moves and allocates nothing.
        let slot = self.base.history.slot(tx_id, Transaction::vacant);
        let check = self.base.config.check_carried_state;
        let tag = execute(&mut self.base.functions, &mut self.state, check, operation, &mut slot.call);
        let status = self.state.settle();
        fill(slot, &mut self.state, tx_id, user_ref, Settled { status, tag, duplicate_of: None }, None)
    }

    /// Takes the next transaction id and starts a transaction in `phase`.
    fn begin(&mut self, phase: CallPhase) -> u64 {
        let tx_id = self.base.take_tx_id();
        self.state.begin(phase);
        tx_id
    }

    /// The settled transaction, written into its slot in the history (see
    /// [`Engine::process`]).
    fn finish(
        &mut self,
        tx_id: u64,
        user_ref: u64,
        settled: Settled,
        function: Option<FunctionInfo>,
        call: Option<CallReport<Record>>,
    ) -> &Transaction {
        let slot = self.base.history.slot(tx_id, Transaction::vacant);
        slot.call = call;
        fill(slot, &mut self.state, tx_id, user_ref, settled, function)
    }

    /// Brings back a transaction a log recorded, without running anything:
    /// its records are applied ([`State::replay`]), its `user_ref` counts for
    /// deduplication again, and the history keeps it. A registration's
    /// transaction installs `binary` with no `register()` call (as a server
    /// restarts: the constants it defined are among the records); an
    /// unregister's (CRC 0) removes the function.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] when it is not the next transaction, a registration
    /// comes without its binary or with another one, or the registry refuses
    /// what the log says it did.
    pub fn restore(&mut self, transaction: &Transaction, binary: Option<&[u8]>) -> Result<(), RestoreError> {
        self.restore_with(transaction, binary, Restoring::OwnLog)
    }

    /// [`restore`](Ledger::restore) for a fork of another ledger: versions
    /// are the log's (a server numbers a registration after an unregister
    /// from 1 again), and a registration whose binary is not given is
    /// installed all the same, with its name, version and CRC, every call
    /// of it failing with status 5 and saying that the binary was not
    /// found.
    ///
    /// # Errors
    ///
    /// As [`restore`](Ledger::restore), but for a missing binary.
    pub fn restore_forked(&mut self, transaction: &Transaction, binary: Option<&[u8]>) -> Result<(), RestoreError> {
        self.restore_with(transaction, binary, Restoring::Fork)
    }

    fn restore_with(
        &mut self,
        transaction: &Transaction,
        binary: Option<&[u8]>,
        restoring: Restoring,
    ) -> Result<(), RestoreError> {
        if transaction.tx_id != self.base.next_tx_id {
            return Err(RestoreError::OutOfOrder { expected: self.base.next_tx_id, found: transaction.tx_id });
        }
        let registry = |error: RegistryError| RestoreError::Registry(error.to_string());
        match &transaction.function {
            Some(function) if transaction.status.is_success() && function.crc32c == 0 => {
                let version = self.base.functions.unregister(&function.name).map_err(registry)?;
                if restoring == Restoring::Fork {
                    self.base.functions.renumber(&function.name, function.version);
                } else {
                    check_version(function, version)?;
                }
            }
            Some(function) if transaction.status.is_success() => {
                let prepared = match (binary, restoring) {
                    (Some(binary), _) => {
                        if crate::crc32c(binary) != function.crc32c {
                            return Err(RestoreError::WrongBinary(function.name.clone()));
                        }
                        self.base.functions.prepare(&function.name, binary, IfRegistered::Override)
                    }
                    (None, Restoring::OwnLog) => return Err(RestoreError::MissingBinary(function.name.clone())),
                    (None, Restoring::Fork) => self.base.functions.placeholder(function),
                };
                let (registered, _) = self.base.functions.install(prepared.map_err(registry)?);
                if restoring == Restoring::Fork {
                    self.base.functions.renumber(&function.name, function.version);
                } else {
                    check_version(function, registered.version)?;
                }
            }
            _ => {}
        }
        self.base.next_tx_id += 1;
        self.state.replay(&transaction.records);
        // A server's recovery skips every transaction whose status is
        // DUPLICATE, a function's own return of 7 too (observed).
        if transaction.user_ref != 0 && transaction.status != Status::DUPLICATE {
            self.base.remember(transaction.user_ref, transaction.tx_id);
        }
        self.base.history.record(transaction.tx_id, Transaction { call: None, ..transaction.clone() });
        Ok(())
    }

    /// Records every host call the next calls make, with its arguments,
    /// result and the fuel used so far (`on`), or stops and drops them: a
    /// trace of what a function did ([`take_host_calls`](Ledger::take_host_calls)).
    ///
    /// ```
    /// use ledger_core::v2::{Ledger, Operation};
    /// use ledger_core::{Engine, IfRegistered};
    ///
    /// let wasm = wat::parse_str(r#"(module
    ///   (import "ledger" "get_balance" (func $balance (param i64) (result i64)))
    ///   (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    ///     (drop (call $balance (local.get 0))) (i32.const 0)))"#).unwrap();
    /// let mut ledger = Ledger::new(Default::default()).unwrap();
    /// ledger.register("peek", &wasm, IfRegistered::Refuse).unwrap();
    /// ledger.trace_host_calls(true);
    /// ledger.submit(&Operation::Function { name: "peek".into(), params: vec![7], user_ref: 0 });
    /// let calls = ledger.take_host_calls();
    /// assert_eq!((calls[0].import, calls[0].args.as_slice(), calls[0].result), ("get_balance", &[7][..], Some(0)));
    /// ```
    pub fn trace_host_calls(&mut self, on: bool) {
        self.state.trace(on);
    }

    /// The host calls recorded since tracing started, or since last taken.
    pub fn take_host_calls(&mut self) -> Vec<HostCall> {
        self.state.take_host_calls()
    }

    /// The state: balances, flags, links, KV and constants.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Replaces the state, outside any transaction: to start again from a
    /// copy of [`state`](Ledger::state) (functions and their instances
    /// stay, as on a server).
    pub fn set_state(&mut self, state: State) {
        *self.state = state;
    }

    /// Sets a balance directly, outside any transaction: for starting
    /// states in tests and simulations.
    pub fn seed_balance(&mut self, account_id: u64, balance: i64) {
        self.state.seed_balance(account_id, balance);
    }

    /// Sets every balance to 0, outside any transaction.
    pub fn reset_balances(&mut self) {
        self.state.reset_balances();
    }

    /// Sets a flag lane directly, outside any transaction.
    pub fn seed_flag(&mut self, account_id: u64, lane: u8, value: u8) {
        self.state.seed_flag(account_id, lane, value);
    }

    /// Sets a KV value directly, outside any transaction.
    pub fn seed_kv(&mut self, key: [u32; 4], value: i64) {
        self.state.seed_kv(key, value);
    }

    /// An account's balance; 0 for an id never opened or beyond capacity.
    pub fn balance(&self, account_id: u64) -> i64 {
        self.state.balance(account_id)
    }

    /// Whether and how an account exists.
    pub fn account_status(&self, account_id: u64) -> AccountStatus {
        self.state.account_status(account_id)
    }

    /// An account's eight flag lanes as one `u64`, lane 0 the low byte.
    pub fn flags(&self, account_id: u64) -> u64 {
        self.state.flags(account_id)
    }

    /// The value under a KV key; 0 when absent.
    pub fn kv(&self, key: [u32; 4]) -> i64 {
        self.state.kv_value(key)
    }

    /// A constant's id, without [`CONSTANT_BIT`].
    pub fn constant(&self, name: &[u8]) -> Option<u32> {
        self.state.constant(name)
    }
}

/// Whose log a restore reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Restoring {
    /// This ledger's: its binaries are beside it, its versions are this
    /// ledger's own numbering.
    OwnLog,
    /// Another ledger's (a fork): its versions stand, and a registration
    /// whose binary is missing installs a function whose calls fail with 5.
    Fork,
}

fn check_version(function: &FunctionInfo, version: u32) -> Result<(), RestoreError> {
    match version == function.version {
        true => Ok(()),
        false => Err(RestoreError::Registry(format!(
            "`{}` restores as version {version}, the log says version {}",
            function.name, function.version
        ))),
    }
}

/// Makes an operation's moves on the transaction in progress; returns its
/// tag. A call's report is written into `call` (in place when it holds one).
fn execute(
    functions: &mut Functions<State>,
    state: &mut Box<State>,
    check_carried_state: bool,
    operation: &Operation,
    call: &mut Option<CallReport<Record>>,
) -> [u8; 8] {
    if !matches!(operation, Operation::Function { .. }) {
        *call = None;
    }
    match operation {
        Operation::Deposit { account, amount, .. } => {
            state.deposit(*account, *amount);
            tags::DEPOSIT
        }
        Operation::Withdrawal { account, amount, .. } => {
            state.withdrawal(*account, *amount);
            tags::WITHDRAWAL
        }
        Operation::Transfer { from, to, amount, .. } => {
            state.transfer(*from, *to, *amount);
            tags::TRANSFER
        }
        Operation::OpenAccount { count, .. } => {
            state.open_accounts(*count);
            tags::OPEN_ACCOUNT
        }
        Operation::Function { name, params, .. } => {
            let report = call.get_or_insert_with(CallReport::unknown_function);
            functions.call(name, state, params, check_carried_state, report);
            tags::function(report.crc32c)
        }
    }
}

/// Writes a settled transaction into its history slot, in place (its
/// buffer reused), all but the call report, which the caller wrote.
fn fill<'a>(
    slot: &'a mut Transaction,
    state: &mut State,
    tx_id: u64,
    user_ref: u64,
    settled: Settled,
    function: Option<FunctionInfo>,
) -> &'a Transaction {
    // Every field named: a field added is not forgotten here.
    let Transaction {
        tx_id: slot_tx_id,
        user_ref: slot_user_ref,
        status,
        tag,
        duplicate_of,
        records,
        function: slot_function,
        call: _,
        hazards,
    } = slot;
    (*slot_tx_id, *slot_user_ref, *slot_function) = (tx_id, user_ref, function);
    Settled { status: *status, tag: *tag, duplicate_of: *duplicate_of } = settled;
    *hazards = state.hazards();
    state.take_records(records);
    slot
}

impl Engine for Ledger {
    const PROFILE: &'static abi::Profile = &abi::V2;
    type Host = State;
    type Operation = Operation;
    type Transaction = Transaction;
    type LogRecord = LogRecord;
    type State = State;

    fn new(config: LedgerConfig) -> Result<Self, SetupError> {
        Ledger::new(config)
    }

    fn base(&self) -> &Base<State, Transaction> {
        &self.base
    }

    fn install(&mut self, prepared: PreparedFunction<State>) -> Installed<LogRecord> {
        let (outcome, transaction) = match self.install_function(prepared) {
            Ok(Registration { registered, transaction, .. }) => (Ok(registered), Box::new(transaction)),
            Err(FailedRegistration { error, transaction }) => (Err(error), transaction),
        };
        Installed { outcome, record: LogRecord::Transaction { op: None, record: transaction } }
    }

    fn unregister(&mut self, name: &str) -> Result<(u32, LogRecord), RegistryError> {
        let transaction = self.unregister_function(name)?;
        let version = transaction.function.as_ref().map_or(0, |f| f.version);
        Ok((version, LogRecord::Transaction { op: None, record: Box::new(transaction) }))
    }

    fn process(&mut self, operation: &Operation) -> &Transaction {
        Ledger::process(self, operation)
    }

    fn log_record(op: Option<Operation>, transaction: &Transaction) -> LogRecord {
        LogRecord::Transaction { op, record: Box::new(transaction.clone()) }
    }

    fn binary_needed(record: &LogRecord) -> Option<&FunctionInfo> {
        let LogRecord::Transaction { record, .. } = record;
        record.function.as_ref().filter(|f| f.crc32c != 0 && record.status.is_success())
    }

    fn restore(&mut self, record: &LogRecord, binary: Option<&[u8]>) -> Result<(), RestoreError> {
        let LogRecord::Transaction { record, .. } = record;
        Ledger::restore(self, record, binary)
    }

    fn balance(&self, account_id: u64) -> i64 {
        Ledger::balance(self, account_id)
    }

    fn flag(&self, account_id: u64, lane: u8) -> u8 {
        self.state.flag(account_id, lane)
    }

    fn kv(&self, key: [u32; 4]) -> i64 {
        Ledger::kv(self, key)
    }

    fn linked(&self, parent: u64, link_type: u16) -> Option<u64> {
        self.state.linked_accounts(parent).find(|(other, _)| *other == link_type).map(|(_, child)| child)
    }

    fn constant(&self, name: &[u8]) -> Option<u32> {
        Ledger::constant(self, name)
    }

    fn seed_balance(&mut self, account_id: u64, balance: i64) {
        Ledger::seed_balance(self, account_id, balance);
    }

    fn seed_flag(&mut self, account_id: u64, lane: u8, value: u8) {
        Ledger::seed_flag(self, account_id, lane, value);
    }

    fn seed_kv(&mut self, key: [u32; 4], value: i64) {
        Ledger::seed_kv(self, key, value);
    }

    fn state(&self) -> State {
        State::clone(&self.state)
    }

    fn set_state(&mut self, state: &State) {
        State::clone_from(&mut self.state, state);
    }

    fn record_texts(&self, transaction: &Transaction) -> Vec<String> {
        transaction.records.iter().map(|record| record_text(record, |id| self.state.constant_name(id))).collect()
    }

    fn hazards(transaction: &Transaction) -> Hazards {
        transaction.hazards
    }

    fn writes(&self, transaction: &Transaction) -> crate::Writes {
        let mut writes = crate::Writes::default();
        for record in &transaction.records {
            match record {
                Record::FlagsUpdated { prev, new, .. } => {
                    let changed = (prev ^ new).to_le_bytes();
                    writes.flag_lanes.extend((0..8u8).filter(|&lane| changed[usize::from(lane)] != 0));
                }
                Record::Kv { key, .. } => {
                    writes.kv_keys.insert(key_text(key, |id| self.state.constant_name(id)));
                }
                _ => {}
            }
        }
        writes
    }
}

/// How a guest's call ended, for the status composition.
fn call_end(outcome: &CallOutcome) -> CallEnd {
    match outcome {
        CallOutcome::Returned(ret) => CallEnd::Returned(*ret),
        _ => CallEnd::Trapped,
    }
}
