//! v2 guests built with real cargo for wasm32, validated for ABI v2 and run
//! in ledger-core's v2 engine; the v2 mock checked against it step by step.

mod support;

#[path = "guests/rules_v2/src/rules_v2.rs"]
mod rules_v2;

use ledger_core::abi::{self, V2};
use ledger_core::v2::{Ledger, Operation, Record, Transaction};
use ledger_core::{IfRegistered, LedgerConfig, Status};
use ledger_guest::v2::testing::MockLedger;
use ledger_guest::v2::{AccountId, KeyPart, Lane, key};
use support::guest_wasm;

fn call(ledger: &mut Ledger, name: &str, params: &[i64]) -> Transaction {
    ledger.submit(&Operation::Function { name: name.into(), params: params.to_vec(), user_ref: 0 })
}

/// `ledger_guest::v2` costs nothing: upstream's two examples (a KV counter
/// under a constant, a transfer) written with it are no larger than the
/// same code on raw imports, built with the same profile (its interface
/// manifest, a custom section of data, aside).
#[test]
fn the_v2_api_is_zero_cost() {
    for example in ["counter_v2", "transfer_v2"] {
        let wasm = guest_wasm(example);
        let with_sdk = wasm.len() - ledger_core::interface::Interface::size_in(&wasm);
        let by_hand = guest_wasm(&format!("{example}_raw")).len();
        assert!(with_sdk <= by_hand, "{example}: ledger_guest::v2 {with_sdk} bytes, raw imports {by_hand} bytes");
    }
}

#[test]
fn the_v2_guests_validate_for_v2_with_no_warning() {
    for guest in ["counter_v2", "rules_v2"] {
        let report = abi::validate_for(&guest_wasm(guest), &V2);
        assert!(report.is_valid() && report.violations.is_empty(), "{guest}: {:#?}", report.violations);
        assert!(report.exports.iter().any(|export| export.name == "register"), "{guest}: #[register] exported");
    }
}

/// One step: params of `rules`, and the status both ledgers must give.
const STEPS: &[(&str, [i64; 5], Status)] = &[
    ("counter", [0, 1, 0, 10, 0], Status::NONE),
    ("counter again", [0, 1, 0, 10, 0], Status::NONE),
    ("counter on an unopened account", [0, 50, 0, 1, 0], Status::ACCOUNT_NOT_FOUND),
    ("hold in escrow", [1, 1, 0, 300, 0], Status::NONE),
    ("release too much", [2, 1, 2, 301, 0], Status::user(201)),
    ("release", [2, 1, 2, 200, 0], Status::NONE),
    ("freeze", [3, 1, 0, 0, 1], Status::NONE),
    ("frozen refuses", [4, 1, 2, 5, 0], Status::user(202)),
    ("unfreeze", [3, 1, 0, 0, 0], Status::NONE),
    ("unfrozen transfers", [4, 1, 2, 5, 0], Status::NONE),
    ("unknown constant", [5, 1, 0, 0, 0], Status::CONSTANT_NOT_FOUND),
    ("panic", [6, 1, 0, 0, 0], Status::INVALID_OPERATION),
    ("unopened credit, no trap", [7, 1, 0, 1, 99], Status::ACCOUNT_NOT_FOUND),
    ("writes then a failure", [8, 1, 0, 7, 4], Status::user(203)),
    ("key part too large", [9, 1, 0, 0, 1 << 31], Status::INVALID_OPERATION),
    ("key part fits", [9, 1, 0, 0, (1 << 31) - 1], Status::NONE),
    ("unknown mode", [10, 0, 0, 0, 0], Status::INVALID_OPERATION),
];

/// The rules, compiled to wasm and run in ledger-core's v2 engine, and run
/// natively on the v2 mock: after each step the same status, the same
/// records, balances, flags, links and KV.
#[test]
fn the_v2_mock_matches_ledger_core_step_by_step() {
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    let registration = ledger.register_function("rules", &guest_wasm("rules_v2"), IfRegistered::Refuse).unwrap();
    let mut mock = MockLedger::new();
    assert_eq!(mock.register(rules_v2::define_constants), Status::NONE);
    assert_eq!(mock.records(), registration.transaction.records, "register()'s constants");

    assert_eq!(ledger.submit(&Operation::OpenAccount { count: 3, user_ref: 0 }).status, Status::NONE);
    assert_eq!(mock.open_accounts(3), AccountId::new(1));
    assert_eq!(ledger.submit(&Operation::Deposit { account: 1, amount: 1_000, user_ref: 0 }).status, Status::NONE);
    assert_eq!(mock.deposit(AccountId::new(1), 1_000), Status::NONE);

    let counter = mock.constant(c"counter").expect("defined");
    for (step, params, expected) in STEPS {
        let tx = call(&mut ledger, "rules", params);
        let status = mock.call(rules_v2::execute_slots, params);
        assert_eq!((tx.status, status), (*expected, *expected), "{step}: {:?}", tx.call);
        assert_eq!(mock.records(), tx.records, "{step}: records");
        assert_eq!(mock.hazards(), tx.hazards, "{step}: hazards");
        let records: Vec<Record> = tx.records;
        assert!(status.is_success() || records.is_empty(), "{step}: a failure commits nothing");
        for id in 0..8 {
            let account = AccountId::new(id);
            assert_eq!(mock.balance(account), ledger.balance(id), "{step}: balance of {id}");
            assert_eq!(mock.account_status(account), ledger.account_status(id), "{step}: status of {id}");
            for lane in 1..8 {
                assert_eq!(
                    mock.flag(account, Lane::new(lane)),
                    ledger.state().flag(id, lane),
                    "{step}: {id} lane {lane}"
                );
            }
            let k = key([counter, KeyPart::account(account).unwrap()]);
            assert_eq!(mock.kv(k), ledger.kv(k.raw()), "{step}: counter of {id}");
        }
        assert_eq!(mock.kv_entries(), ledger.state().kv_entries().collect::<Vec<_>>(), "{step}: every KV entry");
        assert_eq!(mock.next_account(), AccountId::new(ledger.state().next_account()), "{step}: the next id");
    }
}
