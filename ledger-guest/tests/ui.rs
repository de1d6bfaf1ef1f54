//! `#[execute]` and `#[register]` compile errors, checked against committed `.stderr` files.
//! Regenerate with `TRYBUILD=overwrite cargo test -p ledger-guest --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
