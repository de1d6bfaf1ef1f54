//! Invariant fuzzing with proptest: a scenario's `[scenario.fuzz]` call with
//! random parameters and starting balances, the failing case shrunk and
//! written out as a scenario to paste.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use ledger_core::probe::{ProbeError, Recording};
use ledger_core::{AnyOperation, CallOutcome, Engine, ForEngine, LedgerConfig, Status};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::Serialize;

use crate::compare::{Reads, differences};
use crate::draw::{Case, Draws};
use crate::lint::Lint;
use crate::model::{Action, FuzzSpec, Params, Scenario, ScenarioFile, Slot, Step};
use crate::run::{Runner, SetupError};
use crate::sim::{Called, SimLedger};

/// How long to fuzz, and on how many threads.
///
/// ```
/// let options = roda_test::FuzzOptions::new(10_000, 7);
/// assert!(options.jobs.get() >= 1, "one worker per core");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuzzOptions {
    /// Executions to try, shrinking aside.
    pub cases: u32,
    /// The seed; the same seed finds the same case, whatever `jobs` is.
    pub seed: u64,
    /// Workers, each on its own ledger, taking the cases in chunks of
    /// 1,024 (8,192 on a probing ledger, whose fuzzing is guided by
    /// coverage) drawn from seeds derived from `seed`; a case found in an
    /// earlier chunk wins, so the report does not depend on it.
    pub jobs: NonZeroUsize,
}

impl FuzzOptions {
    /// `cases` from `seed`, one worker per core the machine has.
    pub fn new(cases: u32, seed: u64) -> FuzzOptions {
        let jobs = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        FuzzOptions { cases, seed, jobs }
    }
}

/// An invariant a fuzzed call broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The call raised a lint.
    Lint(Lint),
    /// The call did not return (a trap, the memory limit, ...).
    DidNotReturn(CallOutcome),
    /// The ledger refused the entries: credits and debits did not balance.
    ZeroSum,
    /// The status is not in the `allowed` list.
    NotAllowed {
        /// The status.
        status: Status,
        /// The list.
        allowed: Vec<Status>,
    },
    /// Without an `allowed` list: the ledger imposed a status the function
    /// did not return (an entry or account limit).
    ImposedByLedger {
        /// The status.
        status: Status,
        /// What the function returned.
        returned: i32,
    },
    /// An account listed in `never_negative` went negative.
    Negative {
        /// The account.
        account: u64,
        /// Its balance.
        balance: i64,
    },
    /// `cargo roda diff`: the new binary answered otherwise than the old.
    Changed(Vec<crate::compare::Difference>),
    /// The shrunk case passed when run again.
    NotReproduced,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Lint(lint) => write!(f, "lint[{}]: {lint}", lint.code()),
            Violation::DidNotReturn(outcome) => write!(f, "the call {outcome}"),
            Violation::ZeroSum => f.write_str("zero-sum violation: the credits and debits did not balance"),
            Violation::NotAllowed { status, allowed } => {
                let names: Vec<String> = allowed.iter().map(Status::to_string).collect();
                write!(f, "status {status} is not one of the allowed [{}]", names.join(", "))
            }
            Violation::ImposedByLedger { status, returned } => {
                write!(f, "the ledger failed the call with {status} although it returned {returned}")
            }
            Violation::Negative { account, balance } => write!(f, "account {account} went negative ({balance})"),
            Violation::Changed(differences) => {
                let changes: Vec<String> =
                    differences.iter().map(|d| format!("{}: old {}, new {}", d.what, d.left, d.right)).collect();
                write!(f, "the new binary answers otherwise: {}", changes.join("; "))
            }
            Violation::NotReproduced => f.write_str("the failure did not reproduce"),
        }
    }
}

/// The invariants every fuzzed call keeps.
struct Invariants<'a> {
    spec: &'a FuzzSpec,
}

impl Invariants<'_> {
    fn check<E: Engine>(&self, ledger: &SimLedger<E>, receipt: &Called) -> Result<(), Violation> {
        let Some(outcome) = &receipt.outcome else { return Ok(()) };
        if let Some(lint) = receipt.lints.first() {
            return Err(Violation::Lint(*lint));
        }
        let CallOutcome::Returned(returned) = *outcome else {
            return Err(Violation::DidNotReturn(outcome.clone()));
        };
        if receipt.status == Status::ZERO_SUM_VIOLATION && returned != i32::from(Status::ZERO_SUM_VIOLATION.code()) {
            return Err(Violation::ZeroSum);
        }
        match &self.spec.allowed {
            Some(allowed) if !allowed.contains(&receipt.status) => {
                return Err(Violation::NotAllowed { status: receipt.status, allowed: allowed.clone() });
            }
            None if receipt.status != Status::from_execute_return(returned) => {
                return Err(Violation::ImposedByLedger { status: receipt.status, returned });
            }
            _ => {}
        }
        for &account in &self.spec.never_negative {
            let balance = ledger.balance(account);
            if balance < 0 {
                return Err(Violation::Negative { account, balance });
            }
        }
        Ok(())
    }
}

/// The smallest failing case found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuzzFailure {
    /// The invariant broken.
    #[serde(serialize_with = "crate::display")]
    pub reason: Violation,
    /// The call's parameters.
    pub params: Vec<i64>,
    /// The starting balances.
    pub balances: BTreeMap<u64, i64>,
    /// The status the ledger gave.
    #[serde(serialize_with = "crate::display")]
    pub status: Status,
    /// A scenario reproducing it, ready to paste into a scenario file.
    pub scenario: String,
}

/// One scenario's fuzzing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FuzzReport {
    /// The scenario.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// Executions run, shrinking included.
    pub executions: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
    /// The failure, if one was found.
    pub failure: Option<FuzzFailure>,
    /// Where the function's fuel went and which of its code ran over all
    /// the executions, when the runner's ledgers probe
    /// ([`LedgerConfig::probe`]).
    #[serde(skip)]
    pub recording: Option<Result<Recording, ProbeError>>,
}

impl FuzzReport {
    /// Executions per second.
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.executions as f64 / self.seconds } else { 0.0 }
    }
}

/// Why fuzzing could not run to a verdict.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// The scenario has no `[scenario.fuzz]` table.
    #[error("scenario `{scenario}` has no [scenario.fuzz] table")]
    NoFuzzTable {
        /// The scenario.
        scenario: String,
    },
    /// The ledger could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// Proptest gave up (too many rejected cases).
    #[error("fuzzing `{scenario}` stopped: {reason}")]
    Aborted {
        /// The scenario.
        scenario: String,
        /// Proptest's reason.
        reason: String,
    },
}

/// The cases that made a probing ledger run blocks no earlier case of the
/// chunk ran (empty when the ledger does not probe).
#[derive(Default)]
struct Corpus(RefCell<Vec<Case>>);

impl Corpus {
    fn keep(&self, params: &[i64], balances: &[i64]) {
        self.0.borrow_mut().push((params.to_vec(), balances.to_vec()));
    }

    fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

/// Coverage-guided drawing: once the corpus holds cases, half the draws
/// start from one of them (the newest, which went deepest, half the
/// time), one parameter or balance drawn afresh and the others kept.
/// Without a corpus it draws exactly as `fresh` does, so a run that does
/// not probe finds what it always found.
struct Guided<'a, S> {
    fresh: S,
    corpus: &'a Corpus,
}

impl<S: Strategy<Value = Case>> std::fmt::Debug for Guided<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guided").field("corpus", &self.corpus.0.borrow().len()).finish()
    }
}

impl<S: Strategy<Value = Case>> Strategy for Guided<'_, S> {
    type Tree = GuidedTree<S::Tree>;
    type Value = Case;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let fresh = self.fresh.new_tree(runner)?;
        let corpus = self.corpus.0.borrow();
        if corpus.is_empty() || runner.rng().next_u32().is_multiple_of(2) {
            return Ok(GuidedTree { fresh, base: None, state: Base::Without });
        }
        let pick = match runner.rng().next_u32() % 2 {
            0 => corpus.len() - 1,
            _ => runner.rng().next_u32() as usize % corpus.len(),
        };
        let (params, balances) = &corpus[pick];
        let redrawn = runner.rng().next_u32() as usize % (params.len() + balances.len()).max(1);
        let kept = |offset: usize| move |(index, value): (usize, &i64)| (index + offset != redrawn).then_some(*value);
        let base = (
            params.iter().enumerate().map(kept(0)).collect(),
            balances.iter().enumerate().map(kept(params.len())).collect(),
        );
        Ok(GuidedTree { fresh, base: Some(base), state: Base::Kept })
    }
}

/// Where a guided case is in its shrinking: its kept values are dropped
/// first (the fresh draw then shrinks as proptest shrinks it), or pinned
/// when the case stops failing without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// Kept, not yet tried without.
    Kept,
    /// Dropped, to see whether the case still fails.
    Trying,
    /// Dropped for good (or there were none).
    Without,
    /// Kept for good: the case needs them.
    Pinned,
}

/// A kept value for each parameter and balance, or `None`: drawn afresh.
type Overlay = (Vec<Option<i64>>, Vec<Option<i64>>);

#[derive(Debug)]
struct GuidedTree<T> {
    fresh: T,
    base: Option<Overlay>,
    state: Base,
}

impl<T: proptest::strategy::ValueTree<Value = Case>> proptest::strategy::ValueTree for GuidedTree<T> {
    type Value = Case;

    fn current(&self) -> Case {
        let (mut params, mut balances) = self.fresh.current();
        if let (Some((kept_params, kept_balances)), Base::Kept | Base::Pinned) = (&self.base, self.state) {
            for (value, kept) in params.iter_mut().zip(kept_params).chain(balances.iter_mut().zip(kept_balances)) {
                if let Some(kept) = kept {
                    *value = *kept;
                }
            }
        }
        (params, balances)
    }

    fn simplify(&mut self) -> bool {
        match self.state {
            Base::Kept => {
                self.state = Base::Trying;
                true
            }
            Base::Trying => {
                self.state = Base::Without;
                self.fresh.simplify()
            }
            Base::Without | Base::Pinned => self.fresh.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self.state {
            Base::Trying => {
                self.state = Base::Pinned;
                true
            }
            Base::Kept | Base::Without | Base::Pinned => self.fresh.complicate(),
        }
    }
}

/// The accounts a parameter slot may name.
fn slot_accounts(slot: &Slot) -> Vec<u64> {
    match slot {
        Slot::Accounts(accounts) => accounts.as_slice().to_vec(),
        Slot::Range { .. } | Slot::Value(_) => Vec::new(),
    }
}

/// A chunk's seed as the 16 bytes of proptest's XorShift generator: a
/// fuzz case spends most of its time drawing values, and ChaCha's draws
/// cost an eighth of a case where XorShift's are a few instructions.
fn seed_bytes(seed: u64) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&seed.wrapping_add(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    }
    bytes
}

impl Runner {
    /// Fuzzes the `[scenario.fuzz]` call of `scenario`: `options.cases`
    /// random draws, each from its own starting balances, every call checked
    /// for [lints](crate::lints) and the table's invariants; a failing draw
    /// is shrunk to the smallest one.
    ///
    /// # Errors
    ///
    /// [`FuzzError`] when the scenario has no fuzz table, the ledger cannot
    /// be set up, or proptest gives up.
    pub fn fuzz(
        &self,
        file: &ScenarioFile,
        scenario: &Scenario,
        options: FuzzOptions,
    ) -> Result<FuzzReport, FuzzError> {
        self.fuzz_with(file, scenario, options, None)
    }

    /// Fuzzes the `[scenario.fuzz]` call of `scenario` on this runner's
    /// binary and on `old`'s (the same function's previous version) from
    /// identical states, and finds a draw where they answer differently
    /// (status, entries, records, or the state of an account or key the
    /// scenario names), shrunk to the smallest: what `cargo roda diff`
    /// runs. The invariants are not checked.
    ///
    /// # Errors
    ///
    /// As [`fuzz`](Runner::fuzz).
    pub fn fuzz_against(
        &self,
        old: &Runner,
        file: &ScenarioFile,
        scenario: &Scenario,
        options: FuzzOptions,
    ) -> Result<FuzzReport, FuzzError> {
        self.fuzz_with(file, scenario, options, Some(old))
    }

    fn fuzz_with(
        &self,
        file: &ScenarioFile,
        scenario: &Scenario,
        options: FuzzOptions,
        against: Option<&Runner>,
    ) -> Result<FuzzReport, FuzzError> {
        /// [`Runner::fuzz_on`], with the profile's engine.
        struct Fuzz<'a>(&'a Runner, &'a ScenarioFile, &'a Scenario, FuzzOptions, Option<&'a Runner>);
        impl ForEngine for Fuzz<'_> {
            type Output = Result<FuzzReport, FuzzError>;
            fn run<E: Engine>(self) -> Self::Output {
                self.0.fuzz_on::<E>(self.1, self.2, self.3, self.4)
            }
        }
        ledger_core::for_profile(self.profile(), Fuzz(self, file, scenario, options, against))
    }

    fn fuzz_on<E: Engine>(
        &self,
        file: &ScenarioFile,
        scenario: &Scenario,
        options: FuzzOptions,
        against: Option<&Runner>,
    ) -> Result<FuzzReport, FuzzError> {
        let spec = scenario.fuzz.as_ref().ok_or_else(|| FuzzError::NoFuzzTable { scenario: scenario.name.clone() })?;
        // A guided run keeps what a chunk found for that chunk only (so
        // that the case found depends on the seed alone): its chunks are
        // longer, to give the corpus time to lead somewhere.
        let size = if self.ledger_config().probe { GUIDED_CHUNK_CASES } else { CHUNK_CASES };
        let chunks = options.cases.div_ceil(size);
        let jobs = options.jobs.get().min(chunks.max(1) as usize);
        let next_chunk = AtomicU32::new(0);
        let first_found = AtomicU32::new(u32::MAX);
        let work = Chunks { options, size, chunks, next: &next_chunk, first_found: &first_found };
        let started = Instant::now();
        let done: Vec<Result<Worker, FuzzError>> = if jobs == 1 {
            vec![self.fuzz_worker::<E>(file, scenario, spec, &work, against)]
        } else {
            std::thread::scope(|threads| {
                let workers: Vec<_> = (0..jobs)
                    .map(|_| threads.spawn(|| self.fuzz_worker::<E>(file, scenario, spec, &work, against)))
                    .collect();
                workers.into_iter().map(|worker| worker.join().expect("a fuzz worker panicked")).collect()
            })
        };
        let seconds = started.elapsed().as_secs_f64();
        let mut executions = 0;
        let mut found: Option<(u32, Found)> = None;
        let mut recording: Option<Result<Recording, ProbeError>> = None;
        for worker in done {
            let worker = worker?;
            executions += worker.executions;
            recording = match (recording, worker.recording) {
                (Some(Ok(mut all)), Some(Ok(more))) => {
                    all.merge(&more);
                    Some(Ok(all))
                }
                (Some(first), _) => Some(first),
                (None, theirs) => theirs,
            };
            if let Some((chunk, case)) = worker.found
                && found.as_ref().is_none_or(|(first, _)| chunk < *first)
            {
                found = Some((chunk, case));
            }
        }
        let failure = match found.map(|(_, case)| case) {
            None => None,
            Some(Found::Aborted(reason)) => {
                return Err(FuzzError::Aborted { scenario: scenario.name.clone(), reason });
            }
            Some(Found::Failed(failure)) => Some(failure),
        };
        Ok(FuzzReport { scenario: scenario.name.clone(), seed: options.seed, executions, seconds, failure, recording })
    }

    /// One worker: its own ledger, prepared as the scenario says, runs
    /// chunks in the order they are handed out until none is left or an
    /// earlier chunk has found a case.
    fn fuzz_worker<E: Engine>(
        &self,
        file: &ScenarioFile,
        scenario: &Scenario,
        spec: &FuzzSpec,
        work: &Chunks<'_>,
        against: Option<&Runner>,
    ) -> Result<Worker, FuzzError> {
        let config = LedgerConfig { keep_history: false, check_carried_state: false, ..self.ledger_config().clone() };
        let ledger = RefCell::new(self.prepare::<E>(file, scenario, config.clone())?.0);
        // `cargo roda diff`: the old binary's ledger, prepared alike.
        let old = match against {
            Some(old) => Some(RefCell::new(old.prepare::<E>(file, scenario, config)?.0)),
            None => None,
        };
        let old_start = old.as_ref().map(|old| old.borrow().snapshot());
        let accounts: BTreeSet<u64> =
            scenario.accounts().into_iter().chain(spec.params.as_slice().iter().flat_map(slot_accounts)).collect();
        let keys = scenario.keys();
        let no_links = BTreeSet::new();
        let reads = Reads { accounts: &accounts, keys: &keys, links: &no_links };
        // Every case starts from the prepared state (accounts opened,
        // starting balances, flags, KV).
        let start = ledger.borrow().snapshot();
        let name = spec.call.clone().unwrap_or_else(|| self.function().to_owned());
        let invariants = Invariants { spec };
        let balance_accounts: &[u64] = spec.balances.as_ref().map_or(&[], |b| &b.accounts);
        let corpus = Corpus::default();
        let strategy = Guided { fresh: Draws::of(spec), corpus: &corpus };
        let executions = Cell::new(0u64);
        // One operation for every case, its parameters replaced in place.
        let call = Action::Call { function: name.clone(), params: Params::new(Vec::new()).expect("no slots") };
        let operation =
            RefCell::new(E::Operation::try_from(call.operation(0)).ok().expect("every profile has function calls"));
        // Runs one case; the status it ended with, or the invariant it broke.
        let run_case = |params: &[i64], balances: &[i64]| -> (Status, Result<(), Violation>) {
            executions.set(executions.get() + 1);
            let mut ledger = ledger.borrow_mut();
            ledger.restore(&start);
            for (account, balance) in balance_accounts.iter().zip(balances) {
                ledger.seed_balance(*account, *balance);
            }
            let mut operation = operation.borrow_mut();
            let slots = operation.params_mut().expect("a call");
            slots.clear();
            slots.extend_from_slice(params);
            let (Some(old), Some(old_start)) = (&old, &old_start) else {
                let reached = ledger.0.reached_blocks();
                let called = ledger.call(&operation);
                if ledger.0.reached_blocks() > reached {
                    corpus.keep(params, balances);
                }
                return (called.status, invariants.check(&ledger, &called));
            };
            let mut old = old.borrow_mut();
            old.restore(old_start);
            for (account, balance) in balance_accounts.iter().zip(balances) {
                old.seed_balance(*account, *balance);
            }
            let (new_answer, old_answer) = (ledger.answer(&operation), old.answer(&operation));
            let changes = differences((&old_answer, &*old), (&new_answer, &*ledger), reads);
            (new_answer.status, if changes.is_empty() { Ok(()) } else { Err(Violation::Changed(changes)) })
        };
        let mut found = None;
        while let Some((chunk, cases)) = work.take() {
            // What counts as new, and the inputs kept, are the chunk's own:
            // a chunk's cases do not depend on the chunks run before it.
            ledger.borrow().0.new_reach();
            corpus.clear();
            let mut runner = TestRunner::new_with_rng(
                Config { cases, failure_persistence: None, max_shrink_iters: 100_000, ..Config::default() },
                TestRng::from_seed(RngAlgorithm::XorShift, &seed_bytes(chunk_seed(work.options.seed, chunk))),
            );
            let outcome = runner.run(&strategy, |(params, balances)| {
                if work.superseded(chunk) {
                    return Ok(());
                }
                run_case(&params, &balances).1.map_err(|v| TestCaseError::fail(v.to_string()))
            });
            let case = match outcome {
                Ok(()) => continue,
                Err(TestError::Fail(_, (params, balances))) => {
                    let (status, result) = run_case(&params, &balances);
                    let reason = result.err().unwrap_or(Violation::NotReproduced);
                    let balances: BTreeMap<u64, i64> = balance_accounts.iter().copied().zip(balances).collect();
                    let scenario = paste(scenario, work.options.seed, &name, &params, &balances, status, &reason);
                    Found::Failed(FuzzFailure { reason, params, balances, status, scenario })
                }
                Err(TestError::Abort(why)) => Found::Aborted(why.to_string()),
            };
            work.first_found.fetch_min(chunk, Ordering::Relaxed);
            found = Some((chunk, case));
            break;
        }
        let recording = ledger.borrow().recording(self.wasm());
        Ok(Worker { executions: executions.get(), found, recording })
    }
}

/// Cases per chunk: the unit of work a fuzz worker takes, each drawn from
/// its own seed, so that which case is found depends on the seed only.
const CHUNK_CASES: u32 = 1024;

/// Cases per chunk of a coverage-guided run (a probing ledger's).
const GUIDED_CHUNK_CASES: u32 = 8192;

/// The seed of chunk `index` of a run with seed `seed`.
fn chunk_seed(seed: u64, index: u32) -> u64 {
    seed ^ u64::from(index).wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// A run's chunks, shared by its workers.
struct Chunks<'a> {
    options: FuzzOptions,
    /// Cases per chunk.
    size: u32,
    chunks: u32,
    /// The next chunk to hand out.
    next: &'a AtomicU32,
    /// The lowest chunk that found a case (`u32::MAX`: none yet).
    first_found: &'a AtomicU32,
}

impl Chunks<'_> {
    /// The next chunk and its number of cases; `None` when all are handed
    /// out or a chunk before it found a case.
    fn take(&self) -> Option<(u32, u32)> {
        let chunk = self.next.fetch_add(1, Ordering::Relaxed);
        if chunk >= self.chunks || self.superseded(chunk) {
            return None;
        }
        Some((chunk, self.size.min(self.options.cases - chunk * self.size)))
    }

    /// Whether an earlier chunk found a case: this one's would not be
    /// reported, so its remaining cases need not run.
    fn superseded(&self, chunk: u32) -> bool {
        self.first_found.load(Ordering::Relaxed) < chunk
    }
}

/// What a chunk found.
enum Found {
    Failed(FuzzFailure),
    Aborted(String),
}

/// What a worker did.
struct Worker {
    executions: u64,
    /// The chunk that found a case, and the case.
    found: Option<(u32, Found)>,
    /// What its ledger recorded of the binary, when it probes.
    recording: Option<Result<Recording, ProbeError>>,
}

/// The failing case as a scenario to paste into the same scenario file:
/// the scenario's starting state (its `open` accounts, balances, flags and
/// KV) with the drawn balances over it, and the call.
fn paste(
    scenario: &Scenario,
    seed: u64,
    call: &str,
    params: &[i64],
    drawn: &BTreeMap<u64, i64>,
    status: Status,
    reason: &Violation,
) -> String {
    let mut balances = scenario.balances.clone();
    balances.extend(drawn);
    let action = Action::Call { function: call.to_owned(), params: Params::new(params.to_vec()).unwrap_or_default() };
    let case = Scenario {
        name: format!("{}: fuzz case (seed {seed})", scenario.name),
        line: 0,
        open: scenario.open.clone(),
        existing: scenario.existing.clone(),
        balances,
        flags: scenario.flags.clone(),
        kv: scenario.kv.clone(),
        steps: vec![Step::new(action, status)],
        fuzz: None,
    };
    case.to_toml(Some(&reason.to_string()))
}
