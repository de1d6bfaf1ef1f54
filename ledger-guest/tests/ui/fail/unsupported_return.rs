use ledger_guest::execute;

#[execute]
fn returns_a_number(amount: u64) -> u8 {
    0
}

fn main() {}
