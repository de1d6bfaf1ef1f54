//! `cargo roda tx`.

use std::collections::{BTreeMap, BTreeSet};

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use ledger_core::v2::{AccountStatus, Record, lane_of};
use ledger_core::{Engine, FunctionInfo};
use roda_rpc::results::{CommittedTransaction, WalRecord, tag_bytes};
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Show a committed transaction of a roda-ledger HEAD server: its status by
/// name, tag and every record (entries, accounts opened and linked, flags,
/// KV, constants, registrations).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda tx 42\n  cargo roda tx 42 --explain\n  cargo roda tx 42 --output json")]
pub struct Args {
    /// The transaction id.
    pub id: u64,
    /// Also say which function (name and version) its tag's CRC32C belongs
    /// to, name the KV constants, decode flags (each lane that changed, lane
    /// 0 the account's status by name) and describe each account it names
    /// as it was just before (its status and balance): all read from the
    /// server's log, rebuilt up to the transaction.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// The transaction.
#[derive(Debug, Serialize)]
pub struct Shown {
    server: String,
    status_name: String,
    status_code: u8,
    #[serde(flatten)]
    transaction: CommittedTransaction,
    /// With `--explain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    explained: Option<Explained>,
}

/// What `--explain` adds.
#[derive(Debug, Serialize)]
pub struct Explained {
    /// For a function call: the functions registered with the CRC32C its tag
    /// carries, as the log names them before the transaction (usually one;
    /// none when the call found no function, CRC 0).
    functions: Vec<FunctionInfo>,
    /// For each record, in order: what it means beyond its numbers (empty
    /// when it says it all).
    notes: Vec<String>,
    /// The names of the constants its KV keys use, by id.
    constants: BTreeMap<u32, String>,
    /// Each account it names, as it was just before it.
    accounts: Vec<AccountBefore>,
}

/// An account a transaction names, as it was just before it.
#[derive(Debug, Serialize)]
pub struct AccountBefore {
    id: u64,
    /// `system`, `open`, `programmed`, `opened here` (by this
    /// transaction), or `none`.
    status: &'static str,
    balance: i64,
    /// Its links: link type, child.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    linked: Vec<(u16, u64)>,
}

impl Outcome for Shown {
    fn command(&self) -> &'static str {
        "tx"
    }

    fn human(&self) -> String {
        let t = &self.transaction;
        let mut out = format!(
            "transaction {}: {} ({}), tag {:?}, user_ref {}\n",
            t.tx_id, self.status_name, self.status_code, t.tag, t.user_ref
        );
        if let Some(explained) = &self.explained {
            for function in &explained.functions {
                out.push_str(&format!(
                    "  ran `{}` v{} (crc32c {:08x})\n",
                    function.name, function.version, function.crc32c
                ));
            }
        }
        let constants = self.explained.as_ref().map(|e| &e.constants);
        for (i, record) in t.records.iter().enumerate() {
            out.push_str("  ");
            out.push_str(&match record {
                // The log names constants by id, as `constant[<id>]`, unless
                // explained.
                WalRecord::Ledger(record) => {
                    ledger_core::v2::record_text(record, |id| constants.and_then(|c| c.get(&id).cloned()))
                }
                WalRecord::Link { to_tx_id, kind } => format!("{kind} of transaction {to_tx_id}"),
                WalRecord::FunctionRegistered(f) if f.crc32c == 0 => {
                    format!("unregistered `{}` (v{})", f.name, f.version)
                }
                WalRecord::FunctionRegistered(f) => {
                    format!("registered `{}` v{} (crc32c {:08x})", f.name, f.version, f.crc32c)
                }
                WalRecord::Term { term, node_id } => format!("term {term} (leader {node_id})"),
            });
            out.push('\n');
            match self.explained.as_ref().and_then(|e| e.notes.get(i)) {
                Some(note) if !note.is_empty() => out.push_str(&format!("    {note}\n")),
                _ => {}
            }
        }
        if let Some(explained) = self.explained.as_ref().filter(|e| !e.accounts.is_empty()) {
            out.push_str("  accounts just before:\n");
            for account in &explained.accounts {
                out.push_str(&format!("    {}: {}, balance {}", account.id, account.status, account.balance));
                for (link_type, child) in &account.linked {
                    out.push_str(&format!(", linked to {child} (type {link_type})"));
                }
                out.push('\n');
            }
        }
        out
    }
}

/// What a record means beyond its numbers: each flag lane that changed
/// (lane 0 by the status name), an opened account's status.
fn note(record: &WalRecord) -> String {
    match record {
        WalRecord::Ledger(Record::FlagsUpdated { prev, new, .. }) => (0..8)
            .filter(|&lane| lane_of(*prev, lane) != lane_of(*new, lane))
            .map(|lane| match lane {
                0 => format!(
                    "lane 0 (status): {} -> {}",
                    AccountStatus::of_flags(*prev).name(),
                    AccountStatus::of_flags(*new).name()
                ),
                lane => format!("lane {lane}: {} -> {}", lane_of(*prev, lane), lane_of(*new, lane)),
            })
            .collect::<Vec<_>>()
            .join("; "),
        WalRecord::Ledger(Record::AccountOpened { flags, .. }) => {
            format!("status {}", AccountStatus::of_flags(*flags).name())
        }
        _ => String::new(),
    }
}

/// What the log says about `transaction`: the ledger rebuilt up to just
/// before it (no binary needed) names its function, its constants and the
/// state of its accounts.
async fn explain(client: &roda_rpc::client::Client, transaction: &CommittedTransaction) -> Result<Explained, Error> {
    let config = ledger_core::LedgerConfig { keep_history: false, ..ledger_core::LedgerConfig::default() };
    let before = roda_rpc::fork::fork(client, Some(transaction.tx_id - 1), &[], config, |_, _| {}).await?.ledger;
    let crc = tag_bytes(&transaction.tag).and_then(|tag| ledger_core::tags::function_crc(&tag));
    let functions = match crc {
        Some(crc) if crc != 0 => before.list_functions().into_iter().filter(|f| f.crc32c == crc).collect(),
        _ => Vec::new(),
    };
    let state = before.state();
    let constants = state.constants().map(|(name, id)| (id, String::from_utf8_lossy(name).into_owned())).collect();
    let mut ids = BTreeSet::new();
    let mut opened_here = Vec::new();
    for record in transaction.ledger_records() {
        ids.extend(record.accounts());
        if let Record::AccountOpened { begin, count, .. } = record {
            opened_here.push(*begin..*begin + u64::from(*count));
        }
    }
    let accounts = ids
        .into_iter()
        .map(|id| AccountBefore {
            id,
            status: match opened_here.iter().any(|range| range.contains(&id)) {
                true => "opened here",
                false => AccountStatus::of_flags(state.snapshot_flags(id)).name(),
            },
            balance: state.snapshot_balance(id),
            linked: state.linked_accounts(id).collect(),
        })
        .collect();
    Ok(Explained { functions, notes: transaction.records.iter().map(note).collect(), constants, accounts })
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Shown, Error> {
    block_on(async {
        let client = args.endpoint.connect_here().await?.reader().await?;
        let transaction = client.transaction(args.id).await?;
        let explained = match args.explain {
            true => Some(explain(&client, &transaction).await?),
            false => None,
        };
        Ok(Shown {
            server: client.url().to_owned(),
            status_name: transaction.status.to_string(),
            status_code: transaction.status.code(),
            transaction,
            explained,
        })
    })?
}
