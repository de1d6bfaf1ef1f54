//! ee2b042's wire on the ABI v1 engine: what `cargo roda dev` serves for a
//! v1 project, with an optional pipeline delay that makes submission,
//! commit and the snapshot lag as a server's stages do.

use ledger_core::Engine;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ledger_core::{EntryKind, IfRegistered, Ledger, Operation};
use tonic::{Request, Response, Status};

use super::{
    Activity, Built, Control, Core, DevConfig, DevError, Drain, EventHook, Served, TokenCheck, listed, lock,
    off_the_async_threads, register, unregister, with_reflection,
};
use crate::pipeline::{Delayed, Indices, Reply, Stage};
use crate::proto::{self, ledger_server::LedgerServer};

/// The ee2b042 proto's descriptors, for reflection.
const LEDGER_DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ledger_descriptor.bin"));

struct State {
    core: Core<Ledger>,
    /// With a pipeline delay, what is in flight; `None` when instant.
    pipeline: Option<Delayed>,
    /// Set when the server stops: the pipeline computes what is queued at
    /// once and ends.
    draining: bool,
    /// What the pipeline publishes and reads; shared with the service.
    shared: Arc<Shared>,
}

impl Served for State {
    type Engine = Ledger;

    fn core(&mut self) -> &mut Core<Ledger> {
        &mut self.core
    }

    /// Operations submitted before it are computed before it.
    fn before_registry_change(&mut self) {
        if self.pipeline.is_some() {
            self.compute_due(Instant::now(), true);
            let indices = self.pipeline.as_ref().expect("checked above").indices();
            self.shared.indices.send_replace(indices);
        }
    }

    /// A server's WAL stage publishes the id of each record it commits,
    /// and a registration's (or an unregister's) record has none: its
    /// commit index reads 0 until the next transaction commits (observed:
    /// compute 51, commit 0, snapshot 51), and a committed transaction's
    /// status reads COMPUTED meanwhile.
    fn after_registry_change(&mut self) {
        if let Some(pipeline) = self.pipeline.as_mut() {
            pipeline.registry_written();
        }
        self.shared.indices.send_modify(|indices| indices.commit = 0);
    }
}

/// What the service and the handle share.
struct Shared {
    control: Arc<Control>,
    on_event: Option<EventHook>,
    /// The pipeline's stages, for requests that wait for one.
    indices: tokio::sync::watch::Sender<Indices>,
    /// Wakes the pipeline thread: an operation was queued, or the server stops.
    pipeline_wake: Condvar,
    shuffle_functions: bool,
}

/// The gRPC service. Cloning shares the ledger.
#[derive(Clone)]
struct DevService {
    state: Arc<Mutex<State>>,
    shared: Arc<Shared>,
}

impl DevService {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
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
        let mut indices = self.shared.indices.subscribe();
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
        off_the_async_threads(move || {
            let _counted = service.shared.control.activity.enter()?;
            let mut state = service.lock();
            state.core.log.writable()?;
            if let Some(pipeline) = &mut state.pipeline {
                let tx_id = pipeline.submit(op, Instant::now(), reply);
                service.shared.pipeline_wake.notify_all();
                return Ok((tx_id, None));
            }
            let computed = state.core.compute(op, service.shared.on_event.as_ref())?;
            service.shared.indices.send_replace(Indices::all(computed.tx_id));
            Ok((computed.tx_id, Some(computed.status)))
        })
        .await
    }

    /// The pipeline thread of a delayed server: computes queued operations
    /// and moves transactions through commit onto the snapshot as their
    /// time comes; when the server stops, it does what is left at once.
    fn run_pipeline(&self) {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let flush = state.draining;
            state.compute_due(now, flush);
            let pipeline = state.pipeline.as_mut().expect("a delayed server");
            pipeline.advance(now, flush);
            self.shared.indices.send_replace(pipeline.indices());
            if flush && pipeline.is_idle() {
                return;
            }
            state = match pipeline.next_wake() {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    self.shared.pipeline_wake.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0
                }
                None => self.shared.pipeline_wake.wait(state).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// Where a transaction is, as `GetTransactionStatus` reports it.
    fn status(&self, tx_id: u64) -> proto::GetStatusResponse {
        use proto::TransactionStatus as S;
        let indices = *self.shared.indices.borrow();
        let state = self.lock();
        let failed = state.core.ledger.transaction(tx_id).filter(|tx| !tx.status.is_success());
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

impl State {
    /// Computes the queued operations that are due (all when `flush`). A
    /// failed write to the log drops the rest, never computed: the server
    /// accepts no write after it.
    fn compute_due(&mut self, now: Instant, flush: bool) {
        while self.core.log.broken.is_none() {
            let Some((op, submitted, reply)) = self.pipeline.as_mut().and_then(|p| p.next_due(now, flush)) else {
                break;
            };
            if let Ok(computed) = self.core.compute(op, self.shared.on_event.as_ref())
                && let Some(pipeline) = &mut self.pipeline
            {
                if let Some(reply) = reply {
                    // The waiter may have gone (its client hung up): nothing to tell.
                    let _ = reply.send(computed.status);
                }
                pipeline.computed(computed.tx_id, submitted, computed.entries);
            }
        }
        if let (Some(_), Some(pipeline)) = (&self.core.log.broken, &mut self.pipeline) {
            pipeline.abandon_queued();
        }
    }

    /// A balance as reads see it: the snapshot's when delayed.
    fn balance(&self, account_id: u64) -> i64 {
        match &self.pipeline {
            Some(pipeline) => pipeline.balance(account_id),
            None => self.core.ledger.balance(account_id),
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
        let last_snapshot_tx_id = self.shared.indices.borrow().snapshot;
        let balance = self.lock().balance(request.into_inner().account_id);
        Ok(Response::new(proto::GetBalanceResponse { balance, last_snapshot_tx_id }))
    }

    async fn get_balances(
        &self,
        request: Request<proto::GetBalancesRequest>,
    ) -> Result<Response<proto::GetBalancesResponse>, Status> {
        let last_snapshot_tx_id = self.shared.indices.borrow().snapshot;
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
        let indices = *self.shared.indices.borrow();
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
        let on_snapshot = tx_id <= self.shared.indices.borrow().snapshot;
        let state = self.lock();
        let tx = state
            .core
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
        let if_registered = if request.override_existing { IfRegistered::Override } else { IfRegistered::Refuse };
        let control = self.shared.control.clone();
        let registered = register(self.state.clone(), control, request.name, request.binary, if_registered).await?;
        Ok(Response::new(proto::RegisterFunctionResponse { version: registered.version, crc32c: registered.crc32c }))
    }

    async fn unregister_function(
        &self,
        request: Request<proto::UnregisterFunctionRequest>,
    ) -> Result<Response<proto::UnregisterFunctionResponse>, Status> {
        let control = self.shared.control.clone();
        let version = unregister(self.state.clone(), control, request.into_inner().name).await?;
        Ok(Response::new(proto::UnregisterFunctionResponse { version }))
    }

    async fn list_functions(
        &self,
        _request: Request<proto::ListFunctionsRequest>,
    ) -> Result<Response<proto::ListFunctionsResponse>, Status> {
        let functions = listed(self.lock().core.ledger.list_functions(), self.shared.shuffle_functions)
            .map(|f| proto::FunctionInfo { name: f.name, version: f.version, crc32c: f.crc32c })
            .collect();
        Ok(Response::new(proto::ListFunctionsResponse { functions }))
    }
}

/// The ee2b042 service on the v1 engine.
pub(super) fn build(config: &DevConfig) -> Result<Built, DevError> {
    let (core, recovery) = Core::<Ledger>::open(config)?;
    let last = core.ledger.next_tx_id() - 1;
    let pipeline = config.pipeline_delay.map(|delay| Delayed::new(delay, last, core.ledger.accounts().clone()));
    let delayed = pipeline.is_some();
    let control = Arc::new(Control { interrupter: core.ledger.interrupter(), activity: Activity::default() });
    let shared = Arc::new(Shared {
        control: control.clone(),
        on_event: config.on_event.clone(),
        indices: tokio::sync::watch::Sender::new(Indices::all(last)),
        pipeline_wake: Condvar::new(),
        shuffle_functions: config.shuffle_functions,
    });
    let state = Arc::new(Mutex::new(State { core, pipeline, draining: false, shared: shared.clone() }));
    let service = DevService { state, shared };
    let drain = match delayed {
        true => {
            let pipeline = service.clone();
            let thread = std::thread::Builder::new()
                .name("roda-dev-pipeline".into())
                .spawn(move || pipeline.run_pipeline())
                .map_err(DevError::Runtime)?;
            // What was submitted is computed, committed and on the snapshot
            // before the server stops; waiting requests are answered.
            let service = service.clone();
            let drain: Drain = Box::new(move || {
                service.lock().draining = true;
                service.shared.pipeline_wake.notify_all();
                thread.join().map_err(|_| DevError::Serve("the pipeline thread panicked".into()))
            });
            Some(drain)
        }
        false => None,
    };
    let routes = tonic::service::Routes::new(LedgerServer::with_interceptor(service, TokenCheck(config.token.clone())));
    Ok(Built { routes: with_reflection(routes, LEDGER_DESCRIPTORS)?, control, recovery, drain, follower: None })
}
