//! A project's scenarios against a live server of either wire, each step
//! compared with what the simulator answers for it.
//!
//! The function under test (and a file's other functions) is deployed
//! under a run-unique name. A scenario's `open` names are opened afresh on
//! a HEAD server, so its ids are the server's ([`LiveScenario::accounts`]
//! says which); an ee2b042 server has no account to open, and runs the
//! scenario on the ids it names, each set to its starting balance (0 when
//! none is given) by a deposit or a withdrawal. Starting balances are
//! deposits, and `user_ref`s are moved to a range of the run's own, so
//! that a run never deduplicates against an earlier one. After each step
//! the server's status, records (entries on ee2b042), balances, flags, KV
//! and links are read and compared with the simulator's, and the step's
//! expectations are checked on the server's answer.
//!
//! What a live server cannot be brought to without a function (starting
//! flags and KV, a negative starting balance) is said: such a scenario is
//! [`LiveOutcome::NotReproducible`], never skipped silently.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;

use ledger_core::Status;
use ledger_core::v2::{self, CONSTANT_BIT, Operation, Record};
use roda_test::compare::{Reads, differences};
use roda_test::model::{KeyComponent, KeySpec};
use roda_test::{AccountMap, Action, Answer, Mismatch, Runner, Scenario, ScenarioFile, Step, View, check};
use serde::Serialize;

use crate::Wire;
use crate::client::{Client, RpcError, WaitLevel};
use crate::results::CallResult;

/// Where to report a step on which the server and the simulator disagree.
pub const REPORT_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/issues");

/// The system account: on a server it holds the whole history's deposits
/// and withdrawals, so its balances are read as changes from the
/// scenario's start (see [`Ids`]).
const SYSTEM_ACCOUNT: u64 = 0;

/// How the server's ids and system balance read in the scenario's terms.
struct Ids {
    /// The server's ids for the scenario's.
    map: AccountMap,
    /// The simulator's system balance less the server's, when the scenario
    /// started: added to every system balance the server shows.
    system: i64,
}

impl Ids {
    /// A balance the server shows for `account` (a scenario id), in the
    /// simulator's terms.
    fn balance(&self, account: u64, balance: i64) -> i64 {
        if account == SYSTEM_ACCOUNT { balance.wrapping_add(self.system) } else { balance }
    }

    /// A server's entry in the scenario's terms.
    fn entry(&self, entry: &ledger_core::Entry) -> ledger_core::Entry {
        let account_id = self.map.to_scenario(entry.account_id);
        ledger_core::Entry { account_id, computed_balance: self.balance(account_id, entry.computed_balance), ..*entry }
    }
}

/// What a run against a live server found.
#[derive(Debug, Clone, Serialize)]
pub struct LiveRun {
    /// The server.
    pub url: String,
    /// Its wire.
    pub wire: &'static str,
    /// The names the run deployed under, by the names scenarios call.
    pub deployed: BTreeMap<String, String>,
    /// Each file's scenarios.
    pub files: Vec<LiveFile>,
    /// What could not be cleaned up after the run (a name left registered).
    pub cleanup: Vec<String>,
}

impl LiveRun {
    /// Scenarios that failed on the server or disagreed with the simulator.
    pub fn failed(&self) -> usize {
        self.scenarios().filter(|s| s.outcome.failed()).count()
    }

    /// Every scenario's result.
    pub fn scenarios(&self) -> impl Iterator<Item = &LiveScenario> {
        self.files.iter().flat_map(|f| &f.scenarios)
    }
}

/// One file's scenarios on the server.
#[derive(Debug, Clone, Serialize)]
pub struct LiveFile {
    /// The scenario file.
    pub path: PathBuf,
    /// Its scenarios, in file order.
    pub scenarios: Vec<LiveScenario>,
}

/// One scenario on the server.
#[derive(Debug, Clone, Serialize)]
pub struct LiveScenario {
    /// Its name.
    pub name: String,
    /// The server's ids for the scenario's accounts (scenario id, server
    /// id), where they differ.
    pub accounts: Vec<(u64, u64)>,
    /// The steps that ran.
    pub steps: Vec<LiveStep>,
    /// How it ended.
    pub outcome: LiveOutcome,
}

/// How a scenario ended on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveOutcome {
    /// Every step met its expectations on the server, which answered as the
    /// simulator did.
    Passed,
    /// A step's expectations did not hold on the server, and the simulator
    /// answered the same: the function (or the scenario) is wrong.
    Failed {
        /// The step, from 1.
        step: usize,
    },
    /// The server and the simulator answered a step differently: a fidelity
    /// bug in the simulator (or a server of another build).
    Disagreed {
        /// The step, from 1.
        step: usize,
    },
    /// The scenario needs a state a server cannot be brought to from
    /// outside.
    NotReproducible {
        /// What.
        reason: String,
    },
    /// The scenario could not be set up (the simulator refused it, or a
    /// setting-up transaction failed on the server).
    SetupFailed {
        /// Why.
        reason: String,
    },
}

impl LiveOutcome {
    /// Whether it counts as a failure.
    pub fn failed(&self) -> bool {
        matches!(self, LiveOutcome::Failed { .. } | LiveOutcome::Disagreed { .. } | LiveOutcome::SetupFailed { .. })
    }
}

/// One step on the server.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStep {
    /// Position, from 1.
    pub step: usize,
    /// Its line in the file.
    pub line: usize,
    /// What the server was sent (its ids and the deployed name).
    #[serde(serialize_with = "display")]
    pub operation: Action,
    /// The transaction the server gave it.
    pub tx_id: u64,
    /// The server's status.
    #[serde(serialize_with = "display")]
    pub status: Status,
    /// Expectations that did not hold on the server (by the scenario's ids).
    pub mismatches: Vec<Mismatch>,
    /// Where the server and the simulator answered differently.
    pub differences: Vec<Difference>,
}

/// One thing the server and the simulator answered differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What was read (`status`, `balance of 2`, `records`, `kv counter/1`).
    pub what: String,
    /// The simulator's answer.
    pub simulator: String,
    /// The server's answer.
    pub server: String,
}

/// Why a run could not be made at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The server refused a request, or could not be read.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// A function could not be deployed.
    #[error("deploying `{name}` as `{deployed}`: {source}")]
    Deploy {
        /// The name scenarios call.
        name: String,
        /// The run-unique name.
        deployed: String,
        /// The server's refusal.
        source: RpcError,
    },
}

/// A run-unique function name: `name` with `_` and `suffix`, shortened to
/// the 32 bytes a name may have.
///
/// ```
/// # use roda_rpc::live::deployed_name;
/// assert_eq!(deployed_name("fee_transfer", "1a2b3c4d"), "fee_transfer_1a2b3c4d");
/// assert_eq!(deployed_name("a_very_long_function_name_indeed", "1a2b3c4d").len(), 32);
/// assert_eq!(deployed_name("ééééééééééééééééééé", "1a2b3c4d"), "ééééééééééé_1a2b3c4d");
/// ```
pub fn deployed_name(name: &str, suffix: &str) -> String {
    let mut keep = 32usize.saturating_sub(suffix.len() + 1).min(name.len());
    // A name the server would refuse anyway may hold other characters.
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}_{suffix}", &name[..keep])
}

/// Runs the scenarios of `files` on the server `client` talks to, the
/// function `runner` tests deployed there, each step beside the simulator;
/// `run_id` (8 hex digits of the clock, say) makes the deployed names and
/// the `user_ref`s the run's own. Deployed functions are unregistered
/// afterwards.
///
/// # Errors
///
/// [`LiveError`] when a function cannot be deployed or the server stops
/// answering; a scenario that fails is a result.
pub async fn run(client: &Client, runner: &Runner, files: &[ScenarioFile], run_id: u32) -> Result<LiveRun, LiveError> {
    let suffix = format!("{run_id:08x}");
    let mut deployed = BTreeMap::new();
    let subject = std::iter::once((runner.function(), runner.wasm()));
    let helpers = files.iter().flat_map(|f| &f.functions).map(|h| (h.name.as_str(), h.wasm.as_slice()));
    let mut outcome = Ok(Vec::new());
    for (name, wasm) in subject.chain(helpers) {
        if deployed.contains_key(name) {
            continue;
        }
        let unique = deployed_name(name, &suffix);
        if let Err(source) = client.register(&unique, wasm, false).await {
            outcome = Err(LiveError::Deploy { name: name.to_owned(), deployed: unique, source });
            break;
        }
        deployed.insert(name.to_owned(), unique);
    }
    if outcome.is_ok() {
        let mut run = Live { client, names: &deployed, user_refs: u64::from(run_id) << 32, constants: None };
        outcome = run.files(runner, files).await;
    }
    let mut cleanup = Vec::new();
    for unique in deployed.values() {
        if let Err(error) = client.unregister(unique).await {
            cleanup.push(format!("`{unique}` is still registered: {error}"));
        }
    }
    Ok(LiveRun { url: client.url().to_owned(), wire: client.wire().name(), deployed, files: outcome?, cleanup })
}

/// One run's connection and what it learnt.
struct Live<'a> {
    client: &'a Client,
    /// Deployed names by the names scenarios call.
    names: &'a BTreeMap<String, String>,
    /// The next scenario's `user_ref` range.
    user_refs: u64,
    /// The server's constant names by id, read from its log once needed.
    constants: Option<HashMap<u32, String>>,
}

impl Live<'_> {
    async fn files(&mut self, runner: &Runner, files: &[ScenarioFile]) -> Result<Vec<LiveFile>, LiveError> {
        let mut reports = Vec::new();
        for file in files {
            let mut scenarios = Vec::new();
            for scenario in &file.scenarios {
                self.user_refs = self.user_refs.wrapping_add(1 << 24);
                scenarios.push(self.scenario(runner, file, scenario).await?);
            }
            reports.push(LiveFile { path: file.origin.clone(), scenarios });
        }
        Ok(reports)
    }

    async fn scenario(
        &mut self,
        runner: &Runner,
        file: &ScenarioFile,
        scenario: &Scenario,
    ) -> Result<LiveScenario, LiveError> {
        let mut report = LiveScenario {
            name: scenario.name.clone(),
            accounts: Vec::new(),
            steps: Vec::new(),
            outcome: LiveOutcome::Passed,
        };
        if !scenario.existing.is_empty() {
            report.outcome = LiveOutcome::NotReproducible {
                reason: "it names existing accounts (`accounts`), which the simulator beside a live server does not hold: run it on a fork (--fork URL)".into(),
            };
            return Ok(report);
        }
        let mut session = match runner.session(file, scenario) {
            Ok(session) => session,
            Err(error) => {
                report.outcome = LiveOutcome::SetupFailed { reason: error.to_string() };
                return Ok(report);
            }
        };
        if let Some(reason) = not_reproducible(scenario) {
            report.outcome = LiveOutcome::NotReproducible { reason };
            return Ok(report);
        }
        let (map, setup) = self.set_up(scenario).await?;
        if let Err(reason) = setup {
            report.outcome = LiveOutcome::SetupFailed { reason };
            return Ok(report);
        }
        let system = self.client.balance(SYSTEM_ACCOUNT, false).await?.balance;
        let mut ids = Ids { map, system: session.view().balance(SYSTEM_ACCOUNT).wrapping_sub(system) };
        let accounts = scenario.accounts();
        let keys = scenario.keys();
        let mut links = BTreeMap::new();
        let mut next_unnamed = scenario.first_opened() + scenario.open.len() as u64;
        for (index, step) in scenario.steps.iter().enumerate() {
            let simulated = session.submit(step);
            let sent = self.on_server(&step.with_ids(&ids.map));
            let result = self.client.submit(sent.action.operation(sent.user_ref), WaitLevel::Snapshot).await?;
            if let Some((begin, count)) = opened(&result) {
                ids.map.opened(next_unnamed, begin, count);
                next_unnamed += u64::from(count);
            }
            let answer = self.answer(&result, &ids, &mut links).await?;
            let mut seen = accounts.clone();
            seen.extend(answer.1.iter().copied());
            let observed = self.observe(&seen, &keys, &ids, &links).await?;
            let mismatches = check(step, &answer.0, &observed, &session.start().balances);
            let linked: BTreeSet<(u64, u16)> = links.keys().copied().collect();
            let reads = Reads { accounts: &seen, keys: &keys, links: &linked };
            let differences: Vec<Difference> = differences((&simulated, session.view()), (&answer.0, &observed), reads)
                .into_iter()
                .map(|d| Difference { what: d.what, simulator: d.left, server: d.right })
                .collect();
            if !differences.is_empty()
                && let Some(reason) = self.unopened_accounts(step, session.view()).await?
            {
                report.outcome = LiveOutcome::NotReproducible { reason: format!("step {}: {reason}", index + 1) };
                break;
            }
            let (disagreed, failed) = (!differences.is_empty(), !mismatches.is_empty());
            report.steps.push(LiveStep {
                step: index + 1,
                line: step.line,
                operation: sent.action,
                tx_id: result.tx_id,
                status: result.status,
                mismatches,
                differences,
            });
            if disagreed || failed {
                report.outcome = match disagreed {
                    true => LiveOutcome::Disagreed { step: index + 1 },
                    false => LiveOutcome::Failed { step: index + 1 },
                };
                break;
            }
        }
        report.accounts = ids.map.iter().collect();
        Ok(report)
    }

    /// A call's parameters, written as numbers, that are accounts open on
    /// the server but not in the simulator's fresh ledger (a scenario's
    /// "account that does not exist"): what makes a HEAD server answer
    /// otherwise without any fidelity bug, when the call reads one as an
    /// account.
    async fn unopened_accounts(&self, step: &Step, simulator: &dyn View) -> Result<Option<String>, LiveError> {
        let Action::Call { params, .. } = &step.action else { return Ok(None) };
        if self.client.wire() != Wire::Head {
            return Ok(None);
        }
        let mut found = Vec::new();
        for (slot, &value) in params.as_slice().iter().enumerate() {
            let Ok(id) = u64::try_from(value) else { continue };
            if step.account_params & (1 << slot) != 0 || id == SYSTEM_ACCOUNT || simulator.flag(id, 0) != 0 {
                continue;
            }
            let open = match self.client.balance(id, false).await {
                Ok(balance) => balance.flags.is_some_and(|flags| flags & 0xff != 0),
                Err(error) if error.code() == Some(tonic::Code::FailedPrecondition) => true,
                Err(_) => false,
            };
            if open {
                found.push(format!("params[{slot}] = {value}"));
            }
        }
        Ok((!found.is_empty()).then(|| {
            format!(
                "{} name(s) an account open on the server and none in the simulator's fresh ledger: where the call reads it as an account, a live server cannot reproduce an account that does not exist (accounts the scenario opens go by name)",
                found.join(", ")
            )
        }))
    }

    /// The step as the server gets it: the deployed name, the run's
    /// `user_ref`.
    fn on_server(&self, step: &Step) -> Step {
        let mut sent = step.clone();
        if let Action::Call { function, .. } = &mut sent.action
            && let Some(deployed) = self.names.get(function.as_str())
        {
            function.clone_from(deployed);
        }
        if sent.user_ref != 0 {
            sent.user_ref = self.user_refs.wrapping_add(sent.user_ref);
        }
        sent
    }

    /// Opens the scenario's accounts (HEAD) and brings every account it
    /// names to its starting balance; the ids, and what failed.
    async fn set_up(&self, scenario: &Scenario) -> Result<(AccountMap, Result<(), String>), LiveError> {
        let mut map = AccountMap::default();
        if !scenario.open.is_empty() {
            let count = u32::try_from(scenario.open.len()).unwrap_or(u32::MAX);
            let result = self.client.submit(Operation::OpenAccount { count, user_ref: 0 }, WaitLevel::Snapshot).await?;
            let Some((begin, _)) = opened(&result).filter(|_| result.status.is_success()) else {
                return Ok((map, Err(format!("opening {count} account(s) failed with {}", result.status))));
            };
            map.opened(scenario.first_opened(), begin, count);
        }
        // A HEAD server's opened accounts start at 0; an ee2b042 server's
        // hold what earlier runs left.
        let reset: Vec<u64> = match self.client.wire() {
            Wire::Head => scenario.balances.keys().copied().collect(),
            Wire::Ee2b042 => scenario.accounts().into_iter().filter(|&a| a != SYSTEM_ACCOUNT).collect(),
        };
        for account in reset {
            let target = scenario.balances.get(&account).copied().unwrap_or(0);
            let id = map.to_ledger(account);
            let now = self.client.balance(id, false).await?.balance;
            let operation = match target.abs_diff(now) {
                0 => continue,
                amount if target > now => Operation::Deposit { account: id, amount, user_ref: 0 },
                amount => Operation::Withdrawal { account: id, amount, user_ref: 0 },
            };
            let result = self.client.submit(operation, WaitLevel::Snapshot).await?;
            if !result.status.is_success() {
                let reason = format!("bringing account {id} from {now} to {target} failed with {}", result.status);
                return Ok((map, Err(reason)));
            }
        }
        Ok((map, Ok(())))
    }

    /// The server's answer by the scenario's ids, and the accounts its
    /// records name; links it records are noted.
    async fn answer(
        &mut self,
        result: &CallResult,
        ids: &Ids,
        links: &mut BTreeMap<(u64, u16), u64>,
    ) -> Result<(Answer, BTreeSet<u64>), LiveError> {
        let Some(transaction) = &result.transaction else {
            let entries = match result.tx_id {
                0 => Vec::new(),
                tx_id => self.client.entries(tx_id).await?,
            };
            let entries: Vec<_> = entries.iter().map(|e| ids.entry(e)).collect();
            let named = entries.iter().map(|e| e.account_id).collect();
            return Ok((Answer { status: result.status, entries, records: Vec::new() }, named));
        };
        let records: Vec<Record> = transaction.ledger_records().map(|r| to_scenario(r, ids)).collect();
        if records.iter().any(names_constant) && self.constants.is_none() {
            self.constants = Some(constant_names(self.client).await?);
        }
        let constants = self.constants.as_ref();
        let mut named = BTreeSet::new();
        for record in &records {
            named.extend(record.accounts());
            if let Record::AccountLinked { parent, link_type, child } = record {
                links.insert((*parent, *link_type), *child);
            }
        }
        let answer = Answer {
            status: result.status,
            entries: transaction.entries().map(|e| ids.entry(e)).collect(),
            records: records
                .iter()
                .map(|r| v2::record_text(r, |id| constants.and_then(|c| c.get(&id).cloned())))
                .collect(),
        };
        Ok((answer, named))
    }

    /// The server's state for `accounts` and `keys`, by the scenario's ids.
    async fn observe(
        &self,
        accounts: &BTreeSet<u64>,
        keys: &BTreeSet<KeySpec>,
        ids: &Ids,
        links: &BTreeMap<(u64, u16), u64>,
    ) -> Result<Observed, LiveError> {
        let map = &ids.map;
        let mut observed = Observed { links: links.clone(), ..Observed::default() };
        for &account in accounts {
            let id = map.to_ledger(account);
            let balance = match self.client.balance(id, false).await {
                Ok(balance) => balance,
                Err(error) if error.code() == Some(tonic::Code::FailedPrecondition) => {
                    // A linked (programmed) account is read through its
                    // parent only.
                    let Some((&(parent, link_type), _)) = links.iter().find(|(_, child)| **child == account) else {
                        continue;
                    };
                    let through = self.client.balance(map.to_ledger(parent), true).await?;
                    if let Some(linked) = through.linked.iter().find(|l| l.link_type == link_type) {
                        observed.balances.insert(account, linked.balance);
                    }
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            observed.balances.insert(account, ids.balance(account, balance.balance));
            if let Some(flags) = balance.flags {
                observed.flags.insert(account, flags);
            }
        }
        if self.client.wire() == Wire::Head {
            for key in keys {
                // The server's string form: its ids, all four components.
                let text = key.with_ids(map).to_string();
                let value = match self.client.kv_get(&text).await {
                    Ok(value) => Ok(value.unwrap_or(0)),
                    Err(error) if error.code() == Some(tonic::Code::InvalidArgument) => Err(first_constant(key)),
                    Err(error) => return Err(error.into()),
                };
                observed.kv.insert(key.clone(), value);
            }
        }
        Ok(observed)
    }
}

/// What keeps a scenario from being brought about on a live server.
fn not_reproducible(scenario: &Scenario) -> Option<String> {
    if !scenario.flags.is_empty() {
        return Some("its starting flags can only be set by a function on a live server".into());
    }
    if !scenario.kv.is_empty() {
        return Some("its starting KV values can only be set by a function on a live server".into());
    }
    if let Some((account, balance)) = scenario.balances.iter().find(|(_, b)| **b < 0) {
        return Some(format!(
            "its starting balance of account {account} is {balance}: a deposit cannot make a balance negative"
        ));
    }
    None
}

/// The accounts a transaction opened.
fn opened(result: &CallResult) -> Option<(u64, u32)> {
    result.transaction.as_ref()?.ledger_records().find_map(|record| match record {
        Record::AccountOpened { begin, count, .. } => Some((*begin, *count)),
        _ => None,
    })
}

/// A server's record in the scenario's terms: its ids for the accounts,
/// the system balance as a change from the start.
fn to_scenario(record: &Record, ids: &Ids) -> Record {
    match record {
        Record::Entry(entry) => Record::Entry(ids.entry(entry)),
        other => other.with_accounts(|account| ids.map.to_scenario(account)),
    }
}

/// Whether a record's text needs a constant's name.
fn names_constant(record: &Record) -> bool {
    matches!(record, Record::Kv { key, .. } if key.iter().any(|part| part & CONSTANT_BIT != 0))
}

/// Every constant the server's log defines, by id.
async fn constant_names(client: &Client) -> Result<HashMap<u32, String>, RpcError> {
    let mut names = HashMap::new();
    let mut from = 1;
    while from != 0 {
        let page = client.log(from, 0, 10_000).await?;
        for record in page.transactions.iter().flat_map(|t| t.ledger_records()) {
            if let Record::KvConstant { id, name } = record {
                names.insert(*id, String::from_utf8_lossy(name).into_owned());
            }
        }
        if page.transactions.is_empty() {
            break;
        }
        from = page.next_tx_id;
    }
    Ok(names)
}

/// The first constant a key names (what a refused key's message names).
fn first_constant(key: &KeySpec) -> String {
    key.0
        .iter()
        .find_map(|c| match c {
            KeyComponent::Constant(name) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A server's state as read after a step, by the scenario's ids.
#[derive(Debug, Default)]
struct Observed {
    balances: BTreeMap<u64, i64>,
    flags: BTreeMap<u64, u64>,
    kv: BTreeMap<KeySpec, Result<i64, String>>,
    links: BTreeMap<(u64, u16), u64>,
}

impl View for Observed {
    fn balance(&self, account: u64) -> i64 {
        self.balances.get(&account).copied().unwrap_or(0)
    }

    fn flag(&self, account: u64, lane: u8) -> u8 {
        self.flags.get(&account).map_or(0, |flags| (flags >> (8 * u32::from(lane))) as u8)
    }

    fn kv(&self, key: &KeySpec) -> Result<i64, String> {
        self.kv.get(key).cloned().unwrap_or(Ok(0))
    }

    fn linked(&self, parent: u64, link_type: u16) -> Option<u64> {
        self.links.get(&(parent, link_type)).copied()
    }

    fn reads_account(&self, account: u64) -> bool {
        self.balances.contains_key(&account)
    }

    fn reads_flags(&self, account: u64) -> bool {
        self.flags.contains_key(&account)
    }
}

/// Serialises a value as its `Display` text.
fn display<T: fmt::Display, S: serde::Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Each scenario's verdict, then for a failure each step that ran.
impl fmt::Display for LiveRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let deployed: Vec<String> = self.deployed.iter().map(|(name, as_)| format!("{name} as {as_}")).collect();
        writeln!(f, "on {} ({} wire), deployed {}", self.url, self.wire, deployed.join(", "))?;
        for file in &self.files {
            writeln!(f, "running {} scenario(s) from {} on the server", file.scenarios.len(), file.path.display())?;
            for scenario in &file.scenarios {
                write!(f, "{scenario}")?;
            }
        }
        for line in &self.cleanup {
            writeln!(f, "warning: {line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for LiveScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match &self.outcome {
            LiveOutcome::Passed => "ok  ",
            LiveOutcome::NotReproducible { .. } => "not run",
            _ => "FAIL",
        };
        writeln!(f, "  {verdict} {} ({} step(s))", self.name, self.steps.len())?;
        if !self.accounts.is_empty() {
            let map: Vec<String> = self.accounts.iter().map(|(a, b)| format!("{a} -> {b}")).collect();
            writeln!(f, "       accounts on the server: {}", map.join(", "))?;
        }
        match &self.outcome {
            LiveOutcome::Passed => return Ok(()),
            LiveOutcome::NotReproducible { reason } => {
                return writeln!(f, "       cannot be run on a live server: {reason}");
            }
            LiveOutcome::SetupFailed { reason } => return writeln!(f, "       not set up: {reason}"),
            LiveOutcome::Failed { .. } | LiveOutcome::Disagreed { .. } => {}
        }
        for step in &self.steps {
            writeln!(
                f,
                "       step {}: {} -> {} (transaction {})",
                step.step, step.operation, step.status, step.tx_id
            )?;
            for mismatch in &step.mismatches {
                writeln!(f, "         expectation not met: {}", serde_json::to_string(mismatch).unwrap_or_default())?;
            }
            if !step.differences.is_empty() {
                writeln!(
                    f,
                    "         the server and the simulator disagree (a fidelity bug: please report it at {REPORT_URL} with this output):"
                )?;
                writeln!(f, "         {:<28} {:<30} server", "what", "simulator")?;
                for d in &step.differences {
                    writeln!(f, "         {:<28} {:<30} {}", d.what, d.simulator, d.server)?;
                }
            }
        }
        Ok(())
    }
}
