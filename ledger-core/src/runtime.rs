//! Executing function binaries under wasmtime, bounded and classified.
//!
//! One [`Engine`] from an explicit [`Config`]; one [`Linker`] built once from
//! the ABI table; each module compiled once at registration and instantiated
//! once per `(name, crc)`, like a server (so instance state persists between
//! calls there and here). Every call runs under a fuel budget and a memory
//! limit, and its result is classified by downcasting, never by message text.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use wasmtime::{Caller, Config, Engine, InstancePre, Linker, Module, ResourceLimiter, Store, Trap, TypedFunc};

use ledger_abi::Accounts;

use std::sync::Arc;

use crate::abi;
use crate::probe::{Hook, Probe, ProbeError, Recorder, Recording};

/// The ledger state host imports act on, one per ABI profile: v1's
/// [`Accounts`], v2's [`ledger_abi::v2::State`]. Public only so that the
/// [`Engine`](crate::Engine) trait can name it; the module is private, so
/// no other crate can name or implement it.
pub trait Host: Sized + Send + 'static {
    /// The profile whose imports [`link`](Host::link) defines.
    const PROFILE: &'static abi::Profile;
    /// Defines every host import of the profile.
    fn link(linker: &mut Linker<StoreData<Self>>) -> wasmtime::Result<()>;
    /// A throwaway state for a module's `start` function, shaped like this
    /// one: a server runs `start` on its live ledger, outside any
    /// transaction; here its effects are counted and dropped.
    fn scratch(&self) -> Self;
    /// What a call records: v1's [`ledger_abi::Entry`], v2's
    /// [`ledger_abi::v2::Record`].
    type Record: Clone + PartialEq;
    /// The transaction's records so far.
    fn written(&self) -> &[Self::Record];
    /// What [`rewind`](Host::rewind) needs to undo a trial call.
    type Checkpoint;
    /// Marks the state before a trial call (the carried-state check).
    fn checkpoint(&mut self) -> Self::Checkpoint;
    /// Undoes everything since `checkpoint`.
    fn rewind(&mut self, checkpoint: Self::Checkpoint);
    /// Fails the transaction in progress with `status`.
    fn fail(&mut self, status: crate::Status);
    /// Records how the guest's call ended, the profile's way.
    fn end_call(&mut self, outcome: &CallOutcome);
    /// Whether a credit or debit had an amount of 2^63 or more.
    fn wrapped_amount(&self) -> bool;
}

impl Host for Accounts {
    const PROFILE: &'static abi::Profile = &abi::V1;

    fn link(linker: &mut Linker<StoreData<Self>>) -> wasmtime::Result<()> {
        macro_rules! link_v1 {
            (module = $module:literal; $( #[doc = $doc:literal] fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
                $(
                    linker.func_wrap($module, stringify!($name), |mut caller: Caller<'_, StoreData<Accounts>>, $($p: $t),*| $(-> $r)? {
                        caller.data_mut().host.$name($($p),*)
                    })?;
                )*
            };
        }
        // One host function per import of the v1 table, each calling the
        // `Accounts` method of the same name: an import added to the table
        // without its semantics does not compile.
        abi::v1_host_imports!(link_v1);
        Ok(())
    }

    fn scratch(&self) -> Self {
        Accounts::new(self.max_accounts())
    }

    type Record = ledger_abi::Entry;

    fn written(&self) -> &[ledger_abi::Entry] {
        self.entries()
    }

    type Checkpoint = ();

    fn checkpoint(&mut self) {
        self.start_journal();
    }

    fn rewind(&mut self, (): ()) {
        self.restore_journal();
    }

    fn fail(&mut self, status: crate::Status) {
        Accounts::fail(self, status);
    }

    fn end_call(&mut self, outcome: &CallOutcome) {
        Accounts::end_call(self, outcome.status());
    }

    fn wrapped_amount(&self) -> bool {
        Accounts::wrapped_amount(self)
    }
}

/// Default fuel per call: about ten million WebAssembly instructions. The
/// seed's fee transfer needs under a hundred.
pub const DEFAULT_FUEL_PER_CALL: u64 = 10_000_000;

/// Default limit on what one instance may hold in linear memories and
/// tables together: 64 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 << 20;

/// Default limit on what all cached instances of a ledger hold together:
/// 512 MiB, which a laptop survives.
pub const DEFAULT_MAX_CACHED_BYTES: usize = 512 << 20;

/// Default limit on the native stack a call may use: 512 KiB.
pub const DEFAULT_MAX_STACK_BYTES: usize = 512 << 10;

/// Bounds on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call; running out is [`CallOutcome::OutOfFuel`]. A server has
    /// no such limit: a function that runs out here would freeze it.
    pub fuel_per_call: u64,
    /// Most bytes one instance may hold in all its linear memories and
    /// tables together (a module may declare up to 100 memories); growing
    /// past it is [`CallOutcome::MemoryLimit`]. A server has no such limit.
    pub max_memory_bytes: usize,
    /// Most bytes all cached instances may hold together. A new instance
    /// that would go over it first drops the least recently used ones (they
    /// are re-created, with fresh state, on their next call); growth that
    /// still does not fit is [`CallOutcome::MemoryLimit`].
    pub max_cached_bytes: usize,
    /// Native stack a call may use; deep recursion traps with
    /// [`TrapCode::StackOverflow`].
    pub max_stack_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_call: DEFAULT_FUEL_PER_CALL,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_cached_bytes: DEFAULT_MAX_CACHED_BYTES,
            max_stack_bytes: DEFAULT_MAX_STACK_BYTES,
        }
    }
}

/// Why wasm execution stopped abnormally.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` was executed (a Rust panic with `panic = "abort"`).
    Unreachable,
    /// A load or store outside linear memory.
    MemoryOutOfBounds,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Signed division overflow (`i64::MIN / -1`).
    IntegerOverflow,
    /// A float that does not fit the integer it was converted to.
    BadConversionToInteger,
    /// Recursion deeper than [`Limits::max_stack_bytes`].
    StackOverflow,
    /// An indirect call through a null or out-of-range table slot.
    IndirectCall,
    /// An indirect call with the wrong signature.
    BadSignature,
    /// Stopped from outside by an [`Interrupter`] (a server shutting down).
    Interrupted,
    /// A host import stopped the call (v2: a constant verb in the wrong
    /// phase, an unknown or too long constant name, a module with no
    /// `memory` to read a name from). Boxed: every call's report carries a
    /// `TrapCode`'s room, and a larger one costs the fee transfer a copy.
    Host(Box<HostImportTrap>),
    /// Any other trap, by wasmtime's description.
    Other(String),
}

impl std::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrapCode::Unreachable => "`unreachable` executed (a panic or abort in the function)",
            TrapCode::MemoryOutOfBounds => "out-of-bounds memory access",
            TrapCode::IntegerDivisionByZero => "integer division by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid float to integer conversion",
            TrapCode::StackOverflow => "stack overflow",
            TrapCode::IndirectCall => "indirect call to a null or out-of-range table element",
            TrapCode::BadSignature => "indirect call with a mismatched signature",
            TrapCode::Interrupted => "interrupted from outside (the server is shutting down)",
            TrapCode::Host(trap) => return trap.fmt(f),
            TrapCode::Other(text) => text,
        })
    }
}

/// What happened when the ledger tried to run a function. The ledger status
/// of everything but [`CallOutcome::Returned`] is 5 INVALID_OPERATION, as on
/// a server; this keeps the real cause.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallOutcome {
    /// `execute` returned this raw value; the status is its low byte.
    Returned(i32),
    /// Execution trapped.
    Trapped(TrapCode),
    /// The fuel budget ran out: on a server, which has no budget, this call
    /// would never return and would block every later transaction.
    OutOfFuel,
    /// Linear memory would have grown past [`Limits::max_memory_bytes`].
    MemoryLimit {
        /// Bytes the module asked for.
        requested_bytes: usize,
        /// The limit.
        limit_bytes: usize,
    },
    /// The module could not be linked or instantiated (an import the ledger
    /// does not provide, a wrong import signature, an initial memory over
    /// the limit).
    InstantiationFailed(String),
    /// The module's `start` function, run when the module is instantiated,
    /// did not finish: it trapped, ran out of fuel (on a server, which has
    /// no limit, it would never finish) or grew memory past the limit.
    StartFailed(Box<CallOutcome>),
    /// No function is registered under the name.
    UnknownFunction,
}

impl CallOutcome {
    /// The ledger status a server derives from this outcome.
    pub fn status(&self) -> crate::Status {
        match self {
            CallOutcome::Returned(ret) => crate::Status::from_execute_return(*ret),
            _ => crate::Status::INVALID_OPERATION,
        }
    }
}

impl std::fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallOutcome::Returned(ret) => write!(f, "returned {ret}"),
            CallOutcome::Trapped(code) => write!(f, "trapped: {code}"),
            CallOutcome::OutOfFuel => {
                f.write_str("ran out of fuel (on a server, which has no limit, it would never return)")
            }
            CallOutcome::MemoryLimit { requested_bytes, limit_bytes } => {
                write!(f, "asked for {requested_bytes} bytes of memory, over the limit of {limit_bytes}")
            }
            CallOutcome::InstantiationFailed(why) => write!(f, "could not be instantiated: {why}"),
            CallOutcome::StartFailed(outcome) => write!(f, "could not be instantiated: its `start` function {outcome}"),
            CallOutcome::UnknownFunction => f.write_str("no function is registered under that name"),
        }
    }
}

/// The error a memory limit raises, recognised again by downcasting.
#[derive(Debug, thiserror::Error)]
#[error("memory limit exceeded: {requested_bytes} > {limit_bytes} bytes")]
struct MemoryLimitExceeded {
    requested_bytes: usize,
    limit_bytes: usize,
}

/// A host import that stopped the call, and why: the error the import
/// traps with (recognised again by downcasting) and [`TrapCode::Host`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host import `{import}` stopped the call: {reason}")]
pub struct HostImportTrap {
    /// The import.
    pub import: &'static str,
    /// What it found, and the status it set.
    pub reason: String,
}

/// Bytes held by every live instance of a runtime, shared by their stores.
type Pool = std::sync::Arc<std::sync::atomic::AtomicUsize>;

/// What a [`Store`] carries: the ledger state the host calls act on, and
/// the memory accounting. (Public only as a part of [`Host`], which is
/// sealed: outside this crate neither can be named.)
pub struct StoreData<H> {
    /// Boxed: a call moves the ledger's state in and out of the store,
    /// and a pointer moves in one word where the state takes 14.
    pub(crate) host: Box<H>,
    /// The instance's exported memory its profile's name-reading imports
    /// read, once instantiated (looked up once, not on every call).
    pub(crate) memory: Option<wasmtime::Memory>,
    /// Where the instance's calls are in its binary's recording, when the
    /// ledger probes (see [`crate::probe`]); `None` for the fresh instances
    /// of the carried-state check, whose runs are not the ledger's.
    probe: Option<Recorder>,
    /// Fuel held above the budget: [`HEADROOM`](crate::probe::HEADROOM)
    /// when the runtime probes, else 0.
    headroom: u64,
    limits: Limits,
    /// Bytes this instance holds in memories and tables.
    held: usize,
    /// Bytes all live instances hold, this one included.
    pool: Pool,
}

impl<H> StoreData<H> {
    /// The fuel a call starts with.
    pub(crate) fn fuel_budget(&self) -> u64 {
        self.limits.fuel_per_call
    }

    /// Accounts for `current -> desired` bytes of one memory or table:
    /// within this instance's limit and the runtime's shared budget.
    fn grow(&mut self, current: usize, desired: usize) -> Result<(), MemoryLimitExceeded> {
        let extra = desired.saturating_sub(current);
        let held = self.held.saturating_add(extra);
        if held > self.limits.max_memory_bytes {
            return Err(MemoryLimitExceeded { requested_bytes: held, limit_bytes: self.limits.max_memory_bytes });
        }
        let budget = self.limits.max_cached_bytes;
        let reserved =
            self.pool.fetch_update(SeqCst, SeqCst, |pool| pool.checked_add(extra).filter(|total| *total <= budget));
        match reserved {
            Ok(_) => {
                self.held = held;
                Ok(())
            }
            Err(pool) => Err(MemoryLimitExceeded { requested_bytes: pool.saturating_add(extra), limit_bytes: budget }),
        }
    }
}

impl<H> Drop for StoreData<H> {
    fn drop(&mut self) {
        self.pool.fetch_sub(self.held, SeqCst);
    }
}

impl<H: Send> ResourceLimiter for StoreData<H> {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.grow(current, desired)?;
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        // Count a table element as a pointer.
        let bytes = |elements: usize| elements.saturating_mul(std::mem::size_of::<usize>());
        self.grow(bytes(current), bytes(desired))?;
        Ok(true)
    }
}

type Params = (i64, i64, i64, i64, i64, i64, i64, i64);

/// The engine, the linker and the limits: built once per ledger.
pub(crate) struct Runtime<H: 'static> {
    engine: Engine,
    linker: Linker<StoreData<H>>,
    limits: Limits,
    /// Recently compiled modules by CRC32C, with their bytes to rule out a
    /// collision: registering the same binary again (an override, or under
    /// another name) does not compile it again.
    modules: std::sync::Mutex<std::collections::VecDeque<(u32, Vec<u8>, Compiled)>>,
    /// Bytes held by every live instance.
    pool: Pool,
    /// Whether modules run as their instrumented copies, and the
    /// recording of every binary compiled so (see [`crate::probe`]).
    probe: bool,
    recordings: std::sync::Mutex<Vec<Result<Arc<Probe>, ProbeError>>>,
    /// Instances created for functions to keep (not the fresh ones of the
    /// carried-state check): a server's store refuses any past
    /// [`ProfileLimits::max_instances`](crate::abi::ProfileLimits::max_instances).
    instances: std::sync::atomic::AtomicUsize,
    /// How many times an [`Interrupter`] has interrupted: an instance
    /// re-arms its epoch deadline only when this moved since it last did.
    interrupts: Arc<AtomicU64>,
}

/// Compiled modules kept for reuse.
const MODULE_CACHE: usize = 32;

/// A WebAssembly page.
const WASM_PAGE_BYTES: usize = 64 << 10;

/// A compiled module, and its recording when the runtime probes.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) module: Module,
    probe: Option<Arc<Probe>>,
}

impl<H: Host> Runtime<H> {
    pub(crate) fn new(limits: Limits, probe: bool) -> wasmtime::Result<Runtime<H>> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .cranelift_nan_canonicalization(true)
            .max_wasm_stack(limits.max_stack_bytes);
        // Exactly the proposals a server's wasmtime 26 accepts by default
        // (`abi::SERVER_FEATURES`); threads, GC and function references are
        // not compiled in.
        config
            .wasm_multi_memory(true)
            .wasm_relaxed_simd(true)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_memory64(false)
            .wasm_wide_arithmetic(false)
            .wasm_custom_page_sizes(false);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        H::link(&mut linker)?;
        if probe {
            link_hooks(&mut linker)?;
        }
        Ok(Runtime {
            engine,
            linker,
            limits,
            modules: Default::default(),
            pool: Pool::default(),
            probe,
            recordings: Default::default(),
            instances: Default::default(),
            interrupts: Default::default(),
        })
    }

    /// Compiles a module, or reuses the one compiled from the same bytes;
    /// the error is wasmtime's, for the registry to map. A probing runtime
    /// compiles the instrumented copy (the original when it cannot be
    /// instrumented: the recording says why).
    pub(crate) fn compile(&self, bytes: &[u8]) -> wasmtime::Result<Compiled> {
        let crc = crate::crc32c(bytes);
        let mut cache = self.modules.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, compiled)) = cache.iter().find(|(c, b, _)| *c == crc && b.as_slice() == bytes) {
            return Ok(compiled.clone());
        }
        // The original first: what a server refuses is refused in its words.
        let original = Module::new(&self.engine, bytes)?;
        let compiled = match self.probe.then(|| crate::probe::instrument(bytes)) {
            None => Compiled { module: original, probe: None },
            Some(Ok((copy, map))) => {
                let probe = self.recording_of(crc, || Ok(Probe::new(crc, map))).ok();
                Compiled { module: Module::new(&self.engine, copy)?, probe }
            }
            Some(Err(error)) => {
                let _ = self.recording_of(crc, || Err(error.for_binary(crc)));
                Compiled { module: original, probe: None }
            }
        };
        if cache.len() == MODULE_CACHE {
            cache.pop_front();
        }
        cache.push_back((crc, bytes.to_vec(), compiled.clone()));
        Ok(compiled)
    }

    /// The recording of binary `crc`: the one kept since it was first
    /// compiled (a binary dropped from the module cache and compiled again
    /// goes on recording into it), else `made`, kept.
    fn recording_of(
        &self,
        crc: u32,
        made: impl FnOnce() -> Result<Arc<Probe>, ProbeError>,
    ) -> Result<Arc<Probe>, ProbeError> {
        let mut recordings = self.recordings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let crc_of = |entry: &Result<Arc<Probe>, ProbeError>| match entry {
            Ok(probe) => probe.crc32c(),
            Err(error) => error.crc32c,
        };
        if let Some(kept) = recordings.iter().find(|entry| crc_of(entry) == crc) {
            return kept.clone();
        }
        let made = made();
        recordings.push(made.clone());
        made
    }

    /// How many blocks of the probed binaries ran since
    /// [`new_reach`](Runtime::new_reach).
    pub(crate) fn reached(&self) -> u64 {
        // A fuzzer asks before and after every case: no lock unless probing.
        if !self.probe {
            return 0;
        }
        let recordings = self.recordings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        recordings.iter().flatten().map(|probe| probe.reached()).sum()
    }

    /// Starts counting the blocks that run anew, in every probed binary.
    pub(crate) fn new_reach(&self) {
        if !self.probe {
            return;
        }
        let recordings = self.recordings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        recordings.iter().flatten().for_each(|probe| probe.new_reach());
    }

    /// What every binary compiled since the runtime was made recorded, in
    /// the order they were first compiled; empty unless it probes.
    pub(crate) fn recordings(&self) -> Vec<Result<Recording, ProbeError>> {
        let recordings = self.recordings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        recordings.iter().map(|entry| entry.as_ref().map(|probe| probe.recording()).map_err(Clone::clone)).collect()
    }

    /// How many compiled modules the cache holds.
    #[cfg(test)]
    pub(crate) fn compiled_modules(&self) -> usize {
        self.modules.lock().map_or(0, |cache| cache.len())
    }

    /// Links a compiled module. Linking problems are kept, not returned: like
    /// a server, the ledger registers such a module and fails its calls.
    pub(crate) fn load(&self, Compiled { module, probe }: Compiled) -> LoadedFunction<H> {
        let resources = module.resources_required();
        let memories = (resources.num_memories as usize)
            .saturating_mul(resources.max_initial_memory_size.unwrap_or(0) as usize)
            .saturating_mul(WASM_PAGE_BYTES);
        let tables = (resources.num_tables as usize)
            .saturating_mul(resources.max_initial_table_size.unwrap_or(0) as usize)
            .saturating_mul(std::mem::size_of::<usize>());
        let pre = self.linker.instantiate_pre(&module).map_err(|e| format!("{e:#}"));
        LoadedFunction { pre, initial_bytes: memories.saturating_add(tables), probe, cached: None, last_used: 0 }
    }

    /// A function whose binary is not here: registered with its CRC, every
    /// call fails with status 5 and `reason` (a fork of a ledger whose
    /// binaries were not all found).
    pub(crate) fn missing(&self, reason: String) -> LoadedFunction<H> {
        LoadedFunction { pre: Err(reason), initial_bytes: 0, probe: None, cached: None, last_used: 0 }
    }

    fn store(&self, host: Box<H>) -> Store<StoreData<H>> {
        let headroom = if self.probe { crate::probe::HEADROOM } else { 0 };
        let data = StoreData {
            host,
            memory: None,
            probe: None,
            headroom,
            limits: self.limits,
            held: 0,
            pool: self.pool.clone(),
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| data);
        // Any epoch increment from now on interrupts (see `Interrupter`).
        store.set_epoch_deadline(1);
        store
    }

    pub(crate) fn interrupter(&self) -> Interrupter {
        Interrupter { engine: self.engine.clone(), interrupts: self.interrupts.clone() }
    }

    /// Bytes all live instances hold in memories and tables.
    pub(crate) fn held_bytes(&self) -> usize {
        self.pool.load(SeqCst)
    }

    /// The limits every call runs under.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// Stops the calls running on a ledger from another thread: each traps with
/// [`TrapCode::Interrupted`] at its next loop iteration or function entry
/// (status 5, like any trap). Calls that start afterwards are not affected.
#[derive(Clone)]
pub struct Interrupter {
    engine: Engine,
    interrupts: Arc<AtomicU64>,
}

impl Interrupter {
    /// Interrupts every call running now.
    pub fn interrupt(&self) {
        // Counted first: a call that sees the count re-arms its deadline
        // past the epoch, and one that does not has already started.
        self.interrupts.fetch_add(1, SeqCst);
        self.engine.increment_epoch();
    }
}

impl std::fmt::Debug for Interrupter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interrupter")
    }
}

/// A live instance and its typed exports.
struct Instance<H: 'static> {
    store: Store<StoreData<H>>,
    execute: TypedFunc<Params, i32>,
    /// v2's optional `register` export, when it has the ABI's type.
    register: Option<TypedFunc<(), ()>>,
    /// The runtime's interrupt count when the store's epoch deadline was
    /// last armed (one epoch past the engine's).
    armed_at: u64,
}

/// A registered function's compiled module, its link result and its cached
/// instance.
pub(crate) struct LoadedFunction<H: 'static> {
    pre: Result<InstancePre<StoreData<H>>, String>,
    /// The most a new instance holds at first: every memory and table at
    /// its initial size.
    initial_bytes: usize,
    /// The binary's recording, when the runtime probes.
    probe: Option<Arc<Probe>>,
    cached: Option<Instance<H>>,
    /// When the cached instance last ran, by the ledger's clock.
    pub(crate) last_used: u64,
}

/// Where a new instance's `start` function writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartWrites {
    /// Into the transaction in progress: a v2 registration, whose
    /// transaction a server instantiates the module in (its moves commit
    /// or fail with it, observed on e14b146).
    Transaction,
    /// Into a scratch state that is dropped: an instance created for a
    /// call. A server makes those writes on its live ledger outside the
    /// transaction's rules (see `docs/differences.md`); the call's report
    /// counts them.
    Scratch,
}

/// What a call used besides how it ended (which is written in place): the
/// fuel, and the credits and debits a `start` function made when this call
/// instantiated the module. Two words, returned in registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Used {
    pub(crate) fuel: u64,
    pub(crate) start_moves: usize,
}

impl<H: Host> LoadedFunction<H> {
    /// Bytes a new instance would hold at first, when none is cached.
    pub(crate) fn bytes_to_instantiate(&self) -> usize {
        if self.cached.is_some() { 0 } else { self.initial_bytes }
    }

    /// Whether an instance is cached.
    pub(crate) fn is_cached(&self) -> bool {
        self.cached.is_some()
    }

    /// Drops the cached instance, freeing its memory; the next call creates
    /// a new one.
    pub(crate) fn evict(&mut self) {
        self.cached = None;
    }

    /// Calls `execute` on the cached instance (instantiating it on first use),
    /// as a server does: state left in the instance by earlier calls persists.
    /// How it ended is written into `outcome`, in place.
    #[inline(always)]
    pub(crate) fn call(
        &mut self,
        runtime: &Runtime<H>,
        tx: &mut Box<H>,
        params: &[i64],
        outcome: &mut CallOutcome,
    ) -> Used {
        let start_moves = match self.ensure_instance(runtime, tx, StartWrites::Scratch) {
            Ok(moves) => moves,
            Err(failed) => {
                *outcome = failed;
                return Used::default();
            }
        };
        let instance = self.cached.as_mut().expect("instantiated above");
        Used { fuel: instance.execute::<false>(runtime, tx, params, outcome), start_moves }
    }

    /// Runs v2's optional `register` export once, on the cached instance
    /// (which later calls reuse), as a server does at registration: how it
    /// ended and the fuel it used. `None` when there is no instance or the
    /// module exports no `register`.
    pub(crate) fn call_register(&mut self, runtime: &Runtime<H>, tx: &mut Box<H>) -> Option<(CallOutcome, u64)> {
        let mut outcome = CallOutcome::UnknownFunction;
        let fuel = self.cached.as_mut()?.register(runtime, tx, &mut outcome)?;
        Some((outcome, fuel))
    }

    /// Calls `execute` on a new instance that is dropped afterwards: what the
    /// seed promises every call gets.
    pub(crate) fn call_fresh(&self, runtime: &Runtime<H>, tx: &mut Box<H>, params: &[i64]) -> CallOutcome {
        match self.instantiate(runtime, tx, StartWrites::Scratch, false) {
            Ok((mut instance, _)) => {
                let mut outcome = CallOutcome::UnknownFunction;
                instance.execute::<true>(runtime, tx, params, &mut outcome);
                outcome
            }
            Err(outcome) => outcome,
        }
    }

    /// Instantiates the module unless an instance is cached; returns the
    /// writes a new instance's `start` made. The check is inlined into
    /// every call; the instantiation is kept off that path.
    #[inline]
    pub(crate) fn ensure_instance(
        &mut self,
        runtime: &Runtime<H>,
        tx: &mut Box<H>,
        start: StartWrites,
    ) -> Result<usize, CallOutcome> {
        match self.cached {
            Some(_) => Ok(0),
            None => self.create_instance(runtime, tx, start),
        }
    }

    /// [`ensure_instance`](LoadedFunction::ensure_instance) when there is
    /// no instance yet.
    #[cold]
    #[inline(never)]
    fn create_instance(
        &mut self,
        runtime: &Runtime<H>,
        tx: &mut Box<H>,
        start: StartWrites,
    ) -> Result<usize, CallOutcome> {
        let limit = H::PROFILE.limits.max_instances;
        if runtime.instances.load(SeqCst) >= limit {
            return Err(CallOutcome::InstantiationFailed(format!(
                "a server's store holds at most {limit} instances until it restarts (one per registration and override, old ones never freed), and this ledger has created them all: a server fails every call that needs a new instance with status 5; restart it (here: the dev server, or start a new ledger)"
            )));
        }
        let instantiated = self.instantiate(runtime, tx, start, true);
        if matches!(&instantiated, Ok(_) | Err(CallOutcome::StartFailed(_))) {
            runtime.instances.fetch_add(1, SeqCst);
        }
        let (instance, start_moves) = instantiated?;
        self.cached = Some(instance);
        Ok(start_moves)
    }

    /// Takes over `other`'s cached instance: a server keeps the instance of
    /// a binary whose CRC did not change (an override with the same bytes).
    pub(crate) fn adopt_instance(&mut self, other: &mut LoadedFunction<H>) {
        self.cached = other.cached.take();
    }

    /// A new instance, and the writes its `start` function made (see
    /// [`StartWrites`]). Its runs are recorded when `recorded` (not those
    /// of the carried-state check's fresh instances).
    fn instantiate(
        &self,
        runtime: &Runtime<H>,
        tx: &mut Box<H>,
        start: StartWrites,
        recorded: bool,
    ) -> Result<(Instance<H>, usize), CallOutcome> {
        let pre = self.pre.as_ref().map_err(|e| CallOutcome::InstantiationFailed(e.clone()))?;
        // Read before the store arms its deadline: an interrupt in between
        // then only makes the first call re-arm it.
        let armed_at = runtime.interrupts.load(SeqCst);
        let mut store = runtime.store(Box::new(tx.scratch()));
        // A `start` function runs here, under the same budget as a call.
        let fuel = runtime.limits.fuel_per_call;
        set_budget(&mut store, fuel).map_err(|e| CallOutcome::InstantiationFailed(format!("{e:#}")))?;
        if let Some(probe) = self.probe.as_ref().filter(|_| recorded) {
            let mut recorder = Recorder::new(probe.clone());
            recorder.begin(fuel);
            store.data_mut().probe = Some(recorder);
        }
        let in_transaction = matches!(start, StartWrites::Transaction);
        if in_transaction {
            std::mem::swap(&mut store.data_mut().host, tx);
        }
        let before = store.data().host.written().len();
        let instantiated = pre.instantiate(&mut store);
        let start_moves = store.data().host.written().len() - before;
        let left = budget_left(&store);
        if let Some(recorder) = store.data_mut().probe.as_mut() {
            recorder.end(left);
        }
        if in_transaction {
            std::mem::swap(&mut store.data_mut().host, tx);
        }
        let instance = instantiated.map_err(|e| match classify(e) {
            CallOutcome::MemoryLimit { requested_bytes, limit_bytes } if self.initial_bytes > limit_bytes => {
                CallOutcome::InstantiationFailed(format!(
                    "its initial memory of {requested_bytes} bytes is over the limit of {limit_bytes}"
                ))
            }
            outcome @ (CallOutcome::Trapped(_) | CallOutcome::OutOfFuel | CallOutcome::MemoryLimit { .. }) => {
                CallOutcome::StartFailed(Box::new(outcome))
            }
            other => other,
        })?;
        let execute = instance
            .get_typed_func::<Params, i32>(&mut store, abi::ENTRY_POINT.name)
            .map_err(|e| CallOutcome::InstantiationFailed(format!("{e:#}")))?;
        let register = H::PROFILE
            .optional_exports
            .iter()
            .find_map(|export| instance.get_typed_func::<(), ()>(&mut store, export.name).ok());
        store.data_mut().memory = H::PROFILE.memory_export.and_then(|name| instance.get_memory(&mut store, name));
        Ok((Instance { store, execute, register, armed_at }, start_moves))
    }
}

impl<H: Send + 'static> Instance<H> {
    /// Arms the epoch deadline one past the engine's epoch, so that only an
    /// interrupt from now on stops the call; it stays armed until an
    /// interrupt comes (a call checks the count, not the engine's epoch:
    /// wasmtime's `set_epoch_deadline` is a call into the library).
    #[inline(always)]
    fn arm(&mut self, runtime: &Runtime<H>) {
        let interrupts = runtime.interrupts.load(SeqCst);
        if interrupts != self.armed_at {
            self.store.set_epoch_deadline(1);
            self.armed_at = interrupts;
        }
    }

    /// Runs `execute` on `tx`, writing how it ended into `outcome`; returns
    /// the fuel it used. `FRESH` for the carried-state check's run on a new
    /// instance.
    ///
    /// The export is called right here, not through a closure (a closure
    /// cost the fee transfer about 50 instructions a call). A fresh run
    /// calls it untyped, a path of wasmtime's own: the typed call then has
    /// one caller, and the compiler inlines it into the submit path (26
    /// instructions fewer a fee transfer under callgrind, 30 a v2 counter).
    #[inline(always)]
    fn execute<const FRESH: bool>(
        &mut self,
        runtime: &Runtime<H>,
        tx: &mut Box<H>,
        params: &[i64],
        outcome: &mut CallOutcome,
    ) -> u64 {
        self.arm(runtime);
        let fuel = runtime.limits.fuel_per_call;
        let p = ledger_abi::param_slots(params);
        let params: Params = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
        let entered = enter(&mut self.store, fuel, tx);
        let result = entered.and_then(|()| match FRESH {
            false => self.execute.call(&mut self.store, params),
            true => call_untyped(&mut self.store, self.execute.func(), params),
        });
        leave(&mut self.store, fuel, tx, result, outcome)
    }

    /// Runs v2's `register` export, if the module has one, on `tx`, as
    /// [`execute`](Instance::execute) does.
    fn register(&mut self, runtime: &Runtime<H>, tx: &mut Box<H>, outcome: &mut CallOutcome) -> Option<u64> {
        self.arm(runtime);
        let fuel = runtime.limits.fuel_per_call;
        let register = self.register.as_ref()?;
        let entered = enter(&mut self.store, fuel, tx);
        let result = entered.and_then(|()| register.call(&mut self.store, ()).map(|()| 0));
        Some(leave(&mut self.store, fuel, tx, result, outcome))
    }
}

/// Calls `execute` with wasmtime's untyped call, a path of its own (see
/// [`Instance::execute`]).
fn call_untyped<H>(store: &mut Store<StoreData<H>>, execute: &wasmtime::Func, params: Params) -> wasmtime::Result<i32> {
    let (a, b, c, d, e, f, g, h) = params;
    let args = [a, b, c, d, e, f, g, h].map(wasmtime::Val::I64);
    let mut result = [wasmtime::Val::I32(0)];
    execute.call(store, &args, &mut result)?;
    // The export's type was checked when the instance was made.
    result[0].i32().ok_or_else(|| wasmtime::Error::msg("`execute` returned a value that is not an i32"))
}

/// Moves `tx` into the store (host calls then reach it with no
/// indirection) and sets a fresh fuel budget.
fn enter<H: Send + 'static>(store: &mut Store<StoreData<H>>, fuel: u64, tx: &mut Box<H>) -> wasmtime::Result<()> {
    std::mem::swap(&mut store.data_mut().host, tx);
    if let Some(recorder) = store.data_mut().probe.as_mut() {
        recorder.begin(fuel);
    }
    set_budget(store, fuel)
}

/// Gives the store `fuel` to use (and the probes' reserve above it).
fn set_budget<H>(store: &mut Store<StoreData<H>>, fuel: u64) -> wasmtime::Result<()> {
    let headroom = store.data().headroom;
    store.set_fuel(fuel.saturating_add(headroom))
}

/// The fuel left of the budget [`set_budget`] gave.
fn budget_left<H>(store: &Store<StoreData<H>>) -> u64 {
    store.get_fuel().unwrap_or(0).saturating_sub(store.data().headroom)
}

/// Moves `tx` back out of the store and writes how the export ended into
/// `outcome`; returns the fuel it used.
#[inline(always)]
fn leave<H: Send + 'static>(
    store: &mut Store<StoreData<H>>,
    fuel: u64,
    tx: &mut Box<H>,
    result: wasmtime::Result<i32>,
    outcome: &mut CallOutcome,
) -> u64 {
    let left = budget_left(store);
    if let Some(recorder) = store.data_mut().probe.as_mut() {
        recorder.end(left);
    }
    let fuel_used = fuel - left;
    std::mem::swap(&mut store.data_mut().host, tx);
    match (result, outcome) {
        // A return over an earlier one (a history slot's) writes one word,
        // with no drop of the earlier outcome (22 instructions fewer a fee
        // transfer under callgrind).
        (Ok(ret), CallOutcome::Returned(earlier)) => *earlier = ret,
        (Ok(ret), outcome) => *outcome = CallOutcome::Returned(ret),
        (Err(e), outcome) => *outcome = classify(e),
    }
    fuel_used
}

/// Defines the hooks an instrumented copy calls: each gives back the fuel
/// its call cost, then tells the instance's recorder.
fn link_hooks<H: Send + 'static>(linker: &mut Linker<StoreData<H>>) -> wasmtime::Result<()> {
    for hook in Hook::ALL {
        linker.func_wrap(
            crate::probe::HOOK_MODULE,
            hook.name(),
            move |mut caller: Caller<'_, StoreData<H>>, argument: i32| -> wasmtime::Result<()> {
                let fuel = caller.get_fuel()? + crate::probe::HOOK_FUEL;
                caller.set_fuel(fuel)?;
                // What the budget left (the reserve aside): where the
                // original checks, none left is out of fuel.
                let left = fuel.saturating_sub(caller.data().headroom);
                if let Some(recorder) = caller.data_mut().probe.as_mut() {
                    recorder.hook(hook, argument as u32, left);
                }
                if left == 0 && hook.checks_fuel() {
                    return Err(Trap::OutOfFuel.into());
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// Classifies a wasmtime error by its type.
fn classify(error: wasmtime::Error) -> CallOutcome {
    if let Some(limit) = error.downcast_ref::<MemoryLimitExceeded>() {
        return CallOutcome::MemoryLimit { requested_bytes: limit.requested_bytes, limit_bytes: limit.limit_bytes };
    }
    if let Some(trap) = error.downcast_ref::<HostImportTrap>() {
        return CallOutcome::Trapped(TrapCode::Host(Box::new(trap.clone())));
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallOutcome::OutOfFuel,
        Some(trap) => CallOutcome::Trapped(match trap {
            Trap::UnreachableCodeReached => TrapCode::Unreachable,
            Trap::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
            Trap::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
            Trap::IntegerOverflow => TrapCode::IntegerOverflow,
            Trap::BadConversionToInteger => TrapCode::BadConversionToInteger,
            Trap::StackOverflow => TrapCode::StackOverflow,
            Trap::IndirectCallToNull | Trap::TableOutOfBounds => TrapCode::IndirectCall,
            Trap::BadSignature => TrapCode::BadSignature,
            Trap::Interrupt => TrapCode::Interrupted,
            other => TrapCode::Other(other.to_string()),
        }),
        None => CallOutcome::InstantiationFailed(format!("{error:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_bytes_compile_once() {
        let runtime = Runtime::<Accounts>::new(Limits::default(), false).unwrap();
        let wasm = wat::parse_str(
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
        )
        .unwrap();
        let first = runtime.compile(&wasm).unwrap().module;
        let again = runtime.compile(&wasm).unwrap().module;
        assert!(Module::same(&first, &again), "reused");
        let other = wat::parse_str(
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 1))"#,
        )
        .unwrap();
        assert!(!Module::same(&first, &runtime.compile(&other).unwrap().module));
        for i in 0..MODULE_CACHE as i32 {
            let filler = wat::parse_str(format!(
                r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const {}))"#,
                i + 2
            ))
            .unwrap();
            runtime.compile(&filler).unwrap();
        }
        assert_eq!(runtime.modules.lock().unwrap().len(), MODULE_CACHE, "bounded");
        assert!(!Module::same(&first, &runtime.compile(&wasm).unwrap().module), "evicted, compiled again");
    }

    /// The linker offers exactly the profile's imports, with its signatures.
    fn assert_linker_matches<H: Host>(host: H) {
        let runtime = Runtime::<H>::new(Limits::default(), false).unwrap();
        let mut store = runtime.store(Box::new(host));
        let defined: Vec<_> = runtime.linker.iter(&mut store).collect();
        let profile = H::PROFILE;
        assert_eq!(defined.len(), profile.host_imports.len(), "{}", profile.name);
        for import in profile.host_imports {
            let (_, _, ext) = defined
                .iter()
                .find(|(module, name, _)| *module == profile.host_module && *name == import.name)
                .unwrap_or_else(|| panic!("{} linker lacks {}", profile.name, import.name));
            let ty = ext.clone().into_func().unwrap().ty(&store);
            let to_abi = |t: wasmtime::ValType| match t {
                wasmtime::ValType::I32 => abi::ValType::I32,
                wasmtime::ValType::I64 => abi::ValType::I64,
                other => panic!("unexpected {other}"),
            };
            let params: Vec<_> = ty.params().map(to_abi).collect();
            let results: Vec<_> = ty.results().map(to_abi).collect();
            assert_eq!(params, import.signature.params, "{} {}", profile.name, import.name);
            assert_eq!(results, import.signature.results, "{} {}", profile.name, import.name);
        }
    }

    #[test]
    fn each_linker_matches_its_abi_table() {
        assert_linker_matches(Accounts::default());
        assert_linker_matches(ledger_abi::v2::State::new());
    }
}
