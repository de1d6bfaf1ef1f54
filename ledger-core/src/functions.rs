//! The registered functions of one ledger, for either ABI profile: names,
//! versions and CRCs (the [`Registry`]), compiled modules and their cached
//! instances, with a server's checks and order.

use std::sync::Arc;

use crate::abi::{self, Profile};
use crate::crc32c;
use crate::engine::{CallReport, CarriedState, IfRegistered, SetupError};
use crate::registry::{BinaryError, FunctionInfo, Live, Prepared, Registered, Registry, RegistryError};
use crate::runtime::{CallOutcome, Host, Limits, LoadedFunction, Runtime, StartWrites};

/// A ledger's functions and the engine that runs them.
pub(crate) struct Functions<H: 'static> {
    /// Shared with compilers, which compile without borrowing the ledger.
    pub(crate) runtime: Arc<Runtime<H>>,
    registry: Registry<LoadedFunction<H>>,
    /// Counts calls, to find the least recently used instance.
    clock: u64,
}

impl<H: Host> Functions<H> {
    pub(crate) fn new(limits: Limits, probe: bool) -> Result<Functions<H>, SetupError> {
        let runtime = Runtime::new(limits, probe).map_err(|e| SetupError::Engine { detail: format!("{e:#}") })?;
        Ok(Functions { runtime: Arc::new(runtime), registry: Registry::default(), clock: 0 })
    }

    /// Every check of a registration and the compilation, changing nothing:
    /// the name first, then the binary, then whether the name is taken.
    pub(crate) fn prepare(
        &self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<Prepared<LoadedFunction<H>>, RegistryError> {
        self.refuse_taken_name(name, binary, if_registered)?;
        let override_existing = if_registered == IfRegistered::Override;
        self.registry.prepare(name, crc32c(binary), override_existing, || compile(&self.runtime, binary))
    }

    /// Refuses a registration under a live name without compiling anything,
    /// when the server would refuse it for the name: a binary the server
    /// refuses still gets its own error from the compilation that follows.
    pub(crate) fn refuse_taken_name(
        &self,
        name: &str,
        binary: &[u8],
        if_registered: IfRegistered,
    ) -> Result<(), RegistryError> {
        abi::validate_function_name(name)?;
        if if_registered == IfRegistered::Refuse
            && self.registry.is_live(name)
            && !abi::validate_for(binary, H::PROFILE).server_refuses()
        {
            return Err(RegistryError::AlreadyExists(name.to_owned()));
        }
        Ok(())
    }

    /// [`prepare`](Functions::prepare) for a binary compiled already.
    pub(crate) fn prepare_compiled(
        &self,
        name: &str,
        crc32c: u32,
        loaded: LoadedFunction<H>,
        if_registered: IfRegistered,
    ) -> Result<Prepared<LoadedFunction<H>>, RegistryError> {
        let override_existing = if_registered == IfRegistered::Override;
        self.registry.prepare(name, crc32c, override_existing, || Ok(loaded))
    }

    /// A registration of `function` whose binary is not here: every call
    /// of it fails with status 5, saying so.
    pub(crate) fn placeholder(&self, function: &FunctionInfo) -> Result<Prepared<LoadedFunction<H>>, RegistryError> {
        let reason = format!(
            "no binary with CRC32C {:08x} was given for `{}` version {}: the ledger this one was forked from runs it, this one cannot (give the binary to the fork)",
            function.crc32c, function.name, function.version
        );
        self.registry.prepare(&function.name, function.crc32c, true, || Ok(self.runtime.missing(reason)))
    }

    /// Installs a prepared function, handing back the one it replaces. The
    /// replaced one's instance carries over when the binary is the same: a
    /// server keeps an instance while its function's CRC is unchanged
    /// (observed: an override with the same bytes kept counting calls).
    pub(crate) fn install(
        &mut self,
        prepared: Prepared<LoadedFunction<H>>,
    ) -> (Registered, Option<Live<LoadedFunction<H>>>) {
        let name = prepared.name().to_owned();
        let (registered, mut previous) = self.registry.install(prepared);
        if let Some(previous) = previous.as_mut().filter(|previous| previous.crc32c == registered.crc32c)
            && let Some(live) = self.live_mut(&name)
        {
            live.payload.adopt_instance(&mut previous.payload);
        }
        (registered, previous)
    }

    /// Puts back what [`install`](Functions::install) replaced: a failed v2
    /// `register()` leaves the registry as it was, the version counter too.
    /// A server reloads the previous binary from disk, so it runs on a new
    /// instance, unless its CRC is the failed one's (observed: a counter in
    /// a global went 1, 2, then 1 after a failed override).
    pub(crate) fn revert_install(
        &mut self,
        name: &str,
        mut previous: Option<Live<LoadedFunction<H>>>,
        last_version: u32,
    ) {
        if let Some(previous) = previous.as_mut() {
            match self.live_mut(name) {
                Some(failed) if failed.crc32c == previous.crc32c => {
                    previous.payload.adopt_instance(&mut failed.payload)
                }
                _ => previous.payload.evict(),
            }
        }
        self.registry.revert(name, previous, last_version);
    }

    fn live_mut(&mut self, name: &str) -> Option<&mut Live<LoadedFunction<H>>> {
        let index = self.registry.index_of(name)?;
        self.registry.live_mut(index)
    }

    /// Gives `name`'s live function the version another ledger's log gave it.
    pub(crate) fn renumber(&mut self, name: &str, version: u32) {
        self.registry.renumber(name, version);
    }

    pub(crate) fn check_unregister(&self, name: &str) -> Result<u32, RegistryError> {
        self.registry.check_unregister(name)
    }

    pub(crate) fn unregister(&mut self, name: &str) -> Result<u32, RegistryError> {
        self.registry.unregister(name)
    }

    pub(crate) fn list(&self) -> Vec<FunctionInfo> {
        self.registry.list()
    }

    pub(crate) fn was_unregistered(&self, name: &str) -> bool {
        self.registry.was_unregistered(name)
    }

    /// The last version issued under `name`, live or not (0 for none).
    pub(crate) fn last_version(&self, name: &str) -> u32 {
        self.registry.last_version(name)
    }

    /// The live function `name`, about to run: marked used now, and room
    /// made for its instance when it has none. Inlined into every call;
    /// making room is not.
    #[inline(always)]
    pub(crate) fn for_call(&mut self, name: &str) -> Option<(&Runtime<H>, &mut Live<LoadedFunction<H>>)> {
        self.clock += 1;
        let index = self.registry.index_of(name)?;
        let to_instantiate = self.registry.live_mut(index)?.payload.bytes_to_instantiate();
        if to_instantiate > 0 {
            self.make_room(name, to_instantiate);
        }
        let live = self.registry.live_mut(index)?;
        live.payload.last_used = self.clock;
        Some((&self.runtime, live))
    }

    /// Instantiates function `name` now, unless it has an instance, as a
    /// server does on its first call: its `start` runs, on a scratch state.
    /// `None` when no function is live under the name.
    pub(crate) fn instantiate(&mut self, name: &str, state: &mut Box<H>) -> Option<Result<usize, CallOutcome>> {
        let (runtime, live) = self.for_call(name)?;
        Some(live.payload.ensure_instance(runtime, state, StartWrites::Scratch))
    }

    /// Calls function `name` on `state` (the transaction in progress),
    /// setting its failure the server's way, and writes what ran into
    /// `report` in place (a history slot's: nothing is moved or allocated
    /// for a warm call). With `check_carried_state`, the call also runs
    /// first on a fresh instance, undone, and a different result is
    /// reported.
    pub(crate) fn call(
        &mut self,
        name: &str,
        state: &mut Box<H>,
        params: &[i64],
        check_carried_state: bool,
        report: &mut CallReport<H::Record>,
    ) {
        let Some((runtime, live)) = self.for_call(name) else {
            state.fail(crate::Status::INVALID_OPERATION);
            *report = CallReport::unknown_function();
            return;
        };
        let function = &mut live.payload;
        // Boxed as the report keeps it: one word, null when not checking.
        let fresh = check_carried_state.then(|| {
            let checkpoint = state.checkpoint();
            let fresh_outcome = function.call_fresh(runtime, state, params);
            let fresh_entries = state.written().to_vec();
            state.rewind(checkpoint);
            Box::new(CarriedState { fresh_outcome, fresh_entries })
        });
        // Every field named: a report field added is not forgotten here.
        let CallReport { version, crc32c, outcome, fuel_used, wrapped_amount, carried_state, start_moves } = report;
        let used = function.call(runtime, state, params, outcome);
        if fresh.is_some() || carried_state.is_some() {
            *carried_state =
                fresh.filter(|fresh| fresh.fresh_outcome != *outcome || fresh.fresh_entries != state.written());
        }
        state.end_call(outcome);
        // A module that cannot be instantiated is treated by a server as an
        // unknown function: its transaction carries CRC 0.
        let ran = !matches!(outcome, CallOutcome::InstantiationFailed(_) | CallOutcome::StartFailed(_));
        *version = Some(live.version);
        *crc32c = if ran { live.crc32c } else { 0 };
        *fuel_used = used.fuel;
        *wrapped_amount = state.wrapped_amount();
        *start_moves = used.start_moves;
    }

    /// Drops the least recently used cached instances other than `name`'s
    /// until `bytes` more fit in [`Limits::max_cached_bytes`], or none is
    /// left to drop.
    #[cold]
    fn make_room(&mut self, name: &str, bytes: usize) {
        let budget = self.runtime.limits().max_cached_bytes;
        while self.runtime.held_bytes().saturating_add(bytes) > budget {
            let oldest = self
                .registry
                .payloads_mut()
                .filter(|(other, function)| *other != name && function.is_cached())
                .min_by_key(|(_, function)| function.last_used);
            match oldest {
                Some((_, function)) => function.evict(),
                None => break,
            }
        }
    }

    /// Bytes the cached instances hold in linear memories and tables.
    pub(crate) fn held_bytes(&self) -> usize {
        self.runtime.held_bytes()
    }

    /// How many compiled modules the runtime's cache holds.
    #[cfg(test)]
    pub(crate) fn compiled_modules(&self) -> usize {
        self.runtime.compiled_modules()
    }
}

/// Compiles, checks the exports the profile's server checks, and links.
pub(crate) fn compile<H: Host>(runtime: &Runtime<H>, binary: &[u8]) -> Result<LoadedFunction<H>, BinaryError> {
    let compiled = runtime
        .compile(binary)
        .map_err(|e| BinaryError::Parse { message: server_words(&e), detail: format!("{e:#}") })?;
    check_entry_point(&compiled.module)?;
    check_optional_exports(&compiled.module, H::PROFILE)?;
    Ok(runtime.load(compiled))
}

/// What a server (wasmtime 26) says of a binary wasmtime refuses: its
/// outermost words, "WebAssembly translation error" for a function body
/// that does not validate, else "failed to parse WebAssembly module". A
/// newer wasmtime puts the failing function's name before the first.
fn server_words(error: &wasmtime::Error) -> &'static str {
    const TRANSLATION: &str = "WebAssembly translation error";
    match error.chain().any(|cause| cause.to_string() == TRANSLATION) {
        true => TRANSLATION,
        false => "failed to parse WebAssembly module",
    }
}

fn to_abi(t: wasmtime::ValType) -> Option<abi::ValType> {
    match t {
        wasmtime::ValType::I32 => Some(abi::ValType::I32),
        wasmtime::ValType::I64 => Some(abi::ValType::I64),
        _ => None,
    }
}

/// The server's entry-point check, on the compiled module.
fn check_entry_point(module: &wasmtime::Module) -> Result<(), abi::EntryPointError> {
    let export = module.get_export(abi::ENTRY_POINT.name).ok_or(abi::EntryPointError::Missing)?;
    let wasmtime::ExternType::Func(ty) = export else {
        return Err(abi::EntryPointError::NotAFunction);
    };
    abi::check_execute_signature(ty.params().map(to_abi), ty.results().map(to_abi))
}

/// The check a server of `profile` makes on its optional exports (v2's
/// `register`), in its words.
fn check_optional_exports(module: &wasmtime::Module, profile: &Profile) -> Result<(), abi::OptionalExportError> {
    for optional in profile.optional_exports {
        let Some(export) = module.get_export(optional.name) else { continue };
        let wasmtime::ExternType::Func(ty) = export else {
            return Err(abi::OptionalExportError::NotAFunction(optional.name));
        };
        let params: Vec<_> = ty.params().map(to_abi).collect();
        let results: Vec<_> = ty.results().map(to_abi).collect();
        let expected = |types: &[abi::ValType]| types.iter().copied().map(Some).collect::<Vec<_>>();
        if params != expected(optional.signature.params) || results != expected(optional.signature.results) {
            return Err(abi::OptionalExportError::Signature(optional.name));
        }
    }
    Ok(())
}
