use ledger_guest::{AccountId, Status, credit, debit, execute, get_balance, transfer};

/// Custom status for "over the limit".
pub const OVER_LIMIT: Status = Status::user(200);

/// `mode` picks the rule to exercise: 0 transfer; 1 transfer with a `delta`
/// bug (zero-sum); 2 transfer then a custom status; 3 panic; 4 `amount`
/// zero-debits (entry limit); 5 checked transfer (`strict` refuses
/// overdraft); anything else INVALID_OPERATION.
#[execute]
pub fn rules(from: AccountId, to: AccountId, amount: u64, mode: u32, strict: bool, delta: i32) -> Result<(), Status> {
    match mode {
        0 => transfer(from, to, amount),
        1 => {
            credit(from, amount);
            debit(to, amount.wrapping_add(delta as i64 as u64));
        }
        2 => {
            transfer(from, to, amount);
            return Err(OVER_LIMIT);
        }
        3 => panic!("mode 3 panics"),
        4 => {
            for _ in 0..amount {
                debit(to, 0);
            }
        }
        5 => {
            if strict && get_balance(from) < amount as i64 {
                return Err(Status::INSUFFICIENT_FUNDS);
            }
            transfer(from, to, amount);
        }
        _ => return Err(Status::INVALID_OPERATION),
    }
    Ok(())
}
