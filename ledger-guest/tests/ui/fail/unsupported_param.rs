use ledger_guest::execute;

#[execute]
fn takes_float(amount: f64, name: &str) {}

fn main() {}
