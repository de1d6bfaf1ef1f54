//! Real modules for the tests, built from WAT.

#![allow(dead_code)]

/// The seed's fee transfer, as the WAT template writes it.
pub const FEE_TRANSFER_WAT: &str = include_str!("../../../cargo-roda/templates/wat/function.wat");

/// The fee transfer, compiled.
pub fn fee_transfer() -> Vec<u8> {
    wat::parse_str(FEE_TRANSFER_WAT).expect("the template parses")
}

/// A module whose `execute` has the host imports, these globals and this body.
pub fn function(globals: &str, body: &str) -> Vec<u8> {
    let text =
        include_str!("../../../tests/scenarios/execute.wat.tmpl").replace("{globals}", globals).replace("{body}", body);
    wat::parse_str(text).expect("the test module parses")
}
