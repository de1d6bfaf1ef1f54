//! The ledger's arithmetic for one move and for a whole transaction.

use crate::Status;

/// Whether an entry took value out of an account or put value in.
///
/// The ledger's words are the accountant's: a **credit** decreases a
/// balance, a **debit** increases it. Amounts are `u64` on the wire and are
/// applied as `amount as i64`, saturating, so an amount of 2^63 or more moves
/// the balance the other way.
///
/// ```
/// use ledger_abi::EntryKind;
///
/// assert_eq!(EntryKind::Credit.apply(10, 3), 7);
/// assert_eq!(EntryKind::Debit.apply(i64::MAX, 1), i64::MAX, "saturates");
/// assert_eq!(EntryKind::Debit.apply(0, u64::MAX), -1, "2^64 - 1 is -1 as i64");
/// // The server's rollback applies the inverse move, which cannot undo a saturated one:
/// assert_eq!(EntryKind::Debit.undo(EntryKind::Debit.apply(i64::MAX - 1, 10), 10), i64::MAX - 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EntryKind {
    /// Decreased the balance (`credit`). Wire value 0.
    Credit,
    /// Increased the balance (`debit`). Wire value 1.
    Debit,
}

impl EntryKind {
    /// The balance after this move of `amount`, as the server computes it.
    pub const fn apply(self, balance: i64, amount: u64) -> i64 {
        match self {
            EntryKind::Credit => balance.saturating_sub(amount as i64),
            EntryKind::Debit => balance.saturating_add(amount as i64),
        }
    }

    /// The balance after the server's rollback of this move: the inverse
    /// move, saturating too.
    pub const fn undo(self, balance: i64, amount: u64) -> i64 {
        match self {
            EntryKind::Credit => EntryKind::Debit.apply(balance, amount),
            EntryKind::Debit => EntryKind::Credit.apply(balance, amount),
        }
    }
}

/// One balance movement of a transaction, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Entry {
    /// The account moved.
    pub account_id: u64,
    /// The amount as passed (the balance moves by `amount as i64`).
    pub amount: u64,
    /// Credit or debit.
    pub kind: EntryKind,
    /// The account's balance right after this entry.
    pub computed_balance: i64,
}

/// The zero-sum check: whether a transaction's credits and debits, summed
/// as `u128` so no sum of `u64` amounts can overflow, are equal. Kept as
/// their difference, an `i128`, exact below 2^63 moves (a call's fuel
/// allows some millions): a move adds to one word pair, and the check tests
/// it for zero.
///
/// ```
/// use ledger_abi::{EntryKind, Status, ZeroSum};
///
/// let mut sums = ZeroSum::default();
/// sums.add(EntryKind::Credit, u64::MAX);
/// sums.add(EntryKind::Credit, u64::MAX);
/// sums.add(EntryKind::Debit, u64::MAX);
/// assert_eq!(sums.status(), Status::ZERO_SUM_VIOLATION);
/// sums.add(EntryKind::Debit, u64::MAX);
/// assert_eq!(sums.status(), Status::NONE);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZeroSum {
    /// Debits less credits.
    net: i128,
}

impl ZeroSum {
    /// Counts one move.
    #[inline]
    pub fn add(&mut self, kind: EntryKind, amount: u64) {
        match kind {
            EntryKind::Credit => self.net -= i128::from(amount),
            EntryKind::Debit => self.net += i128::from(amount),
        }
    }

    /// The sums of `entries`.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> ZeroSum {
        let mut sums = ZeroSum::default();
        for entry in entries {
            sums.add(entry.kind, entry.amount);
        }
        sums
    }

    /// [`Status::NONE`] when credits equal debits, else
    /// [`Status::ZERO_SUM_VIOLATION`].
    #[inline]
    pub fn status(&self) -> Status {
        if self.net == 0 { Status::NONE } else { Status::ZERO_SUM_VIOLATION }
    }
}
