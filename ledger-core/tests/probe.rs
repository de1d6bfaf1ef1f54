//! The instrumented copy a probing ledger runs: same answers, same fuel,
//! and a recording whose total is the fuel charged.

use ledger_core::probe::{Recording, instrument};
use ledger_core::{CallOutcome, Engine, IfRegistered, Ledger, LedgerConfig, Limits, Operation, v2};

/// Loops, branches, a helper, host calls, an early `return`, a branch to
/// the function's label, a multi-value helper, a tail call and a trap.
const BUSY: &str = r#"
  (module
    (import "ledger" "credit" (func $credit (param i64 i64)))
    (import "ledger" "debit" (func $debit (param i64 i64)))
    (import "ledger" "get_balance" (func $balance (param i64) (result i64)))
    (memory (export "memory") 1)
    (func $pair (param i64) (result i64 i64) (local.get 0) (i64.const 1))
    (func $sum (param i64) (result i64) (local i64)
      (loop $again
        (local.set 1 (i64.add (local.get 1) (local.get 0)))
        (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
        (br_if $again (i64.gt_s (local.get 0) (i64.const 0))))
      (local.get 1))
    (func $tail (param i64) (result i32) (return_call $check (local.get 0)))
    (func $check (param i64) (result i32)
      (if (i64.lt_s (local.get 0) (i64.const 0)) (then (i32.const 140) (br 1)))
      (i32.const 0))
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
      (if (i64.eq (local.get 2) (i64.const 7)) (then unreachable))
      (if (i64.eq (local.get 2) (i64.const 1)) (then (return (i32.const 141))))
      (call $credit (local.get 0) (call $sum (local.get 2)))
      (call $debit (local.get 1) (call $sum (local.get 2)))
      (drop (call $balance (local.get 0)))
      (drop (drop (call $pair (local.get 2))))
      (call $tail (local.get 3))))
"#;

fn ledger(probe: bool, fuel: u64) -> Ledger {
    let limits = Limits { fuel_per_call: fuel, ..Limits::default() };
    let mut ledger = Ledger::new(LedgerConfig { probe, limits, ..LedgerConfig::default() }).unwrap();
    ledger.register("busy", &wat::parse_str(BUSY).unwrap(), IfRegistered::Refuse).unwrap();
    ledger
}

fn call(ledger: &mut Ledger, params: &[i64]) -> (CallOutcome, u64) {
    let tx = ledger.submit(&Operation::Function { name: "busy".into(), params: params.to_vec(), user_ref: 0 });
    let call = tx.call.unwrap();
    (call.outcome, call.fuel_used)
}

fn recording(ledger: &Ledger) -> Recording {
    let mut probes = ledger.probes();
    assert_eq!(probes.len(), 1);
    probes.remove(0).unwrap()
}

const CASES: [&[i64]; 5] = [&[1, 2, 5, 0], &[1, 2, 1, 0], &[1, 2, 7, 0], &[1, 2, 30, -4], &[1, 2, 3, 9]];

#[test]
fn a_probed_call_answers_and_costs_what_the_original_does() {
    let mut plain = ledger(false, 1_000_000);
    let mut probed = ledger(true, 1_000_000);
    let mut charged = 0;
    for params in CASES {
        let expected = call(&mut plain, params);
        assert_eq!(call(&mut probed, params), expected, "{params:?}");
        charged += expected.1;
    }
    let recording = recording(&probed);
    assert_eq!(recording.total_fuel(), charged);
    assert_eq!(recording.fuel_under("execute"), charged);
    assert!(plain.probes().is_empty(), "a ledger that does not probe records nothing");
}

#[test]
fn the_fuel_limit_falls_where_it_falls_without_probes() {
    // Every budget from nothing to enough: the same outcome at each, so a
    // run out of fuel stops at the same instruction with or without hooks.
    // (Every 4th budget, and each near the end: a ledger per budget and
    // mode compiles the module, slow in a debug build.)
    let (_, needed) = call(&mut ledger(false, 1_000_000), &[1, 2, 5, 0]);
    for fuel in (0..=needed + 1).filter(|fuel| fuel % 4 == 0 || fuel + 4 > needed) {
        let expected = call(&mut ledger(false, fuel), &[1, 2, 5, 0]);
        assert_eq!(call(&mut ledger(true, fuel), &[1, 2, 5, 0]), expected, "budget {fuel}");
    }
}

#[test]
fn the_profile_names_guest_functions_and_host_calls() {
    let mut probed = ledger(true, 1_000_000);
    call(&mut probed, &[1, 2, 5, 0]);
    let recording = recording(&probed);
    let stacks: Vec<String> = recording.folded().into_iter().map(|(stack, _)| stack).collect();
    for expected in [
        "execute",
        "execute;sum",
        "execute;ledger::credit",
        "execute;ledger::debit",
        "execute;ledger::get_balance",
        "execute;pair",
        "execute;tail",
        // A tail call replaces its caller's frame.
        "execute;check",
    ] {
        assert!(stacks.iter().any(|stack| stack == expected), "{expected} not in {stacks:?}");
    }
    let sum = recording.self_fuel().into_iter().find(|(name, _)| name == "sum").unwrap().1;
    assert!(sum > 5 * 6, "the loop ran 5 times: {sum}");
}

#[test]
fn blocks_count_what_ran_and_leave_a_skipped_branch_at_zero() {
    let mut probed = ledger(true, 1_000_000);
    call(&mut probed, &[1, 2, 5, 0]);
    let recording = recording(&probed);
    let map = &recording.map;
    let index = |name: &str| map.functions.iter().position(|f| f.name == name).unwrap() as u32;
    // `check` was given 0: its `then` (status 140) did not run.
    let check = map.blocks_of(index("check"));
    let runs: Vec<u64> = recording.blocks[check].to_vec();
    assert_eq!(runs[0], 1, "entered once: {runs:?}");
    assert!(runs.contains(&0), "the skipped branch: {runs:?}");
    // The loop body ran 5 times in each of the two calls of `sum`.
    assert!(recording.blocks[map.blocks_of(index("sum"))].contains(&10));
    assert!(recording.ran(index("ledger::credit")));
    assert!(recording.ran(index("pair")));
}

#[test]
fn the_start_function_and_register_are_their_own_roots() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ledger" "kv_register_constant" (func $define (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "limit\00")
          (global $g (mut i32) (i32.const 0))
          (func $init (global.set $g (i32.const 1)))
          (start $init)
          (func (export "register") (call $define (i32.const 0)))
          (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    let mut ledger = v2::Ledger::new(LedgerConfig { probe: true, ..LedgerConfig::default() }).unwrap();
    ledger.register("f", &wasm, IfRegistered::Refuse).unwrap();
    let recording = ledger.probes().remove(0).unwrap();
    let roots: Vec<String> = recording.folded().into_iter().map(|(stack, _)| stack).collect();
    assert!(roots.iter().any(|s| s == "init"), "{roots:?}");
    assert!(roots.iter().any(|s| s == "register;ledger::kv_register_constant"), "{roots:?}");
}

#[test]
fn a_module_without_imports_gets_the_hooks_and_keeps_its_exports() {
    let wasm = wat::parse_str(
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 3)))"#,
    )
    .unwrap();
    let (copy, map) = instrument(&wasm).unwrap();
    wasmparser::Validator::new().validate_all(&copy).unwrap();
    assert_eq!(map.functions.len(), 1);
    assert_eq!(map.functions[0].name, "execute", "named from its export");
    let mut ledger = Ledger::new(LedgerConfig { probe: true, ..LedgerConfig::default() }).unwrap();
    ledger.register("three", &wasm, IfRegistered::Refuse).unwrap();
    let tx = ledger.submit(&Operation::Function { name: "three".into(), params: vec![], user_ref: 0 });
    assert_eq!(tx.call.unwrap().outcome, CallOutcome::Returned(3));
    // The CRC is the original's, not the copy's.
    assert_eq!(ledger.list_functions()[0].crc32c, ledger_core::crc32c(&wasm));
}

#[test]
fn a_module_that_cannot_be_instrumented_says_why() {
    let garbage = instrument(b"\0asm\x01\0\0\0\x01\x02").unwrap_err();
    assert!(garbage.to_string().contains("cannot instrument"), "{garbage}");
}

#[test]
fn reached_blocks_count_what_ran_first_since_the_last_new_reach() {
    let mut probed = ledger(true, 1_000_000);
    assert_eq!(probed.reached_blocks(), 0);
    call(&mut probed, &[1, 2, 5, 0]);
    let first = probed.reached_blocks();
    assert!(first > 0);
    call(&mut probed, &[1, 2, 5, 0]);
    assert_eq!(probed.reached_blocks(), first, "the same path reaches nothing new");
    call(&mut probed, &[1, 2, 5, -3]);
    assert_eq!(probed.reached_blocks(), first + 1, "the refusal in `check` is new");
    probed.new_reach();
    assert_eq!(probed.reached_blocks(), 0);
    call(&mut probed, &[1, 2, 5, 0]);
    assert_eq!(probed.reached_blocks(), first, "counted anew");
    assert_eq!(ledger(false, 1_000_000).reached_blocks(), 0, "nothing without probes");
}

#[test]
fn a_binary_compiled_again_after_the_cache_dropped_it_records_into_the_same_recording() {
    let mut probed = ledger(true, 1_000_000);
    call(&mut probed, &[1, 2, 5, 0]);
    // 32 other binaries push it out of the runtime's module cache.
    for i in 0..32 {
        let filler = format!(
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const {i}))"#
        );
        probed.register(&format!("filler{i}"), &wat::parse_str(filler).unwrap(), IfRegistered::Refuse).unwrap();
    }
    probed.register("again", &wat::parse_str(BUSY).unwrap(), IfRegistered::Refuse).unwrap();
    probed.submit(&Operation::Function { name: "again".into(), params: vec![1, 2, 5, 0], user_ref: 0 });
    let crc = ledger_core::crc32c(&wat::parse_str(BUSY).unwrap());
    let recordings: Vec<Recording> =
        probed.probes().into_iter().map(Result::unwrap).filter(|r| r.crc32c == crc).collect();
    assert_eq!(recordings.len(), 1);
    let execute = recordings[0].map.functions.iter().position(|f| f.name == "execute").unwrap() as u32;
    assert_eq!(recordings[0].runs(execute), 2, "both calls, before and after the recompilation");
}
