//! Guests built with real cargo for wasm32, validated by `ledger_core::abi`
//! and executed in `ledger-core`; and the mock ledger checked against it.

mod support;

#[path = "guests/rules/src/rules.rs"]
mod rules;

use ledger_core::abi::{self, HOST_IMPORTS, HOST_MODULE};
use ledger_core::{EntryKind, IfRegistered, Ledger, LedgerConfig, Operation, Status, Transaction};
use ledger_guest::AccountId;
use ledger_guest::testing::{self, MockLedger};
use support::guest_wasm;

fn ledger_with(name: &str, wasm: &[u8]) -> Ledger {
    let mut ledger = Ledger::new(LedgerConfig::default()).unwrap();
    ledger.register_function(name, wasm, IfRegistered::Refuse).unwrap();
    ledger
}

fn call(ledger: &mut Ledger, name: &str, params: &[i64]) -> Transaction {
    ledger.submit(&Operation::Function { name: name.into(), params: params.to_vec(), user_ref: 0 })
}

#[test]
fn fee_transfer_validates_and_runs_in_ledger_core() {
    let wasm = guest_wasm("fee_transfer");
    let report = abi::validate(&wasm);
    assert!(report.is_valid(), "{:#?}", report.violations);
    assert_eq!(report.warnings().count(), 0, "{:#?}", report.violations);
    for import in &report.imports {
        assert_eq!(import.module, HOST_MODULE);
        let host = abi::host_import(&import.name).expect("a ledger import");
        assert_eq!(import.ty, format!("func {}", host.signature));
    }
    assert_eq!(report.imports.len(), HOST_IMPORTS.len());

    let mut ledger = ledger_with("fee_transfer", &wasm);
    assert_eq!(call(&mut ledger, "fee_transfer", &[101, 202, 999, 10_000, 50]).status, Status::INSUFFICIENT_FUNDS);
    ledger.submit(&Operation::Deposit { account: 101, amount: 20_000, user_ref: 0 });
    assert_eq!(call(&mut ledger, "fee_transfer", &[101, 202, 999, 10_000, 50]).status, Status::NONE);
    assert_eq!((ledger.balance(101), ledger.balance(202), ledger.balance(999)), (9_950, 10_000, 50));
}

/// `#[execute]` costs nothing: the macro version is no larger than the
/// hand-written `extern "C"` one built with the same profile, but for its
/// interface manifest (a custom section of data, which it must have).
#[test]
fn execute_macro_is_zero_cost() {
    let wasm = guest_wasm("fee_transfer");
    let manifest = ledger_core::interface::Interface::size_in(&wasm);
    assert!(manifest > 0, "#[execute] writes the manifest");
    let with_macro = wasm.len() - manifest;
    let by_hand = guest_wasm("fee_transfer_extern").len();
    assert!(with_macro <= by_hand, "#[execute]: {with_macro} bytes, hand-written: {by_hand} bytes");
}

/// One case: params, and the status the ledger must give.
const CASES: &[(&str, [i64; 6], Status)] = &[
    ("transfer", [1, 2, 10, 0, 0, 0], Status::NONE),
    ("balanced with delta 0", [1, 2, 10, 1, 0, 0], Status::NONE),
    ("zero-sum bug", [1, 2, 10, 1, 0, 1], Status::ZERO_SUM_VIOLATION),
    ("custom status", [1, 2, 10, 2, 0, 0], Status::user(200)),
    ("panic traps", [1, 2, 10, 3, 0, 0], Status::INVALID_OPERATION),
    ("254 entries", [1, 2, 254, 4, 0, 0], Status::NONE),
    ("255 entries", [1, 2, 255, 4, 0, 0], Status::NONE),
    ("256 entries", [1, 2, 256, 4, 0, 0], Status::ENTRY_LIMIT_EXCEEDED),
    ("strict refuses overdraft", [1, 2, 5_000, 5, 1, 0], Status::INSUFFICIENT_FUNDS),
    ("lenient overdraws", [1, 2, 5_000, 5, 0, 0], Status::NONE),
    ("unknown mode", [1, 2, 10, 9, 0, 0], Status::INVALID_OPERATION),
    ("mode does not fit u32", [1, 2, 10, -1, 0, 0], Status::INVALID_OPERATION),
    ("delta does not fit i32", [1, 2, 10, 1, 0, 1 << 40], Status::INVALID_OPERATION),
    ("account out of range", [1, 1_000_000, 10, 0, 0, 0], Status::ACCOUNT_LIMIT_EXCEEDED),
    ("amount 2^63 wraps", [1, 2, i64::MIN, 0, 0, 0], Status::NONE),
    ("bool from any non-zero", [1, 2, 5_000, 5, -7, 0], Status::INSUFFICIENT_FUNDS),
];

/// The same function, compiled to wasm and run in ledger-core, and run
/// natively on the mock: same status, same balances, same entries.
#[test]
fn mock_ledger_matches_ledger_core() {
    let wasm = guest_wasm("rules");
    assert!(abi::validate(&wasm).is_valid());
    for (case, params, expected) in CASES {
        let mut core = ledger_with("rules", &wasm);
        core.submit(&Operation::Deposit { account: 1, amount: 1_000, user_ref: 0 });
        let core_tx = call(&mut core, "rules", params);
        let core_status = core_tx.status;
        let core_entries: Vec<(u64, u64, bool, i64)> = core_tx
            .entries
            .iter()
            .map(|e| (e.account_id, e.amount, e.kind == EntryKind::Credit, e.computed_balance))
            .collect();

        let mut mock = MockLedger::new();
        mock.set_balance(AccountId::new(1), 1_000);
        let mock_status = mock.call(rules::execute_slots, params);
        let mock_entries: Vec<(u64, u64, bool, i64)> = mock
            .entries()
            .iter()
            .map(|e| (e.account.get(), e.amount, e.kind == testing::EntryKind::Credit, e.computed_balance))
            .collect();

        assert_eq!(core_status.code(), expected.code(), "{case}: ledger-core");
        assert_eq!(mock_status.code(), expected.code(), "{case}: mock");
        for account in [1, 2] {
            assert_eq!(core.balance(account), mock.balance(AccountId::new(account)), "{case}: balance of {account}");
        }
        assert_eq!(core_entries, mock_entries, "{case}: entries");
        drop(mock);
    }
}
