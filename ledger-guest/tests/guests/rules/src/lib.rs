//! A function that walks every ledger rule, built for wasm32 here and run
//! natively by ledger-guest's tests (which include `rules.rs`).
#![no_std]

mod rules;
