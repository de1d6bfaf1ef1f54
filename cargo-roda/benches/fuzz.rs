//! Fuzz executions per second for the seed's fee transfer (target: at least
//! 1,000,000 per core).
//!
//! `cargo bench -p cargo-roda --bench fuzz`

use std::path::PathBuf;

use cargo_roda::fuzz::{FuzzOptions, fuzz};
use cargo_roda::scenario::{LoadedFile, ScenarioFile, Subject};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ledger_core::LedgerConfig;

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
    let wasm = wat::parse_str(include_str!("../templates/wat/function.wat")).unwrap();
    let subject = Subject { name: "fee_transfer".into(), wasm };
    let file: ScenarioFile = toml::from_str(SCENARIO).unwrap();
    let loaded = LoadedFile { path: PathBuf::from("bench.toml"), file, functions: Vec::new() };
    let scenario = &loaded.file.scenarios[0];
    let spec = scenario.fuzz.as_ref().unwrap();
    const CASES: u32 = 100_000;
    let mut group = c.benchmark_group("fuzz");
    group.throughput(Throughput::Elements(u64::from(CASES)));
    group.sample_size(10);
    group.bench_function("fee_transfer_100k_executions", |b| {
        b.iter(|| {
            let result = fuzz(
                &subject,
                &loaded,
                scenario,
                spec,
                &LedgerConfig::default(),
                FuzzOptions { cases: CASES, seed: 1 },
            )
            .unwrap();
            assert!(result.failure.is_none());
        })
    });
    group.finish();
}

criterion_group!(benches, fee_transfer);
criterion_main!(benches);
