//! `loyalty_accrual`: a purchase that also accrues loyalty points, moved
//! from the merchant's points pool to the customer's points account in the
//! same transaction (one of the seed's accounting templates).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Status, credit, debit, execute, get_balance};

/// The points pool cannot cover the points earned.
pub const POOL_EMPTY: Status = Status::user(170);

/// Pays `amount` from `customer` to `merchant`, and moves `amount *
/// points_per_100 / 100` points from `pool` to `points`.
#[execute]
pub fn loyalty_accrual(
    customer: AccountId,
    merchant: AccountId,
    pool: AccountId,
    points: AccountId,
    amount: u64,
    points_per_100: u64,
) -> Result<(), Status> {
    if get_balance(customer) < amount as i64 {
        return Err(Status::INSUFFICIENT_FUNDS);
    }
    let earned = (u128::from(amount) * u128::from(points_per_100) / 100).min(u128::from(u64::MAX)) as u64;
    if get_balance(pool) < earned as i64 {
        return Err(POOL_EMPTY);
    }
    credit(customer, amount);
    debit(merchant, amount);
    credit(pool, earned);
    debit(points, earned);
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
        assert_eq!(ledger.execute(|| loyalty_accrual(CUSTOMER, MERCHANT, POOL, POINTS, 250, 10)), Status::NONE);
        assert_eq!((ledger.balance(MERCHANT), ledger.balance(POINTS), ledger.balance(POOL)), (250, 25, 975));
    }

    #[test]
    fn an_empty_pool_declines_the_purchase() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(CUSTOMER, 500);
        assert_eq!(ledger.execute(|| loyalty_accrual(CUSTOMER, MERCHANT, POOL, POINTS, 250, 10)), POOL_EMPTY);
        assert!(ledger.entries().is_empty());
    }
}
