//! Safe bindings to the ledger's host imports.
//!
//! The imports are declared once, in `ffi`, generated from the ABI table
//! ([`ledger_abi::v1_host_imports!`]): on wasm32 they are the `ledger`
//! module's functions; elsewhere the same names call the thread's
//! [`MockLedger`](crate::testing::MockLedger), whose ledger is the same
//! `ledger_abi::Accounts` the simulator runs host calls on.

use crate::AccountId;

/// Declares `ffi`: the imports on wasm32, the mock's forwarding functions
/// elsewhere, both with the table's exact names and signatures.
macro_rules! declare_ffi {
    (module = $module:literal; $( #[doc = $doc:literal] fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
        #[cfg(target_arch = "wasm32")]
        mod ffi {
            #[link(wasm_import_module = $module)]
            unsafe extern "C" {
                $( #[doc = $doc] pub fn $name($($p: $t),*) $(-> $r)?; )*
            }
        }

        #[cfg(not(target_arch = "wasm32"))]
        mod ffi {
            $(
                #[doc = $doc]
                pub unsafe fn $name($($p: $t),*) $(-> $r)? {
                    crate::testing::with_accounts(|accounts| accounts.$name($($p),*))
                }
            )*
        }
    };
}

ledger_abi::v1_host_imports!(declare_ffi);

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
