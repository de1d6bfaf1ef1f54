//! `cargo roda balance`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use roda_rpc::Wire;
use roda_rpc::results::LinkedBalance;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Show account balances (and, from a HEAD server, each account's status,
/// flags and linked accounts).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda balance 101 202 999\n  cargo roda balance 1 --output json")]
pub struct Args {
    /// Account ids.
    #[arg(required = true, value_name = "ACCOUNT")]
    pub accounts: Vec<u64>,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// One account.
#[derive(Debug, Serialize)]
pub struct Balance {
    account: u64,
    balance: i64,
    /// Its eight flag lanes (HEAD only), lane 0 the low byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<u64>,
    /// Lane 0 by name (HEAD only): none, open, programmed, system.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    /// Its linked accounts' balances, by link type (HEAD only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    linked: Vec<LinkedBalance>,
}

/// The balances.
#[derive(Debug, Serialize)]
pub struct Balances {
    server: String,
    wire: Wire,
    balances: Vec<Balance>,
}

impl Outcome for Balances {
    fn command(&self) -> &'static str {
        "balance"
    }

    fn human(&self) -> String {
        let mut out = String::new();
        for b in &self.balances {
            out.push_str(&format!("{:>12} {:>20}", b.account, b.balance));
            if let (Some(status), Some(flags)) = (b.status, b.flags) {
                out.push_str(&format!("  {status:<10} flags {flags:#018x}"));
            }
            out.push('\n');
            for linked in &b.linked {
                out.push_str(&format!("{:>12} {:>20}  linked, type {}\n", "", linked.balance, linked.link_type));
            }
        }
        out
    }
}

/// Lane 0 of an account's flags, by name.
fn status_name(flags: u64) -> &'static str {
    ledger_core::v2::AccountStatus::of_flags(flags).name()
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Balances, Error> {
    block_on(async {
        let client = args.endpoint.connect_here().await?.reader().await?;
        let balances = match client.wire() {
            Wire::Ee2b042 => {
                let values = client.balances(&args.accounts).await?;
                args.accounts
                    .iter()
                    .zip(values)
                    .map(|(&account, balance)| Balance { account, balance, flags: None, status: None, linked: vec![] })
                    .collect()
            }
            Wire::Head => {
                let mut balances = Vec::with_capacity(args.accounts.len());
                for &account in &args.accounts {
                    let found = client.balance(account, true).await?;
                    balances.push(Balance {
                        account,
                        balance: found.balance,
                        status: found.flags.map(status_name),
                        flags: found.flags,
                        linked: found.linked,
                    });
                }
                balances
            }
        };
        Ok(Balances { server: client.url().to_owned(), wire: client.wire(), balances })
    })?
}
