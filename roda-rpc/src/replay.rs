//! A replay of a committed function call: the live ledger forked just
//! before it ([`crate::fork`]), the call run again with the parameters
//! given (a server's log does not keep them), and the records it writes
//! compared with the ones the server committed.

use ledger_core::v2::{HostCall, Operation, Record};
use ledger_core::{Engine, FunctionInfo, LedgerConfig, Status};

use crate::client::{Client, RpcError};
use crate::fork::{ForkError, fork};
use crate::results::tag_bytes;

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Replay {
    /// The transaction replayed.
    pub tx_id: u64,
    /// The function that ran: the one live before the call with the CRC
    /// its tag carries, by name and version.
    pub function: FunctionInfo,
    /// The CRC32C of the binary that ran again (the committed one's, or the
    /// one given instead).
    pub crc32c: u32,
    /// The status the server committed.
    pub committed_status: Status,
    /// The status the replay ended with.
    pub replayed_status: Status,
    /// The records the server committed.
    pub committed: Vec<Record>,
    /// The records the replay wrote.
    pub replayed: Vec<Record>,
    /// The index of the first record that differs (one side may end
    /// first); `None` when the records and the statuses agree.
    pub first_difference: Option<usize>,
    /// Every host call the replayed call made, in order, with its
    /// arguments, result and the fuel used so far.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_calls: Vec<HostCall>,
}

impl Replay {
    /// Whether the replay wrote what the server committed.
    pub fn same(&self) -> bool {
        self.first_difference.is_none() && self.committed_status == self.replayed_status
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The server could not be read.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The state before it could not be forked.
    #[error(transparent)]
    Fork(#[from] ForkError),
    /// The transaction is no function call.
    #[error("transaction {tx_id} is no function call (tag `{tag}`): only calls replay")]
    NotACall {
        /// The transaction.
        tx_id: u64,
        /// Its tag.
        tag: String,
    },
    /// The call found no function to run (its tag's CRC is 0).
    #[error(
        "transaction {0} ran no function (the server found none under its name: status 5, CRC 0): nothing to replay"
    )]
    NoFunctionRan(u64),
    /// No function live before it has the CRC its tag carries.
    #[error("no function live before transaction {tx_id} has the CRC32C {crc32c:08x} its tag carries")]
    UnknownCrc {
        /// The transaction.
        tx_id: u64,
        /// The CRC.
        crc32c: u32,
    },
    /// The binary to run (`instead`) does not register.
    #[error("the module to replay `{name}` with does not register: {source}")]
    Register {
        /// The function.
        name: String,
        /// The registry's refusal.
        source: ledger_core::RegistryError,
    },
    /// The binary to run is not among those given.
    #[error(
        "transaction {tx_id} ran `{name}` (CRC32C {crc32c:08x}), and no binary given has that CRC: give it (or the one to try instead) with --wasm or --functions"
    )]
    MissingBinary {
        /// The transaction.
        tx_id: u64,
        /// The function.
        name: String,
        /// Its CRC.
        crc32c: u32,
    },
}

/// Replays committed call `tx_id` with `params`: the ledger forked at the
/// transaction before it, with `binaries`; `instead`, when given, runs in
/// place of the committed binary (to see what a new version would have
/// written).
///
/// # Errors
///
/// [`ReplayError`].
pub async fn replay(
    client: &Client,
    tx_id: u64,
    params: &[i64],
    binaries: &[Vec<u8>],
    instead: Option<&[u8]>,
    config: LedgerConfig,
) -> Result<Replay, ReplayError> {
    let committed = client.transaction(tx_id).await?;
    let not_a_call = || ReplayError::NotACall { tx_id, tag: committed.tag.clone() };
    let tag = tag_bytes(&committed.tag).ok_or_else(not_a_call)?;
    let crc32c = ledger_core::tags::function_crc(&tag).ok_or_else(not_a_call)?;
    if crc32c == 0 {
        return Err(ReplayError::NoFunctionRan(tx_id));
    }
    // The fork before the call holds the function that ran: the one live
    // with the CRC its tag carries (the log is read once).
    let mut ledger = fork(client, Some(tx_id - 1), binaries, config, |_, _| {}).await?.ledger;
    let function = ledger
        .list_functions()
        .into_iter()
        .rfind(|f| f.crc32c == crc32c)
        .ok_or(ReplayError::UnknownCrc { tx_id, crc32c })?;
    let binary = match instead {
        Some(binary) => binary,
        None => binaries
            .iter()
            .find(|b| ledger_core::crc32c(b) == crc32c)
            .map(Vec::as_slice)
            .ok_or_else(|| ReplayError::MissingBinary { tx_id, name: function.name.clone(), crc32c })?,
    };
    // A binary other than the fork's is registered over it first: its
    // registration is a transaction of the fork's (its `register()` and
    // `start` run there), before the call.
    if ledger.list_functions().iter().all(|f| f.name != function.name || f.crc32c != ledger_core::crc32c(binary)) {
        ledger
            .register(&function.name, binary, ledger_core::IfRegistered::Override)
            .map_err(|source| ReplayError::Register { name: function.name.clone(), source })?;
    }
    let call =
        Operation::Function { name: function.name.clone(), params: params.to_vec(), user_ref: committed.user_ref };
    ledger.trace_host_calls(true);
    let replayed = ledger.submit(&call);
    let host_calls = ledger.take_host_calls();
    let committed_records: Vec<Record> = committed.ledger_records().cloned().collect();
    let first_difference = first_difference(&committed_records, &replayed.records);
    Ok(Replay {
        tx_id,
        function,
        crc32c: ledger_core::crc32c(binary),
        committed_status: committed.status,
        replayed_status: replayed.status,
        committed: committed_records,
        replayed: replayed.records,
        first_difference,
        host_calls,
    })
}

/// The index of the first record that differs; one side ending first
/// differs there.
fn first_difference(committed: &[Record], replayed: &[Record]) -> Option<usize> {
    let common = committed.iter().zip(replayed).position(|(a, b)| a != b);
    common.or_else(|| (committed.len() != replayed.len()).then(|| committed.len().min(replayed.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_where_one_side_differs_or_ends() {
        let kv = |value| Record::Kv { key: [1, 0, 0, 0], value };
        assert_eq!(first_difference(&[kv(1), kv(2)], &[kv(1), kv(2)]), None);
        assert_eq!(first_difference(&[kv(1), kv(2)], &[kv(1), kv(3)]), Some(1));
        assert_eq!(first_difference(&[kv(1)], &[kv(1), kv(2)]), Some(1));
        assert_eq!(first_difference(&[], &[kv(1)]), Some(0));
    }
}
