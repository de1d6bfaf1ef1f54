//! Write roda-ledger functions in Rust.
//!
//! A function is a plain Rust function marked [`#[execute]`](execute). It
//! moves value with [`credit`] and [`debit`], reads balances with
//! [`get_balance`], and reports a [`Status`]:
//!
//! ```
//! use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance};
//!
//! /// Transfer `amount` from `sender` to `receiver`, taking a `fee_bps` fee.
//! #[execute]
//! fn fee_transfer(sender: AccountId, receiver: AccountId, fee_account: AccountId, amount: Amount, fee_bps: u32) -> Result<(), Status> {
//!     // No balance holds more than an Amount can: a larger fee or total cannot be paid.
//!     let fee = amount.fraction(fee_bps, 10_000).ok_or(Status::INSUFFICIENT_FUNDS)?;
//!     let total = amount.checked_add(fee).ok_or(Status::INSUFFICIENT_FUNDS)?;
//!     if get_balance(sender) < total.signed() {
//!         return Err(Status::INSUFFICIENT_FUNDS);
//!     }
//!     credit(sender, total.get());
//!     debit(receiver, amount.get());
//!     debit(fee_account, fee.get());
//!     Ok(())
//! }
//!
//! // The same function, unit-tested natively against a mock ledger that
//! // applies the ledger's rules.
//! # fn main() {
//! use ledger_guest::testing::MockLedger;
//! let (sender, receiver, fees) = (AccountId::new(101), AccountId::new(202), AccountId::new(999));
//! let mut ledger = MockLedger::new();
//! ledger.set_balance(sender, 20_000);
//! let status = ledger.execute(|| fee_transfer(sender, receiver, fees, Amount::new(10_000).unwrap(), 50));
//! assert_eq!(status, Status::NONE);
//! assert_eq!(ledger.balance(receiver), 10_000);
//! assert_eq!(ledger.balance(fees), 50);
//! // A negative amount never reaches the function: the entry point refuses it.
//! let slots = [101, 202, 999, -5, 50];
//! assert_eq!(ledger.call(execute_slots, &slots), Status::NEGATIVE_AMOUNT);
//! assert_eq!(ledger.balance(receiver), 10_000);
//! # }
//! ```
//!
//! The crate is `no_std` and needs no allocator. On `wasm32` the bindings are
//! the ledger's host imports; everywhere else they call the thread's
//! [`testing::MockLedger`].

#![no_std]
#![warn(missing_docs)]

#[cfg(not(target_arch = "wasm32"))]
extern crate std;

mod account;
mod amount;
mod host;
#[cfg(not(target_arch = "wasm32"))]
mod slot;
mod status;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
#[cfg(feature = "v2")]
pub mod v2;

pub use account::AccountId;
pub use amount::Amount;
pub use host::{credit, debit, get_balance, transfer};
pub use status::{IntoStatus, Status};

/// Turns a plain Rust function into the ledger's `execute` export.
///
/// ```
/// use ledger_guest::{AccountId, Status, execute};
///
/// #[execute]
/// fn check(account: AccountId, limit: u64, strict: bool) -> Status {
///     if strict && ledger_guest::get_balance(account) > limit as i64 {
///         return Status::user(130);
///     }
///     Status::NONE
/// }
/// # fn main() {
/// # let _ledger = ledger_guest::testing::MockLedger::new();
/// # assert_eq!(check(AccountId::new(1), 0, true), Status::NONE);
/// # }
/// ```
///
/// The function keeps its name and stays an ordinary function that native
/// tests call. Beside it the macro defines `execute_slots(params: [i64; 8])
/// -> Status`, the exact entry point: it converts each slot to the
/// parameter's type, calls the function and returns its status (native tests
/// run it with [`testing::MockLedger::call`]). On `wasm32` it adds
/// `#[unsafe(no_mangle)] pub extern "C" fn execute(i64 x 8) -> i32`, which
/// calls `execute_slots`.
///
/// **Parameters**: up to eight, in slot order; unused slots are ignored.
///
/// | type | from the `i64` slot |
/// |---|---|
/// | `i64` | as is |
/// | [`Amount`] | the value if it is not negative; otherwise the call fails with [`Status::NEGATIVE_AMOUNT`] before your code runs |
/// | `u64`, [`AccountId`] | the same 64 bits (`-1` is `u64::MAX`): never take an amount as a `u64` |
/// | `bool` | `0` is `false`, anything else `true` |
/// | `i32`, `u32` | the value if it fits; otherwise the call fails with [`Status::INVALID_OPERATION`] before your code runs |
///
/// **Returns**: `Result<(), Status>`, [`Status`] or nothing (always success).
///
/// **Options**: `#[execute(crate = "path::to::ledger_guest")]` when the crate
/// is renamed or re-exported.
///
/// Only one `#[execute]` function may exist in a crate, and it must not itself
/// be named `execute`; generics, `async`, `self` and `extern` are refused with
/// a compile error.
pub use ledger_guest_macros::execute;

/// Names one of the function's own statuses in its interface manifest (the
/// `roda.interface` custom section), so tools print `USER(140) =
/// UNDERCOLLATERALIZED` and scenarios may write `expect =
/// "UNDERCOLLATERALIZED"`.
///
/// ```
/// use ledger_guest::{Status, status};
///
/// /// The collateral does not cover the loan at the required ratio.
/// #[status]
/// pub const UNDERCOLLATERALIZED: Status = Status::user(140);
/// # fn main() { assert_eq!(UNDERCOLLATERALIZED.code(), 140); }
/// ```
///
/// The constant stays as written; its code is read from its value at compile
/// time and its doc comment goes with it. `#[execute]` writes the
/// parameters' names and kinds and the function's doc the same way, and
/// `#[register]` the constants it registers with a literal name. The section
/// holds no code: a server ignores it (its CRC32C covers it like any other
/// byte). `cargo roda inspect FILE` prints it.
///
/// **Options**: `#[status(crate = "path::to::ledger_guest")]`.
pub use ledger_guest_macros::status;

/// Implementation details of `#[execute]` and `#[status]`. Not public API.
#[doc(hidden)]
pub mod __private {
    use crate::{AccountId, Amount, Status};

    /// `prefix`, the status's code right-aligned in three characters, then
    /// `suffix`: a manifest line whose code the compiler computes.
    pub const fn status_line<const N: usize>(prefix: &[u8], code: u8, suffix: &[u8]) -> [u8; N] {
        assert!(prefix.len() + 3 + suffix.len() == N, "the line's length");
        let mut line = [b' '; N];
        let mut i = 0;
        while i < prefix.len() {
            line[i] = prefix[i];
            i += 1;
        }
        let digits = [code / 100, code / 10 % 10, code % 10];
        let first = if code >= 100 {
            0
        } else if code >= 10 {
            1
        } else {
            2
        };
        let mut d = first;
        while d < 3 {
            line[prefix.len() + d] = b'0' + digits[d];
            d += 1;
        }
        let mut j = 0;
        while j < suffix.len() {
            line[prefix.len() + 3 + j] = suffix[j];
            j += 1;
        }
        line
    }

    /// Converts an `i64` slot of `execute` to a parameter type.
    pub trait FromParam: Sized {
        /// The value, or the status the call fails with.
        fn from_param(slot: i64) -> Result<Self, Status>;
    }

    impl FromParam for i64 {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            Ok(slot)
        }
    }

    impl FromParam for u64 {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            Ok(slot as u64)
        }
    }

    impl FromParam for AccountId {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            Ok(AccountId::new(slot as u64))
        }
    }

    impl FromParam for Amount {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            Amount::from_slot(slot)
        }
    }

    impl FromParam for bool {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            Ok(slot != 0)
        }
    }

    impl FromParam for i32 {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            i32::try_from(slot).map_err(|_| Status::INVALID_OPERATION)
        }
    }

    impl FromParam for u32 {
        #[inline(always)]
        fn from_param(slot: i64) -> Result<Self, Status> {
            u32::try_from(slot).map_err(|_| Status::INVALID_OPERATION)
        }
    }
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Rust guide's examples (`docs/rust.md`), compiled and run as doctests.
#[doc = include_str!("../../docs/rust.md")]
#[cfg(doctest)]
pub struct GuideDoctests;

/// On wasm32 a panic traps; the ledger rolls the transaction back with status 5.
#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
