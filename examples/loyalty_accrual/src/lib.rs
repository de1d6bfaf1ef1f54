//! `loyalty_accrual`: a purchase that also accrues loyalty points, moved
//! from the merchant's points pool to the customer's points account in the
//! same transaction (one of the seed's accounting templates).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance, status};

/// The points pool cannot cover the points earned.
#[status]
pub const POOL_EMPTY: Status = Status::user(170);

/// Pays `amount` from `customer` to `merchant`, and moves `amount *
/// points_per_100 / 100` points from `pool` to `points`.
#[execute]
pub fn loyalty_accrual(
    customer: AccountId,
    merchant: AccountId,
    pool: AccountId,
    points: AccountId,
    amount: Amount,
    points_per_100: u64,
) -> Result<(), Status> {
    if get_balance(customer) < amount.signed() {
        return Err(Status::INSUFFICIENT_FUNDS);
    }
    // More points than any pool can hold (over i64::MAX) are not there.
    let earned = u64::try_from(u128::from(amount.get()) * u128::from(points_per_100) / 100)
        .ok()
        .and_then(Amount::new)
        .ok_or(POOL_EMPTY)?;
    if get_balance(pool) < earned.signed() {
        return Err(POOL_EMPTY);
    }
    credit(customer, amount.get());
    debit(merchant, amount.get());
    credit(pool, earned.get());
    debit(points, earned.get());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::testing::MockLedger;

    const CUSTOMER: AccountId = AccountId::new(1);
    const MERCHANT: AccountId = AccountId::new(2);
    const POOL: AccountId = AccountId::new(3);
    const POINTS: AccountId = AccountId::new(4);

    #[test]
    fn a_purchase_earns_points() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(CUSTOMER, 500);
        ledger.set_balance(POOL, 1_000);
        assert_eq!(
            ledger.execute(|| loyalty_accrual(CUSTOMER, MERCHANT, POOL, POINTS, Amount::new(250).unwrap(), 10)),
            Status::NONE
        );
        assert_eq!((ledger.balance(MERCHANT), ledger.balance(POINTS), ledger.balance(POOL)), (250, 25, 975));
    }

    #[test]
    fn an_empty_pool_declines_the_purchase() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(CUSTOMER, 500);
        assert_eq!(
            ledger.execute(|| loyalty_accrual(CUSTOMER, MERCHANT, POOL, POINTS, Amount::new(250).unwrap(), 10)),
            POOL_EMPTY
        );
        assert!(ledger.entries().is_empty());
    }

    #[test]
    fn a_negative_amount_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(CUSTOMER, 1_000);
        assert_eq!(ledger.call(execute_slots, &[1, 2, 3, 4, -5, 10]), Status::NEGATIVE_AMOUNT);
        assert!(ledger.entries().is_empty());
    }
}
