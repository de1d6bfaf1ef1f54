//! Fuzz executions per second (target: at least 1,000,000 per core): the
//! seed's fee transfer (v1) and a KV counter (v2), on one worker and on
//! one per core; the ratio of the two is the scaling.
//!
//! `cargo bench -p roda-test --bench fuzz`

use std::num::NonZeroUsize;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use roda_test::{FuzzOptions, Runner, ScenarioFile};

const FEE_TRANSFER: &str = r#"version = 1
[[scenario]]
name = "fee transfer"
[scenario.fuzz]
params = [{ accounts = [101, 202] }, { accounts = [202, 303] }, { value = 999 }, { range = [0, 1000000], exact = true }, { range = [0, 100], exact = true }]
balances = { accounts = [101, 202], range = [0, 2000000] }
allowed = ["NONE", "INSUFFICIENT_FUNDS"]
never_negative = [202, 999]
"#;

const V2_COUNTER_WAT: &str = include_str!("../../tests/scenarios/v2_counter.wat");

const V2_COUNTER: &str = r#"version = 2
[[scenario]]
name = "counter"
open = ["alice", "bob"]
[scenario.fuzz]
params = [{ accounts = [1, 2] }, { range = [0, 1000], exact = true }]
balances = { accounts = [1, 2], range = [0, 2000000] }
allowed = ["NONE"]
"#;

const CASES: u32 = 100_000;

fn fuzz(c: &mut Criterion) {
    let wasm = |text: &str| wat::parse_str(text).unwrap();
    let fee_transfer = Runner::new(wasm(include_str!("../../cargo-roda/templates/wat/function.wat")), "fee_transfer");
    let counter = Runner::new(wasm(V2_COUNTER_WAT), "counter").with_profile(&ledger_core::abi::V2);
    let mut group = c.benchmark_group("fuzz");
    group.throughput(Throughput::Elements(u64::from(CASES)));
    group.sample_size(10);
    let cores = FuzzOptions::new(CASES, 1).jobs;
    for (name, runner, text) in [("fee_transfer", fee_transfer, FEE_TRANSFER), ("v2_counter", counter, V2_COUNTER)] {
        let file = ScenarioFile::from_str(text, "bench.toml").unwrap();
        for jobs in [NonZeroUsize::MIN, cores] {
            let options = FuzzOptions { jobs, ..FuzzOptions::new(CASES, 1) };
            group.bench_function(format!("{name}_100k_executions_jobs_{jobs}"), |b| {
                b.iter(|| {
                    let result = runner.fuzz(&file, &file.scenarios[0], options).unwrap();
                    assert!(result.failure.is_none(), "{:?}", result.failure);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, fuzz);
criterion_main!(benches);
