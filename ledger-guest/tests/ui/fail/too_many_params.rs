use ledger_guest::execute;

#[execute]
fn nine(a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64, h: i64, i: i64) {}

fn main() {}
