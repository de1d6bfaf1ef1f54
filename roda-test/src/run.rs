//! The runner: each scenario in a fresh in-process ledger, results as data.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ledger_core::abi::{Profile, ProfileId, V1};
use ledger_core::interface::Interface;
use ledger_core::probe::{ProbeError, Recording};
use ledger_core::{
    CallOutcome, Engine, Entry, ForEngine, IfRegistered, LedgerConfig, Limits, RegistryError, Status, Writes,
};
use serde::Serialize;

use crate::fs::{LoadError, load_module};
use crate::lint::Lint;
use crate::model::{AccountMap, Action, Balances, EntryValue, KeyComponent, KeySpec, Scenario, ScenarioFile, Step};
use crate::sim::SimLedger;

/// Runs scenarios against one function binary, registered under its name.
///
/// Every scenario gets a fresh ledger with the function, and the file's
/// other functions, registered; calls are checked for state carried
/// between them.
#[derive(Debug, Clone)]
pub struct Runner {
    function: String,
    wasm: Vec<u8>,
    config: LedgerConfig,
    profile: &'static Profile,
}

impl Runner {
    /// A runner for `wasm`, registered as `function`, with the default
    /// ledger configuration (fuel per call included).
    pub fn new(wasm: impl Into<Vec<u8>>, function: impl Into<String>) -> Runner {
        Runner { function: function.into(), wasm: wasm.into(), config: LedgerConfig::default(), profile: &V1 }
    }

    /// Runs on a ledger of this ABI profile (v1 by default): [`V2`] runs
    /// ledger-core's v2 engine, which scenarios that open accounts or check
    /// flags, KV, links or records need.
    pub fn with_profile(mut self, profile: &'static Profile) -> Runner {
        self.profile = profile;
        self
    }

    /// The ABI profile scenarios run on.
    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    /// A runner for the module at `path` (`.wasm`, or `.wat` text).
    ///
    /// # Errors
    ///
    /// [`LoadError`] when the file cannot be read or its text does not parse.
    pub fn from_path(path: impl AsRef<Path>, function: impl Into<String>) -> Result<Runner, LoadError> {
        Ok(Runner::new(load_module(path.as_ref())?, function))
    }

    /// Runs every call under these limits (fuel, memory, stack).
    pub fn with_limits(mut self, limits: Limits) -> Runner {
        self.config.limits = limits;
        self
    }

    /// Runs in ledgers set up like this (account range, limits). Carried
    /// state is checked in scenarios and not while fuzzing, whatever it says.
    pub fn with_config(mut self, config: LedgerConfig) -> Runner {
        self.config = config;
        self
    }

    /// The name the function under test is registered under.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The binary under test.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// The binary's interface manifest, to read scenario files with
    /// ([`ScenarioFile::from_dir_with`]): steps may then give `params` by
    /// name and expect statuses by the function's own names.
    pub fn interfaces(&self) -> crate::Interfaces {
        crate::Interfaces::of(&self.function, &self.wasm)
    }

    /// How each scenario's ledger is set up.
    pub fn ledger_config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The fuel each call gets.
    pub fn fuel_per_call(&self) -> u64 {
        self.config.limits.fuel_per_call
    }

    /// Runs every scenario of `file`.
    pub fn run_file(&self, file: &ScenarioFile) -> FileReport {
        FileReport { path: file.origin.clone(), scenarios: file.scenarios.iter().map(|s| self.run(file, s)).collect() }
    }

    /// Runs one scenario of `file` in a fresh ledger of the runner's
    /// profile, up to the first step whose expectations do not hold.
    pub fn run(&self, file: &ScenarioFile, scenario: &Scenario) -> ScenarioReport {
        /// [`Runner::run_on`], with the profile's engine.
        struct Run<'a>(&'a Runner, &'a ScenarioFile, &'a Scenario);
        impl ForEngine for Run<'_> {
            type Output = ScenarioReport;
            fn run<E: Engine>(self) -> ScenarioReport {
                self.0.run_on::<E>(self.1, self.2)
            }
        }
        ledger_core::for_profile(self.profile, Run(self, file, scenario))
    }

    fn run_on<E: Engine>(&self, file: &ScenarioFile, scenario: &Scenario) -> ScenarioReport {
        let config = LedgerConfig { check_carried_state: true, ..self.config.clone() };
        match self.prepare::<E>(file, scenario, config) {
            Ok((mut ledger, start)) => self.run_steps(&mut ledger, file, scenario, &start),
            Err(error) => ScenarioReport::unstarted(scenario, self.fuel_per_call(), error),
        }
    }

    /// Runs every scenario of `files` on `ledger`, a ledger that holds
    /// accounts already (a fork of a live one, see roda-rpc): the function
    /// under test and each file's functions are registered over whatever is
    /// registered under their names, and each scenario starts from the
    /// state they leave. The ids its `open` names stand for are the ones
    /// the ledger issues ([`ScenarioReport::accounts`] says which).
    ///
    /// # Errors
    ///
    /// [`SetupError`] when a function cannot be registered on it, or the
    /// ledger's profile is not the runner's.
    pub fn run_files_on<E: Engine>(&self, files: &[ScenarioFile], ledger: E) -> Result<Vec<FileReport>, SetupError> {
        if E::PROFILE.id != self.profile.id {
            return Err(SetupError::Ledger {
                message: format!("the ledger runs ABI {} and the function ABI {}", E::PROFILE.name, self.profile.name),
            });
        }
        let mut ledger = SimLedger(ledger);
        let mut reports = Vec::new();
        for file in files {
            self.register_all(&mut ledger, file, IfRegistered::Override)?;
            let registered = ledger.snapshot();
            let scenarios = file
                .scenarios
                .iter()
                .map(|scenario| {
                    ledger.restore(&registered);
                    match self.set_up(&mut ledger, scenario) {
                        Ok(start) => self.run_steps(&mut ledger, file, scenario, &start),
                        Err(error) => ScenarioReport::unstarted(scenario, self.fuel_per_call(), error),
                    }
                })
                .collect();
            reports.push(FileReport { path: file.origin.clone(), scenarios });
        }
        Ok(reports)
    }

    /// `scenario` on a fresh ledger, set up and ready for its steps, which
    /// the caller submits one by one: to run the same steps on another
    /// ledger (a live server) and compare.
    ///
    /// # Errors
    ///
    /// [`SetupError`], as [`run`](Runner::run) reports it.
    pub fn session(&self, file: &ScenarioFile, scenario: &Scenario) -> Result<Session, SetupError> {
        /// [`Runner::prepare`], boxed, with the profile's engine.
        struct Prepare<'a>(&'a Runner, &'a ScenarioFile, &'a Scenario);
        impl ForEngine for Prepare<'_> {
            type Output = Result<Session, SetupError>;
            fn run<E: Engine>(self) -> Self::Output {
                let config = LedgerConfig { check_carried_state: true, ..self.0.config.clone() };
                let (ledger, start) = self.0.prepare::<E>(self.1, self.2, config)?;
                Ok(Session { ledger: Box::new(ledger), start })
            }
        }
        ledger_core::for_profile(self.profile, Prepare(self, file, scenario))
    }

    /// Runs the steps of `scenario` on a ledger it was set up on, up to the
    /// first step whose expectations do not hold.
    fn run_steps<E: Engine>(
        &self,
        ledger: &mut SimLedger<E>,
        file: &ScenarioFile,
        scenario: &Scenario,
        start: &Start,
    ) -> ScenarioReport {
        let mut report = ScenarioReport::unstarted(scenario, self.fuel_per_call(), None);
        // The functions' own status names, from their manifests.
        let interfaces: BTreeMap<&str, Interface> = std::iter::once((self.function.as_str(), self.wasm.as_slice()))
            .chain(file.functions.iter().map(|f| (f.name.as_str(), f.wasm.as_slice())))
            .filter_map(|(name, wasm)| Some((name, Interface::from_module(wasm).ok().flatten()?)))
            .collect();
        report.accounts = start.names(scenario);
        let mut map = start.map.clone();
        let mut next_unnamed = scenario.first_opened() + scenario.open.len() as u64;
        for (index, step) in scenario.steps.iter().enumerate() {
            let step = if map.is_empty() { Cow::Borrowed(step) } else { Cow::Owned(step.with_ids(&map)) };
            let receipt = ledger.submit(&step.action, step.user_ref);
            if let Some((begin, count)) = receipt.opened {
                map.opened(next_unnamed, begin, count);
                next_unnamed += u64::from(count);
            }
            let mismatches = check(&step, &receipt.answer, &*ledger, &start.balances);
            let stop = !mismatches.is_empty();
            let status_names = match &step.action {
                Action::Call { function, .. } => interfaces
                    .get(function.as_str())
                    .map(|interface| {
                        [receipt.answer.status, step.expect]
                            .into_iter()
                            .filter_map(|status| Some((status.code(), interface.status_name(status)?.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => BTreeMap::new(),
            };
            report.steps.push(StepReport {
                step: index + 1,
                line: step.line,
                operation: step.action.clone(),
                user_ref: step.user_ref,
                status: receipt.answer.status,
                fuel: receipt.fuel,
                outcome: receipt.outcome.filter(|o| !matches!(o, CallOutcome::Returned(_))),
                lints: receipt.lints,
                mismatches,
                status_names,
                writes: receipt.writes,
            });
            if stop {
                break;
            }
        }
        report.recording = ledger.recording(&self.wasm);
        report
    }

    /// A fresh ledger for `scenario`: the functions registered, its accounts
    /// opened, its starting state set; and where it started.
    pub(crate) fn prepare<E: Engine>(
        &self,
        file: &ScenarioFile,
        scenario: &Scenario,
        config: LedgerConfig,
    ) -> Result<(SimLedger<E>, Start), SetupError> {
        if !scenario.existing.is_empty() {
            return Err(SetupError::NeedsFork { scenario: scenario.name.clone() });
        }
        let mut ledger = self.ledger::<E>(file, config)?;
        let start = self.set_up(&mut ledger, scenario)?;
        Ok((ledger, start))
    }

    /// Opens the accounts of `scenario` and sets its starting state.
    fn set_up<E: Engine>(&self, ledger: &mut SimLedger<E>, scenario: &Scenario) -> Result<Start, SetupError> {
        if scenario.needs_v2() && E::PROFILE.id == ProfileId::V1 {
            return Err(SetupError::NeedsV2 { scenario: scenario.name.clone(), profile: E::PROFILE.name });
        }
        let mut map = AccountMap::default();
        if !scenario.open.is_empty() {
            let count = u32::try_from(scenario.open.len()).unwrap_or(u32::MAX);
            let opened = ledger.submit(&Action::OpenAccount { count }, 0);
            debug_assert!(opened.answer.status.is_success());
            map.opened(scenario.first_opened(), opened.opened.map_or(1, |(begin, _)| begin), count);
        }
        for (&account, &balance) in &scenario.balances {
            ledger.seed_balance(map.to_ledger(account), balance);
        }
        for (&(account, lane), &value) in &scenario.flags {
            ledger.seed_flag(map.to_ledger(account), lane, value);
        }
        for (key, value) in &scenario.kv {
            let raw = resolve(&*ledger, &key.with_ids(&map))
                .map_err(|name| SetupError::UnknownConstant { key: key.to_string(), name })?;
            ledger.seed_kv(raw, *value);
        }
        let relative = scenario.steps.iter().flat_map(|step| step.relative.keys()).map(|&id| map.to_ledger(id));
        let balances = relative.map(|id| (id, ledger.balance(id))).collect();
        Ok(Start { map, balances })
    }

    /// A ledger with the function under test and the file's functions
    /// registered.
    pub(crate) fn ledger<E: Engine>(
        &self,
        file: &ScenarioFile,
        config: LedgerConfig,
    ) -> Result<SimLedger<E>, SetupError> {
        let mut ledger = SimLedger::<E>::new(config).map_err(|e| SetupError::Ledger { message: e.to_string() })?;
        self.register_all(&mut ledger, file, IfRegistered::Refuse)?;
        Ok(ledger)
    }

    /// Registers the function under test (`if_registered` says what to do
    /// when its name is taken) and the file's functions.
    fn register_all<E: Engine>(
        &self,
        ledger: &mut SimLedger<E>,
        file: &ScenarioFile,
        if_registered: IfRegistered,
    ) -> Result<(), SetupError> {
        if let Some(helper) = file.functions.iter().find(|f| f.name == self.function) {
            return Err(SetupError::HelperNamedLikeSubject { origin: file.origin.clone(), name: helper.name.clone() });
        }
        ledger
            .register(&self.function, &self.wasm, if_registered)
            .map_err(|source| SetupError::Register { name: self.function.clone(), source })?;
        for helper in &file.functions {
            ledger
                .register(&helper.name, &helper.wasm, IfRegistered::Override)
                .map_err(|source| SetupError::Register { name: helper.name.clone(), source })?;
        }
        Ok(())
    }
}

/// A scenario on a fresh simulated ledger, its steps submitted one by one
/// (see [`Runner::session`]).
pub struct Session {
    ledger: Box<dyn Simulated>,
    start: Start,
}

impl Session {
    /// Submits a step's operation; the ledger then reads as
    /// [`view`](Session::view) shows.
    pub fn submit(&mut self, step: &Step) -> Answer {
        self.ledger.submit(&step.action, step.user_ref)
    }

    /// The ledger's state now.
    pub fn view(&self) -> &dyn View {
        self.ledger.view()
    }

    /// Where the scenario started (on a fresh ledger its ids are the
    /// scenario's own).
    pub fn start(&self) -> &Start {
        &self.start
    }
}

/// A simulated ledger of any profile, boxed in a [`Session`].
trait Simulated: Send {
    fn submit(&mut self, action: &Action, user_ref: u64) -> Answer;
    fn view(&self) -> &dyn View;
}

impl<E: Engine> Simulated for SimLedger<E> {
    fn submit(&mut self, action: &Action, user_ref: u64) -> Answer {
        SimLedger::submit(self, action, user_ref).answer
    }

    fn view(&self) -> &dyn View {
        self
    }
}

/// Where a scenario started: the ids the ledger issued for its accounts,
/// and the balances its relative expectations are counted from (by the
/// ledger's ids).
#[derive(Debug, Clone, Default)]
pub struct Start {
    /// The ledger's ids for the scenario's.
    pub map: AccountMap,
    /// Balances when the scenario started.
    pub balances: Balances,
}

impl Start {
    /// The names of `scenario`'s accounts by the ledger's ids.
    pub fn names(&self, scenario: &Scenario) -> BTreeMap<u64, String> {
        let opened = scenario
            .open
            .iter()
            .zip(scenario.first_opened()..)
            .map(|(name, id)| (self.map.to_ledger(id), name.clone()));
        scenario.existing.iter().map(|(name, &id)| (id, name.clone())).chain(opened).collect()
    }
}

/// A key's four components, its constants looked up; the name of the first
/// constant no `register()` defined.
fn resolve<E: Engine>(ledger: &SimLedger<E>, key: &KeySpec) -> Result<[u32; 4], String> {
    let mut raw = [0; 4];
    for (slot, component) in raw.iter_mut().zip(&key.0) {
        *slot = match component {
            KeyComponent::Int(value) => *value,
            // No function can write a key of an account past 2^32.
            KeyComponent::Account(id) => u32::try_from(*id).unwrap_or(u32::MAX),
            KeyComponent::Constant(name) => {
                ledger.constant(name.as_bytes()).ok_or_else(|| name.clone())? | ledger_core::v2::CONSTANT_BIT
            }
        };
    }
    Ok(raw)
}

/// What a step's transaction answered, from the simulator or a live
/// server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// Its status.
    pub status: Status,
    /// Its committed credits and debits.
    pub entries: Vec<Entry>,
    /// Its committed records in their text form (none where the profile, or
    /// the wire, has only entries).
    pub records: Vec<String>,
}

/// A ledger's state as a step's expectations read it: the simulator's, or
/// a live server's as read after the step.
pub trait View {
    /// An account's balance.
    fn balance(&self, account: u64) -> i64;
    /// A flag lane of an account.
    fn flag(&self, account: u64, lane: u8) -> u8;
    /// The value under a key (0 when never written), or the name of the
    /// first of its constants that no `register()` defined.
    fn kv(&self, key: &KeySpec) -> Result<i64, String>;
    /// The account linked to `parent` under `link_type`.
    fn linked(&self, parent: u64, link_type: u16) -> Option<u64>;

    /// Whether the view can read `account` (a live server reads a linked
    /// account only through its parent, and not every link is known):
    /// comparisons leave out what it cannot.
    fn reads_account(&self, account: u64) -> bool {
        let _ = account;
        true
    }

    /// Whether the view can read the flag lanes of `account` (an ee2b042
    /// server has none; a linked account read through its parent shows its
    /// balance only).
    fn reads_flags(&self, account: u64) -> bool {
        let _ = account;
        true
    }
}

impl<E: Engine> View for SimLedger<E> {
    fn balance(&self, account: u64) -> i64 {
        SimLedger::balance(self, account)
    }

    fn flag(&self, account: u64, lane: u8) -> u8 {
        SimLedger::flag(self, account, lane)
    }

    fn kv(&self, key: &KeySpec) -> Result<i64, String> {
        resolve(self, key).map(|raw| SimLedger::kv(self, raw))
    }

    fn linked(&self, parent: u64, link_type: u16) -> Option<u64> {
        SimLedger::linked(self, parent, link_type)
    }
}

/// The expectations of `step` that do not hold after it answered `answer`
/// and left `view`; relative balances count from `start`.
pub fn check(step: &Step, answer: &Answer, view: &dyn View, start: &Balances) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if step.expect != answer.status {
        mismatches.push(Mismatch::Status { expected: step.expect, actual: answer.status });
    }
    let relative = step
        .relative
        .iter()
        .map(|(&account, &change)| (account, start.get(&account).copied().unwrap_or(0).saturating_add(change)));
    for (account, expected) in step.balances.iter().map(|(&a, &b)| (a, b)).chain(relative) {
        let actual = view.balance(account);
        if actual != expected {
            mismatches.push(Mismatch::Balance { account, expected, actual });
        }
    }
    if let Some(expected) = &step.entries {
        let actual = answer.entries.as_slice();
        let same = expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| e.matches(a));
        if !same {
            mismatches.push(Mismatch::Entries {
                expected: expected.clone(),
                actual: actual.iter().map(Into::into).collect(),
            });
        }
    }
    for (&(account, lane), &expected) in &step.flags {
        let actual = view.flag(account, lane);
        if actual != expected {
            mismatches.push(Mismatch::Flag { account, lane, expected, actual });
        }
    }
    for (key, expected) in &step.kv {
        let text = key.to_string();
        match view.kv(key) {
            Ok(actual) if actual != *expected => {
                mismatches.push(Mismatch::Kv { key: text, expected: *expected, actual });
            }
            Ok(_) => {}
            Err(name) => mismatches.push(Mismatch::UnknownConstant { key: text, name }),
        }
    }
    for &(parent, link_type, child) in &step.links {
        let actual = view.linked(parent, link_type);
        if actual != Some(child) {
            mismatches.push(Mismatch::Link { parent, link_type, expected: child, actual });
        }
    }
    if let Some(expected) = &step.records
        && *expected != answer.records
    {
        mismatches.push(Mismatch::Records { expected: expected.clone(), actual: answer.records.clone() });
    }
    mismatches
}

/// Why a scenario could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The file's `functions` would replace the function under test.
    #[error(
        "{}: `functions` registers `{name}`, the name of the function under test; give the helper another name",
        .origin.display()
    )]
    HelperNamedLikeSubject {
        /// The scenario file.
        origin: PathBuf,
        /// The name.
        name: String,
    },
    /// The ledger could not be created (its configuration).
    #[error("{message}")]
    Ledger {
        /// The ledger's message.
        message: String,
    },
    /// The scenario opens accounts or checks flags, KV, links or records,
    /// which the runner's ABI profile does not have.
    #[error(
        "scenario `{scenario}` uses ABI v2 (open, flags, kv, links or records) but runs on ABI {profile}; set `abi = \"v2\"` in Roda.toml's [function] or pass --abi v2"
    )]
    NeedsV2 {
        /// The scenario.
        scenario: String,
        /// The runner's profile.
        profile: &'static str,
    },
    /// The scenario names existing accounts (`accounts`), which only a
    /// ledger that holds them has.
    #[error(
        "scenario `{scenario}` names existing accounts (`accounts = {{ ... }}`), which a fresh ledger does not hold: run it on a fork of the ledger that does (`cargo roda test --fork URL`)"
    )]
    NeedsFork {
        /// The scenario.
        scenario: String,
    },
    /// A starting KV key names a constant no `register()` defined.
    #[error("starting kv `{key}`: no constant is named `{name}`; define it in the function's register()")]
    UnknownConstant {
        /// The key as written.
        key: String,
        /// The constant.
        name: String,
    },
    /// A function was refused at registration, as a server would refuse it.
    #[error("registering `{name}`: {source}{}", register_detail(source))]
    Register {
        /// The name.
        name: String,
        /// The server's reason.
        source: RegistryError,
    },
}

/// What stopped a v2 `register()`, which the server's message leaves out.
fn register_detail(error: &RegistryError) -> String {
    let RegistryError::RegisterFailed { status, outcome, live_until_restart } = error else { return String::new() };
    if *live_until_restart {
        return format!(
            " (the module's `start` function ran inside the registration's transaction and its moves failed it with {}: a server answers with this error yet keeps the new version live until it restarts, then it is gone; move that work into `execute`)",
            Status::from_code(*status)
        );
    }
    let why = match Status::from_code(*status) {
        Status::PROHIBITED_HOST_CALL => {
            "register() called a verb the register phase refuses (inside register() only kv_register_constant may be called)"
        }
        Status::CONSTANT_NAME_TOO_LONG => "register() registered a constant name over 32 bytes",
        Status::ENTRY_LIMIT_EXCEEDED => {
            "register() defined more than 65,535 constants: a server commits them with the transaction's record count wrapped (read in its source), a log it cannot be trusted to read back; here the registration is refused"
        }
        _ => "register() did not finish",
    };
    match outcome {
        Some(outcome) => format!(" ({why}; it then {outcome})"),
        None => format!(" ({why})"),
    }
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// The step ended with another status.
    Status {
        /// The status expected.
        #[serde(serialize_with = "crate::display")]
        expected: Status,
        /// The status it ended with.
        #[serde(serialize_with = "crate::display")]
        actual: Status,
    },
    /// An account holds another balance.
    Balance {
        /// The account.
        account: u64,
        /// The balance expected.
        expected: i64,
        /// The balance it holds.
        actual: i64,
    },
    /// The committed entries differ.
    Entries {
        /// The entries expected.
        expected: Vec<EntryValue>,
        /// The entries committed.
        actual: Vec<EntryValue>,
    },
    /// A flag lane holds another value.
    Flag {
        /// The account.
        account: u64,
        /// The lane.
        lane: u8,
        /// The value expected.
        expected: u8,
        /// The value it holds.
        actual: u8,
    },
    /// A KV key holds another value.
    Kv {
        /// The key as written.
        key: String,
        /// The value expected.
        expected: i64,
        /// The value it holds (0 when never written).
        actual: i64,
    },
    /// An expected KV key names a constant no `register()` defined.
    UnknownConstant {
        /// The key as written.
        key: String,
        /// The constant.
        name: String,
    },
    /// A linked account is missing or another one.
    Link {
        /// The parent.
        parent: u64,
        /// The link type.
        link_type: u16,
        /// The child expected.
        expected: u64,
        /// The child linked, if any.
        actual: Option<u64>,
    },
    /// The committed records differ.
    Records {
        /// The records expected.
        expected: Vec<String>,
        /// The records committed.
        actual: Vec<String>,
    },
}

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// 1-based position in the scenario.
    pub step: usize,
    /// Its line in the file.
    pub line: usize,
    /// What was submitted (serialised as `call f(1, 2)`).
    #[serde(serialize_with = "crate::display")]
    pub operation: Action,
    /// Its deduplication key.
    #[serde(skip)]
    pub user_ref: u64,
    /// The status it ended with.
    #[serde(serialize_with = "crate::display")]
    pub status: Status,
    /// Fuel used, for a call.
    pub fuel: Option<u64>,
    /// How a call ended when it did not return (trap, out of fuel, ...).
    #[serde(serialize_with = "crate::display_option")]
    pub outcome: Option<CallOutcome>,
    /// Lints the call raised.
    pub lints: Vec<Lint>,
    /// Expectations that did not hold; the scenario stops at such a step.
    pub mismatches: Vec<Mismatch>,
    /// The called function's own names for the status and the status
    /// expected, by code, from its interface manifest.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub status_names: BTreeMap<u8, String>,
    /// The flag lanes and KV keys the step's transaction wrote (v2).
    #[serde(skip)]
    pub writes: Writes,
}

impl StepReport {
    /// `status` as the ledger names it, then as the called function does:
    /// `USER(140) = COLLATERAL_SHORT`.
    pub fn describe(&self, status: Status) -> String {
        ledger_core::interface::describe(status, self.status_names.get(&status.code()).map(String::as_str))
    }
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// The names of the accounts it opened or named, by the ids the ledger
    /// gave them, to name them in reports.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<u64, String>,
    /// The fuel each call had.
    pub fuel_budget: u64,
    /// The steps that ran.
    pub steps: Vec<StepReport>,
    /// Why the scenario could not start.
    #[serde(serialize_with = "crate::display_option")]
    pub error: Option<SetupError>,
    /// Where the function's fuel went and which of its code ran, when the
    /// runner's ledgers probe ([`LedgerConfig::probe`]); on a shared ledger
    /// ([`Runner::run_files_on`]), what every scenario so far recorded.
    #[serde(skip)]
    pub recording: Option<Result<Recording, ProbeError>>,
}

impl ScenarioReport {
    /// A report of `scenario` with no step run yet: `error` says why it
    /// will not start, when it will not.
    pub fn unstarted(scenario: &Scenario, fuel_budget: u64, error: impl Into<Option<SetupError>>) -> ScenarioReport {
        ScenarioReport {
            name: scenario.name.clone(),
            accounts: Start::default().names(scenario),
            fuel_budget,
            steps: Vec::new(),
            error: error.into(),
            recording: None,
        }
    }

    /// Started, every expectation held and no call raised a lint.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.steps.iter().all(|s| s.mismatches.is_empty() && s.lints.is_empty())
    }

    /// The step whose expectations did not hold.
    pub fn failed_step(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| !s.mismatches.is_empty())
    }

    /// Fuel used by all the steps.
    pub fn fuel(&self) -> u64 {
        self.steps.iter().filter_map(|s| s.fuel).sum()
    }
}

/// `  ok   name (2 step(s), 52 fuel)`, then for a failure each step, outcome,
/// lint and unmet expectation.
impl fmt::Display for ScenarioReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let passed = self.passed();
        let verdict = if passed { "ok  " } else { "FAIL" };
        writeln!(f, "  {verdict} {} ({} step(s), {} fuel)", self.name, self.steps.len(), self.fuel())?;
        if let Some(error) = &self.error {
            writeln!(f, "       {error}")?;
        }
        for step in &self.steps {
            let n = step.step;
            if let (false, Some(fuel)) = (passed, step.fuel) {
                let share = fuel as f64 * 100.0 / self.fuel_budget as f64;
                writeln!(
                    f,
                    "       step {n}: {} -> {} ({fuel} fuel, {share:.4}% of the budget)",
                    step.operation,
                    step.describe(step.status)
                )?;
            }
            if let Some(outcome) = &step.outcome {
                writeln!(f, "       step {n}: the call {outcome}")?;
            }
            for lint in &step.lints {
                writeln!(f, "       step {n}: lint[{}]: {lint}", lint.code())?;
            }
        }
        if let Some(step) = self.failed_step() {
            write_mismatches(f, step, &self.accounts)?;
        }
        Ok(())
    }
}

fn write_mismatches(f: &mut fmt::Formatter<'_>, step: &StepReport, names: &BTreeMap<u64, String>) -> fmt::Result {
    // An account as the scenario knows it: `2 (bob)` for a named one.
    let account = |id: u64| match names.get(&id) {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    };
    writeln!(f, "       step {}: expectations not met", step.step)?;
    let mut table_started = false;
    for mismatch in &step.mismatches {
        match mismatch {
            Mismatch::Status { expected, actual } => writeln!(
                f,
                "         expected status {} ({}), got {} ({})",
                step.describe(*expected),
                expected.code(),
                step.describe(*actual),
                actual.code()
            )?,
            Mismatch::Balance { account: id, expected, actual } => {
                if !std::mem::replace(&mut table_started, true) {
                    writeln!(f, "         {:>12} {:>20} {:>20}", "account", "expected", "actual")?;
                }
                writeln!(f, "         {:>12} {expected:>20} {actual:>20}", account(*id))?;
            }
            Mismatch::Entries { expected, actual } => {
                writeln!(f, "         expected entries: [{}]", join(expected))?;
                writeln!(f, "         actual entries:   [{}]", join(actual))?;
            }
            Mismatch::Flag { account: id, lane, expected, actual } => {
                writeln!(f, "         account {} lane {lane}: expected {expected}, got {actual}", account(*id))?
            }
            Mismatch::Kv { key, expected, actual } => {
                writeln!(f, "         kv {key}: expected {expected}, got {actual}")?
            }
            Mismatch::UnknownConstant { key, name } => {
                writeln!(f, "         kv {key}: no constant is named `{name}` (define it in register())")?
            }
            Mismatch::Link { parent, link_type, expected, actual } => {
                let parent = account(*parent);
                match actual {
                    Some(actual) => writeln!(
                        f,
                        "         link {parent} type {link_type}: expected account {expected}, got {actual}"
                    )?,
                    None => writeln!(f, "         link {parent} type {link_type}: expected account {expected}, none")?,
                }
            }
            Mismatch::Records { expected, actual } => {
                writeln!(f, "         expected records: [{}]", expected.join(", "))?;
                writeln!(f, "         actual records:   [{}]", actual.join(", "))?;
            }
        }
    }
    Ok(())
}

fn join(entries: &[EntryValue]) -> String {
    entries.iter().map(EntryValue::to_string).collect::<Vec<_>>().join(", ")
}

/// One file's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The scenario file.
    pub path: PathBuf,
    /// Each scenario's result, in file order.
    pub scenarios: Vec<ScenarioReport>,
}

impl FileReport {
    /// Every scenario passed.
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(ScenarioReport::passed)
    }
}

/// `running N scenario(s) from PATH`, then each scenario.
impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "running {} scenario(s) from {}", self.scenarios.len(), self.path.display())?;
        self.scenarios.iter().try_for_each(|s| s.fmt(f))
    }
}
