//! The library behind `cargo roda`: project files, scaffolding, building and
//! validating roda-ledger functions. The binary only parses arguments,
//! dispatches to these modules and maps their errors to exit codes, so tests
//! call the same code directly.

#![warn(missing_docs)]

pub mod builder;
pub mod costs;
pub mod error;
pub mod exit;
pub mod fuzz;
pub mod junit;
pub mod output;
pub mod project;
pub mod scaffold;
pub mod scenario;
pub mod validate;
