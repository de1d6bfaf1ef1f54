use ledger_guest::execute;

#[execute]
extern "C" fn by_hand(amount: u64) {}

fn main() {}
