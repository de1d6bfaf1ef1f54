//! `cargo roda deposit`.

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use ledger_core::v2::Operation;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Deposit into an account (out of the system account): to fund accounts
/// before calling functions. On a HEAD server the account must be open.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda deposit 1 100\n  cargo roda deposit 101 10000 --user-ref 7")]
pub struct Args {
    /// The account.
    pub account: u64,
    /// The amount.
    pub amount: u64,
    /// Deduplication key: a second deposit with the same non-zero key is
    /// DUPLICATE and moves nothing.
    #[arg(long, default_value_t = 0)]
    pub user_ref: u64,
    /// How long to wait.
    #[arg(long, value_enum, default_value = "committed")]
    pub wait: super::call::Wait,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// The deposit's transaction.
#[derive(Debug, Serialize)]
pub struct Deposited {
    server: String,
    transaction_id: u64,
    status: String,
    status_code: u8,
}

impl Outcome for Deposited {
    fn command(&self) -> &'static str {
        "deposit"
    }

    fn human(&self) -> String {
        format!("transaction {}: {} ({})\n", self.transaction_id, self.status, self.status_code)
    }

    fn exit_code(&self) -> ExitCode {
        // The RPC worked; whether the transaction did is the exit code.
        if self.status_code == 0 { ExitCode::Success } else { ExitCode::TransactionFailed }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Deposited, Error> {
    block_on(async {
        let cluster = args.endpoint.connect_here().await?;
        let op = Operation::Deposit { account: args.account, amount: args.amount, user_ref: args.user_ref };
        let result = cluster.submit(&op, args.wait.level()).await?;
        Ok(Deposited {
            server: cluster.client().await?.url().to_owned(),
            transaction_id: result.tx_id,
            status: result.status.to_string(),
            status_code: result.status.code(),
        })
    })?
}
