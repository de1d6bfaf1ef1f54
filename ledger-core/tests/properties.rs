//! Property: over random sequences of operations, the sum of all balances
//! stays 0 and every failed transaction leaves no trace.

mod common;

use common::{FEE_TRANSFER, wat};
use ledger_core::Engine;
use ledger_core::{IfRegistered, Ledger, LedgerConfig, Operation};
use proptest::prelude::*;

const ACCOUNTS: u64 = 8;

/// A function that moves `amount` from param 0 to param 1 and then returns
/// param 2's low byte: it commits, fails with a custom status, or (with
/// unbalanced param 3) breaks zero-sum, depending on its inputs.
const MOVE_OR_FAIL: &str = r#"
(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (call $credit (local.get 0) (local.get 4))
    (call $debit (local.get 1) (i64.add (local.get 4) (local.get 3)))
    (i32.wrap_i64 (local.get 2))))
"#;

fn account() -> impl Strategy<Value = u64> {
    // One id past the limit exercises status 6.
    0..=ACCOUNTS
}

fn amount() -> impl Strategy<Value = u64> {
    // Small enough that no balance saturates: saturation is the one way a
    // server's ledger loses value, and it is tested on its own.
    0u64..1_000_000
}

fn operation() -> impl Strategy<Value = Operation> {
    let user_ref = prop_oneof![Just(0u64), 1u64..20];
    prop_oneof![
        (account(), amount(), user_ref.clone()).prop_map(|(account, amount, user_ref)| Operation::Deposit {
            account,
            amount,
            user_ref
        }),
        (account(), amount(), user_ref.clone()).prop_map(|(account, amount, user_ref)| Operation::Withdrawal {
            account,
            amount,
            user_ref
        }),
        (account(), account(), amount(), user_ref.clone())
            .prop_map(|(from, to, amount, user_ref)| Operation::Transfer { from, to, amount, user_ref }),
        (account(), account(), account(), amount(), 0i64..100, user_ref.clone()).prop_map(
            |(s, r, f, amount, bps, user_ref)| {
                Operation::Function {
                    name: "fee_transfer".into(),
                    params: vec![s as i64, r as i64, f as i64, amount as i64, bps],
                    user_ref,
                }
            }
        ),
        (
            account(),
            account(),
            prop_oneof![Just(0i64), Just(256), 128i64..256],
            prop_oneof![Just(0i64), 1i64..3],
            amount(),
            user_ref
        )
            .prop_map(|(from, to, ret, skew, amount, user_ref)| Operation::Function {
                name: "move_or_fail".into(),
                params: vec![from as i64, to as i64, ret, skew, amount as i64],
                user_ref,
            }),
        Just(Operation::Function { name: "missing".into(), params: vec![], user_ref: 0 }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn balances_sum_to_zero_and_failures_leave_no_trace(ops in prop::collection::vec(operation(), 1..60)) {
        let mut ledger = Ledger::new(LedgerConfig { max_accounts: ACCOUNTS, ..LedgerConfig::default() }).unwrap();
        ledger.register_function("fee_transfer", &wat(FEE_TRANSFER), IfRegistered::Refuse).unwrap();
        ledger.register_function("move_or_fail", &wat(MOVE_OR_FAIL), IfRegistered::Refuse).unwrap();
        for op in &ops {
            let before: Vec<(u64, i64)> = ledger.nonzero_balances().collect();
            let receipt = ledger.submit(op);
            let sum: i128 = ledger.nonzero_balances().map(|(_, b)| i128::from(b)).sum();
            prop_assert_eq!(sum, 0, "after {:?}", op);
            let tx = ledger.transaction(receipt.tx_id).unwrap();
            prop_assert_eq!(tx, &receipt, "the history keeps what submit returned");
            if !receipt.status.is_success() {
                prop_assert!(tx.entries.is_empty());
                let after: Vec<(u64, i64)> = ledger.nonzero_balances().collect();
                prop_assert_eq!(before, after, "failed {:?} with {}", op, receipt.status);
            } else {
                // Committed entries reproduce the balances they claim.
                for entry in &tx.entries {
                    prop_assert!(entry.account_id < ACCOUNTS);
                }
                if let Some(last) = tx.entries.last() {
                    prop_assert_eq!(ledger.balance(last.account_id), last.computed_balance);
                }
            }
        }
    }
}
