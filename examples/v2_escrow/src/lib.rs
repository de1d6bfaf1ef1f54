//! `escrow`: funds held in a linked account, and a freeze flag (ABI v2).
//!
//! `execute(op, buyer, seller, amount)`:
//!
//! | op | does | fails with |
//! |---|---|---|
//! | 0 hold | moves `amount` from `buyer` into `buyer`'s escrow account (linked to it with type 1, created on first use, PROGRAMMED: no client can move it) | 1 INSUFFICIENT_FUNDS, USER(200) buyer frozen |
//! | 1 release | moves `amount` from the escrow account to `seller` | USER(201) seller frozen, USER(202) the escrow holds less |
//! | 2 refund | moves `amount` from the escrow account back to `buyer` | USER(200) buyer frozen, USER(202) |
//! | 3 freeze | sets `buyer`'s freeze flag (lane 1) to `amount` (0 or 1) | 5 for another value |
//!
//! Every op fails with 2 ACCOUNT_NOT_FOUND when an account it moves is not
//! open, and 5 INVALID_OPERATION for an unknown op.
#![cfg_attr(not(test), no_std)]

use ledger_guest::v2::{
    AccountId, Amount, Lane, LinkType, Status, execute, get_balance, has_flag, linked_account, set_flag, status,
    transfer,
};

/// Lane 1: 1 while the account is frozen.
pub const FROZEN: Lane = Lane::new(1);
/// The link type of a buyer's escrow account.
pub const ESCROW: LinkType = LinkType(1);

/// The buyer is frozen.
#[status]
pub const BUYER_FROZEN: Status = Status::user(200);
/// The seller is frozen.
#[status]
pub const SELLER_FROZEN: Status = Status::user(201);
/// The escrow account holds less than the amount.
#[status]
pub const ESCROW_SHORT: Status = Status::user(202);

fn frozen(account: AccountId) -> bool {
    has_flag(account, FROZEN, 1)
}

/// One escrow operation (see the crate's docs).
#[execute]
pub fn escrow(op: u32, buyer: AccountId, seller: AccountId, amount: Amount) -> Result<(), Status> {
    match op {
        0 => {
            if frozen(buyer) {
                return Err(BUYER_FROZEN);
            }
            if get_balance(buyer) < amount.signed() {
                return Err(Status::INSUFFICIENT_FUNDS);
            }
            transfer(buyer, linked_account(buyer, ESCROW), amount.get());
        }
        1 | 2 => {
            let to = if op == 1 { seller } else { buyer };
            if frozen(to) {
                return Err(if op == 1 { SELLER_FROZEN } else { BUYER_FROZEN });
            }
            let held = linked_account(buyer, ESCROW);
            if get_balance(held) < amount.signed() {
                return Err(ESCROW_SHORT);
            }
            transfer(held, to, amount.get());
        }
        3 if amount.get() <= 1 => set_flag(buyer, FROZEN, amount.get() as u8),
        _ => return Err(Status::INVALID_OPERATION),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::v2::testing::{AccountStatus, MockLedger};

    fn ledger() -> (MockLedger, AccountId, AccountId) {
        let mut ledger = MockLedger::new();
        let buyer = ledger.open_accounts(2);
        let seller = AccountId::new(buyer.get() + 1);
        assert_eq!(ledger.deposit(buyer, 100), Status::NONE);
        (ledger, buyer, seller)
    }

    #[test]
    fn hold_then_release_pays_the_seller_through_a_programmed_account() {
        let (mut ledger, buyer, seller) = ledger();
        assert_eq!(ledger.execute(|| escrow(0, buyer, seller, Amount::new(60).unwrap())), Status::NONE);
        let held = ledger.linked(buyer, ESCROW).expect("created by the hold");
        assert_eq!(ledger.account_status(held), AccountStatus::Programmed);
        assert_eq!((ledger.balance(buyer), ledger.balance(held)), (40, 60));
        assert_eq!(ledger.execute(|| escrow(1, buyer, seller, Amount::new(60).unwrap())), Status::NONE);
        assert_eq!((ledger.balance(held), ledger.balance(seller)), (0, 60));
    }

    #[test]
    fn frozen_accounts_and_short_escrows_move_nothing() {
        let (mut ledger, buyer, seller) = ledger();
        assert_eq!(ledger.execute(|| escrow(0, buyer, seller, Amount::new(50).unwrap())), Status::NONE);
        assert_eq!(ledger.execute(|| escrow(1, buyer, seller, Amount::new(51).unwrap())), ESCROW_SHORT);
        assert_eq!(ledger.execute(|| escrow(3, seller, seller, Amount::new(1).unwrap())), Status::NONE);
        assert_eq!(ledger.execute(|| escrow(1, buyer, seller, Amount::new(10).unwrap())), SELLER_FROZEN);
        assert_eq!(
            ledger.execute(|| escrow(2, buyer, seller, Amount::new(10).unwrap())),
            Status::NONE,
            "a refund still works"
        );
        assert_eq!(ledger.execute(|| escrow(3, buyer, seller, Amount::new(1).unwrap())), Status::NONE);
        assert_eq!(ledger.execute(|| escrow(0, buyer, seller, Amount::new(1).unwrap())), BUYER_FROZEN);
        assert_eq!(ledger.execute(|| escrow(3, buyer, seller, Amount::new(2).unwrap())), Status::INVALID_OPERATION);
        assert_eq!((ledger.balance(buyer), ledger.balance(seller)), (60, 0));
    }
}
