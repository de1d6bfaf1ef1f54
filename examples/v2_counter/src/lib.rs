//! `counter`: counts, per account, in the ledger's KV store (ABI v2).
//!
//! `execute(account, by)` adds `by` to the counter of `account`, kept under
//! the key `calls/<account>/0/0`, where `calls` is a constant the function
//! defines in `register()`. Statuses: 0 NONE; 2 ACCOUNT_NOT_FOUND when
//! `account` is not an open account; 5 INVALID_OPERATION when `account` is
//! 2^31 or more (a key component cannot hold it) or `by` does not fit an
//! `i64`; USER(200) when the counter would overflow.
#![cfg_attr(not(test), no_std)]

use ledger_guest::v2::{
    AccountId, KeyPart, Lane, Status, constant, execute, get_flag, key, kv_get, kv_set, register, register_constant,
    status,
};

/// Lane 0's value for an open account.
const OPEN: u8 = 1;

/// The counter would pass `i64::MAX`.
#[status]
pub const COUNTER_OVERFLOW: Status = Status::user(200);

/// Defines the constant the counters are kept under.
#[register]
pub fn define_constants() {
    register_constant(c"calls");
}

/// Adds `by` to the counter of `account`.
#[execute]
pub fn count(account: AccountId, by: i64) -> Result<(), Status> {
    if get_flag(account, Lane::STATUS) != OPEN {
        return Err(Status::ACCOUNT_NOT_FOUND);
    }
    if by == 0 {
        // Nothing to count: a write of the same value would still be
        // recorded (and replicated) by the ledger.
        return Ok(());
    }
    let key = key([constant(c"calls"), KeyPart::account(account)?]);
    let next = kv_get(key).checked_add(by).ok_or(COUNTER_OVERFLOW)?;
    kv_set(key, next);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::v2::testing::MockLedger;

    fn ledger() -> (MockLedger, AccountId) {
        let mut ledger = MockLedger::new();
        assert_eq!(ledger.register(define_constants), Status::NONE);
        let account = ledger.open_accounts(1);
        (ledger, account)
    }

    fn counter(ledger: &MockLedger, account: AccountId) -> i64 {
        let calls = ledger.constant(c"calls").expect("register() defined it");
        ledger.kv(key([calls, KeyPart::account(account).unwrap()]))
    }

    #[test]
    fn counts_per_account() {
        let (mut ledger, account) = ledger();
        assert_eq!(ledger.call(execute_slots, &[account.get() as i64, 2]), Status::NONE);
        assert_eq!(ledger.execute(|| count(account, 3)), Status::NONE);
        assert_eq!(counter(&ledger, account), 5);
        assert!(ledger.hazards().is_empty());
    }

    #[test]
    fn refuses_an_account_that_is_not_open() {
        let (mut ledger, _) = ledger();
        assert_eq!(ledger.execute(|| count(AccountId::new(7), 1)), Status::ACCOUNT_NOT_FOUND);
        assert_eq!(ledger.execute(|| count(AccountId::SYSTEM, 1)), Status::ACCOUNT_NOT_FOUND, "0 is SYSTEM");
    }

    #[test]
    fn refuses_to_overflow_and_writes_nothing() {
        let (mut ledger, account) = ledger();
        assert_eq!(ledger.execute(|| count(account, i64::MAX)), Status::NONE);
        assert_eq!(ledger.execute(|| count(account, 1)), COUNTER_OVERFLOW);
        assert_eq!(counter(&ledger, account), i64::MAX);
    }
}
