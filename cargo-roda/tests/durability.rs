//! `cargo roda dev --data-dir`: `kill -9` of the real process never loses
//! an acknowledged write. (Restarts and damaged directories are tested
//! in-process in roda-rpc's `store` test.)

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ledger_core::{Operation, Status};
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use support::dev::DevServer;

fn endpoint(url: &str) -> Endpoint {
    Endpoint { timeout: std::time::Duration::from_secs(5), retries: 0, ..Endpoint::new(url) }
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
                    let Ok(client) = Client::connect(&endpoint(&url)).await else { return };
                    let mut user_ref = first_ref;
                    while !stop.load(Ordering::Relaxed) {
                        if user_ref.is_multiple_of(5) {
                            match client.register("fee", &wasm, true).await {
                                Ok(registered) => acked.lock().unwrap().1 = registered.version,
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
        // The kill comes after at least one acknowledged write, however slow the machine.
        while acked.lock().unwrap().0.is_empty() && !writer.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(jitter(250)));
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
            let client = Client::connect(&endpoint(&server.url)).await.unwrap();
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

/// ABI v2 (`--abi v2`, the HEAD wire): `kill -9` while a stream of counter
/// calls runs never loses an acknowledged one; KV, flags, the linked
/// account and the dedup set come back, and `register()` is not run again.
#[test]
fn kill_9_never_loses_an_acknowledged_v2_write() {
    use ledger_core::v2::Operation as V2;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let counter = wat::parse_file(support::repo_root().join("roda-rpc/tests/head_checks/counter.wat")).unwrap();
    let server = DevServer::start(&["--abi", "v2", "--data-dir", data_arg]);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url)).await.unwrap();
        client.register("counter", &counter, false).await.unwrap();
        client.submit(&V2::OpenAccount { count: 1, user_ref: 0 }, WaitLevel::Snapshot).await.unwrap();
    });
    let url = server.url.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || {
            runtime().block_on(async move {
                let Ok(client) = Client::connect(&endpoint(&url)).await else { return };
                for user_ref in 1.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let call = V2::Function { name: "counter".into(), params: vec![1], user_ref };
                    match client.submit(&call, WaitLevel::Snapshot).await {
                        Ok(result) if result.status == Status::NONE => acked.lock().unwrap().push(user_ref),
                        Ok(result) => panic!("call {user_ref} failed with {}", result.status),
                        Err(_) => return,
                    }
                }
            })
        })
    };
    // The kill comes after at least one acknowledged call, however slow the machine.
    while acked.lock().unwrap().is_empty() && !writer.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(jitter(250)));
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "the stream wrote something");

    let server = DevServer::start(&["--abi", "v2", "--data-dir", data_arg]);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url)).await.unwrap();
        let count = client.kv_get("counter/1/0/0").await.unwrap().unwrap() as u64;
        let acknowledged = acked.len() as u64;
        assert!(count >= acknowledged && count <= acknowledged + 1, "{count} counted, {acknowledged} acknowledged");
        let account = client.balance(1, true).await.unwrap();
        assert_eq!(account.balance as u64, count, "one moved per call");
        assert_eq!(account.flags, Some(458_753), "lane 2 is 7");
        assert_eq!(account.linked.len(), 1, "the linked account");
        let last = *acked.last().unwrap();
        let again = V2::Function { name: "counter".into(), params: vec![1], user_ref: last };
        assert_eq!(client.submit(&again, WaitLevel::Snapshot).await.unwrap().status, Status::DUPLICATE);
    });
    server.stop();
}

/// Two real processes on one data directory: the second refuses to start,
/// and the lock goes with the first process, even on `kill -9`.
#[test]
fn a_second_process_on_the_same_data_dir_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = start(&data);
    let err = DevServer::try_start(&["--data-dir", data.to_str().unwrap()], &[]).err().expect("refuses to start");
    assert!(err.contains("is in use by another server") && err.contains("--data-dir"), "{err}");
    first.kill9();
    start(&data).stop();
}

/// A zero-filled tail (a power loss) is dropped, with a warning on stderr.
#[test]
fn a_dropped_tail_is_a_warning_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url)).await.unwrap();
        let op = Operation::Deposit { account: 1, amount: 5, user_ref: 0 };
        assert_eq!(client.submit(&op, WaitLevel::Committed).await.unwrap().status, Status::NONE);
    });
    server.stop();
    let log = data.join("ledger.log");
    let good = std::fs::read(&log).unwrap();
    std::fs::write(&log, [good.as_slice(), &[0u8; 4096]].concat()).unwrap();
    let server = start(&data);
    let warning = server.wait_for_stderr("warning:");
    assert!(warning.contains("dropped 4096 damaged bytes") && warning.contains("never acknowledged"), "{warning}");
    let balance = runtime()
        .block_on(async { Client::connect(&endpoint(&server.url)).await.unwrap().balances(&[1]).await.unwrap() });
    assert_eq!(balance, vec![5]);
}

/// No room for the log (here a file size limit on the real process, which
/// fails writes as a full disk does): the write is refused, not
/// acknowledged; later writes are refused until a restart; the log stays
/// readable and every acknowledged write is there after it.
#[test]
fn no_room_for_the_log_refuses_the_write_and_keeps_the_log_readable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // bash: `ulimit -f` in 1 KiB blocks; SIGXFSZ ignored, so writes past the
    // limit fail with EFBIG instead of killing the process.
    let mut limited = std::process::Command::new("bash");
    limited
        .args(["-c", r#"ulimit -f 4; trap '' XFSZ; exec "$0" roda dev --listen 127.0.0.1:0 --data-dir "$1""#])
        .arg(env!("CARGO_BIN_EXE_cargo-roda"))
        .arg(&data);
    let server = DevServer::spawn(limited).unwrap_or_else(|stderr| panic!("dev did not start: {stderr}"));
    let (acknowledged, refused) = runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url)).await.unwrap();
        let mut acknowledged = 0;
        for user_ref in 1..=200 {
            let deposit = Operation::Deposit { account: 7, amount: 1, user_ref };
            match client.submit(&deposit, WaitLevel::Committed).await {
                Ok(result) => {
                    assert_eq!(result.status, Status::NONE);
                    acknowledged += 1;
                }
                Err(refused) => {
                    let again = client
                        .submit(&Operation::Deposit { account: 7, amount: 1, user_ref: 999 }, WaitLevel::Committed)
                        .await;
                    assert!(again.is_err(), "writes stay refused until a restart");
                    return (acknowledged, refused.to_string());
                }
            }
        }
        panic!("4 KiB of log took 200 deposits");
    });
    assert!(refused.contains("no room to write"), "{refused}");
    assert!(acknowledged > 0, "some deposits fit");
    drop(server);

    let server = start(&data);
    let balance = runtime().block_on(async {
        let client = Client::connect(&endpoint(&server.url)).await.unwrap();
        client.balances(&[7]).await.unwrap()[0]
    });
    assert_eq!(balance, acknowledged, "exactly the acknowledged deposits, nothing of the refused one");
    assert_eq!(server.stop().code(), Some(0));
}
