//! A replay of a committed function call: the live ledger forked just
//! before it ([`crate::fork`]), the call run again with the parameters
//! given (a server's log does not keep them), and the records it writes
//! compared with the ones the server committed.

use std::collections::{BTreeMap, BTreeSet};

use ledger_core::v2::{CONSTANT_BIT, HostCall, Operation, Record, State, record_text};
use ledger_core::{Engine, FunctionInfo, LedgerConfig, Status};
use roda_test::model::{Action, KeyComponent, KeySpec, Scenario, Step};

use crate::client::{Client, RpcError};
use crate::fork::{ForkError, fork};
use crate::results::tag_bytes;

/// The system account: not opened by a scenario, its starting balance set.
const SYSTEM_ACCOUNT: u64 = 0;

/// Where the ids of accounts that did not exist before a call move to in
/// its saved scenario, when a fresh ledger would issue theirs: far past any
/// id a scenario opens.
const NEVER_ISSUED: u64 = 1 << 40;

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Replay {
    /// The transaction replayed.
    pub tx_id: u64,
    /// The function that ran: the one live before the call with the CRC
    /// its tag carries, by name and version.
    pub function: FunctionInfo,
    /// The CRC32C of the binary that ran again (the committed one's, or the
    /// one given instead).
    pub crc32c: u32,
    /// The status the server committed.
    pub committed_status: Status,
    /// The status the replay ended with.
    pub replayed_status: Status,
    /// The records the server committed.
    pub committed: Vec<Record>,
    /// The records the replay wrote.
    pub replayed: Vec<Record>,
    /// The index of the first record that differs (one side may end
    /// first); `None` when the records and the statuses agree.
    pub first_difference: Option<usize>,
    /// Every host call the replayed call made, in order, with its
    /// arguments, result and the fuel used so far.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_calls: Vec<HostCall>,
    /// Where the call looked, as the ledger held it just before.
    pub before: Before,
}

/// What a call read or wrote, as the ledger held it just before the call:
/// the accounts and KV keys its host calls named or its records hold (the
/// committed ones and the replay's).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Before {
    /// Each account, by id: its balance and its eight flag lanes (lane 0
    /// the status; 0 when it did not exist).
    pub accounts: BTreeMap<u64, (i64, u64)>,
    /// Each KV key and its value (`None`: never written), in key order.
    pub kv: Vec<([u32; 4], Option<i64>)>,
    /// The names of the constants the keys use, by id.
    pub constants: BTreeMap<u32, String>,
    /// The links those accounts had: parent, link type, child.
    pub links: Vec<(u64, u16, u64)>,
}

impl Replay {
    /// Whether the replay wrote what the server committed.
    pub fn same(&self) -> bool {
        self.first_difference.is_none() && self.committed_status == self.replayed_status
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The server could not be read.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The state before it could not be forked.
    #[error(transparent)]
    Fork(#[from] ForkError),
    /// The transaction is no function call.
    #[error("transaction {tx_id} is no function call (tag `{tag}`): only calls replay")]
    NotACall {
        /// The transaction.
        tx_id: u64,
        /// Its tag.
        tag: String,
    },
    /// The call found no function to run (its tag's CRC is 0).
    #[error(
        "transaction {0} ran no function (the server found none under its name: status 5, CRC 0): nothing to replay"
    )]
    NoFunctionRan(u64),
    /// No function live before it has the CRC its tag carries.
    #[error("no function live before transaction {tx_id} has the CRC32C {crc32c:08x} its tag carries")]
    UnknownCrc {
        /// The transaction.
        tx_id: u64,
        /// The CRC.
        crc32c: u32,
    },
    /// The binary to run (`instead`) does not register.
    #[error("the module to replay `{name}` with does not register: {source}")]
    Register {
        /// The function.
        name: String,
        /// The registry's refusal.
        source: ledger_core::RegistryError,
    },
    /// The binary to run is not among those given.
    #[error(
        "transaction {tx_id} ran `{name}` (CRC32C {crc32c:08x}), and no binary given has that CRC: give it (or the one to try instead) with --wasm or --functions"
    )]
    MissingBinary {
        /// The transaction.
        tx_id: u64,
        /// The function.
        name: String,
        /// Its CRC.
        crc32c: u32,
    },
}

/// Replays committed call `tx_id` with `params`: the ledger forked at the
/// transaction before it, with `binaries`; `instead`, when given, runs in
/// place of the committed binary (to see what a new version would have
/// written).
///
/// # Errors
///
/// [`ReplayError`].
pub async fn replay(
    client: &Client,
    tx_id: u64,
    params: &[i64],
    binaries: &[Vec<u8>],
    instead: Option<&[u8]>,
    config: LedgerConfig,
) -> Result<Replay, ReplayError> {
    let committed = client.transaction(tx_id).await?;
    let not_a_call = || ReplayError::NotACall { tx_id, tag: committed.tag.clone() };
    let tag = tag_bytes(&committed.tag).ok_or_else(not_a_call)?;
    let crc32c = ledger_core::tags::function_crc(&tag).ok_or_else(not_a_call)?;
    if crc32c == 0 {
        return Err(ReplayError::NoFunctionRan(tx_id));
    }
    // The fork before the call holds the function that ran: the one live
    // with the CRC its tag carries (the log is read once).
    let mut ledger = fork(client, Some(tx_id - 1), binaries, config, |_, _| {}).await?.ledger;
    let function = ledger
        .list_functions()
        .into_iter()
        .rfind(|f| f.crc32c == crc32c)
        .ok_or(ReplayError::UnknownCrc { tx_id, crc32c })?;
    let binary = match instead {
        Some(binary) => binary,
        None => binaries
            .iter()
            .find(|b| ledger_core::crc32c(b) == crc32c)
            .map(Vec::as_slice)
            .ok_or_else(|| ReplayError::MissingBinary { tx_id, name: function.name.clone(), crc32c })?,
    };
    // A binary other than the fork's is registered over it first: its
    // registration is a transaction of the fork's (its `register()` and
    // `start` run there), before the call.
    if ledger.list_functions().iter().all(|f| f.name != function.name || f.crc32c != ledger_core::crc32c(binary)) {
        ledger
            .register(&function.name, binary, ledger_core::IfRegistered::Override)
            .map_err(|source| ReplayError::Register { name: function.name.clone(), source })?;
    }
    let call =
        Operation::Function { name: function.name.clone(), params: params.to_vec(), user_ref: committed.user_ref };
    ledger.trace_host_calls(true);
    let state = ledger.state().clone();
    let replayed = ledger.submit(&call);
    let host_calls = ledger.take_host_calls();
    let committed_records: Vec<Record> = committed.ledger_records().cloned().collect();
    let before = Before::of(&state, &host_calls, committed_records.iter().chain(&replayed.records));
    let first_difference = first_difference(&committed_records, &replayed.records);
    Ok(Replay {
        tx_id,
        function,
        crc32c: ledger_core::crc32c(binary),
        committed_status: committed.status,
        replayed_status: replayed.status,
        committed: committed_records,
        replayed: replayed.records,
        first_difference,
        host_calls,
        before,
    })
}

impl Before {
    /// What `state` held where the host calls and the records looked.
    fn of<'a>(state: &State, host_calls: &[HostCall], records: impl Iterator<Item = &'a Record>) -> Before {
        let mut accounts = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for call in host_calls {
            let Some(import) = ledger_core::abi::V2.host_import(call.import) else { continue };
            accounts.extend(import.account_params().filter_map(|i| call.args.get(i)).map(|&a| a as u64));
            if import.takes_key() && call.args.len() >= 4 {
                keys.insert([0, 1, 2, 3].map(|i| call.args[i] as u32));
            }
        }
        for record in records {
            accounts.extend(record.accounts());
            if let Record::Kv { key, .. } = record {
                keys.insert(*key);
            }
        }
        let constants = keys
            .iter()
            .flatten()
            .filter(|&&part| part & CONSTANT_BIT != 0)
            .filter_map(|&part| {
                let id = part & !CONSTANT_BIT;
                Some((id, state.constant_name(id)?))
            })
            .collect();
        let links = accounts
            .iter()
            .flat_map(|&parent| state.linked_accounts(parent).map(move |(link_type, child)| (parent, link_type, child)))
            .collect();
        Before {
            links,
            accounts: accounts
                .into_iter()
                .map(|id| (id, (state.snapshot_balance(id), state.snapshot_flags(id))))
                .collect(),
            kv: keys.into_iter().map(|key| (key, state.kv_entry(key))).collect(),
            constants,
        }
    }
}

impl Replay {
    /// The replayed call as a scenario that runs on a fresh ledger (`cargo
    /// roda test FILE`): the accounts it looked at opened by name
    /// (`a17` for account 17) with their balances and flags before it, the
    /// KV values it looked at, then the call with `params` (a parameter
    /// equal to one of those ids is written as its name), expecting the
    /// status and the records the server committed. Accounts the call
    /// opened get the ids a fresh ledger issues after the opened ones. The
    /// notes say what the scenario cannot hold (links made before the call).
    pub fn to_scenario(&self, params: &[i64]) -> (Scenario, Vec<String>) {
        let existed = |flags: u64| flags & 0xff != 0;
        let opened: Vec<u64> = self
            .before
            .accounts
            .iter()
            .filter(|&(&id, &(_, flags))| id != SYSTEM_ACCOUNT && existed(flags))
            .map(|(&id, _)| id)
            .collect();
        let opened_by_call = self.committed.iter().filter_map(|record| match record {
            Record::AccountOpened { begin, count, .. } => Some(*begin..*begin + u64::from(*count)),
            _ => None,
        });
        let mut map: BTreeMap<u64, u64> = opened.iter().zip(1..).map(|(&live, id)| (live, id)).collect();
        let after_opened = opened.len() as u64 + 1;
        map.extend(opened_by_call.flatten().zip(after_opened..));
        // An account that did not exist stays one: an id past every issued one.
        let issued = map.len() as u64;
        let missing = self.before.accounts.keys().filter(|id| **id != SYSTEM_ACCOUNT && !map.contains_key(id));
        let missing: Vec<u64> = missing.copied().collect();
        for id in missing {
            map.insert(id, if id > issued { id } else { NEVER_ISSUED + id });
        }
        let to = |id: u64| map.get(&id).copied().unwrap_or(id);
        let names: Vec<String> = opened.iter().map(|id| format!("a{id}")).collect();
        let mut scenario = Scenario {
            name: format!("transaction {} replayed", self.tx_id),
            line: 0,
            open: names,
            existing: BTreeMap::new(),
            balances: BTreeMap::new(),
            flags: BTreeMap::new(),
            kv: Vec::new(),
            steps: Vec::new(),
            fuzz: None,
        };
        let mut notes = Vec::new();
        for (&live, &(balance, flags)) in &self.before.accounts {
            if (live == SYSTEM_ACCOUNT || existed(flags)) && balance != 0 {
                scenario.balances.insert(to(live), balance);
            }
            if !existed(flags) || live == SYSTEM_ACCOUNT {
                continue;
            }
            for lane in 0..8u8 {
                let value = (flags >> (8 * u32::from(lane))) as u8;
                // Lane 0 of an opened account is 1 already.
                if (lane == 0 && value != 1) || (lane > 0 && value != 0) {
                    scenario.flags.insert((to(live), lane), value);
                }
            }
        }
        for (parent, link_type, child) in &self.before.links {
            notes.push(format!(
                "account {parent} was linked to {child} (type {link_type}) before the call, and a scenario cannot link accounts: where the call follows that link, the scenario's records differ from the server's"
            ));
        }
        let key = |raw: [u32; 4]| {
            KeySpec(raw.map(|part| match part & CONSTANT_BIT {
                0 if map.contains_key(&u64::from(part)) => KeyComponent::Account(to(u64::from(part))),
                0 => KeyComponent::Int(part),
                _ => match self.before.constants.get(&(part & !CONSTANT_BIT)) {
                    Some(name) => KeyComponent::Constant(name.clone()),
                    None => KeyComponent::Int(part),
                },
            }))
        };
        scenario.kv = self.before.kv.iter().filter_map(|&(raw, value)| Some((key(raw), value?))).collect();
        let mut account_params = 0u8;
        // A parameter equal to an account the call looked at is that
        // account: by name when it existed.
        let params: Vec<i64> = params
            .iter()
            .enumerate()
            .map(|(slot, &value)| match u64::try_from(value).ok().filter(|id| self.before.accounts.contains_key(id)) {
                Some(id) if opened.contains(&id) => {
                    account_params |= 1 << slot;
                    to(id) as i64
                }
                Some(id) => to(id) as i64,
                None => value,
            })
            .collect();
        let action = Action::Call {
            function: self.function.name.clone(),
            params: roda_test::model::Params::new(params).unwrap_or_default(),
        };
        let mut step = Step::new(action, self.committed_status);
        step.account_params = account_params;
        let constant = |id: u32| self.before.constants.get(&id).cloned();
        step.records = Some(self.committed.iter().map(|r| record_text(&r.with_accounts(to), constant)).collect());
        scenario.steps.push(step);
        (scenario, notes)
    }
}

/// The index of the first record that differs; one side ending first
/// differs there.
fn first_difference(committed: &[Record], replayed: &[Record]) -> Option<usize> {
    let common = committed.iter().zip(replayed).position(|(a, b)| a != b);
    common.or_else(|| (committed.len() != replayed.len()).then(|| committed.len().min(replayed.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The saved scenario opens the accounts that existed by name, moves
    /// the ones the call opened after them, leaves one that did not exist
    /// past every issued id, and writes keys and records in its own ids.
    #[test]
    fn a_replay_becomes_a_scenario_in_its_own_ids() {
        let key = [5 | CONSTANT_BIT, 7, 0, 0];
        let entry = |account_id, computed_balance| {
            Record::Entry(ledger_core::Entry {
                account_id,
                amount: 1,
                kind: ledger_core::EntryKind::Credit,
                computed_balance,
            })
        };
        let committed = vec![
            entry(7, 9),
            Record::AccountOpened { begin: 12, count: 1, flags: 2 },
            Record::AccountLinked { parent: 7, link_type: 1, child: 12 },
            Record::Kv { key, value: 3 },
        ];
        let replay = Replay {
            tx_id: 40,
            function: FunctionInfo { name: "f".into(), version: 1, crc32c: 1 },
            crc32c: 1,
            committed_status: Status::NONE,
            replayed_status: Status::NONE,
            committed: committed.clone(),
            replayed: committed,
            first_difference: None,
            host_calls: Vec::new(),
            before: Before {
                accounts: BTreeMap::from([(0, (-5, 3)), (1, (0, 0)), (7, (10, 0x0201))]),
                kv: vec![(key, Some(2)), ([1, 0, 0, 0], None)],
                constants: BTreeMap::from([(5, "n".to_owned())]),
                links: Vec::new(),
            },
        };
        let (scenario, notes) = replay.to_scenario(&[7, 1, 7000]);
        assert!(notes.is_empty());
        assert_eq!(scenario.open, ["a7"]);
        assert_eq!(scenario.balances, BTreeMap::from([(0, -5), (1, 10)]));
        assert_eq!(scenario.flags, BTreeMap::from([((1, 1), 2)]));
        let [(written, 2)] = &scenario.kv[..] else { panic!("{:?}", scenario.kv) };
        assert_eq!(written.to_string(), "n/1/0/0");
        let step = &scenario.steps[0];
        let Action::Call { params, .. } = &step.action else { panic!() };
        assert_eq!((params.as_slice(), step.account_params), (&[1, NEVER_ISSUED as i64 + 1, 7000][..], 0b1));
        assert_eq!(
            step.records.as_deref().unwrap(),
            ["credit 1 1 (balance 9)", "open 2 x1 (flags 0x2)", "link 1 type 1 -> 2", "kv n/1/0/0 = 3"]
        );
    }

    #[test]
    fn the_first_difference_is_where_one_side_differs_or_ends() {
        let kv = |value| Record::Kv { key: [1, 0, 0, 0], value };
        assert_eq!(first_difference(&[kv(1), kv(2)], &[kv(1), kv(2)]), None);
        assert_eq!(first_difference(&[kv(1), kv(2)], &[kv(1), kv(3)]), Some(1));
        assert_eq!(first_difference(&[kv(1)], &[kv(1), kv(2)]), Some(1));
        assert_eq!(first_difference(&[], &[kv(1)]), Some(0));
    }
}
