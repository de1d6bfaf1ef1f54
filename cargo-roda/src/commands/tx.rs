//! `cargo roda tx`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use roda_rpc::results::{CommittedTransaction, WalRecord};
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Show a committed transaction of a roda-ledger HEAD server: its status by
/// name, tag and every record (entries, accounts opened and linked, flags,
/// KV, constants, registrations).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda tx 42\n  cargo roda tx 42 --output json")]
pub struct Args {
    /// The transaction id.
    pub id: u64,
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
        for record in &t.records {
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
        }
        out
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Shown, Error> {
    block_on(async {
        let client = args.endpoint.connect_here().await?.reader().await?;
        let transaction = client.transaction(args.id).await?;
        Ok(Shown {
            server: client.url().to_owned(),
            status_name: transaction.status.to_string(),
            status_code: transaction.status.code(),
            transaction,
        })
    })?
}
