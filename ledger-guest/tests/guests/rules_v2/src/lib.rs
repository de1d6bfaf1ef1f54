//! A function that walks the v2 rules, built for wasm32 here and run
//! natively on the v2 mock by ledger-guest's tests (which include
//! `rules_v2.rs`).
#![no_std]

mod rules_v2;
