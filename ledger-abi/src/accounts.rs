//! Balances and the transaction in progress, with the host verbs' semantics.

use alloc::vec::Vec;

use crate::{Entry, EntryKind, MAX_ENTRIES_PER_TX, Status, ZeroSum};

/// Account balances plus the transaction being built: what the host imports
/// and the built-in operations act on, with a server's exact rules.
///
/// The methods named like the host imports ([`credit`](Accounts::credit),
/// [`debit`](Accounts::debit), [`get_balance`](Accounts::get_balance)) are
/// the imports' semantics; the simulator's linker and the guest SDK's mock
/// both call them, through code generated from [`v1_host_imports!`](crate::v1_host_imports).
///
/// Moves apply at once, so `get_balance` sees the transaction's own moves. An
/// account id at or above `max_accounts` fails the transaction with status 6,
/// and once it has failed later moves are ignored. [`settle`](Accounts::settle)
/// runs the zero-sum check and, on failure, the server's rollback: inverse
/// saturating moves in forward order, which do not restore a saturated value
/// exactly (the server's behaviour, kept on purpose).
///
/// ```
/// use ledger_abi::{Accounts, Status};
///
/// let mut accounts = Accounts::new(10);
/// accounts.begin();
/// accounts.credit(1, 5);
/// assert_eq!(accounts.get_balance(1), -5);
/// assert_eq!(accounts.settle(), Status::ZERO_SUM_VIOLATION);
/// assert_eq!(accounts.get_balance(1), 0, "rolled back");
///
/// accounts.begin();
/// accounts.credit(1, 5);
/// accounts.debit(2, 5);
/// assert_eq!(accounts.settle(), Status::NONE);
/// assert_eq!((accounts.get_balance(1), accounts.get_balance(2)), (-5, 5));
/// ```
#[derive(Debug, Default)]
pub struct Accounts {
    /// Balances of accounts `0..balances.len()`; the rest are 0. Grown on
    /// first write, never beyond `max_accounts`.
    balances: Vec<i64>,
    /// Slots below this are written without being listed (and moves on them
    /// may take the inlined path, see `inline_below`). It is the length of
    /// `balances`, except after [`clone_from`](Clone::clone_from) a
    /// shorter copy: the slots past it are then kept, zeroed, and every
    /// write to one is listed in `written_past`, so that the next copy
    /// zeroes those slots alone (a fuzzer starts every case from one copy,
    /// and growing the balances again to a high account id each case
    /// zeroed thousands of slots: a fifth of a case).
    fast_len: usize,
    /// Moves on accounts below this take the inlined path now: `fast_len`
    /// while the transaction is healthy and not journaled, else 0. One
    /// comparison in each move then stands for three (`set_gate` keeps it).
    inline_below: usize,
    /// Slots at or past `fast_len` written since the last copy.
    written_past: Vec<usize>,
    max_accounts: u64,
    /// Entries of the transaction in progress.
    entries: Vec<Entry>,
    /// Their credits and debits, summed as they are made: a settle
    /// compares two sums instead of walking the entries again.
    sums: ZeroSum,
    /// The entries [`settle`](Accounts::settle) rolled back.
    rolled_back: Vec<Entry>,
    /// The failure so far; `NONE` while the transaction is healthy.
    failure: Status,
    /// Every amount moved, OR-ed: its top bit says whether one was 2^63 or
    /// more (one OR a move, where a flag took three instructions).
    amount_bits: u64,
    /// When set, the balance before every move, for an exact undo.
    journal: Vec<(u64, i64)>,
    /// Whether moves are journaled now (a flag beside the buffer: each move
    /// tests one byte).
    journaling: bool,
}

impl Clone for Accounts {
    fn clone(&self) -> Self {
        let mut copy = Accounts::default();
        copy.clone_from(self);
        copy
    }

    /// Field by field, so that the buffers keep their capacity: a fuzzer
    /// starts every case again from one copy.
    fn clone_from(&mut self, source: &Self) {
        let Accounts {
            balances,
            fast_len: _,
            inline_below: _,
            written_past: _,
            max_accounts,
            entries,
            sums,
            rolled_back,
            failure,
            amount_bits,
            journal,
            journaling,
        } = source;
        let n = balances.len();
        if self.balances.len() < n {
            self.balances.resize(n, 0);
        }
        self.balances[..n].copy_from_slice(balances);
        // Past the copy: the slots written through the inlined path, then
        // those listed; every other slot there is 0 already.
        let fast_end = self.fast_len.clamp(n, self.balances.len());
        self.balances[n..fast_end].fill(0);
        for index in self.written_past.drain(..) {
            if index >= n {
                self.balances[index] = 0;
            }
        }
        self.fast_len = n;
        self.max_accounts = *max_accounts;
        self.entries.clone_from(entries);
        self.sums = *sums;
        self.rolled_back.clone_from(rolled_back);
        self.failure = *failure;
        self.amount_bits = *amount_bits;
        self.journal.clone_from(journal);
        self.journaling = *journaling;
        self.set_gate();
    }
}

impl Accounts {
    /// Every balance 0; account ids `0..max_accounts`.
    pub fn new(max_accounts: u64) -> Accounts {
        Accounts { max_accounts, ..Accounts::default() }
    }

    /// The account limit: ids at or above it fail a transaction with status 6.
    pub fn max_accounts(&self) -> u64 {
        self.max_accounts
    }

    /// Starts a transaction.
    #[inline]
    pub fn begin(&mut self) {
        self.entries.clear();
        self.sums = ZeroSum::default();
        self.rolled_back.clear();
        self.failure = Status::NONE;
        self.amount_bits = 0;
        self.set_gate();
    }

    /// Sets `inline_below` from the failure, the journal's flag and
    /// `fast_len`, after any of them changes.
    #[inline]
    fn set_gate(&mut self) {
        self.inline_below = match self.failure.is_success() && !self.journaling {
            true => self.fast_len,
            false => 0,
        };
    }

    /// The host import `credit`: decreases `account_id`'s balance by `amount`.
    #[inline]
    pub fn credit(&mut self, account_id: u64, amount: u64) {
        self.apply(EntryKind::Credit, account_id, amount);
    }

    /// The host import `debit`: increases `account_id`'s balance by `amount`.
    #[inline]
    pub fn debit(&mut self, account_id: u64, amount: u64) {
        self.apply(EntryKind::Debit, account_id, amount);
    }

    /// The host import `get_balance`: the balance now, including this
    /// transaction's moves; 0 for an account never used or out of range.
    #[inline]
    pub fn get_balance(&self, account_id: u64) -> i64 {
        usize::try_from(account_id).ok().and_then(|i| self.balances.get(i)).copied().unwrap_or(0)
    }

    /// One move, the server's way. Inlined into each host import even
    /// where the compiler would not (the fee transfer ran 21 instructions
    /// fewer a call under callgrind). Only the common move (an account below
    /// `inline_below`, room for its entry) is inlined; a failed transaction,
    /// growing a buffer, the journal and the account limit are out of line
    /// (46 instructions fewer a fee transfer, with the entry pushed before
    /// the balance is written; 20 more with one gate for three checks).
    #[inline(always)]
    pub fn apply(&mut self, kind: EntryKind, account_id: u64, amount: u64) {
        // `inline_below` is within `max_accounts` and `balances`.
        let index = usize::try_from(account_id).unwrap_or(usize::MAX);
        if index < self.inline_below
            && self.entries.len() < self.entries.capacity()
            && let Some(balance) = self.balances.get_mut(index)
        {
            let computed_balance = kind.apply(*balance, amount);
            // Before the balance is written, so that the compiler knows the
            // room checked above is still there: the push cannot grow.
            self.entries.push(Entry { account_id, amount, kind, computed_balance });
            *balance = computed_balance;
            self.amount_bits |= amount;
            self.sums.add(kind, amount);
        } else {
            self.apply_slowly(kind, account_id, amount);
        }
    }

    /// [`apply`](Accounts::apply) for a move in a failed transaction, or one
    /// that grows a buffer, is journaled or fails.
    #[cold]
    #[inline(never)]
    fn apply_slowly(&mut self, kind: EntryKind, account_id: u64, amount: u64) {
        if !self.failure.is_success() {
            return;
        }
        self.amount_bits |= amount;
        let Some(balance) = self.slot(account_id) else {
            self.fail(Status::ACCOUNT_LIMIT_EXCEEDED);
            return;
        };
        let before = *balance;
        *balance = kind.apply(before, amount);
        let computed_balance = *balance;
        if self.journaling {
            self.journal.push((account_id, before));
        }
        self.entries.push(Entry { account_id, amount, kind, computed_balance });
        self.sums.add(kind, amount);
    }

    /// Fails the transaction with `status`, overwriting an earlier failure as
    /// the server's `fail` does.
    #[inline]
    pub fn fail(&mut self, status: Status) {
        self.failure = status;
        self.set_gate();
    }

    /// The failure so far; [`Status::NONE`] while the transaction is healthy.
    #[inline]
    pub fn failure(&self) -> Status {
        self.failure
    }

    /// Records what a function call returned: a non-zero status fails the
    /// transaction; a successful one with more than
    /// [`MAX_ENTRIES_PER_TX`] entries fails it with status 4.
    #[inline]
    pub fn end_call(&mut self, returned: Status) {
        if !returned.is_success() {
            self.fail(returned);
        } else if self.entries.len() > MAX_ENTRIES_PER_TX {
            self.fail(Status::ENTRY_LIMIT_EXCEEDED);
        }
    }

    /// Ends the transaction as the server does: an earlier failure stands,
    /// otherwise credits and debits must balance; a failed transaction is
    /// rolled back and keeps no entries. Returns the final status.
    #[inline]
    pub fn settle(&mut self) -> Status {
        if self.failure.is_success() {
            self.failure = self.sums.status();
        }
        if !self.failure.is_success() {
            self.set_gate();
            core::mem::swap(&mut self.entries, &mut self.rolled_back);
            self.entries.clear();
            for entry in &self.rolled_back {
                let index = entry.account_id as usize;
                // Every entry's account has a slot: `apply` made it.
                self.balances[index] = entry.kind.undo(self.balances[index], entry.amount);
            }
        }
        self.failure
    }

    /// The entries the last [`settle`](Accounts::settle) rolled back (none
    /// when the transaction committed).
    #[inline]
    pub fn rolled_back(&self) -> &[Entry] {
        &self.rolled_back
    }

    /// The transaction's entries so far (after [`settle`](Accounts::settle):
    /// its committed entries, none if it failed; after
    /// [`take_entries`](Accounts::take_entries), none).
    #[inline]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Moves the transaction's entries into `into`, whose buffer this
    /// state keeps, emptied, for the next transaction: a ledger hands a
    /// settled transaction's entries to its history without copying them.
    ///
    /// ```
    /// use ledger_abi::Accounts;
    ///
    /// let mut accounts = Accounts::new(10);
    /// accounts.begin();
    /// accounts.credit(1, 5);
    /// accounts.debit(2, 5);
    /// accounts.settle();
    /// let mut kept = Vec::new();
    /// accounts.take_entries(&mut kept);
    /// assert_eq!(kept.len(), 2);
    /// assert!(accounts.entries().is_empty());
    /// ```
    #[inline]
    pub fn take_entries(&mut self, into: &mut Vec<Entry>) {
        core::mem::swap(&mut self.entries, into);
        self.entries.clear();
    }

    /// Whether a move of this transaction had an amount of 2^63 or more,
    /// which the ledger applies as a negative `i64`.
    #[inline]
    pub fn wrapped_amount(&self) -> bool {
        self.amount_bits > i64::MAX as u64
    }

    /// Balances of accounts `0..n`, where every later account is 0.
    pub fn balances(&self) -> &[i64] {
        &self.balances
    }

    /// Sets a balance outside any transaction; ids at or above the account
    /// limit are ignored, as the ledger has no such account.
    pub fn set_balance(&mut self, account_id: u64, balance: i64) {
        if let Some(slot) = self.slot(account_id) {
            *slot = balance;
        }
    }

    /// Sets every balance to 0, keeping the allocation.
    pub fn reset_balances(&mut self) {
        self.balances.fill(0);
    }

    /// Replays recorded entries: each sets its account to the balance it
    /// recorded, and they become the transaction's entries.
    pub fn replay(&mut self, entries: &[Entry]) {
        self.begin();
        for entry in entries {
            self.set_balance(entry.account_id, entry.computed_balance);
        }
        self.entries.extend_from_slice(entries);
        self.sums = ZeroSum::of(entries);
    }

    /// Starts recording the balance before every move.
    pub fn start_journal(&mut self) {
        self.journal.clear();
        self.journaling = true;
        self.set_gate();
    }

    /// Restores every balance the journal saw to its exact earlier value,
    /// clears the transaction and stops journaling: runs a call twice from
    /// the same starting point.
    pub fn restore_journal(&mut self) {
        self.journaling = false;
        let mut journal = core::mem::take(&mut self.journal);
        for &(account_id, before) in journal.iter().rev() {
            self.set_balance(account_id, before);
        }
        journal.clear();
        self.journal = journal;
        self.begin();
    }

    #[inline]
    fn slot(&mut self, account_id: u64) -> Option<&mut i64> {
        if account_id >= self.max_accounts {
            return None;
        }
        let index = usize::try_from(account_id).ok()?;
        if index >= self.balances.len() {
            let all_fast = self.fast_len == self.balances.len();
            self.balances.resize(index + 1, 0);
            if all_fast {
                self.fast_len = self.balances.len();
                self.set_gate();
            }
        }
        if index >= self.fast_len {
            if self.written_past.len() < self.balances.len() - self.fast_len {
                self.written_past.push(index);
            } else {
                // More writes listed than slots kept: the next copy zeroes
                // them all instead, and the list stops growing.
                self.written_past.clear();
                self.fast_len = self.balances.len();
                self.set_gate();
            }
        }
        Some(&mut self.balances[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_saturate_and_wrap_like_the_server() {
        let mut s = Accounts::new(10);
        s.begin();
        s.credit(1, 5);
        assert_eq!(s.get_balance(1), -5);
        s.debit(4, i64::MAX as u64);
        s.credit(4, 1 << 62);
        assert!(!s.wrapped_amount(), "up to i64::MAX, however many");
        s.debit(2, u64::MAX); // as i64 == -1: a debit that subtracts
        assert_eq!(s.get_balance(2), -1);
        assert!(s.wrapped_amount());
        s.credit(3, i64::MAX as u64);
        s.credit(3, i64::MAX as u64);
        assert_eq!(s.get_balance(3), i64::MIN);
        assert_eq!(s.entries().len(), 6);
    }

    /// A move takes the inlined path when its account has a slot and its
    /// entry has room, else the out-of-line one (always, while journaling):
    /// both leave the same entries, balances, sums and flags.
    #[test]
    fn a_move_is_the_same_on_either_path() {
        let moves: [(bool, u64, u64); 8] = [
            (true, 1, 5),
            (false, 2, u64::MAX),
            (true, 3, i64::MAX as u64),
            (true, 3, i64::MAX as u64),
            (false, 1, 7),
            (true, 9, 1),
            (false, 10, 1),
            (true, 1, 1),
        ];
        let run = |journaling: bool, warm: bool| {
            let mut s = Accounts::new(10);
            if warm {
                // Every slot and enough room for the entries: the inlined path.
                s.set_balance(9, 0);
                s.entries.reserve(moves.len());
            }
            s.begin();
            if journaling {
                s.start_journal();
            }
            let mut seen = Vec::new();
            for (credit, account, amount) in moves {
                match credit {
                    true => s.credit(account, amount),
                    false => s.debit(account, amount),
                }
                seen.push((s.entries().to_vec(), s.failure(), s.wrapped_amount(), s.sums));
            }
            (seen, (1..10).map(|id| s.get_balance(id)).collect::<Vec<_>>(), s.settle())
        };
        let cold = run(false, false);
        assert_eq!(cold.2, Status::ACCOUNT_LIMIT_EXCEEDED);
        assert_eq!(run(false, true), cold);
        assert_eq!(run(true, true), cold);
    }

    #[test]
    fn out_of_range_fails_with_6_and_later_moves_are_ignored() {
        let mut s = Accounts::new(10);
        s.begin();
        s.credit(10, 1);
        assert_eq!(s.failure(), Status::ACCOUNT_LIMIT_EXCEEDED);
        s.debit(1, 1);
        assert!(s.entries().is_empty());
        assert_eq!(s.get_balance(u64::MAX), 0);
        assert_eq!(s.settle(), Status::ACCOUNT_LIMIT_EXCEEDED);
    }

    #[test]
    fn zero_sum_uses_u128_and_a_returned_status_overwrites() {
        let mut s = Accounts::new(10);
        s.begin();
        s.credit(1, u64::MAX);
        s.credit(1, u64::MAX);
        s.debit(2, u64::MAX);
        s.debit(2, u64::MAX);
        assert_eq!(s.settle(), Status::NONE);
        s.begin();
        s.credit(20, 1);
        s.end_call(Status::user(130));
        assert_eq!(s.settle(), Status::user(130), "the returned status overwrites 6");
    }

    #[test]
    fn more_than_255_entries_is_status_4() {
        let mut s = Accounts::new(10);
        s.begin();
        for _ in 0..128 {
            s.credit(1, 1);
            s.debit(2, 1);
        }
        s.end_call(Status::NONE);
        assert_eq!(s.settle(), Status::ENTRY_LIMIT_EXCEEDED);
        assert_eq!((s.get_balance(1), s.get_balance(2)), (0, 0));
    }

    #[test]
    fn journal_restores_exactly_where_rollback_cannot() {
        let mut s = Accounts::new(10);
        s.begin();
        s.debit(1, i64::MAX as u64);
        s.begin();
        s.start_journal();
        s.debit(1, 10); // saturates at i64::MAX
        s.restore_journal();
        assert_eq!(s.get_balance(1), i64::MAX);
        s.debit(1, 10);
        s.fail(Status::INVALID_OPERATION);
        s.settle(); // the server's inverse move does not restore a saturated value
        assert_eq!(s.get_balance(1), i64::MAX - 10);
    }
}
