//! The ledger a scenario runs on, of either ABI profile, behind one
//! interface: what a step submits and reads is the same for both.

use ledger_core::abi::{Profile, V2};
use ledger_core::{CallOutcome, Entry, IfRegistered, Ledger, LedgerConfig, RegistryError, SetupError, Status, v2};

use crate::lint::{Lint, hazard_lints, lints_for};
use crate::model::{Action, record_text};

/// An in-process ledger of one profile.
pub(crate) enum SimLedger {
    V1(Box<Ledger>),
    V2(Box<v2::Ledger>),
}

/// What a step's transaction did, whatever the profile.
pub(crate) struct Receipt {
    pub(crate) status: Status,
    /// Committed credits and debits.
    pub(crate) entries: Vec<Entry>,
    /// v2: every committed record, in its text form.
    pub(crate) records: Vec<String>,
    /// For a call: fuel, outcome, lints.
    pub(crate) fuel: Option<u64>,
    pub(crate) outcome: Option<CallOutcome>,
    pub(crate) lints: Vec<Lint>,
}

impl SimLedger {
    pub(crate) fn new(profile: &'static Profile, config: LedgerConfig) -> Result<SimLedger, SetupError> {
        Ok(if profile == &V2 {
            SimLedger::V2(Box::new(v2::Ledger::new(config)?))
        } else {
            SimLedger::V1(Box::new(Ledger::new(config)?))
        })
    }

    pub(crate) fn profile(&self) -> &'static Profile {
        match self {
            SimLedger::V1(_) => &ledger_core::abi::V1,
            SimLedger::V2(_) => &V2,
        }
    }

    pub(crate) fn register(
        &mut self,
        name: &str,
        wasm: &[u8],
        if_registered: IfRegistered,
    ) -> Result<(), RegistryError> {
        match self {
            SimLedger::V1(ledger) => ledger.register_function(name, wasm, if_registered).map(drop),
            SimLedger::V2(ledger) => ledger.register_function(name, wasm, if_registered).map(drop),
        }
    }

    /// Submits `action`. On v1, [`Action::OpenAccount`] is refused by the
    /// runner before any step runs.
    pub(crate) fn submit(&mut self, action: &Action, user_ref: u64) -> Receipt {
        let profile = self.profile();
        match self {
            SimLedger::V1(ledger) => {
                let operation = action.operation(user_ref).expect("v1 scenarios open no account");
                let tx = ledger.submit(&operation);
                let call = tx.call.as_ref();
                Receipt {
                    status: tx.status,
                    records: Vec::new(),
                    fuel: call.map(|c| c.fuel_used),
                    outcome: call.map(|c| c.outcome.clone()),
                    lints: call.map(|c| lints_for(c, profile)).unwrap_or_default(),
                    entries: tx.entries,
                }
            }
            SimLedger::V2(ledger) => {
                let tx = ledger.submit(&action.v2_operation(user_ref));
                let call = tx.call.as_ref();
                let state = ledger.state();
                let constant_name = |id| {
                    state
                        .constants()
                        .find(|(_, other)| *other == id)
                        .map(|(name, _)| String::from_utf8_lossy(name).into_owned())
                };
                Receipt {
                    status: tx.status,
                    entries: tx.entries().copied().collect(),
                    records: tx.records.iter().map(|record| record_text(record, constant_name)).collect(),
                    fuel: call.map(|c| c.fuel_used),
                    outcome: call.map(|c| c.outcome.clone()),
                    lints: call
                        .map(|c| lints_for(c, profile))
                        .unwrap_or_default()
                        .into_iter()
                        .chain(hazard_lints(&tx.hazards))
                        .collect(),
                }
            }
        }
    }

    pub(crate) fn balance(&self, account: u64) -> i64 {
        match self {
            SimLedger::V1(ledger) => ledger.balance(account),
            SimLedger::V2(ledger) => ledger.balance(account),
        }
    }

    pub(crate) fn seed_balance(&mut self, account: u64, balance: i64) {
        match self {
            SimLedger::V1(ledger) => ledger.seed_balance(account, balance),
            SimLedger::V2(ledger) => ledger.seed_balance(account, balance),
        }
    }

    /// Sets every balance to 0 (v1: the fuzzer's fresh start).
    pub(crate) fn reset_balances(&mut self) {
        match self {
            SimLedger::V1(ledger) => ledger.reset_balances(),
            SimLedger::V2(ledger) => ledger.reset_balances(),
        }
    }

    /// v2: a copy of the state, to start again from.
    pub(crate) fn snapshot(&self) -> Option<v2::State> {
        match self {
            SimLedger::V1(_) => None,
            SimLedger::V2(ledger) => Some(ledger.state().clone()),
        }
    }

    /// v2: starts again from a [`snapshot`](SimLedger::snapshot).
    pub(crate) fn restore(&mut self, state: v2::State) {
        if let SimLedger::V2(ledger) = self {
            ledger.set_state(state);
        }
    }

    pub(crate) fn seed_flag(&mut self, account: u64, lane: u8, value: u8) {
        if let SimLedger::V2(ledger) = self {
            ledger.seed_flag(account, lane, value);
        }
    }

    pub(crate) fn seed_kv(&mut self, key: [u32; 4], value: i64) {
        if let SimLedger::V2(ledger) = self {
            ledger.seed_kv(key, value);
        }
    }

    pub(crate) fn flag(&self, account: u64, lane: u8) -> u8 {
        match self {
            SimLedger::V1(_) => 0,
            SimLedger::V2(ledger) => ledger.state().flag(account, lane),
        }
    }

    pub(crate) fn kv(&self, key: [u32; 4]) -> i64 {
        match self {
            SimLedger::V1(_) => 0,
            SimLedger::V2(ledger) => ledger.kv(key),
        }
    }

    pub(crate) fn linked(&self, parent: u64, link_type: u16) -> Option<u64> {
        match self {
            SimLedger::V1(_) => None,
            SimLedger::V2(ledger) => {
                ledger.state().linked_accounts(parent).find(|(other, _)| *other == link_type).map(|(_, child)| child)
            }
        }
    }

    pub(crate) fn constant(&self, name: &[u8]) -> Option<u32> {
        match self {
            SimLedger::V1(_) => None,
            SimLedger::V2(ledger) => ledger.constant(name),
        }
    }
}
