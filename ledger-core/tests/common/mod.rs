//! Helpers shared by ledger-core's integration tests.
#![allow(dead_code)]

use ledger_core::{IfRegistered, Ledger, LedgerConfig, Operation, Transaction};

/// The three host imports, as every WAT snippet in the seed declares them.
pub const IMPORTS: &str = r#"
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (import "ledger" "get_balance" (func $get_balance (param i64) (result i64)))
"#;

/// Parses WAT, panicking with the parser's message on a typo in a test.
pub fn wat(source: &str) -> Vec<u8> {
    wat::parse_str(source).unwrap_or_else(|e| panic!("bad test WAT: {e}"))
}

/// A module with the host imports, extra module fields, and `execute` with
/// the given body.
pub fn function(extra: &str, body: &str) -> Vec<u8> {
    wat(&format!(
        r#"(module {IMPORTS} {extra}
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) {body}))"#
    ))
}

/// The seed's fee transfer (sender, receiver, fee account, amount, fee bps),
/// in WAT.
pub const FEE_TRANSFER: &str = include_str!("../../../cargo-roda/templates/wat/function.wat");

/// A ledger with default settings.
pub fn ledger() -> Ledger {
    Ledger::new(LedgerConfig::default()).expect("engine")
}

/// A ledger with `name` registered from `wasm`.
pub fn ledger_with(name: &str, wasm: &[u8]) -> Ledger {
    let mut ledger = ledger();
    ledger.register_function(name, wasm, IfRegistered::Refuse).expect("register");
    ledger
}

/// Calls a function with no user_ref.
pub fn call(ledger: &mut Ledger, name: &str, params: &[i64]) -> Transaction {
    ledger.submit(&Operation::Function { name: name.into(), params: params.to_vec(), user_ref: 0 })
}

/// Deposits with no user_ref.
pub fn deposit(ledger: &mut Ledger, account: u64, amount: u64) -> Transaction {
    ledger.submit(&Operation::Deposit { account, amount, user_ref: 0 })
}

/// The smallest valid function: returns 0 and moves nothing.
pub const EXECUTE_ONLY: &str =
    r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#;

/// `module` with a custom section appended whose last four bytes make the
/// whole binary's CRC32C 0. The CRC's register after the prefix, xored with
/// those bytes, must reach all ones after four more bytes of shifting, so
/// the bytes are the register xored with that state run backwards.
pub fn with_zero_crc(mut module: Vec<u8>) -> Vec<u8> {
    const POLY: u32 = 0x82F6_3B78; // CRC32C, reflected
    module.extend_from_slice(&[0, 6, 1, b'z']); // custom section "z", 4 bytes of payload
    let register = !ledger_core::crc32c(&module);
    let mut target = u32::MAX;
    for _ in 0..32 {
        target = if target & 0x8000_0000 != 0 { ((target ^ POLY) << 1) | 1 } else { target << 1 };
    }
    module.extend_from_slice(&(register ^ target).to_le_bytes());
    module
}
