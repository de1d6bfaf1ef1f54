//! The roda-ledger function ABI, as data.
//!
//! A roda-ledger function is a WebAssembly module that exports one entry
//! point and may import the ledger's host functions. This crate is that
//! contract, written down once: every other part of the toolchain derives
//! from it.
//!
//! - [`Profile`]: one host ABI as a server runs it ([`V1`], the seed's), with
//!   its host imports, entry point and limits. The validator, the runtime's
//!   linker, the guest SDK's bindings, the AssemblyScript bindings
//!   ([`bindings`]) and the reference page all read it.
//! - [`v1_host_imports!`]: the same imports as tokens, so Rust code that must
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
mod moves;
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
    /// What the call does, in one line.
    pub doc: &'static str,
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
    /// Most entries one transaction may produce; one more is status 4.
    pub max_entries_per_tx: usize,
    /// The server's default number of accounts: ids `0..default_max_accounts`.
    pub default_max_accounts: u64,
}

/// One host ABI, as one version of the roda-ledger server runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
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

/// Builds `HOST_MODULE` and `HOST_IMPORTS` from an import list.
macro_rules! import_table {
    (module = $module:literal; $( #[doc = $doc:literal] fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
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
            }
        ),*];
    };
}

/// The seed's ABI (upstream ee2b042): three imports, `execute(i64 x 8) -> i32`.
pub mod v1 {
    v1_host_imports!(import_table);
}

/// The seed's profile (upstream ee2b042).
pub const V1: Profile = Profile {
    name: "v1",
    upstream_commit: "ee2b042",
    host_module: v1::HOST_MODULE,
    host_imports: v1::HOST_IMPORTS,
    entry_point: EntryPoint {
        name: "execute",
        signature: Signature { params: &[ValType::I64; PARAM_COUNT], results: &[ValType::I32] },
    },
    limits: ProfileLimits {
        max_binary_size: MAX_BINARY_SIZE,
        max_name_len: MAX_NAME_LEN,
        max_entries_per_tx: MAX_ENTRIES_PER_TX,
        default_max_accounts: DEFAULT_MAX_ACCOUNTS,
    },
};

/// Every profile, oldest first.
pub const PROFILES: &[Profile] = &[V1];

/// Looks up a profile by its [`name`](Profile::name).
///
/// ```
/// assert_eq!(ledger_abi::profile("v1"), Some(&ledger_abi::V1));
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
pub fn param_slots(params: &[i64]) -> [i64; PARAM_COUNT] {
    let mut slots = [0; PARAM_COUNT];
    for (slot, value) in slots.iter_mut().zip(params) {
        *slot = *value;
    }
    slots
}
