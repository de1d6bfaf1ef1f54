use ledger_guest::execute;

#[execute]
fn generic<T>(amount: u64) {}

fn main() {}
