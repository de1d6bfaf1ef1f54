//! `escrow_release`: releases funds held in an escrow account in one
//! transaction over three accounts and more: the platform's cut, then the
//! seller's payout (the seed's multi-leg settlement).
#![cfg_attr(not(test), no_std)]

use ledger_guest::{AccountId, Status, credit, debit, execute, get_balance};

/// The escrow account holds less than the amount released.
pub const ESCROW_SHORT: Status = Status::user(128);
/// The cut is over 100% (10,000 basis points).
pub const CUT_TOO_LARGE: Status = Status::user(129);

/// Releases `amount` from `escrow`: `amount * cut_bps / 10000` to
/// `platform`, the rest to `seller`.
#[execute]
pub fn escrow_release(
    escrow: AccountId,
    seller: AccountId,
    platform: AccountId,
    amount: u64,
    cut_bps: u64,
) -> Result<(), Status> {
    if cut_bps > 10_000 {
        return Err(CUT_TOO_LARGE);
    }
    if get_balance(escrow) < amount as i64 {
        return Err(ESCROW_SHORT);
    }
    // In u128: amount * cut_bps does not overflow for any u64 amount.
    let cut = (u128::from(amount) * u128::from(cut_bps) / 10_000) as u64;
    credit(escrow, amount);
    debit(platform, cut);
    debit(seller, amount - cut);
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
        assert_eq!(ledger.execute(|| escrow_release(ESCROW, SELLER, PLATFORM, 1_000, 250)), Status::NONE);
        assert_eq!((ledger.balance(ESCROW), ledger.balance(SELLER), ledger.balance(PLATFORM)), (0, 975, 25));
    }

    #[test]
    fn a_short_escrow_or_an_impossible_cut_moves_nothing() {
        let mut ledger = MockLedger::new();
        ledger.set_balance(ESCROW, 999);
        assert_eq!(ledger.execute(|| escrow_release(ESCROW, SELLER, PLATFORM, 1_000, 250)), ESCROW_SHORT);
        assert_eq!(ledger.execute(|| escrow_release(ESCROW, SELLER, PLATFORM, 1, 10_001)), CUT_TOO_LARGE);
        assert!(ledger.entries().is_empty());
    }
}
