//! Load on a durable `cargo roda dev`: 32 concurrent clients depositing and
//! calling a function against `--data-dir` while a 4 MiB module registers;
//! then kill -9 in the middle of the traffic, restart, and check that every
//! acknowledged write is there.
//!
//! `cargo bench -p cargo-roda --bench load` (60 s; `RODA_LOAD_SECONDS=10`
//! for a shorter run). Prints throughput and p50 / p99 latencies. A
//! benchmark, not a test: nothing here asserts a speed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ledger_core::{Operation, Status};
use roda_rpc::client::{Client, Endpoint, WaitLevel};

const CLIENTS: u64 = 32;

/// Starts the real server on `data`; returns it and its URL.
fn start(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-roda"))
        .args(["roda", "dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cargo roda dev");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("read the address");
    let url = line.trim().strip_prefix("cargo roda dev: listening on ").expect("the address line").to_owned();
    std::thread::spawn(move || for _ in stderr.lines() {});
    (child, url)
}

/// A code-heavy module just under the 4 MiB message limit.
fn large_module() -> Vec<u8> {
    let body = "(drop (i64.add (local.get 0) (i64.mul (local.get 1) (i64.const 3))))".repeat(40);
    let func = format!("(func (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) {body} i32.const 0)");
    let module = |count: usize| {
        wat::parse_str(format!(
            r#"(module {} (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
            func.repeat(count)
        ))
        .expect("the large module")
    };
    let per_function = module(1_000).len() / 1_000;
    module((ledger_core::abi::MAX_BINARY_SIZE - (64 << 10)) / per_function)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 - 1.0) * p) as usize).copied().unwrap_or_default()
}

fn main() {
    let seconds: u64 = std::env::var("RODA_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().expect("a data directory");
    let data = dir.path().join("data");
    let (mut server, url) = start(&data);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let endpoint = Endpoint::new(url);
    let fee_transfer = wat::parse_str(include_str!("../templates/wat/function.wat")).expect("the template");
    runtime.block_on(async {
        let client = Client::connect(&endpoint).await.expect("connect");
        client.register("fee_transfer", &fee_transfer, false).await.expect("register");
    });

    let stop = Arc::new(AtomicBool::new(false));
    let mut window = (Instant::now(), Instant::now());
    let started = Instant::now();
    let (deposits, calls, acknowledged) = runtime.block_on(async {
        // The large module registers a third of the way in, so latencies
        // before and during its registration can be compared.
        let large = {
            let endpoint = endpoint.clone();
            let module = large_module();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(seconds / 3)).await;
                let client = Client::connect(&endpoint).await.expect("connect");
                let begun = Instant::now();
                let result = client.register("large", &module, false).await;
                (module.len(), begun, Instant::now(), result.is_ok())
            })
        };
        let mut tasks = Vec::new();
        for client_no in 0..CLIENTS {
            let (endpoint, stop) = (endpoint.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let client = Client::connect(&endpoint).await.expect("connect");
                let account = 1_000 + client_no;
                let (mut deposits, mut calls, mut acknowledged) = (Vec::new(), Vec::new(), 0u64);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let user_ref = client_no << 40 | n;
                    let deposit = Operation::Deposit { account, amount: 1, user_ref };
                    let begun = Instant::now();
                    match client.submit(&deposit, WaitLevel::Committed).await {
                        Ok(result) if result.status == Status::NONE => acknowledged += 1,
                        Ok(result) => panic!("a deposit failed with {}", result.status),
                        Err(_) => break, // the server was killed
                    }
                    deposits.push((begun, begun.elapsed()));
                    // A function call that moves nothing of this client's.
                    let call =
                        Operation::Function { name: "fee_transfer".into(), params: vec![1, 2, 3, 10, 50], user_ref: 0 };
                    let begun = Instant::now();
                    if client.submit(&call, WaitLevel::Committed).await.is_err() {
                        break;
                    }
                    calls.push((begun, begun.elapsed()));
                }
                (account, deposits, calls, acknowledged)
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        // kill -9 in the middle of the traffic.
        server.kill().expect("kill -9");
        stop.store(true, Ordering::Relaxed);
        let (module_len, register_begun, register_done, registered) = large.await.expect("the large registration");
        println!(
            "large module: {module_len} bytes, registered: {registered}, in {:.2} s under load",
            (register_done - register_begun).as_secs_f64()
        );
        window = (register_begun, register_done);
        let (mut deposits, mut calls, mut acknowledged) = (Vec::new(), Vec::new(), Vec::new());
        for task in tasks {
            let (account, d, c, acked) = task.await.expect("a client");
            deposits.extend(d);
            calls.extend(c);
            acknowledged.push((account, acked));
        }
        (deposits, calls, acknowledged)
    });
    let elapsed = started.elapsed().as_secs_f64();
    let _ = server.wait();
    let ms = |latency: Duration| latency.as_secs_f64() * 1e3;
    for (name, samples) in [("deposit", deposits), ("function call", calls)] {
        let sorted = |samples: Vec<&(Instant, Duration)>| {
            let mut latencies: Vec<Duration> = samples.into_iter().map(|(_, latency)| *latency).collect();
            latencies.sort();
            latencies
        };
        let overlaps = |(begun, latency): &&(Instant, Duration)| *begun < window.1 && *begun + *latency > window.0;
        let (during, outside): (Vec<_>, Vec<_>) = samples.iter().partition(overlaps);
        let (all, during, outside) = (sorted(samples.iter().collect()), sorted(during), sorted(outside));
        println!(
            "{name}: {} acknowledged, {:.0}/s; p50 {:.2} ms, p99 {:.2} ms; p99 while the large module registered {:.2} ms ({} ops), otherwise {:.2} ms",
            all.len(),
            all.len() as f64 / elapsed,
            ms(percentile(&all, 0.50)),
            ms(percentile(&all, 0.99)),
            ms(percentile(&during, 0.99)),
            during.len(),
            ms(percentile(&outside, 0.99)),
        );
    }

    // Restart on the same directory: every acknowledged deposit is there
    // (and at most the one in flight per client beyond it).
    let (mut server, url) = start(&data);
    let accounts: Vec<u64> = acknowledged.iter().map(|(account, _)| *account).collect();
    let balances = runtime.block_on(async {
        let client = Client::connect(&Endpoint::new(url)).await.expect("connect after the restart");
        client.balances(&accounts).await.expect("balances")
    });
    let mut lost = 0;
    for ((account, acked), balance) in acknowledged.iter().zip(&balances) {
        let balance = *balance as u64;
        if balance < *acked || balance > acked + 1 {
            lost += 1;
            eprintln!("account {account}: {acked} deposits acknowledged, balance {balance} after the restart");
        }
    }
    let total: u64 = acknowledged.iter().map(|(_, acked)| acked).sum();
    println!("after kill -9 and restart: {total} acknowledged deposits checked, {lost} clients with a loss");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(lost, 0, "an acknowledged write was lost");
}
