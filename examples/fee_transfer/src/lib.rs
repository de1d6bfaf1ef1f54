//! `fee_transfer`: a roda-ledger function.
//!
//! Build and check it with `cargo roda build`; run its scenarios with
//! `cargo roda test`; unit-test it natively with `cargo test`.
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance, status};

/// A fee above 100% (10_000 basis points).
#[status]
pub const FEE_TOO_HIGH: Status = Status::user(201);

/// Transfer `amount` from `sender` to `receiver`, taking a `fee_bps` (basis
/// points, 50 = 0.5%, at most 10_000) fee into `fee_account`. A negative
/// `amount` is refused with `NEGATIVE_AMOUNT` (USER(254)) before this runs:
/// an `Amount` is never negative.
#[execute]
pub fn fee_transfer(
    sender: AccountId,
    receiver: AccountId,
    fee_account: AccountId,
    amount: Amount,
    fee_bps: u64,
) -> Result<(), Status> {
    if fee_bps > 10_000 {
        return Err(FEE_TOO_HIGH);
    }
    let fee = amount.fraction(fee_bps as u32, 10_000).ok_or(FEE_TOO_HIGH)?;
    // No balance holds more than an `Amount` can: a larger total cannot be
    // paid.
    let total = amount.checked_add(fee).ok_or(Status::INSUFFICIENT_FUNDS)?;
    if get_balance(sender) < total.signed() {
        return Err(Status::INSUFFICIENT_FUNDS);
    }
    credit(sender, total.get());
    debit(receiver, amount.get());
    debit(fee_account, fee.get());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::testing::MockLedger;

    const SENDER: AccountId = AccountId::new(101);
    const RECEIVER: AccountId = AccountId::new(202);
    const FEES: AccountId = AccountId::new(999);

    #[test]
    fn moves_the_amount_and_the_fee() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(SENDER, 20_000);
        let status = ledger.call(execute_slots, &[101, 202, 999, 10_000, 50]);
        assert_eq!(status, Status::NONE);
        assert_eq!(ledger.balance(SENDER), 9_950);
        assert_eq!(ledger.balance(RECEIVER), 10_000);
        assert_eq!(ledger.balance(FEES), 50);
    }

    #[test]
    fn refuses_an_overdraft_and_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(SENDER, 10_000);
        let amount = Amount::new(10_000).unwrap();
        let status = ledger.execute(|| fee_transfer(SENDER, RECEIVER, FEES, amount, 50));
        assert_eq!(status, Status::INSUFFICIENT_FUNDS);
        assert_eq!(ledger.balance(SENDER), 10_000);
        assert!(ledger.entries().is_empty());
    }

    #[test]
    fn refuses_a_fee_over_100_percent() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(SENDER, 100_000);
        assert_eq!(ledger.call(execute_slots, &[101, 202, 999, 10, 10_001]), FEE_TOO_HIGH);
        assert_eq!(ledger.call(execute_slots, &[101, 202, 999, 10, -1]), FEE_TOO_HIGH);
        assert!(ledger.entries().is_empty());
    }

    #[test]
    fn refuses_a_negative_amount_and_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(SENDER, 10_000);
        let status = ledger.call(execute_slots, &[101, 202, 999, -5, 50]);
        assert_eq!(status, Status::NEGATIVE_AMOUNT);
        assert!(ledger.entries().is_empty());
    }
}
