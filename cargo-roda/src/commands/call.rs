//! `cargo roda call`.

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use ledger_core::v2::Operation;
use ledger_core::{EntryKind, Status};
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
    /// Until durable on a quorum of a cluster (roda-ledger HEAD).
    ClusterCommit,
}

impl Wait {
    /// The client's level.
    pub fn level(self) -> WaitLevel {
        match self {
            Wait::Computed => WaitLevel::Computed,
            Wait::Committed => WaitLevel::Committed,
            Wait::Snapshot => WaitLevel::Snapshot,
            Wait::ClusterCommit => WaitLevel::ClusterCommit,
        }
    }
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
    /// gets DUPLICATE. Given several servers (a cluster), a call without one
    /// gets a random one, so that a send that may have landed on a leader
    /// that went away can be sent again safely.
    #[arg(long, default_value_t = 0)]
    pub user_ref: u64,
    /// How long to wait. A HEAD server has the status in the transaction,
    /// readable once on the snapshot, so there `computed` and `committed`
    /// wait for the snapshot too.
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
    server: String,
    wire: roda_rpc::Wire,
    transaction_id: u64,
    user_ref: u64,
    /// The leader's term (0 from an ee2b042 server).
    term: u64,
    status: String,
    status_code: u8,
    entries: Option<Vec<EntryView>>,
    /// Why a status-5 call failed, when the server says: the function is
    /// not registered there.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl Outcome for Called {
    fn command(&self) -> &'static str {
        "call"
    }

    fn human(&self) -> String {
        let mut out = format!("transaction {}: {} ({})\n", self.transaction_id, self.status, self.status_code);
        if let Some(note) = &self.note {
            out.push_str(&format!("note: {note}\n"));
        }
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
    let (server, wire, user_ref, result, entries, note) = block_on(async {
        let endpoints = args.endpoint.endpoints_here()?;
        let several = endpoints.len() > 1;
        let user_ref = match (args.user_ref, several) {
            (0, true) => random_user_ref(),
            (given, _) => given,
        };
        let cluster = roda_rpc::cluster::Cluster::connect(endpoints).await?;
        let op = Operation::Function { name: args.name.clone(), params: args.params.clone(), user_ref };
        let result = cluster.submit(&op, args.wait.level()).await?;
        let client = cluster.client().await?;
        let entries = match (args.show_entries, &result.transaction) {
            (false, _) => None,
            (true, Some(transaction)) => Some(transaction.entries().copied().collect()),
            (true, None) => Some(client.entries(result.tx_id).await?),
        };
        let note = match result.status == Status::INVALID_OPERATION
            && !client.list().await?.iter().any(|f| f.name == args.name)
        {
            true => Some(format!(
                "`{}` is not registered on {}{}",
                args.name,
                client.url(),
                match several {
                    true => " (a cluster does not replicate function binaries: after a failover, deploy again)",
                    false => "; deploy it with `cargo roda deploy`",
                }
            )),
            false => None,
        };
        Ok::<_, Error>((client.url().to_owned(), client.wire(), user_ref, result, entries, note))
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
        server,
        wire,
        transaction_id: result.tx_id,
        user_ref,
        term: result.term,
        status: status.to_string(),
        status_code: status.code(),
        entries,
        note,
    })
}

/// A non-zero user_ref no one chose: the clock's nanoseconds hashed with a
/// per-process random seed.
fn random_user_ref() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    RandomState::new().hash_one(nanos).max(1)
}
