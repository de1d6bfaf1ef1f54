//! A mock ledger behind the same bindings, for native unit tests.
//!
//! Off wasm32, [`credit`](crate::credit), [`debit`](crate::debit) and
//! [`get_balance`](crate::get_balance) act on the thread's [`MockLedger`].
//! [`MockLedger::execute`] runs a function as one transaction with the
//! ledger's rules: moves apply at once (so `get_balance` sees them), an
//! out-of-range account fails the transaction with status 6, a non-zero
//! status or a panic rolls every move back, more than 255 entries is status 4,
//! and unequal credits and debits is status 3. A test in this crate runs the
//! same function here and in `ledger-core`'s wasmtime ledger and compares.
//!
//! ```
//! use ledger_guest::testing::{EntryKind, MockLedger};
//! use ledger_guest::{AccountId, Status, credit, debit};
//!
//! let (a, b) = (AccountId::new(1), AccountId::new(2));
//! let mut ledger = MockLedger::new();
//! ledger.set_balance(a, 100);
//!
//! // Unbalanced: rolled back with ZERO_SUM_VIOLATION.
//! assert_eq!(ledger.execute(|| credit(a, 10)), Status::ZERO_SUM_VIOLATION);
//! assert_eq!(ledger.balance(a), 100);
//!
//! let status = ledger.execute(|| {
//!     credit(a, 10);
//!     debit(b, 10);
//! });
//! assert_eq!(status, Status::NONE);
//! assert_eq!(ledger.entries()[0].kind, EntryKind::Credit);
//! assert_eq!(ledger.balance(b), 10);
//! ```

use core::cell::RefCell;
use core::marker::PhantomData;
use std::vec::Vec;

use ledger_abi::Accounts;
pub use ledger_abi::{DEFAULT_MAX_ACCOUNTS, EntryKind, MAX_ENTRIES_PER_TX as MAX_ENTRIES};

use crate::slot::Slot;
use crate::{AccountId, IntoStatus, Status};

/// One recorded move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The account moved.
    pub account: AccountId,
    /// The amount as passed.
    pub amount: u64,
    /// Credit or debit.
    pub kind: EntryKind,
    /// The account's balance right after the move.
    pub computed_balance: i64,
}

impl From<&ledger_abi::Entry> for Entry {
    fn from(entry: &ledger_abi::Entry) -> Entry {
        Entry {
            account: AccountId::new(entry.account_id),
            amount: entry.amount,
            kind: entry.kind,
            computed_balance: entry.computed_balance,
        }
    }
}

std::thread_local! {
    /// The thread's ledger: the same [`Accounts`] the simulator runs host
    /// calls on, so the mock cannot drift from its arithmetic.
    static CURRENT: RefCell<Option<Accounts>> = const { RefCell::new(None) };
}

static SLOT: Slot<Accounts> = Slot::new(&CURRENT, "MockLedger", "ledger_guest::testing::MockLedger::new()");

/// Runs `f` on the thread's mock ledger.
pub(crate) fn with_accounts<T>(f: impl FnOnce(&mut Accounts) -> T) -> T {
    SLOT.with(f)
}

/// A mock ledger for this thread, fresh for each test. Dropping it removes it.
///
/// # Panics
///
/// [`MockLedger::new`] panics if the thread already has one.
pub struct MockLedger {
    // Tied to the thread whose host calls it serves.
    _thread_bound: PhantomData<*const ()>,
}

impl MockLedger {
    /// A ledger with every balance 0 and the default account limit.
    pub fn new() -> MockLedger {
        MockLedger::with_max_accounts(DEFAULT_MAX_ACCOUNTS)
    }

    /// A ledger whose account ids are `0..max_accounts`.
    pub fn with_max_accounts(max_accounts: u64) -> MockLedger {
        SLOT.install(Accounts::new(max_accounts));
        MockLedger { _thread_bound: PhantomData }
    }

    /// Sets a balance directly, outside any transaction. Ids at or above
    /// the account limit are ignored: the ledger has no such account.
    pub fn set_balance(&mut self, account: AccountId, balance: i64) {
        with_accounts(|accounts| accounts.set_balance(account.get(), balance))
    }

    /// An account's balance.
    pub fn balance(&self, account: AccountId) -> i64 {
        with_accounts(|accounts| accounts.get_balance(account.get()))
    }

    /// Every non-zero balance, by account.
    pub fn balances(&self) -> Vec<(AccountId, i64)> {
        with_accounts(|accounts| {
            let balances = accounts.balances().iter().enumerate();
            balances.filter(|(_, b)| **b != 0).map(|(id, b)| (AccountId::new(id as u64), *b)).collect()
        })
    }

    /// The entries the last [`execute`](MockLedger::execute) committed (none
    /// if it failed), or the moves made outside `execute` since.
    pub fn entries(&self) -> Vec<Entry> {
        with_accounts(|accounts| accounts.entries().iter().map(Entry::from).collect())
    }

    /// Runs `function` as one transaction under the ledger's rules and
    /// returns the status the ledger would record. A panic is status 5, as a
    /// trap is on the ledger.
    pub fn execute<R: IntoStatus>(&mut self, function: impl FnOnce() -> R) -> Status {
        with_accounts(Accounts::begin);
        let returned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(function))
            .map_or(Status::INVALID_OPERATION, IntoStatus::into_status);
        with_accounts(|accounts| {
            accounts.end_call(returned);
            accounts.settle()
        })
    }
}

impl MockLedger {
    /// Calls an `#[execute]` function through its `execute_slots` entry point
    /// with `params` as the ledger passes them: fewer than 8 are zero-padded,
    /// more are dropped. Returns the status the ledger would record.
    ///
    /// ```
    /// use ledger_guest::{AccountId, Status, execute, transfer};
    /// use ledger_guest::testing::MockLedger;
    ///
    /// #[execute]
    /// fn pay(from: AccountId, to: AccountId, amount: u64) {
    ///     transfer(from, to, amount);
    /// }
    ///
    /// # fn main() {
    /// let mut ledger = MockLedger::new();
    /// assert_eq!(ledger.call(execute_slots, &[1, 2, 30]), Status::NONE);
    /// assert_eq!(ledger.balance(AccountId::new(2)), 30);
    /// # }
    /// ```
    pub fn call(&mut self, entry_point: fn([i64; ledger_abi::PARAM_COUNT]) -> Status, params: &[i64]) -> Status {
        let slots = ledger_abi::param_slots(params);
        self.execute(|| entry_point(slots))
    }
}

impl Default for MockLedger {
    fn default() -> Self {
        MockLedger::new()
    }
}

impl Drop for MockLedger {
    fn drop(&mut self) {
        SLOT.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{credit, debit, get_balance};

    #[test]
    #[should_panic(expected = "no MockLedger on this thread")]
    fn host_call_without_a_mock_panics_with_a_fix() {
        get_balance(AccountId::new(1));
    }

    #[test]
    #[should_panic(expected = "already has a MockLedger")]
    fn two_mocks_on_one_thread_panic() {
        let _first = MockLedger::new();
        let _second = MockLedger::new();
    }

    #[test]
    fn a_dropped_mock_makes_room_for_a_fresh_one() {
        let mut first = MockLedger::new();
        first.set_balance(AccountId::new(1), 5);
        drop(first);
        let second = MockLedger::new();
        assert_eq!(second.balance(AccountId::new(1)), 0);
        assert!(second.balances().is_empty());
    }

    #[test]
    fn rules_match_the_ledger() {
        let (a, b) = (AccountId::new(1), AccountId::new(2));
        let mut ledger = MockLedger::with_max_accounts(10);
        // Out of range: status 6, and later moves are ignored.
        let status = ledger.execute(|| {
            credit(AccountId::new(10), 1);
            debit(b, 1);
        });
        assert_eq!(status, Status::ACCOUNT_LIMIT_EXCEEDED);
        assert!(ledger.entries().is_empty());
        // The function's own status overwrites 6.
        assert_eq!(
            ledger.execute(|| {
                debit(AccountId::new(10), 1);
                Status::user(130)
            }),
            Status::user(130)
        );
        // get_balance sees the transaction's own moves; a panic rolls back.
        let status = ledger.execute(|| -> Status {
            credit(a, 7);
            debit(b, 7);
            assert_eq!(get_balance(a), -7);
            panic!("trap");
        });
        assert_eq!(status, Status::INVALID_OPERATION);
        assert_eq!((ledger.balance(a), ledger.balance(b)), (0, 0));
        // 255 entries commit, 256 do not.
        assert_eq!(ledger.execute(|| (0..255).for_each(|_| debit(a, 0))), Status::NONE);
        assert_eq!(ledger.execute(|| (0..256).for_each(|_| debit(a, 0))), Status::ENTRY_LIMIT_EXCEEDED);
        // Sums are u128.
        let status = ledger.execute(|| {
            credit(a, u64::MAX);
            credit(a, u64::MAX);
            debit(b, u64::MAX);
            debit(b, u64::MAX);
        });
        assert_eq!(status, Status::NONE);
    }
}
