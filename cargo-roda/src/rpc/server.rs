//! `cargo roda dev`: a local ledger server on ledger-core, wire-compatible
//! with a roda-ledger server at ee2b042 for the methods it serves, with the
//! same status codes and messages.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use ledger_core::{EntryKind, Ledger, LedgerConfig, Operation};
use ledger_core::{ErrorCode, IfRegistered, RegistryError};
use tonic::{Request, Response, Status};

use super::proto::{self, ledger_server::LedgerServer};
use super::store::{Record, Store, StoreError};

/// How to run the server.
#[derive(Debug, Clone, Default)]
pub struct DevConfig {
    /// The ledger's settings.
    pub ledger: LedgerConfig,
    /// Where to keep data; in memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// A bearer token every request must carry.
    pub token: Option<String>,
}

struct State {
    ledger: Ledger,
    store: Option<Store>,
    /// Set when a write to disk failed: the ledger in memory is ahead of the
    /// log, so no further write is accepted.
    broken: Option<String>,
}

/// The service. Cloning shares the ledger.
#[derive(Clone)]
pub struct DevService {
    state: Arc<Mutex<State>>,
}

impl DevService {
    /// Opens the ledger, recovering it from the data directory if one is set.
    pub fn open(config: &DevConfig) -> Result<DevService, StoreError> {
        let (store, ledger) = match &config.data_dir {
            Some(dir) => {
                let (store, ledger) = Store::open(dir, config.ledger.clone())?;
                (Some(store), ledger)
            }
            None => (None, Ledger::new(config.ledger.clone()).map_err(|e| StoreError::Setup(e.to_string()))?),
        };
        Ok(DevService { state: Arc::new(Mutex::new(State { ledger, store, broken: None })) })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the server down with it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn registry_status(err: RegistryError) -> Status {
    let message = err.to_string();
    match err.code() {
        ErrorCode::InvalidArgument => Status::invalid_argument(message),
        ErrorCode::AlreadyExists => Status::already_exists(message),
        ErrorCode::NotFound => Status::not_found(message),
    }
}

impl State {
    fn writable(&self) -> Result<(), Status> {
        match &self.broken {
            Some(why) => {
                Err(Status::internal(format!("the data directory failed earlier ({why}); restart the server")))
            }
            None => Ok(()),
        }
    }

    fn persist(&mut self, record: &Record) -> Result<(), Status> {
        let Some(store) = &mut self.store else { return Ok(()) };
        store.append(record).map_err(|e| {
            self.broken = Some(e.to_string());
            Status::internal(format!("cannot write the log: {e}"))
        })
    }

    fn submit(&mut self, op: Operation) -> Result<ledger_core::Transaction, Status> {
        self.writable()?;
        let record = self.ledger.submit(&op);
        self.persist(&Record::Transaction { op, record: Box::new(record.clone()) })?;
        Ok(record)
    }

    fn last_tx_id(&self) -> u64 {
        self.ledger.next_tx_id() - 1
    }
}

fn required(op: Option<proto::submit_and_wait_request::Operation>) -> Result<Operation, Status> {
    op.map(super::operation_from_proto)
        .ok_or_else(|| Status::invalid_argument("an operation is required: deposit, withdrawal, transfer or function"))
}

impl From<proto::submit_operation_request::Operation> for proto::submit_and_wait_request::Operation {
    fn from(op: proto::submit_operation_request::Operation) -> Self {
        use proto::submit_operation_request::Operation as S;
        match op {
            S::Deposit(d) => Self::Deposit(d),
            S::Withdrawal(w) => Self::Withdrawal(w),
            S::Transfer(t) => Self::Transfer(t),
            S::Function(f) => Self::Function(f),
        }
    }
}

#[tonic::async_trait]
impl proto::ledger_server::Ledger for DevService {
    async fn submit_operation(
        &self,
        request: Request<proto::SubmitOperationRequest>,
    ) -> Result<Response<proto::SubmitOperationResponse>, Status> {
        let op = required(request.into_inner().operation.map(Into::into))?;
        let receipt = self.lock().submit(op)?;
        Ok(Response::new(proto::SubmitOperationResponse { transaction_id: receipt.tx_id }))
    }

    async fn submit_and_wait(
        &self,
        request: Request<proto::SubmitAndWaitRequest>,
    ) -> Result<Response<proto::SubmitAndWaitResponse>, Status> {
        // Every operation completes before the reply: all wait levels are met.
        let op = required(request.into_inner().operation)?;
        let receipt = self.lock().submit(op)?;
        Ok(Response::new(proto::SubmitAndWaitResponse {
            transaction_id: receipt.tx_id,
            fail_reason: u32::from(receipt.status.code()),
            // ee2b042 has no term: left 0, the field is not on the wire.
            term: 0,
        }))
    }

    async fn get_balance(
        &self,
        request: Request<proto::GetBalanceRequest>,
    ) -> Result<Response<proto::GetBalanceResponse>, Status> {
        let state = self.lock();
        Ok(Response::new(proto::GetBalanceResponse {
            balance: state.ledger.balance(request.into_inner().account_id),
            last_snapshot_tx_id: state.last_tx_id(),
        }))
    }

    async fn get_balances(
        &self,
        request: Request<proto::GetBalancesRequest>,
    ) -> Result<Response<proto::GetBalancesResponse>, Status> {
        let state = self.lock();
        let balances = request.into_inner().account_ids.iter().map(|id| state.ledger.balance(*id)).collect();
        Ok(Response::new(proto::GetBalancesResponse { balances, last_snapshot_tx_id: state.last_tx_id() }))
    }

    async fn get_transaction_status(
        &self,
        request: Request<proto::GetStatusRequest>,
    ) -> Result<Response<proto::GetStatusResponse>, Status> {
        let state = self.lock();
        let response = match state.ledger.transaction(request.into_inner().transaction_id) {
            Some(tx) if tx.status.is_success() => {
                proto::GetStatusResponse { status: proto::TransactionStatus::Committed as i32, fail_reason: 0 }
            }
            Some(tx) => proto::GetStatusResponse {
                status: proto::TransactionStatus::Error as i32,
                fail_reason: u32::from(tx.status.code()),
            },
            None => proto::GetStatusResponse { status: proto::TransactionStatus::Pending as i32, fail_reason: 0 },
        };
        Ok(Response::new(response))
    }

    async fn get_pipeline_index(
        &self,
        _request: Request<proto::GetPipelineIndexRequest>,
    ) -> Result<Response<proto::GetPipelineIndexResponse>, Status> {
        let last = self.lock().last_tx_id();
        Ok(Response::new(proto::GetPipelineIndexResponse {
            compute_index: last,
            commit_index: last,
            snapshot_index: last,
        }))
    }

    async fn get_transaction(
        &self,
        request: Request<proto::GetTransactionRequest>,
    ) -> Result<Response<proto::GetTransactionResponse>, Status> {
        let tx_id = request.into_inner().tx_id;
        let state = self.lock();
        let tx = state
            .ledger
            .transaction(tx_id)
            .ok_or_else(|| Status::not_found(format!("transaction {tx_id} not found")))?;
        let entries = tx
            .entries
            .iter()
            .map(|e| proto::TxEntryRecord {
                account_id: e.account_id,
                amount: e.amount,
                kind: match e.kind {
                    EntryKind::Credit => proto::EntryKind::Credit as i32,
                    EntryKind::Debit => proto::EntryKind::Debit as i32,
                },
                computed_balance: e.computed_balance,
            })
            .collect();
        let links = tx
            .duplicate_of
            .map(|original| proto::TxLinkRecord { to_tx_id: original, kind: proto::LinkKind::Duplicate as i32 })
            .into_iter()
            .collect();
        Ok(Response::new(proto::GetTransactionResponse { tx_id, entries, links }))
    }

    async fn register_function(
        &self,
        request: Request<proto::RegisterFunctionRequest>,
    ) -> Result<Response<proto::RegisterFunctionResponse>, Status> {
        let request = request.into_inner();
        let mut state = self.lock();
        state.writable()?;
        let prepared = state
            .ledger
            .prepare_function(
                &request.name,
                &request.binary,
                if request.override_existing { IfRegistered::Override } else { IfRegistered::Refuse },
            )
            .map_err(registry_status)?;
        let registered = prepared.registered();
        // Durable before it is live: the binary, then the log record.
        if let Some(store) = &state.store {
            store
                .write_function(&request.name, registered.version, &request.binary)
                .map_err(|e| Status::internal(format!("cannot write the function: {e}")))?;
        }
        state.persist(&Record::Register {
            name: request.name.clone(),
            version: registered.version,
            crc32c: registered.crc32c,
        })?;
        state.ledger.install_function(prepared);
        Ok(Response::new(proto::RegisterFunctionResponse { version: registered.version, crc32c: registered.crc32c }))
    }

    async fn unregister_function(
        &self,
        request: Request<proto::UnregisterFunctionRequest>,
    ) -> Result<Response<proto::UnregisterFunctionResponse>, Status> {
        let name = request.into_inner().name;
        let mut state = self.lock();
        state.writable()?;
        let version = state.ledger.check_unregister(&name).map_err(registry_status)?;
        if let Some(store) = &state.store {
            store
                .write_function(&name, version, &[])
                .map_err(|e| Status::internal(format!("cannot write the marker: {e}")))?;
        }
        state.persist(&Record::Unregister { name: name.clone(), version })?;
        state.ledger.unregister_function(&name).map_err(registry_status)?;
        Ok(Response::new(proto::UnregisterFunctionResponse { version }))
    }

    async fn list_functions(
        &self,
        _request: Request<proto::ListFunctionsRequest>,
    ) -> Result<Response<proto::ListFunctionsResponse>, Status> {
        let functions = self
            .lock()
            .ledger
            .list_functions()
            .into_iter()
            .map(|f| proto::FunctionInfo { name: f.name, version: f.version, crc32c: f.crc32c })
            .collect();
        Ok(Response::new(proto::ListFunctionsResponse { functions }))
    }
}

/// TLS material for the server.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// PEM certificate chain.
    pub cert: Vec<u8>,
    /// PEM private key.
    pub key: Vec<u8>,
}

/// Serves until `shutdown` completes.
pub async fn serve(
    service: DevService,
    listener: tokio::net::TcpListener,
    tls: Option<ServerTls>,
    token: Option<String>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    let expected = token.map(|t| format!("Bearer {t}"));
    let check_token = move |request: Request<()>| -> Result<Request<()>, Status> {
        match &expected {
            None => Ok(request),
            Some(expected) => {
                let given = request.metadata().get("authorization").and_then(|v| v.to_str().ok());
                if given == Some(expected.as_str()) {
                    Ok(request)
                } else {
                    Err(Status::unauthenticated("a valid `authorization: Bearer <token>` header is required"))
                }
            }
        }
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        let identity = tonic::transport::Identity::from_pem(tls.cert, tls.key);
        builder = builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let incoming = tokio_stream_from(listener);
    builder
        .add_service(LedgerServer::with_interceptor(service, check_token))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

fn tokio_stream_from(
    listener: tokio::net::TcpListener,
) -> impl tonic::codegen::tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    tonic::transport::server::TcpIncoming::from(listener)
}
