//! `deploy` then `call` round trip on loopback: a RegisterFunction (with
//! override) followed by a SubmitAndWait of the function, against a dev
//! server in this process; and a call on the HEAD wire (a v2 KV counter
//! through SubmitAndWaitResult, the committed transaction read back); and a
//! fork of a HEAD ledger of 100,000 deposits (`roda_rpc::fork`: its log
//! read page by page, each transaction restored).
//!
//! `cargo bench -p roda-rpc --bench rpc`

use criterion::{Criterion, criterion_group, criterion_main};
use ledger_core::Operation;
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::dev::{self, DevConfig};

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let wasm = wat::parse_str(include_str!("../../cargo-roda/templates/wat/function.wat")).unwrap();
    let server = dev::start(DevConfig::default()).unwrap();
    let client = runtime.block_on(Client::connect(&Endpoint::new(server.url()))).unwrap();
    let call =
        Operation::Function { name: "fee_transfer".into(), params: vec![101, 202, 999, 10_000, 50], user_ref: 0 };
    c.bench_function("deploy_then_call", |b| {
        b.iter(|| {
            runtime.block_on(async {
                client.register("fee_transfer", &wasm, true).await.unwrap();
                client.submit(&call, WaitLevel::Committed).await.unwrap()
            })
        })
    });
    c.bench_function("call", |b| b.iter(|| runtime.block_on(client.submit(&call, WaitLevel::Committed)).unwrap()));

    let head = dev::start(DevConfig { wire: roda_rpc::Wire::Head, ..DevConfig::default() }).unwrap();
    let counter = wat::parse_str(include_str!("../tests/head_checks/counter.wat")).unwrap();
    let client = runtime.block_on(Client::connect(&Endpoint::new(head.url()))).unwrap();
    runtime
        .block_on(async {
            client.register("counter", &counter, false).await.unwrap();
            client.submit(&ledger_core::v2::Operation::OpenAccount { count: 1, user_ref: 0 }, WaitLevel::Snapshot).await
        })
        .unwrap();
    let count = ledger_core::v2::Operation::Function { name: "counter".into(), params: vec![1], user_ref: 0 };
    c.bench_function("head_call", |b| b.iter(|| runtime.block_on(client.submit(&count, WaitLevel::Snapshot)).unwrap()));

    let source = dev::start(DevConfig {
        wire: roda_rpc::Wire::Head,
        ledger: ledger_core::LedgerConfig { keep_history: true, max_history: 200_000, ..Default::default() },
        ..DevConfig::default()
    })
    .unwrap();
    let client = runtime.block_on(Client::connect(&Endpoint::new(source.url()))).unwrap();
    let mut raw = runtime.block_on(roda_rpc::head::ledger_client::LedgerClient::connect(source.url())).unwrap();
    runtime.block_on(async {
        use roda_rpc::head;
        client
            .submit(&ledger_core::v2::Operation::OpenAccount { count: 100, user_ref: 0 }, WaitLevel::Snapshot)
            .await
            .unwrap();
        for batch in 0..10u64 {
            let operations = (0..10_000u64)
                .map(|i| head::SubmitOperationRequest {
                    operation: Some(head::submit_operation_request::Operation::Deposit(head::Deposit {
                        account: 1 + (batch * 10_000 + i) % 100,
                        amount: 1,
                        user_ref: 0,
                    })),
                })
                .collect();
            raw.submit_batch(head::SubmitBatchRequest { operations }).await.unwrap();
        }
    });
    let mut group = c.benchmark_group("fork");
    group.sample_size(10);
    group.bench_function("fork_100k_deposits", |b| {
        b.iter(|| {
            let config = ledger_core::LedgerConfig { keep_history: false, ..Default::default() };
            runtime.block_on(roda_rpc::fork::fork(&client, None, &[], config, |_, _| {})).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
