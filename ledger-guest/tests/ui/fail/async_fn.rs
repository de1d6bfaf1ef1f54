use ledger_guest::execute;

#[execute]
async fn later(amount: u64) {}

fn main() {}
