//! `cargo roda test --fuzz`: invariant fuzzing with proptest, with the
//! failing case shrunk and printed as a scenario to paste.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Instant;

use ledger_core::{CallOutcome, Ledger, LedgerConfig, Operation, Status};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::Serialize;

use crate::scenario::{FuzzSpec, LoadedFile, Scenario, SlotSpec, Subject, ledger_for};

/// How long to fuzz.
#[derive(Debug, Clone, Copy)]
pub struct FuzzOptions {
    /// Executions to try.
    pub cases: u32,
    /// The seed; the same seed finds the same case.
    pub seed: u64,
}

/// The smallest failing case found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuzzFailure {
    /// The invariant broken.
    pub reason: String,
    /// The call's parameters.
    pub params: Vec<i64>,
    /// The starting balances.
    pub balances: BTreeMap<u64, i64>,
    /// The status the ledger gave.
    pub status: String,
    /// A scenario reproducing it, ready to paste into a scenario file.
    pub scenario: String,
}

/// One scenario's fuzzing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FuzzResult {
    /// The scenario.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// Executions run (shrinking included).
    pub executions: u64,
    /// Wall time.
    pub seconds: f64,
    /// The failure, if one was found.
    pub failure: Option<FuzzFailure>,
}

impl FuzzResult {
    /// Executions per second.
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.executions as f64 / self.seconds } else { 0.0 }
    }
}

/// The invariants checked on every call.
struct Invariants {
    allowed: Option<Vec<Status>>,
    never_negative: Vec<u64>,
}

impl Invariants {
    fn check(&self, ledger: &Ledger, receipt: &ledger_core::Transaction) -> Result<(), String> {
        let Some(call) = &receipt.call else { return Ok(()) };
        let ret = match &call.outcome {
            CallOutcome::Returned(ret) => *ret,
            CallOutcome::OutOfFuel => {
                return Err(
                    "ran out of fuel: on a server, which has no time limit, this call would block the ledger".into()
                );
            }
            other => return Err(format!("the call {other}")),
        };
        if !(0..=255).contains(&ret) {
            return Err(format!("returned {ret}, outside 0..=255: the server keeps the low byte ({})", receipt.status));
        }
        if call.wrapped_amount {
            return Err("moved an amount of 2^63 or more, which the server casts to a negative i64".into());
        }
        if receipt.status == Status::ZERO_SUM_VIOLATION && ret != i32::from(Status::ZERO_SUM_VIOLATION.code()) {
            return Err("zero-sum violation: the credits and debits did not balance".into());
        }
        match &self.allowed {
            Some(allowed) if !allowed.contains(&receipt.status) => {
                let names: Vec<String> = allowed.iter().map(Status::to_string).collect();
                return Err(format!("status {} is not one of the allowed [{}]", receipt.status, names.join(", ")));
            }
            // Without a list, any status the function returns itself is
            // fine, but not one the ledger imposed (entry or account limit).
            None if receipt.status != Status::from_execute_return(ret) => {
                return Err(format!("the ledger failed the call with {} although it returned {ret}", receipt.status));
            }
            _ => {}
        }
        for account in &self.never_negative {
            let balance = ledger.balance(*account);
            if balance < 0 {
                return Err(format!("account {account} went negative ({balance})"));
            }
        }
        Ok(())
    }
}

fn slot_strategy(slot: &SlotSpec) -> BoxedStrategy<i64> {
    match slot {
        SlotSpec::Accounts { accounts } => {
            let ids: Vec<i64> = accounts.iter().map(|a| *a as i64).collect();
            proptest::sample::select(ids).boxed()
        }
        SlotSpec::Range { range: [low, high] } => (*low..=*high).boxed(),
        SlotSpec::Value { value } => Just(*value).boxed(),
    }
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&seed.wrapping_add(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    }
    bytes
}

/// Fuzzes one scenario's `[scenario.fuzz]` call.
pub fn fuzz(
    subject: &Subject,
    file: &LoadedFile,
    scenario: &Scenario,
    spec: &FuzzSpec,
    config: &LedgerConfig,
    options: FuzzOptions,
) -> Result<FuzzResult, String> {
    let config = LedgerConfig { keep_history: false, check_carried_state: false, ..config.clone() };
    let ledger = RefCell::new(ledger_for(subject, file, config)?);
    let name = spec.call.clone().unwrap_or_else(|| subject.name.clone());
    let allowed = match &spec.allowed {
        Some(specs) => Some(specs.iter().map(crate::scenario::StatusSpec::resolve).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    let invariants = Invariants { allowed, never_negative: spec.never_negative.clone() };
    let balance_accounts: Vec<u64> = spec.balances.as_ref().map(|b| b.accounts.clone()).unwrap_or_default();
    let [low, high] = spec.balances.as_ref().map_or([0, 0], |b| b.range);
    let strategy = (
        spec.params.iter().map(slot_strategy).collect::<Vec<_>>(),
        proptest::collection::vec(low..=high, balance_accounts.len()),
    );
    let op = RefCell::new(Operation::Function { name: name.clone(), params: vec![0; spec.params.len()], user_ref: 0 });
    let executions = Cell::new(0u64);
    // Runs one case; the status it ended with, or the invariant it broke.
    let run_case = |params: &[i64], balances: &[i64]| -> (Status, Result<(), String>) {
        executions.set(executions.get() + 1);
        let mut ledger = ledger.borrow_mut();
        let mut op = op.borrow_mut();
        ledger.reset_balances();
        for (account, balance) in balance_accounts.iter().zip(balances) {
            ledger.seed_balance(*account, *balance);
        }
        if let Operation::Function { params: slots, .. } = &mut *op {
            slots.copy_from_slice(params);
        }
        let receipt = ledger.submit(&op);
        (receipt.status, invariants.check(&ledger, &receipt))
    };
    let mut runner = TestRunner::new_with_rng(
        Config { cases: options.cases, failure_persistence: None, max_shrink_iters: 100_000, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(options.seed)),
    );
    let started = Instant::now();
    let outcome =
        runner.run(&strategy, |(params, balances)| run_case(&params, &balances).1.map_err(TestCaseError::fail));
    let seconds = started.elapsed().as_secs_f64();
    let failure = match outcome {
        Ok(()) => None,
        Err(TestError::Fail(_, (params, balances))) => {
            let (status, result) = run_case(&params, &balances);
            let reason = result.err().unwrap_or_else(|| "the failure did not reproduce".into());
            let balances: BTreeMap<u64, i64> = balance_accounts.iter().copied().zip(balances).collect();
            let scenario_text = paste(&scenario.name, options.seed, &name, &params, &balances, status, &reason);
            Some(FuzzFailure { reason, params, balances, status: status.to_string(), scenario: scenario_text })
        }
        Err(TestError::Abort(why)) => return Err(format!("fuzzing stopped: {why}")),
    };
    Ok(FuzzResult {
        scenario: scenario.name.clone(),
        seed: options.seed,
        executions: executions.get(),
        seconds,
        failure,
    })
}

/// The failing case as a scenario to paste into a scenario file.
fn paste(
    scenario: &str,
    seed: u64,
    call: &str,
    params: &[i64],
    balances: &BTreeMap<u64, i64>,
    status: Status,
    reason: &str,
) -> String {
    let params: Vec<String> = params.iter().map(i64::to_string).collect();
    let balances: Vec<String> = balances.iter().map(|(a, b)| format!("{a} = {b}")).collect();
    let name = format!("{scenario}: fuzz case (seed {seed})").replace('"', "'");
    // The reason goes in a TOML comment: one line.
    let reason = reason.replace(['\n', '\r'], " ");
    format!(
        "[[scenario]]\nname = \"{name}\"\n# {reason}\nbalances = {{ {} }}\nsteps = [\n  {{ call = \"{call}\", params = [{}], expect = \"{status}\" }},\n]\n",
        balances.join(", "),
        params.join(", "),
    )
}
