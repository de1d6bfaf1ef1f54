//! The roda-ledger function ABI, as data.
//!
//! A roda-ledger function is a WebAssembly module that exports one entry
//! point and may import the ledger's host functions. This crate is that
//! contract, written down once: every other part of the toolchain derives
//! from it.
//!
//! - [`Profile`]: one host ABI as a server runs it ([`V1`], the seed's;
//!   [`V2`], upstream's current server), with its host imports, entry point,
//!   optional exports, statuses and limits. The validator, the runtime's
//!   linker, the guest SDK's bindings, the AssemblyScript bindings
//!   ([`bindings`]) and the reference page all read it.
//! - [`v1_host_imports!`] and [`v2_host_imports!`]: the same imports as
//!   tokens, so Rust code that must
//!   *declare* them (the guest's `extern` block, the runtime's linker, the
//!   mock) is generated from the table instead of restating it.
//! - [`Status`]: the statuses with their names and meanings.
//! - [`EntryKind`], [`Entry`] and (with the `alloc` feature) [`Accounts`]: the
//!   ledger's arithmetic (saturating moves, the `u128` zero-sum check, the
//!   rollback by inverse moves), shared by the simulator and the guest's mock.
//!
//! The crate is `no_std` and has no dependencies (`serde` is an optional
//! feature).
//!
//! ```
//! use ledger_abi::{V1, ValType};
//!
//! assert_eq!(V1.entry_point.name, "execute");
//! assert_eq!(V1.entry_point.signature.params, &[ValType::I64; 8]);
//! let credit = V1.host_import("credit").unwrap();
//! assert_eq!(credit.signature.to_string(), "(i64, i64) -> ()");
//! ```

#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "alloc")]
mod accounts;
pub mod bindings;
pub mod interface;
mod moves;
#[cfg(feature = "alloc")]
mod state;
mod status;

#[cfg(feature = "alloc")]
pub use accounts::Accounts;
pub use moves::{Entry, EntryKind, ZeroSum};
pub use status::{Status, StatusInfo, StatusName};

use core::fmt;

/// A WebAssembly value type that appears in the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

impl ValType {
    /// The type as written in the WebAssembly text format (`i32`, `i64`).
    pub const fn wat(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wat())
    }
}

/// A function signature: parameter and result types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// Parameter types, in order.
    pub params: &'static [ValType],
    /// Result types, in order.
    pub results: &'static [ValType],
}

impl fmt::Display for Signature {
    /// Renders as `(i64, i64) -> ()`, the notation every message uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_signature(f, self.params.iter().copied(), self.results.iter().copied())
    }
}

/// Writes a signature in the notation of [`Signature`]'s `Display`, for
/// types that come from a module rather than from the table.
///
/// ```
/// use ledger_abi::{ValType, write_signature};
///
/// let mut text = String::new();
/// write_signature(&mut text, [ValType::I32].into_iter(), [ValType::I64, ValType::I64].into_iter()).unwrap();
/// assert_eq!(text, "(i32) -> (i64, i64)");
/// ```
///
/// # Errors
///
/// Only what `out` returns.
pub fn write_signature(
    out: &mut impl fmt::Write,
    params: impl Iterator<Item = ValType>,
    results: impl Iterator<Item = ValType>,
) -> fmt::Result {
    fn list(out: &mut impl fmt::Write, types: impl Iterator<Item = ValType>) -> fmt::Result {
        out.write_char('(')?;
        for (i, t) in types.enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            out.write_str(t.wat())?;
        }
        out.write_char(')')
    }
    list(out, params)?;
    out.write_str(" -> ")?;
    let mut results = results.peekable();
    match results.next() {
        Some(one) if results.peek().is_none() => out.write_str(one.wat()),
        first => list(out, first.into_iter().chain(results)),
    }
}

/// How the ledger reads an integer that crosses the ABI: its wasm type and
/// its signedness, for bindings that have both (Rust, AssemblyScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntType {
    /// Signed 32-bit (wasm `i32`).
    I32,
    /// Unsigned 32-bit (wasm `i32`).
    U32,
    /// Signed 64-bit (wasm `i64`).
    I64,
    /// Unsigned 64-bit (wasm `i64`).
    U64,
}

impl IntType {
    /// The wasm value type it travels as.
    pub const fn val_type(self) -> ValType {
        match self {
            IntType::I32 | IntType::U32 => ValType::I32,
            IntType::I64 | IntType::U64 => ValType::I64,
        }
    }

    /// The type's name in Rust and in AssemblyScript (`u64`, `i32`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            IntType::I32 => "i32",
            IntType::U32 => "u32",
            IntType::I64 => "i64",
            IntType::U64 => "u64",
        }
    }
}

/// A parameter of a host import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its name, for documentation and bindings.
    pub name: &'static str,
    /// Its type.
    pub ty: IntType,
}

/// One host function a module may import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostImport {
    /// Import name inside the profile's [`host_module`](Profile::host_module).
    pub name: &'static str,
    /// The parameters, with names and types.
    pub params: &'static [Param],
    /// The result's type, if it returns one.
    pub result: Option<IntType>,
    /// The exact wasm signature the import must be declared with.
    pub signature: Signature,
    /// What the call does, as `name(params) -> result: effect`; a v2
    /// import's effect says what it does in each phase (`execute: ...`,
    /// `register(): ...`) and which statuses it sets.
    pub doc: &'static str,
    /// In which phase a module may call it: v2 runs an optional `register()`
    /// export once at registration, then `execute` per call.
    pub phase: Phase,
}

impl HostImport {
    /// Whether it reads a NUL-terminated name from the profile's
    /// [`memory_export`](Profile::memory_export): it takes a
    /// [`NAME_PTR`] parameter (v2's constant verbs).
    ///
    /// ```
    /// use ledger_abi::V2;
    /// assert!(V2.host_import("kv_get_constant").unwrap().reads_name());
    /// assert!(!V2.host_import("kv_get").unwrap().reads_name());
    /// ```
    pub fn reads_name(&self) -> bool {
        self.params.iter().any(|param| param.name == NAME_PTR)
    }

    /// The positions of its parameters that name an account
    /// ([`ACCOUNT_PARAMS`]): what a trace of a call reads to know which
    /// accounts it looked at.
    ///
    /// ```
    /// use ledger_abi::V2;
    /// assert_eq!(V2.host_import("credit").unwrap().account_params().collect::<Vec<_>>(), [0]);
    /// assert_eq!(V2.host_import("linked_account").unwrap().account_params().collect::<Vec<_>>(), [0]);
    /// assert_eq!(V2.host_import("kv_get").unwrap().account_params().count(), 0);
    /// ```
    pub fn account_params(&self) -> impl Iterator<Item = usize> + '_ {
        self.params.iter().enumerate().filter(|(_, p)| ACCOUNT_PARAMS.contains(&p.name)).map(|(i, _)| i)
    }

    /// Whether its first four parameters are a KV key (`kv_get`, `kv_set`).
    ///
    /// ```
    /// use ledger_abi::V2;
    /// assert!(V2.host_import("kv_set").unwrap().takes_key());
    /// assert!(!V2.host_import("credit").unwrap().takes_key());
    /// ```
    pub fn takes_key(&self) -> bool {
        self.params.len() >= 4 && self.params[..4].iter().map(|p| p.name).eq(KEY_PARAMS)
    }
}

/// The names the import tables give a parameter that is an account.
pub const ACCOUNT_PARAMS: [&str; 2] = ["account_id", "parent_id"];

/// The names the import tables give a KV key's four components.
pub const KEY_PARAMS: [&str; 4] = ["key0", "key1", "key2", "key3"];

/// The name of a parameter that points at a NUL-terminated name in the
/// profile's [`memory_export`](Profile::memory_export).
pub const NAME_PTR: &str = "name_ptr";

/// The phase a host import may be called in, and what the server does when
/// it is called in the other one (v2; v1 has only the execute phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// `execute` only; inside `register()` the call sets status 8
    /// (PROHIBITED_HOST_CALL) and returns 0, without trapping.
    Execute,
    /// `execute` only; inside `register()` the call sets status 8 and traps.
    ExecuteOrTrap,
    /// `register()` only; inside `execute` the call sets status 8 and traps.
    RegisterOrTrap,
}

impl Phase {
    /// Whether `register()` may call it.
    pub const fn in_register(self) -> bool {
        matches!(self, Phase::RegisterOrTrap)
    }

    /// Whether `execute` may call it.
    pub const fn in_execute(self) -> bool {
        !self.in_register()
    }
}

/// The export a module must provide, which the ledger calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPoint {
    /// Export name.
    pub name: &'static str,
    /// Its signature.
    pub signature: Signature,
}

/// The limits a server applies to functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileLimits {
    /// Largest binary a server accepts (its gRPC decode limit).
    pub max_binary_size: usize,
    /// Largest function name, in bytes.
    pub max_name_len: usize,
    /// Most records one transaction may produce; one more is status 4. In
    /// v1 they are entries (credits and debits); in v2 every follower
    /// record counts (entries, accounts opened and linked, flag updates, KV
    /// writes).
    pub max_entries_per_tx: usize,
    /// The server's default number of accounts: ids `0..default_max_accounts`.
    /// `None` in v2, whose account capacity grows with every account opened.
    pub default_max_accounts: Option<u64>,
    /// Longest KV constant name, in bytes (v2; 0 where there are none).
    pub max_constant_name_len: usize,
    /// Most instances a server creates until it restarts: one wasmtime
    /// store holds them all (one per registration and override, old ones
    /// never freed) and refuses the next, wasmtime's default limit.
    /// Observed at e14b146: after 9,999 overrides of one function, the
    /// next one's instance is refused and its calls fail with status 5.
    pub max_instances: usize,
}

/// An export a module may provide besides the entry point; the server
/// checks its signature when it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalExport {
    /// Export name.
    pub name: &'static str,
    /// Its signature.
    pub signature: Signature,
    /// What the server does with it, in one line.
    pub doc: &'static str,
}

/// Which profile a [`Profile`] is: what code that must treat every
/// profile matches on, with no wildcard arm, so that a profile added here
/// is a compile error wherever it needs handling (ledger-core maps it to an
/// engine, ledger-guest and the CLI to their types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfileId {
    /// [`V1`], upstream ee2b042.
    V1,
    /// [`V2`], upstream e14b146.
    V2,
}

/// One host ABI, as one version of the roda-ledger server runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Which profile it is.
    pub id: ProfileId,
    /// Short name, as `Roda.toml` and `--abi` spell it (`v1`).
    pub name: &'static str,
    /// The upstream roda-ledger commit whose server this profile describes.
    pub upstream_commit: &'static str,
    /// The import module every host function lives in.
    pub host_module: &'static str,
    /// Every host function a module may import.
    pub host_imports: &'static [HostImport],
    /// The required export.
    pub entry_point: EntryPoint,
    /// Exports a module may add (v2's `register`).
    pub optional_exports: &'static [OptionalExport],
    /// The memory export host imports read names from, if any: each import
    /// with a [`NAME_PTR`] parameter (v2's constant verbs, see
    /// [`HostImport::reads_name`]) reads a NUL-terminated name from it; a
    /// module without it traps in such a call (status 5).
    pub memory_export: Option<&'static str>,
    /// The standard statuses a server of this profile gives, with names and
    /// meanings, in code order: v1 has `0..=7`; v2 retires 6 and adds
    /// `8..=10`. Codes below 128 not listed are reserved in this profile
    /// (see [`Profile::status_name`]).
    pub statuses: &'static [StatusInfo],
    /// The server's limits.
    pub limits: ProfileLimits,
}

impl Profile {
    /// Looks up a host import by name.
    ///
    /// ```
    /// assert!(ledger_abi::V1.host_import("credit").is_some());
    /// assert!(ledger_abi::V1.host_import("transfer").is_none());
    /// ```
    pub fn host_import(&self, name: &str) -> Option<&'static HostImport> {
        self.host_imports.iter().find(|import| import.name == name)
    }

    /// Looks up an optional export by name.
    ///
    /// ```
    /// assert!(ledger_abi::V2.optional_export("register").is_some());
    /// assert!(ledger_abi::V1.optional_export("register").is_none());
    /// ```
    pub fn optional_export(&self, name: &str) -> Option<&'static OptionalExport> {
        self.optional_exports.iter().find(|export| export.name == name)
    }

    /// The imports a module may call in a phase: `register` `true` for
    /// `register()`, `false` for `execute`.
    ///
    /// ```
    /// let names: Vec<_> = ledger_abi::V2.imports_in(true).map(|i| i.name).collect();
    /// assert_eq!(names, ["kv_register_constant"]);
    /// assert_eq!(ledger_abi::V1.imports_in(true).count(), 0);
    /// assert_eq!(ledger_abi::V2.imports_in(false).count(), 10);
    /// ```
    pub fn imports_in(&self, register: bool) -> impl Iterator<Item = &'static HostImport> {
        let imports: &'static [HostImport] = self.host_imports;
        imports
            .iter()
            .filter(move |import| if register { import.phase.in_register() } else { import.phase.in_execute() })
    }

    /// The name and meaning of a standard status of this profile; `None` for
    /// a reserved, retired or user code.
    ///
    /// ```
    /// use ledger_abi::{Status, V1, V2};
    /// assert_eq!(V2.status_info(Status::from_code(9)).unwrap().name, "CONSTANT_NOT_FOUND");
    /// assert!(V1.status_info(Status::from_code(9)).is_none(), "reserved in v1");
    /// assert!(V2.status_info(Status::ACCOUNT_LIMIT_EXCEEDED).is_none(), "retired in v2");
    /// ```
    pub fn status_info(&self, status: Status) -> Option<&'static StatusInfo> {
        let statuses: &'static [StatusInfo] = self.statuses;
        statuses.iter().find(|info| info.status == status)
    }

    /// A status's name as a server of this profile reports it: its standard
    /// name, `USER(n)` for `128..=255`, else `RESERVED(n)` (v2's retired 6
    /// included). For v1 it is [`Status::name`].
    ///
    /// ```
    /// use ledger_abi::{Status, V1, V2};
    /// let status = Status::from_code(8);
    /// assert_eq!(V2.status_name(status).to_string(), "PROHIBITED_HOST_CALL");
    /// assert_eq!(V1.status_name(status).to_string(), "RESERVED(8)");
    /// assert_eq!(V2.status_name(Status::from_code(6)).to_string(), "RESERVED(6)");
    /// ```
    pub fn status_name(&self, status: Status) -> StatusName {
        match self.status_info(status) {
            Some(info) => StatusName::Standard(info.name),
            None if status.is_user_defined() => StatusName::User(status.code()),
            None => StatusName::Reserved(status.code()),
        }
    }

    /// The first code after the profile's last standard status: codes from
    /// it to 127 are reserved for future standard reasons.
    ///
    /// ```
    /// assert_eq!(ledger_abi::V1.reserved_from(), 8);
    /// assert_eq!(ledger_abi::V2.reserved_from(), 11);
    /// ```
    pub fn reserved_from(&self) -> u8 {
        self.statuses.iter().map(|info| info.status.code()).max().map_or(0, |last| last + 1)
    }

    /// Whether a code is reserved in this profile: below 128 and not one of
    /// its [`statuses`](Profile::statuses). For v1 it is
    /// [`Status::is_reserved`] (`8..=127`); for v2, 6 and `11..=127`.
    ///
    /// ```
    /// use ledger_abi::{Status, V2};
    /// assert!(!V2.is_reserved(Status::from_code(10)));
    /// assert!(V2.is_reserved(Status::from_code(6)));
    /// assert!(V2.is_reserved(Status::from_code(11)));
    /// ```
    pub fn is_reserved(&self, status: Status) -> bool {
        !status.is_user_defined() && self.status_info(status).is_none()
    }

    /// Parses a status as [`status_name`](Profile::status_name) prints it:
    /// this profile's standard names (any case), the
    /// [SDK statuses'](Status::SDK) names, `USER(n)`, `RESERVED(n)` or a
    /// number.
    ///
    /// ```
    /// use ledger_abi::{Status, V1, V2};
    /// assert_eq!(V2.parse_status("constant_not_found"), Some(Status::CONSTANT_NOT_FOUND));
    /// assert_eq!(V1.parse_status("CONSTANT_NOT_FOUND"), None);
    /// assert_eq!(V2.parse_status("ACCOUNT_LIMIT_EXCEEDED"), None, "retired in v2");
    /// assert_eq!(V2.parse_status("RESERVED(6)"), Some(Status::from_code(6)));
    /// assert_eq!(V1.parse_status("negative_amount"), Some(Status::NEGATIVE_AMOUNT));
    /// ```
    pub fn parse_status(&self, text: &str) -> Option<Status> {
        match self.statuses.iter().chain(Status::SDK).find(|info| info.name.eq_ignore_ascii_case(text)) {
            Some(info) => Some(info.status),
            None => status::parse_code(text),
        }
    }
}

/// Number of `i64` parameters `execute` takes: the slots a call's `params`
/// fill, zero-padded.
pub const PARAM_COUNT: usize = 8;

/// The largest binary a server accepts: 4 MiB, its gRPC decode limit.
pub const MAX_BINARY_SIZE: usize = 4 * 1024 * 1024;

/// The largest function name, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// Most entries one transaction may produce; one more is status 4.
pub const MAX_ENTRIES_PER_TX: usize = u8::MAX as usize;

/// Most follower records one v2 transaction may produce; one more is status 4.
pub const V2_MAX_RECORDS_PER_TX: usize = u16::MAX as usize;

/// The records an e14b146 server's transaction ring holds (`ring_size`,
/// 2^20): a call that writes more panics its transactor before the
/// transaction can fail with status 4.
pub const V2_RING_RECORDS: usize = 1 << 20;

/// The instances a server's one wasmtime store holds until it restarts
/// (wasmtime's default limit; see [`ProfileLimits::max_instances`]).
pub const MAX_INSTANCES: usize = 10_000;

/// The longest v2 KV constant name, in bytes; a longer one is status 10.
pub const MAX_CONSTANT_NAME_LEN: usize = 32;

/// A server's default number of accounts: ids `0..1_000_000`.
pub const DEFAULT_MAX_ACCOUNTS: u64 = 1_000_000;

/// The system account: the other side of deposits and withdrawals.
pub const SYSTEM_ACCOUNT: u64 = 0;

/// The v1 host imports as tokens, for code that must declare them.
///
/// Invokes `$callback!` with `module = "ledger";` followed by one
/// `#[doc = "..."] fn name(param: type, ...) -> result;` per import, types
/// spelled `u64` / `i64` (both are wasm `i64`; `u64` where the ledger reads
/// the bits as unsigned). [`V1`]'s table is generated from this same list,
/// so a declaration generated from it cannot drift from the table.
///
/// A callback that also accepts an optional `#[phase = $phase:ident]`
/// after each doc (as [`v2_host_imports!`] emits) serves both profiles:
/// write the linker or FFI generator once.
///
/// ```
/// macro_rules! count {
///     (module = $module:literal; $( #[doc = $doc:literal] fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
///         [$(stringify!($name)),*].len()
///     };
/// }
/// assert_eq!(ledger_abi::v1_host_imports!(count), ledger_abi::V1.host_imports.len());
/// ```
#[macro_export]
macro_rules! v1_host_imports {
    ($callback:ident) => {
        $callback! {
            module = "ledger";
            #[doc = "credit(account_id, amount): decreases account_id's balance by amount (saturating); never fails by itself"]
            fn credit(account_id: u64, amount: u64);
            #[doc = "debit(account_id, amount): increases account_id's balance by amount (saturating); never fails by itself"]
            fn debit(account_id: u64, amount: u64);
            #[doc = "get_balance(account_id) -> i64: the current balance, including this transaction's own credits and debits"]
            fn get_balance(account_id: u64) -> i64;
        }
    };
}

/// The v2 host imports as tokens (upstream e14b146), in the shape of
/// [`v1_host_imports!`]; an import whose [`Phase`] is not
/// [`Phase::Execute`] carries `#[phase = ...]` (a [`Phase`] variant) after
/// its doc. Types: `u64` / `i64` travel as wasm `i64`, `u32` as wasm `i32`.
/// [`V2`]'s table is generated from this same list.
///
/// One callback serves both profiles when it takes the optional phase:
///
/// ```
/// macro_rules! names {
///     (module = $module:literal; $( #[doc = $doc:literal] $(#[phase = $phase:ident])? fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
///         [$(stringify!($name)),*]
///     };
/// }
/// let names = ledger_abi::v2_host_imports!(names);
/// assert_eq!(names.len(), 11);
/// assert_eq!(names[..3], ["credit", "debit", "get_balance"]);
/// assert_eq!(ledger_abi::v1_host_imports!(names), ["credit", "debit", "get_balance"]);
/// ```
#[macro_export]
macro_rules! v2_host_imports {
    ($callback:ident) => {
        $callback! {
            module = "ledger";
            #[doc = "credit(account_id, amount): execute: a no-op once the transaction has failed; an account that does not exist (flag lane 0 is 0, or an id beyond capacity) sets status 2 (ACCOUNT_NOT_FOUND) without trapping; else decreases the balance by amount as i64 (saturating) and records a CREDIT entry. register(): sets status 8 (PROHIBITED_HOST_CALL) and does nothing"]
            fn credit(account_id: u64, amount: u64);
            #[doc = "debit(account_id, amount): execute: a no-op once the transaction has failed; an account that does not exist sets status 2 (ACCOUNT_NOT_FOUND) without trapping; else increases the balance by amount as i64 (saturating) and records a DEBIT entry. register(): sets status 8 (PROHIBITED_HOST_CALL) and does nothing"]
            fn debit(account_id: u64, amount: u64);
            #[doc = "get_balance(account_id) -> i64: execute: the raw balance, this transaction's own moves included; 0 beyond capacity; no existence check. register(): sets status 8 (PROHIBITED_HOST_CALL) and returns 0"]
            fn get_balance(account_id: u64) -> i64;
            #[doc = "linked_account(parent_id, link_type) -> u64: execute: the child account of (parent_id, link_type & 0xFFFF); a miss creates it with the next account id as a PROGRAMMED account (lane 0 = 2) and records AccountOpened{child, 1, flags 2} then AccountLinked{parent, type, child}, a hit records nothing; the parent is not checked; runs even after an earlier failure; undone if the transaction fails. register(): sets status 8 (PROHIBITED_HOST_CALL) and returns 0"]
            fn linked_account(parent_id: u64, link_type: u32) -> u64;
            #[doc = "get_flag(account_id, lane) -> u32: execute: the byte in flag lane `lane` (lanes act modulo 8; lane 0 is the account's status: 0 none, 1 open, 2 programmed, 3 system); 0 beyond capacity. register(): sets status 8 (PROHIBITED_HOST_CALL) and returns 0"]
            fn get_flag(account_id: u64, lane: u32) -> u32;
            #[doc = "has_flag(account_id, lane, value) -> u32: execute: 1 if flag lane `lane` holds the low byte of value, else 0. register(): sets status 8 (PROHIBITED_HOST_CALL) and returns 0"]
            fn has_flag(account_id: u64, lane: u32, value: u32) -> u32;
            #[doc = "set_flag(account_id, lane, value): execute: writes the low byte of value to flag lane `lane` (any lane, 0 included) and records AccountFlagsUpdated{id, prev, new}; an unchanged value or an id beyond capacity is a no-op. register(): sets status 8 (PROHIBITED_HOST_CALL) and does nothing"]
            fn set_flag(account_id: u64, lane: u32, value: u32);
            #[doc = "kv_get(key0, key1, key2, key3) -> i64: execute: the value under the 4-component key (a component with bit 31 set is constant id `c & 0x7FFF_FFFF`, else an integer); 0 when absent. register(): sets status 8 (PROHIBITED_HOST_CALL) and returns 0"]
            fn kv_get(key0: u32, key1: u32, key2: u32, key3: u32) -> i64;
            #[doc = "kv_set(key0, key1, key2, key3, value): execute: stores value under the key and records a Kv follower on every call, an unchanged value too; there is no delete. register(): sets status 8 (PROHIBITED_HOST_CALL) and does nothing"]
            fn kv_set(key0: u32, key1: u32, key2: u32, key3: u32, value: i64);
            #[doc = "kv_register_constant(name_ptr): register(): registers the name at name_ptr (NUL-terminated, in the exported `memory`, bytes not checked for UTF-8) as a KV constant unless it exists (ids from 1, one map shared by all functions; a new name records KvConstant{id, name}); a name over 32 bytes sets status 10 (CONSTANT_NAME_TOO_LONG) and traps; no `memory` export or name_ptr past its end traps (status 5). execute: sets status 8 (PROHIBITED_HOST_CALL) and traps"]
            #[phase = RegisterOrTrap]
            fn kv_register_constant(name_ptr: u32);
            #[doc = "kv_get_constant(name_ptr) -> u32: execute: the id of the constant named at name_ptr (NUL-terminated, in the exported `memory`; no length check), with bit 31 set for use as a key component; an unknown name sets status 9 (CONSTANT_NOT_FOUND) and traps; no `memory` export or name_ptr past its end traps (status 5). register(): sets status 8 (PROHIBITED_HOST_CALL) and traps"]
            #[phase = ExecuteOrTrap]
            fn kv_get_constant(name_ptr: u32) -> u32;
        }
    };
}

/// The [`IntType`] of a Rust integer type in an import list.
macro_rules! int_type {
    (u64) => {
        $crate::IntType::U64
    };
    (i64) => {
        $crate::IntType::I64
    };
    (u32) => {
        $crate::IntType::U32
    };
    (i32) => {
        $crate::IntType::I32
    };
}

/// The optional result's [`IntType`].
macro_rules! result_type {
    () => {
        None
    };
    ($r:ident) => {
        Some(int_type!($r))
    };
}

/// The optional phase's [`Phase`]: [`Phase::Execute`] when absent.
macro_rules! phase {
    () => {
        $crate::Phase::Execute
    };
    ($phase:ident) => {
        $crate::Phase::$phase
    };
}

/// Builds `HOST_MODULE` and `HOST_IMPORTS` from an import list.
macro_rules! import_table {
    (module = $module:literal; $( #[doc = $doc:literal] $(#[phase = $phase:ident])? fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
        /// The import module every host function lives in.
        pub const HOST_MODULE: &str = $module;

        /// Every host function a module may import, all in [`HOST_MODULE`].
        pub const HOST_IMPORTS: &[$crate::HostImport] = &[$(
            $crate::HostImport {
                name: stringify!($name),
                params: &[$($crate::Param { name: stringify!($p), ty: int_type!($t) }),*],
                result: result_type!($($r)?),
                signature: $crate::Signature {
                    params: &[$(int_type!($t).val_type()),*],
                    results: &[$(int_type!($r).val_type())?],
                },
                doc: $doc,
                phase: phase!($($phase)?),
            }
        ),*];
    };
}

/// The seed's ABI (upstream ee2b042): three imports, `execute(i64 x 8) -> i32`.
pub mod v1 {
    v1_host_imports!(import_table);
}

/// The ABI of upstream's current server (e14b146): eleven imports,
/// accounts that must exist, flags, linked accounts, KV and constants, an
/// optional `register()` export.
pub mod v2 {
    v2_host_imports!(import_table);

    /// A key component with this bit set names a constant (`c & 0x7FFF_FFFF`).
    pub const CONSTANT_BIT: u32 = 0x8000_0000;

    #[cfg(feature = "alloc")]
    pub use crate::state::{
        AccountStatus, CallEnd, CallPhase, Hazards, HostCall, HostTrap, INITIAL_CAPACITY, Record, State,
        constant_name_at, lane_of,
    };
}

/// `execute(i64 x 8) -> i32`, the entry point of both profiles.
const EXECUTE: EntryPoint = EntryPoint {
    name: "execute",
    signature: Signature { params: &[ValType::I64; PARAM_COUNT], results: &[ValType::I32] },
};

/// The seed's profile (upstream ee2b042).
pub const V1: Profile = Profile {
    id: ProfileId::V1,
    name: "v1",
    upstream_commit: "ee2b042",
    host_module: v1::HOST_MODULE,
    host_imports: v1::HOST_IMPORTS,
    entry_point: EXECUTE,
    optional_exports: &[],
    memory_export: None,
    statuses: Status::STANDARD,
    limits: ProfileLimits {
        max_binary_size: MAX_BINARY_SIZE,
        max_name_len: MAX_NAME_LEN,
        max_entries_per_tx: MAX_ENTRIES_PER_TX,
        default_max_accounts: Some(DEFAULT_MAX_ACCOUNTS),
        max_constant_name_len: 0,
        max_instances: MAX_INSTANCES,
    },
};

/// Upstream's current server (e14b146).
pub const V2: Profile = Profile {
    id: ProfileId::V2,
    name: "v2",
    upstream_commit: "e14b146",
    host_module: v2::HOST_MODULE,
    host_imports: v2::HOST_IMPORTS,
    entry_point: EXECUTE,
    optional_exports: &[OptionalExport {
        name: "register",
        signature: Signature { params: &[], results: &[] },
        doc: "runs once when the function registers, on the instance calls reuse; may call kv_register_constant only (data verbs set status 8); a failure rolls the registration back",
    }],
    memory_export: Some("memory"),
    // v1's reasons less 6 (retired: v2 has no account maximum), with 4's
    // limit raised, plus 8-10.
    statuses: &[
        Status::STANDARD[0],
        Status::STANDARD[1],
        Status::STANDARD[2],
        Status::STANDARD[3],
        StatusInfo {
            status: Status::ENTRY_LIMIT_EXCEEDED,
            name: "ENTRY_LIMIT_EXCEEDED",
            meaning: "more than 65,535 records (entries, accounts opened and linked, flag updates, KV writes) in one transaction",
        },
        Status::STANDARD[5],
        Status::STANDARD[7],
        Status::V2_ADDED[0],
        Status::V2_ADDED[1],
        Status::V2_ADDED[2],
    ],
    limits: ProfileLimits {
        max_binary_size: MAX_BINARY_SIZE,
        max_name_len: MAX_NAME_LEN,
        max_entries_per_tx: V2_MAX_RECORDS_PER_TX,
        default_max_accounts: None,
        max_constant_name_len: MAX_CONSTANT_NAME_LEN,
        max_instances: MAX_INSTANCES,
    },
};

/// Every profile, oldest first.
pub const PROFILES: &[Profile] = &[V1, V2];

/// Looks up a profile by its [`name`](Profile::name).
///
/// ```
/// assert_eq!(ledger_abi::profile("v1"), Some(&ledger_abi::V1));
/// assert_eq!(ledger_abi::profile("v2"), Some(&ledger_abi::V2));
/// assert_eq!(ledger_abi::profile("v9"), None);
/// ```
pub fn profile(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|profile| profile.name == name)
}

/// The parameters a server passes to the entry point: the call's first
/// [`PARAM_COUNT`] values, zero-padded; more are dropped, as a server does.
///
/// ```
/// assert_eq!(ledger_abi::param_slots(&[1, 2]), [1, 2, 0, 0, 0, 0, 0, 0]);
/// ```
#[inline]
pub fn param_slots(params: &[i64]) -> [i64; PARAM_COUNT] {
    // Slot by slot: a copy of `min(len, 8)` values compiled to a call to
    // `memcpy`, on every call a ledger runs.
    core::array::from_fn(|i| params.get(i).copied().unwrap_or(0))
}

/// `a == b` for two names (of functions, of constants), without a call
/// into libc's `memcmp` for a name of 4 to 16 bytes (most are): two
/// overlapping words from each end. A ledger compares a call's name with
/// the one called last, and `memcmp` took a third of that lookup.
///
/// ```
/// assert!(ledger_abi::same_name(b"fee_transfer", b"fee_transfer"));
/// assert!(!ledger_abi::same_name(b"fee_transfer", b"fee_transfex"));
/// assert!(!ledger_abi::same_name(b"counter", b"counters"));
/// ```
#[inline(always)]
pub fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word8 = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let word4 = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match n {
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        4..8 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;

    /// Word-wise comparison agrees with `==` at every length, for a byte
    /// changed anywhere.
    #[test]
    fn names_compare_as_bytes_do() {
        for len in 0..40 {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_name(&name, &name.clone()), "{len}");
            for at in 0..len {
                let mut other = name.clone();
                other[at] = b'_';
                assert!(!same_name(&name, &other), "{len} at {at}");
            }
            let longer = [name.as_slice(), b"x"].concat();
            assert!(!same_name(&name, &longer), "{len}");
        }
    }

    /// head.md's table of v2 imports, as wasm signatures.
    #[test]
    fn v2_imports_have_upstreams_wasm_signatures() {
        let expected = [
            ("credit", "(i64, i64) -> ()"),
            ("debit", "(i64, i64) -> ()"),
            ("get_balance", "(i64) -> i64"),
            ("linked_account", "(i64, i32) -> i64"),
            ("get_flag", "(i64, i32) -> i32"),
            ("has_flag", "(i64, i32, i32) -> i32"),
            ("set_flag", "(i64, i32, i32) -> ()"),
            ("kv_get", "(i32, i32, i32, i32) -> i64"),
            ("kv_set", "(i32, i32, i32, i32, i64) -> ()"),
            ("kv_register_constant", "(i32) -> ()"),
            ("kv_get_constant", "(i32) -> i32"),
        ];
        let found: Vec<(&str, String)> = V2.host_imports.iter().map(|i| (i.name, i.signature.to_string())).collect();
        let expected: Vec<(&str, String)> = expected.iter().map(|(n, s)| (*n, s.to_string())).collect();
        assert_eq!(found, expected);
        assert_eq!(V2.host_module, "ledger");
    }

    #[test]
    fn v2_phases_and_exports() {
        let phase = |name| V2.host_import(name).unwrap().phase;
        assert_eq!(phase("kv_register_constant"), Phase::RegisterOrTrap);
        assert_eq!(phase("kv_get_constant"), Phase::ExecuteOrTrap);
        assert_eq!(phase("credit"), Phase::Execute);
        assert!(V1.host_imports.iter().all(|i| i.phase == Phase::Execute), "v1 has no register phase");
        let register = V2.optional_export("register").unwrap();
        assert_eq!(register.signature.to_string(), "() -> ()");
        assert_eq!(V2.memory_export, Some("memory"));
        assert_eq!(V1.memory_export, None);
    }

    #[test]
    fn v2_statuses_retire_6_and_add_8_to_10() {
        let codes = |p: &Profile| p.statuses.iter().map(|s| s.status.code()).collect::<Vec<u8>>();
        assert_eq!(codes(&V1), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(codes(&V2), [0, 1, 2, 3, 4, 5, 7, 8, 9, 10]);
        assert_eq!(Status::CONSTANT_NAME_TOO_LONG.code(), 10);
        assert_eq!(V2.limits.max_entries_per_tx, 65_535);
        assert_eq!(V2.limits.default_max_accounts, None);
    }
}
