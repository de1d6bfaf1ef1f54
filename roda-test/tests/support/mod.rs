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
    wat::parse_str(format!(
        r#"(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (import "ledger" "get_balance" (func $get_balance (param i64) (result i64)))
  {globals}
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    {body}))"#
    ))
    .expect("the test module parses")
}
