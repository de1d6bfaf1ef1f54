//! `freeze`: an account freeze kept in a flag lane, which transfers
//! respect (ABI v2).
//!
//! `execute(op, account, to, amount)`:
//!
//! | op | does | fails with |
//! |---|---|---|
//! | 0 transfer | moves `amount` from `account` to `to` | USER(200) `account` frozen, USER(201) `to` frozen, 1 INSUFFICIENT_FUNDS, 2 an account not open |
//! | 1 freeze | sets `account`'s freeze lane to 1 | 2 not open |
//! | 2 unfreeze | sets it to 0 | 2 not open |
#![cfg_attr(not(test), no_std)]

use ledger_guest::v2::{AccountId, Amount, Lane, Status, execute, get_balance, has_flag, set_flag, status, transfer};

/// Lane 1 of an account's flags: 1 while the account is frozen.
pub const FROZEN: Lane = Lane::new(1);
/// The paying account is frozen.
#[status]
pub const SENDER_FROZEN: Status = Status::user(200);
/// The receiving account is frozen.
#[status]
pub const RECEIVER_FROZEN: Status = Status::user(201);

/// The status lane's value for an account opened with OpenAccount.
const OPEN: u8 = 1;

/// Writes the freeze lane of an open account.
fn set_frozen(account: AccountId, frozen: bool) -> Result<(), Status> {
    // A flag written on an account that is not open would stay behind
    // (the ledger keeps it): refuse instead.
    if !has_flag(account, Lane::STATUS, OPEN) {
        return Err(Status::ACCOUNT_NOT_FOUND);
    }
    set_flag(account, FROZEN, u8::from(frozen));
    Ok(())
}

/// One operation (see the crate's docs).
#[execute]
pub fn freeze(op: u32, account: AccountId, to: AccountId, amount: Amount) -> Result<(), Status> {
    match op {
        0 => {
            if has_flag(account, FROZEN, 1) {
                return Err(SENDER_FROZEN);
            }
            if has_flag(to, FROZEN, 1) {
                return Err(RECEIVER_FROZEN);
            }
            if get_balance(account) < amount.signed() {
                return Err(Status::INSUFFICIENT_FUNDS);
            }
            transfer(account, to, amount.get());
            Ok(())
        }
        1 => set_frozen(account, true),
        2 => set_frozen(account, false),
        _ => Err(Status::INVALID_OPERATION),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::v2::testing::MockLedger;

    fn ledger() -> (MockLedger, AccountId, AccountId) {
        let mut ledger = MockLedger::new();
        let alice = ledger.open_accounts(2);
        let bob = AccountId::new(alice.get() + 1);
        assert_eq!(ledger.deposit(alice, 100), Status::NONE);
        (ledger, alice, bob)
    }

    #[test]
    fn a_frozen_account_neither_sends_nor_receives() {
        let (mut ledger, alice, bob) = ledger();
        assert_eq!(ledger.execute(|| freeze(1, bob, bob, Amount::new(0).unwrap())), Status::NONE);
        assert_eq!(ledger.execute(|| freeze(0, alice, bob, Amount::new(10).unwrap())), RECEIVER_FROZEN);
        assert_eq!(ledger.execute(|| freeze(0, bob, alice, Amount::new(0).unwrap())), SENDER_FROZEN);
        assert_eq!(ledger.execute(|| freeze(2, bob, bob, Amount::new(0).unwrap())), Status::NONE);
        assert_eq!(ledger.execute(|| freeze(0, alice, bob, Amount::new(10).unwrap())), Status::NONE);
        assert_eq!((ledger.balance(alice), ledger.balance(bob)), (90, 10));
    }

    #[test]
    fn only_open_accounts_are_frozen() {
        let (mut ledger, _, _) = ledger();
        assert_eq!(
            ledger.execute(|| freeze(1, AccountId::new(50), AccountId::new(50), Amount::new(0).unwrap())),
            Status::ACCOUNT_NOT_FOUND
        );
    }
}
