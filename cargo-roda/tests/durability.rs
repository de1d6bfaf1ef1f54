//! `cargo roda dev --data-dir`: restarts keep everything, `kill -9` never
//! loses an acknowledged write, and a damaged directory refuses to start.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cargo_roda::rpc::client::{Client, Endpoint};
use cargo_roda::rpc::proto::WaitLevel;
use ledger_core::{Operation, Status};
use support::dev::{DevServer, against};

fn endpoint(url: &str) -> Endpoint {
    Endpoint { url: url.into(), ca_cert: None, token: None, timeout: std::time::Duration::from_secs(5), retries: 0 }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn fee_transfer() -> Vec<u8> {
    wat::parse_file(support::repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap()
}

fn start(data: &Path) -> DevServer {
    DevServer::start(&["--data-dir", data.to_str().unwrap()])
}

#[test]
fn a_restart_keeps_functions_versions_balances_and_dedup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    let wasm = fee_transfer();
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
        assert_eq!(client.register("fee", &wasm, false).await.unwrap().0, 1);
        assert_eq!(client.register("fee", &wasm, true).await.unwrap().0, 2);
        assert_eq!(client.register("gone", &wasm, false).await.unwrap().0, 1);
        assert_eq!(client.unregister("gone").await.unwrap(), 2);
        let deposit = Operation::Deposit { account: 101, amount: 20_000, user_ref: 5 };
        assert_eq!(client.submit(&deposit, WaitLevel::Committed).await.unwrap().status, Status::NONE);
        let call = Operation::Function { name: "fee".into(), params: vec![101, 202, 999, 10_000, 50], user_ref: 0 };
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status::NONE);
    });
    assert_eq!(server.stop().code(), Some(0));
    // The seed's layout: every version a file, the unregister an empty one.
    assert_eq!(std::fs::read(data.join("functions/fee_v1.wasm")).unwrap(), wasm);
    assert_eq!(std::fs::read(data.join("functions/fee_v2.wasm")).unwrap(), wasm);
    assert_eq!(std::fs::metadata(data.join("functions/gone_v2.wasm")).unwrap().len(), 0);

    let server = start(&data);
    let list = against(dir.path(), &server.url, &["list", "--output", "json"]).json();
    assert_eq!(
        list["functions"],
        serde_json::json!([{ "name": "fee", "version": 2, "crc32c": format!("{:08x}", ledger_core::crc32c(&wasm)) }])
    );
    let balances = against(dir.path(), &server.url, &["balance", "101", "202", "999", "--output", "json"]).json();
    assert_eq!(balances["balances"][0]["balance"], 9_950);
    assert_eq!(balances["balances"][1]["balance"], 10_000);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
        let again = Operation::Deposit { account: 101, amount: 1, user_ref: 5 };
        let result = client.submit(&again, WaitLevel::Committed).await.unwrap();
        assert_eq!(result.status, Status::DUPLICATE, "the dedup set survives");
        assert_eq!(result.tx_id, 3, "transaction ids continue");
        // The counter keeps rising after the unregister; no file is overwritten.
        assert_eq!(client.register("gone", &wasm, false).await.unwrap().0, 3);
    });
    assert_eq!(std::fs::metadata(data.join("functions/gone_v2.wasm")).unwrap().len(), 0);
}

#[test]
fn a_missing_or_changed_binary_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
        client.register("fee", &fee_transfer(), false).await.unwrap();
    });
    server.stop();
    let binary = data.join("functions/fee_v1.wasm");
    let original = std::fs::read(&binary).unwrap();

    let mut changed = original.clone();
    *changed.last_mut().unwrap() ^= 1;
    std::fs::write(&binary, &changed).unwrap();
    let data_arg = data.to_str().unwrap();
    let err = DevServer::try_start(&["--data-dir", data_arg], &[]).err().expect("refuses to start");
    assert!(err.contains("fee_v1.wasm has CRC32C") && err.contains("restore it from a backup"), "{err}");

    std::fs::remove_file(&binary).unwrap();
    let err = DevServer::try_start(&["--data-dir", data_arg], &[]).err().expect("refuses to start");
    assert!(err.contains("fee_v1.wasm is missing"), "{err}");

    std::fs::write(&binary, &original).unwrap();
    DevServer::try_start(&["--data-dir", data_arg], &[]).expect("starts again once restored").stop();
}

#[test]
fn a_damaged_log_refuses_to_start_but_a_torn_tail_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
        for user_ref in 1..=3 {
            let op = Operation::Deposit { account: 1, amount: 1, user_ref };
            client.submit(&op, WaitLevel::Committed).await.unwrap();
        }
    });
    server.stop();
    let log = data.join("ledger.log");
    let good = std::fs::read(&log).unwrap();

    // Half a record at the end: a write that never finished.
    let mut torn = good.clone();
    torn.extend_from_slice(&good[..good.len() / 6]);
    std::fs::write(&log, &torn).unwrap();
    let server = start(&data);
    let balance = against(dir.path(), &server.url, &["balance", "1", "--output", "json"]).json();
    assert_eq!(balance["balances"][0]["balance"], 3);
    server.stop();
    assert_eq!(std::fs::read(&log).unwrap(), good, "the torn tail was cut off");

    // A flipped byte in the first record's checksum or its length, with
    // records after it: never mistaken for a torn tail.
    for (byte, why) in [(10, "contents fail their checksum"), (1, "length fails its checksum")] {
        let mut damaged = good.clone();
        damaged[byte] ^= 0xFF;
        std::fs::write(&log, &damaged).unwrap();
        let err = DevServer::try_start(&["--data-dir", data.to_str().unwrap()], &[]).err().expect("refuses to start");
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
        let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
        client.register("counter", &counter, false).await.unwrap();
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status::from_code(128));
        assert_eq!(client.submit(&call, WaitLevel::Committed).await.unwrap().status, Status::from_code(129));
    });
    server.stop();
    let server = start(&data);
    runtime().block_on(async {
        let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
        let result = client.submit(&call, WaitLevel::Committed).await.unwrap();
        assert_eq!((result.tx_id, result.status), (3, Status::from_code(128)), "a fresh instance after the restart");
    });
}

/// A cheap, varying number: enough to pick kill moments.
fn jitter(max: u64) -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    u64::from(nanos.wrapping_mul(2_654_435_761)) % max
}

#[test]
fn kill_9_never_loses_an_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wasm = fee_transfer();
    let mut acked_deposits = 0u64;
    let mut acked_versions = 0u32;
    let mut next_ref = 1u64;
    for round in 0..4 {
        let server = start(&data);
        let url = server.url.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new((Vec::<u64>::new(), 0u32)));
        let writer = {
            let (stop, acked, wasm) = (stop.clone(), acked.clone(), wasm.clone());
            let first_ref = next_ref;
            std::thread::spawn(move || {
                runtime().block_on(async move {
                    let Ok(mut client) = Client::connect(&endpoint(&url)).await else { return };
                    let mut user_ref = first_ref;
                    while !stop.load(Ordering::Relaxed) {
                        if user_ref.is_multiple_of(5) {
                            match client.register("fee", &wasm, true).await {
                                Ok((version, _)) => acked.lock().unwrap().1 = version,
                                Err(_) => return,
                            }
                        }
                        let op = Operation::Deposit { account: 1, amount: 1, user_ref };
                        match client.submit(&op, WaitLevel::Committed).await {
                            Ok(result) if result.status == Status::NONE => acked.lock().unwrap().0.push(user_ref),
                            Ok(result) => panic!("deposit {user_ref} failed with {}", result.status),
                            Err(_) => return,
                        }
                        user_ref += 1;
                    }
                })
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(30 + jitter(250)));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        let (refs, version) = acked.lock().unwrap().clone();
        acked_deposits += refs.len() as u64;
        acked_versions = acked_versions.max(version);
        next_ref = refs.last().map_or(next_ref, |r| r + 1) + 1_000;

        // Restart: everything acknowledged is there.
        let server = start(&data);
        runtime().block_on(async {
            let mut client = Client::connect(&endpoint(&server.url)).await.unwrap();
            let balance = client.balances(&[1]).await.unwrap()[0] as u64;
            assert!(balance >= acked_deposits, "round {round}: {balance} < {acked_deposits} acknowledged deposits");
            // At most the one unacknowledged write in flight landed too.
            assert!(balance <= acked_deposits + 1, "round {round}: {balance} > {acked_deposits} + 1");
            acked_deposits = balance;
            if let Some(&last) = refs.last() {
                let again = Operation::Deposit { account: 1, amount: 1, user_ref: last };
                assert_eq!(client.submit(&again, WaitLevel::Committed).await.unwrap().status, Status::DUPLICATE);
            }
            let live = client.list().await.unwrap();
            let version = live.iter().find(|f| f.name == "fee").map_or(0, |f| f.version);
            assert!(version >= acked_versions, "round {round}: v{version} < acknowledged v{acked_versions}");
            acked_versions = version;
        });
        server.stop();
    }
    assert!(acked_deposits > 0, "the stream wrote something");
}
