use ledger_guest::v2::{register, register_constant};

#[register]
fn first() {
    register_constant(c"a");
}

#[register]
fn second() {
    register_constant(c"b");
}

fn main() {}
