//! `deploy` then `call` round trip on loopback: a RegisterFunction (with
//! override) followed by a SubmitAndWait of the function, against a dev
//! server in this process.
//!
//! `cargo bench -p cargo-roda --bench rpc`

use cargo_roda::rpc::client::{Client, Endpoint};
use cargo_roda::rpc::proto::WaitLevel;
use cargo_roda::rpc::server::{DevConfig, DevService, serve};
use criterion::{Criterion, criterion_group, criterion_main};
use ledger_core::Operation;

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let wasm = wat::parse_str(include_str!("../templates/wat/function.wat")).unwrap();
    let url = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let service = DevService::open(&DevConfig::default()).unwrap();
        tokio::spawn(serve(service, listener, None, None, std::future::pending()));
        url
    });
    let endpoint =
        Endpoint { url, ca_cert: None, token: None, timeout: std::time::Duration::from_secs(10), retries: 3 };
    let mut client = runtime.block_on(Client::connect(&endpoint)).unwrap();
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
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
