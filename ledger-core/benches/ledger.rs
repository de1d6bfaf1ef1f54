//! Native Deposit vs the seed's fee_transfer as a WASM function, one at a
//! time and in batches of 1000; a v2 KV counter call (a constant looked up,
//! a KV read and write, a credit and a debit); the same module through bare wasmtime (the
//! physical limit: one Engine, one instance, host functions that only add to
//! an array); and validation of a 4 MiB module.
//!
//! The group `over_bare_fuel` measures the ratio itself: each sample times
//! the ledger's calls and bare wasmtime's with fuel in alternating blocks,
//! so that a machine whose speed drifts between benchmarks (a shared
//! 2-core machine's can double) moves both alike. Its unit is ×.
//!
//! Calls go through `process`, the submit path a server and the fuzzer
//! take (the transaction lent, its buffers reused).
//!
//! `cargo bench -p ledger-core --bench ledger`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ledger_core::{IfRegistered, Ledger, LedgerConfig, Operation, abi, v2};

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

/// A v2 ledger with the counter registered and account 1 open, and its call.
fn v2_counter() -> (v2::Ledger, v2::Operation) {
    let config = LedgerConfig { keep_history: false, ..LedgerConfig::default() };
    let mut ledger = v2::Ledger::new(config).unwrap();
    ledger.register_function("counter", &wat::parse_str(V2_COUNTER).unwrap(), IfRegistered::Refuse).unwrap();
    ledger.submit(&v2::Operation::OpenAccount { count: 1, user_ref: 0 });
    let call = v2::Operation::Function { name: "counter".into(), params: vec![1, 1], user_ref: 0 };
    assert_eq!(ledger.submit(&call).status, ledger_core::Status::NONE);
    (ledger, call)
}

fn v2_kv_counter(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_at_a_time");
    group.throughput(Throughput::Elements(1));
    let (mut ledger, call) = v2_counter();
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

/// The entry point's parameters: eight i64.
type Params = (i64, i64, i64, i64, i64, i64, i64, i64);

/// The fee transfer through bare wasmtime, with or without fuel metering
/// (the simulator meters fuel; a server does not): one Engine, one
/// instance, host functions that only add to an array.
struct BareFeeTransfer {
    store: wasmtime::Store<Bare>,
    execute: wasmtime::TypedFunc<Params, i32>,
    fuel: bool,
}

impl BareFeeTransfer {
    fn new(fuel: bool) -> BareFeeTransfer {
        use wasmtime::{Caller, Config, Engine, Linker, Module, Store};
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
        let execute = instance.get_typed_func(&mut store, "execute").unwrap();
        BareFeeTransfer { store, execute, fuel }
    }

    fn call(&mut self) -> i32 {
        if self.fuel {
            self.store.set_fuel(10_000_000).unwrap();
        }
        self.execute.call(&mut self.store, black_box((101, 202, 999, 10_000, 50, 0, 0, 0))).unwrap()
    }
}

fn bare_wasmtime(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_at_a_time");
    group.throughput(Throughput::Elements(1));
    for (name, fuel) in [("bare_wasmtime_limit", false), ("bare_wasmtime_fuel_limit", true)] {
        let mut bare = BareFeeTransfer::new(fuel);
        group.bench_function(name, |b| b.iter(|| black_box(bare.call())));
    }
    group.finish();
}

/// A measurement that is a ratio of two times (see `over_bare_fuel`):
/// criterion divides a sample's value by its iterations, so a routine
/// returns the ratio times its iterations.
struct Ratio;

impl Measurement for Ratio {
    type Intermediate = ();
    type Value = f64;

    fn start(&self) {}

    fn end(&self, (): ()) -> f64 {
        unreachable!("a ratio is measured with iter_custom only")
    }

    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self
    }
}

impl ValueFormatter for Ratio {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "×"
    }

    fn scale_throughputs(&self, _typical: f64, _throughput: &Throughput, _values: &mut [f64]) -> &'static str {
        "×"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ratio"
    }
}

/// `iters` calls of `ours` and of `bare`, in alternating blocks of up to
/// 1,000 each, as `Ratio` takes them: our time over bare's, times `iters`.
fn alternating(iters: u64, mut ours: impl FnMut(), mut bare: impl FnMut()) -> f64 {
    let (mut ours_time, mut bare_time) = (Duration::ZERO, Duration::ZERO);
    let mut left = iters;
    while left > 0 {
        let block = left.min(1_000);
        let start = Instant::now();
        for _ in 0..block {
            ours();
        }
        ours_time += start.elapsed();
        let start = Instant::now();
        for _ in 0..block {
            bare();
        }
        bare_time += start.elapsed();
        left -= block;
    }
    ours_time.as_secs_f64() / bare_time.as_secs_f64().max(f64::MIN_POSITIVE) * iters as f64
}

/// The fee transfer and the v2 counter over the fee transfer through bare
/// wasmtime with fuel, the limit the ledger is measured against.
fn over_bare_fuel(c: &mut Criterion<Ratio>) {
    let mut group = c.benchmark_group("over_bare_fuel");
    let mut bare = BareFeeTransfer::new(true);
    let mut v1 = ledger();
    let fee = fee_transfer();
    group.bench_function("wasm_fee_transfer", |b| {
        b.iter_custom(|iters| {
            alternating(iters, || _ = black_box(v1.process(black_box(&fee)).status), || _ = black_box(bare.call()))
        })
    });
    let (mut v2, counter) = v2_counter();
    group.bench_function("wasm_v2_kv_counter", |b| {
        b.iter_custom(|iters| {
            alternating(iters, || _ = black_box(v2.process(black_box(&counter)).status), || _ = black_box(bare.call()))
        })
    });
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
criterion_group! {
    name = ratios;
    config = Criterion::default().with_measurement(Ratio);
    targets = over_bare_fuel
}
criterion_main!(benches, ratios);
