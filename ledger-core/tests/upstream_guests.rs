//! Upstream's own guest crate (`roda-wasm-abi` at e14b146, its `counter`
//! and `transfer` examples) through the validator and the v2 engine.
//!
//! CI has no upstream checkout, so the test is ignored there. To run it,
//! build the two examples in a checkout of upstream (outside this
//! repository): in `crates/roda-wasm-abi/examples/counter` and `.../transfer`,
//! `cargo build --release --target wasm32-unknown-unknown`; then
//! `RODA_WASM_ABI_EXAMPLES=<their target>/wasm32-unknown-unknown/release
//! cargo test -p ledger-core --test upstream_guests -- --ignored`.

use std::path::PathBuf;

use ledger_core::abi::{self, V1, V2};
use ledger_core::v2::{CONSTANT_BIT, Ledger, Operation, Record};
use ledger_core::{Entry, EntryKind, IfRegistered, Status};

fn example(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("RODA_WASM_ABI_EXAMPLES")
        .expect("RODA_WASM_ABI_EXAMPLES must name the directory holding upstream's built examples");
    let path = PathBuf::from(dir).join(format!("roda_example_{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn entry(account_id: u64, amount: u64, kind: EntryKind, computed_balance: i64) -> Record {
    Record::Entry(Entry { account_id, amount, kind, computed_balance })
}

#[test]
#[ignore = "needs upstream's roda-wasm-abi examples built for wasm32: see the file's docs"]
fn upstreams_counter_example_validates_and_runs_as_v2() {
    let wasm = example("counter");
    let report = abi::validate_for(&wasm, &V2);
    assert!(report.is_valid() && report.violations.is_empty(), "{report:?}");
    assert!(!abi::validate_for(&wasm, &V1).is_valid(), "it imports the constant verbs");

    let mut ledger = Ledger::new(Default::default()).unwrap();
    let registration = ledger.register_function("counter", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!(registration.transaction.records, [Record::KvConstant { id: 1, name: b"counter".to_vec() }]);
    ledger.submit(&Operation::OpenAccount { count: 3, user_ref: 0 });
    let call = Operation::Function { name: "counter".into(), params: vec![1], user_ref: 0 };
    let key = [1 | CONSTANT_BIT, 1, 0, 0];
    let first = ledger.submit(&call);
    assert_eq!(first.status, Status::NONE, "{:?}", first.call);
    assert_eq!(
        first.records,
        [Record::Kv { key, value: 1 }, entry(0, 1, EntryKind::Debit, 1), entry(1, 1, EntryKind::Credit, -1)]
    );
    let second = ledger.submit(&call);
    assert_eq!(
        second.records,
        [Record::Kv { key, value: 2 }, entry(0, 2, EntryKind::Debit, 3), entry(1, 2, EntryKind::Credit, -3)]
    );
    let unopened = ledger.submit(&Operation::Function { name: "counter".into(), params: vec![50], user_ref: 0 });
    assert_eq!(unopened.status, Status::ACCOUNT_NOT_FOUND);
    assert_eq!(ledger.kv([1 | CONSTANT_BIT, 50, 0, 0]), 0);
}

#[test]
#[ignore = "needs upstream's roda-wasm-abi examples built for wasm32: see the file's docs"]
fn upstreams_transfer_example_satisfies_both_profiles_and_runs_as_v2() {
    let wasm = example("transfer");
    assert_eq!(abi::satisfied_profiles(&wasm).iter().map(|p| p.name).collect::<Vec<_>>(), ["v1", "v2"]);
    let mut ledger = Ledger::new(Default::default()).unwrap();
    ledger.register_function("transfer", &wasm, IfRegistered::Refuse).unwrap();
    ledger.submit(&Operation::OpenAccount { count: 2, user_ref: 0 });
    let tx = ledger.submit(&Operation::Function { name: "transfer".into(), params: vec![1, 10, 2], user_ref: 0 });
    assert_eq!(tx.status, Status::NONE);
    assert_eq!((ledger.balance(1), ledger.balance(2)), (10, -10));
}
