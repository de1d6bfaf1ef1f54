//! Upstream's `transfer` example written with ledger-guest's v2 API: the
//! size test compares it with `transfer_v2_raw`, the same code on raw
//! imports.
#![no_std]

use ledger_guest::v2::{AccountId, credit, debit, execute};

#[execute]
fn transfer(from: AccountId, amount: u64, to: AccountId) {
    debit(from, amount);
    credit(to, amount);
}
