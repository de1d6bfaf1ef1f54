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

/// Three deposits of 1 to account 1 in a new data directory; returns its
/// log, three intact records.
fn three_deposits(data: &Path) -> Vec<u8> {
    let server = start(data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        for user_ref in 1..=3 {
            let op = Operation::Deposit { account: 1, amount: 1, user_ref };
            client.submit(&op, WaitLevel::Committed).await.unwrap();
        }
    });
    assert_eq!(server.recovery(), &roda_rpc::store::Recovery::default(), "nothing to recover");
    server.shutdown().unwrap();
    std::fs::read(data.join("ledger.log")).unwrap()
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
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
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
        vec![ledger_core::FunctionInfo { name: "fee".into(), version: 2, crc32c: ledger_core::crc32c(&wasm) }]
    );
    let balances = balances(&server.url(), &[101, 202, 999]);
    assert_eq!(balances[0], 9_950);
    assert_eq!(balances[1], 10_000);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
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
    let good = three_deposits(&data);
    let log = data.join("ledger.log");

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
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        client.register("counter", &counter, false).await.unwrap();
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status::from_code(128));
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status::from_code(129));
    });
    server.shutdown().unwrap();
    let server = start(&data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        let result = client.submit(&call, WaitLevel::Committed).await.unwrap();
        assert_eq!((result.tx_id, result.status), (3, Status::from_code(128)), "a fresh instance after the restart");
    });
}

fn start_with(data: &Path, max_accounts: u64) -> Result<DevHandle, DevError> {
    let ledger = ledger_core::LedgerConfig { max_accounts, ..Default::default() };
    dev::start(DevConfig { data_dir: Some(data.to_path_buf()), ledger, ..DevConfig::default() })
}

#[test]
fn a_second_server_on_the_same_directory_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = start(&data);
    let err = try_start(&data).expect_err("the directory is locked");
    assert!(matches!(err, DevError::Store(roda_rpc::store::StoreError::Locked { .. })), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("in use by another server") && message.contains("--data-dir"), "{message}");
    first.shutdown().unwrap();
    start(&data).shutdown().expect("free again once the first one stopped");
}

#[test]
fn names_that_differ_only_in_case_get_files_that_differ_whatever_the_file_system_folds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lower = fee_transfer();
    let upper = wat::parse_str(
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let server = start(&data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        client.register("fee", &lower, false).await.unwrap();
        client.register("Fee", &upper, false).await.unwrap();
        client.register("FEE", &upper, false).await.unwrap();
    });
    server.shutdown().unwrap();
    let mut folded: Vec<String> = std::fs::read_dir(data.join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_lowercase())
        .collect();
    folded.sort();
    folded.dedup();
    assert_eq!(folded.len(), 3, "distinct even when folded to one case: {folded:?}");
    assert_eq!(std::fs::read(data.join("functions/fee_v1.wasm")).unwrap(), lower, "the seed's name for lower case");

    let server = start(&data);
    let live =
        runtime().block_on(async { Client::connect(&endpoint(&server.url())).await.unwrap().list().await.unwrap() });
    let crcs: Vec<(String, u32)> = live.into_iter().map(|f| (f.name, f.crc32c)).collect();
    let (lower_crc, upper_crc) = (ledger_core::crc32c(&lower), ledger_core::crc32c(&upper));
    assert_eq!(crcs, vec![("FEE".into(), upper_crc), ("Fee".into(), upper_crc), ("fee".into(), lower_crc)]);
}

/// A directory written before case-proof names holds `Fee_v1.wasm`: the
/// start renames it (its CRC is the log's) and says so.
#[test]
fn a_binary_under_its_older_case_sensitive_name_is_renamed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        Client::connect(&endpoint(&server.url())).await.unwrap().register("Fee", &fee_transfer(), false).await.unwrap();
    });
    server.shutdown().unwrap();
    let (legacy, current) = (data.join("functions/Fee_v1.wasm"), data.join("functions/^fee_v1.wasm"));
    std::fs::rename(&current, &legacy).unwrap();

    let server = start(&data);
    assert_eq!(server.recovery().renamed, vec![(legacy.clone(), current.clone())]);
    assert_eq!(std::fs::read(&current).unwrap(), fee_transfer());
    assert!(!legacy.exists());
    server.shutdown().unwrap();

    std::fs::rename(&current, &legacy).unwrap();
    std::fs::write(&legacy, b"another binary").unwrap();
    let why = refusal(&data);
    assert!(why.contains("^fee_v1.wasm is missing"), "another binary under the old name is not taken: {why}");
}

/// A power loss can leave zeros (or any garbage) after the last record: a
/// write that never finished. It is dropped, and the drop reported.
#[test]
fn a_zero_filled_or_garbage_tail_is_dropped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = three_deposits(&data);
    let log = data.join("ledger.log");
    let garbage: Vec<u8> = (0..777u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for tail in [vec![0u8; 4096], garbage] {
        std::fs::write(&log, [good.as_slice(), &tail].concat()).unwrap();
        let server = start(&data);
        let dropped = server.recovery().dropped_tail.expect("reported");
        assert_eq!((dropped.offset, dropped.len), (good.len() as u64, tail.len() as u64));
        assert!(dropped.to_string().contains("never acknowledged"), "{dropped}");
        assert_eq!(server.recovery().records, 3);
        assert_eq!(balances(&server.url(), &[1]), vec![3]);
        server.shutdown().unwrap();
        assert_eq!(std::fs::read(&log).unwrap(), good, "the tail was cut off");
    }
}

/// `mv` (`debit(p0, p2); credit(p1, p2); return p3`): a failed transaction
/// whose debit saturated is rolled back the server's way, which leaves
/// account 1 ten below where it was. The restart must show the same.
#[test]
fn a_rollback_after_a_saturating_move_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mv = wat::parse_str(
        r#"(module
             (import "ledger" "credit" (func $credit (param i64 i64)))
             (import "ledger" "debit" (func $debit (param i64 i64)))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (call $debit (local.get 0) (local.get 2))
               (call $credit (local.get 1) (local.get 2))
               (i32.wrap_i64 (local.get 3))))"#,
    )
    .unwrap();
    let server = start(&data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        client.register("mv", &mv, false).await.unwrap();
        let call = |params: Vec<i64>| Operation::Function { name: "mv".into(), params, user_ref: 0 };
        let first = client.submit(&call(vec![1, 0, 9_223_372_036_854_775_800, 0]), WaitLevel::Committed).await.unwrap();
        assert_eq!(first.status, Status::NONE);
        let second = client.submit(&call(vec![1, 2, 10, 1]), WaitLevel::Committed).await.unwrap();
        assert_eq!(second.status, Status::from_code(1));
    });
    let before = balances(&server.url(), &[0, 1, 2]);
    assert_eq!(before, vec![-9_223_372_036_854_775_800, 9_223_372_036_854_775_797, 0]);
    server.shutdown().unwrap();
    let server = start(&data);
    assert_eq!(balances(&server.url(), &[0, 1, 2]), before, "what was acknowledged, exactly");
}

#[test]
fn a_smaller_max_accounts_than_the_log_needs_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        let op = Operation::Deposit { account: 500, amount: 7, user_ref: 0 };
        assert_eq!(client.submit(&op, WaitLevel::Committed).await.unwrap().status, Status::NONE);
    });
    server.shutdown().unwrap();
    let message = start_with(&data, 100).expect_err("refuses").to_string();
    assert!(message.contains("account 500") && message.contains("--max-accounts 501"), "{message}");
    let server = start_with(&data, 501).expect("enough accounts");
    assert_eq!(balances(&server.url(), &[500]), vec![7]);
}

#[test]
fn an_unvalidated_request_never_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    let log = data.join("ledger.log");
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url())).await.unwrap();
        let huge_name = Operation::Function { name: "f".repeat(1 << 20), params: vec![], user_ref: 0 };
        let result = client.submit(&huge_name, WaitLevel::Committed).await.unwrap();
        assert_eq!(result.status, Status::INVALID_OPERATION, "a name no function can have: status 5, as on a server");
        let bad_name = Operation::Function { name: "fee-transfer".into(), params: vec![], user_ref: 0 };
        let result = client.submit(&bad_name, WaitLevel::Committed).await.unwrap();
        assert_eq!(result.status, Status::INVALID_OPERATION);
        let many_params = Operation::Function { name: "f".into(), params: vec![7; 400_000], user_ref: 0 };
        let result = client.submit(&many_params, WaitLevel::Committed).await.unwrap();
        assert_eq!(result.status, Status::INVALID_OPERATION, "no such function, as on a server");
    });
    let logged = std::fs::read(&log).unwrap();
    assert!(logged.windows(7).any(|w| w == b"\"Deposit" || w == b"\"name\":"), "the log holds the calls");
    assert!(!logged.windows(12).any(|w| w == b"fee-transfer"), "a name no function can have is not kept");
    assert!(std::fs::metadata(&log).unwrap().len() < 2048, "three records: no long name, at most 8 parameters");
}
