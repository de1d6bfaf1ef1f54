//! `escrow_release`: releases funds held in an escrow account in one
//! transaction over three accounts and more: the platform's cut, then the
//! seller's payout (the seed's multi-leg settlement).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Amount, Status, credit, debit, execute, get_balance, status};

/// The escrow account holds less than the amount released.
#[status]
pub const ESCROW_SHORT: Status = Status::user(128);
/// The cut is over 100% (10,000 basis points).
#[status]
pub const CUT_TOO_LARGE: Status = Status::user(129);

/// Releases `amount` from `escrow`: `amount * cut_bps / 10000` to
/// `platform`, the rest to `seller`.
#[execute]
pub fn escrow_release(
    escrow: AccountId,
    seller: AccountId,
    platform: AccountId,
    amount: Amount,
    cut_bps: u64,
) -> Result<(), Status> {
    if cut_bps > 10_000 {
        return Err(CUT_TOO_LARGE);
    }
    if get_balance(escrow) < amount.signed() {
        return Err(ESCROW_SHORT);
    }
    // At most the amount: neither fails for a cut of at most 100%.
    let cut = amount.fraction(cut_bps as u32, 10_000).ok_or(CUT_TOO_LARGE)?;
    let rest = amount.checked_sub(cut).ok_or(CUT_TOO_LARGE)?;
    credit(escrow, amount.get());
    debit(platform, cut.get());
    debit(seller, rest.get());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::testing::MockLedger;

    const ESCROW: AccountId = AccountId::new(1);
    const SELLER: AccountId = AccountId::new(2);
    const PLATFORM: AccountId = AccountId::new(3);

    #[test]
    fn pays_the_cut_and_the_rest() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(ESCROW, 1_000);
        assert_eq!(
            ledger.execute(|| escrow_release(ESCROW, SELLER, PLATFORM, Amount::new(1_000).unwrap(), 250)),
            Status::NONE
        );
        assert_eq!((ledger.balance(ESCROW), ledger.balance(SELLER), ledger.balance(PLATFORM)), (0, 975, 25));
    }

    #[test]
    fn a_short_escrow_or_an_impossible_cut_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(ESCROW, 999);
        assert_eq!(
            ledger.execute(|| escrow_release(ESCROW, SELLER, PLATFORM, Amount::new(1_000).unwrap(), 250)),
            ESCROW_SHORT
        );
        assert_eq!(
            ledger.execute(|| escrow_release(ESCROW, SELLER, PLATFORM, Amount::new(1).unwrap(), 10_001)),
            CUT_TOO_LARGE
        );
        assert!(ledger.entries().is_empty());
    }

    #[test]
    fn a_negative_amount_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(ESCROW, 1_000);
        assert_eq!(ledger.call(execute_slots, &[1, 2, 3, -5, 250]), Status::NEGATIVE_AMOUNT);
        assert!(ledger.entries().is_empty());
    }
}
