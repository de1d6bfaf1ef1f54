use ledger_guest::execute;

struct Contract;

impl Contract {
    #[execute]
    fn run(&self, amount: u64) {}
}

fn main() {}
