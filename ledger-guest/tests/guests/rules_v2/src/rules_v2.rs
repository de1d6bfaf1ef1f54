//! Every v2 verb, one mode per case: `execute(mode, a, b, amount, x)`.

use ledger_guest::v2::{
    AccountId, KeyPart, Lane, LinkType, Status, constant, credit, execute, get_balance, has_flag, key, kv_get, kv_set,
    linked_account, register, register_constant, set_flag, transfer,
};

const FROZEN: Lane = Lane::new(1);
const ESCROW: LinkType = LinkType(1);

#[register]
pub fn define_constants() {
    register_constant(c"counter");
}

#[execute]
pub fn rules(mode: u32, a: AccountId, b: AccountId, amount: u64, x: u64) -> Result<(), Status> {
    match mode {
        // A per-account counter, and `amount` from `a` to the system account.
        0 => {
            let key = key([constant(c"counter"), KeyPart::account(a)?]);
            kv_set(key, kv_get(key) + 1);
            transfer(a, AccountId::SYSTEM, amount);
        }
        // Hold `amount` of `a` in its escrow account.
        1 => transfer(a, linked_account(a, ESCROW), amount),
        // Release `amount` of `a`'s escrow to `b`.
        2 => {
            let escrow = linked_account(a, ESCROW);
            if get_balance(escrow) < amount as i64 {
                return Err(Status::user(201));
            }
            transfer(escrow, b, amount);
        }
        3 => set_flag(a, FROZEN, x as u8),
        // A transfer that a frozen account refuses.
        4 => {
            if has_flag(a, FROZEN, 1) {
                return Err(Status::user(202));
            }
            transfer(a, b, amount);
        }
        5 => {
            let _ = constant(c"nope");
        }
        6 => panic!("a bug"),
        // A move on an account that does not exist: status 2, no trap.
        7 => credit(AccountId::new(x), amount),
        // Writes of every kind, then a failure: none survives.
        8 => {
            kv_set(key([KeyPart::int(x)?]), 5);
            set_flag(a, Lane::new(3), 9);
            transfer(a, linked_account(a, LinkType(2)), amount);
            return Err(Status::user(203));
        }
        9 => kv_set(key([KeyPart::int(x)?]), 1),
        _ => return Err(Status::INVALID_OPERATION),
    }
    Ok(())
}
