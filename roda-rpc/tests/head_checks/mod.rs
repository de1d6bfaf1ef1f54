//! Checks of the HEAD wire that `cargo roda dev --abi v2` and a real
//! e14b146 `roda-server` must pass alike: `head_fidelity.rs` runs them on
//! the dev server, `head_upstream.rs` (ignored without a server binary) on a
//! real one. Each starts from a new, empty ledger.
#![allow(dead_code, unused_imports, unused_macros)]

/// Hands `$runner!` every check that runs on a new server, and
/// `$restart_runner!` every check around a restart (`test: before, after;`):
/// the one list both servers' test files run, so neither misses one.
macro_rules! every_check {
    ($runner:ident, $restart_runner:ident) => {
        $runner!(
            reads_come_from_the_snapshot,
            a_replay_reproduces_a_call,
            a_fork_reproduces_the_ledger,
            the_log_pages_as_a_servers_wal,
            a_store_holds_ten_thousand_instances,
            instances_follow_the_binary,
            constant_verbs_check_the_phase_first,
            the_record_limit_is_checked_over_a_host_reason,
            terms_in_statuses_and_waits,
            more_messages,
            reflection_lists_the_service,
            scenarios_run_on_the_server_as_in_the_simulator,
        );
        $restart_runner! {
            flags_beyond_the_account_array: flags_beyond_the_account_array, flags_beyond_the_account_array_after_a_restart;
            start_runs_inside_the_registration: start_runs_inside_the_registration, start_runs_inside_the_registration_after_a_restart;
            dedup_forgets_duplicates_across_a_restart: dedup_before_a_restart, dedup_after_a_restart;
        }
    };
}
pub(crate) use every_check;

use ledger_core::Status;
use ledger_core::v2::Operation;
use roda_rpc::Wire;
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::head::{self, ledger_client::LedgerClient};
use roda_rpc::results::{LinkedBalance, WalRecord};
use tonic::Code;

/// A v2 counter: `register()` defines the constant `counter`; `execute`
/// adds 1 under `counter/p0/0/0`, sets flag lane 2 of p0 to 7, links p0's
/// type-1 account, and moves 1 from the system account to p0. The CLI's
/// tests deploy the same file.
pub const COUNTER: &str = include_str!("counter.wat");

/// A `register()` that calls a data verb.
pub const CREDITS_IN_REGISTER: &str = r#"
  (module
    (import "ledger" "credit" (func $credit (param i64 i64)))
    (func (export "register") (call $credit (i64.const 0) (i64.const 1)))
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))
"#;

pub fn endpoint(url: &str) -> Endpoint {
    Endpoint::new(url)
}

pub async fn raw(url: &str) -> LedgerClient<tonic::transport::Channel> {
    LedgerClient::connect(url.to_owned()).await.unwrap()
}

fn call(name: &str, params: Vec<i64>) -> Operation {
    Operation::Function { name: name.into(), params, user_ref: 0 }
}

/// The client finds the HEAD wire; the node leads.
pub async fn the_wire_is_found(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    assert_eq!(client.wire(), Wire::Head);
    let index = client.pipeline_index().await.unwrap();
    assert!(index.is_leader, "{index:?}");
    assert_eq!(index.term, 1, "a standalone server's term");
}

/// Accounts, the counter's records in call order, KV without padding,
/// flags and linked balances, a programmed account refused, and a failed
/// call that leaves nothing.
pub async fn accounts_kv_flags_and_links(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let wasm = wat::parse_str(COUNTER).unwrap();
    assert_eq!(client.register("counter", &wasm, false).await.unwrap().version, 1);

    let deposit = Operation::Deposit { account: 1, amount: 5, user_ref: 0 };
    assert_eq!(client.submit(&deposit, WaitLevel::Snapshot).await.unwrap().status, Status::ACCOUNT_NOT_FOUND);
    let opened = client.submit(&Operation::OpenAccount { count: 3, user_ref: 0 }, WaitLevel::Snapshot).await.unwrap();
    let opened = opened.transaction.unwrap();
    assert_eq!(opened.tag, "OPENACC");
    assert_eq!(
        opened.records,
        vec![WalRecord::Ledger(ledger_core::v2::Record::AccountOpened { begin: 1, count: 3, flags: 1 })]
    );
    let to_system = Operation::Deposit { account: 0, amount: 5, user_ref: 0 };
    assert_eq!(client.submit(&to_system, WaitLevel::Snapshot).await.unwrap().status, Status::ACCOUNT_NOT_FOUND);

    let first = client.submit(&call("counter", vec![1]), WaitLevel::Snapshot).await.unwrap();
    assert_eq!(first.status, Status::NONE);
    let records = first.transaction.unwrap().records;
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| match r {
            WalRecord::Ledger(ledger_core::v2::Record::Kv { .. }) => "kv",
            WalRecord::Ledger(ledger_core::v2::Record::FlagsUpdated { .. }) => "flags",
            WalRecord::Ledger(ledger_core::v2::Record::AccountOpened { .. }) => "opened",
            WalRecord::Ledger(ledger_core::v2::Record::AccountLinked { .. }) => "linked",
            WalRecord::Ledger(ledger_core::v2::Record::Entry(_)) => "entry",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["kv", "flags", "opened", "linked", "entry", "entry"], "{records:?}");
    assert_eq!(
        records[1],
        WalRecord::Ledger(ledger_core::v2::Record::FlagsUpdated { account_id: 1, prev: 1, new: 458_753 })
    );
    assert_eq!(records[2], WalRecord::Ledger(ledger_core::v2::Record::AccountOpened { begin: 4, count: 1, flags: 2 }));
    assert_eq!(
        records[3],
        WalRecord::Ledger(ledger_core::v2::Record::AccountLinked { parent: 1, link_type: 1, child: 4 })
    );
    let WalRecord::Ledger(ledger_core::v2::Record::Kv { key, value }) = &records[0] else { unreachable!() };
    assert_eq!(key[0] & ledger_core::v2::CONSTANT_BIT, ledger_core::v2::CONSTANT_BIT, "a constant, by id: {key:?}");
    assert_eq!(key[1..], [1, 0, 0]);
    assert_eq!(*value, 1);

    let second = client.submit(&call("counter", vec![1]), WaitLevel::Snapshot).await.unwrap();
    assert_eq!(second.transaction.unwrap().records.len(), 3, "kv and the two entries: the link and flag exist");
    assert_eq!(client.kv_get("counter/1/0/0").await.unwrap(), Some(2));
    assert_eq!(client.kv_get("counter/1").await.unwrap(), None, "the server does not pad");
    assert_eq!(client.kv_get("counter/2/0/0").await.unwrap(), None);
    let err = client.kv_get("counter//1").await.unwrap_err();
    assert_eq!(err.code(), Some(Code::InvalidArgument), "{err}");

    let account = client.balance(1, true).await.unwrap();
    assert_eq!(account.balance, 2);
    assert_eq!(account.flags, Some(458_753));
    assert_eq!(account.linked, vec![LinkedBalance { link_type: 1, balance: 0 }]);
    let err = client.balance(4, false).await.unwrap_err();
    assert_eq!(err.code(), Some(Code::FailedPrecondition), "{err}");
    assert!(err.to_string().contains("account is a PROGRAMMED bucket and not directly queryable"), "{err}");

    let unopened = client.submit(&call("counter", vec![50]), WaitLevel::Snapshot).await.unwrap();
    assert_eq!(unopened.status, Status::ACCOUNT_NOT_FOUND);
    assert_eq!(unopened.transaction.unwrap().records, vec![], "a failed call writes nothing");
    assert_eq!(client.kv_get("counter/50/0/0").await.unwrap(), None);
    assert_eq!(client.balance(50, false).await.unwrap().flags, Some(0));

    let tx = client.transaction(first.tx_id).await.unwrap();
    assert_eq!(tx.records, records);
    assert_eq!(tx.status, Status::NONE);
}

/// Registration is a transaction: a `register()` that calls a data verb
/// fails it with 8; unregister answers the next version. Returns the
/// version the name gets when registered again (a server restarts at 1;
/// the dev server does not: docs/differences.md, row 8).
pub async fn registration_is_a_transaction(url: &str) -> u32 {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let err = client.register("bad", &wat::parse_str(CREDITS_IN_REGISTER).unwrap(), false).await.unwrap_err();
    assert_eq!(err.code(), Some(Code::Internal), "{err}");
    assert!(err.to_string().contains("function registration failed: FailReason(8)"), "{err}");
    assert!(client.list().await.unwrap().is_empty());

    let wasm = wat::parse_str(COUNTER).unwrap();
    client.register("counter", &wasm, false).await.unwrap();
    assert_eq!(client.register("counter", &wasm, true).await.unwrap().version, 2);
    assert_eq!(client.unregister("counter").await.unwrap(), 3);
    let again = client.register("counter", &wasm, false).await.unwrap().version;
    let unknown = client.submit(&call("never_registered", vec![]), WaitLevel::Snapshot).await.unwrap();
    assert_eq!(unknown.status, Status::INVALID_OPERATION);
    again
}

/// The server's words and statuses where a client may compare them.
pub async fn messages_and_statuses(url: &str) {
    let mut raw = raw(url).await;
    let missing = raw.get_transaction(head::GetTransactionRequest { tx_id: 999 }).await.unwrap_err();
    assert_eq!((missing.code(), missing.message()), (Code::NotFound, "transaction not found"));
    let empty = head::SubmitAndWaitResultRequest { operation: None, cluster_wait: false };
    let empty = raw.submit_and_wait_result(empty).await.unwrap_err();
    assert_eq!((empty.code(), empty.message()), (Code::InvalidArgument, "missing operation"));
    let no_key = raw.get_kv(head::GetKvRequest { key: None }).await.unwrap_err();
    assert_eq!((no_key.code(), no_key.message()), (Code::InvalidArgument, "missing key"));
    let neither = head::GetKvRequest { key: Some(head::WalKvKeyPath::default()) };
    let neither = raw.get_kv(neither).await.unwrap_err();
    assert_eq!((neither.code(), neither.message()), (Code::InvalidArgument, "key requires str or items"));

    let open = head::SubmitAndWaitResultRequest {
        operation: Some(head::submit_and_wait_result_request::Operation::OpenAccount(head::OpenAccount {
            count: 0,
            user_ref: 0,
        })),
        cluster_wait: false,
    };
    let opened = raw.submit_and_wait_result(open).await.unwrap().into_inner();
    let meta = opened.transaction.unwrap().meta.unwrap();
    let Some(head::wal_entry::Entry::Metadata(meta)) = meta.entry else { panic!("no metadata") };
    let status = raw
        .get_transaction_status(head::GetStatusRequest { transaction_id: meta.tx_id, term: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((status.status(), status.term), (head::TransactionStatus::OnSnapshot, 1));
}

// ---- Second round (issue: v2 fidelity): each observed on an e14b146 server. ----

/// `set_flag(p0, p1, p2)`.
const FLAGGER: &str = r#"
  (module
    (import "ledger" "set_flag" (func $set_flag (param i64 i32 i32)))
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
      (call $set_flag (local.get 0) (i32.wrap_i64 (local.get 1)) (i32.wrap_i64 (local.get 2)))
      (i32.const 0)))
"#;

/// Links p0's type-1 account, writes lane 1 of it, and returns p1.
const FLAG_ON_A_NEW_CHILD: &str = r#"
  (module
    (import "ledger" "linked_account" (func $linked_account (param i64 i32) (result i64)))
    (import "ledger" "set_flag" (func $set_flag (param i64 i32 i32)))
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
      (call $set_flag (call $linked_account (local.get 0) (i32.const 1)) (i32.const 1) (i32.const 7))
      (i32.wrap_i64 (local.get 1))))
"#;

/// A `start` function that debits account 2 by `debit` and credits
/// account 1 by `credit`.
fn starting(debit: i64, credit: i64) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
             (import "ledger" "credit" (func $credit (param i64 i64)))
             (import "ledger" "debit" (func $debit (param i64 i64)))
             (func $start (call $debit (i64.const 2) (i64.const {debit})) (call $credit (i64.const 1) (i64.const {credit})))
             (start $start)
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#
    ))
    .unwrap()
}

/// Counts its calls in a global and returns the count; `register()` runs
/// `register_body`.
fn counting(register_body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
             (global $calls (mut i32) (i32.const 0))
             (func (export "register") {register_body})
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
               (global.get $calls)))"#
    ))
    .unwrap()
}

/// Returns p0.
const RETURNS_P0: &str = r#"
  (module
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.wrap_i64 (local.get 0))))
"#;

async fn submit(client: &Client, op: Operation) -> roda_rpc::results::CallResult {
    client.submit(&op, WaitLevel::Snapshot).await.unwrap()
}

async fn open(client: &Client, count: u32) -> u64 {
    let opened = submit(client, Operation::OpenAccount { count, user_ref: 0 }).await;
    match opened.transaction.unwrap().records[..] {
        [WalRecord::Ledger(ledger_core::v2::Record::AccountOpened { begin, .. })] => begin,
        ref other => panic!("{other:?}"),
    }
}

async fn listed(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client.list().await.unwrap().into_iter().map(|f| f.name).collect();
    names.sort();
    names
}

/// The account array holds the issued ids: with accounts 1-2 open, flags
/// on 500 and 40 commit with no record and a deposit to 500 fails; after
/// 1,103 accounts, id 1150 (inside the array, never issued) takes a flag.
pub async fn flags_beyond_the_account_array(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    client.register("flag", &wat::parse_str(FLAGGER).unwrap(), false).await.unwrap();
    assert_eq!(open(&client, 2).await, 1);
    for (account, lane) in [(500, 0), (40, 3)] {
        let set = submit(&client, call("flag", vec![account, lane, 1])).await;
        assert_eq!(set.status, Status::NONE);
        assert_eq!(set.transaction.unwrap().records, vec![], "no record for {account}");
        assert_eq!(client.balance(account as u64, false).await.unwrap().flags, Some(0));
    }
    let deposit = Operation::Deposit { account: 500, amount: 1, user_ref: 0 };
    assert_eq!(submit(&client, deposit).await.status, Status::ACCOUNT_NOT_FOUND);
    assert_eq!(open(&client, 1101).await, 3);
    let set = submit(&client, call("flag", vec![1150, 3, 1])).await;
    let expected = WalRecord::Ledger(ledger_core::v2::Record::FlagsUpdated { account_id: 1150, prev: 0, new: 1 << 24 });
    assert_eq!(set.transaction.unwrap().records, vec![expected]);
}

/// After a restart the flag on 1150 is there, and the ids it names are
/// issued: the next account opened is 1151.
pub async fn flags_beyond_the_account_array_after_a_restart(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    assert_eq!(client.balance(1150, false).await.unwrap().flags, Some(1 << 24));
    assert_eq!(open(&client, 1).await, 1151);
}

/// Reads come from the snapshot, which applies committed records only: a
/// flag written on an account linked by a failed call leaves the ledger's
/// cell PROGRAMMED (upstream's rollback), yet GetBalance answers as if
/// nothing happened.
pub async fn reads_come_from_the_snapshot(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    client.register("child", &wat::parse_str(FLAG_ON_A_NEW_CHILD).unwrap(), false).await.unwrap();
    assert_eq!(open(&client, 1).await, 1);
    assert_eq!(submit(&client, call("child", vec![1, 1])).await.status, Status::INSUFFICIENT_FUNDS);
    let child = client.balance(2, false).await.unwrap();
    assert_eq!((child.balance, child.flags), (0, Some(0)), "the snapshot never saw the failed call");
}

/// A `start` function runs inside the registration's transaction: balanced
/// moves commit with it; unbalanced ones fail it (INTERNAL, FailReason(3)),
/// yet the function is listed and callable until the next restart.
pub async fn start_runs_inside_the_registration(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    assert_eq!(open(&client, 2).await, 1);
    submit(&client, Operation::Deposit { account: 1, amount: 100, user_ref: 0 }).await;
    client.register("balanced", &starting(5, 5), false).await.unwrap();
    assert_eq!(client.balances(&[1, 2]).await.unwrap(), [95, 5]);
    let err = client.register("unbalanced", &starting(5, 4), false).await.unwrap_err();
    assert_eq!(err.code(), Some(Code::Internal), "{err}");
    assert!(err.to_string().contains("function registration failed: FailReason(3)"), "{err}");
    assert_eq!(client.balances(&[1, 2]).await.unwrap(), [95, 5]);
    assert_eq!(listed(&client).await, ["balanced", "unbalanced"]);
    assert_eq!(submit(&client, call("unbalanced", vec![])).await.status, Status::NONE);
}

/// ... and after the restart it is gone.
pub async fn start_runs_inside_the_registration_after_a_restart(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    assert_eq!(listed(&client).await, ["balanced"]);
    assert_eq!(client.balances(&[1, 2]).await.unwrap(), [95, 5]);
}

/// A call counter in a global: 1, 2; an override whose `register()` traps
/// puts the previous binary back on a fresh instance (1); an override with
/// the same bytes keeps the instance (2, version 2).
pub async fn instances_follow_the_binary(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let counter = counting("");
    client.register("count", &counter, false).await.unwrap();
    let count = || async { submit(&client, call("count", vec![])).await.status.code() };
    assert_eq!((count().await, count().await), (1, 2));
    let err = client.register("count", &counting("unreachable"), true).await.unwrap_err();
    assert!(err.to_string().contains("function registration failed: FailReason(5)"), "{err}");
    assert_eq!(count().await, 1, "the previous binary, on a fresh instance");
    assert_eq!(client.register("count", &counter, true).await.unwrap().version, 2);
    assert_eq!(count().await, 2, "the same bytes keep their instance");
}

/// `register()` calling `kv_get_constant` with no exported memory is
/// FailReason(8): the phase is checked before the name is read.
pub async fn constant_verbs_check_the_phase_first(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let wasm = wat::parse_str(
        r#"(module
             (import "ledger" "kv_get_constant" (func $constant (param i32) (result i32)))
             (func (export "register") (drop (call $constant (i32.const 0))))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    let err = client.register("f", &wasm, false).await.unwrap_err();
    assert!(err.to_string().contains("function registration failed: FailReason(8)"), "{err}");
}

/// A host reason 2, then more than 65,535 records, then a return of 0: 4.
pub async fn the_record_limit_is_checked_over_a_host_reason(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let wasm = wat::parse_str(
        r#"(module
             (import "ledger" "credit" (func $credit (param i64 i64)))
             (import "ledger" "kv_set" (func $kv_set (param i32 i32 i32 i32 i64)))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (local $i i32)
               (call $credit (i64.const 99) (i64.const 1))
               (loop $next
                 (call $kv_set (local.get $i) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 1))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $next (i32.le_u (local.get $i) (i32.const 65535))))
               (i32.const 0)))"#,
    )
    .unwrap();
    client.register("many", &wasm, false).await.unwrap();
    assert_eq!(submit(&client, call("many", vec![])).await.status, Status::ENTRY_LIMIT_EXCEEDED);
}

/// A function returning 7 with user_ref 777; a committed user_ref 778.
pub async fn dedup_before_a_restart(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    client.register("ret", &wat::parse_str(RETURNS_P0).unwrap(), false).await.unwrap();
    let ret = |value: i64, user_ref: u64| Operation::Function { name: "ret".into(), params: vec![value], user_ref };
    assert_eq!(submit(&client, ret(7, 777)).await.status, Status::DUPLICATE);
    assert_eq!(submit(&client, ret(0, 778)).await.status, Status::NONE);
    assert_eq!(submit(&client, ret(0, 777)).await.status, Status::DUPLICATE, "remembered while it runs");
}

/// After the restart user_ref 777 is new again (recovery skips DUPLICATE
/// transactions); 778 is still a duplicate.
pub async fn dedup_after_a_restart(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let ret = |user_ref: u64| Operation::Function { name: "ret".into(), params: vec![0], user_ref };
    assert_eq!(submit(&client, ret(777)).await.status, Status::NONE);
    assert_eq!(submit(&client, ret(778)).await.status, Status::DUPLICATE);
}

/// Terms: a status or a wait naming another term is a mismatch with the
/// covering term; an unknown transaction is NotFound before its wait level
/// is read; Reached carries the term.
pub async fn terms_in_statuses_and_waits(url: &str) {
    let mut raw = raw(url).await;
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let tx_id = submit(&client, Operation::OpenAccount { count: 1, user_ref: 0 }).await.tx_id;
    let status = |transaction_id: u64, term: u64| head::GetStatusRequest { transaction_id, term };
    let same = raw.get_transaction_status(status(tx_id, 1)).await.unwrap().into_inner();
    assert_eq!((same.status(), same.term_mismatch, same.term), (head::TransactionStatus::OnSnapshot, false, 1));
    let other = raw.get_transaction_status(status(tx_id, 7)).await.unwrap().into_inner();
    assert_eq!((other.status(), other.term_mismatch, other.term), (head::TransactionStatus::TxNotFound, true, 1));
    assert_eq!(other.term_start_tx_id, same.term_start_tx_id);

    let wait = |transaction_id: u64, term: u64, wait_level: i32| head::WaitForTransactionRequest {
        transaction_id,
        term,
        wait_level,
    };
    let reached = raw.wait_for_transaction(wait(tx_id, 0, 1)).await.unwrap().into_inner();
    assert_eq!((reached.outcome(), reached.term), (head::WaitOutcome::Reached, 1));
    let mismatch = raw.wait_for_transaction(wait(tx_id, 7, 1)).await.unwrap().into_inner();
    assert_eq!((mismatch.outcome(), mismatch.term), (head::WaitOutcome::TermMismatch, 1));
    let unknown = raw.wait_for_transaction(wait(tx_id + 100, 0, 99)).await.unwrap().into_inner();
    assert_eq!((unknown.outcome(), unknown.term), (head::WaitOutcome::NotFound, 0), "before the wait level");
}

/// The server's words: a body that does not validate, an empty key
/// component.
pub async fn more_messages(url: &str) {
    let mut raw = raw(url).await;
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let invalid_body = wat::parse_str(
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i64.const 0)))"#,
    )
    .unwrap();
    let err = client.register("f", &invalid_body, false).await.unwrap_err();
    assert_eq!(err.code(), Some(Code::InvalidArgument), "{err}");
    assert!(err.to_string().contains("WebAssembly translation error"), "{err}");
    let key = head::WalKvKeyPath { items: Vec::new(), str: "a//b".into() };
    let empty = raw.get_kv(head::GetKvRequest { key: Some(key) }).await.unwrap_err();
    assert_eq!(
        (empty.code(), empty.message()),
        (Code::InvalidArgument, r#"invalid key string: cannot parse key path component """#)
    );
}

/// gRPC reflection lists the service, as `grpcurl list` asks.
pub async fn reflection_lists_the_service(url: &str) {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let channel = tonic::transport::Channel::from_shared(url.to_owned()).unwrap().connect().await.unwrap();
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let response = responses.message().await.unwrap().expect("one answer");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else { panic!("{response:?}") };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.iter().any(|name| name == "roda.ledger.v1.Ledger"), "{names:?}");
}

/// One store holds every instance a server creates until it restarts: after
/// a registration and 9,999 overrides (10,000 instances), the next
/// override registers, and its calls fail with 5.
pub async fn a_store_holds_ten_thousand_instances(url: &str) {
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let returning = |value: i32| {
        wat::parse_str(format!(
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const {value})))"#
        ))
        .unwrap()
    };
    let (zero, one) = (returning(0), returning(1));
    client.register("f", &zero, false).await.unwrap();
    for i in 1..10_000 {
        client.register("f", if i % 2 == 1 { &one } else { &zero }, true).await.unwrap();
    }
    assert_eq!(submit(&client, call("f", vec![])).await.status.code(), 1, "the 10,000th instance runs");
    assert_eq!(client.register("f", &zero, true).await.unwrap().version, 10_001, "the next one registers");
    assert_eq!(submit(&client, call("f", vec![])).await.status, Status::INVALID_OPERATION);
}

/// A `GetLog` record as `kind@tx`: the kind of record and the transaction
/// it belongs to (a metadata's own id, a follower's from its fields where
/// they carry one, else `-`).
fn log_shape(records: &[head::WalEntry]) -> Vec<String> {
    use head::wal_entry::Entry as E;
    records
        .iter()
        .map(|record| match record.entry.as_ref().expect("an entry") {
            E::Metadata(meta) => format!("meta@{}:{}", meta.tx_id, meta.fail_reason),
            E::TxEntry(entry) => format!("entry@{}", entry.tx_id),
            E::Link(link) => format!("link@{}->{}", link.tx_id, link.to_tx_id),
            E::Term(_) => "term".into(),
            E::FunctionRegistered(f) => format!("function {} v{}", f.name, f.version),
            E::AccountOpened(opened) => format!("opened {}x{}", opened.begin_account_id, opened.count),
            E::AccountLinked(linked) => format!("linked {}->{}", linked.parent_id, linked.child_id),
            E::AccountFlagsUpdated(flags) => format!("flags {}", flags.account_id),
            E::Kv(kv) => format!("kv {}", kv.key.as_ref().map_or("", |key| key.str.as_str())),
            E::KvConstant(constant) => format!("constant {}", constant.value),
        })
        .collect()
}

/// `GetLog` pages the log as a server reads its WAL: each transaction's
/// records then its metadata; a range's end can leave the next
/// transaction's records without their metadata; a full page is cut back
/// to its last whole transaction; a transaction larger than the limit ends
/// the page. `GetAccountHistory` scans backward, newest first.
pub async fn the_log_pages_as_a_servers_wal(url: &str) {
    let mut raw = raw(url).await;
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let log = |from_tx_id: u64, to_tx_id: u64, limit: u32| head::GetLogRequest { from_tx_id, to_tx_id, limit };
    let empty = raw.get_log(log(0, 0, 0)).await.unwrap().into_inner();
    assert_eq!((empty.records.len(), empty.next_tx_id, empty.last_commit_tx_id), (0, 0, 0));

    submit(&client, Operation::OpenAccount { count: 2, user_ref: 5 }).await;
    submit(&client, Operation::Deposit { account: 1, amount: 10, user_ref: 0 }).await;
    submit(&client, Operation::Deposit { account: 9, amount: 10, user_ref: 0 }).await;
    submit(&client, Operation::OpenAccount { count: 1, user_ref: 5 }).await;
    client.register("counter", &wat::parse_str(COUNTER).unwrap(), false).await.unwrap();
    submit(&client, call("counter", vec![1])).await;

    let all = raw.get_log(log(0, 0, 0)).await.unwrap().into_inner();
    assert_eq!(
        log_shape(&all.records),
        [
            "opened 1x2",
            "meta@1:0",
            "entry@2",
            "entry@2",
            "meta@2:0",
            "meta@3:2",
            "link@4->1",
            "meta@4:7",
            "function counter v1",
            "constant counter",
            "meta@5:0",
            "kv constant[1]/1/0/0",
            "flags 1",
            "opened 3x1",
            "linked 1->3",
            "entry@6",
            "entry@6",
            "meta@6:0",
        ]
    );
    assert_eq!((all.next_tx_id, all.last_commit_tx_id), (7, 6));
    let range = raw.get_log(log(3, 4, 0)).await.unwrap().into_inner();
    assert_eq!(
        log_shape(&range.records),
        ["meta@3:2", "link@4->1", "meta@4:7", "function counter v1", "constant counter"],
        "the next transaction's records, without their metadata"
    );
    assert_eq!(range.next_tx_id, 0);
    let page = raw.get_log(log(0, 0, 3)).await.unwrap().into_inner();
    assert_eq!((log_shape(&page.records), page.next_tx_id), (vec!["opened 1x2".to_owned(), "meta@1:0".to_owned()], 2));
    let too_small = raw.get_log(log(6, 0, 1)).await.unwrap().into_inner();
    assert_eq!((too_small.records.len(), too_small.next_tx_id), (0, 0), "transaction 6 does not fit one record");
    let beyond = raw.get_log(log(99, 0, 0)).await.unwrap().into_inner();
    assert_eq!((beyond.records.len(), beyond.next_tx_id), (0, 0));
    let bad = raw.get_log(log(5, 2, 0)).await.unwrap_err();
    assert_eq!((bad.code(), bad.message()), (Code::InvalidArgument, "to_tx_id must be 0 (unbounded) or >= from_tx_id"));

    let history = |account_id: u64, from_tx_id: u64, to_tx_id: u64| head::GetAccountHistoryRequest {
        account_id,
        from_tx_id,
        to_tx_id,
    };
    let ids = |response: head::GetAccountHistoryResponse| {
        let ids: Vec<u64> = response
            .transactions
            .iter()
            .map(|tx| match tx.meta.as_ref().and_then(|meta| meta.entry.as_ref()) {
                Some(head::wal_entry::Entry::Metadata(meta)) => meta.tx_id,
                other => panic!("{other:?}"),
            })
            .collect();
        (ids, response.scan_last_tx_id)
    };
    assert_eq!(ids(raw.get_account_history(history(1, 0, 0)).await.unwrap().into_inner()), (vec![6, 2, 1], 1));
    assert_eq!(ids(raw.get_account_history(history(1, 5, 2)).await.unwrap().into_inner()), (vec![2], 1));
    assert_eq!(ids(raw.get_account_history(history(3, 0, 0)).await.unwrap().into_inner()), (vec![6], 1), "a child");
    assert_eq!(ids(raw.get_account_history(history(99, 0, 0)).await.unwrap().into_inner()), (vec![], 1));
}

/// A fork (`roda_rpc::fork`) holds the live ledger's state: every balance,
/// flag, link, KV value and function of the source, at its last transaction
/// or an earlier one; the binaries given run, the others fail with 5.
pub async fn a_fork_reproduces_the_ledger(url: &str) {
    use ledger_core::Engine;
    use roda_rpc::fork::{ForkError, fork};
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let counter = wat::parse_str(COUNTER).unwrap();
    let other = wat::parse_str(RETURNS_P0).unwrap();
    client.register("counter", &counter, false).await.unwrap();
    client.register("other", &other, false).await.unwrap();
    assert_eq!(open(&client, 4).await, 1);
    submit(&client, Operation::Deposit { account: 2, amount: 70, user_ref: 9 }).await;
    submit(&client, Operation::Deposit { account: 2, amount: 70, user_ref: 9 }).await;
    let before_calls = submit(&client, Operation::Transfer { from: 2, to: 3, amount: 20, user_ref: 0 }).await.tx_id;
    for account in [1, 2, 2, 4, 50] {
        submit(&client, call("counter", vec![account])).await;
    }
    client.unregister("other").await.unwrap();
    client.register("other", &other, false).await.unwrap();
    let last = submit(&client, Operation::Withdrawal { account: 3, amount: 5, user_ref: 0 }).await.tx_id;

    let forked = fork(&client, None, std::slice::from_ref(&counter), ledger_core::LedgerConfig::default(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(forked.at, last);
    let state = forked.ledger.state();
    for account in 0..12u64 {
        match client.balance(account, true).await {
            Ok(live) => {
                assert_eq!(state.snapshot_balance(account), live.balance, "balance of {account}");
                assert_eq!(Some(state.snapshot_flags(account)), live.flags, "flags of {account}");
                let links: Vec<u16> = state.linked_accounts(account).map(|(link_type, _)| link_type).collect();
                let live_links: Vec<u16> = live.linked.iter().map(|l| l.link_type).collect();
                assert_eq!(links, live_links, "links of {account}");
            }
            Err(_) => assert_eq!(state.snapshot_status(account), ledger_core::v2::AccountStatus::Programmed),
        }
    }
    for account in [1, 2, 4, 50] {
        let id = state.constant(b"counter").unwrap() | ledger_core::v2::CONSTANT_BIT;
        let live = client.kv_get(&format!("counter/{account}/0/0")).await.unwrap();
        assert_eq!(state.kv_entry([id, account as u32, 0, 0]), live, "kv of {account}");
    }
    let mut functions = forked.ledger.list_functions();
    let mut live_functions = client.list().await.unwrap();
    functions.sort();
    live_functions.sort();
    assert_eq!(functions, live_functions, "names, versions and CRCs");
    assert_eq!(forked.unmatched.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["other"]);

    let mut ledger = forked.ledger;
    let again = ledger.submit(&call("counter", vec![1]));
    assert_eq!(again.status, Status::NONE, "a given binary runs on the fork");
    assert_eq!(ledger.submit(&call("other", vec![0])).status, Status::INVALID_OPERATION, "a missing one fails with 5");

    let earlier =
        fork(&client, Some(before_calls), &[], ledger_core::LedgerConfig::default(), |_, _| {}).await.unwrap();
    assert_eq!((earlier.at, earlier.ledger.balance(2), earlier.ledger.balance(3)), (before_calls, 50, 20));
    let beyond = fork(&client, Some(last + 10), &[], ledger_core::LedgerConfig::default(), |_, _| {}).await;
    assert!(matches!(beyond, Err(ForkError::Beyond { last: l, .. }) if l == last), "{:?}", beyond.err());
}

/// A replay (`roda_rpc::replay`) runs a committed call again on the ledger
/// forked just before it and writes the records the server committed; a
/// changed binary shows the first record that differs.
pub async fn a_replay_reproduces_a_call(url: &str) {
    use roda_rpc::replay::{ReplayError, replay};
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let counter = wat::parse_str(COUNTER).unwrap();
    client.register("counter", &counter, false).await.unwrap();
    assert_eq!(open(&client, 2).await, 1);
    submit(&client, call("counter", vec![1])).await;
    let second = submit(&client, call("counter", vec![1])).await.tx_id;
    let config = || ledger_core::LedgerConfig::default();

    let same = replay(&client, second, &[1], std::slice::from_ref(&counter), None, config()).await.unwrap();
    assert!(same.same(), "{same:?}");
    assert_eq!((same.function.name.as_str(), same.committed.len()), ("counter", 3), "kv and two entries");
    let imports: Vec<&str> = same.host_calls.iter().map(|call| call.import).collect();
    assert_eq!(imports, ["kv_get_constant", "kv_get", "kv_set", "set_flag", "linked_account", "debit", "credit"]);
    assert_eq!(
        (same.host_calls[1].args.len(), same.host_calls[1].result),
        (4, Some(1)),
        "kv_get read the 1 the first call wrote"
    );
    assert!(same.host_calls.windows(2).all(|pair| pair[0].fuel_used <= pair[1].fuel_used), "fuel so far");
    // Saved as a scenario, the first call reproduces on a fresh ledger; the
    // second followed the link the first made, which a scenario cannot set
    // up, and says so.
    let runner = roda_test::Runner::new(counter.clone(), "counter").with_profile(&roda_test::abi::V2);
    let first = replay(&client, second - 1, &[1], std::slice::from_ref(&counter), None, config()).await.unwrap();
    let (scenario, notes) = first.to_scenario(&[1]);
    assert!(notes.is_empty(), "{notes:?}");
    let file =
        roda_test::ScenarioFile::from_str(&format!("version = 2\n{}", scenario.to_toml(None)), "saved.toml").unwrap();
    let report = runner.run_file(&file);
    assert!(report.passed(), "{report}");
    let (_, notes) = same.to_scenario(&[1]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("account 1 was linked to 3 (type 1) before the call"), "{notes:?}");

    let eight = wat::parse_str(COUNTER.replace("(i32.const 2) (i32.const 7)", "(i32.const 2) (i32.const 8)")).unwrap();
    let changed = replay(&client, second, &[1], &[], Some(&eight), config()).await.unwrap();
    assert_eq!(changed.first_difference, Some(1), "the flag the new version writes: {changed:?}");
    assert!(!changed.same());
    let other_account = replay(&client, second, &[2], std::slice::from_ref(&counter), None, config()).await.unwrap();
    assert_eq!(other_account.first_difference, Some(0), "other parameters, another key");

    let missing = replay(&client, second, &[1], &[], None, config()).await.unwrap_err();
    assert!(matches!(missing, ReplayError::MissingBinary { ref name, .. } if name == "counter"), "{missing}");
    let not_a_call = replay(&client, 2, &[], &[], None, config()).await.unwrap_err();
    assert!(matches!(not_a_call, ReplayError::NotACall { tx_id: 2, .. }), "{not_a_call}");
    let nothing_ran = submit(&client, call("absent", vec![])).await.tx_id;
    let unknown = replay(&client, nothing_ran, &[], &[], None, config()).await.unwrap_err();
    assert!(matches!(unknown, ReplayError::NoFunctionRan(id) if id == nothing_ran), "{unknown}");
}

/// Scenarios run on the server as in the simulator (`roda_rpc::live`): on a
/// server that already holds accounts and a function of the same name, the
/// scenario's accounts are opened afresh and its function deployed under a
/// name of the run's own; a step whose expectation is wrong fails there as
/// here, a starting state only a function can make is not run, and the
/// deployed name is gone afterwards. Run twice: a run's `user_ref`s are its
/// own.
pub async fn scenarios_run_on_the_server_as_in_the_simulator(url: &str) {
    use roda_rpc::live::{LiveOutcome, run};
    let client = Client::connect(&endpoint(url)).await.unwrap();
    let counter = wat::parse_str(COUNTER).unwrap();
    client.register("counter", &counter, false).await.unwrap();
    assert_eq!(open(&client, 3).await, 1);
    let file = roda_test::ScenarioFile::from_str(
        r#"
        version = 2
        [[scenario]]
        name = "counts, flags, links and moves"
        open = ["alice", "bob"]
        balances = { bob = 30 }
        steps = [
          { call = "counter", params = ["alice"], kv = { "counter/alice" = 1 }, flags = { alice = { 2 = 7 } },
            links = { alice = { 1 = 3 } }, balances = { alice = 1, 3 = 0 } },
          { call = "counter", params = ["alice"], kv = { "counter/alice" = 2, "counter/bob" = 0 }, balances = { alice = "+2" } },
          { transfer = { from = "bob", to = "alice", amount = 5 }, user_ref = 7, balances = { bob = 25 } },
          { transfer = { from = "bob", to = "alice", amount = 5 }, user_ref = 7, expect = "DUPLICATE", balances = { bob = "-5", alice = 7 } },
        ]
        [[scenario]]
        name = "a wrong expectation"
        open = ["alice"]
        steps = [{ call = "counter", params = ["alice"], kv = { "counter/alice" = 5 } }]
        [[scenario]]
        name = "a count only a function can start"
        open = ["alice"]
        kv = { "counter/alice" = 5 }
        steps = [{ call = "counter", params = ["alice"], kv = { "counter/alice" = 6 } }]
        "#,
        "live.toml",
    )
    .unwrap();
    let runner = roda_test::Runner::new(counter, "counter").with_profile(&roda_test::abi::V2);
    for run_id in [1, 2] {
        let live = run(&client, &runner, std::slice::from_ref(&file), run_id).await.unwrap();
        let scenarios: Vec<_> = live.scenarios().collect();
        assert_eq!(scenarios[0].outcome, LiveOutcome::Passed, "{live}");
        let (alice, on_server) = scenarios[0].accounts[0];
        assert!(alice == 1 && on_server > 3, "{live}");
        assert_eq!(scenarios[1].outcome, LiveOutcome::Failed { step: 1 }, "{live}");
        assert!(scenarios[1].steps[0].differences.is_empty(), "{live}");
        assert!(matches!(scenarios[2].outcome, LiveOutcome::NotReproducible { .. }), "{live}");
        assert_eq!(live.failed(), 1);
        assert_eq!(live.deployed["counter"], format!("counter_{run_id:08x}"));
        assert!(live.cleanup.is_empty(), "{live}");
        assert_eq!(listed(&client).await, ["counter"]);
    }
}
