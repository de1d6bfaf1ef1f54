use ledger_guest::{AccountId, execute, transfer};

#[execute]
pub fn pay(from: AccountId, to: AccountId, amount: u64) {
    transfer(from, to, amount);
}

fn main() {
    let mut ledger = ledger_guest::testing::MockLedger::new();
    assert!(ledger.call(execute_slots, &[1, 2, 3]).is_success());
}
