//! Function names, versions and CRCs, with a server's rules and messages.
//!
//! The registry is generic over what it stores per function so its rules are
//! tested on their own; [`crate::Ledger`] stores compiled modules in it.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::abi::{EntryPointError, NameError, OptionalExportError, validate_function_name};

/// Why a binary is refused at registration. `Display` is the server's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryError {
    /// The bytes do not parse or validate as WebAssembly.
    #[error("{message}")]
    Parse {
        /// What a server says, wasmtime's outermost words: "failed to parse
        /// WebAssembly module", or "WebAssembly translation error" for a
        /// function body that does not validate.
        message: &'static str,
        /// wasmtime's whole explanation, which the server does not send.
        detail: String,
    },
    /// `execute` is missing or has the wrong type.
    #[error(transparent)]
    EntryPoint(#[from] EntryPointError),
    /// An optional export (v2's `register`) has the wrong type.
    #[error(transparent)]
    OptionalExport(#[from] OptionalExportError),
}

/// A registry operation that failed. `Display` is the server's message and
/// [`code`](RegistryError::code) its gRPC status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The name breaks the naming rules.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// The binary is not a loadable function.
    #[error(transparent)]
    InvalidBinary(#[from] BinaryError),
    /// The name is taken and `override_existing` was false.
    #[error("function `{0}` is already registered")]
    AlreadyExists(String),
    /// No function is registered under the name.
    #[error("function `{0}` is not registered")]
    NotFound(String),
    /// The binary's CRC32C is 0, the value a server's log uses for an
    /// unregister.
    #[error(
        "the binary's CRC32C is 0, which a server's log records as an unregister: a server at ee2b042 never finishes registering `{0}` and its registry stops answering, one at e14b146 registers it and forgets it at its next restart; change any byte (add a custom section, for one) and register again"
    )]
    ZeroCrc(String),
    /// v2: the registration's transaction failed. Either `register()`
    /// failed, and the registration was rolled back (the previous version
    /// stays live), or the moves the module's `start` function made in the
    /// transaction failed it, and the new version is live all the same
    /// until the server restarts (`live_until_restart`).
    #[error("function registration failed: FailReason({status})")]
    RegisterFailed {
        /// The transaction's status (`register()`'s: 8, 10, or 5 for a
        /// trap; the `start` function's moves: 2, 3, ...).
        status: u8,
        /// What stopped `register()` when it did not return (a trap, no fuel
        /// left), which the server does not send.
        outcome: Option<crate::CallOutcome>,
        /// `register()` did not fail (or there was none): the `start`
        /// function's moves did, and a server keeps the new version live
        /// (listed, callable) until it restarts; then it is gone.
        live_until_restart: bool,
    },
    /// The name has had every version a server can number (its versions
    /// are `u16`).
    #[error(
        "function version overflow (u16 exhausted): `{0}` has had 65535 versions, the most a server numbers; register the function under another name"
    )]
    VersionOverflow(String),
}

/// The gRPC status code a server answers a registry error with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `INVALID_ARGUMENT` (3).
    InvalidArgument,
    /// `NOT_FOUND` (5).
    NotFound,
    /// `ALREADY_EXISTS` (6).
    AlreadyExists,
    /// `INTERNAL` (13).
    Internal,
}

impl RegistryError {
    /// The gRPC status code a server uses for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            RegistryError::InvalidName(_) | RegistryError::InvalidBinary(_) | RegistryError::ZeroCrc(_) => {
                ErrorCode::InvalidArgument
            }
            RegistryError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            RegistryError::NotFound(_) => ErrorCode::NotFound,
            RegistryError::VersionOverflow(_) | RegistryError::RegisterFailed { .. } => ErrorCode::Internal,
        }
    }
}

/// A live function as `ListFunctions` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FunctionInfo {
    /// Registered name.
    pub name: String,
    /// Version, from 1.
    pub version: u32,
    /// CRC32C of the binary.
    pub crc32c: u32,
}

/// The result of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// The version just created.
    pub version: u32,
    /// CRC32C of the binary.
    pub crc32c: u32,
}

/// A registration that passed every check and is not installed yet.
#[derive(Debug)]
pub(crate) struct Prepared<T> {
    name: String,
    live: Live<T>,
}

impl<T> Prepared<T> {
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version and CRC it will be installed with.
    pub fn registered(&self) -> Registered {
        Registered { version: self.live.version, crc32c: self.live.crc32c }
    }
}

/// A live function: its version, CRC and what the owner stores with it.
#[derive(Debug)]
pub(crate) struct Live<T> {
    /// Version, from 1.
    pub version: u32,
    /// CRC32C of the binary.
    pub crc32c: u32,
    /// The owner's payload (a compiled module in the ledger).
    pub payload: T,
}

#[derive(Debug)]
struct Record<T> {
    name: String,
    /// The last version issued under this name, live or not; 0 for a name
    /// whose only registration was reverted (as if never used).
    last_version: u32,
    live: Option<Live<T>>,
}

/// Names to versions, CRCs and payloads.
///
/// Versions rise by one on every register, override and unregister, and (the
/// seed's rule, where a server at ee2b042 diverges) never restart after an
/// unregister.
#[derive(Debug)]
pub(crate) struct Registry<T> {
    /// Each name's slot in `records`. A name keeps its slot for good, so an
    /// index is a handle: a call looks its function up once.
    index: HashMap<String, usize, BuildHasherDefault<NameHasher>>,
    records: Vec<Record<T>>,
    /// The slot [`index_of`](Registry::index_of) found last: calls of one
    /// function in a row compare its name and skip the hash.
    last_found: Cell<usize>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry { index: HashMap::default(), records: Vec::new(), last_found: Cell::new(usize::MAX) }
    }
}

/// The registry's hash: every call looks its function up by name, and
/// std's SipHash cost more than the rest of the lookup. Names are chosen by
/// whoever registers, who can call anything anyway, so resistance to
/// chosen collisions buys nothing here. (FxHash's word-at-a-time mix.)
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<T> Registry<T> {
    /// Registers `name`. Checks run in the server's order: the name, then the
    /// binary (`load`, which also builds the payload), then whether the name
    /// is taken. Nothing changes on error.
    #[cfg(test)]
    pub fn register(
        &mut self,
        name: &str,
        crc32c: u32,
        override_existing: bool,
        load: impl FnOnce() -> Result<T, BinaryError>,
    ) -> Result<Registered, RegistryError> {
        let prepared = self.prepare(name, crc32c, override_existing, load)?;
        Ok(self.install(prepared).0)
    }

    /// Runs every check of [`register`](Registry::register) and computes the
    /// version, changing nothing: a caller can make the registration durable
    /// first, then [`install`](Registry::install) it.
    pub fn prepare(
        &self,
        name: &str,
        crc32c: u32,
        override_existing: bool,
        load: impl FnOnce() -> Result<T, BinaryError>,
    ) -> Result<Prepared<T>, RegistryError> {
        validate_function_name(name)?;
        let payload = load()?;
        if crc32c == 0 {
            return Err(RegistryError::ZeroCrc(name.to_owned()));
        }
        let record = self.record(name);
        if record.is_some_and(|r| r.live.is_some()) && !override_existing {
            return Err(RegistryError::AlreadyExists(name.to_owned()));
        }
        let version = next_version(name, record)?;
        Ok(Prepared { name: name.to_owned(), live: Live { version, crc32c, payload } })
    }

    /// `true` when a function is live under `name`.
    pub fn is_live(&self, name: &str) -> bool {
        self.record(name).is_some_and(|record| record.live.is_some())
    }

    fn record(&self, name: &str) -> Option<&Record<T>> {
        self.index.get(name).map(|&index| &self.records[index])
    }

    fn record_mut(&mut self, name: &str) -> Option<&mut Record<T>> {
        self.index.get(name).map(|&index| &mut self.records[index])
    }

    /// The handle of `name`'s slot, if the name was ever installed.
    ///
    /// Inlined into every call: the name found last is compared in place
    /// (see [`same_name`](ledger_abi::same_name)), and only another name is hashed.
    #[inline(always)]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let last = self.last_found.get();
        if self.records.get(last).is_some_and(|record| ledger_abi::same_name(record.name.as_bytes(), name.as_bytes())) {
            return Some(last);
        }
        self.find(name)
    }

    /// [`index_of`](Registry::index_of) for a name other than the last:
    /// hashed, and remembered for the next call.
    #[inline(never)]
    fn find(&self, name: &str) -> Option<usize> {
        let index = *self.index.get(name)?;
        self.last_found.set(index);
        Some(index)
    }

    /// The live function in slot `index` (from [`index_of`](Registry::index_of)).
    pub fn live_mut(&mut self, index: usize) -> Option<&mut Live<T>> {
        self.records.get_mut(index)?.live.as_mut()
    }

    /// Sets `name`'s record, giving it a slot the first time; returns the
    /// live function it replaced.
    fn set(&mut self, name: String, last_version: u32, live: Option<Live<T>>) -> Option<Live<T>> {
        match self.index.get(&name) {
            Some(&index) => {
                let record = &mut self.records[index];
                record.last_version = last_version;
                std::mem::replace(&mut record.live, live)
            }
            None => {
                self.index.insert(name.clone(), self.records.len());
                self.records.push(Record { name, last_version, live });
                None
            }
        }
    }

    /// Installs a prepared registration. Call it right after
    /// [`prepare`](Registry::prepare), with no other change in between.
    /// Returns the live function it replaced, if any.
    pub fn install(&mut self, prepared: Prepared<T>) -> (Registered, Option<Live<T>>) {
        let Prepared { name, live } = prepared;
        let registered = Registered { version: live.version, crc32c: live.crc32c };
        let version = live.version;
        (registered, self.set(name, version, Some(live)))
    }

    /// Gives `name`'s live function `version`, as another ledger's log
    /// numbered it (a fork: a server numbers a registration after an
    /// unregister from 1 again).
    pub fn renumber(&mut self, name: &str, version: u32) {
        if let Some(record) = self.record_mut(name) {
            record.last_version = version;
            if let Some(live) = record.live.as_mut() {
                live.version = version;
            }
        }
    }

    /// Undoes an [`install`](Registry::install): `previous` is live again
    /// (or the name is free) and the last version is `last_version` (0: the
    /// name was never used).
    pub fn revert(&mut self, name: &str, previous: Option<Live<T>>, last_version: u32) {
        self.set(name.to_owned(), last_version, previous);
    }

    /// The last version issued under `name`, live or not; 0 for a name
    /// never used.
    pub fn last_version(&self, name: &str) -> u32 {
        self.record(name).map_or(0, |record| record.last_version)
    }

    /// The version an unregister of `name` would get, changing nothing.
    /// The name is checked first, as a server does.
    pub fn check_unregister(&self, name: &str) -> Result<u32, RegistryError> {
        validate_function_name(name)?;
        match self.record(name) {
            Some(record) if record.live.is_some() => next_version(name, Some(record)),
            _ => Err(RegistryError::NotFound(name.to_owned())),
        }
    }

    /// Unregisters `name`, returning the version of the unregister marker.
    pub fn unregister(&mut self, name: &str) -> Result<u32, RegistryError> {
        let version = self.check_unregister(name)?;
        let record = self.record_mut(name).expect("checked above");
        record.live = None;
        record.last_version = version;
        Ok(version)
    }

    /// `true` when `name` was registered once and is unregistered now: a
    /// server at ee2b042 would restart its version counter (see the crate docs).
    pub fn was_unregistered(&self, name: &str) -> bool {
        self.record(name).is_some_and(|r| r.last_version > 0 && r.live.is_none())
    }

    /// Every live function's payload, in no order.
    pub fn payloads_mut(&mut self) -> impl Iterator<Item = (&str, &mut T)> {
        self.records.iter_mut().filter_map(|record| Some((record.name.as_str(), &mut record.live.as_mut()?.payload)))
    }

    /// Every live function, sorted by name.
    pub fn list(&self) -> Vec<FunctionInfo> {
        let mut list: Vec<FunctionInfo> = self
            .records
            .iter()
            .filter_map(|r| {
                let live = r.live.as_ref()?;
                Some(FunctionInfo { name: r.name.clone(), version: live.version, crc32c: live.crc32c })
            })
            .collect();
        list.sort();
        list
    }
}

/// The version after `record`'s last; a server numbers versions in a `u16`.
fn next_version<T>(name: &str, record: Option<&Record<T>>) -> Result<u32, RegistryError> {
    let version = record.map_or(0, |r| r.last_version) + 1;
    match version > u32::from(u16::MAX) {
        true => Err(RegistryError::VersionOverflow(name.to_owned())),
        false => Ok(version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lookup after another name finds the right one.
    #[test]
    fn a_name_is_found_after_another() {
        let mut registry: Registry<u8> = Registry::default();
        for (name, payload) in [("transfer_a", 1), ("transfer_b", 2), ("fee", 3)] {
            registry.register(name, 1, false, || Ok(payload)).unwrap();
        }
        for name in ["transfer_a", "transfer_b", "transfer_b", "fee", "transfer_a", "missing", "fee"] {
            let found = registry.index_of(name).and_then(|index| registry.live_mut(index)).map(|live| live.payload);
            assert_eq!(found, registry.record(name).and_then(|record| record.live.as_ref()).map(|live| live.payload));
        }
    }

    #[test]
    fn versions_rise_on_register_override_and_unregister_and_never_restart() {
        let mut registry: Registry<()> = Registry::default();
        let v1 = registry.register("fee", 0xabc, false, || Ok(())).unwrap();
        assert_eq!(v1.version, 1);
        assert!(matches!(registry.register("fee", 0xabc, false, || Ok(())), Err(RegistryError::AlreadyExists(_))));
        assert_eq!(registry.register("fee", 0xabc, true, || Ok(())).unwrap().version, 2);
        assert_eq!(registry.unregister("fee").unwrap(), 3);
        assert_eq!(registry.register("fee", 0xdef, false, || Ok(())).unwrap().version, 4);
    }

    #[test]
    fn version_65535_is_the_last_for_register_and_unregister() {
        let mut registry: Registry<()> = Registry::default();
        registry.register("fee", 0xabc, false, || Ok(())).unwrap();
        registry.record_mut("fee").unwrap().last_version = 65534;
        assert_eq!(registry.register("fee", 0xabc, true, || Ok(())).unwrap().version, 65535);
        let overflow = registry.register("fee", 0xabc, true, || Ok(())).unwrap_err();
        assert!(matches!(overflow, RegistryError::VersionOverflow(_)));
        assert_eq!(overflow.code(), ErrorCode::Internal);
        assert!(
            overflow.to_string().starts_with("function version overflow (u16 exhausted)"),
            "upstream's words first"
        );
        assert!(matches!(registry.check_unregister("fee"), Err(RegistryError::VersionOverflow(_))));
        assert_eq!(registry.list()[0].version, 65535, "nothing changed");
    }

    #[test]
    fn a_zero_crc_is_refused_after_the_binary_and_before_the_name_is_taken() {
        let mut registry: Registry<()> = Registry::default();
        let refused = registry.register("fee", 0, false, || Ok(())).unwrap_err();
        assert!(matches!(refused, RegistryError::ZeroCrc(_)));
        assert_eq!(refused.code(), ErrorCode::InvalidArgument);
        assert!(registry.list().is_empty());
    }

    #[test]
    fn unregister_checks_the_name_first() {
        let mut registry: Registry<()> = Registry::default();
        for bad in ["", "1abc"] {
            assert!(matches!(registry.unregister(bad), Err(RegistryError::InvalidName(_))), "{bad:?}");
        }
        assert!(matches!(registry.unregister("abc"), Err(RegistryError::NotFound(_))));
    }
}
