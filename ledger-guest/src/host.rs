//! Safe bindings to the ledger's three host imports.
//!
//! The imports are declared once, in `ffi`: on wasm32 they are the `ledger`
//! module's functions; elsewhere the same names call the thread's
//! [`MockLedger`](crate::testing::MockLedger).

use crate::AccountId;

#[cfg(target_arch = "wasm32")]
mod ffi {
    #[link(wasm_import_module = "ledger")]
    unsafe extern "C" {
        pub fn credit(account_id: u64, amount: u64);
        pub fn debit(account_id: u64, amount: u64);
        pub fn get_balance(account_id: u64) -> i64;
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod ffi {
    pub(super) use crate::testing::host::{credit, debit, get_balance};
}

/// Takes `amount` out of `account`: its balance decreases by `amount`.
///
/// Never fails by itself. The balance saturates at `i64::MIN`, and the
/// ledger applies `amount as i64`, so an amount of 2^63 or more moves the
/// balance the other way. An account id at or above the ledger's
/// `max_accounts` fails the whole transaction with status 6. Every `credit`
/// needs matching `debit`s in the same call, or the transaction fails with
/// status 3 (ZERO_SUM_VIOLATION).
#[inline(always)]
pub fn credit(account: AccountId, amount: u64) {
    // SAFETY: the import takes two integers and has no other requirement.
    unsafe { ffi::credit(account.get(), amount) }
}

/// Puts `amount` into `account`: its balance increases by `amount`.
///
/// The mirror of [`credit`], with the same rules (saturating at `i64::MAX`).
#[inline(always)]
pub fn debit(account: AccountId, amount: u64) {
    // SAFETY: the import takes two integers and has no other requirement.
    unsafe { ffi::debit(account.get(), amount) }
}

/// The balance of `account` now, including this transaction's own credits
/// and debits. 0 for an account never used or out of range.
#[inline(always)]
pub fn get_balance(account: AccountId) -> i64 {
    // SAFETY: the import takes an integer and has no other requirement.
    unsafe { ffi::get_balance(account.get()) }
}

/// Moves `amount` from `from` to `to`: a [`credit`] and a [`debit`], which
/// keeps the transaction balanced.
///
/// Unlike the built-in Transfer, it does not check funds; check
/// [`get_balance`] first if the function must not overdraw.
#[inline(always)]
pub fn transfer(from: AccountId, to: AccountId, amount: u64) {
    credit(from, amount);
    debit(to, amount);
}
