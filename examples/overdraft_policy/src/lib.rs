//! `overdraft_policy`: a transfer that may take the sender below zero, but
//! never below the overdraft limit the caller passes (the seed's overdraft
//! policy: credits and debits never fail, so the function checks).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance, status};

/// The transfer would take the sender past its overdraft limit.
#[status]
pub const OVERDRAFT_LIMIT: Status = Status::user(150);

/// Moves `amount` from `from` to `to` unless `from` would end below
/// `-limit`.
#[execute]
pub fn overdraft_policy(from: AccountId, to: AccountId, amount: Amount, limit: Amount) -> Result<(), Status> {
    let after = i128::from(get_balance(from)) - i128::from(amount.signed());
    if after < -i128::from(limit.signed()) {
        return Err(OVERDRAFT_LIMIT);
    }
    credit(from, amount.get());
    debit(to, amount.get());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::testing::MockLedger;

    const FROM: AccountId = AccountId::new(1);
    const TO: AccountId = AccountId::new(2);

    #[test]
    fn goes_below_zero_down_to_the_limit_and_no_further() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(FROM, 100);
        assert_eq!(
            ledger.execute(|| overdraft_policy(FROM, TO, Amount::new(150).unwrap(), Amount::new(50).unwrap())),
            Status::NONE
        );
        assert_eq!(ledger.balance(FROM), -50);
        assert_eq!(
            ledger.execute(|| overdraft_policy(FROM, TO, Amount::new(1).unwrap(), Amount::new(50).unwrap())),
            OVERDRAFT_LIMIT
        );
        assert_eq!(ledger.balance(FROM), -50);
    }

    #[test]
    fn a_negative_amount_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(FROM, 100);
        assert_eq!(ledger.call(execute_slots, &[2, 1, -5, 0]), Status::NEGATIVE_AMOUNT);
        assert!(ledger.entries().is_empty());
    }
}
