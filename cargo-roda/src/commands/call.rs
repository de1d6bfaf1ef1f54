//! `cargo roda call`.

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use ledger_core::{EntryKind, Operation, Status};
use roda_rpc::client::Client;
use roda_rpc::client::WaitLevel;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// How long `call` waits.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Wait {
    /// Until executed.
    Computed,
    /// Until durable.
    Committed,
    /// Until in a snapshot.
    Snapshot,
}

/// Call a registered function as a transaction.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda call fee_transfer 101 202 999 10000 50\n  cargo roda call fee_transfer 101 202 999 10000 50 --user-ref 42 --show-entries"
)]
pub struct Args {
    /// The function's name.
    pub name: String,
    /// Up to 8 integer parameters (i64); missing ones are 0.
    #[arg(allow_negative_numbers = true, value_name = "PARAM")]
    pub params: Vec<i64>,
    /// Deduplication key: a second transaction with the same non-zero key
    /// gets DUPLICATE.
    #[arg(long, default_value_t = 0)]
    pub user_ref: u64,
    /// How long to wait.
    #[arg(long, value_enum, default_value = "committed")]
    pub wait: Wait,
    /// Also print the committed entries.
    #[arg(long)]
    pub show_entries: bool,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// One committed entry.
#[derive(Debug, Serialize)]
pub struct EntryView {
    account: u64,
    amount: u64,
    kind: &'static str,
    balance: i64,
}

/// The transaction.
#[derive(Debug, Serialize)]
pub struct Called {
    name: String,
    transaction_id: u64,
    status: String,
    status_code: u8,
    entries: Option<Vec<EntryView>>,
}

impl Outcome for Called {
    fn command(&self) -> &'static str {
        "call"
    }

    fn human(&self) -> String {
        let mut out = format!("transaction {}: {} ({})\n", self.transaction_id, self.status, self.status_code);
        for e in self.entries.iter().flatten() {
            out.push_str(&format!("  {:<6} {:>12} {:>20}  balance {}\n", e.kind, e.account, e.amount, e.balance));
        }
        out
    }

    fn exit_code(&self) -> ExitCode {
        // The RPC worked; the transaction's status is the result, not an error.
        ExitCode::Success
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Called, Error> {
    if args.params.len() > ledger_core::abi::PARAM_COUNT {
        return Err(Error::Usage(format!(
            "{} parameters given; a function takes at most {} (a server would silently drop the rest)",
            args.params.len(),
            ledger_core::abi::PARAM_COUNT
        )));
    }
    let endpoint = args.endpoint.endpoint_here()?;
    let wait = match args.wait {
        Wait::Computed => WaitLevel::Computed,
        Wait::Committed => WaitLevel::Committed,
        Wait::Snapshot => WaitLevel::Snapshot,
    };
    let op = Operation::Function { name: args.name.clone(), params: args.params.clone(), user_ref: args.user_ref };
    let (result, entries) = block_on(async {
        let client = Client::connect(&endpoint).await?;
        let result = client.submit(&op, wait).await?;
        let entries = match args.show_entries {
            true => Some(client.entries(result.tx_id).await?),
            false => None,
        };
        Ok::<_, Error>((result, entries))
    })??;
    let entries = entries.map(|list| {
        list.into_iter()
            .map(|e| EntryView {
                account: e.account_id,
                amount: e.amount,
                kind: match e.kind {
                    EntryKind::Debit => "debit",
                    EntryKind::Credit => "credit",
                },
                balance: e.computed_balance,
            })
            .collect()
    });
    let status: Status = result.status;
    Ok(Called {
        name: args.name,
        transaction_id: result.tx_id,
        status: status.to_string(),
        status_code: status.code(),
        entries,
    })
}
