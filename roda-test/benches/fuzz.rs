//! Fuzz executions per second for the seed's fee transfer (target: at least
//! 1,000,000 per core).
//!
//! `cargo bench -p roda-test --bench fuzz`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use roda_test::{FuzzOptions, Runner, ScenarioFile};

const SCENARIO: &str = r#"version = 1
[[scenario]]
name = "fee transfer"
[scenario.fuzz]
params = [{ accounts = [101, 202] }, { accounts = [202, 303] }, { value = 999 }, { range = [0, 1000000] }, { range = [0, 100] }]
balances = { accounts = [101, 202], range = [0, 2000000] }
allowed = ["NONE", "INSUFFICIENT_FUNDS"]
never_negative = [202, 999]
"#;

fn fee_transfer(c: &mut Criterion) {
    let wasm = wat::parse_str(include_str!("../../cargo-roda/templates/wat/function.wat")).unwrap();
    let runner = Runner::new(wasm, "fee_transfer");
    let file = ScenarioFile::from_str(SCENARIO, "bench.toml").unwrap();
    let scenario = &file.scenarios[0];
    const CASES: u32 = 100_000;
    let mut group = c.benchmark_group("fuzz");
    group.throughput(Throughput::Elements(u64::from(CASES)));
    group.sample_size(10);
    group.bench_function("fee_transfer_100k_executions", |b| {
        b.iter(|| {
            let result = runner.fuzz(&file, scenario, FuzzOptions { cases: CASES, seed: 1 }).unwrap();
            assert!(result.failure.is_none());
        })
    });
    group.finish();
}

criterion_group!(benches, fee_transfer);
criterion_main!(benches);
