//! The HEAD (e14b146) wire on the ABI v2 engine: what `cargo roda dev --abi
//! v2` serves. A standalone server: always the leader, term 1; every
//! operation is computed, committed (fsynced, with `--data-dir`) and on the
//! snapshot before it is answered.

use ledger_core::Engine;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ledger_core::IfRegistered;
use ledger_core::v2::{AccountStatus, CONSTANT_BIT, Ledger, Operation, Record, Transaction};
use tonic::{Request, Response, Status};

use super::{
    Activity, Built, Control, Core, DevConfig, DevError, EventHook, Served, TokenCheck, lock, off_the_async_threads,
    register, unregister, with_reflection,
};
use crate::head::{self as proto, ledger_server::LedgerServer};

/// The HEAD proto's descriptors, for reflection.
const HEAD_DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/head_descriptor.bin"));

/// The term a standalone e14b146 server reports.
const TERM: u64 = 1;

struct State {
    core: Core<Ledger>,
}

impl Served for State {
    type Engine = Ledger;

    fn core(&mut self) -> &mut Core<Ledger> {
        &mut self.core
    }

    /// Every operation is computed before it is answered: nothing waits.
    fn before_registry_change(&mut self) {}

    /// A registration is a transaction: the indices moved with it.
    fn after_registry_change(&mut self) {}
}

struct Shared {
    state: Arc<Mutex<State>>,
    control: Arc<Control>,
    on_event: Option<EventHook>,
    shuffle_functions: bool,
    /// Whether it answers as a follower; [`super::DevHandle::set_follower`]
    /// changes it while serving.
    follower: Arc<AtomicBool>,
}

#[derive(Clone)]
struct HeadService(Arc<Shared>);

/// The HEAD service on `ledger` (a fork) or on the ledger recovered from
/// the data directory, if set.
pub(super) fn build(config: &DevConfig, ledger: Option<Ledger>) -> Result<Built, DevError> {
    if config.pipeline_delay.is_some() {
        return Err(DevError::Unsupported(
            "a pipeline delay is served on the ee2b042 wire (ABI v1) only: the HEAD dev server computes, commits and snapshots each operation before it answers",
        ));
    }
    let (core, recovery) = match ledger {
        Some(ledger) => (Core::in_memory(ledger), super::Recovery::default()),
        None => Core::<Ledger>::open(config)?,
    };
    let control = Arc::new(Control { interrupter: core.ledger.interrupter(), activity: Activity::default() });
    let follower = Arc::new(AtomicBool::new(config.follower));
    let shared = Arc::new(Shared {
        state: Arc::new(Mutex::new(State { core })),
        control: control.clone(),
        on_event: config.on_event.clone(),
        shuffle_functions: config.shuffle_functions,
        follower: follower.clone(),
    });
    let service = LedgerServer::with_interceptor(HeadService(shared), TokenCheck(config.token.clone()));
    let routes = with_reflection(tonic::service::Routes::new(service), HEAD_DESCRIPTORS)?;
    Ok(Built { routes, control, recovery, drain: None, follower: Some(follower) })
}

impl HeadService {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.0.state)
    }

    /// A follower refuses every write in the server's words, before it
    /// looks at the request.
    fn ensure_writable(&self) -> Result<(), Status> {
        match self.0.follower.load(Ordering::Relaxed) {
            true => Err(Status::failed_precondition("node is not a leader; writes are not accepted")),
            false => Ok(()),
        }
    }

    /// Runs operations in order, one transaction each, off the async
    /// threads (a call runs for as long as its fuel lasts), counted in
    /// flight.
    async fn submit(&self, operations: Vec<Operation>) -> Result<Vec<Transaction>, Status> {
        let service = self.clone();
        off_the_async_threads(move || {
            let _counted = service.0.control.activity.enter()?;
            let mut state = service.lock();
            let on_event = service.0.on_event.as_ref();
            operations.into_iter().map(|op| state.core.compute(op, on_event)).collect()
        })
        .await
    }

    async fn submit_one(&self, operation: Operation) -> Result<Transaction, Status> {
        Ok(self.submit(vec![operation]).await?.remove(0))
    }

    /// The id of the last transaction: computed, committed and on the
    /// snapshot alike.
    fn last(&self) -> u64 {
        self.lock().core.ledger.next_tx_id() - 1
    }
}

/// A request's operation as the server reads it: parameters past the
/// eighth are dropped.
macro_rules! operation {
    ($op:expr, $oneof:path) => {{
        use $oneof as P;
        match $op {
            Some(P::Deposit(d)) => {
                Ok(Operation::Deposit { account: d.account, amount: d.amount, user_ref: d.user_ref })
            }
            Some(P::Withdrawal(w)) => {
                Ok(Operation::Withdrawal { account: w.account, amount: w.amount, user_ref: w.user_ref })
            }
            Some(P::Transfer(t)) => {
                Ok(Operation::Transfer { from: t.from, to: t.to, amount: t.amount, user_ref: t.user_ref })
            }
            Some(P::OpenAccount(o)) => Ok(Operation::OpenAccount { count: o.count, user_ref: o.user_ref }),
            Some(P::Function(f)) => {
                let mut params = f.params;
                params.truncate(ledger_core::abi::PARAM_COUNT);
                Ok(Operation::Function { name: f.name, params, user_ref: f.user_ref })
            }
            // A server's words, which client code may compare.
            None => Err(Status::invalid_argument("missing operation")),
        }
    }};
}

/// A transaction as the server's `CommitedTransaction`: the metadata, then
/// a duplicate's link, a registration's record, and the records in call
/// order. The dev server keeps no timestamp or WAL checksum: both are 0.
fn committed(tx: &Transaction) -> proto::CommitedTransaction {
    use proto::wal_entry::Entry as E;
    let tx_id = tx.tx_id;
    let mut items = Vec::with_capacity(tx.records.len() + 1);
    if let Some(to_tx_id) = tx.duplicate_of {
        items.push(E::Link(proto::WalTxLink { tx_id, to_tx_id, kind: proto::LinkKind::Duplicate as i32 }));
    }
    if let (Some(function), true) = (&tx.function, tx.status.is_success()) {
        items.push(E::FunctionRegistered(proto::WalFunctionRegistered {
            name: function.name.clone(),
            version: function.version,
            crc32c: function.crc32c,
        }));
    }
    let opened_by = if tx.tag == ledger_core::tags::OPEN_ACCOUNT { tx.user_ref } else { 0 };
    items.extend(tx.records.iter().map(|record| match record {
        Record::Entry(entry) => E::TxEntry(proto::WalTxEntry {
            tx_id,
            account_id: entry.account_id,
            amount: entry.amount,
            kind: match entry.kind {
                ledger_core::EntryKind::Credit => proto::EntryKind::Credit as i32,
                ledger_core::EntryKind::Debit => proto::EntryKind::Debit as i32,
            },
            computed_balance: entry.computed_balance,
        }),
        Record::AccountOpened { begin, count, flags } => E::AccountOpened(proto::WalAccountOpened {
            begin_account_id: *begin,
            count: *count,
            flags: *flags,
            user_ref: opened_by,
        }),
        Record::AccountLinked { parent, link_type, child } => E::AccountLinked(proto::WalAccountLinked {
            parent_id: *parent,
            type_id: u32::from(*link_type),
            child_id: *child,
        }),
        Record::FlagsUpdated { account_id, prev, new } => E::AccountFlagsUpdated(proto::WalAccountFlagsUpdated {
            account_id: *account_id,
            prev_flags: *prev,
            new_flags: *new,
        }),
        Record::Kv { key, value } => {
            let items: Vec<_> = key.iter().map(|part| logged_key_part(*part)).collect();
            let str = items.iter().map(|item| item.str.as_str()).collect::<Vec<_>>().join("/");
            E::Kv(proto::WalKvEntry { key: Some(proto::WalKvKeyPath { items, str }), value: Some(integer(*value)) })
        }
        Record::KvConstant { id, name } => {
            E::KvConstant(proto::WalKvConstant { key: *id, value: String::from_utf8_lossy(name).into_owned() })
        }
    }));
    let items: Vec<_> = items.into_iter().map(|entry| proto::WalEntry { entry: Some(entry) }).collect();
    let meta = proto::WalTxMetadata {
        tx_id,
        fail_reason: u32::from(tx.status.code()),
        sub_item_count: u32::try_from(items.len()).unwrap_or(u32::MAX),
        crc32c: 0,
        timestamp: 0,
        user_ref: tx.user_ref,
        tag: encode_tag(&tx.tag),
    };
    proto::CommitedTransaction { meta: Some(proto::WalEntry { entry: Some(E::Metadata(meta)) }), items }
}

/// Records a `GetLog` page holds when no limit is asked for, and at most.
const DEFAULT_LOG_LIMIT: u32 = 1000;
const MAX_LOG_RECORDS: u32 = 10_000;

/// A transaction the history keeps, for the reads that scan the log.
fn kept(ledger: &Ledger, tx_id: u64) -> Result<&Transaction, Status> {
    ledger.transaction(tx_id).ok_or_else(|| {
        Status::out_of_range(format!(
            "transaction {tx_id} is older than what `cargo roda dev` keeps (`--history`, docs/differences.md)"
        ))
    })
}

/// Whether a record names the account, as a server's account history
/// filters: an entry, an open covering it, a link naming it as parent or
/// child, a flag update.
fn names_account(record: &Record, account_id: u64) -> bool {
    match record {
        Record::Entry(entry) => entry.account_id == account_id,
        Record::AccountOpened { begin, count, .. } => {
            (*begin..begin.saturating_add(u64::from(*count))).contains(&account_id)
        }
        Record::AccountLinked { parent, child, .. } => *parent == account_id || *child == account_id,
        Record::FlagsUpdated { account_id: id, .. } => *id == account_id,
        Record::Kv { .. } | Record::KvConstant { .. } => false,
    }
}

/// One `GetLog` page over `transactions` (each its records, its metadata
/// last, from the one asked for), as a server reads its WAL: the tailer
/// fills a buffer of `limit` records with whole transactions only (one
/// larger than the buffer ends the page), each record is bounded by the
/// last metadata before it (so a range's end can leave the next
/// transaction's records without their metadata, as a server's does), and
/// a full page is cut back to its last whole transaction. Returns the
/// records and the next id to ask for: after the last metadata, 0 once
/// `to_tx_id` (0: none) is reached or nothing was read.
fn log_page(
    transactions: impl Iterator<Item = Result<Vec<proto::WalEntry>, Status>>,
    limit: usize,
    to_tx_id: u64,
) -> Result<(Vec<proto::WalEntry>, u64), Status> {
    use proto::wal_entry::Entry as E;
    let meta_id = |record: &proto::WalEntry| match &record.entry {
        Some(E::Metadata(meta)) => Some(meta.tx_id),
        _ => None,
    };
    let to = if to_tx_id == 0 { u64::MAX } else { to_tx_id };
    let mut transactions = transactions.peekable();
    let (mut page, mut whole, mut running) = (Vec::new(), 0, 0);
    'page: loop {
        // One tail: whole transactions, as many as a buffer of `limit` holds.
        let mut buffer: Vec<proto::WalEntry> = Vec::new();
        while let Some(next) = transactions.peek() {
            let fits = match next {
                Ok(records) => buffer.len() + records.len() <= limit,
                Err(_) => true,
            };
            if !fits {
                break;
            }
            buffer.extend(transactions.next().expect("peeked")?);
        }
        if buffer.is_empty() {
            break;
        }
        for record in buffer {
            if let Some(tx_id) = meta_id(&record) {
                running = tx_id;
            }
            if running != 0 && running > to {
                break 'page;
            }
            let closes = meta_id(&record).is_some();
            page.push(record);
            if closes {
                whole = page.len();
            }
            if page.len() >= limit {
                break 'page;
            }
        }
    }
    if page.len() >= limit && whole > 0 {
        page.truncate(whole);
    }
    let next =
        page.iter().rev().find_map(meta_id).filter(|&tx_id| tx_id > 0 && tx_id < to).map_or(0, |tx_id| tx_id + 1);
    Ok((page, next))
}

/// A tag as the server shows it: NULs trimmed, UTF-8 when valid, else 16
/// lower-case hex digits.
fn encode_tag(tag: &[u8; 8]) -> String {
    let end = tag.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    match std::str::from_utf8(&tag[..end]) {
        Ok(text) => text.to_owned(),
        Err(_) => tag.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn integer(value: i64) -> proto::WalKvValue {
    proto::WalKvValue { kind: Some(proto::wal_kv_value::Kind::Integer(value)), str: value.to_string() }
}

/// A key component as the log shows it: a constant by id, unresolved.
fn logged_key_part(part: u32) -> proto::WalKvValue {
    match part & CONSTANT_BIT {
        0 => integer(i64::from(part)),
        _ => {
            let name = format!("constant[{}]", part & !CONSTANT_BIT);
            proto::WalKvValue { kind: Some(proto::wal_kv_value::Kind::Constant(name.clone())), str: name }
        }
    }
}

/// A key component of a `GetKv` request.
enum KeyPart {
    Integer(i64),
    Constant(String),
}

/// The key a `GetKv` names, as the server parses it: `str` (`/`-joined;
/// a component that parses as an i64 is an integer, else a constant name)
/// or `items`, never both.
fn requested_key(key: Option<proto::WalKvKeyPath>) -> Result<Vec<KeyPart>, Status> {
    let key = key.ok_or_else(|| Status::invalid_argument("missing key"))?;
    match (key.str.is_empty(), key.items.is_empty()) {
        (false, false) => Err(Status::invalid_argument("provide either key.str or key.items, not both")),
        (false, true) => key
            .str
            .split('/')
            .map(|token| match token {
                "" => Err(Status::invalid_argument(format!(
                    "invalid key string: cannot parse key path component {token:?}"
                ))),
                _ => Ok(token.parse().map_or_else(|_| KeyPart::Constant(token.to_owned()), KeyPart::Integer)),
            })
            .collect(),
        (true, false) => Ok(key
            .items
            .into_iter()
            .filter_map(|item| match item.kind? {
                proto::wal_kv_value::Kind::Integer(i) => Some(KeyPart::Integer(i)),
                proto::wal_kv_value::Kind::Constant(name) => Some(KeyPart::Constant(name)),
            })
            .collect()),
        (true, true) => Err(Status::invalid_argument("key requires str or items")),
    }
}

/// The engine's key for a requested one, when one can hold a value: four
/// components (the server does not pad), integers a guest can write
/// (below 2^31), constants that are registered.
fn engine_key(ledger: &Ledger, parts: &[KeyPart]) -> Option<[u32; 4]> {
    let mut key = [0u32; 4];
    if parts.len() != key.len() {
        return None;
    }
    for (slot, part) in key.iter_mut().zip(parts) {
        *slot = match part {
            KeyPart::Integer(i) => u32::try_from(*i).ok().filter(|i| i & CONSTANT_BIT == 0)?,
            KeyPart::Constant(name) => ledger.constant(name.as_bytes())? | CONSTANT_BIT,
        };
    }
    Some(key)
}

/// The wait levels a request may name; the server panics on any other
/// (its handler unwraps), the dev server says so instead.
fn wait_level(level: i32) -> Result<proto::WaitLevel, Status> {
    proto::WaitLevel::try_from(level).map_err(|_| {
        Status::invalid_argument(format!(
            "wait_level {level} is not a WaitLevel (0-3); an e14b146 server fails such a request without an answer"
        ))
    })
}

#[tonic::async_trait]
impl proto::ledger_server::Ledger for HeadService {
    async fn submit_operation(
        &self,
        request: Request<proto::SubmitOperationRequest>,
    ) -> Result<Response<proto::SubmitOperationResponse>, Status> {
        self.ensure_writable()?;
        let op = operation!(request.into_inner().operation, proto::submit_operation_request::Operation)?;
        let transaction_id = self.submit_one(op).await?.tx_id;
        Ok(Response::new(proto::SubmitOperationResponse { transaction_id, term: TERM }))
    }

    async fn submit_and_wait(
        &self,
        request: Request<proto::SubmitAndWaitRequest>,
    ) -> Result<Response<proto::SubmitAndWaitResponse>, Status> {
        self.ensure_writable()?;
        let request = request.into_inner();
        let op = operation!(request.operation, proto::submit_and_wait_request::Operation)?;
        wait_level(request.wait_level)?;
        let transaction_id = self.submit_one(op).await?.tx_id;
        Ok(Response::new(proto::SubmitAndWaitResponse { transaction_id, term: TERM }))
    }

    async fn submit_and_wait_result(
        &self,
        request: Request<proto::SubmitAndWaitResultRequest>,
    ) -> Result<Response<proto::SubmitAndWaitResultResponse>, Status> {
        self.ensure_writable()?;
        let op = operation!(request.into_inner().operation, proto::submit_and_wait_result_request::Operation)?;
        let transaction = committed(&self.submit_one(op).await?);
        Ok(Response::new(proto::SubmitAndWaitResultResponse { transaction: Some(transaction), term: TERM }))
    }

    async fn submit_batch(
        &self,
        request: Request<proto::SubmitBatchRequest>,
    ) -> Result<Response<proto::SubmitBatchResponse>, Status> {
        self.ensure_writable()?;
        let ops = request
            .into_inner()
            .operations
            .into_iter()
            .map(|op| operation!(op.operation, proto::submit_operation_request::Operation))
            .collect::<Result<_, _>>()?;
        let results = self
            .submit(ops)
            .await?
            .iter()
            .map(|tx| proto::SubmitOperationResponse { transaction_id: tx.tx_id, term: TERM })
            .collect();
        Ok(Response::new(proto::SubmitBatchResponse { results, term: TERM }))
    }

    async fn submit_batch_and_wait(
        &self,
        request: Request<proto::SubmitBatchAndWaitRequest>,
    ) -> Result<Response<proto::SubmitBatchAndWaitResponse>, Status> {
        self.ensure_writable()?;
        let request = request.into_inner();
        wait_level(request.wait_level)?;
        let ops = request
            .operations
            .into_iter()
            .map(|op| operation!(op.operation, proto::submit_and_wait_request::Operation))
            .collect::<Result<_, _>>()?;
        let results = self
            .submit(ops)
            .await?
            .iter()
            .map(|tx| proto::SubmitAndWaitResponse { transaction_id: tx.tx_id, term: TERM })
            .collect();
        Ok(Response::new(proto::SubmitBatchAndWaitResponse { results, term: TERM }))
    }

    async fn submit_batch_and_wait_result(
        &self,
        request: Request<proto::SubmitBatchAndWaitResultRequest>,
    ) -> Result<Response<proto::SubmitBatchAndWaitResultResponse>, Status> {
        self.ensure_writable()?;
        let ops = request
            .into_inner()
            .operations
            .into_iter()
            .map(|op| operation!(op.operation, proto::submit_batch_and_wait_result_request::operation::Operation))
            .collect::<Result<_, _>>()?;
        let transactions = self.submit(ops).await?.iter().map(committed).collect();
        Ok(Response::new(proto::SubmitBatchAndWaitResultResponse { transactions, term: TERM }))
    }

    async fn get_balance(
        &self,
        request: Request<proto::GetBalanceRequest>,
    ) -> Result<Response<proto::GetBalanceResponse>, Status> {
        let request = request.into_inner();
        let state = self.lock();
        let ledger = &state.core.ledger;
        // Reads come from the snapshot, as a server's: committed records only.
        let snapshot = ledger.state();
        if snapshot.snapshot_status(request.account_id) == AccountStatus::Programmed {
            return Err(Status::failed_precondition("account is a PROGRAMMED bucket and not directly queryable"));
        }
        let linked = match request.include_linked {
            true => snapshot
                .linked_accounts(request.account_id)
                .map(|(type_id, child)| proto::LinkedBalance {
                    type_id: u32::from(type_id),
                    balance: snapshot.snapshot_balance(child),
                })
                .collect(),
            false => Vec::new(),
        };
        Ok(Response::new(proto::GetBalanceResponse {
            balance: snapshot.snapshot_balance(request.account_id),
            last_snapshot_tx_id: ledger.next_tx_id() - 1,
            linked,
            flags: snapshot.snapshot_flags(request.account_id),
        }))
    }

    async fn get_balances(
        &self,
        request: Request<proto::GetBalancesRequest>,
    ) -> Result<Response<proto::GetBalancesResponse>, Status> {
        let state = self.lock();
        let ledger = &state.core.ledger;
        let balances = request.into_inner().account_ids.iter().map(|id| ledger.state().snapshot_balance(*id)).collect();
        Ok(Response::new(proto::GetBalancesResponse { balances, last_snapshot_tx_id: ledger.next_tx_id() - 1 }))
    }

    async fn get_kv(&self, request: Request<proto::GetKvRequest>) -> Result<Response<proto::GetKvResponse>, Status> {
        let parts = requested_key(request.into_inner().key)?;
        let state = self.lock();
        let ledger = &state.core.ledger;
        let value = engine_key(ledger, &parts).and_then(|key| ledger.state().kv_entry(key));
        Ok(Response::new(proto::GetKvResponse { found: value.is_some(), value: value.map(integer) }))
    }

    async fn get_transaction_status(
        &self,
        request: Request<proto::GetStatusRequest>,
    ) -> Result<Response<proto::GetStatusResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(status(request.transaction_id, request.term, self.last())))
    }

    async fn get_transaction_statuses(
        &self,
        request: Request<proto::GetStatusesRequest>,
    ) -> Result<Response<proto::GetStatusesResponse>, Status> {
        let last = self.last();
        // The batch has no term: none is checked.
        let results = request.into_inner().transaction_ids.into_iter().map(|id| status(id, 0, last)).collect();
        Ok(Response::new(proto::GetStatusesResponse { results }))
    }

    async fn get_pipeline_index(
        &self,
        _request: Request<proto::GetPipelineIndexRequest>,
    ) -> Result<Response<proto::GetPipelineIndexResponse>, Status> {
        let last = self.last();
        Ok(Response::new(proto::GetPipelineIndexResponse {
            compute_index: last,
            commit_index: last,
            snapshot_index: last,
            term: TERM,
            cluster_commit_index: last,
            is_leader: !self.0.follower.load(Ordering::Relaxed),
        }))
    }

    async fn get_transaction(
        &self,
        request: Request<proto::GetTransactionRequest>,
    ) -> Result<Response<proto::GetTransactionResponse>, Status> {
        let tx_id = request.into_inner().tx_id;
        let state = self.lock();
        let transaction =
            state.core.ledger.transaction(tx_id).ok_or_else(|| Status::not_found("transaction not found"))?;
        Ok(Response::new(proto::GetTransactionResponse { transaction: Some(committed(transaction)) }))
    }

    async fn get_account_history(
        &self,
        request: Request<proto::GetAccountHistoryRequest>,
    ) -> Result<Response<proto::GetAccountHistoryResponse>, Status> {
        let request = request.into_inner();
        let state = self.lock();
        let ledger = &state.core.ledger;
        // A backward scan, newest first, from `from_tx_id` (0: the latest)
        // down to `to_tx_id`; the oldest transaction reached is where a
        // client pages on from.
        let last = ledger.next_tx_id() - 1;
        let from = match request.from_tx_id {
            0 => last,
            from => from.min(last),
        };
        let (mut transactions, mut scan_last_tx_id) = (Vec::new(), 0);
        for tx_id in (1..=from).rev() {
            scan_last_tx_id = tx_id;
            if tx_id < request.to_tx_id {
                break;
            }
            let transaction = kept(ledger, tx_id)?;
            if transaction.records.iter().any(|record| names_account(record, request.account_id)) {
                transactions.push(committed(transaction));
            }
        }
        Ok(Response::new(proto::GetAccountHistoryResponse { transactions, scan_last_tx_id }))
    }

    async fn wait_for_transaction(
        &self,
        request: Request<proto::WaitForTransactionRequest>,
    ) -> Result<Response<proto::WaitForTransactionResponse>, Status> {
        let request = request.into_inner();
        // The server's order: an unknown transaction, then the term, then
        // the wait level.
        let tx_id = request.transaction_id;
        if tx_id == 0 || tx_id > self.last() {
            let outcome = proto::WaitOutcome::NotFound as i32;
            return Ok(Response::new(proto::WaitForTransactionResponse { outcome, term: 0, term_start_tx_id: 0 }));
        }
        let (term, term_start_tx_id) = term_of(tx_id);
        let outcome = match request.term {
            0 => None,
            asked if asked == term => None,
            _ => Some(proto::WaitOutcome::TermMismatch),
        };
        if outcome.is_none() {
            wait_level(request.wait_level)?;
        }
        // Every transaction is at every stage once it exists.
        let outcome = outcome.unwrap_or(proto::WaitOutcome::Reached) as i32;
        Ok(Response::new(proto::WaitForTransactionResponse { outcome, term, term_start_tx_id }))
    }

    async fn register_function(
        &self,
        request: Request<proto::RegisterFunctionRequest>,
    ) -> Result<Response<proto::RegisterFunctionResponse>, Status> {
        self.ensure_writable()?;
        let request = request.into_inner();
        let if_registered = if request.override_existing { IfRegistered::Override } else { IfRegistered::Refuse };
        let (state, control) = (self.0.state.clone(), self.0.control.clone());
        let registered = register(state, control, request.name, request.binary, if_registered).await?;
        Ok(Response::new(proto::RegisterFunctionResponse { version: registered.version, crc32c: registered.crc32c }))
    }

    async fn unregister_function(
        &self,
        request: Request<proto::UnregisterFunctionRequest>,
    ) -> Result<Response<proto::UnregisterFunctionResponse>, Status> {
        self.ensure_writable()?;
        let (state, control) = (self.0.state.clone(), self.0.control.clone());
        let version = unregister(state, control, request.into_inner().name).await?;
        Ok(Response::new(proto::UnregisterFunctionResponse { version }))
    }

    async fn list_functions(
        &self,
        _request: Request<proto::ListFunctionsRequest>,
    ) -> Result<Response<proto::ListFunctionsResponse>, Status> {
        let functions = super::listed(self.lock().core.ledger.list_functions(), self.0.shuffle_functions)
            .map(|f| proto::FunctionInfo { name: f.name, version: f.version, crc32c: f.crc32c })
            .collect();
        Ok(Response::new(proto::ListFunctionsResponse { functions }))
    }

    async fn get_log(&self, request: Request<proto::GetLogRequest>) -> Result<Response<proto::GetLogResponse>, Status> {
        let request = request.into_inner();
        if request.to_tx_id != 0 && request.to_tx_id < request.from_tx_id {
            return Err(Status::invalid_argument("to_tx_id must be 0 (unbounded) or >= from_tx_id"));
        }
        let limit = match request.limit {
            0 => DEFAULT_LOG_LIMIT,
            limit => limit.min(MAX_LOG_RECORDS),
        };
        let state = self.lock();
        let ledger = &state.core.ledger;
        let last = ledger.next_tx_id() - 1;
        let transactions = (request.from_tx_id.max(1)..=last).map(|tx_id| {
            let transaction = committed(kept(ledger, tx_id)?);
            Ok(transaction.items.into_iter().chain(transaction.meta).collect())
        });
        let (records, next_tx_id) = log_page(transactions, limit as usize, request.to_tx_id)?;
        Ok(Response::new(proto::GetLogResponse { records, next_tx_id, last_commit_tx_id: last }))
    }

    async fn get_terms(
        &self,
        _request: Request<proto::GetTermsRequest>,
    ) -> Result<Response<proto::GetTermsResponse>, Status> {
        let term =
            proto::TermInfo { term: TERM, start_tx_id: 1, voted_for: 0, has_term_record: true, has_vote_record: false };
        Ok(Response::new(proto::GetTermsResponse { terms: vec![term], current_term: TERM, next_term: 0 }))
    }
}

/// Where a transaction is: on the snapshot once it exists (a HEAD server
/// never reports ERROR here: the status is in the transaction). A request
/// naming another term than the one covering the transaction is
/// TX_NOT_FOUND with `term_mismatch`, the covering term and its start.
fn status(tx_id: u64, expected_term: u64, last: u64) -> proto::GetStatusResponse {
    let (term, term_start_tx_id) = term_of(tx_id);
    if expected_term != 0 && term != 0 && expected_term != term {
        let status = proto::TransactionStatus::TxNotFound as i32;
        return proto::GetStatusResponse { status, term_mismatch: true, term, term_start_tx_id };
    }
    let status = match tx_id {
        0 => proto::TransactionStatus::TxNotFound,
        id if id > last => proto::TransactionStatus::TxNotFound,
        _ => proto::TransactionStatus::OnSnapshot,
    };
    proto::GetStatusResponse { status: status as i32, term_mismatch: false, term, term_start_tx_id }
}

/// The term covering a transaction and the term's first id: a standalone
/// server's one term, from transaction 1; none for id 0.
fn term_of(tx_id: u64) -> (u64, u64) {
    match tx_id {
        0 => (0, 0),
        _ => (TERM, 1),
    }
}
