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
use std::collections::BTreeMap;
use std::vec::Vec;

use crate::{AccountId, IntoStatus, Status};

/// The ledger's default number of accounts: ids `0..1_000_000`.
pub const DEFAULT_MAX_ACCOUNTS: u64 = 1_000_000;

/// Most entries one transaction may record.
pub const MAX_ENTRIES: usize = 255;

/// Whether an entry took value out (credit) or put value in (debit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// The balance decreased.
    Credit,
    /// The balance increased.
    Debit,
}

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

#[derive(Default)]
struct State {
    balances: BTreeMap<u64, i64>,
    max_accounts: u64,
    entries: Vec<Entry>,
    fail: Option<Status>,
}

impl State {
    fn balance(&self, account: u64) -> i64 {
        self.balances.get(&account).copied().unwrap_or(0)
    }

    fn apply(&mut self, kind: EntryKind, account: u64, amount: u64) {
        if self.fail.is_some() {
            return;
        }
        if account >= self.max_accounts {
            self.fail = Some(Status::ACCOUNT_LIMIT_EXCEEDED);
            return;
        }
        let balance = self.balances.entry(account).or_insert(0);
        *balance = match kind {
            EntryKind::Credit => balance.saturating_sub(amount as i64),
            EntryKind::Debit => balance.saturating_add(amount as i64),
        };
        let computed_balance = *balance;
        self.entries.push(Entry { account: AccountId::new(account), amount, kind, computed_balance });
    }

    fn rollback(&mut self) {
        for entry in core::mem::take(&mut self.entries) {
            let balance = self.balances.entry(entry.account.get()).or_insert(0);
            *balance = match entry.kind {
                EntryKind::Credit => balance.saturating_add(entry.amount as i64),
                EntryKind::Debit => balance.saturating_sub(entry.amount as i64),
            };
        }
    }
}

std::thread_local! {
    static CURRENT: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let state = current.as_mut().unwrap_or_else(|| {
            panic!("a ledger_guest host call ran with no MockLedger on this thread: create one with `ledger_guest::testing::MockLedger::new()` at the start of the test")
        });
        f(state)
    })
}

/// The mock side of the host imports, with the imports' exact signatures.
pub(crate) mod host {
    use super::{EntryKind, with_state};

    pub(crate) unsafe fn credit(account_id: u64, amount: u64) {
        with_state(|s| s.apply(EntryKind::Credit, account_id, amount))
    }

    pub(crate) unsafe fn debit(account_id: u64, amount: u64) {
        with_state(|s| s.apply(EntryKind::Debit, account_id, amount))
    }

    pub(crate) unsafe fn get_balance(account_id: u64) -> i64 {
        with_state(|s| s.balance(account_id))
    }
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
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            assert!(current.is_none(), "this thread already has a MockLedger: use that one, or drop it first");
            *current = Some(State { max_accounts, ..State::default() });
        });
        MockLedger { _thread_bound: PhantomData }
    }

    /// Sets a balance directly, outside any transaction. Ids at or above
    /// the account limit are ignored: the ledger has no such account.
    pub fn set_balance(&mut self, account: AccountId, balance: i64) {
        with_state(|s| {
            if account.get() < s.max_accounts {
                s.balances.insert(account.get(), balance);
            }
        })
    }

    /// An account's balance.
    pub fn balance(&self, account: AccountId) -> i64 {
        with_state(|s| s.balance(account.get()))
    }

    /// Every non-zero balance, by account.
    pub fn balances(&self) -> Vec<(AccountId, i64)> {
        with_state(|s| s.balances.iter().filter(|(_, b)| **b != 0).map(|(a, b)| (AccountId::new(*a), *b)).collect())
    }

    /// The entries the last [`execute`](MockLedger::execute) committed (none
    /// if it failed), or the moves made outside `execute` since.
    pub fn entries(&self) -> Vec<Entry> {
        with_state(|s| s.entries.clone())
    }

    /// Runs `function` as one transaction under the ledger's rules and
    /// returns the status the ledger would record. A panic is status 5, as a
    /// trap is on the ledger.
    pub fn execute<R: IntoStatus>(&mut self, function: impl FnOnce() -> R) -> Status {
        with_state(|s| {
            s.entries.clear();
            s.fail = None;
        });
        let returned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(function))
            .map_or(Status::INVALID_OPERATION, IntoStatus::into_status);
        with_state(|s| {
            if !returned.is_success() {
                s.fail = Some(returned);
            } else if s.entries.len() > MAX_ENTRIES {
                s.fail = Some(Status::ENTRY_LIMIT_EXCEEDED);
            }
            if s.fail.is_none() {
                let sum =
                    |kind| s.entries.iter().filter(|e| e.kind == kind).map(|e| u128::from(e.amount)).sum::<u128>();
                if sum(EntryKind::Credit) != sum(EntryKind::Debit) {
                    s.fail = Some(Status::ZERO_SUM_VIOLATION);
                }
            }
            match s.fail.take() {
                Some(status) => {
                    s.rollback();
                    status
                }
                None => Status::NONE,
            }
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
    pub fn call(&mut self, entry_point: fn([i64; 8]) -> Status, params: &[i64]) -> Status {
        let mut slots = [0i64; 8];
        for (slot, value) in slots.iter_mut().zip(params) {
            *slot = *value;
        }
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
        // `try_with`: during thread teardown the slot may already be gone.
        let _ = CURRENT.try_with(|current| current.borrow_mut().take());
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
