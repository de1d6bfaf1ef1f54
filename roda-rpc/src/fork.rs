//! A fork of a live HEAD ledger: its state at one of its transactions,
//! rebuilt in an in-process v2 engine from the server's log (`GetLog`), so
//! that scenarios, calls and new binaries run on what production holds.
//!
//! The log carries every committed effect (balances, account statuses,
//! flags, links, KV, constants) and every registration with its CRC, but
//! no binary: the fork runs the binaries it is given whose CRC matches, and
//! installs the others so that they are listed while every call of them
//! fails with status 5 (see [`Fork::unmatched`]).

use std::collections::HashMap;

use ledger_core::v2::Ledger;
use ledger_core::{Engine, FunctionInfo, LedgerConfig, RestoreError, SetupError};

use crate::client::{Client, RpcError};

/// The most records a server sends in one `GetLog` page.
const PAGE_RECORDS: u32 = 10_000;

/// A ledger forked from a live one.
pub struct Fork {
    /// The engine, holding the live ledger's state at [`at`](Fork::at).
    pub ledger: Ledger,
    /// The last transaction applied.
    pub at: u64,
    /// Functions live at [`at`](Fork::at) whose binary was not given: the
    /// fork lists them, and every call of them fails with status 5.
    pub unmatched: Vec<FunctionInfo>,
}

/// Why a fork could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForkError {
    /// The server could not be read.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The engine could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The transaction asked for is not committed on the server.
    #[error("transaction {at} is not committed on the server (its last is {last}); fork at {last} or earlier")]
    Beyond {
        /// The transaction asked for.
        at: u64,
        /// The server's last committed transaction.
        last: u64,
    },
    /// A transaction has more records than a `GetLog` page holds, so the
    /// server's log cannot be read past it.
    #[error(
        "transaction {tx_id} has more records than one GetLog page holds ({PAGE_RECORDS}): the server's log cannot be read past it; fork at {} or earlier",
        tx_id - 1
    )]
    TooLarge {
        /// The transaction.
        tx_id: u64,
    },
    /// The log says something the engine cannot apply.
    #[error("transaction {tx_id} cannot be applied: {reason}")]
    Apply {
        /// The transaction.
        tx_id: u64,
        /// Why.
        reason: String,
    },
}

/// Forks the ledger `client` serves at transaction `at` (`None`: its last
/// committed one), running the `binaries` whose CRC32C a registration names;
/// `progress(applied, target)` is called after each page.
///
/// # Errors
///
/// [`ForkError`]; an ee2b042 server has no log to fork ([`RpcError::NotOnWire`]).
pub async fn fork(
    client: &Client,
    at: Option<u64>,
    binaries: &[Vec<u8>],
    config: LedgerConfig,
    mut progress: impl FnMut(u64, u64),
) -> Result<Fork, ForkError> {
    let by_crc: HashMap<u32, &[u8]> = binaries.iter().map(|b| (ledger_core::crc32c(b), b.as_slice())).collect();
    let mut ledger = Ledger::new(config)?;
    let mut applied = 0;
    loop {
        let page = client.log(applied + 1, at.unwrap_or(0), PAGE_RECORDS).await?;
        let target = at.unwrap_or(page.last_commit_tx_id);
        if target > page.last_commit_tx_id {
            return Err(ForkError::Beyond { at: target, last: page.last_commit_tx_id });
        }
        for transaction in page.transactions.iter().filter(|tx| tx.tx_id <= target) {
            let apply = |reason: String| ForkError::Apply { tx_id: transaction.tx_id, reason };
            let transaction = transaction.to_engine().map_err(apply)?;
            let binary = transaction
                .function
                .as_ref()
                .filter(|f| f.crc32c != 0 && transaction.status.is_success())
                .and_then(|f| by_crc.get(&f.crc32c).copied());
            ledger.restore_forked(&transaction, binary).map_err(|e: RestoreError| apply(e.to_string()))?;
            applied = transaction.tx_id;
        }
        progress(applied, target);
        if applied >= target {
            break;
        }
        if page.transactions.is_empty() {
            return Err(ForkError::TooLarge { tx_id: applied + 1 });
        }
    }
    let unmatched = ledger.list_functions().into_iter().filter(|f| !by_crc.contains_key(&f.crc32c)).collect();
    Ok(Fork { ledger, at: applied, unmatched })
}
