//! `cargo roda dev --abi v2 --data-dir`: a restart brings back functions,
//! balances, accounts, flags, links, KV, constants and the dedup set
//! exactly, without running `register()` again; a directory of the other
//! profile is refused.

mod head_checks;

use ledger_core::Status;
use ledger_core::v2::Operation;
use roda_rpc::Wire;
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::dev::{self, DevConfig, DevError};
use roda_rpc::store::StoreError;

/// `register()` sets a global; `execute` returns 131 once it is 0 (a fresh
/// instance on which `register()` did not run), else 0.
const REMEMBERS_REGISTER: &str = r#"
  (module
    (global $registered (mut i32) (i32.const 0))
    (func (export "register") (global.set $registered (i32.const 1)))
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
      (select (i32.const 0) (i32.const 131) (global.get $registered))))
"#;

fn config(dir: &std::path::Path, wire: Wire) -> DevConfig {
    DevConfig { wire, data_dir: Some(dir.to_path_buf()), ..DevConfig::default() }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn call(name: &str, params: Vec<i64>, user_ref: u64) -> Operation {
    Operation::Function { name: name.into(), params, user_ref }
}

#[test]
fn a_restart_brings_everything_back_without_running_register_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = dev::start(config(dir.path(), Wire::Head)).unwrap();
    let before = runtime().block_on(async {
        let client = Client::connect(&Endpoint::new(server.url())).await.unwrap();
        client.register("counter", &wat::parse_str(head_checks::COUNTER).unwrap(), false).await.unwrap();
        client.register("remembers", &wat::parse_str(REMEMBERS_REGISTER).unwrap(), false).await.unwrap();
        assert_eq!(
            client.submit(&call("remembers", vec![], 0), WaitLevel::Snapshot).await.unwrap().status,
            Status::NONE
        );
        client.submit(&Operation::OpenAccount { count: 2, user_ref: 0 }, WaitLevel::Snapshot).await.unwrap();
        for user_ref in 1..=3 {
            let done = client.submit(&call("counter", vec![1], user_ref), WaitLevel::Snapshot).await.unwrap();
            assert_eq!(done.status, Status::NONE);
        }
        let failed = client.submit(&call("counter", vec![50], 0), WaitLevel::Snapshot).await.unwrap();
        assert_eq!(failed.status, Status::ACCOUNT_NOT_FOUND);
        (client.list().await.unwrap(), client.balance(1, true).await.unwrap(), client.transaction(6).await.unwrap())
    });
    server.shutdown().unwrap();

    let server = dev::start(config(dir.path(), Wire::Head)).unwrap();
    runtime().block_on(async {
        let client = Client::connect(&Endpoint::new(server.url())).await.unwrap();
        assert_eq!(client.list().await.unwrap(), before.0);
        assert_eq!(client.balance(1, true).await.unwrap(), before.1, "balance, flags and the linked account");
        assert_eq!(client.transaction(6).await.unwrap(), before.2, "the history");
        assert_eq!(client.kv_get("counter/1/0/0").await.unwrap(), Some(3));
        let again = client.submit(&call("counter", vec![1], 3), WaitLevel::Snapshot).await.unwrap();
        assert_eq!(again.status, Status::DUPLICATE, "the dedup set");
        let next = client.submit(&call("counter", vec![1], 0), WaitLevel::Snapshot).await.unwrap();
        assert_eq!(next.transaction.unwrap().records.len(), 3, "the link and the flag exist: only kv and two entries");
        assert_eq!(client.kv_get("counter/1/0/0").await.unwrap(), Some(4), "the constant keeps its id");
        let opened = client.submit(&Operation::OpenAccount { count: 1, user_ref: 0 }, WaitLevel::Snapshot).await;
        let opened = opened.unwrap().transaction.unwrap().records;
        assert_eq!(
            opened,
            vec![roda_rpc::results::WalRecord::Ledger(ledger_core::v2::Record::AccountOpened {
                begin: 4,
                count: 1,
                flags: 1
            })],
            "after 1-2 opened and 3 linked"
        );
        let fresh = client.submit(&call("remembers", vec![], 0), WaitLevel::Snapshot).await.unwrap();
        assert_eq!(fresh.status, Status::from_code(131), "register() did not run again: its global is 0");
    });
    server.shutdown().unwrap();
}

#[test]
fn a_directory_of_the_other_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    dev::start(config(dir.path(), Wire::Ee2b042)).unwrap().shutdown().unwrap();
    let err = dev::start(config(dir.path(), Wire::Head)).unwrap_err();
    assert!(matches!(err, DevError::Store(StoreError::WrongAbi { .. })), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("holds an ABI v1 ledger") && text.contains("cargo roda dev --abi v1"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    dev::start(config(dir.path(), Wire::Head)).unwrap().shutdown().unwrap();
    let err = dev::start(config(dir.path(), Wire::Ee2b042)).unwrap_err();
    assert!(err.to_string().contains("holds an ABI v2 ledger"), "{err}");
}

/// A directory written before the `abi` file existed, with a log, holds v1.
#[test]
fn a_log_without_an_abi_file_is_v1() {
    let dir = tempfile::tempdir().unwrap();
    let server = dev::start(config(dir.path(), Wire::Ee2b042)).unwrap();
    runtime().block_on(async {
        let client = Client::connect(&Endpoint::new(server.url())).await.unwrap();
        let deposit = ledger_core::Operation::Deposit { account: 1, amount: 5, user_ref: 0 };
        client.submit(&deposit, WaitLevel::Committed).await.unwrap();
    });
    server.shutdown().unwrap();
    std::fs::remove_file(dir.path().join(roda_rpc::store::ABI_FILE)).unwrap();
    let err = dev::start(config(dir.path(), Wire::Head)).unwrap_err();
    assert!(err.to_string().contains("holds an ABI v1 ledger"), "{err}");
    dev::start(config(dir.path(), Wire::Ee2b042)).unwrap().shutdown().unwrap();
}

/// A `register()` that fails leaves its binary on disk, as a server does
/// (docs/differences.md, row 34); the previous version stays live, and a
/// restart neither reads that file nor loses the failed transaction.
#[test]
fn a_failed_register_leaves_its_binary_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let counter = wat::parse_str(head_checks::COUNTER).unwrap();
    let server = dev::start(config(dir.path(), Wire::Head)).unwrap();
    let failed_tx = runtime().block_on(async {
        let client = Client::connect(&Endpoint::new(server.url())).await.unwrap();
        client.register("counter", &counter, false).await.unwrap();
        let bad = wat::parse_str(head_checks::CREDITS_IN_REGISTER).unwrap();
        let err = client.register("counter", &bad, true).await.unwrap_err();
        assert!(err.to_string().contains("FailReason(8)"), "{err}");
        assert_eq!(client.list().await.unwrap()[0].version, 1, "the previous version stays live");
        client.pipeline_index().await.unwrap().compute
    });
    server.shutdown().unwrap();
    let binaries: Vec<String> = std::fs::read_dir(dir.path().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(binaries.iter().any(|file| file.ends_with("_v2.wasm")), "the failed version's binary: {binaries:?}");

    let server = dev::start(config(dir.path(), Wire::Head)).unwrap();
    runtime().block_on(async {
        let client = Client::connect(&Endpoint::new(server.url())).await.unwrap();
        assert_eq!(client.list().await.unwrap()[0].version, 1);
        assert_eq!(
            client.transaction(failed_tx).await.unwrap().status,
            Status::from_code(8),
            "its transaction, failed"
        );
        client.submit(&Operation::OpenAccount { count: 1, user_ref: 0 }, WaitLevel::Snapshot).await.unwrap();
        let call = client.submit(&call("counter", vec![1], 0), WaitLevel::Snapshot).await.unwrap();
        assert_eq!(call.status, Status::NONE, "version 1 runs");
    });
    server.shutdown().unwrap();
}
