//! The seed's fee transfer, written with `#[execute]`.
#![no_std]

use ledger_guest::{AccountId, Status, credit, debit, execute, get_balance};

/// Transfer `amount` from `sender` to `receiver`, taking a `fee_bps` (basis
/// points) fee into `fee_account`.
#[execute]
fn fee_transfer(
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
