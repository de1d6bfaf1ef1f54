//! Several nodes of one ledger: writes go to the leader, found through
//! `GetPipelineIndex.is_leader` and found again when a node says it is not
//! the leader (an e14b146 follower answers every write with
//! FAILED_PRECONDITION "node is not a leader; writes are not accepted", and
//! no hint) or cannot be reached. A write is sent again only when it cannot
//! have been applied, or when sending it again cannot apply it twice: a
//! refusal for not leading applied nothing; a registration first asks the
//! new leader's `ListFunctions` for the binary's CRC; an operation with a
//! `user_ref` is deduplicated by the ledger (a repeat that finds the first
//! is DUPLICATE). One node is a cluster of one.
//!
//! ```
//! use ledger_core::v2::Operation;
//! use roda_rpc::Wire;
//! use roda_rpc::client::{Endpoint, WaitLevel};
//! use roda_rpc::cluster::Cluster;
//! use roda_rpc::dev::{self, DevConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = dev::start(DevConfig { wire: Wire::Head, ..DevConfig::default() })?;
//! tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//!     let cluster = Cluster::connect(vec![Endpoint::new(server.url())]).await?;
//!     let opened = cluster.submit(&Operation::OpenAccount { count: 2, user_ref: 7 }, WaitLevel::Snapshot).await?;
//!     assert!(opened.status.is_success());
//!     assert_eq!(cluster.wire().await?, Wire::Head);
//!     Ok::<_, roda_rpc::client::RpcError>(())
//! })?;
//! # Ok(())
//! # }
//! ```

use std::time::{Duration, Instant};

use ledger_core::FunctionInfo;
use ledger_core::v2::Operation;
use tokio::sync::Mutex;
use tonic::Code;

use crate::Wire;
use crate::client::{Client, Endpoint, RpcError, WaitLevel};
use crate::results::{CallResult, CommittedTransaction};

/// How often the nodes are asked who leads while none does (an election
/// takes seconds).
const LEADER_POLL: Duration = Duration::from_millis(250);

/// One node: where it is and, once reached, its connection.
struct Node {
    endpoint: Endpoint,
    client: Option<Client>,
}

/// The nodes of one ledger, and which of them led last.
pub struct Cluster {
    nodes: Mutex<(Vec<Node>, Option<usize>)>,
    /// How long to look for a leader before giving up.
    patience: Duration,
}

/// What one node answered to a question every node is asked.
#[derive(Debug)]
pub struct NodeAnswer<T> {
    /// The node.
    pub url: String,
    /// Its answer.
    pub answer: Result<T, RpcError>,
}

/// Whether the server refused a write for not leading: nothing was applied.
pub fn is_not_leader(error: &RpcError) -> bool {
    matches!(error, RpcError::Status { code: Code::FailedPrecondition, message, .. } if message.contains("not a leader"))
}

/// The transaction a DUPLICATE links to, as the result of the write that
/// was sent twice; the DUPLICATE itself when it links to none (an ee2b042
/// server returns no transaction).
async fn first_of(leader: &Client, duplicate: CallResult) -> Result<CallResult, RpcError> {
    let first = duplicate.transaction.as_ref().and_then(CommittedTransaction::duplicate_of);
    let Some(first) = first else { return Ok(duplicate) };
    let transaction = leader.transaction(first).await?;
    Ok(CallResult { tx_id: first, status: transaction.status, term: duplicate.term, transaction: Some(transaction) })
}

/// Whether a write that failed so may still have been applied: the request
/// may have reached the node before it went away or the answer was lost.
fn may_have_landed(error: &RpcError) -> bool {
    matches!(error.code(), Some(Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown))
}

impl Cluster {
    /// Connects to every node that answers (at least one must), each with its
    /// endpoint's settings; looks for a leader for as long as the first
    /// endpoint's timeout.
    ///
    /// # Errors
    ///
    /// The first node's error when none answers; [`RpcError::InvalidUrl`]
    /// and the other setting errors at once.
    pub async fn connect(endpoints: Vec<Endpoint>) -> Result<Cluster, RpcError> {
        let patience = endpoints.first().map_or(Duration::from_secs(10), |e| e.timeout);
        let mut nodes = Vec::with_capacity(endpoints.len());
        let mut first_error = None;
        for endpoint in endpoints {
            let client = match Client::connect(&endpoint).await {
                Ok(client) => Some(client),
                Err(error @ (RpcError::Connect { .. } | RpcError::Status { .. })) => {
                    first_error.get_or_insert(error);
                    None
                }
                Err(error) => return Err(error),
            };
            nodes.push(Node { endpoint, client });
        }
        if nodes.iter().all(|node| node.client.is_none()) {
            return Err(first_error.unwrap_or(RpcError::NoNodes));
        }
        Ok(Cluster { nodes: Mutex::new((nodes, None)), patience })
    }

    /// The leader's connection, found (again) when unknown: the first node
    /// whose `GetPipelineIndex` says it leads, asked every
    /// [`LEADER_POLL`] until one does or the patience runs out.
    async fn leader(&self) -> Result<Client, RpcError> {
        let deadline = Instant::now() + self.patience;
        loop {
            let mut guard = self.nodes.lock().await;
            let (nodes, leader) = &mut *guard;
            if let Some(client) = leader.and_then(|i| nodes[i].client.clone()) {
                return Ok(client);
            }
            let mut heard = Vec::new();
            for (i, node) in nodes.iter_mut().enumerate() {
                if node.client.is_none() {
                    node.client = Client::connect(&node.endpoint).await.ok();
                }
                let Some(client) = &node.client else {
                    heard.push(format!("{}: unreachable", node.endpoint.url));
                    continue;
                };
                match client.pipeline_index().await {
                    Ok(index) if index.is_leader => {
                        *leader = Some(i);
                        return Ok(client.clone());
                    }
                    Ok(index) => heard.push(format!("{}: a follower in term {}", node.endpoint.url, index.term)),
                    Err(error) => {
                        heard.push(format!("{}: {error}", node.endpoint.url));
                        node.client = None;
                    }
                }
            }
            drop(guard);
            if Instant::now() >= deadline {
                return Err(RpcError::NoLeader { nodes: heard });
            }
            tokio::time::sleep(LEADER_POLL).await;
        }
    }

    /// Forgets the leader (and its connection, when it failed), so the next
    /// write looks again.
    async fn lost_leader(&self, connection_failed: bool) {
        let mut guard = self.nodes.lock().await;
        let (nodes, leader) = &mut *guard;
        if let Some(i) = leader.take()
            && connection_failed
        {
            nodes[i].client = None;
        }
    }

    /// The wire the leader speaks.
    ///
    /// # Errors
    ///
    /// [`RpcError::NoLeader`] when no node leads.
    pub async fn wire(&self) -> Result<Wire, RpcError> {
        Ok(self.leader().await?.wire())
    }

    /// A connection to the leader, for reads and writes that need no
    /// rotation.
    ///
    /// # Errors
    ///
    /// [`RpcError::NoLeader`] when no node leads.
    pub async fn client(&self) -> Result<Client, RpcError> {
        self.leader().await
    }

    /// A connection for reads, which every node answers (a follower
    /// refuses writes only): the leader when it is known, else the first
    /// node that can be reached. Nothing waits for an election.
    ///
    /// # Errors
    ///
    /// The last node's error when none can be reached.
    pub async fn reader(&self) -> Result<Client, RpcError> {
        let mut guard = self.nodes.lock().await;
        let (nodes, leader) = &mut *guard;
        if let Some(client) = leader.and_then(|i| nodes[i].client.clone()) {
            return Ok(client);
        }
        let mut last_error = RpcError::NoNodes;
        for node in nodes.iter_mut() {
            if node.client.is_none() {
                match Client::connect(&node.endpoint).await {
                    Ok(client) => node.client = Some(client),
                    Err(error) => last_error = error,
                }
            }
            if let Some(client) = &node.client {
                return Ok(client.clone());
            }
        }
        Err(last_error)
    }

    /// Submits an operation to the leader and waits for it. Sent again to
    /// a new leader when the node refused it for not leading; when it may
    /// have been applied, sent again only with a `user_ref`: a repeat that
    /// finds the first is DUPLICATE, and then the first transaction is
    /// read and returned (on a HEAD server, whose DUPLICATE links to it), so
    /// the result is the write's, whichever send landed.
    ///
    /// # Errors
    ///
    /// [`RpcError::WriteUncertain`] when it may have been applied and has no
    /// `user_ref`; the leader's error otherwise.
    pub async fn submit(&self, op: &Operation, wait: WaitLevel) -> Result<CallResult, RpcError> {
        let deadline = Instant::now() + self.patience;
        let mut resent_after_uncertain = false;
        loop {
            let leader = self.leader().await?;
            let error = match leader.submit(op, wait).await {
                Ok(result) if resent_after_uncertain && result.status == ledger_core::Status::DUPLICATE => {
                    return first_of(&leader, result).await;
                }
                Ok(result) => return Ok(result),
                Err(error) => error,
            };
            let landed = may_have_landed(&error);
            if !(is_not_leader(&error) || landed) || Instant::now() >= deadline {
                return Err(error);
            }
            if landed && op.user_ref() == 0 {
                return Err(RpcError::WriteUncertain { url: leader.url().to_owned(), send: Box::new(error) });
            }
            resent_after_uncertain |= landed;
            self.lost_leader(landed).await;
        }
    }

    /// Registers a function on the leader ([`Client::register`], which
    /// never adds a version by sending twice). When the leader changes on
    /// the way, the new leader's `ListFunctions` is asked first: the binary
    /// is sent only if it is not live there with this CRC.
    ///
    /// # Errors
    ///
    /// The leader's error; [`RpcError::RegisterUncertain`] as
    /// [`Client::register`] says.
    pub async fn register(&self, name: &str, binary: &[u8], override_existing: bool) -> Result<FunctionInfo, RpcError> {
        let crc = ledger_core::crc32c(binary);
        let deadline = Instant::now() + self.patience;
        let mut rotated = false;
        loop {
            let leader = self.leader().await?;
            if rotated && let Some(live) = leader.list().await?.into_iter().find(|f| f.name == name && f.crc32c == crc)
            {
                return Ok(live);
            }
            let error = match leader.register(name, binary, override_existing).await {
                Ok(registered) => return Ok(registered),
                Err(error) => error,
            };
            let lost = may_have_landed(&error);
            if !(is_not_leader(&error) || lost) || Instant::now() >= deadline {
                return Err(error);
            }
            self.lost_leader(lost).await;
            rotated = true;
        }
    }

    /// Unregisters a function on the leader; sent again only after a
    /// refusal for not leading (a repeat of one that landed would be
    /// NOT_FOUND, or unregister a newer version).
    ///
    /// # Errors
    ///
    /// The leader's error.
    pub async fn unregister(&self, name: &str) -> Result<u32, RpcError> {
        let deadline = Instant::now() + self.patience;
        loop {
            match self.leader().await?.unregister(name).await {
                Err(error) if is_not_leader(&error) && Instant::now() < deadline => self.lost_leader(false).await,
                result => return result,
            }
        }
    }

    /// Every node's live functions: a function binary is not replicated, so
    /// a node that did not take the registration lacks it.
    pub async fn list_on_every_node(&self) -> Vec<NodeAnswer<Vec<FunctionInfo>>> {
        let mut guard = self.nodes.lock().await;
        let mut answers = Vec::new();
        for node in guard.0.iter_mut() {
            let url = node.endpoint.url.clone();
            if node.client.is_none() {
                match Client::connect(&node.endpoint).await {
                    Ok(client) => node.client = Some(client),
                    Err(error) => {
                        answers.push(NodeAnswer { url, answer: Err(error) });
                        continue;
                    }
                }
            }
            let answer = node.client.as_ref().expect("connected above").list().await;
            answers.push(NodeAnswer { url, answer });
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::{self, DevConfig};

    /// A write sent twice with one user_ref: the DUPLICATE's link leads to
    /// the first send's transaction, which is the write's result.
    #[test]
    fn a_duplicate_resolves_to_the_first_transaction() {
        let server = dev::start(DevConfig { wire: Wire::Head, ..DevConfig::default() }).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let client = Client::connect(&Endpoint::new(server.url())).await.unwrap();
            let open = Operation::OpenAccount { count: 2, user_ref: 5 };
            let first = client.submit(&open, WaitLevel::Snapshot).await.unwrap();
            let again = client.submit(&open, WaitLevel::Snapshot).await.unwrap();
            assert_eq!(again.status, ledger_core::Status::DUPLICATE);
            let resolved = first_of(&client, again).await.unwrap();
            assert_eq!(resolved, CallResult { term: 1, ..first });
        });
    }
}
