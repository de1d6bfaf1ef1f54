//! `cargo roda accounts`.

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use ledger_core::v2::Operation;
use roda_rpc::results::WalRecord;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Accounts on a roda-ledger HEAD server, where an account exists once
/// opened.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do with accounts.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Open COUNT accounts (default 1) with consecutive ids from the next
    /// free one.
    #[command(after_help = "Examples:\n  cargo roda accounts open\n  cargo roda accounts open 3 --user-ref 42")]
    Open(OpenArgs),
}

/// `accounts open`.
#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// How many.
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Deduplication key: a second open with the same non-zero key opens
    /// nothing (DUPLICATE).
    #[arg(long, default_value_t = 0)]
    pub user_ref: u64,
    /// How long to wait.
    #[arg(long, value_enum, default_value = "snapshot")]
    pub wait: super::call::Wait,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// The accounts opened.
#[derive(Debug, Serialize)]
pub struct Opened {
    server: String,
    transaction_id: u64,
    status: String,
    status_code: u8,
    /// The first id opened; `None` when nothing was.
    first: Option<u64>,
    count: u32,
}

impl Outcome for Opened {
    fn command(&self) -> &'static str {
        "accounts open"
    }

    fn human(&self) -> String {
        match self.first {
            Some(first) if self.count == 1 => {
                format!("opened account {first} (transaction {})\n", self.transaction_id)
            }
            Some(first) => format!(
                "opened accounts {first}..={} (transaction {})\n",
                first + u64::from(self.count) - 1,
                self.transaction_id
            ),
            None => format!("opened nothing: transaction {}: {}\n", self.transaction_id, self.status),
        }
    }

    fn exit_code(&self) -> ExitCode {
        // The RPC worked; whether the transaction did is the exit code.
        if self.status_code == 0 { ExitCode::Success } else { ExitCode::TransactionFailed }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Opened, Error> {
    let Command::Open(args) = args.command;
    block_on(async {
        let cluster = args.endpoint.connect_here().await?;
        let client = cluster.client().await?;
        let op = Operation::OpenAccount { count: args.count, user_ref: args.user_ref };
        let result = cluster.submit(&op, args.wait.level()).await?;
        let opened = result.transaction.iter().flat_map(|t| &t.records).find_map(|record| match record {
            WalRecord::Ledger(ledger_core::v2::Record::AccountOpened { begin, count, .. }) => Some((*begin, *count)),
            _ => None,
        });
        Ok(Opened {
            server: client.url().to_owned(),
            transaction_id: result.tx_id,
            status: result.status.to_string(),
            status_code: result.status.code(),
            first: opened.map(|(begin, _)| begin),
            count: opened.map_or(0, |(_, count)| count),
        })
    })?
}
