//! `cargo roda tx`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use ledger_core::FunctionInfo;
use ledger_core::v2::{AccountStatus, Record, lane_of};
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
    /// to, found in the server's log, and decode flags: each lane that
    /// changed, lane 0 (the account's status) by name.
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
        for (i, record) in t.records.iter().enumerate() {
            out.push_str("  ");
            out.push_str(&match record {
                // The log names constants by id, as `constant[<id>]`.
                WalRecord::Ledger(record) => ledger_core::v2::record_text(record, |_| None),
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

/// Runs the command.
pub fn exec(args: Args) -> Result<Shown, Error> {
    block_on(async {
        let client = args.endpoint.connect_here().await?.reader().await?;
        let transaction = client.transaction(args.id).await?;
        let explained = match args.explain {
            true => {
                let crc = tag_bytes(&transaction.tag).and_then(|tag| ledger_core::tags::function_crc(&tag));
                let functions = match crc {
                    Some(crc) if crc != 0 => client.registered_with(crc, transaction.tx_id).await?,
                    _ => Vec::new(),
                };
                Some(Explained { functions, notes: transaction.records.iter().map(note).collect() })
            }
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
