//! The library behind `cargo roda`: project files, scaffolding, building and
//! validating roda-ledger functions, watching their sources (scenarios, fuzzing, fuel baselines and
//! JUnit reports live in `roda-test`). The binary only parses arguments,
//! dispatches to these modules and maps their errors to exit codes, so tests
//! call the same code directly.

#![warn(missing_docs)]

pub mod builder;
pub mod coverage;
pub mod deployments;
pub mod docs;
pub mod error;
pub mod exit;
pub mod flame;
pub mod output;
pub mod project;
pub mod refusal;
pub mod scaffold;
pub mod sdk;
pub mod validate;
pub mod watch;
