use ledger_guest::Status;

const RESERVED: Status = Status::user(42);

fn main() {
    let _ = RESERVED;
}
