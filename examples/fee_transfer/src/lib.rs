//! `fee_transfer`: a roda-ledger function.
//!
//! Build and check it with `cargo roda build`; run its scenarios with
//! `cargo roda test`; unit-test it natively with `cargo test`.
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Status, credit, debit, execute, get_balance};

/// Transfer `amount` from `sender` to `receiver`, taking a `fee_bps` (basis
/// points, 50 = 0.5%) fee into `fee_account`.
#[execute]
pub fn fee_transfer(
    sender: AccountId,
    receiver: AccountId,
    fee_account: AccountId,
    amount: u64,
    fee_bps: u64,
) -> Result<(), Status> {
    let fee = amount * fee_bps / 10_000;
    if get_balance(sender) < (amount + fee) as i64 {
        return Err(Status::INSUFFICIENT_FUNDS);
    }
    credit(sender, amount + fee);
    debit(receiver, amount);
    debit(fee_account, fee);
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
        let status = ledger.execute(|| fee_transfer(SENDER, RECEIVER, FEES, 10_000, 50));
        assert_eq!(status, Status::INSUFFICIENT_FUNDS);
        assert_eq!(ledger.balance(SENDER), 10_000);
        assert!(ledger.entries().is_empty());
    }
}
