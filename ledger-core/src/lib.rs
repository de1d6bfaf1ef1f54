//! The in-process roda-ledger.
//!
//! `ledger-core` does with a function binary what a roda-ledger server does:
//! it validates the ABI ([`abi`]), registers names with versions and CRC32C
//! ([`Ledger::register_function`]), and executes calls under wasmtime with the three host
//! imports, the zero-sum check, rollback and the server's status codes
//! ([`Ledger`]). Where the server has no guard (infinite loops, state kept
//! between calls), it adds one and reports it as its own outcome while the
//! ledger status stays what the server would return.
//!
//! ```
//! use ledger_core::{abi, IfRegistered, Ledger, Operation, Status};
//!
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       i32.const 256))
//! "#).unwrap();
//! assert!(abi::validate(&wasm).is_valid());
//!
//! let mut ledger = Ledger::new(Default::default()).unwrap();
//! ledger.register_function("commits", &wasm, IfRegistered::Refuse).unwrap();
//! let op = Operation::Function { name: "commits".into(), params: vec![], user_ref: 0 };
//! // The server keeps the low byte of the return value: 256 commits.
//! assert_eq!(ledger.submit(&op).status, Status::NONE);
//! ```

#![warn(missing_docs)]

pub mod abi;
mod crc;
mod engine;
mod functions;
pub mod interface;
pub mod preflight;
pub mod probe;
mod registry;
mod runtime;
pub mod v1;
pub mod v2;

pub use crc::crc32c;
pub use engine::{
    AnyOperation, Base, CallReport, CarriedState, CompiledFunction, Compiler, DEFAULT_DEDUP_WINDOW,
    DEFAULT_MAX_HISTORY, Engine, ForEngine, IfRegistered, Installed, LedgerConfig, PreparedFunction, Processed,
    RestoreError, SetupError, Writes, for_profile, tags,
};
pub use ledger_abi::{
    Accounts, DEFAULT_MAX_ACCOUNTS, Entry, EntryKind, MAX_ENTRIES_PER_TX, SYSTEM_ACCOUNT, Status, StatusInfo,
    StatusName, ZeroSum,
};
pub use registry::{BinaryError, ErrorCode, FunctionInfo, Registered, RegistryError};
pub use runtime::{
    CallOutcome, DEFAULT_FUEL_PER_CALL, DEFAULT_MAX_CACHED_BYTES, DEFAULT_MAX_MEMORY_BYTES, DEFAULT_MAX_STACK_BYTES,
    HostImportTrap, Interrupter, Limits, TrapCode,
};
/// ABI v1's ledger and its types, also at the crate's root: the seed's
/// profile, which most of this crate's examples use.
pub use v1::{Ledger, LogRecord, MAX_ACCOUNTS_LIMIT, Operation, Transaction};
