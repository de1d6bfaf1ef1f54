//! Scenario tests for roda-ledger functions, usable from any crate's
//! `cargo test`: load scenario files, run them against the built `.wasm` in
//! an in-process ledger that executes exactly as a server does, and assert
//! on typed results. `cargo roda test` is this crate plus argument parsing
//! and printing.
//!
//! ```
//! use roda_test::{Mismatch, Runner, ScenarioFile};
//! use ledger_core::Status;
//!
//! // A function that moves `amount` (param 2) from param 0 to param 1.
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (import "ledger" "credit" (func $credit (param i64 i64)))
//!     (import "ledger" "debit" (func $debit (param i64 i64)))
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       (call $credit (local.get 0) (local.get 2))
//!       (call $debit (local.get 1) (local.get 2))
//!       i32.const 0))
//! "#)?;
//! let file = ScenarioFile::from_str(r#"
//!   version = 1
//!   [[scenario]]
//!   name = "moves the amount"
//!   balances = { 1 = 100 }
//!   steps = [
//!     { call = "move", params = [1, 2, 40], balances = { 1 = 60, 2 = 40 } },
//!     { call = "move", params = [1, 2, 40], balances = { 2 = 70 } },
//!   ]
//! "#, "tests/move.toml")?;
//!
//! let report = Runner::new(wasm, "move").run_file(&file);
//! let scenario = &report.scenarios[0];
//! assert!(!scenario.passed());
//! // The second step left 80 in account 2, not 70.
//! let failed = scenario.failed_step().unwrap();
//! assert_eq!((failed.step, failed.line), (2, 8));
//! assert_eq!(failed.status, Status::NONE);
//! assert_eq!(failed.mismatches, [Mismatch::Balance { account: 2, expected: 70, actual: 80 }]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The format (version 1):
//!
//! ```toml
//! version = 1
//! # Other functions to register, by name (paths relative to this file).
//! functions = { helper = "../helper/build/function.wasm" }
//!
//! [[scenario]]
//! name = "fee transfer moves the amount and the fee"
//! balances = { 101 = 20000 }        # starting balances, set directly
//! steps = [
//!   { call = "fee_transfer", params = [101, 202, 999, 10000, 50], expect = "NONE",
//!     balances = { 101 = 9950, 202 = 10000, 999 = 50 } },
//!   { deposit = { account = 101, amount = 5 }, user_ref = 7 },
//!   { transfer = { from = 101, to = 202, amount = 1 }, user_ref = 7, expect = "DUPLICATE" },
//!   { withdrawal = { account = 202, amount = 1 },
//!     entries = [{ account = 202, amount = 1, kind = "credit" }, { account = 0, amount = 1, kind = "debit" }] },
//! ]
//!
//! [scenario.fuzz]                   # for Runner::fuzz (`cargo roda test --fuzz`)
//! call = "fee_transfer"
//! params = [{ accounts = [101, 202] }, { accounts = [202, 303] }, { value = 999 },
//!           { range = [0, 1000000] }, { range = [0, 100] }]
//! balances = { accounts = [101, 202], range = [0, 2000000] }
//! allowed = ["NONE", "INSUFFICIENT_FUNDS"]
//! never_negative = [202, 999]
//! ```
//!
//! A step's `expect` defaults to `"NONE"`; statuses are names or numbers.
//! Only the balances listed are checked; `entries`, when given, must match
//! exactly. Unknown keys are errors, with their line.

#![warn(missing_docs)]

pub mod compare;
pub mod costs;
pub mod diff;
mod draw;
pub mod fs;
pub mod fuzz;
pub mod junit;
mod lint;
pub mod model;
mod parse;
mod run;
mod sim;
mod write;

pub use costs::{Costs, CostsError, Regression};
pub use fuzz::{FuzzError, FuzzFailure, FuzzOptions, FuzzReport, Violation};
pub use junit::JunitError;
/// The ABI profiles a [`Runner`] runs ([`abi::V1`], [`abi::V2`]), and the
/// rest of `ledger_core::abi`.
pub use ledger_core::abi;
pub use lint::{Lint, hazard_lints, lints, lints_for};
pub use model::{AccountMap, Action, FORMAT_VERSION, Scenario, ScenarioFile, Step};
pub use parse::{Interfaces, Problem, ScenarioError, scenario_paths, scenario_schema};
pub use run::{
    Answer, FileReport, Mismatch, Runner, ScenarioReport, Session, SetupError, Start, StepReport, View, check,
};

/// Serialises a value as its `Display` text (statuses by name).
fn display<T: std::fmt::Display, S: serde::Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Serialises an optional value as its `Display` text, or null.
fn display_option<T: std::fmt::Display, S: serde::Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}
