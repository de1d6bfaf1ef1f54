//! Balances and the transaction being built: what host calls and built-in
//! operations act on, with the server's exact arithmetic.

use crate::Status;

/// Whether an entry took value out of an account or put value in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EntryKind {
    /// Decreased the balance (`credit`). Wire value 0.
    Credit,
    /// Increased the balance (`debit`). Wire value 1.
    Debit,
}

/// One balance movement of a transaction, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Entry {
    /// The account moved.
    pub account_id: u64,
    /// The amount as passed (a `u64`; the balance moves by `amount as i64`).
    pub amount: u64,
    /// Credit or debit.
    pub kind: EntryKind,
    /// The account's balance right after this entry.
    pub computed_balance: i64,
}

/// The system account: the other side of deposits and withdrawals.
pub const SYSTEM_ACCOUNT: u64 = 0;

/// Balances plus the transaction in progress.
///
/// Host calls mutate balances at once, so `get_balance` sees the
/// transaction's own moves; a failed transaction is undone by [`rollback`],
/// which applies the inverse moves the way the server does (saturating, so a
/// saturated move is not exactly undone there either).
///
/// [`rollback`]: TxState::rollback
#[derive(Debug, Default)]
pub(crate) struct TxState {
    /// Balances of accounts `0..balances.len()`; the rest are 0. Grown on
    /// first write, never beyond `max_accounts`.
    balances: Vec<i64>,
    max_accounts: u64,
    /// Entries of the transaction in progress.
    pub(crate) entries: Vec<Entry>,
    /// The failure so far; `NONE` while the transaction is healthy.
    pub(crate) fail: Status,
    /// Whether a move in this transaction had an amount of 2^63 or more,
    /// which the server applies as a negative `i64`.
    pub(crate) wrapped_amount: bool,
    /// When set, the balance before every move, for an exact undo.
    journal: Option<Vec<(u64, i64)>>,
    /// After a rollback: each account it moved and the balance it left,
    /// which differs from the one before the transaction when a move
    /// saturated.
    pub(crate) rolled_back: Vec<(u64, i64)>,
}

impl TxState {
    pub(crate) fn new(max_accounts: u64) -> Self {
        TxState { max_accounts, ..TxState::default() }
    }

    /// Starts a transaction.
    pub(crate) fn begin(&mut self) {
        self.entries.clear();
        self.rolled_back.clear();
        self.fail = Status::NONE;
        self.wrapped_amount = false;
    }

    pub(crate) fn balance(&self, account_id: u64) -> i64 {
        usize::try_from(account_id).ok().and_then(|i| self.balances.get(i)).copied().unwrap_or(0)
    }

    pub(crate) fn balances(&self) -> &[i64] {
        &self.balances
    }

    fn slot(&mut self, account_id: u64) -> Option<&mut i64> {
        if account_id >= self.max_accounts {
            return None;
        }
        let index = account_id as usize;
        if index >= self.balances.len() {
            self.balances.resize(index + 1, 0);
        }
        Some(&mut self.balances[index])
    }

    /// Sets every balance to 0, keeping the allocation.
    pub(crate) fn reset_balances(&mut self) {
        self.balances.fill(0);
    }

    /// Sets a balance outside any transaction.
    pub(crate) fn seed(&mut self, account_id: u64, balance: i64) {
        if let Some(slot) = self.slot(account_id) {
            *slot = balance;
        }
    }

    /// `credit` (subtract) or `debit` (add), the server's host call.
    pub(crate) fn apply(&mut self, kind: EntryKind, account_id: u64, amount: u64) {
        // Once the transaction has failed, further moves are ignored.
        if !self.fail.is_success() {
            return;
        }
        self.wrapped_amount |= amount > i64::MAX as u64;
        let Some(balance) = self.slot(account_id) else {
            self.fail = Status::ACCOUNT_LIMIT_EXCEEDED;
            return;
        };
        let before = *balance;
        *balance = match kind {
            EntryKind::Credit => before.saturating_sub(amount as i64),
            EntryKind::Debit => before.saturating_add(amount as i64),
        };
        let computed_balance = *balance;
        if let Some(journal) = &mut self.journal {
            journal.push((account_id, before));
        }
        self.entries.push(Entry { account_id, amount, kind, computed_balance });
    }

    /// Overwrites the failure reason, as the server's `fail` does.
    pub(crate) fn fail(&mut self, status: Status) {
        self.fail = status;
    }

    /// The server's `verify`: an earlier failure stands; otherwise credits and
    /// debits, summed as `u128`, must be equal.
    pub(crate) fn verify(&mut self) -> Status {
        if !self.fail.is_success() {
            return self.fail;
        }
        let (mut credits, mut debits) = (0u128, 0u128);
        for entry in &self.entries {
            match entry.kind {
                EntryKind::Credit => credits += u128::from(entry.amount),
                EntryKind::Debit => debits += u128::from(entry.amount),
            }
        }
        if credits != debits {
            self.fail = Status::ZERO_SUM_VIOLATION;
        }
        self.fail
    }

    /// Undoes the transaction's moves the server's way: inverse saturating
    /// moves, in forward order.
    pub(crate) fn rollback(&mut self) {
        for entry in std::mem::take(&mut self.entries) {
            if let Some(balance) = self.slot(entry.account_id) {
                *balance = match entry.kind {
                    EntryKind::Credit => balance.saturating_add(entry.amount as i64),
                    EntryKind::Debit => balance.saturating_sub(entry.amount as i64),
                };
                let left = *balance;
                match self.rolled_back.iter_mut().find(|(account, _)| *account == entry.account_id) {
                    Some((_, balance)) => *balance = left,
                    None => self.rolled_back.push((entry.account_id, left)),
                }
            }
        }
    }

    /// Starts recording the balance before every move.
    pub(crate) fn start_journal(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// Restores every balance the journal saw to its exact earlier value and
    /// stops journaling. Used to run a call twice from the same starting point.
    pub(crate) fn restore_journal(&mut self) {
        let journal = self.journal.take().unwrap_or_default();
        for (account_id, before) in journal.into_iter().rev() {
            if let Some(balance) = self.slot(account_id) {
                *balance = before;
            }
        }
        self.entries.clear();
        self.fail = Status::NONE;
        self.wrapped_amount = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_saturate_and_wrap_like_the_server() {
        let mut s = TxState::new(10);
        s.begin();
        s.apply(EntryKind::Credit, 1, 5);
        assert_eq!(s.balance(1), -5);
        s.apply(EntryKind::Debit, 2, u64::MAX); // as i64 == -1: a debit that subtracts
        assert_eq!(s.balance(2), -1);
        s.apply(EntryKind::Credit, 3, i64::MAX as u64);
        s.apply(EntryKind::Credit, 3, i64::MAX as u64);
        assert_eq!(s.balance(3), i64::MIN);
        assert_eq!(s.entries.len(), 4);
    }

    #[test]
    fn out_of_range_fails_with_6_and_later_moves_are_ignored() {
        let mut s = TxState::new(10);
        s.begin();
        s.apply(EntryKind::Credit, 10, 1);
        assert_eq!(s.fail, Status::ACCOUNT_LIMIT_EXCEEDED);
        s.apply(EntryKind::Debit, 1, 1);
        assert!(s.entries.is_empty());
        assert_eq!(s.balance(u64::MAX), 0);
        assert_eq!(s.verify(), Status::ACCOUNT_LIMIT_EXCEEDED);
    }

    #[test]
    fn zero_sum_uses_u128() {
        let mut s = TxState::new(10);
        s.begin();
        s.apply(EntryKind::Credit, 1, u64::MAX);
        s.apply(EntryKind::Credit, 1, u64::MAX);
        s.apply(EntryKind::Debit, 2, u64::MAX);
        s.apply(EntryKind::Debit, 2, u64::MAX);
        assert_eq!(s.verify(), Status::NONE);
        s.begin();
        s.apply(EntryKind::Credit, 1, 1);
        assert_eq!(s.verify(), Status::ZERO_SUM_VIOLATION);
    }

    #[test]
    fn journal_restores_exactly_where_rollback_cannot() {
        let mut s = TxState::new(10);
        s.begin();
        s.apply(EntryKind::Debit, 1, i64::MAX as u64);
        s.begin();
        s.start_journal();
        s.apply(EntryKind::Debit, 1, 10); // saturates at i64::MAX
        s.restore_journal();
        assert_eq!(s.balance(1), i64::MAX);
        s.apply(EntryKind::Debit, 1, 10);
        s.rollback(); // the server's inverse move does not restore a saturated value
        assert_eq!(s.balance(1), i64::MAX - 10);
    }
}
