//! `collateral_check`: lends only against enough collateral; otherwise the
//! transaction is declined with a status of the author's own (the seed's
//! conditional logic).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance, status};

/// The collateral does not cover the loan at the required ratio.
#[status]
pub const UNDERCOLLATERALIZED: Status = Status::user(140);
/// The lender cannot fund the loan.
#[status]
pub const LENDER_SHORT: Status = Status::user(141);

/// Lends `amount` from `lender` to `borrower` when `collateral`'s balance
/// is at least `ratio_pct` percent of it.
#[execute]
pub fn collateral_check(
    lender: AccountId,
    borrower: AccountId,
    collateral: AccountId,
    amount: Amount,
    ratio_pct: u64,
) -> Result<(), Status> {
    let required = u128::from(amount.get()) * u128::from(ratio_pct) / 100;
    let held = get_balance(collateral).max(0) as u128;
    if held < required {
        return Err(UNDERCOLLATERALIZED);
    }
    if get_balance(lender) < amount.signed() {
        return Err(LENDER_SHORT);
    }
    credit(lender, amount.get());
    debit(borrower, amount.get());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::testing::MockLedger;

    const LENDER: AccountId = AccountId::new(10);
    const BORROWER: AccountId = AccountId::new(20);
    const COLLATERAL: AccountId = AccountId::new(21);

    #[test]
    fn lends_against_enough_collateral() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(LENDER, 1_000);
        ledger.set_balance(COLLATERAL, 150);
        assert_eq!(
            ledger.execute(|| collateral_check(LENDER, BORROWER, COLLATERAL, Amount::new(100).unwrap(), 150)),
            Status::NONE
        );
        assert_eq!((ledger.balance(LENDER), ledger.balance(BORROWER)), (900, 100));
    }

    #[test]
    fn declines_with_its_own_status() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(LENDER, 1_000);
        ledger.set_balance(COLLATERAL, 149);
        let status = ledger.execute(|| collateral_check(LENDER, BORROWER, COLLATERAL, Amount::new(100).unwrap(), 150));
        assert_eq!(status, UNDERCOLLATERALIZED);
        assert!(status.is_user_defined());
        assert!(ledger.entries().is_empty());
    }

    #[test]
    fn a_negative_amount_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(COLLATERAL, 1_000);
        assert_eq!(ledger.call(execute_slots, &[10, 20, 21, -5, 150]), Status::NEGATIVE_AMOUNT);
        assert!(ledger.entries().is_empty());
    }
}
