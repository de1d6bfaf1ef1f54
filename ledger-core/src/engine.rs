//! What every profile's ledger shares: its configuration, the reports of a
//! call, the history and the dedup window, the metadata tags, the
//! operations every profile sequences, and the [`Engine`] trait each
//! profile's ledger implements ([`v1::Ledger`](crate::v1::Ledger),
//! [`v2::Ledger`](crate::v2::Ledger)). [`for_profile`] is the one place a
//! [`Profile`] becomes an engine.

use std::collections::HashMap;
use std::sync::Arc;

use ledger_abi::{DEFAULT_MAX_ACCOUNTS, Entry, Profile, ProfileId, Status};

use crate::functions::{Functions, compile};
use crate::registry::{BinaryError, FunctionInfo, Prepared, Registered, RegistryError};
use crate::runtime::{CallOutcome, Host, Interrupter, Limits, LoadedFunction, Runtime};

/// How a ledger is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    /// v1: account ids are `0..max_accounts`; touching another is status 6.
    /// A v2 ledger has no maximum and ignores it.
    pub max_accounts: u64,
    /// Fuel, memory and stack bounds on every call.
    pub limits: Limits,
    /// Run every function call a second time on a fresh instance and report
    /// when the outcomes differ (see [`CallReport::carried_state`]). Costs one
    /// instantiation per call.
    pub check_carried_state: bool,
    /// Keep transactions' records and entries for [`Engine::transaction`].
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
    /// Run each registered binary as its instrumented copy and record where
    /// its fuel goes and which of its code runs ([`Engine::probes`]; see
    /// [`probe`](crate::probe)). What calls answer is unchanged.
    pub probe: bool,
}

/// The ledger state a transaction wrote besides balances (see
/// [`Engine::writes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Writes {
    /// The flag lanes (bytes of an account's flags) it changed.
    pub flag_lanes: std::collections::BTreeSet<u8>,
    /// The KV keys it wrote, as record texts name them
    /// (`counter/1/0/0`, constants by name).
    pub kv_keys: std::collections::BTreeSet<String>,
}

impl Writes {
    /// Adds what `other` wrote.
    pub fn add(&mut self, other: &Writes) {
        self.flag_lanes.extend(&other.flag_lanes);
        self.kv_keys.extend(other.kv_keys.iter().cloned());
    }

    /// Nothing written.
    pub fn is_empty(&self) -> bool {
        self.flag_lanes.is_empty() && self.kv_keys.is_empty()
    }
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
            probe: false,
        }
    }
}

/// What a registration does when the name is already live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfRegistered {
    /// Refuse with [`RegistryError::AlreadyExists`], as a server does by
    /// default.
    #[default]
    Refuse,
    /// Replace it with a new version (the wire's `override_existing`).
    Override,
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

    /// The CRC32C a function call's tag carries; `None` for any other tag.
    ///
    /// ```
    /// use ledger_core::tags;
    /// assert_eq!(tags::function_crc(&tags::function(0x1234_5678)), Some(0x1234_5678));
    /// assert_eq!(tags::function_crc(&tags::DEPOSIT), None);
    /// ```
    pub fn function_crc(tag: &[u8; 8]) -> Option<u32> {
        let (prefix, crc) = tag.split_at(4);
        (prefix == b"fnw\n").then(|| u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]))
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
    /// Boxed: a report moves through every call, and this is rarely set.
    pub carried_state: Option<Box<CarriedState<R>>>,
    /// Credits and debits made by the module's `start` function when this
    /// call instantiated it. A server makes them on its live ledger outside
    /// the transaction's rules (see `docs/differences.md`); here they are
    /// dropped.
    pub start_moves: usize,
}

impl<R> CallReport<R> {
    /// The report of a call to a name no function is live under.
    pub(crate) fn unknown_function() -> CallReport<R> {
        CallReport {
            version: None,
            crc32c: 0,
            outcome: CallOutcome::UnknownFunction,
            fuel_used: 0,
            wrapped_amount: false,
            carried_state: None,
            start_moves: 0,
        }
    }
}

/// A call whose outcome depended on state left by earlier calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedState<R = Entry> {
    /// What a fresh instance (what the seed promises) returned.
    pub fresh_outcome: CallOutcome,
    /// What the fresh instance recorded (v1: its entries).
    pub fresh_entries: Vec<R>,
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
        /// [`MAX_ACCOUNTS_LIMIT`](crate::v1::MAX_ACCOUNTS_LIMIT).
        limit: u64,
    },
    /// wasmtime refused the engine configuration.
    #[error("cannot set up the WebAssembly engine: {detail}")]
    Engine {
        /// wasmtime's message.
        detail: String,
    },
}

/// Why a logged record cannot be brought back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// It is not the next transaction.
    #[error("transaction {found} cannot be restored next: the ledger expects transaction {expected}")]
    OutOfOrder {
        /// The id the ledger expects.
        expected: u64,
        /// The id of the record.
        found: u64,
    },
    /// A registration came without its binary.
    #[error("the registration of `{0}` comes without its binary")]
    MissingBinary(String),
    /// A registration came with a binary whose CRC is not the recorded one.
    #[error("the binary given for `{0}` is not the one its registration recorded (CRC32C differs)")]
    WrongBinary(String),
    /// The registry refused a registration or unregister the log recorded,
    /// or numbers it otherwise.
    #[error("{0}")]
    Registry(String),
    /// v1: a transaction moved an account the ledger cannot hold (the log
    /// was written with a larger `max_accounts`).
    #[error("the log moves account {account}, but the ledger holds accounts below {max_accounts}")]
    AccountOutOfRange {
        /// The account.
        account: u64,
        /// The ledger's limit.
        max_accounts: u64,
    },
}

/// A binary compiled for an engine whose host state is `H`, by its
/// [`Compiler`]; handed back to the same engine with
/// [`Engine::prepare_compiled`].
pub struct CompiledFunction<H: Host> {
    pub(crate) crc32c: u32,
    pub(crate) loaded: LoadedFunction<H>,
}

/// Compiles function binaries for one ledger on any thread, so that a
/// server compiles with no lock held on the ledger (see
/// [`Engine::compiler`]).
pub struct Compiler<H: Host>(pub(crate) Arc<Runtime<H>>);

impl<H: Host> Compiler<H> {
    /// Compiles and links a binary with a server's checks on it (parses,
    /// exports `execute (i64 x 8) -> i32`, the profile's optional exports).
    ///
    /// # Errors
    ///
    /// [`BinaryError`] for a binary a server refuses.
    pub fn compile(&self, binary: &[u8]) -> Result<CompiledFunction<H>, BinaryError> {
        Ok(CompiledFunction { crc32c: crate::crc32c(binary), loaded: compile(&self.0, binary)? })
    }
}

impl<H: Host> Clone for Compiler<H> {
    fn clone(&self) -> Self {
        Compiler(self.0.clone())
    }
}

impl<H: Host> std::fmt::Debug for Compiler<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compiler")
    }
}

/// A function that passed every registration check and is compiled, not
/// installed yet ([`Engine::install`] makes it live).
pub struct PreparedFunction<H: Host>(pub(crate) Prepared<LoadedFunction<H>>);

impl<H: Host> PreparedFunction<H> {
    /// The name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The version and CRC it will be installed with.
    pub fn registered(&self) -> Registered {
        self.0.registered()
    }
}

/// What [`Engine::install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed<R> {
    /// The version and CRC now live, or why the registration failed (v2: its
    /// `register()` failed, in a transaction of its own; the previous version
    /// stays live).
    pub outcome: Result<Registered, RegistryError>,
    /// What a log keeps of it (a failed v2 registration's transaction too).
    pub record: R,
}

/// A processed transaction, whatever the profile: what code that serves or
/// checks any profile reads of it.
pub trait Processed {
    /// What a call records (v1: [`Entry`], v2: [`Record`](crate::v2::Record)).
    type Record: Clone + PartialEq + std::fmt::Debug;

    /// Its id.
    fn tx_id(&self) -> u64;

    /// Its final status.
    fn status(&self) -> Status;

    /// Its committed credits and debits, in order.
    fn entries(&self) -> impl Iterator<Item = &Entry>;

    /// For a function call: what ran and how.
    fn call(&self) -> Option<&CallReport<Self::Record>>;

    /// The accounts it opened: the first id and how many (none where the
    /// profile opens no account), so that a run knows the ids a ledger
    /// issued.
    fn opened(&self) -> Option<(u64, u32)>;
}

/// What code that serves any profile reads of an operation (every
/// profile's operation enum has it, from the one definition of the
/// operations they share).
pub trait AnyOperation {
    /// The deduplication key; 0 never deduplicates.
    fn user_ref(&self) -> u64;

    /// The function a call names.
    fn called(&self) -> Option<&str>;

    /// The function a call names, to change it (a log blanks a name no
    /// function can have).
    fn called_mut(&mut self) -> Option<&mut String>;

    /// A call's parameters, to change them (a fuzzer reuses one operation
    /// for every case rather than building one each time).
    fn params_mut(&mut self) -> Option<&mut Vec<i64>>;
}

/// A profile's in-process ledger: what a roda-ledger server of that
/// profile does with operations and function registrations, plus the
/// simulator's checks (fuel, memory, carried state). Every method is
/// required, so that a new profile's engine is told by the compiler what it
/// lacks; a profile without a notion (v1 has no flags, KV or links) answers
/// as a server of it would be read (zero, none).
pub trait Engine: Sized + Send + 'static {
    /// The profile it runs.
    const PROFILE: &'static Profile;
    /// The state its host imports act on.
    type Host: Host;
    /// An operation it sequences; one of the newest profile converts, or
    /// is refused when this profile has no such operation (what callers that
    /// serve every profile, scenarios among them, build).
    type Operation: AnyOperation + Clone + std::fmt::Debug + Send + 'static + TryFrom<crate::v2::Operation>;
    /// A processed transaction.
    type Transaction: Processed + Clone + std::fmt::Debug + Send + 'static;
    /// What a log keeps to bring the ledger back: one record per write
    /// (registration, unregister, transaction).
    type LogRecord: Clone + std::fmt::Debug + Send + 'static;
    /// A copy of what operations change (balances; v2: flags, links, KV,
    /// constants), to start again from.
    type State: Clone + Send;

    /// An empty ledger.
    ///
    /// # Errors
    ///
    /// [`SetupError`] for a configuration it cannot run.
    fn new(config: LedgerConfig) -> Result<Self, SetupError>;

    /// What every engine keeps ([`Base`]); the provided methods below read
    /// it.
    #[doc(hidden)]
    fn base(&self) -> &Base<Self::Host, Self::Transaction>;

    /// Makes a prepared function live (v2: in a transaction that runs its
    /// `register()`, which may fail it). A server writes the binary
    /// durably first.
    fn install(&mut self, prepared: PreparedFunction<Self::Host>) -> Installed<Self::LogRecord>;

    /// Unregisters a function: its version (the unregister marker's) and
    /// what a log keeps of it.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when no function is live under the name.
    fn unregister(&mut self, name: &str) -> Result<(u32, Self::LogRecord), RegistryError>;

    /// Processes one operation as a server's transactor does, and lends
    /// the transaction: the history's copy when it keeps one, else the
    /// ledger's slot for the latest, whose buffers the next call reuses
    /// (a committed call allocates nothing).
    fn process(&mut self, operation: &Self::Operation) -> &Self::Transaction;

    /// [`process`](Engine::process), with the transaction owned.
    fn submit(&mut self, operation: &Self::Operation) -> Self::Transaction {
        self.process(operation).clone()
    }

    /// What a log keeps of a processed operation (`operation`, when given,
    /// for audit).
    fn log_record(operation: Option<Self::Operation>, transaction: &Self::Transaction) -> Self::LogRecord;

    /// The binary a logged registration needs to be brought back: its name,
    /// version and CRC32C; `None` for any other record.
    fn binary_needed(record: &Self::LogRecord) -> Option<&FunctionInfo>;

    /// Brings back a logged record without running any function (instances
    /// start afresh, `register()` does not run again): what a server does
    /// when it recovers from its WAL. `binary` is the one
    /// [`binary_needed`](Engine::binary_needed) names.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] when the record is not the next one, or the ledger
    /// would not do what it says.
    fn restore(&mut self, record: &Self::LogRecord, binary: Option<&[u8]>) -> Result<(), RestoreError>;

    /// An account's balance.
    fn balance(&self, account_id: u64) -> i64;

    /// A flag lane of an account (0 where the profile has no flags).
    fn flag(&self, account_id: u64, lane: u8) -> u8;

    /// The value under a KV key (0 where the profile has no KV).
    fn kv(&self, key: [u32; 4]) -> i64;

    /// The child linked to `parent` under `link_type` (none where the
    /// profile has no links).
    fn linked(&self, parent: u64, link_type: u16) -> Option<u64>;

    /// A constant's id (none where the profile has no constants).
    fn constant(&self, name: &[u8]) -> Option<u32>;

    /// Sets a balance directly, outside any transaction: a starting state.
    fn seed_balance(&mut self, account_id: u64, balance: i64);

    /// Sets a flag lane directly, outside any transaction (nothing where
    /// the profile has no flags).
    fn seed_flag(&mut self, account_id: u64, lane: u8, value: u8);

    /// Sets a KV value directly, outside any transaction (nothing where the
    /// profile has no KV).
    fn seed_kv(&mut self, key: [u32; 4], value: i64);

    /// A copy of the state, to start again from with
    /// [`set_state`](Engine::set_state).
    fn state(&self) -> Self::State;

    /// Starts again from a copy of the state, outside any transaction
    /// (functions and their instances stay, as on a server).
    fn set_state(&mut self, state: &Self::State);

    /// The committed records of a transaction in their text form
    /// (`kv counter/1/0/0 = 1`), constants by name: what scenarios compare.
    fn record_texts(&self, transaction: &Self::Transaction) -> Vec<String>;

    /// What the transaction did that a server accepts but that hurts the
    /// author (none where the profile detects none).
    fn hazards(transaction: &Self::Transaction) -> ledger_abi::v2::Hazards;

    /// The ledger state a committed transaction wrote besides balances:
    /// what coverage reports of the ledger (nothing where the profile has
    /// no such state).
    fn writes(&self, transaction: &Self::Transaction) -> Writes;

    /// The configuration.
    fn config(&self) -> &LedgerConfig {
        &self.base().config
    }

    /// A handle that interrupts running calls from another thread, for a
    /// server that shuts down while a call runs.
    fn interrupter(&self) -> Interrupter {
        self.base().functions.runtime.interrupter()
    }

    /// A handle that compiles binaries for this ledger on any thread, so
    /// that a server compiles with no lock held on the ledger.
    fn compiler(&self) -> Compiler<Self::Host> {
        Compiler(self.base().functions.runtime.clone())
    }

    /// Refuses a registration under a live name without compiling anything,
    /// when the server would refuse it for the name (it checks the name's
    /// rules, then the binary, then whether the name is taken, so a binary
    /// it refuses still gets its own error from the compilation).
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`] or [`RegistryError::AlreadyExists`].
    fn refuse_taken_name(&self, name: &str, binary: &[u8], if_registered: IfRegistered) -> Result<(), RegistryError> {
        self.base().functions.refuse_taken_name(name, binary, if_registered)
    }

    /// The registration checks of a compiled binary, changing nothing: the
    /// name's rules, whether it is taken, the version it will get.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message.
    fn prepare_compiled(
        &self,
        name: &str,
        compiled: CompiledFunction<Self::Host>,
        if_registered: IfRegistered,
    ) -> Result<PreparedFunction<Self::Host>, RegistryError> {
        let CompiledFunction { crc32c, loaded } = compiled;
        Ok(PreparedFunction(self.base().functions.prepare_compiled(name, crc32c, loaded, if_registered)?))
    }

    /// Every check and the compilation of a registration, changing nothing:
    /// the name first, then the binary, then whether the name is taken.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message.
    fn prepare_function(
        &self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<PreparedFunction<Self::Host>, RegistryError> {
        Ok(PreparedFunction(self.base().functions.prepare(name, binary, if_registered)?))
    }

    /// The version an unregister of `name` would get, changing nothing.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] when no function is live under the name.
    fn check_unregister(&self, name: &str) -> Result<u32, RegistryError> {
        self.base().functions.check_unregister(name)
    }

    /// The live functions, sorted by name.
    fn list_functions(&self) -> Vec<FunctionInfo> {
        self.base().functions.list()
    }

    /// `true` when `name` was unregistered (registering it again gives a
    /// version a server numbers differently: see docs/differences.md).
    fn was_unregistered(&self, name: &str) -> bool {
        self.base().functions.was_unregistered(name)
    }

    /// The id the next transaction will get.
    fn next_tx_id(&self) -> u64 {
        self.base().next_tx_id
    }

    /// A processed transaction, if the history keeps it (see
    /// [`LedgerConfig::keep_history`] and [`LedgerConfig::max_history`]).
    fn transaction(&self, tx_id: u64) -> Option<&Self::Transaction> {
        self.base().history.get(tx_id)
    }

    /// What each binary registered on a ledger with
    /// [`LedgerConfig::probe`] recorded so far, in the order they were first
    /// compiled (a binary that could not be instrumented: why); empty on a
    /// ledger that does not probe.
    fn probes(&self) -> Vec<Result<crate::probe::Recording, crate::probe::ProbeError>> {
        self.base().functions.runtime.recordings()
    }

    /// How many basic blocks of the probed binaries ran since the last
    /// [`new_reach`](Engine::new_reach) (since the ledger was made, before
    /// the first): a fuzzer keeps the inputs that make it grow. Always 0 on
    /// a ledger that does not probe.
    fn reached_blocks(&self) -> u64 {
        self.base().functions.runtime.reached()
    }

    /// Starts counting [`reached_blocks`](Engine::reached_blocks) from 0.
    fn new_reach(&self) {
        self.base().functions.runtime.new_reach();
    }

    /// Bytes the cached instances hold in linear memories and tables, at
    /// most [`Limits::max_cached_bytes`].
    fn cached_instance_bytes(&self) -> usize {
        self.base().functions.held_bytes()
    }

    /// Registers a function: [`refuse_taken_name`](Engine::refuse_taken_name),
    /// the compilation, [`prepare_compiled`](Engine::prepare_compiled) and
    /// [`install`](Engine::install), on this thread, without a log.
    ///
    /// # Errors
    ///
    /// [`RegistryError`], with the server's code and message.
    fn register(
        &mut self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<Registered, RegistryError> {
        let prepared = self.prepare_function(name, binary, if_registered)?;
        self.install(prepared).outcome
    }
}

/// What every engine keeps beside its profile's state: the configuration,
/// the functions, the next transaction id, the dedup window and the
/// history. Reached through [`Engine::base`], so that what it answers is
/// written once, in [`Engine`]'s provided methods.
#[doc(hidden)]
pub struct Base<H: Host, T> {
    pub(crate) config: LedgerConfig,
    pub(crate) functions: Functions<H>,
    pub(crate) next_tx_id: u64,
    pub(crate) dedup: DedupWindow,
    pub(crate) history: History<T>,
}

impl<H: Host, T: Clone> Base<H, T> {
    pub(crate) fn new(config: LedgerConfig) -> Result<Base<H, T>, SetupError> {
        Ok(Base {
            functions: Functions::new(config.limits, config.probe)?,
            history: History::new(&config),
            config,
            next_tx_id: 1,
            dedup: DedupWindow::default(),
        })
    }

    /// Takes the next transaction id.
    pub(crate) fn take_tx_id(&mut self) -> u64 {
        let tx_id = self.next_tx_id;
        self.next_tx_id += 1;
        tx_id
    }

    /// The transaction that used `user_ref` first, within the window.
    pub(crate) fn original(&mut self, user_ref: u64, tx_id: u64) -> Option<u64> {
        self.dedup.original(user_ref, tx_id, self.config.dedup_window)
    }

    /// Remembers that `tx_id` used `user_ref`.
    pub(crate) fn remember(&mut self, user_ref: u64, tx_id: u64) {
        self.dedup.insert(user_ref, tx_id, self.config.dedup_window);
    }
}

/// Work done with the engine of a profile: [`for_profile`] calls
/// [`run`](ForEngine::run) with the engine that runs it.
pub trait ForEngine {
    /// What the work gives.
    type Output;

    /// Does the work with engine `E`.
    fn run<E: Engine>(self) -> Self::Output;
}

/// Does `work` with the engine of `profile`: the one place a profile
/// becomes an engine (a profile added to the table without one here does
/// not compile).
///
/// ```
/// use ledger_core::{Engine, ForEngine, for_profile, abi};
///
/// struct Name;
/// impl ForEngine for Name {
///     type Output = &'static str;
///     fn run<E: Engine>(self) -> &'static str {
///         E::PROFILE.name
///     }
/// }
/// assert_eq!(for_profile(&abi::V2, Name), "v2");
/// ```
pub fn for_profile<W: ForEngine>(profile: &Profile, work: W) -> W::Output {
    match profile.id {
        ProfileId::V1 => work.run::<crate::v1::Ledger>(),
        ProfileId::V2 => work.run::<crate::v2::Ledger>(),
    }
}

/// Defines a profile's operation enum: the operations every profile
/// sequences, written once here, then the profile's own (each with a
/// `user_ref`), and `user_ref()`.
macro_rules! operations {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)? } ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
        pub enum $name {
            /// Adds `amount` to `account` (its balance rises), taken from the
            /// system account 0. v2: the account must be OPEN, else status 2.
            Deposit {
                /// The account.
                account: u64,
                /// The amount.
                amount: u64,
                /// Deduplication key; 0 never deduplicates.
                user_ref: u64,
            },
            /// Takes `amount` from `account` into the system account; status 1
            /// if its balance is lower. v2: the account must be OPEN.
            Withdrawal {
                /// The account.
                account: u64,
                /// The amount.
                amount: u64,
                /// Deduplication key; 0 never deduplicates.
                user_ref: u64,
            },
            /// Moves `amount` from `from` to `to`; status 1 if `from` has less;
            /// `from == to` is a no-op that commits. v2: both must be OPEN.
            Transfer {
                /// Source account.
                from: u64,
                /// Destination account.
                to: u64,
                /// The amount.
                amount: u64,
                /// Deduplication key; 0 never deduplicates.
                user_ref: u64,
            },
            /// Calls a registered function.
            Function {
                /// Registered name.
                name: String,
                /// Up to 8 parameters; fewer are zero-padded, more are
                /// dropped (as a server does).
                params: Vec<i64>,
                /// Deduplication key; 0 never deduplicates.
                user_ref: u64,
            },
            $( $(#[$vmeta])* $variant { $( $(#[$fmeta])* $field: $ty ),* }, )*
        }

        impl $name {
            /// The operation's deduplication key.
            pub fn user_ref(&self) -> u64 {
                match self {
                    $name::Deposit { user_ref, .. }
                    | $name::Withdrawal { user_ref, .. }
                    | $name::Transfer { user_ref, .. }
                    | $name::Function { user_ref, .. }
                    $( | $name::$variant { user_ref, .. } )* => *user_ref,
                }
            }
        }

        impl $crate::engine::AnyOperation for $name {
            fn user_ref(&self) -> u64 {
                $name::user_ref(self)
            }

            fn called(&self) -> Option<&str> {
                match self {
                    $name::Function { name, .. } => Some(name),
                    _ => None,
                }
            }

            fn called_mut(&mut self) -> Option<&mut String> {
                match self {
                    $name::Function { name, .. } => Some(name),
                    _ => None,
                }
            }

            fn params_mut(&mut self) -> Option<&mut Vec<i64>> {
                match self {
                    $name::Function { params, .. } => Some(params),
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use operations;

/// The latest transactions, oldest first, as [`LedgerConfig::keep_history`]
/// and [`LedgerConfig::max_history`] say; their ids are contiguous. With
/// no history, the latest transaction still lives here, in one slot whose
/// buffers the next transaction reuses: a committed call then allocates
/// nothing.
#[derive(Debug)]
pub(crate) struct History<T> {
    transactions: std::collections::VecDeque<T>,
    /// The id of the oldest transaction kept.
    oldest: u64,
    /// How many it keeps; 0 keeps none.
    capacity: usize,
    /// Without a history: the latest transaction.
    latest: Option<T>,
}

impl<T> History<T> {
    pub(crate) fn new(config: &LedgerConfig) -> History<T> {
        let capacity = if config.keep_history { config.max_history } else { 0 };
        History { transactions: std::collections::VecDeque::new(), oldest: 0, capacity, latest: None }
    }

    /// Keeps transaction `tx_id` (the one after the last kept), moved in,
    /// and hands it back.
    pub(crate) fn record(&mut self, tx_id: u64, transaction: T) -> &T {
        if self.capacity == 0 {
            return self.latest.insert(transaction);
        }
        if self.transactions.len() == self.capacity {
            self.transactions.pop_front();
        }
        self.transactions.push_back(transaction);
        self.oldest = tx_id + 1 - self.transactions.len() as u64;
        self.transactions.back().expect("pushed above")
    }

    /// The slot transaction `tx_id` (the one after the last kept) is
    /// written into, in place: the latest's with no history, else a new
    /// one at the end (the oldest's when the history is full). It holds an
    /// earlier transaction, or `fresh()`; the caller writes every field in
    /// place, refilling its buffers and its call report, so a transaction
    /// allocates nothing once they have grown.
    pub(crate) fn slot(&mut self, tx_id: u64, fresh: impl FnOnce() -> T) -> &mut T {
        if self.capacity == 0 {
            return self.latest.get_or_insert_with(fresh);
        }
        let reused = match self.transactions.len() == self.capacity {
            true => self.transactions.pop_front(),
            false => None,
        };
        self.transactions.push_back(reused.unwrap_or_else(fresh));
        self.oldest = tx_id + 1 - self.transactions.len() as u64;
        self.transactions.back_mut().expect("pushed above")
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
