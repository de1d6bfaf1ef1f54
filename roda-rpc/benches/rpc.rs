//! `deploy` then `call` round trip on loopback: a RegisterFunction (with
//! override) followed by a SubmitAndWait of the function, against a dev
//! server in this process.
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
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
