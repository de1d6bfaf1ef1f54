//! `tax_withholding`: pays a gross amount, withholding tax to the tax
//! authority's account in the same transaction (one of the seed's
//! accounting templates, shared by every submitter).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance, status};

/// The rate is over 100% (10,000 basis points).
#[status]
pub const RATE_TOO_HIGH: Status = Status::user(160);

/// Pays `gross` from `payer`: `gross * rate_bps / 10000` (rounded up, in
/// the authority's favour) to `authority`, the rest to `payee`.
#[execute]
pub fn tax_withholding(
    payer: AccountId,
    payee: AccountId,
    authority: AccountId,
    gross: Amount,
    rate_bps: u64,
) -> Result<(), Status> {
    if rate_bps > 10_000 {
        return Err(RATE_TOO_HIGH);
    }
    if get_balance(payer) < gross.signed() {
        return Err(Status::INSUFFICIENT_FUNDS);
    }
    // Rounded up: at most the gross for a rate of at most 100%.
    let tax = (u128::from(gross.get()) * u128::from(rate_bps)).div_ceil(10_000) as u64;
    credit(payer, gross.get());
    debit(authority, tax);
    debit(payee, gross.get() - tax);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::testing::MockLedger;

    const PAYER: AccountId = AccountId::new(1);
    const PAYEE: AccountId = AccountId::new(2);
    const AUTHORITY: AccountId = AccountId::new(9);

    #[test]
    fn withholds_rounding_up() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(PAYER, 1_000);
        assert_eq!(
            ledger.execute(|| tax_withholding(PAYER, PAYEE, AUTHORITY, Amount::new(999).unwrap(), 2_000)),
            Status::NONE
        );
        assert_eq!((ledger.balance(PAYEE), ledger.balance(AUTHORITY)), (799, 200));
    }

    #[test]
    fn refuses_a_rate_over_100_percent() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(PAYER, 1_000);
        assert_eq!(
            ledger.execute(|| tax_withholding(PAYER, PAYEE, AUTHORITY, Amount::new(1).unwrap(), 10_001)),
            RATE_TOO_HIGH
        );
    }

    #[test]
    fn a_negative_amount_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(PAYER, 1_000);
        assert_eq!(ledger.call(execute_slots, &[1, 2, 9, -5, 2000]), Status::NEGATIVE_AMOUNT);
        assert!(ledger.entries().is_empty());
    }
}
