//! The ledger a scenario runs on: any profile's engine behind one
//! interface, so that what a step submits and reads is the same for all.

use ledger_core::probe::{ProbeError, Recording};
use ledger_core::{
    CallOutcome, Engine, IfRegistered, LedgerConfig, Processed, RegistryError, SetupError, Status, Writes,
};

use crate::lint::{Lint, hazard_lints, lints_for};
use crate::model::Action;
use crate::run::Answer;

/// An in-process ledger of the engine `E`.
pub(crate) struct SimLedger<E: Engine>(pub(crate) E);

/// What a step's transaction did, whatever the profile.
pub(crate) struct Receipt {
    pub(crate) answer: Answer,
    /// The accounts it opened: the first id, how many.
    pub(crate) opened: Option<(u64, u32)>,
    /// For a call: fuel, outcome, lints.
    pub(crate) fuel: Option<u64>,
    pub(crate) outcome: Option<CallOutcome>,
    pub(crate) lints: Vec<Lint>,
    /// The flag lanes and KV keys it wrote.
    pub(crate) writes: Writes,
}

/// What a fuzzed call did: see [`SimLedger::call`].
pub(crate) struct Called {
    pub(crate) status: Status,
    pub(crate) outcome: Option<CallOutcome>,
    pub(crate) lints: Vec<Lint>,
}

impl<E: Engine> SimLedger<E> {
    pub(crate) fn new(config: LedgerConfig) -> Result<SimLedger<E>, SetupError> {
        Ok(SimLedger(E::new(config)?))
    }

    pub(crate) fn register(
        &mut self,
        name: &str,
        wasm: &[u8],
        if_registered: IfRegistered,
    ) -> Result<(), RegistryError> {
        self.0.register(name, wasm, if_registered).map(drop)
    }

    /// Submits `action`. An action the profile has no operation for (an
    /// OpenAccount on v1) is refused by the runner before any step runs.
    pub(crate) fn submit(&mut self, action: &Action, user_ref: u64) -> Receipt {
        let operation = E::Operation::try_from(action.operation(user_ref))
            .ok()
            .expect("the runner refuses scenarios the profile has no operations for");
        // Owned: its record texts need the ledger again.
        let tx = self.0.submit(&operation);
        let call = tx.call();
        Receipt {
            answer: self.answer_of(&tx),
            opened: tx.opened(),
            fuel: call.map(|c| c.fuel_used),
            outcome: call.map(|c| c.outcome.clone()),
            lints: lints::<E>(&tx),
            writes: self.0.writes(&tx),
        }
    }

    /// Processes an operation of the engine's own, keeping what
    /// comparisons read: status, entries, records.
    pub(crate) fn answer(&mut self, operation: &E::Operation) -> Answer {
        let tx = self.0.submit(operation);
        self.answer_of(&tx)
    }

    /// What a processed transaction answered.
    fn answer_of(&self, tx: &E::Transaction) -> Answer {
        Answer { status: tx.status(), entries: tx.entries().copied().collect(), records: self.0.record_texts(tx) }
    }

    /// Processes a call as [`submit`](SimLedger::submit) does, keeping
    /// only what the fuzzer's invariants read: no copy of the transaction,
    /// its entries or its records.
    pub(crate) fn call(&mut self, operation: &E::Operation) -> Called {
        let tx = self.0.process(operation);
        Called { status: tx.status(), outcome: tx.call().map(|c| c.outcome.clone()), lints: lints::<E>(tx) }
    }

    pub(crate) fn balance(&self, account: u64) -> i64 {
        self.0.balance(account)
    }

    pub(crate) fn seed_balance(&mut self, account: u64, balance: i64) {
        self.0.seed_balance(account, balance);
    }

    /// A copy of the state, to start again from.
    pub(crate) fn snapshot(&self) -> E::State {
        self.0.state()
    }

    /// Starts again from a [`snapshot`](SimLedger::snapshot).
    pub(crate) fn restore(&mut self, state: &E::State) {
        self.0.set_state(state);
    }

    pub(crate) fn seed_flag(&mut self, account: u64, lane: u8, value: u8) {
        self.0.seed_flag(account, lane, value);
    }

    pub(crate) fn seed_kv(&mut self, key: [u32; 4], value: i64) {
        self.0.seed_kv(key, value);
    }

    pub(crate) fn flag(&self, account: u64, lane: u8) -> u8 {
        self.0.flag(account, lane)
    }

    pub(crate) fn kv(&self, key: [u32; 4]) -> i64 {
        self.0.kv(key)
    }

    pub(crate) fn linked(&self, parent: u64, link_type: u16) -> Option<u64> {
        self.0.linked(parent, link_type)
    }

    pub(crate) fn constant(&self, name: &[u8]) -> Option<u32> {
        self.0.constant(name)
    }

    /// What the binary `wasm` recorded, when the ledger probes.
    pub(crate) fn recording(&self, wasm: &[u8]) -> Option<Result<Recording, ProbeError>> {
        let crc = ledger_core::crc32c(wasm);
        self.0.probes().into_iter().find(|probe| match probe {
            Ok(recording) => recording.crc32c == crc,
            Err(error) => error.crc32c == crc,
        })
    }
}

/// The lints of a processed transaction: its call's and its hazards'.
fn lints<E: Engine>(tx: &E::Transaction) -> Vec<Lint> {
    let mut lints = tx.call().map(|c| lints_for(c, E::PROFILE)).unwrap_or_default();
    lints.extend(hazard_lints(&E::hazards(tx)));
    lints
}
