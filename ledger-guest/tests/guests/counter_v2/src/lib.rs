//! Upstream's `counter` example written with ledger-guest's v2 API: the size
//! test compares it with `counter_v2_raw`, the same code on raw imports.
#![no_std]

use ledger_guest::v2::{AccountId, KeyPart, Status, constant, credit, debit, execute, key, kv_get, kv_set, register, register_constant};

#[register]
fn define_constants() {
    register_constant(c"counter");
}

#[execute]
fn count(account: AccountId) -> Result<(), Status> {
    let key = key([constant(c"counter"), KeyPart::account(account)?]);
    let next = kv_get(key) + 1;
    kv_set(key, next);
    debit(AccountId::SYSTEM, next as u64);
    credit(account, next as u64);
    Ok(())
}
