//! Checks of the HEAD wire that `cargo roda dev --abi v2` and a real
//! e14b146 `roda-server` must pass alike: `head_fidelity.rs` runs them on
//! the dev server, `head_upstream.rs` (ignored without a server binary) on a
//! real one. Each starts from a new, empty ledger.
#![allow(dead_code)]

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
