use ledger_guest::{AccountId, Status, execute};

#[execute]
fn every_type(a: i64, b: u64, c: AccountId, d: bool, e: i32, f: u32, g: ledger_guest::AccountId, h: i64) -> Status {
    let _ = (a, b, c, d, e, f, g, h);
    Status::NONE
}

fn main() {
    assert_eq!(every_type(1, 2, AccountId::new(3), true, -1, 1, AccountId::new(4), 5), Status::NONE);
    let _ledger = ledger_guest::testing::MockLedger::new();
    assert_eq!(execute_slots([0; 8]), Status::NONE);
}
