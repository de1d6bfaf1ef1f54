use ledger_guest::execute;

#[execute(export = "run")]
fn noop() {}

fn main() {}
