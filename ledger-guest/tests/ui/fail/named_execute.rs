use ledger_guest::execute;

#[execute]
fn execute(amount: u64) {}

fn main() {}
