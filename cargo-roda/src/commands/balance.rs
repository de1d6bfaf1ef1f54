//! `cargo roda balance`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use roda_rpc::client::Client;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Show account balances.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda balance 101 202 999")]
pub struct Args {
    /// Account ids.
    #[arg(required = true, value_name = "ACCOUNT")]
    pub accounts: Vec<u64>,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// One balance.
#[derive(Debug, Serialize)]
pub struct Balance {
    account: u64,
    balance: i64,
}

/// The balances.
#[derive(Debug, Serialize)]
pub struct Balances {
    balances: Vec<Balance>,
}

impl Outcome for Balances {
    fn command(&self) -> &'static str {
        "balance"
    }

    fn human(&self) -> String {
        self.balances.iter().map(|b| format!("{:>12} {:>20}\n", b.account, b.balance)).collect()
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Balances, Error> {
    let endpoint = args.endpoint.endpoint_here()?;
    let values = block_on(async {
        let client = Client::connect(&endpoint).await?;
        client.balances(&args.accounts).await
    })??;
    let balances = args.accounts.iter().zip(values).map(|(a, b)| Balance { account: *a, balance: b }).collect();
    Ok(Balances { balances })
}
