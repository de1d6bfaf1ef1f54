//! The client's register never adds a version by sending twice, against a
//! scripted peer that answers the way a slow or failing server would
//! (real gRPC on 127.0.0.1; the client is the part under test).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use roda_rpc::client::{Client, Endpoint, RpcError};
use roda_rpc::proto::{self, ledger_server::LedgerServer};
use tonic::{Request, Response, Status};

/// How the peer answers RegisterFunction.
#[derive(Clone, Copy)]
enum Script {
    /// Commits only once the test says so: the client's deadline expires first.
    CommitLate,
    /// UNAVAILABLE, and every ListFunctions after the first fails too.
    Unavailable,
}

struct Peer {
    script: Script,
    registers: AtomicU32,
    lists: AtomicU32,
    /// Registered versions of `f`.
    committed: AtomicU32,
    release: tokio::sync::Notify,
}

/// The peer as a gRPC service.
#[derive(Clone)]
struct Service(Arc<Peer>);

impl std::ops::Deref for Service {
    type Target = Peer;

    fn deref(&self) -> &Peer {
        &self.0
    }
}

#[tonic::async_trait]
impl proto::ledger_server::Ledger for Service {
    async fn register_function(
        &self,
        _request: Request<proto::RegisterFunctionRequest>,
    ) -> Result<Response<proto::RegisterFunctionResponse>, Status> {
        self.registers.fetch_add(1, Ordering::SeqCst);
        match self.script {
            Script::CommitLate => {
                // The commit goes on whether or not the client still waits.
                let peer = self.clone();
                tokio::spawn(async move {
                    peer.release.notified().await;
                    peer.committed.fetch_add(1, Ordering::SeqCst);
                });
                std::future::pending().await
            }
            Script::Unavailable => Err(Status::unavailable("connection reset")),
        }
    }

    async fn list_functions(
        &self,
        _request: Request<proto::ListFunctionsRequest>,
    ) -> Result<Response<proto::ListFunctionsResponse>, Status> {
        if self.lists.fetch_add(1, Ordering::SeqCst) > 0 && matches!(self.script, Script::Unavailable) {
            return Err(Status::internal("the registry is unreadable"));
        }
        let version = self.committed.load(Ordering::SeqCst);
        let functions = (version > 0)
            .then(|| proto::FunctionInfo { name: "f".into(), version, crc32c: ledger_core::crc32c(b"wasm") })
            .into_iter()
            .collect();
        Ok(Response::new(proto::ListFunctionsResponse { functions }))
    }

    async fn submit_operation(
        &self,
        _: Request<proto::SubmitOperationRequest>,
    ) -> Result<Response<proto::SubmitOperationResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn submit_and_wait(
        &self,
        _: Request<proto::SubmitAndWaitRequest>,
    ) -> Result<Response<proto::SubmitAndWaitResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn get_balance(
        &self,
        _: Request<proto::GetBalanceRequest>,
    ) -> Result<Response<proto::GetBalanceResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn get_balances(
        &self,
        _: Request<proto::GetBalancesRequest>,
    ) -> Result<Response<proto::GetBalancesResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn get_transaction_status(
        &self,
        _: Request<proto::GetStatusRequest>,
    ) -> Result<Response<proto::GetStatusResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn get_pipeline_index(
        &self,
        _: Request<proto::GetPipelineIndexRequest>,
    ) -> Result<Response<proto::GetPipelineIndexResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn get_transaction(
        &self,
        _: Request<proto::GetTransactionRequest>,
    ) -> Result<Response<proto::GetTransactionResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }

    async fn unregister_function(
        &self,
        _: Request<proto::UnregisterFunctionRequest>,
    ) -> Result<Response<proto::UnregisterFunctionResponse>, Status> {
        Err(Status::unimplemented("scripted peer"))
    }
}

/// Serves `script` on a free port; returns the peer and its URL.
async fn serve(script: Script) -> (Arc<Peer>, String) {
    let peer = Arc::new(Peer {
        script,
        registers: AtomicU32::new(0),
        lists: AtomicU32::new(0),
        committed: AtomicU32::new(0),
        release: tokio::sync::Notify::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(LedgerServer::new(Service(peer.clone())))
            .serve_with_incoming(incoming),
    );
    (peer, url)
}

/// The deadline expires while the server still commits: the client checks
/// once, does not send again, and says so; the server ends with one version.
#[tokio::test]
async fn a_deadline_that_expires_while_the_server_commits_is_never_resent() {
    let (peer, url) = serve(Script::CommitLate).await;
    // The peer holds the register until released, so this deadline expires
    // however fast the machine is.
    let endpoint = Endpoint { timeout: Duration::from_millis(300), retries: 3, ..Endpoint::new(url.clone()) };
    let client = Client::connect(&endpoint).await.unwrap();
    let err = client.register("f", b"wasm", true).await.unwrap_err();
    assert!(matches!(err, RpcError::RegisterUncertain { check: None, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("DeadlineExceeded") || message.contains("Cancelled"), "{message}");
    assert!(message.contains("not sent again") && message.contains("cargo roda list"), "{message}");
    assert_eq!(peer.registers.load(Ordering::SeqCst), 1, "sent once");
    peer.release.notify_one();
    // Once it committed, the same register finds it instead of adding v2.
    let relaxed = Endpoint { timeout: Duration::from_secs(3600), ..Endpoint::new(url) };
    let client = Client::connect(&relaxed).await.unwrap();
    while peer.committed.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(client.list().await.unwrap()[0].version, 1);
}

/// UNAVAILABLE is retried only after ListFunctions shows the first send did
/// not land; when that check fails, nothing is sent again.
#[tokio::test]
async fn a_retry_that_cannot_check_first_is_not_sent() {
    let (peer, url) = serve(Script::Unavailable).await;
    let client = Client::connect(&Endpoint { retries: 3, ..Endpoint::new(url) }).await.unwrap();
    let err = client.register("f", b"wasm", false).await.unwrap_err();
    assert!(matches!(err, RpcError::RegisterUncertain { check: Some(_), .. }), "{err:?}");
    assert!(err.to_string().contains("ListFunctions could not check it"), "{err}");
    assert_eq!(peer.registers.load(Ordering::SeqCst), 1, "not sent again without a check");
    assert_eq!(peer.lists.load(Ordering::SeqCst), 2, "the version before, then the failed check");
}
