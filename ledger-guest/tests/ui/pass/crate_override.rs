use ledger_guest as guest;

#[guest::execute(crate = "guest")]
fn noop() -> Result<(), guest::Status> {
    Ok(())
}

fn main() {
    assert!(noop().is_ok());
}
