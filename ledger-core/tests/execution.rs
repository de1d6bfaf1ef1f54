//! Every status path of the ledger, with a server's semantics.

mod common;

use common::{FEE_TRANSFER, call, deposit, function, ledger, ledger_with, wat};
use ledger_core::Engine;
use ledger_core::{
    CallOutcome, Entry, EntryKind, IfRegistered, Ledger, LedgerConfig, Limits, Operation, RestoreError, Status,
    TrapCode, crc32c, tags,
};

fn credit(account: u64, amount: u64, computed_balance: i64) -> Entry {
    Entry { account_id: account, amount, kind: EntryKind::Credit, computed_balance }
}

fn debit(account: u64, amount: u64, computed_balance: i64) -> Entry {
    Entry { account_id: account, amount, kind: EntryKind::Debit, computed_balance }
}

/// A function that moves 10 from account 1 to 2, then returns `ret`.
fn moves_then_returns(ret: &str) -> Vec<u8> {
    function(
        "",
        &format!("(call $credit (i64.const 1) (i64.const 10)) (call $debit (i64.const 2) (i64.const 10)) {ret}"),
    )
}

#[track_caller]
fn assert_untouched(ledger: &Ledger, tx_id: u64, status: Status) {
    let tx = ledger.transaction(tx_id).expect("recorded");
    assert_eq!(tx.status, status);
    assert!(tx.entries.is_empty(), "a failed transaction leaves no entries");
    assert_eq!(ledger.nonzero_balances().collect::<Vec<_>>(), [], "balances untouched");
}

#[test]
fn status_0_fee_transfer_commits_entries_with_computed_balances() {
    let wasm = wat(FEE_TRANSFER);
    let mut ledger = ledger_with("fee_transfer", &wasm);
    deposit(&mut ledger, 101, 20_000);
    let receipt = call(&mut ledger, "fee_transfer", &[101, 202, 999, 10_000, 50]);
    assert_eq!(receipt.status, Status::NONE);
    assert_eq!(receipt.tx_id, 2);
    assert_eq!(receipt.tag, tags::function(crc32c(&wasm)));
    assert_eq!(&receipt.tag[..4], b"fnw\n");
    let report = receipt.call.unwrap();
    assert_eq!(report.outcome, CallOutcome::Returned(0));
    assert_eq!((report.version, report.crc32c), (Some(1), crc32c(&wasm)));
    assert!(report.fuel_used > 0 && report.fuel_used < 100, "fuel {}", report.fuel_used);
    let expected = [credit(101, 10_050, 9_950), debit(202, 10_000, 10_000), debit(999, 50, 50)];
    assert_eq!(receipt.entries, expected);
    assert_eq!(ledger.transaction(2).unwrap().entries, expected);
    assert_eq!(
        (ledger.balance(101), ledger.balance(202), ledger.balance(999), ledger.balance(0)),
        (9_950, 10_000, 50, -20_000)
    );
}

#[test]
fn status_1_insufficient_funds_from_the_function() {
    let mut ledger = ledger_with("fee_transfer", &wat(FEE_TRANSFER));
    let receipt = call(&mut ledger, "fee_transfer", &[101, 202, 999, 10_000, 50]);
    assert_eq!(receipt.status, Status::INSUFFICIENT_FUNDS);
    assert_untouched(&ledger, 1, Status::INSUFFICIENT_FUNDS);
}

#[test]
fn status_3_zero_sum_violation_rolls_back() {
    let mut ledger = ledger_with(
        "f",
        &function(
            "",
            "(call $credit (i64.const 1) (i64.const 10)) (call $debit (i64.const 2) (i64.const 9)) i32.const 0",
        ),
    );
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::ZERO_SUM_VIOLATION);
    assert_untouched(&ledger, 1, Status::ZERO_SUM_VIOLATION);
}

/// Sums are u128: two credits of u64::MAX balance two debits of u64::MAX.
#[test]
fn status_0_zero_sum_is_checked_in_u128() {
    let max = "(i64.const -1)";
    let mut ledger = ledger_with(
        "f",
        &function(
            "",
            &format!(
                "(call $credit (i64.const 1) {max}) (call $credit (i64.const 1) {max}) (call $debit (i64.const 2) {max}) (call $debit (i64.const 2) {max}) i32.const 0"
            ),
        ),
    );
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::NONE);
    // u64::MAX as i64 is -1: each credit adds 1 and each debit subtracts 1.
    assert_eq!((ledger.balance(1), ledger.balance(2)), (2, -2));
}

/// `count` zero-amount debits on account 1: balanced, so only the count matters.
fn entries(count: i64) -> Vec<u8> {
    function(
        "",
        &format!(
            "(local $i i64) (loop $l (call $debit (i64.const 1) (i64.const 0))
               (local.set $i (i64.add (local.get $i) (i64.const 1)))
               (br_if $l (i64.lt_s (local.get $i) (i64.const {count})))) i32.const 0"
        ),
    )
}

#[test]
fn status_4_entry_limit_at_256_entries() {
    for (count, status) in [(254, Status::NONE), (255, Status::NONE), (256, Status::ENTRY_LIMIT_EXCEEDED)] {
        let mut ledger = ledger_with("f", &entries(count));
        let receipt = call(&mut ledger, "f", &[]);
        assert_eq!(receipt.status, status, "{count} entries");
        let committed = ledger.transaction(1).unwrap().entries.len();
        assert_eq!(committed, if status.is_success() { count as usize } else { 0 });
    }
}

/// The entry limit is checked before the zero-sum check.
#[test]
fn status_4_wins_over_zero_sum() {
    let mut ledger = ledger_with(
        "f",
        &function(
            "",
            "(local $i i64) (loop $l (call $debit (i64.const 1) (i64.const 1)) (local.set $i (i64.add (local.get $i) (i64.const 1))) (br_if $l (i64.lt_s (local.get $i) (i64.const 300)))) i32.const 0",
        ),
    );
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::ENTRY_LIMIT_EXCEEDED);
    assert_untouched(&ledger, 1, Status::ENTRY_LIMIT_EXCEEDED);
}

#[test]
fn status_5_trap_keeps_the_trap_code_and_rolls_back() {
    for (body, code) in [
        ("unreachable", TrapCode::Unreachable),
        ("(drop (i64.div_s (i64.const 1) (local.get 7))) i32.const 0", TrapCode::IntegerDivisionByZero),
        ("(drop (i64.div_s (i64.const 0x8000000000000000) (i64.const -1))) i32.const 0", TrapCode::IntegerOverflow),
    ] {
        let mut ledger = ledger_with("f", &moves_then_returns(body));
        let receipt = call(&mut ledger, "f", &[]);
        assert_eq!(receipt.status, Status::INVALID_OPERATION);
        assert_eq!(receipt.call.unwrap().outcome, CallOutcome::Trapped(code));
        assert_untouched(&ledger, 1, Status::INVALID_OPERATION);
    }
}

#[test]
fn status_5_out_of_bounds_memory() {
    let wasm = function("(memory 1)", "(drop (i64.load (i32.const 65536))) i32.const 0");
    let mut ledger = ledger_with("f", &wasm);
    assert_eq!(call(&mut ledger, "f", &[]).call.unwrap().outcome, CallOutcome::Trapped(TrapCode::MemoryOutOfBounds));
}

#[test]
fn status_5_unknown_function_has_crc_0() {
    let mut ledger = ledger();
    let receipt = call(&mut ledger, "nope", &[1, 2]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    assert_eq!(receipt.tag, tags::function(0));
    assert_eq!(receipt.call.unwrap().outcome, CallOutcome::UnknownFunction);
    assert_eq!(receipt.tx_id, 1, "an unknown function still gets a transaction id");
}

#[test]
fn status_5_out_of_fuel_on_loop_br_0() {
    let config =
        LedgerConfig { limits: Limits { fuel_per_call: 100_000, ..Limits::default() }, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    ledger.register_function("spin", &moves_then_returns("(loop br 0) i32.const 0"), IfRegistered::Refuse).unwrap();
    let receipt = call(&mut ledger, "spin", &[]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    let report = receipt.call.unwrap();
    assert_eq!(report.outcome, CallOutcome::OutOfFuel);
    assert_eq!(report.fuel_used, 100_000);
    assert_untouched(&ledger, 1, Status::INVALID_OPERATION);
    // The function stays registered and the ledger keeps working.
    assert_eq!(deposit(&mut ledger, 1, 5).status, Status::NONE);
}

#[test]
fn status_5_memory_grow_bomb_is_stopped() {
    let wasm =
        function("(memory 1)", "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) i32.const 0");
    let mut ledger = ledger_with("bomb", &wasm);
    let receipt = call(&mut ledger, "bomb", &[]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    let CallOutcome::MemoryLimit { requested_bytes, limit_bytes } = receipt.call.unwrap().outcome else { panic!() };
    assert!(requested_bytes > limit_bytes);
    assert_eq!(limit_bytes, Limits::default().max_memory_bytes);
}

/// Ten memories of 64 MiB each: the limit binds their sum, not each one.
#[test]
fn the_memory_limit_covers_all_memories_of_an_instance_together() {
    let memories: String = (0..10).map(|i| format!("(memory $m{i} 1024)")).collect();
    let mut ledger = ledger_with("many", &function(&memories, "i32.const 0"));
    let receipt = call(&mut ledger, "many", &[]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    let CallOutcome::InstantiationFailed(why) = receipt.call.unwrap().outcome else { panic!() };
    assert!(why.contains("over the limit"), "{why}");
    assert_eq!(ledger.cached_instance_bytes(), 0, "nothing is held for a refused instance");
}

/// A function whose memory counts its calls: returns 128 + the count.
fn counter() -> Vec<u8> {
    function(
        "(memory 16)",
        "(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1))) (i32.add (i32.const 128) (i32.load (i32.const 0)))",
    )
}

/// Cached instances share one budget: a new instance drops the least
/// recently used one (whose state starts afresh on its next call) instead of
/// growing past it.
#[test]
fn cached_instances_stay_within_the_budget_by_dropping_the_least_recently_used() {
    let one_mib = 16 * 64 * 1024;
    let limits = Limits { max_memory_bytes: one_mib, max_cached_bytes: 2 * one_mib, ..Limits::default() };
    let mut ledger = Ledger::new(LedgerConfig { limits, ..LedgerConfig::default() }).unwrap();
    for name in ["a", "b", "c"] {
        ledger.register_function(name, &counter(), IfRegistered::Refuse).unwrap();
    }
    let mut statuses = Vec::new();
    for name in ["a", "a", "b", "c", "a", "c"] {
        statuses.push(call(&mut ledger, name, &[]).status.code());
        assert!(ledger.cached_instance_bytes() <= 2 * one_mib, "{} bytes held", ledger.cached_instance_bytes());
    }
    // `c` dropped `a` (least recently used); `a` dropped `b`; `c` kept its state.
    assert_eq!(statuses, [129, 130, 129, 129, 129, 130]);
}

#[test]
fn status_5_deep_recursion_is_a_stack_overflow() {
    let wasm = wat(r#"(module (func $down (param i64) (result i64) (call $down (i64.add (local.get 0) (i64.const 1))))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (drop (call $down (i64.const 0))) i32.const 0))"#);
    let mut ledger = ledger_with("deep", &wasm);
    let report = call(&mut ledger, "deep", &[]).call.unwrap();
    assert_eq!(report.outcome, CallOutcome::Trapped(TrapCode::StackOverflow));
}

#[test]
fn status_6_account_limit_from_a_host_call() {
    let config = LedgerConfig { max_accounts: 100, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    let wasm = function(
        "",
        "(call $credit (local.get 0) (i64.const 10)) (call $debit (i64.const 2) (i64.const 10)) i32.const 0",
    );
    ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!(call(&mut ledger, "f", &[100]).status, Status::ACCOUNT_LIMIT_EXCEEDED);
    assert_untouched(&ledger, 1, Status::ACCOUNT_LIMIT_EXCEEDED);
    assert_eq!(call(&mut ledger, "f", &[-1]).status, Status::ACCOUNT_LIMIT_EXCEEDED, "-1 is u64::MAX");
    assert_eq!(call(&mut ledger, "f", &[99]).status, Status::NONE);
}

/// After an out-of-range move the function keeps running; its own non-zero
/// status overwrites 6, as on a server.
#[test]
fn status_6_is_overwritten_by_the_functions_own_status() {
    let config = LedgerConfig { max_accounts: 100, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    ledger
        .register_function(
            "f",
            &function("", "(call $debit (i64.const 500) (i64.const 1)) i32.const 130"),
            IfRegistered::Refuse,
        )
        .unwrap();
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::from_code(130));
}

#[test]
fn get_balance_of_an_out_of_range_account_is_0() {
    let config = LedgerConfig { max_accounts: 10, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    ledger
        .register_function(
            "f",
            &function("", "(i32.wrap_i64 (call $get_balance (i64.const -1)))"),
            IfRegistered::Refuse,
        )
        .unwrap();
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::NONE);
}

#[test]
fn status_7_duplicate_user_ref_across_kinds_and_failures() {
    let mut ledger = ledger_with("f", &moves_then_returns("i32.const 130"));
    let failed = ledger.submit(&Operation::Function { name: "f".into(), params: vec![], user_ref: 42 });
    assert_eq!(failed.status, Status::from_code(130));
    // A failed transaction's user_ref still counts.
    let dup = ledger.submit(&Operation::Deposit { account: 1, amount: 5, user_ref: 42 });
    assert_eq!(dup.status, Status::DUPLICATE);
    assert_eq!(dup.tag, tags::DUPLICATE);
    assert_eq!(dup.duplicate_of, Some(failed.tx_id));
    assert_eq!(dup.tx_id, failed.tx_id + 1, "a duplicate gets its own id");
    assert_eq!(ledger.balance(1), 0);
    // user_ref 0 never deduplicates.
    for _ in 0..3 {
        assert_eq!(ledger.submit(&Operation::Deposit { account: 1, amount: 5, user_ref: 0 }).status, Status::NONE);
    }
    assert_eq!(ledger.balance(1), 15);
}

#[test]
fn custom_statuses_128_to_255_roll_back() {
    for (ret, status) in [
        ("i32.const 128", 128),
        ("i32.const 200", 200),
        ("i32.const 255", 255),
        ("i32.const -1", 255),
        ("i32.const 511", 255),
    ] {
        let mut ledger = ledger_with("f", &moves_then_returns(ret));
        let receipt = call(&mut ledger, "f", &[]);
        assert_eq!(receipt.status, Status::from_code(status), "{ret}");
        assert!(receipt.status.is_user_defined());
        assert_untouched(&ledger, 1, Status::from_code(status));
    }
}

/// The server keeps the low byte of the return value.
#[test]
fn return_256_commits() {
    let mut ledger = ledger_with("f", &moves_then_returns("i32.const 256"));
    let receipt = call(&mut ledger, "f", &[]);
    assert_eq!(receipt.status, Status::NONE);
    assert_eq!(receipt.call.unwrap().outcome, CallOutcome::Returned(256));
    assert_eq!((ledger.balance(1), ledger.balance(2)), (-10, 10));
}

#[test]
fn return_through_i32_wrap_keeps_the_low_byte() {
    let mut ledger = ledger_with("f", &moves_then_returns("(i32.wrap_i64 (i64.const 0x100000003))"));
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::ZERO_SUM_VIOLATION);
}

#[test]
fn params_are_zero_padded_and_extra_ones_dropped() {
    // Returns param 7's low byte.
    let mut ledger = ledger_with("f", &function("", "(i32.wrap_i64 (local.get 7))"));
    assert_eq!(call(&mut ledger, "f", &[1, 2]).status, Status::NONE);
    assert_eq!(call(&mut ledger, "f", &[0, 0, 0, 0, 0, 0, 0, 130]).status, Status::from_code(130));
    assert_eq!(call(&mut ledger, "f", &[0, 0, 0, 0, 0, 0, 0, 0, 131]).status, Status::NONE);
}

#[test]
fn get_balance_includes_the_transactions_own_moves() {
    let mut ledger = ledger_with(
        "f",
        &function(
            "",
            "(call $credit (i64.const 1) (i64.const 10)) (call $debit (i64.const 2) (i64.const 10)) (if (result i32) (i64.eq (call $get_balance (i64.const 1)) (i64.const -10)) (then (i32.const 0)) (else (i32.const 200)))",
        ),
    );
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::NONE);
}

#[test]
fn deposit_withdrawal_transfer_entries_and_tags() {
    let mut ledger = ledger();
    let d = deposit(&mut ledger, 1, 100);
    assert_eq!((d.status, d.tag), (Status::NONE, tags::DEPOSIT));
    assert_eq!(d.entries, [debit(1, 100, 100), credit(0, 100, -100)]);
    let w = ledger.submit(&Operation::Withdrawal { account: 1, amount: 30, user_ref: 0 });
    assert_eq!((w.status, w.tag), (Status::NONE, tags::WITHDRAWAL));
    assert_eq!(w.entries, [credit(1, 30, 70), debit(0, 30, -70)]);
    let t = ledger.submit(&Operation::Transfer { from: 1, to: 2, amount: 70, user_ref: 0 });
    assert_eq!((t.status, t.tag), (Status::NONE, tags::TRANSFER));
    assert_eq!(t.entries, [credit(1, 70, 0), debit(2, 70, 70)]);
    assert_eq!(
        ledger.submit(&Operation::Withdrawal { account: 1, amount: 1, user_ref: 0 }).status,
        Status::INSUFFICIENT_FUNDS
    );
    assert_eq!(
        ledger.submit(&Operation::Transfer { from: 1, to: 2, amount: 1, user_ref: 0 }).status,
        Status::INSUFFICIENT_FUNDS
    );
    // from == to: a no-op that commits without a funds check.
    let same = ledger.submit(&Operation::Transfer { from: 1, to: 1, amount: 1_000, user_ref: 0 });
    assert_eq!(same.status, Status::NONE);
    assert!(same.entries.is_empty());
    assert_eq!(deposit(&mut ledger, 3, 0).status, Status::NONE, "amount 0 is accepted");
    assert_eq!(ledger.next_tx_id(), 8);
}

#[test]
fn built_ins_on_out_of_range_accounts() {
    let config = LedgerConfig { max_accounts: 10, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    assert_eq!(deposit(&mut ledger, 10, 5).status, Status::ACCOUNT_LIMIT_EXCEEDED);
    assert_eq!(
        ledger.submit(&Operation::Withdrawal { account: 10, amount: 5, user_ref: 0 }).status,
        Status::INSUFFICIENT_FUNDS
    );
    assert_eq!(
        ledger.submit(&Operation::Withdrawal { account: 10, amount: 0, user_ref: 0 }).status,
        Status::ACCOUNT_LIMIT_EXCEEDED
    );
    deposit(&mut ledger, 1, 5);
    assert_eq!(
        ledger.submit(&Operation::Transfer { from: 1, to: 10, amount: 5, user_ref: 0 }).status,
        Status::ACCOUNT_LIMIT_EXCEEDED
    );
    assert_eq!(ledger.balance(1), 5, "the credit on `from` was rolled back");
}

/// `amount as i64` wraps for amounts >= 2^63, as on a server: a withdrawal of
/// 2^63 passes the funds check and raises the balance.
#[test]
fn amounts_of_2_pow_63_wrap() {
    let mut ledger = ledger();
    let huge = 1u64 << 63;
    assert_eq!(ledger.submit(&Operation::Withdrawal { account: 1, amount: huge, user_ref: 0 }).status, Status::NONE);
    assert_eq!(ledger.balance(1), i64::MAX, "0 - i64::MIN saturates to i64::MAX");
    let mut ledger = ledger_with(
        "f",
        &function(
            "",
            "(call $debit (i64.const 1) (local.get 0)) (call $credit (i64.const 2) (local.get 0)) i32.const 0",
        ),
    );
    let report = call(&mut ledger, "f", &[i64::MIN]).call.unwrap();
    assert!(report.wrapped_amount, "reported");
    assert_eq!((ledger.balance(1), ledger.balance(2)), (i64::MIN, i64::MAX));
    assert!(!call(&mut ledger, "f", &[5]).call.unwrap().wrapped_amount);
}

/// A server reuses one instance per (name, crc): a mutable global persists.
/// The ledger does the same, and with `check_carried_state` says so.
#[test]
fn carried_state_is_reproduced_and_detected() {
    let counter = function(
        "(global $n (mut i32) (i32.const 0))",
        "(global.set $n (i32.add (global.get $n) (i32.const 1))) (i32.add (global.get $n) (i32.const 127))",
    );
    let mut plain = ledger_with("counter", &counter);
    let statuses: Vec<u8> = (0..3).map(|_| call(&mut plain, "counter", &[]).status.code()).collect();
    assert_eq!(statuses, [128, 129, 130], "state persists, as on a server");
    assert!(call(&mut plain, "counter", &[]).call.unwrap().carried_state.is_none(), "not checked by default");

    let config = LedgerConfig { check_carried_state: true, ..LedgerConfig::default() };
    let mut checked = Ledger::new(config).unwrap();
    checked.register_function("counter", &counter, IfRegistered::Refuse).unwrap();
    let first = call(&mut checked, "counter", &[]).call.unwrap();
    assert!(first.carried_state.is_none(), "the first call matches a fresh instance");
    let second = call(&mut checked, "counter", &[]);
    assert_eq!(second.status, Status::from_code(129), "the server's result stands");
    let carried = second.call.unwrap().carried_state.expect("detected");
    assert_eq!(carried.fresh_outcome, CallOutcome::Returned(128));
}

#[test]
fn stateless_functions_pass_the_carried_state_check() {
    let config = LedgerConfig { check_carried_state: true, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    ledger.register_function("fee_transfer", &wat(FEE_TRANSFER), IfRegistered::Refuse).unwrap();
    deposit(&mut ledger, 1, 1_000_000);
    for _ in 0..3 {
        let receipt = call(&mut ledger, "fee_transfer", &[1, 2, 3, 1000, 50]);
        assert_eq!(receipt.status, Status::NONE);
        assert!(receipt.call.unwrap().carried_state.is_none());
    }
    assert_eq!(ledger.balance(1), 1_000_000 - 3 * 1005, "the check run left no trace");
}

#[test]
fn fuel_used_is_deterministic() {
    let mut ledger = ledger_with("fee_transfer", &wat(FEE_TRANSFER));
    deposit(&mut ledger, 1, 1_000_000);
    let a = call(&mut ledger, "fee_transfer", &[1, 2, 3, 1000, 50]).call.unwrap().fuel_used;
    let b = call(&mut ledger, "fee_transfer", &[1, 2, 3, 1000, 50]).call.unwrap().fuel_used;
    assert_eq!(a, b);
}

#[test]
fn history_can_be_turned_off() {
    let config = LedgerConfig { keep_history: false, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    let tx = deposit(&mut ledger, 1, 1);
    assert!(ledger.transaction(1).is_none());
    assert_eq!(tx.entries.len(), 2, "submit still returns the transaction");
}

#[test]
fn seed_balance_sets_a_starting_state() {
    let config = LedgerConfig { max_accounts: 10, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    ledger.seed_balance(3, -40);
    ledger.seed_balance(10, 5); // out of range: ignored
    assert_eq!(ledger.nonzero_balances().collect::<Vec<_>>(), [(3, -40)]);
    assert_eq!(ledger.next_tx_id(), 1, "no transaction");
    ledger.reset_balances();
    assert_eq!(ledger.nonzero_balances().count(), 0);
}

/// A ledger restored from records reaches the same balances, dedup set and
/// history without running any function.
#[test]
fn restore_replays_recorded_effects() {
    let mut live = ledger_with("fee_transfer", &wat(FEE_TRANSFER));
    let ops = [
        Operation::Deposit { account: 1, amount: 50_000, user_ref: 9 },
        Operation::Function { name: "fee_transfer".into(), params: vec![1, 2, 3, 10_000, 50], user_ref: 0 },
        Operation::Function { name: "fee_transfer".into(), params: vec![1, 2, 3, 90_000, 50], user_ref: 10 },
        Operation::Withdrawal { account: 2, amount: 1, user_ref: 9 },
    ];
    let records: Vec<_> = ops.iter().map(|op| live.submit(op)).collect();
    assert_eq!(records[3].duplicate_of, Some(1));
    let mut restored = ledger();
    for record in &records {
        restored.restore(record).unwrap();
    }
    assert_eq!(restored.nonzero_balances().collect::<Vec<_>>(), live.nonzero_balances().collect::<Vec<_>>());
    assert_eq!(restored.next_tx_id(), live.next_tx_id());
    let logged = ledger_core::Transaction { call: None, ..live.transaction(2).unwrap().clone() };
    assert_eq!(restored.transaction(2), Some(&logged), "everything but the call report, which is not logged");
    let again = restored.submit(&Operation::Deposit { account: 5, amount: 1, user_ref: 10 });
    assert_eq!(again.status, Status::DUPLICATE, "a failed transaction's user_ref was restored too");
    assert!(matches!(restored.restore(&records[0]).unwrap_err(), RestoreError::OutOfOrder { expected: 6, .. }));
}

/// The server's rollback of a saturated move does not restore the balance
/// exactly; a restored ledger must show what the live one showed.
#[test]
fn restore_reproduces_what_a_rollback_after_a_saturated_move_left() {
    // mv: debit(p0, p2); credit(p1, p2); return p3
    let mv = function(
        "",
        "local.get 0 local.get 2 call $debit local.get 1 local.get 2 call $credit local.get 3 i32.wrap_i64",
    );
    let mut live = ledger_with("mv", &mv);
    let near_max = i64::MAX as u64 - 7;
    let committed = call(&mut live, "mv", &[1, 0, near_max as i64, 0]);
    assert_eq!(committed.status, Status::NONE);
    let failed = call(&mut live, "mv", &[1, 2, 10, 1]);
    assert_eq!(failed.status, Status::INSUFFICIENT_FUNDS);
    assert_eq!(live.balance(1), i64::MAX - 10, "the inverse of a saturated move is not exact");
    assert_eq!(failed.rolled_back, [(1, i64::MAX - 10), (2, 0)]);

    let mut restored = ledger_with("mv", &mv);
    restored.restore(&committed).unwrap();
    restored.restore(&failed).unwrap();
    assert_eq!(restored.nonzero_balances().collect::<Vec<_>>(), live.nonzero_balances().collect::<Vec<_>>());
}

#[test]
fn an_initial_memory_over_the_limit_fails_instantiation() {
    // 2000 pages = 125 MiB, over the default 64 MiB.
    let mut ledger = ledger_with("big", &function("(memory 2000)", "i32.const 0"));
    let receipt = call(&mut ledger, "big", &[]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    assert_eq!(receipt.tag, tags::function(0), "nothing ran");
    let CallOutcome::InstantiationFailed(why) = receipt.call.unwrap().outcome else { panic!() };
    assert!(why.contains("over the limit"), "{why}");
}

#[test]
fn max_accounts_over_the_in_process_limit_is_refused() {
    let config = LedgerConfig { max_accounts: ledger_core::MAX_ACCOUNTS_LIMIT + 1, ..LedgerConfig::default() };
    let err = Ledger::new(config).err().expect("refused");
    assert!(err.to_string().contains("max_accounts"), "{err}");
}

/// An interrupt from another thread stops a call that would run for as long
/// as its (huge) fuel lasts: a trap, status 5, balances untouched. The
/// interrupt repeats until the call is answered, so the test holds however
/// fast the machine is; the next call runs normally.
#[test]
fn an_interrupt_stops_a_running_call() {
    let spin = wat(
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (loop br 0) i32.const 0))"#,
    );
    let config =
        LedgerConfig { limits: Limits { fuel_per_call: u64::MAX / 2, ..Limits::default() }, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    ledger.register_function("spin", &spin, IfRegistered::Refuse).unwrap();
    ledger.register_function("commits", &moves_then_returns("i32.const 0"), IfRegistered::Refuse).unwrap();
    let interrupter = ledger.interrupter();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let running = {
        let done = done.clone();
        std::thread::spawn(move || {
            let receipt = call(&mut ledger, "spin", &[]);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            (ledger, receipt)
        })
    };
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        interrupter.interrupt();
        std::thread::yield_now();
    }
    let (mut ledger, receipt) = running.join().unwrap();
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    assert_eq!(receipt.call.unwrap().outcome, CallOutcome::Trapped(TrapCode::Interrupted));
    assert_untouched(&ledger, receipt.tx_id, Status::INVALID_OPERATION);
    assert_eq!(call(&mut ledger, "commits", &[]).status, Status::NONE, "later calls are not interrupted");
}

/// An interrupt while no call runs stops nothing: the next call of a
/// function whose instance ran before (its deadline armed then) runs to
/// the end, and so does one of a function instantiated after it.
#[test]
fn an_interrupt_between_calls_stops_no_later_call() {
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    ledger.register_function("commits", &moves_then_returns("i32.const 0"), IfRegistered::Refuse).unwrap();
    ledger.register_function("later", &moves_then_returns("i32.const 0"), IfRegistered::Refuse).unwrap();
    assert_eq!(call(&mut ledger, "commits", &[]).status, Status::NONE);
    let interrupter = ledger.interrupter();
    for _ in 0..3 {
        interrupter.interrupt();
        assert_eq!(call(&mut ledger, "commits", &[]).status, Status::NONE, "a cached instance");
        assert_eq!(call(&mut ledger, "commits", &[]).status, Status::NONE, "and again, with no new interrupt");
    }
    assert_eq!(call(&mut ledger, "later", &[]).status, Status::NONE, "a new instance");
}

/// A ledger's compiler works on another thread with no borrow of the
/// ledger; the compiled function installs and runs like a registered one.
#[test]
fn a_function_compiled_on_another_thread_installs_and_runs() {
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    let compiler = ledger.compiler();
    let wasm = moves_then_returns("i32.const 0");
    let compiled = std::thread::spawn(move || compiler.compile(&wasm)).join().unwrap().unwrap();
    let prepared = ledger.prepare_compiled("mv", compiled, IfRegistered::Refuse).unwrap();
    assert_eq!(ledger.install_function(prepared).version, 1);
    assert_eq!(call(&mut ledger, "mv", &[]).status, Status::NONE);
    assert!(ledger.compiler().compile(b"junk").is_err(), "a server's binary checks");
}

/// A `user_ref` is a duplicate within the window after its first use, new
/// after it; the history keeps the latest `max_history` transactions.
#[test]
fn the_dedup_window_and_the_history_are_bounded() {
    let config = LedgerConfig { dedup_window: 3, max_history: 2, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    let deposit = |user_ref| Operation::Deposit { account: 1, amount: 1, user_ref };
    assert_eq!(ledger.submit(&deposit(7)).status, Status::NONE); // tx 1
    assert_eq!(ledger.submit(&deposit(0)).status, Status::NONE); // tx 2
    let repeat = ledger.submit(&deposit(7)); // tx 3, within 3 of tx 1
    assert_eq!((repeat.status, repeat.duplicate_of), (Status::DUPLICATE, Some(1)));
    assert_eq!(ledger.submit(&deposit(0)).status, Status::NONE); // tx 4
    assert_eq!(ledger.submit(&deposit(7)).status, Status::NONE, "tx 5 is past the window of tx 1");
    assert_eq!(ledger.balance(1), 4);
    assert!(ledger.transaction(3).is_none(), "dropped from the history");
    assert_eq!(ledger.transaction(4).map(|tx| tx.tx_id), Some(4));
    assert_eq!(ledger.transaction(5).map(|tx| tx.tx_id), Some(5));
    assert!(ledger.transaction(6).is_none());
}
