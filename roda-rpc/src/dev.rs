//! A local ledger server on ledger-core, wire-compatible with a roda-ledger
//! server at ee2b042 (ABI v1), or at e14b146 with [`DevConfig::wire`] (ABI
//! v2, `dev/head.rs`), for the methods it serves, with the same status codes
//! and messages: [`start`] it in-process, stop it with
//! [`DevHandle::shutdown`] (or by dropping the handle). `cargo roda dev` is
//! this plus flags and signal handling.
//!
//! A shutdown interrupts a function call that is running (it fails with
//! status 5, like any trap, and is answered) and then stops serving.
//!
//! Every difference from a real server is chosen and listed, with its
//! reason, in the repository's `docs/differences.md`. Two of them are
//! switches here: [`DevConfig::pipeline_delay`] makes submission, commit and
//! the snapshot lag as a server's stages do (instant by default), and
//! [`DevConfig::shuffle_functions`] lists functions in a new order on every
//! call, as a server's arbitrary order may be.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ledger_core::{EntryKind, Interrupter, Ledger, LedgerConfig, Operation, SetupError};
use ledger_core::{ErrorCode, FunctionInfo, IfRegistered, RegistryError};
use tonic::{Request, Response, Status};

use crate::pipeline::{Delayed, Indices, Reply, Stage};
use crate::proto::{self, ledger_server::LedgerServer};
use crate::store::{Durable, Record, Recovery, Store, StoreError};
use crate::token::Token;

mod head;

pub use crate::Wire;

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
    /// `None` (the default): every operation is computed, committed and on
    /// the snapshot before `SubmitOperation` answers, and every read is
    /// current. `Some(d)`: as on a server, `SubmitOperation` answers at
    /// once; the operation is computed `d` later, committed `2d` later and
    /// on the snapshot `3d` later, and balances and transactions are read
    /// from the snapshot, so client code can be tested against that race.
    pub pipeline_delay: Option<Duration>,
    /// List functions in a new order on every `ListFunctions` (sorted by
    /// name otherwise): a server's order is arbitrary.
    pub shuffle_functions: bool,
    /// Which server to be: ee2b042's wire on the ABI v1 engine (the
    /// default), or HEAD's (e14b146) on the ABI v2 engine.
    pub wire: Wire,
    /// HEAD only: answer as a cluster's follower does, refusing every write
    /// with FAILED_PRECONDITION "node is not a leader; writes are not
    /// accepted" and saying `is_leader: false`; reads answer. For testing
    /// how a client finds the leader.
    pub follower: bool,
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
            pipeline_delay: None,
            shuffle_functions: false,
            wire: Wire::Ee2b042,
            follower: false,
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
    /// A setting the chosen wire does not offer.
    #[error("{0}")]
    Unsupported(&'static str),
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

/// The data directory of a running server, if it has one, and whether a
/// write to it failed.
struct Log<L: Durable> {
    store: Option<Store<L>>,
    /// Set when a write to disk failed: the ledger in memory is ahead of the
    /// log, so no further write is accepted.
    broken: Option<String>,
}

impl<L: Durable> Log<L> {
    fn new(store: Option<Store<L>>) -> Log<L> {
        Log { store, broken: None }
    }

    fn writable(&self) -> Result<(), Status> {
        match &self.broken {
            Some(why) => {
                Err(Status::internal(format!("the data directory failed earlier ({why}); restart the server")))
            }
            None => Ok(()),
        }
    }

    /// Appends a record, fsynced; a failure stops every later write.
    fn persist(&mut self, record: &Record<L::Operation, L::Transaction>) -> Result<(), Status> {
        let Some(store) = &mut self.store else { return Ok(()) };
        store.append(record).map_err(|e| {
            self.broken = Some(e.to_string());
            Status::internal(format!("cannot write the log: {e}"))
        })
    }

    /// Writes a function's binary (empty for an unregister), fsynced.
    fn write_function(&self, name: &str, version: u32, bytes: &[u8]) -> Result<(), Status> {
        let Some(store) = &self.store else { return Ok(()) };
        store
            .write_function(name, version, bytes)
            .map_err(|e| Status::internal(format!("cannot write the function: {e}")))
    }
}

struct State {
    ledger: Ledger,
    log: Log<Ledger>,
    /// With a pipeline delay, what is in flight; `None` when instant.
    pipeline: Option<Delayed>,
    /// Set when the server stops: the pipeline computes what is queued at
    /// once and ends.
    draining: bool,
}

/// What the service and the handle share.
struct Shared {
    state: Mutex<State>,
    control: Arc<Control>,
    on_event: Option<EventHook>,
    /// The pipeline's stages, for requests that wait for one.
    indices: tokio::sync::watch::Sender<Indices>,
    /// Wakes the pipeline thread: an operation was queued, or the server stops.
    pipeline_wake: Condvar,
    shuffle_functions: bool,
}

/// What the handle controls in a service of either wire: the operations in
/// flight, and the calls to interrupt when stopping.
struct Control {
    activity: Activity,
    interrupter: Interrupter,
}

/// A service ready to serve: its routes, its [`Control`], what recovery
/// found, and what a stop must finish before the server goes (a delayed
/// pipeline's queue).
struct Built {
    routes: tonic::service::Routes,
    control: Arc<Control>,
    recovery: Recovery,
    drain: Option<Drain>,
    /// HEAD: whether it answers as a follower, changeable while serving.
    follower: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Finishes what was accepted before a stop.
type Drain = Box<dyn FnOnce() -> Result<(), DevError> + Send>;

/// The gRPC service. Cloning shares the ledger.
#[derive(Clone)]
struct DevService(Arc<Shared>);

impl DevService {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the server down with it.
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Submits an operation and returns its transaction id at once.
    /// Instant, the operation runs here, off the async threads (a function
    /// call may run for as long as its fuel lasts); with a delay it is
    /// queued for the pipeline thread.
    async fn submit(&self, op: Operation) -> Result<u64, Status> {
        Ok(self.enqueue(op, None).await?.0)
    }

    /// Submits an operation and waits until `stage` has it; returns its id
    /// and status (taken when it was computed, whatever the history keeps).
    async fn submit_and_wait(&self, op: Operation, stage: Stage) -> Result<(u64, ledger_core::Status), Status> {
        let (reply, computed) = tokio::sync::oneshot::channel();
        let (tx_id, status) = self.enqueue(op, Some(reply)).await?;
        let status = match status {
            Some(status) => status,
            None => {
                computed.await.map_err(|_| {
                Status::unavailable("the operation was not run: the server accepts no write (it is stopping, or its data directory failed)")
            })?
            }
        };
        let mut indices = self.0.indices.subscribe();
        indices
            .wait_for(|indices| indices.of(stage) >= tx_id)
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        Ok((tx_id, status))
    }

    /// The transaction id, and the status when the operation ran at once;
    /// a delayed pipeline sends the status to `reply` later.
    async fn enqueue(&self, op: Operation, reply: Reply) -> Result<(u64, Option<ledger_core::Status>), Status> {
        let service = self.clone();
        tokio::task::spawn_blocking(move || {
            let _counted = service.0.control.activity.enter()?;
            let mut state = service.lock();
            state.log.writable()?;
            if let Some(pipeline) = &mut state.pipeline {
                let tx_id = pipeline.submit(op, Instant::now(), reply);
                service.0.pipeline_wake.notify_all();
                return Ok((tx_id, None));
            }
            let computed = state.compute(op, &service.0)?;
            service.0.indices.send_replace(Indices::all(computed.tx_id));
            Ok((computed.tx_id, Some(computed.status)))
        })
        .await
        .map_err(|e| Status::internal(format!("the operation did not finish: {e}")))?
    }

    /// The pipeline thread of a delayed server: computes queued operations
    /// and moves transactions through commit onto the snapshot as their
    /// time comes; when the server stops, it does what is left at once.
    fn run_pipeline(&self) {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let flush = state.draining;
            state.compute_due(&self.0, now, flush);
            let pipeline = state.pipeline.as_mut().expect("a delayed server");
            pipeline.advance(now, flush);
            self.0.indices.send_replace(pipeline.indices());
            if flush && pipeline.is_idle() {
                return;
            }
            state = match pipeline.next_wake() {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    self.0.pipeline_wake.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0
                }
                None => self.0.pipeline_wake.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// Where a transaction is, as `GetTransactionStatus` reports it.
    fn status(&self, tx_id: u64) -> proto::GetStatusResponse {
        use proto::TransactionStatus as S;
        let indices = *self.0.indices.borrow();
        let state = self.lock();
        let failed = state.ledger.transaction(tx_id).filter(|tx| !tx.status.is_success());
        let (status, fail_reason) = match failed {
            _ if tx_id > indices.compute => (S::Pending, 0),
            Some(tx) => (S::Error, u32::from(tx.status.code())),
            None if tx_id > indices.commit => (S::Computed, 0),
            None if tx_id > indices.snapshot => (S::Committed, 0),
            None => (S::OnSnapshot, 0),
        };
        proto::GetStatusResponse { status: status as i32, fail_reason }
    }
}

fn registry_status(err: RegistryError) -> Status {
    let message = err.to_string();
    match err.code() {
        ErrorCode::InvalidArgument => Status::invalid_argument(message),
        ErrorCode::AlreadyExists => Status::already_exists(message),
        ErrorCode::NotFound => Status::not_found(message),
        ErrorCode::Internal => Status::internal(message),
    }
}

impl State {
    /// Runs an operation on the ledger and logs it; returns what it did.
    fn compute(&mut self, mut op: Operation, shared: &Shared) -> Result<ledger_core::Transaction, Status> {
        self.log.writable()?;
        if let (Operation::Function { name, .. }, Some(hook)) = (&op, &shared.on_event) {
            (hook.0)(&DevEvent::CallStarted { name: name.clone(), tx_id: self.ledger.next_tx_id() });
        }
        let record = self.ledger.submit(&op);
        if let Operation::Function { name, .. } = &mut op {
            *name = loggable_name(std::mem::take(name));
        }
        self.log.persist(&Record::Transaction { op: Some(op), record: Box::new(record.clone()) })?;
        Ok(record)
    }

    /// Computes what was submitted before a registration, and publishes
    /// how far the stages are.
    fn compute_queued(&mut self, shared: &Shared) {
        if self.pipeline.is_some() {
            self.compute_due(shared, Instant::now(), true);
            shared.indices.send_replace(self.pipeline.as_ref().expect("checked above").indices());
        }
    }

    /// Computes the queued operations that are due (all when `flush`). A
    /// failed write to the log drops the rest, never computed: the server
    /// accepts no write after it.
    fn compute_due(&mut self, shared: &Shared, now: Instant, flush: bool) {
        while self.log.broken.is_none() {
            let Some((op, submitted, reply)) = self.pipeline.as_mut().and_then(|p| p.next_due(now, flush)) else {
                break;
            };
            if let Ok(computed) = self.compute(op, shared)
                && let Some(pipeline) = &mut self.pipeline
            {
                if let Some(reply) = reply {
                    // The waiter may have gone (its client hung up): nothing to tell.
                    let _ = reply.send(computed.status);
                }
                pipeline.computed(computed.tx_id, submitted, computed.entries);
            }
        }
        if let (Some(_), Some(pipeline)) = (&self.log.broken, &mut self.pipeline) {
            pipeline.abandon_queued();
        }
    }

    /// A balance as reads see it: the snapshot's when delayed.
    fn balance(&self, account_id: u64) -> i64 {
        match &self.pipeline {
            Some(pipeline) => pipeline.balance(account_id),
            None => self.ledger.balance(account_id),
        }
    }
}

/// The operation, as a server reads it: parameters past the eighth are
/// dropped.
fn required(op: Option<proto::submit_and_wait_request::Operation>) -> Result<Operation, Status> {
    // A server's words, which client code may compare.
    let mut op = op.map(crate::operation_from_proto).ok_or_else(|| Status::invalid_argument("missing operation"))?;
    if let Operation::Function { params, .. } = &mut op {
        params.truncate(ledger_core::abi::PARAM_COUNT);
    }
    Ok(op)
}

/// A called function's name as the log keeps it. A call of a name no
/// function can have fails with status 5, as on a server; its name (which
/// may be megabytes) is not kept: the log holds only what could be
/// registered.
fn loggable_name(name: String) -> String {
    match name.len() > ledger_core::abi::MAX_NAME_LEN || ledger_core::abi::validate_function_name(&name).is_err() {
        true => String::new(),
        false => name,
    }
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
        // Answered at once, as a server does: the id, not the outcome.
        let transaction_id = self.submit(op).await?;
        Ok(Response::new(proto::SubmitOperationResponse { transaction_id }))
    }

    async fn submit_and_wait(
        &self,
        request: Request<proto::SubmitAndWaitRequest>,
    ) -> Result<Response<proto::SubmitAndWaitResponse>, Status> {
        let request = request.into_inner();
        // As a server: an unknown level waits for COMMITTED.
        let stage = match proto::WaitLevel::try_from(request.wait_level) {
            Ok(proto::WaitLevel::Computed) => Stage::Computed,
            Ok(proto::WaitLevel::Snapshot) => Stage::OnSnapshot,
            _ => Stage::Committed,
        };
        let op = required(request.operation)?;
        let (transaction_id, status) = self.submit_and_wait(op, stage).await?;
        Ok(Response::new(proto::SubmitAndWaitResponse {
            transaction_id,
            fail_reason: u32::from(status.code()),
            // ee2b042 has no term: left 0, the field is not on the wire.
            term: 0,
        }))
    }

    async fn get_balance(
        &self,
        request: Request<proto::GetBalanceRequest>,
    ) -> Result<Response<proto::GetBalanceResponse>, Status> {
        let last_snapshot_tx_id = self.0.indices.borrow().snapshot;
        let balance = self.lock().balance(request.into_inner().account_id);
        Ok(Response::new(proto::GetBalanceResponse { balance, last_snapshot_tx_id }))
    }

    async fn get_balances(
        &self,
        request: Request<proto::GetBalancesRequest>,
    ) -> Result<Response<proto::GetBalancesResponse>, Status> {
        let last_snapshot_tx_id = self.0.indices.borrow().snapshot;
        let state = self.lock();
        let balances = request.into_inner().account_ids.iter().map(|id| state.balance(*id)).collect();
        Ok(Response::new(proto::GetBalancesResponse { balances, last_snapshot_tx_id }))
    }

    async fn get_transaction_status(
        &self,
        request: Request<proto::GetStatusRequest>,
    ) -> Result<Response<proto::GetStatusResponse>, Status> {
        Ok(Response::new(self.status(request.into_inner().transaction_id)))
    }

    async fn get_pipeline_index(
        &self,
        _request: Request<proto::GetPipelineIndexRequest>,
    ) -> Result<Response<proto::GetPipelineIndexResponse>, Status> {
        let indices = *self.0.indices.borrow();
        Ok(Response::new(proto::GetPipelineIndexResponse {
            compute_index: indices.compute,
            commit_index: indices.commit,
            snapshot_index: indices.snapshot,
        }))
    }

    async fn get_transaction(
        &self,
        request: Request<proto::GetTransactionRequest>,
    ) -> Result<Response<proto::GetTransactionResponse>, Status> {
        let tx_id = request.into_inner().tx_id;
        // Read from the snapshot, as a server does; in its words.
        let on_snapshot = tx_id <= self.0.indices.borrow().snapshot;
        let state = self.lock();
        let tx = state
            .ledger
            .transaction(tx_id)
            .filter(|_| on_snapshot)
            .ok_or_else(|| Status::not_found("transaction not found"))?;
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
            state.log.writable()?;
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
        state.log.writable()?;
        // Operations submitted before are computed before it.
        state.compute_queued(&self.0);
        state.log.writable()?;
        // Checked again: another registration may have taken the name meanwhile.
        let prepared =
            state.ledger.prepare_compiled(&request.name, compiled, if_registered).map_err(registry_status)?;
        let registered = prepared.registered();
        // Durable before it is live: the binary, then the log record.
        state.log.write_function(&request.name, registered.version, &request.binary)?;
        state.log.persist(&Record::Register {
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
        state.log.writable()?;
        state.compute_queued(&self.0);
        state.log.writable()?;
        let version = state.ledger.check_unregister(&name).map_err(registry_status)?;
        state.log.write_function(&name, version, &[])?;
        state.log.persist(&Record::Unregister { name: name.clone(), version })?;
        state.ledger.unregister_function(&name).map_err(registry_status)?;
        Ok(Response::new(proto::UnregisterFunctionResponse { version }))
    }

    async fn list_functions(
        &self,
        _request: Request<proto::ListFunctionsRequest>,
    ) -> Result<Response<proto::ListFunctionsResponse>, Status> {
        let functions = listed(self.lock().ledger.list_functions(), self.0.shuffle_functions)
            .map(|f| proto::FunctionInfo { name: f.name, version: f.version, crc32c: f.crc32c })
            .collect();
        Ok(Response::new(proto::ListFunctionsResponse { functions }))
    }
}

/// The live functions in the order `ListFunctions` gives them: sorted by
/// name, or shuffled on every call when asked (a server's order is
/// arbitrary).
fn listed(mut functions: Vec<FunctionInfo>, shuffled: bool) -> impl Iterator<Item = FunctionInfo> {
    if shuffled {
        shuffle(&mut functions);
    }
    functions.into_iter()
}

/// Shuffles with a seed the standard library draws at random for every
/// hasher (no random-number crate needed for a listing's order).
fn shuffle<T>(items: &mut [T]) {
    use std::hash::{BuildHasher, RandomState};
    let seed = RandomState::new();
    for i in (1..items.len()).rev() {
        let j = (seed.hash_one(i) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// A running server; it stops when dropped.
pub struct DevHandle {
    local_addr: SocketAddr,
    tls: bool,
    recovery: Recovery,
    control: Arc<Control>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<Result<(), tonic::transport::Error>>>,
    drain: Option<Drain>,
    follower: Option<Arc<std::sync::atomic::AtomicBool>>,
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
    let Built { routes, control, recovery, drain, follower } = match config.wire {
        Wire::Ee2b042 if config.follower => {
            return Err(DevError::Unsupported(
                "an ee2b042 server has no cluster: only the HEAD wire serves as a follower",
            ));
        }
        Wire::Ee2b042 => build_v1(&config)?,
        Wire::Head => head::build(&config)?,
    };
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
    let thread = std::thread::Builder::new()
        .name("roda-dev-server".into())
        .spawn(move || {
            let mut graceful = stopped.clone();
            let mut forced = stopped;
            runtime.block_on(async move {
                let serving = serve(builder, routes, listener, async move {
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
    Ok(DevHandle {
        local_addr,
        tls: config.tls.is_some(),
        recovery,
        control,
        stop,
        thread: Some(thread),
        drain,
        follower,
    })
}

/// The ee2b042 service on the v1 engine.
fn build_v1(config: &DevConfig) -> Result<Built, DevError> {
    let (store, ledger, recovery) = match &config.data_dir {
        Some(dir) => {
            let (store, ledger, recovery) = Store::open(dir, config.ledger.clone())?;
            (Some(store), ledger, recovery)
        }
        None => (None, Ledger::new(config.ledger.clone())?, Recovery::default()),
    };
    let last = ledger.next_tx_id() - 1;
    let pipeline = config.pipeline_delay.map(|delay| Delayed::new(delay, last, ledger.accounts().clone()));
    let delayed = pipeline.is_some();
    let control = Arc::new(Control { interrupter: ledger.interrupter(), activity: Activity::default() });
    let shared = Arc::new(Shared {
        state: Mutex::new(State { ledger, log: Log::new(store), pipeline, draining: false }),
        control: control.clone(),
        on_event: config.on_event.clone(),
        indices: tokio::sync::watch::Sender::new(Indices::all(last)),
        pipeline_wake: Condvar::new(),
        shuffle_functions: config.shuffle_functions,
    });
    let drain = match delayed {
        true => {
            let service = DevService(shared.clone());
            let thread = std::thread::Builder::new()
                .name("roda-dev-pipeline".into())
                .spawn(move || service.run_pipeline())
                .map_err(DevError::Runtime)?;
            // What was submitted is computed, committed and on the snapshot
            // before the server stops; waiting requests are answered.
            let shared = shared.clone();
            let drain: Drain = Box::new(move || {
                shared.state.lock().unwrap_or_else(PoisonError::into_inner).draining = true;
                shared.pipeline_wake.notify_all();
                thread.join().map_err(|_| DevError::Serve("the pipeline thread panicked".into()))
            });
            Some(drain)
        }
        false => None,
    };
    let service = DevService(shared);
    Ok(Built {
        routes: tonic::service::Routes::new(LedgerServer::with_interceptor(service, TokenCheck(config.token.clone()))),
        control,
        recovery,
        drain,
        follower: None,
    })
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

    /// HEAD only: from now on, answer as a cluster's follower (`true`) or
    /// as its leader: a leadership change, for testing how clients follow
    /// it. Returns whether this server could change (an ee2b042 one has no
    /// cluster).
    pub fn set_follower(&self, follower: bool) -> bool {
        match &self.follower {
            Some(flag) => {
                flag.store(follower, std::sync::atomic::Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Operations accepted and not answered yet.
    pub fn operations_in_flight(&self) -> usize {
        self.control.activity.lock().0
    }

    /// Blocks until at least `count` operations are in flight: a test's way
    /// to know a call is running, with no sleep.
    pub fn wait_for_operations_in_flight(&self, count: usize) {
        let activity = &self.control.activity;
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
        self.control.activity.close(&self.control.interrupter);
        if let Some(drain) = self.drain.take() {
            drain()?;
        }
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

/// Refuses a request without the token, when there is one.
#[derive(Clone)]
struct TokenCheck(Option<Token>);

impl tonic::service::Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.0 else { return Ok(request) };
        let presented = request.metadata().get("authorization").map(|v| v.as_bytes());
        match presented.is_some_and(|presented| token.matches_header(presented)) {
            true => Ok(request),
            false => Err(Status::unauthenticated("a valid `authorization: Bearer <token>` header is required")),
        }
    }
}

/// Serves until `shutdown` completes.
async fn serve(
    mut builder: tonic::transport::Server,
    routes: tonic::service::Routes,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    builder
        .add_routes(routes)
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), shutdown)
        .await
}
