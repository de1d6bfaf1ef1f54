use ledger_guest::v2::register;

#[register(x)]
async fn register(amount: u64) -> u64 {
    amount
}

fn main() {}
