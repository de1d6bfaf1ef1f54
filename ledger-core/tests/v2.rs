//! The v2 engine against what a running e14b146 server did (`head.md`,
//! "Observed"), one behaviour per test, with real modules under wasmtime.

use ledger_core::Engine;
use ledger_core::abi::V2;
use ledger_core::v2::{AccountStatus, CONSTANT_BIT, Ledger, Operation, Record, Transaction};
use ledger_core::{
    BinaryError, CallOutcome, Entry, EntryKind, ErrorCode, IfRegistered, LedgerConfig, RegistryError, Status, TrapCode,
};

/// Every v2 host import, declared from the ABI table as `$name`.
fn imports() -> String {
    let mut wat = String::new();
    ledger_core::abi::bindings::wat_imports(&V2, &mut wat).expect("writing to a String");
    wat
}

/// A module with every import, a memory holding `counter` at 16 and a
/// 40-byte name at 64, extra fields and `execute`'s body.
fn module(extra: &str, body: &str) -> Vec<u8> {
    let source = format!(
        r#"(module {imports} {extra}
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) {body}))"#,
        imports = imports()
    );
    wat::parse_str(&source).unwrap_or_else(|e| panic!("bad test WAT: {e}"))
}

const MEMORY: &str = r#"(memory (export "memory") 1)
    (data (i32.const 16) "counter\00")
    (data (i32.const 64) "a_name_that_is_forty_bytes_long_________\00")"#;

fn ledger() -> Ledger {
    Ledger::new(LedgerConfig::default()).expect("engine")
}

fn open(ledger: &mut Ledger, count: u32) -> Transaction {
    ledger.submit(&Operation::OpenAccount { count, user_ref: 0 })
}

fn call(ledger: &mut Ledger, name: &str, params: &[i64]) -> Transaction {
    ledger.submit(&Operation::Function { name: name.into(), params: params.to_vec(), user_ref: 0 })
}

fn register(ledger: &mut Ledger, name: &str, wasm: &[u8]) -> Result<u32, RegistryError> {
    ledger.register_function(name, wasm, IfRegistered::Override).map(|r| r.registered.version)
}

/// The counter observed on a running server: a KV counter under the
/// constant `counter` keyed by account p0, flag lane 2 set to 7, a link of
/// type 1, then debit p0 / credit 0 by 1.
fn counter() -> Vec<u8> {
    module(
        &format!(r#"{MEMORY} (func (export "register") (call $kv_register_constant (i32.const 16)))"#),
        r#"(local $c i32) (local $a i32)
           (local.set $c (call $kv_get_constant (i32.const 16)))
           (local.set $a (i32.wrap_i64 (local.get 0)))
           (call $kv_set (local.get $c) (local.get $a) (i32.const 0) (i32.const 0)
             (i64.add (call $kv_get (local.get $c) (local.get $a) (i32.const 0) (i32.const 0)) (i64.const 1)))
           (if (i32.eqz (call $has_flag (local.get 0) (i32.const 2) (i32.const 7)))
             (then (call $set_flag (local.get 0) (i32.const 2) (i32.const 7))))
           (drop (call $linked_account (local.get 0) (i32.const 1)))
           (drop (call $get_balance (local.get 0)))
           (call $debit (local.get 0) (i64.const 1))
           (call $credit (i64.const 0) (i64.const 1))
           (i32.const 0)"#,
    )
}

#[test]
fn the_counter_commits_the_records_the_server_committed_in_its_order() {
    let mut ledger = ledger();
    let registration = ledger.register_function("counter", &counter(), IfRegistered::Refuse).unwrap();
    assert_eq!(registration.transaction.tag, *b"FNREG\0\0\0");
    assert_eq!(registration.transaction.records, [Record::KvConstant { id: 1, name: b"counter".to_vec() }]);
    let opened = open(&mut ledger, 3);
    assert_eq!(opened.tag, *b"OPENACC\0");
    assert_eq!(opened.records, [Record::AccountOpened { begin: 1, count: 3, flags: 1 }]);

    let first = call(&mut ledger, "counter", &[1]);
    assert_eq!(first.status, Status::NONE, "{:?}", first.call);
    let key = [1 | CONSTANT_BIT, 1, 0, 0];
    let entry = |account_id, kind, computed_balance| Entry { account_id, amount: 1, kind, computed_balance };
    assert_eq!(
        first.records,
        [
            Record::Kv { key, value: 1 },
            Record::FlagsUpdated { account_id: 1, prev: 1, new: 458_753 },
            Record::AccountOpened { begin: 4, count: 1, flags: 2 },
            Record::AccountLinked { parent: 1, link_type: 1, child: 4 },
            Record::Entry(entry(1, EntryKind::Debit, 1)),
            Record::Entry(entry(0, EntryKind::Credit, -1)),
        ]
    );
    let second = call(&mut ledger, "counter", &[1]);
    assert_eq!(second.records.len(), 3, "kv and the two entries: {:?}", second.records);
    assert_eq!(ledger.kv(key), 2);
    assert_eq!(ledger.flags(1), 458_753);
    assert_eq!(ledger.account_status(4), AccountStatus::Programmed);
    assert_eq!(ledger.state().linked_accounts(1).collect::<Vec<_>>(), [(1, 4)]);
}

#[test]
fn an_unopened_account_fails_with_2_and_leaves_no_kv_flag_or_link() {
    let mut ledger = ledger();
    register(&mut ledger, "counter", &counter()).unwrap();
    open(&mut ledger, 3);
    let failed = call(&mut ledger, "counter", &[50]);
    assert_eq!(failed.status, Status::ACCOUNT_NOT_FOUND);
    assert!(failed.records.is_empty());
    assert_eq!(ledger.kv([1 | CONSTANT_BIT, 50, 0, 0]), 0);
    assert_eq!(ledger.flags(50), 0);
    assert_eq!(ledger.state().linked_accounts(50).count(), 0);
    assert_eq!(ledger.state().next_account(), 4, "the allocator is rewound");
    assert_eq!(ledger.balance(0), 0);
}

#[test]
fn built_ins_need_open_accounts() {
    let mut ledger = ledger();
    let deposit = |account| Operation::Deposit { account, amount: 5, user_ref: 0 };
    assert_eq!(ledger.submit(&deposit(1)).status, Status::ACCOUNT_NOT_FOUND, "never opened");
    assert_eq!(ledger.submit(&deposit(0)).status, Status::ACCOUNT_NOT_FOUND, "0 is SYSTEM, not OPEN");
    open(&mut ledger, 1);
    assert_eq!(ledger.submit(&deposit(1)).status, Status::NONE);
    let transfer = |from, to| Operation::Transfer { from, to, amount: 1, user_ref: 0 };
    assert_eq!(ledger.submit(&transfer(1, 9)).status, Status::ACCOUNT_NOT_FOUND);
    assert_eq!(ledger.submit(&transfer(9, 9)).status, Status::ACCOUNT_NOT_FOUND, "checked before the no-op");
    assert_eq!(ledger.submit(&transfer(1, 1)).status, Status::NONE);
    let withdrawal = Operation::Withdrawal { account: 1, amount: 6, user_ref: 0 };
    assert_eq!(ledger.submit(&withdrawal).status, Status::INSUFFICIENT_FUNDS);
    assert_eq!(ledger.balance(1), 5);
    let zero = open(&mut ledger, 0);
    assert_eq!(zero.records, [Record::AccountOpened { begin: 2, count: 1, flags: 1 }], "count 0 opens one");
}

#[test]
fn a_programmed_account_is_refused_by_built_ins() {
    let mut ledger = ledger();
    let link = module("", "(drop (call $linked_account (local.get 0) (i32.const 1))) (i32.const 0)");
    register(&mut ledger, "link", &link).unwrap();
    open(&mut ledger, 1);
    assert_eq!(call(&mut ledger, "link", &[1]).status, Status::NONE);
    assert_eq!(ledger.account_status(2), AccountStatus::Programmed);
    let deposit = Operation::Deposit { account: 2, amount: 1, user_ref: 0 };
    assert_eq!(ledger.submit(&deposit).status, Status::ACCOUNT_NOT_FOUND);
}

#[test]
fn a_module_with_an_unknown_import_registers_and_every_call_fails_with_5() {
    let mut ledger = ledger();
    let wasm = wat::parse_str(
        r#"(module (import "env" "nope" (func))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let registration = ledger.register_function("nope", &wasm, IfRegistered::Refuse).unwrap();
    assert!(registration.not_instantiable.is_some_and(|why| why.to_string().contains("nope")));
    let failed = call(&mut ledger, "nope", &[]);
    assert_eq!(failed.status, Status::INVALID_OPERATION);
    assert_eq!(failed.tag, *b"fnw\n\0\0\0\0", "CRC 0, as for an unknown function");
}

/// A failing `register()`: the server's INTERNAL message with the status,
/// the registration rolled back.
#[test]
fn a_failing_register_is_refused_with_its_status_and_rolled_back() {
    for (register_body, status) in [
        ("(call $credit (i64.const 0) (i64.const 1))", 8),
        ("unreachable", 5),
        ("(call $kv_register_constant (i32.const 64))", 10),
        ("(drop (call $kv_get_constant (i32.const 16)))", 8),
    ] {
        let mut ledger = ledger();
        let wasm = module(&format!(r#"{MEMORY} (func (export "register") {register_body})"#), "i32.const 0");
        let err = ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap_err();
        assert!(
            matches!(err, RegistryError::RegisterFailed { status: s, .. } if s == status),
            "{register_body}: {err:?}"
        );
        assert_eq!(err.to_string(), format!("function registration failed: FailReason({status})"));
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(ledger.list_functions().is_empty(), "{register_body}: rolled back");
        let failed = ledger.transaction(1).expect("the registration took transaction 1");
        assert_eq!((failed.status.code(), failed.records.len()), (status, 0));
        assert_eq!(ledger.next_tx_id(), 2);
    }
}

#[test]
fn a_failed_register_keeps_the_previous_version_and_drops_its_constants() {
    let mut ledger = ledger();
    assert_eq!(register(&mut ledger, "counter", &counter()).unwrap(), 1);
    let bad = module(
        &format!(
            r#"{MEMORY} (data (i32.const 128) "other\00")
               (func (export "register") (call $kv_register_constant (i32.const 128)) unreachable)"#
        ),
        "i32.const 0",
    );
    assert!(matches!(register(&mut ledger, "counter", &bad), Err(RegistryError::RegisterFailed { status: 5, .. })));
    assert_eq!(ledger.list_functions()[0].version, 1, "version 1 still live");
    assert_eq!(ledger.constant(b"other"), None);
    open(&mut ledger, 1);
    assert_eq!(call(&mut ledger, "counter", &[1]).status, Status::NONE, "the previous binary runs");
    assert_eq!(register(&mut ledger, "counter", &counter()).unwrap(), 2, "the failed version was not used");
}

#[test]
fn register_runs_once_on_the_instance_calls_reuse() {
    let mut ledger = ledger();
    let wasm = module(
        r#"(global $set (mut i32) (i32.const 0)) (func (export "register") (global.set $set (i32.const 42)))"#,
        "global.get $set",
    );
    register(&mut ledger, "g", &wasm).unwrap();
    assert_eq!(call(&mut ledger, "g", &[]).status.code(), 42, "execute saw what register() left");
}

#[test]
fn an_unknown_constant_is_status_9_and_a_trap() {
    let mut ledger = ledger();
    let wasm = module(MEMORY, "(drop (call $kv_get_constant (i32.const 16))) (i32.const 0)");
    register(&mut ledger, "f", &wasm).unwrap();
    let failed = call(&mut ledger, "f", &[]);
    assert_eq!(failed.status, Status::CONSTANT_NOT_FOUND);
    let outcome = failed.call.unwrap().outcome;
    assert!(
        matches!(&outcome, CallOutcome::Trapped(TrapCode::Host(trap)) if trap.import == "kv_get_constant" && trap.reason.contains("`counter`")),
        "{outcome}"
    );
}

#[test]
fn names_are_read_from_memory_as_the_server_reads_them() {
    let mut ledger = ledger();
    let without_memory = module("", "(drop (call $kv_get_constant (i32.const 0))) (i32.const 0)");
    register(&mut ledger, "bare", &without_memory).unwrap();
    let failed = call(&mut ledger, "bare", &[]);
    assert_eq!(failed.status, Status::INVALID_OPERATION, "no memory: a trap with no host reason");
    assert!(failed.call.unwrap().outcome.to_string().contains("no memory named `memory`"));

    let at = |ptr: u32| module(MEMORY, &format!("(drop (call $kv_get_constant (i32.const {ptr}))) (i32.const 0)"));
    register(&mut ledger, "end", &at(65_536)).unwrap();
    assert_eq!(call(&mut ledger, "end", &[]).status, Status::CONSTANT_NOT_FOUND, "the pointer at the end reads ``");
    register(&mut ledger, "past", &at(65_537)).unwrap();
    assert_eq!(call(&mut ledger, "past", &[]).status, Status::INVALID_OPERATION, "past the end: a trap");
}

#[test]
fn statuses_compose_as_the_server_composes_them() {
    let mut ledger = ledger();
    for (ret, expected) in [("i32.const 0", 2), ("i32.const 130", 130), ("unreachable", 2)] {
        let wasm = module("", &format!("(call $credit (i64.const 99) (i64.const 1)) {ret}"));
        register(&mut ledger, "f", &wasm).unwrap();
        assert_eq!(call(&mut ledger, "f", &[]).status.code(), expected, "{ret}");
    }
    for (ret, expected) in [(256, 0), (300, 44)] {
        register(&mut ledger, "f", &module("", &format!("i32.const {ret}"))).unwrap();
        assert_eq!(call(&mut ledger, "f", &[]).status.code(), expected, "{ret}");
    }
}

#[test]
fn flag_lanes_act_modulo_8_and_link_types_keep_16_bits() {
    let mut ledger = ledger();
    open(&mut ledger, 1);
    let wasm = module(
        "",
        "(call $set_flag (i64.const 1) (i32.const 9) (i32.const 5))
         (drop (call $linked_account (i64.const 1) (i32.const 70000)))
         (i32.const 0)",
    );
    register(&mut ledger, "f", &wasm).unwrap();
    let tx = call(&mut ledger, "f", &[]);
    assert!(tx.records.contains(&Record::FlagsUpdated { account_id: 1, prev: 1, new: 0x0501 }), "{:?}", tx.records);
    assert!(tx.records.contains(&Record::AccountLinked { parent: 1, link_type: 4464, child: 2 }));
    let lane0 = module("", "(call $set_flag (i64.const 1) (i32.const 0) (i32.const 2)) (i32.const 0)");
    register(&mut ledger, "f", &lane0).unwrap();
    call(&mut ledger, "f", &[]);
    assert_eq!(ledger.account_status(1), AccountStatus::Programmed, "lane 0 is writable");
}

#[test]
fn a_wrong_register_export_is_refused_with_the_servers_words() {
    let mut ledger = ledger();
    for (extra, message) in [
        (r#"(global (export "register") i32 (i32.const 0))"#, "export `register` is not a function"),
        (r#"(func (export "register") (param i32))"#, "`register` must take no parameters and return nothing"),
        (
            r#"(func (export "register") (result i32) i32.const 0)"#,
            "`register` must take no parameters and return nothing",
        ),
    ] {
        let err = ledger.register_function("f", &module(extra, "i32.const 0"), IfRegistered::Refuse).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidBinary(BinaryError::OptionalExport(_))), "{err:?}");
        assert_eq!(err.to_string(), message);
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
    }
    assert_eq!(ledger.next_tx_id(), 1, "refused before any transaction");
}

#[test]
fn more_than_65535_records_is_status_4_and_rolls_back() {
    let mut ledger = ledger();
    let wasm = module(
        "",
        "(local $i i32)
         (loop $next
           (call $kv_set (local.get $i) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 1))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br_if $next (i32.le_u (local.get $i) (i32.wrap_i64 (local.get 0)))))
         (i32.const 0)",
    );
    register(&mut ledger, "many", &wasm).unwrap();
    assert_eq!(call(&mut ledger, "many", &[65_534]).status, Status::NONE, "65,535 records");
    let over = call(&mut ledger, "many", &[65_535]);
    assert_eq!(over.status, Status::ENTRY_LIMIT_EXCEEDED);
    assert!(over.records.is_empty());
}

#[test]
fn registrations_and_unregisters_are_transactions() {
    let mut ledger = ledger();
    register(&mut ledger, "counter", &counter()).unwrap();
    let unregister = ledger.unregister_function("counter").unwrap();
    assert_eq!((unregister.tx_id, unregister.tag), (2, *b"FNREG\0\0\0"));
    let function = unregister.function.unwrap();
    assert_eq!((function.version, function.crc32c), (2, 0), "version N+1, CRC 0");
    assert!(matches!(ledger.unregister_function("counter"), Err(RegistryError::NotFound(_))));
    assert_eq!(ledger.next_tx_id(), 3, "a refused unregister takes no id");
    assert_eq!(ledger.constant(b"counter"), Some(1), "constants outlive the function");
}

#[test]
fn a_duplicate_user_ref_is_status_7_with_a_link() {
    let mut ledger = ledger();
    let first = ledger.submit(&Operation::OpenAccount { count: 1, user_ref: 9 });
    let again = ledger.submit(&Operation::OpenAccount { count: 1, user_ref: 9 });
    assert_eq!((again.status, again.duplicate_of, again.tag), (Status::DUPLICATE, Some(first.tx_id), *b"DUPLICAT"));
    assert_eq!(ledger.state().next_account(), 2, "opened once");
}

#[test]
fn state_kept_between_calls_is_detected_on_a_fresh_instance() {
    let config = LedgerConfig { check_carried_state: true, ..LedgerConfig::default() };
    let mut ledger = Ledger::new(config).unwrap();
    let wasm = module(
        r#"(global $calls (mut i32) (i32.const 0))"#,
        "(global.set $calls (i32.add (global.get $calls) (i32.const 1))) (i32.mul (global.get $calls) (i32.const 128))",
    );
    register(&mut ledger, "g", &wasm).unwrap();
    let first = call(&mut ledger, "g", &[]);
    assert_eq!(first.call.unwrap().carried_state, None, "the first call sees a fresh instance");
    let second = call(&mut ledger, "g", &[]);
    assert_eq!(second.status, Status::NONE, "256: the server keeps the low byte");
    let carried = second.call.unwrap().carried_state.expect("a fresh instance returns 128");
    assert_eq!(carried.fresh_outcome, CallOutcome::Returned(128));
}

/// A ledger brought back from `ledger`'s transactions, as a server recovers
/// from its WAL: what committed survives, instances start afresh.
fn restarted(ledger: &Ledger, binaries: &[(&str, &[u8])]) -> Ledger {
    let mut back = self::ledger();
    for tx_id in 1..ledger.next_tx_id() {
        let transaction = ledger.transaction(tx_id).expect("kept");
        let binary = transaction
            .function
            .as_ref()
            .filter(|f| f.crc32c != 0 && transaction.status.is_success())
            .map(|f| binaries.iter().find(|(name, _)| *name == f.name).expect("its binary").1);
        back.restore(transaction, binary).unwrap();
    }
    back
}

/// A module whose `start` debits p0's account 2 and credits account 1 by
/// `credit` (balanced when both are 5).
fn starting(debit: i64, credit: i64) -> Vec<u8> {
    module(
        &format!(
            r#"(func $start (call $debit (i64.const 2) (i64.const {debit})) (call $credit (i64.const 1) (i64.const {credit})))
               (start $start)"#
        ),
        "i32.const 0",
    )
}

/// Observed on e14b146: `start` runs inside the registration's transaction.
/// Balanced moves on opened accounts commit with it (balances 95 and 5);
/// unbalanced ones fail it with FailReason(3), yet the function is listed
/// and callable until the next restart, after which it is gone.
#[test]
fn start_runs_inside_the_registration_transaction() {
    let mut ledger = ledger();
    open(&mut ledger, 2);
    ledger.submit(&Operation::Deposit { account: 1, amount: 100, user_ref: 0 });
    let registration = ledger.register_function("balanced", &starting(5, 5), IfRegistered::Refuse).unwrap();
    assert_eq!(registration.transaction.records.len(), 2, "the moves are the registration's records");
    assert_eq!((ledger.balance(1), ledger.balance(2)), (95, 5));

    let unbalanced = starting(5, 4);
    let err = ledger.register_function("unbalanced", &unbalanced, IfRegistered::Refuse).unwrap_err();
    assert!(matches!(err, RegistryError::RegisterFailed { status: 3, live_until_restart: true, .. }), "{err:?}");
    assert_eq!(err.to_string(), "function registration failed: FailReason(3)");
    assert_eq!((ledger.balance(1), ledger.balance(2)), (95, 5), "rolled back");
    let listed: Vec<String> = ledger.list_functions().into_iter().map(|f| f.name).collect();
    assert_eq!(listed, ["balanced", "unbalanced"], "listed all the same");
    assert_eq!(call(&mut ledger, "unbalanced", &[]).status, Status::NONE, "and callable");

    let back = restarted(&ledger, &[("balanced", &starting(5, 5))]);
    let listed: Vec<String> = back.list_functions().into_iter().map(|f| f.name).collect();
    assert_eq!(listed, ["balanced"], "gone after a restart");
    assert_eq!((back.balance(1), back.balance(2)), (95, 5));
}

/// Observed on e14b146: a call counter in a global went 1, 2; an override
/// whose `register()` traps reinstated the old binary on a fresh instance
/// (1); an override with the same bytes kept the instance (2, version 2).
#[test]
fn instances_follow_the_servers_cache() {
    let counting = |register: &str| {
        module(
            &format!(r#"(global $calls (mut i32) (i32.const 0)) (func (export "register") {register})"#),
            "(global.set $calls (i32.add (global.get $calls) (i32.const 1))) (global.get $calls)",
        )
    };
    let counter = counting("");
    let mut ledger = ledger();
    register(&mut ledger, "count", &counter).unwrap();
    let calls = |ledger: &mut Ledger| call(ledger, "count", &[]).status.code();
    assert_eq!((calls(&mut ledger), calls(&mut ledger)), (1, 2));
    assert!(register(&mut ledger, "count", &counting("unreachable")).is_err());
    assert_eq!(calls(&mut ledger), 1, "the previous binary, on a fresh instance");
    assert_eq!(register(&mut ledger, "count", &counter).unwrap(), 2);
    assert_eq!(calls(&mut ledger), 2, "the same bytes keep their instance");
}

/// Observed on e14b146: `register()` calling `kv_get_constant` in a module
/// with no exported memory is FailReason(8): the phase is checked before the
/// name is read. The same order for `kv_register_constant` in a call.
#[test]
fn constant_verbs_check_the_phase_before_reading_the_name() {
    let mut ledger = ledger();
    let wasm = module(r#"(func (export "register") (drop (call $kv_get_constant (i32.const 0))))"#, "i32.const 0");
    assert!(matches!(register(&mut ledger, "f", &wasm), Err(RegistryError::RegisterFailed { status: 8, .. })));
    let wasm = module("", "(call $kv_register_constant (i32.const 0)) (i32.const 0)");
    register(&mut ledger, "g", &wasm).unwrap();
    assert_eq!(call(&mut ledger, "g", &[]).status, Status::PROHIBITED_HOST_CALL);
}

/// Observed on e14b146: a function returning 7 (DUPLICATE) with user_ref
/// 777 is forgotten by a restart (recovery skips DUPLICATE transactions); a
/// committed user_ref 778 is still a duplicate.
#[test]
fn a_restart_forgets_user_refs_of_transactions_that_ended_as_duplicate() {
    let mut ledger = ledger();
    let seven = module("", "(i32.wrap_i64 (local.get 0))");
    register(&mut ledger, "ret", &seven).unwrap();
    let submit = |ledger: &mut Ledger, ret: i64, user_ref: u64| {
        ledger.submit(&Operation::Function { name: "ret".into(), params: vec![ret], user_ref }).status
    };
    assert_eq!(submit(&mut ledger, 7, 777), Status::DUPLICATE);
    assert_eq!(submit(&mut ledger, 0, 778), Status::NONE);
    assert_eq!(submit(&mut ledger, 0, 777), Status::DUPLICATE, "remembered while it runs");
    let mut back = restarted(&ledger, &[("ret", &seven)]);
    assert_eq!(submit(&mut back, 0, 777), Status::NONE, "forgotten by the restart");
    assert_eq!(submit(&mut back, 0, 778), Status::DUPLICATE);
}

/// Observed on e14b146: a host reason 2, then more than 65,535 records,
/// then a return of 0, is status 4.
#[test]
fn the_record_limit_is_checked_over_a_host_reason() {
    let mut ledger = ledger();
    let wasm = module(
        "",
        "(local $i i32)
         (call $credit (i64.const 99) (i64.const 1))
         (loop $next
           (call $kv_set (local.get $i) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 1))
           (local.set $i (i32.add (local.get $i) (i32.const 1)))
           (br_if $next (i32.le_u (local.get $i) (i32.const 65535))))
         (i32.const 0)",
    );
    register(&mut ledger, "many", &wasm).unwrap();
    assert_eq!(call(&mut ledger, "many", &[]).status, Status::ENTRY_LIMIT_EXCEEDED);
}

/// Observed on e14b146: one store holds every instance the server creates;
/// after the first registration and 9,999 overrides, the next override's
/// instance is refused and its calls fail with 5.
#[test]
fn a_store_holds_ten_thousand_instances() {
    let returning = |value: i32| module("", &format!("i32.const {value}"));
    let (zero, one) = (returning(0), returning(1));
    let mut ledger = ledger();
    register(&mut ledger, "f", &zero).unwrap();
    for i in 1..10_000 {
        let registration = ledger.register_function("f", if i % 2 == 1 { &one } else { &zero }, IfRegistered::Override);
        assert!(registration.unwrap().not_instantiable.is_none(), "override {i}");
    }
    assert_eq!(call(&mut ledger, "f", &[]).status.code(), 1, "the 10,000th instance runs");
    let refused = ledger.register_function("f", &zero, IfRegistered::Override).unwrap();
    let Some(CallOutcome::InstantiationFailed(why)) = refused.not_instantiable else { panic!("{refused:?}") };
    assert!(why.contains("at most 10000 instances"), "{why}");
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::INVALID_OPERATION);
}
