use ledger_guest::v2::{register, register_constant};

#[register]
fn define_constants() {
    register_constant(c"counter");
}

fn main() {
    let _: fn() = define_constants;
}
