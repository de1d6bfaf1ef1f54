//! `rate_limit`: transfers limited per account and day, the amount spent
//! kept in KV under a constant (ABI v2). A function has no clock: the
//! caller passes the day (for instance days since the Unix epoch), and the
//! limit.
#![cfg_attr(not(test), no_std)]

use ledger_guest::v2::{
    AccountId, Amount, KeyPart, Status, constant, execute, get_balance, key, kv_get, kv_set, register,
    register_constant, status, transfer,
};

/// The transfer would take the sender past its daily limit.
#[status]
pub const OVER_DAILY_LIMIT: Status = Status::user(210);

/// Defines the constant the daily totals are kept under.
#[register]
pub fn define_constants() {
    register_constant(c"spent");
}

/// Moves `amount` from `from` to `to` unless `from`'s transfers on `day`
/// would pass `daily_limit`; counts it under `spent/<from>/<day>/0`.
#[execute]
pub fn rate_limit(from: AccountId, to: AccountId, amount: Amount, day: u64, daily_limit: u64) -> Result<(), Status> {
    let spent = key([constant(c"spent"), KeyPart::account(from)?, KeyPart::int(day)?]);
    if amount == Amount::ZERO {
        // Nothing to move or count (a write of the same total would still be recorded).
        return Ok(());
    }
    let total = (kv_get(spent) as u64).saturating_add(amount.get());
    if total > daily_limit {
        return Err(OVER_DAILY_LIMIT);
    }
    if get_balance(from) < amount.signed() {
        return Err(Status::INSUFFICIENT_FUNDS);
    }
    transfer(from, to, amount.get());
    kv_set(spent, total as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_guest::v2::testing::MockLedger;

    fn ledger() -> (MockLedger, AccountId, AccountId) {
        let mut ledger = MockLedger::new();
        assert_eq!(ledger.register(define_constants), Status::NONE);
        let alice = ledger.open_accounts(2);
        let bob = AccountId::new(alice.get() + 1);
        assert_eq!(ledger.deposit(alice, 1_000), Status::NONE);
        (ledger, alice, bob)
    }

    #[test]
    fn a_day_is_limited_and_the_next_day_starts_again() {
        let (mut ledger, alice, bob) = ledger();
        assert_eq!(ledger.execute(|| rate_limit(alice, bob, Amount::new(60).unwrap(), 20_000, 100)), Status::NONE);
        assert_eq!(ledger.execute(|| rate_limit(alice, bob, Amount::new(41).unwrap(), 20_000, 100)), OVER_DAILY_LIMIT);
        assert_eq!(ledger.execute(|| rate_limit(alice, bob, Amount::new(40).unwrap(), 20_000, 100)), Status::NONE);
        assert_eq!(ledger.execute(|| rate_limit(alice, bob, Amount::new(100).unwrap(), 20_001, 100)), Status::NONE);
        assert_eq!(ledger.balance(bob), 200);
    }

    #[test]
    fn a_day_a_key_cannot_hold_fails_the_transfer() {
        let (mut ledger, alice, bob) = ledger();
        assert_eq!(
            ledger.execute(|| rate_limit(alice, bob, Amount::new(1).unwrap(), 1 << 31, 100)),
            Status::INVALID_OPERATION
        );
        assert_eq!(ledger.balance(bob), 0);
    }
}
