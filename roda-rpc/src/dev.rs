//! A local ledger server on ledger-core, wire-compatible with a roda-ledger
//! server at ee2b042 for the methods it serves, with the same status codes
//! and messages: [`start`] it in-process, stop it with
//! [`DevHandle::shutdown`] (or by dropping the handle). `cargo roda dev` is
//! this plus flags and signal handling.
//!
//! A shutdown interrupts a function call that is running (it fails with
//! status 5, like any trap, and is answered) and then stops serving.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ledger_core::{EntryKind, Interrupter, Ledger, LedgerConfig, Operation, SetupError};
use ledger_core::{ErrorCode, IfRegistered, RegistryError};
use tonic::{Request, Response, Status};

use crate::proto::{self, ledger_server::LedgerServer};
use crate::store::{Record, Recovery, Store, StoreError};
use crate::token::Token;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct DevConfig {
    /// Where to listen; port 0 picks a free port ([`DevHandle::local_addr`]).
    pub listen: SocketAddr,
    /// The ledger's settings.
    pub ledger: LedgerConfig,
    /// Where to keep data; in memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Serve TLS with this identity.
    pub tls: Option<ServerTls>,
    /// A bearer token every request must carry.
    pub token: Option<Token>,
    /// Called with what happens while serving (see [`DevEvent`]).
    pub on_event: Option<EventHook>,
}

impl Default for DevConfig {
    /// In memory, on a free loopback port, no TLS, no token.
    fn default() -> Self {
        DevConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ledger: LedgerConfig::default(),
            data_dir: None,
            tls: None,
            token: None,
            on_event: None,
        }
    }
}

impl DevConfig {
    /// Whether the server would listen beyond this machine without a token:
    /// anyone who reaches the port can register functions and move money.
    pub fn open_beyond_loopback(&self) -> bool {
        self.token.is_none() && !self.listen.ip().is_loopback()
    }
}

/// TLS material for the server.
#[derive(Clone)]
pub struct ServerTls {
    /// PEM certificate chain.
    pub cert: Vec<u8>,
    /// PEM private key.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("cert", &format_args!("{} bytes", self.cert.len())).finish_non_exhaustive()
    }
}

/// Something that happened in a running server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DevEvent {
    /// A function call is about to run as transaction `tx_id`.
    CallStarted {
        /// The function.
        name: String,
        /// Its transaction.
        tx_id: u64,
    },
}

/// A callback for [`DevEvent`]s; it runs on the server's threads, so it
/// must return quickly.
#[derive(Clone)]
pub struct EventHook(pub Arc<dyn Fn(&DevEvent) + Send + Sync>);

impl std::fmt::Debug for EventHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventHook")
    }
}

/// Why the server could not start, or failed while serving.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The data directory cannot be used.
    #[error("cannot start: {0}")]
    Store(#[from] StoreError),
    /// The ledger could not be set up.
    #[error("cannot start: {0}")]
    Ledger(#[from] SetupError),
    /// The address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The TLS identity is unusable.
    #[error("cannot serve TLS: {0}")]
    Tls(String),
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(String),
}

/// Operations that are accepted and not answered yet, and whether the
/// server is closing.
#[derive(Default)]
struct Activity {
    /// (operations in flight, closing)
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

/// Counts one accepted operation until dropped.
struct Counted<'a>(&'a Activity);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.lock().0 -= 1;
        self.0.changed.notify_all();
    }
}

/// How long a stopping server waits for idle connections to close.
const IDLE_GRACE: Duration = Duration::from_secs(1);

/// How often a closing server interrupts calls that started since.
const INTERRUPT_EVERY: Duration = Duration::from_millis(10);

impl Activity {
    fn lock(&self) -> MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an operation in, unless the server is closing.
    fn enter(&self) -> Result<Counted<'_>, Status> {
        let mut state = self.lock();
        if state.1 {
            return Err(Status::unavailable("the server is shutting down"));
        }
        state.0 += 1;
        self.changed.notify_all();
        Ok(Counted(self))
    }

    /// Refuses new operations and interrupts running calls until none is
    /// left. One counted in but still waiting for the ledger starts after an
    /// interrupt, so interrupts repeat until it is gone too.
    fn close(&self, interrupter: &Interrupter) {
        let mut state = self.lock();
        state.1 = true;
        while state.0 > 0 {
            interrupter.interrupt();
            state = self.changed.wait_timeout(state, INTERRUPT_EVERY).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

struct State {
    ledger: Ledger,
    store: Option<Store>,
    /// Set when a write to disk failed: the ledger in memory is ahead of the
    /// log, so no further write is accepted.
    broken: Option<String>,
}

/// What the service and the handle share.
struct Shared {
    state: Mutex<State>,
    activity: Activity,
    interrupter: Interrupter,
    on_event: Option<EventHook>,
}

/// The gRPC service. Cloning shares the ledger.
#[derive(Clone)]
struct DevService(Arc<Shared>);

impl DevService {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the server down with it.
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs an operation off the async threads: a function call may run
    /// for as long as its fuel lasts.
    async fn submit(&self, op: Operation) -> Result<ledger_core::Transaction, Status> {
        let service = self.clone();
        tokio::task::spawn_blocking(move || {
            let _counted = service.0.activity.enter()?;
            let mut state = service.lock();
            if let (Operation::Function { name, .. }, Some(hook)) = (&op, &service.0.on_event) {
                (hook.0)(&DevEvent::CallStarted { name: name.clone(), tx_id: state.ledger.next_tx_id() });
            }
            state.submit(op)
        })
        .await
        .map_err(|e| Status::internal(format!("the operation did not finish: {e}")))?
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

/// The operation, checked before anything of it reaches the log: a function
/// name that could never be registered is refused, and parameters past the
/// eighth, which a server drops, are dropped here.
fn required(op: Option<proto::submit_and_wait_request::Operation>) -> Result<Operation, Status> {
    let mut op = op.map(crate::operation_from_proto).ok_or_else(|| {
        Status::invalid_argument("an operation is required: deposit, withdrawal, transfer or function")
    })?;
    if let Operation::Function { name, params, .. } = &mut op {
        if name.len() > ledger_core::abi::MAX_NAME_LEN {
            // Not echoed back: it may be megabytes.
            return Err(Status::invalid_argument(format!(
                "cannot call a function whose name is {} bytes: names are at most {} bytes",
                name.len(),
                ledger_core::abi::MAX_NAME_LEN
            )));
        }
        ledger_core::abi::validate_function_name(name)
            .map_err(|e| Status::invalid_argument(format!("cannot call it: {e}; no function can have this name")))?;
        params.truncate(ledger_core::abi::PARAM_COUNT);
    }
    Ok(op)
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
        let receipt = self.submit(op).await?;
        Ok(Response::new(proto::SubmitOperationResponse { transaction_id: receipt.tx_id }))
    }

    async fn submit_and_wait(
        &self,
        request: Request<proto::SubmitAndWaitRequest>,
    ) -> Result<Response<proto::SubmitAndWaitResponse>, Status> {
        // Every operation completes before the reply: all wait levels are met.
        let op = required(request.into_inner().operation)?;
        let receipt = self.submit(op).await?;
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
        let (name, override_existing) = (request.name.clone(), request.override_existing);
        let if_registered = if override_existing { IfRegistered::Override } else { IfRegistered::Refuse };
        // A refused name compiles nothing (a bad binary under a taken name
        // still gets the server's binary error).
        let compiler = {
            let state = self.lock();
            state.writable()?;
            state.ledger.refuse_taken_name(&name, &request.binary, if_registered).map_err(registry_status)?;
            state.ledger.compiler()
        };
        // Compiling takes long for a large module: no lock held meanwhile.
        let binary = request.binary;
        let (compiled, binary) = tokio::task::spawn_blocking(move || (compiler.compile(&binary), binary))
            .await
            .map_err(|e| Status::internal(format!("the compilation did not finish: {e}")))?;
        let compiled = compiled.map_err(|e| registry_status(e.into()))?;
        let request = proto::RegisterFunctionRequest { name, binary, override_existing };
        let mut state = self.lock();
        state.writable()?;
        // Checked again: another registration may have taken the name meanwhile.
        let prepared =
            state.ledger.prepare_compiled(&request.name, compiled, if_registered).map_err(registry_status)?;
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

/// A running server; it stops when dropped.
pub struct DevHandle {
    local_addr: SocketAddr,
    tls: bool,
    recovery: Recovery,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<Result<(), tonic::transport::Error>>>,
}

/// Opens the ledger (recovering it from the data directory, if set), binds
/// the address and serves on threads of its own until the handle is shut
/// down or dropped. Works from synchronous and asynchronous code alike.
///
/// # Errors
///
/// [`DevError::Store`] for a data directory that cannot be used,
/// [`DevError::Listen`] for an address that cannot be bound,
/// [`DevError::Tls`] for an unusable TLS identity.
pub fn start(config: DevConfig) -> Result<DevHandle, DevError> {
    let (store, ledger, recovery) = match &config.data_dir {
        Some(dir) => {
            let (store, ledger, recovery) = Store::open(dir, config.ledger.clone())?;
            (Some(store), ledger, recovery)
        }
        None => (None, Ledger::new(config.ledger.clone())?, Recovery::default()),
    };
    let shared = Arc::new(Shared {
        interrupter: ledger.interrupter(),
        state: Mutex::new(State { ledger, store, broken: None }),
        activity: Activity::default(),
        on_event: config.on_event.clone(),
    });
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| DevError::Listen { address: config.listen, source })?;
    let local_addr = listener.local_addr().map_err(|source| DevError::Listen { address: config.listen, source })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("roda-dev")
        .enable_all()
        .build()
        .map_err(DevError::Runtime)?;
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener)
            .map_err(|source| DevError::Listen { address: config.listen, source })?
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &config.tls {
        let identity = tonic::transport::Identity::from_pem(&tls.cert, &tls.key);
        builder = builder
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .map_err(|e| DevError::Tls(crate::client::error_chain(&e)))?;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let service = DevService(shared.clone());
    let token = config.token.clone();
    let thread = std::thread::Builder::new()
        .name("roda-dev-server".into())
        .spawn(move || {
            let mut graceful = stopped.clone();
            let mut forced = stopped;
            runtime.block_on(async move {
                let serving = serve(builder, service, listener, token, async move {
                    _ = graceful.wait_for(|stop| *stop).await;
                });
                tokio::select! {
                    result = serving => result,
                    // Every operation was answered before the stop; what a
                    // graceful stop still waits for is an idle client that
                    // does not answer its GOAWAY. Dropping the runtime
                    // closes those connections.
                    _ = async move {
                        _ = forced.wait_for(|stop| *stop).await;
                        tokio::time::sleep(IDLE_GRACE).await;
                    } => Ok(()),
                }
            })
        })
        .map_err(DevError::Runtime)?;
    Ok(DevHandle { local_addr, tls: config.tls.is_some(), recovery, shared, stop, thread: Some(thread) })
}

impl DevHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDRESS` or, with TLS, `https://ADDRESS`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// What recovering the data directory found (a dropped torn tail, for
    /// one); empty without a data directory.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Operations accepted and not answered yet.
    pub fn operations_in_flight(&self) -> usize {
        self.shared.activity.lock().0
    }

    /// Blocks until at least `count` operations are in flight: a test's way
    /// to know a call is running, with no sleep.
    pub fn wait_for_operations_in_flight(&self, count: usize) {
        let activity = &self.shared.activity;
        let state = activity.lock();
        drop(
            activity.changed.wait_while(state, |(running, _)| *running < count).unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// Interrupts running calls (they are answered with status 5), stops
    /// accepting requests, and waits until the server has stopped.
    ///
    /// # Errors
    ///
    /// [`DevError::Serve`] when serving had failed.
    pub fn shutdown(mut self) -> Result<(), DevError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), DevError> {
        let Some(thread) = self.thread.take() else { return Ok(()) };
        self.shared.activity.close(&self.shared.interrupter);
        self.stop.send_replace(true);
        match thread.join() {
            Ok(result) => result.map_err(|e| DevError::Serve(crate::client::error_chain(&e))),
            Err(_) => Err(DevError::Serve("the server thread panicked".into())),
        }
    }
}

impl Drop for DevHandle {
    fn drop(&mut self) {
        // Errors were for `shutdown` to report; a drop only stops.
        let _ = self.stop();
    }
}

impl std::fmt::Debug for DevHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevHandle").field("url", &self.url()).finish_non_exhaustive()
    }
}

/// Serves until `shutdown` completes.
async fn serve(
    mut builder: tonic::transport::Server,
    service: DevService,
    listener: tokio::net::TcpListener,
    token: Option<Token>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    let check_token = move |request: Request<()>| -> Result<Request<()>, Status> {
        let Some(token) = &token else { return Ok(request) };
        let presented = request.metadata().get("authorization").map(|v| v.as_bytes());
        match presented.is_some_and(|presented| token.matches_header(presented)) {
            true => Ok(request),
            false => Err(Status::unauthenticated("a valid `authorization: Bearer <token>` header is required")),
        }
    };
    builder
        .add_service(LedgerServer::with_interceptor(service, check_token))
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), shutdown)
        .await
}
