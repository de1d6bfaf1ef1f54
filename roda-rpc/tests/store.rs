//! The data directory, through the in-process dev server: restarts keep
//! everything, and a damaged directory refuses to start. (Killing a real
//! `cargo roda dev` process is cargo-roda's `durability` test.)

use std::path::{Path, PathBuf};

use ledger_core::{Operation, Status};
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::dev::{self, DevConfig, DevError, DevHandle};

fn endpoint(url: &str) -> Endpoint {
    Endpoint { timeout: std::time::Duration::from_secs(5), retries: 0, ..Endpoint::new(url) }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn fee_transfer() -> Vec<u8> {
    wat::parse_file(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cargo-roda/templates/wat/function.wat")).unwrap()
}

fn try_start(data: &Path) -> Result<DevHandle, DevError> {
    dev::start(DevConfig { data_dir: Some(data.to_path_buf()), ..DevConfig::default() })
}

fn start(data: &Path) -> DevHandle {
    try_start(data).unwrap_or_else(|e| panic!("the server did not start: {e}"))
}

/// Why the server refuses to start on `data`.
fn refusal(data: &Path) -> String {
    try_start(data).expect_err("refuses to start").to_string()
}

fn balances(url: &str, accounts: &[u64]) -> Vec<i64> {
    runtime().block_on(async { Client::connect(&endpoint(url)).await.unwrap().balances(accounts).await.unwrap() })
}

#[test]
fn a_restart_keeps_functions_versions_balances_and_dedup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    let wasm = fee_transfer();
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url())).await.unwrap();
        assert_eq!(client.register("fee", &wasm, false).await.unwrap().version, 1);
        assert_eq!(client.register("fee", &wasm, true).await.unwrap().version, 2);
        assert_eq!(client.register("gone", &wasm, false).await.unwrap().version, 1);
        assert_eq!(client.unregister("gone").await.unwrap(), 2);
        let deposit = Operation::Deposit { account: 101, amount: 20_000, user_ref: 5 };
        assert_eq!(client.submit(&deposit, WaitLevel::Committed).await.unwrap().status, Status::NONE);
        let call = Operation::Function { name: "fee".into(), params: vec![101, 202, 999, 10_000, 50], user_ref: 0 };
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status::NONE);
    });
    server.shutdown().unwrap();
    // The seed's layout: every version a file, the unregister an empty one.
    assert_eq!(std::fs::read(data.join("functions/fee_v1.wasm")).unwrap(), wasm);
    assert_eq!(std::fs::read(data.join("functions/fee_v2.wasm")).unwrap(), wasm);
    assert_eq!(std::fs::metadata(data.join("functions/gone_v2.wasm")).unwrap().len(), 0);

    let server = start(&data);
    let list =
        runtime().block_on(async { Client::connect(&endpoint(&server.url())).await.unwrap().list().await.unwrap() });
    assert_eq!(
        list,
        vec![ledger_core::registry::FunctionInfo {
            name: "fee".into(),
            version: 2,
            crc32c: ledger_core::crc32c(&wasm)
        }]
    );
    let balances = balances(&server.url(), &[101, 202, 999]);
    assert_eq!(balances[0], 9_950);
    assert_eq!(balances[1], 10_000);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url())).await.unwrap();
        let again = Operation::Deposit { account: 101, amount: 1, user_ref: 5 };
        let result = client.submit(&again, WaitLevel::Committed).await.unwrap();
        assert_eq!(result.status, Status::DUPLICATE, "the dedup set survives");
        assert_eq!(result.tx_id, 3, "transaction ids continue");
        // The counter keeps rising after the unregister; no file is overwritten.
        assert_eq!(client.register("gone", &wasm, false).await.unwrap().version, 3);
    });
    assert_eq!(std::fs::metadata(data.join("functions/gone_v2.wasm")).unwrap().len(), 0);
}

#[test]
fn a_missing_or_changed_binary_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        client.register("fee", &fee_transfer(), false).await.unwrap();
    });
    server.shutdown().unwrap();
    let binary = data.join("functions/fee_v1.wasm");
    let original = std::fs::read(&binary).unwrap();

    let mut changed = original.clone();
    *changed.last_mut().unwrap() ^= 1;
    std::fs::write(&binary, &changed).unwrap();
    let err = refusal(&data);
    assert!(err.contains("fee_v1.wasm has CRC32C") && err.contains("restore it from a backup"), "{err}");

    std::fs::remove_file(&binary).unwrap();
    let err = refusal(&data);
    assert!(err.contains("fee_v1.wasm is missing"), "{err}");

    std::fs::write(&binary, &original).unwrap();
    try_start(&data).expect("starts again once restored").shutdown().unwrap();
}

#[test]
fn a_damaged_log_refuses_to_start_but_a_torn_tail_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url())).await.unwrap();
        for user_ref in 1..=3 {
            let op = Operation::Deposit { account: 1, amount: 1, user_ref };
            client.submit(&op, WaitLevel::Committed).await.unwrap();
        }
    });
    server.shutdown().unwrap();
    let log = data.join("ledger.log");
    let good = std::fs::read(&log).unwrap();

    // Half a record at the end: a write that never finished.
    let mut torn = good.clone();
    torn.extend_from_slice(&good[..good.len() / 6]);
    std::fs::write(&log, &torn).unwrap();
    let server = start(&data);
    assert_eq!(balances(&server.url(), &[1]), vec![3]);
    server.shutdown().unwrap();
    assert_eq!(std::fs::read(&log).unwrap(), good, "the torn tail was cut off");

    // A flipped byte in the first record's checksum or its length, with
    // records after it: never mistaken for a torn tail.
    for (byte, why) in [(10, "contents fail their checksum"), (1, "length fails its checksum")] {
        let mut damaged = good.clone();
        damaged[byte] ^= 0xFF;
        std::fs::write(&log, &damaged).unwrap();
        let err = refusal(&data);
        assert!(err.contains("is damaged") && err.contains(why) && err.contains("backup"), "{err}");
        assert_eq!(std::fs::read(&log).unwrap(), damaged, "nothing was cut off");
    }
}

/// A restart restores recorded effects without running functions again, so
/// instance state starts afresh, as on a server.
#[test]
fn a_restart_resets_instance_state_but_not_balances() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let counter = wat::parse_str(
        r#"(module (global $n (mut i32) (i32.const 0))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (global.set $n (i32.add (global.get $n) (i32.const 1)))
               (i32.add (global.get $n) (i32.const 127))))"#,
    )
    .unwrap();
    let call = Operation::Function { name: "counter".into(), params: vec![], user_ref: 0 };
    let server = start(&data);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url())).await.unwrap();
        client.register("counter", &counter, false).await.unwrap();
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status(128));
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status(129));
    });
    server.shutdown().unwrap();
    let server = start(&data);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url())).await.unwrap();
        let result = client.submit(&call, WaitLevel::Committed).await.unwrap();
        assert_eq!((result.tx_id, result.status), (3, Status(128)), "a fresh instance after the restart");
    });
}
