//! A ledger without history writes every transaction over the last one, in
//! place (its buffers and its call report reused). Whatever the earlier
//! transaction was, the one written over it must read exactly as one
//! written into a new slot: a call after a trap, an unknown function after a
//! call, a built-in or a duplicate after a call, a carried state reported
//! and then not.

use ledger_core::{CallOutcome, Engine, IfRegistered, LedgerConfig, Processed, Status, v2};

/// `execute(mode, amount, from, to)`: mode 1 traps; mode 2 counts its calls
/// in a global and returns the count (so a fresh instance answers otherwise
/// than the cached one); else it moves `amount` and returns 0.
const COUNTER: &str = r#"
(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (global $calls (mut i32) (i32.const 0))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i64.eq (local.get 0) (i64.const 1)) (then unreachable))
    (if (i64.eq (local.get 0) (i64.const 2)) (then (return (global.get $calls))))
    (call $credit (local.get 2) (local.get 1))
    (call $debit (local.get 3) (local.get 1))
    i32.const 0))
"#;

/// Each operation, as a v2 operation (the v1 ledger takes those it has).
fn operations() -> Vec<v2::Operation> {
    use v2::Operation::{Deposit, Function, OpenAccount, Transfer};
    let call = |name: &str, params: Vec<i64>, user_ref| Function { name: name.into(), params, user_ref };
    vec![
        OpenAccount { count: 3, user_ref: 0 },
        Deposit { account: 1, amount: 1_000, user_ref: 0 },
        call("counter", vec![0, 10, 1, 2], 0),
        call("counter", vec![2], 0),
        call("counter", vec![1], 0),
        call("counter", vec![0, 10, 1, 2], 0),
        call("missing", vec![0, 10, 1, 2], 0),
        call("counter", vec![0, 10, 1, 2], 6),
        call("counter", vec![0, 10, 1, 2], 6),
        Deposit { account: 1, amount: 5, user_ref: 5 },
        call("counter", vec![2], 0),
        Deposit { account: 1, amount: 5, user_ref: 5 },
        Transfer { from: 1, to: 2, amount: 3, user_ref: 0 },
        call("counter", vec![0, 1_000_000, 1, 2], 0),
        call("counter", vec![0, 10, 1, 2, 7, 7, 7, 7, 7, 7], 0),
    ]
}

fn written_over_equals_written_fresh<E: Engine>(check_carried_state: bool) {
    let config = LedgerConfig { check_carried_state, ..LedgerConfig::default() };
    let mut fresh = E::new(config.clone()).unwrap();
    let mut reused = E::new(LedgerConfig { keep_history: false, ..config }).unwrap();
    let wasm = wat::parse_str(COUNTER).unwrap();
    for ledger in [&mut fresh, &mut reused] {
        ledger.register("counter", &wasm, IfRegistered::Refuse).unwrap();
    }
    let mut seen = Vec::new();
    for operation in operations().into_iter().filter_map(|op| E::Operation::try_from(op).ok()) {
        let expected = format!("{:?}", fresh.process(&operation));
        let transaction = reused.process(&operation);
        assert_eq!(format!("{transaction:?}"), expected, "{operation:?}, check_carried_state: {check_carried_state}");
        seen.push(match transaction.call() {
            None if transaction.status() == Status::DUPLICATE => "duplicate",
            None => "built-in",
            Some(report) if report.carried_state.is_some() => "carried state",
            Some(report) => match report.outcome {
                CallOutcome::Returned(0) => "committed",
                CallOutcome::Returned(_) => "returned a status",
                CallOutcome::Trapped(_) => "trapped",
                CallOutcome::UnknownFunction => "unknown",
                _ => "other",
            },
        });
    }
    // What each transaction was written over is what this test is about.
    let mut kinds = vec!["duplicate", "built-in", "committed", "trapped", "unknown"];
    kinds.push(if check_carried_state { "carried state" } else { "returned a status" });
    for kind in kinds {
        assert!(seen.iter().skip(1).any(|seen| *seen == kind), "no {kind} in {seen:?}");
    }
}

#[test]
fn a_v1_transaction_written_over_the_last_reads_as_a_fresh_one() {
    written_over_equals_written_fresh::<ledger_core::Ledger>(false);
    written_over_equals_written_fresh::<ledger_core::Ledger>(true);
}

#[test]
fn a_v2_transaction_written_over_the_last_reads_as_a_fresh_one() {
    written_over_equals_written_fresh::<v2::Ledger>(false);
    written_over_equals_written_fresh::<v2::Ledger>(true);
}
