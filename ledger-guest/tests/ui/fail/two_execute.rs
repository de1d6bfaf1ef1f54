use ledger_guest::execute;

#[execute]
fn first(_amount: u64) {}

mod other {
    #[ledger_guest::execute]
    fn second(_amount: u64) {}
}

fn main() {}
