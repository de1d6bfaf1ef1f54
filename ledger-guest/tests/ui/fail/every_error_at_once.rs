use ledger_guest::execute;

#[execute]
async fn everything<T>(amount: String) -> u8 {
    0
}

fn main() {}
