//! Native Deposit vs the seed's fee_transfer as a WASM function, one at a
//! time and in batches of 1000; a v2 KV counter call (a constant looked up,
//! a KV read and write, a credit and a debit); the same module through bare wasmtime (the
//! physical limit: one Engine, one instance, host functions that only add to
//! an array); and validation of a 4 MiB module.
//!
//! Calls go through `process`, the submit path a server and the fuzzer
//! take (the transaction lent, its buffers reused).
//!
//! `cargo bench -p ledger-core --bench ledger`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ledger_core::{IfRegistered, Ledger, LedgerConfig, Operation, abi};

const FEE_TRANSFER: &str = include_str!("../../cargo-roda/templates/wat/function.wat");

fn ledger() -> Ledger {
    // No history: a benchmark runs millions of transactions.
    let mut ledger = Ledger::new(LedgerConfig { keep_history: false, ..LedgerConfig::default() }).unwrap();
    ledger.register_function("fee_transfer", &wat::parse_str(FEE_TRANSFER).unwrap(), IfRegistered::Refuse).unwrap();
    ledger.submit(&Operation::Deposit { account: 101, amount: 1 << 62, user_ref: 0 });
    ledger
}

fn deposit() -> Operation {
    Operation::Deposit { account: 101, amount: 10_000, user_ref: 0 }
}

fn fee_transfer() -> Operation {
    Operation::Function { name: "fee_transfer".into(), params: vec![101, 202, 999, 10_000, 50], user_ref: 0 }
}

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_at_a_time");
    group.throughput(Throughput::Elements(1));
    for (name, op) in [("native_deposit", deposit()), ("wasm_fee_transfer", fee_transfer())] {
        let mut ledger = ledger();
        group.bench_function(name, |b| b.iter(|| black_box(ledger.process(black_box(&op)).status)));
    }
    group.finish();
}

/// A per-account counter in KV, moving 1 from the account to the system
/// account.
const V2_COUNTER: &str = include_str!("../../tests/scenarios/v2_counter.wat");

fn v2_kv_counter(c: &mut Criterion) {
    use ledger_core::v2;
    let mut group = c.benchmark_group("one_at_a_time");
    group.throughput(Throughput::Elements(1));
    let config = LedgerConfig { keep_history: false, ..LedgerConfig::default() };
    let mut ledger = v2::Ledger::new(config).unwrap();
    ledger.register_function("counter", &wat::parse_str(V2_COUNTER).unwrap(), IfRegistered::Refuse).unwrap();
    ledger.submit(&v2::Operation::OpenAccount { count: 1, user_ref: 0 });
    let call = v2::Operation::Function { name: "counter".into(), params: vec![1, 1], user_ref: 0 };
    assert_eq!(ledger.submit(&call).status, ledger_core::Status::NONE);
    group.bench_function("wasm_v2_kv_counter", |b| b.iter(|| black_box(ledger.process(black_box(&call)).status)));
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_1000");
    group.throughput(Throughput::Elements(1000));
    for (name, op) in [("native_deposit", deposit()), ("wasm_fee_transfer", fee_transfer())] {
        let batch = vec![op; 1000];
        let mut ledger = ledger();
        group.bench_function(name, |b| {
            b.iter(|| {
                for op in &batch {
                    black_box(ledger.process(op).status);
                }
            })
        });
    }
    group.finish();
}

/// Balances the bare host functions add to: just an array.
struct Bare {
    balances: Vec<i64>,
}

/// The fee transfer through bare wasmtime, with and without fuel metering
/// (the simulator meters fuel; a server does not).
fn bare_wasmtime(c: &mut Criterion) {
    use wasmtime::{Caller, Config, Engine, Linker, Module, Store};
    let mut group = c.benchmark_group("one_at_a_time");
    group.throughput(Throughput::Elements(1));
    for (name, fuel) in [("bare_wasmtime_limit", false), ("bare_wasmtime_fuel_limit", true)] {
        let mut config = Config::new();
        config.consume_fuel(fuel);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wat::parse_str(FEE_TRANSFER).unwrap()).unwrap();
        let mut linker: Linker<Bare> = Linker::new(&engine);
        let index = |account: u64| account as usize % 1024;
        linker
            .func_wrap("ledger", "credit", move |mut caller: Caller<'_, Bare>, account: u64, amount: u64| {
                caller.data_mut().balances[index(account)] -= amount as i64;
            })
            .unwrap()
            .func_wrap("ledger", "debit", move |mut caller: Caller<'_, Bare>, account: u64, amount: u64| {
                caller.data_mut().balances[index(account)] += amount as i64;
            })
            .unwrap()
            .func_wrap("ledger", "get_balance", move |caller: Caller<'_, Bare>, account: u64| -> i64 {
                caller.data().balances[index(account)]
            })
            .unwrap();
        let mut store = Store::new(&engine, Bare { balances: vec![0; 1024] });
        store.data_mut().balances[index(101)] = 1 << 62;
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let execute =
            instance.get_typed_func::<(i64, i64, i64, i64, i64, i64, i64, i64), i32>(&mut store, "execute").unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                if fuel {
                    store.set_fuel(10_000_000).unwrap();
                }
                black_box(execute.call(&mut store, black_box((101, 202, 999, 10_000, 50, 0, 0, 0))).unwrap())
            })
        });
    }
    group.finish();
}

fn validate_4mib(c: &mut Criterion) {
    // A code-heavy module just under the 4 MiB limit: many small functions.
    let body = "(drop (i64.add (local.get 0) (i64.mul (local.get 1) (i64.const 3))))".repeat(40);
    let func = format!("(func (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) {body} i32.const 0)");
    let mut source = String::from(r#"(module (import "ledger" "credit" (func (param i64 i64)))"#);
    let mut wasm = Vec::new();
    let mut count = 0;
    while wasm.len() < abi::MAX_BINARY_SIZE - 8192 {
        for _ in 0..1000 {
            source.push_str(&func);
        }
        count += 1000;
        let candidate = wat::parse_str(format!(
            r#"{source} (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#
        ))
        .unwrap();
        if candidate.len() > abi::MAX_BINARY_SIZE {
            break;
        }
        wasm = candidate;
    }
    assert!(abi::validate(&wasm).is_valid(), "{count} functions");
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Bytes(wasm.len() as u64));
    group.sample_size(20);
    group.bench_function("module_4mib", |b| {
        b.iter_batched(|| (), |()| black_box(abi::validate(&wasm)), BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, single, v2_kv_counter, bare_wasmtime, batch, validate_4mib);
criterion_main!(benches);
