//! The dev server's model of a server's pipeline: where each transaction
//! is (submitted, computed, committed, on the snapshot) and the balances
//! the snapshot stage shows.
//!
//! Instant (the default), every stage is reached before `SubmitOperation`
//! answers. With a delay `d` (`cargo roda dev --pipeline-delay`), an
//! operation submitted at `t` is computed at `t + d`, committed at `t + 2d`
//! and on the snapshot at `t + 3d`, as a server's stages trail each other:
//! `SubmitOperation` answers at once, and reads (balances, transactions)
//! show the snapshot, so they lag behind what was submitted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ledger_core::{Accounts, Entry, Operation, Status};
use tokio::sync::oneshot;

/// Where a queued operation's status goes once it is computed.
pub(crate) type Reply = Option<oneshot::Sender<Status>>;

/// How far the pipeline's stages have come: the last transaction id each
/// has processed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Indices {
    pub compute: u64,
    pub commit: u64,
    pub snapshot: u64,
}

/// The stage a wait level waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Computed,
    Committed,
    OnSnapshot,
}

impl Indices {
    /// The same id for every stage: what an instant pipeline has.
    pub fn all(last: u64) -> Indices {
        Indices { compute: last, commit: last, snapshot: last }
    }

    /// The last id `stage` has processed.
    pub fn of(&self, stage: Stage) -> u64 {
        match stage {
            Stage::Computed => self.compute,
            Stage::Committed => self.commit,
            Stage::OnSnapshot => self.snapshot,
        }
    }
}

/// A pipeline whose stages lag by a delay.
pub(crate) struct Delayed {
    delay: Duration,
    /// Submitted, not computed yet, with when each was submitted and who
    /// waits for its status.
    queued: VecDeque<(Operation, Instant, Reply)>,
    /// Computed and not on the snapshot yet: id, when it was submitted, and
    /// the entries it committed (none when it failed).
    computed: VecDeque<(u64, Instant, Vec<Entry>)>,
    /// Balances as the snapshot stage shows them.
    snapshot: Accounts,
    indices: Indices,
}

impl Delayed {
    /// A pipeline whose stages have all reached `last`, with the ledger's
    /// balances `accounts` on its snapshot.
    pub fn new(delay: Duration, last: u64, accounts: Accounts) -> Delayed {
        Delayed {
            delay,
            queued: VecDeque::new(),
            computed: VecDeque::new(),
            snapshot: accounts,
            indices: Indices::all(last),
        }
    }

    pub fn indices(&self) -> Indices {
        self.indices
    }

    /// A registration's record was committed: it carries no transaction
    /// id, so the commit index reads 0 until the next transaction commits.
    pub fn registry_written(&mut self) {
        self.indices.commit = 0;
    }

    /// Queues an operation; returns its transaction id.
    pub fn submit(&mut self, op: Operation, now: Instant, reply: Reply) -> u64 {
        self.queued.push_back((op, now, reply));
        self.indices.compute + self.queued.len() as u64
    }

    /// The next queued operation once it is due (at once when `flush`).
    pub fn next_due(&mut self, now: Instant, flush: bool) -> Option<(Operation, Instant, Reply)> {
        let (_, submitted, _) = self.queued.front()?;
        (flush || *submitted + self.delay <= now).then(|| self.queued.pop_front().expect("front exists"))
    }

    /// Drops what is queued: the server accepts no write any more (its log
    /// failed), so those operations are never computed.
    pub fn abandon_queued(&mut self) {
        self.queued.clear();
    }

    /// Records that transaction `tx_id`, submitted at `submitted`, was computed.
    pub fn computed(&mut self, tx_id: u64, submitted: Instant, entries: Vec<Entry>) {
        self.indices.compute = tx_id;
        self.computed.push_back((tx_id, submitted, entries));
    }

    /// Moves computed transactions through commit and onto the snapshot as
    /// their time comes (all of them when `flush`). The snapshot applies a
    /// transaction's entries only, as a server's snapshot stage does: a
    /// failed transaction leaves its balances as they were.
    pub fn advance(&mut self, now: Instant, flush: bool) {
        let reached = |submitted: Instant, stages: u32| flush || submitted + self.delay * stages <= now;
        if let Some(&(id, ..)) = self.computed.iter().rev().find(|(_, submitted, _)| reached(*submitted, 2)) {
            self.indices.commit = self.indices.commit.max(id);
        }
        while let Some((id, submitted, _)) = self.computed.front() {
            if !reached(*submitted, 3) {
                break;
            }
            self.indices.snapshot = *id;
            let (_, _, entries) = self.computed.pop_front().expect("front exists");
            self.snapshot.replay(&entries);
        }
    }

    /// When the next stage is due, if anything is in flight.
    pub fn next_wake(&self) -> Option<Instant> {
        let compute = self.queued.front().map(|(_, submitted, _)| *submitted + self.delay);
        let commit =
            self.computed.iter().find(|(id, ..)| *id > self.indices.commit).map(|(_, s, _)| *s + self.delay * 2);
        let snapshot = self.computed.front().map(|(_, submitted, _)| *submitted + self.delay * 3);
        [compute, commit, snapshot].into_iter().flatten().min()
    }

    /// Whether nothing is queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.queued.is_empty() && self.computed.is_empty()
    }

    /// A balance as the snapshot shows it.
    pub fn balance(&self, account_id: u64) -> i64 {
        self.snapshot.get_balance(account_id)
    }
}
