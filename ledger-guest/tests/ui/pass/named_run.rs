use ledger_guest::{Status, execute};

// A user function may be called `run`: the generated code does not shadow it.
#[execute]
fn run(code: u32) -> Status {
    if code == 0 { Status::NONE } else { Status::user(200) }
}

fn main() {
    let _ledger = ledger_guest::testing::MockLedger::new();
    assert_eq!(execute_slots([1, 0, 0, 0, 0, 0, 0, 0]), Status::user(200));
    assert_eq!(run(0), Status::NONE);
}
