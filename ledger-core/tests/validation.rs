//! One test per validation rule, each a small module named after the rule.

mod common;

use common::{IMPORTS, function, wat};
use ledger_core::abi::{
    MAX_BINARY_SIZE, Rule, Severity, V1, V2, ValidationReport, satisfied_profiles, validate, validate_for,
};

fn codes(report: &ValidationReport) -> Vec<&'static str> {
    report.violations.iter().map(|v| v.rule.code()).collect()
}

/// Asserts the report breaks exactly `expected`, and that every violation
/// explains itself.
#[track_caller]
fn assert_rules(report: &ValidationReport, expected: &[Rule]) {
    let mut found: Vec<Rule> = report.violations.iter().map(|v| v.rule).collect();
    found.sort();
    found.dedup();
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(found, expected, "violations: {:#?}", report.violations);
    for v in &report.violations {
        assert!(!v.found.is_empty() && !v.allowed.is_empty() && !v.fix.is_empty(), "{v:?}");
    }
}

const EXECUTE: &str = r#"(func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0)"#;

#[test]
fn valid_seed_template() {
    let report =
        validate(&function("", "local.get 0 local.get 1 call $credit local.get 2 local.get 1 call $debit i32.const 0"));
    assert_rules(&report, &[]);
    assert!(report.is_valid());
    let imports: Vec<_> = report.imports.iter().map(|i| format!("{}.{} {}", i.module, i.name, i.ty)).collect();
    assert_eq!(
        imports,
        [
            "ledger.credit func (i64, i64) -> ()",
            "ledger.debit func (i64, i64) -> ()",
            "ledger.get_balance func (i64) -> i64"
        ]
    );
    assert_eq!(report.exports[0].name, "execute");
    assert_eq!(report.exports[0].kind, "func");
    assert_eq!(
        report.crc32c,
        ledger_core::crc32c(&function(
            "",
            "local.get 0 local.get 1 call $credit local.get 2 local.get 1 call $debit i32.const 0"
        ))
    );
}

/// What current rustc emits for wasm32-unknown-unknown: bulk memory, sign
/// extension, multi-value, a mutable stack pointer, saturating conversions.
#[test]
fn valid_modern_rustc_output() {
    let report = validate(&wat(&format!(
        r#"(module {IMPORTS}
          (memory 17)
          (global $__stack_pointer (mut i32) (i32.const 1048576))
          (global $data_end i32 (i32.const 1048576))
          (export "memory" (memory 0))
          (func $pair (param i64) (result i64 i64) local.get 0 local.get 0)
          (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
            (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 16)))
            (memory.copy (i32.const 0) (i32.const 16) (i32.const 8))
            (memory.fill (i32.const 0) (i32.const 0) (i32.const 8))
            (drop (i64.extend8_s (local.get 0)))
            (drop (i32.extend16_s (i32.const 7)))
            (call $pair (local.get 0)) drop drop
            (global.set $__stack_pointer (i32.add (global.get $__stack_pointer) (i32.const 16)))
            i32.const 0))"#
    )));
    assert_rules(&report, &[]);
}

#[test]
fn malformed_empty() {
    let report = validate(b"");
    assert_rules(&report, &[Rule::Malformed]);
    assert!(report.violations[0].found.contains("empty"));
}

#[test]
fn malformed_truncated() {
    let full = function("", "i32.const 0");
    let report = validate(&full[..full.len() - 3]);
    assert_rules(&report, &[Rule::Malformed]);
    assert!(report.violations[0].offset.is_some());
}

#[test]
fn malformed_not_wasm() {
    assert_rules(&validate(b"#!/bin/sh\necho hi\n"), &[Rule::Malformed]);
    assert_rules(&validate(b"\0asm"), &[Rule::Malformed]);
}

#[test]
fn malformed_ill_typed() {
    // i64.add on an i32 operand: parses, fails validation.
    let bytes = wat(r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
        i32.const 1 i64.const 2 i64.add drop i32.const 0))"#);
    let report = validate(&bytes);
    assert_rules(&report, &[Rule::Malformed]);
    assert!(report.violations[0].found.contains("type mismatch"), "{}", report.violations[0].found);
}

/// A component is named as such: the server takes core modules only.
#[test]
fn unsupported_feature_component() {
    let report = validate(&wat("(component)"));
    assert_rules(&report, &[Rule::UnsupportedFeature]);
    assert!(report.violations[0].found.contains("component_model"), "{:?}", report.violations[0]);
}

#[test]
fn too_large() {
    // A valid module padded by a data segment past 4 MiB.
    let size = MAX_BINARY_SIZE;
    let bytes = wat(&format!(r#"(module (memory 65) (data (i32.const 0) "{}") {EXECUTE})"#, "\\00".repeat(size)));
    assert!(bytes.len() > MAX_BINARY_SIZE);
    let report = validate(&bytes);
    assert_rules(&report, &[Rule::TooLarge]);
    assert_eq!(report.size, bytes.len());
}

#[test]
fn missing_execute() {
    let report = validate(&wat(r#"(module (func (export "run") (result i32) i32.const 0))"#));
    assert_rules(&report, &[Rule::MissingExecute]);
    assert!(report.violations[0].found.contains("run"));
}

#[test]
fn execute_not_function() {
    let report = validate(&wat(r#"(module (memory (export "execute") 1))"#));
    assert_rules(&report, &[Rule::ExecuteNotFunction]);
    assert!(report.violations[0].found.contains("memory"));
}

#[test]
fn execute_signature() {
    for (sig, message) in [
        ("(param i64 i64 i64 i64 i64 i64 i64) (result i32)", "must take exactly 8 parameters, got 7"),
        ("(param i32 i64 i64 i64 i64 i64 i64 i64) (result i32)", "param 0 must be i64"),
        ("(param i64 i64 i64 i64 i64 i64 i64 f64) (result i32)", "param 7 must be i64"),
        ("(param i64 i64 i64 i64 i64 i64 i64 i64) (result i64)", "must return exactly one i32"),
        ("(param i64 i64 i64 i64 i64 i64 i64 i64)", "must return exactly one i32"),
    ] {
        let body = if sig.contains("result i64") {
            "i64.const 0"
        } else if sig.contains("result") {
            "i32.const 0"
        } else {
            ""
        };
        let report = validate(&wat(&format!(r#"(module (func (export "execute") {sig} {body}))"#)));
        assert_rules(&report, &[Rule::ExecuteSignature]);
        assert!(report.violations[0].found.contains(message), "{sig}: {}", report.violations[0].found);
    }
}

#[test]
fn foreign_import() {
    let report = validate(&wat(&format!(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) {EXECUTE})"#
    )));
    assert_rules(&report, &[Rule::ForeignImport]);
    let v = &report.violations[0];
    assert!(v.found.contains("wasi_snapshot_preview1.fd_write"));
    assert!(v.allowed.contains("`ledger.credit` (i64, i64) -> ()"), "{}", v.allowed);
}

#[test]
fn env_abort() {
    let report =
        validate(&wat(&format!(r#"(module (import "env" "abort" (func (param i32 i32 i32 i32))) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::EnvAbort]);
    assert!(report.violations[0].fix.contains("--use abort="));
}

#[test]
fn unknown_host_import() {
    let report =
        validate(&wat(&format!(r#"(module (import "ledger" "transfer" (func (param i64 i64 i64))) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::UnknownHostImport]);
}

#[test]
fn host_import_signature() {
    let report = validate(&wat(&format!(
        r#"(module (import "ledger" "credit" (func (param i32 i64)))
                   (import "ledger" "get_balance" (func (param i64) (result i32))) {EXECUTE})"#
    )));
    assert_rules(&report, &[Rule::HostImportSignature]);
    assert_eq!(report.violations.len(), 2);
    assert!(report.violations[0].found.contains("(i32, i64) -> ()"), "{}", report.violations[0].found);
    assert!(report.violations[0].allowed.contains("(i64, i64) -> ()"));
}

#[test]
fn imported_memory() {
    let report = validate(&wat(&format!(r#"(module (import "ledger" "memory" (memory 1)) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::ImportedMemory]);
}

#[test]
fn imported_table() {
    let report = validate(&wat(&format!(r#"(module (import "env" "table" (table 1 funcref)) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::ImportedTable]);
}

#[test]
fn imported_global() {
    let report = validate(&wat(&format!(r#"(module (import "env" "g" (global i64)) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::ImportedGlobal]);
}

#[test]
fn shared_memory() {
    let report = validate(&wat(&format!(r#"(module (memory 1 1 shared) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::SharedMemory]);
}

/// memory64 is not in the server's feature set: named, not "malformed".
#[test]
fn unsupported_feature() {
    let report = validate(&wat(&format!(r#"(module (memory i64 1) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::UnsupportedFeature]);
    assert!(report.violations[0].found.contains("memory64"), "{:?}", report.violations[0]);
    let garbage = validate(b"\0asm\x01\0\0\0\x01\xff");
    assert_rules(&garbage, &[Rule::Malformed]);
}

#[test]
fn atomics() {
    let report = validate(&wat(r#"(module (memory 1)
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (drop (i64.atomic.load (i32.const 0)))
               (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
               i32.const 0))"#));
    assert_rules(&report, &[Rule::Atomics]);
    assert!(report.violations[0].found.starts_with("2 atomic"), "{}", report.violations[0].found);
    assert!(report.violations[0].found.contains("i64_atomic_load"));
}

#[test]
fn start_function() {
    let report = validate(&wat(&format!(r#"(module (func $init) (start $init) {EXECUTE})"#)));
    assert_rules(&report, &[Rule::StartFunction]);
}

#[test]
fn zero_crc() {
    let bytes = common::with_zero_crc(wat(&format!("(module {EXECUTE})")));
    assert_eq!(ledger_core::crc32c(&bytes), 0);
    assert_rules(&validate(&bytes), &[Rule::ZeroCrc]);
}

/// A v2 counter as upstream's guest crate builds one: a constant registered
/// in `register()`, read per call, a KV write, flags and a linked account.
const V2_COUNTER: &str = r#"(module
  (import "ledger" "kv_register_constant" (func $reg (param i32)))
  (import "ledger" "kv_get_constant" (func $constant (param i32) (result i32)))
  (import "ledger" "kv_get" (func $get (param i32 i32 i32 i32) (result i64)))
  (import "ledger" "kv_set" (func $set (param i32 i32 i32 i32 i64)))
  (import "ledger" "set_flag" (func $set_flag (param i64 i32 i32)))
  (import "ledger" "linked_account" (func $linked (param i64 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "counter\00")
  (func (export "register") (call $reg (i32.const 16)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (local $c i32)
    (local.set $c (call $constant (i32.const 16)))
    (call $set (local.get $c) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0)
      (i64.add (call $get (local.get $c) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0)) (i64.const 1)))
    (call $set_flag (local.get 0) (i32.const 2) (i32.const 7))
    (drop (call $linked (local.get 0) (i32.const 1)))
    i32.const 0))"#;

#[test]
fn a_v2_counter_is_valid_for_v2_only() {
    let wasm = wat(V2_COUNTER);
    let report = validate_for(&wasm, &V2);
    assert_rules(&report, &[]);
    assert_eq!(report.profile.name, "v2");
    let v1 = validate_for(&wasm, &V1);
    assert!(v1.has(Rule::UnknownHostImport));
    let unknown = v1.violations.iter().find(|v| v.rule == Rule::UnknownHostImport).unwrap();
    assert!(unknown.fix.contains("--abi v2"), "{}", unknown.fix);
    let names: Vec<&str> = satisfied_profiles(&wasm).iter().map(|p| p.name).collect();
    assert_eq!(names, ["v2"]);
    let seed: Vec<&str> = satisfied_profiles(&function("", "i32.const 0")).iter().map(|p| p.name).collect();
    assert_eq!(seed, ["v1", "v2"], "the seed's imports are in both");
}

#[test]
fn register_signature() {
    let wasm = wat(&format!(r#"(module (func (export "register") (param i64)) {EXECUTE})"#));
    assert_rules(&validate_for(&wasm, &V2), &[Rule::RegisterSignature]);
    assert_rules(&validate_for(&wasm, &V1), &[]);
    let not_a_function = wat(&format!(r#"(module (global (export "register") i32 (i32.const 0)) {EXECUTE})"#));
    let report = validate_for(&not_a_function, &V2);
    assert_rules(&report, &[Rule::RegisterSignature]);
    assert!(report.violations[0].found.contains("exported as a global"), "{:?}", report.violations[0]);
}

#[test]
fn constants_need_memory() {
    let wasm = wat(&format!(
        r#"(module (import "ledger" "kv_get_constant" (func (param i32) (result i32))) (memory 1) {EXECUTE})"#
    ));
    let report = validate_for(&wasm, &V2);
    assert_rules(&report, &[Rule::ConstantsNeedMemory]);
    assert!(report.violations[0].found.contains("kv_get_constant"));
}

#[test]
fn register_only_import() {
    let wasm = wat(&format!(
        r#"(module (import "ledger" "kv_register_constant" (func (param i32))) (memory (export "memory") 1) {EXECUTE})"#
    ));
    assert_rules(&validate_for(&wasm, &V2), &[Rule::RegisterOnlyImport]);
}

#[test]
fn float_instructions() {
    let report =
        validate(&function("", "(drop (f64.add (f64.const 1) (f64.convert_i64_s (local.get 0)))) i32.const 0"));
    assert_rules(&report, &[Rule::FloatInstructions]);
    assert!(report.is_valid(), "floats are a warning");
    assert_eq!(report.violations[0].severity(), Severity::Warning);
    assert!(report.violations[0].found.starts_with("3 "), "{}", report.violations[0].found);
}

#[test]
fn relaxed_simd() {
    let report = validate(&function(
        "",
        "(drop (i8x16.relaxed_swizzle (v128.const i64x2 0 0) (v128.const i64x2 0 0))) i32.const 0",
    ));
    assert_rules(&report, &[Rule::RelaxedSimd]);
    assert!(report.is_valid());
}

#[test]
fn mutable_global() {
    let report = validate(&wat(&format!(
        r#"(module (global $sp (mut i32) (i32.const 1024)) (global $counter (mut i64) (i64.const 0)) {EXECUTE})"#
    )));
    assert_rules(&report, &[Rule::MutableGlobal]);
    assert_eq!(report.violations.len(), 1, "the stack pointer is tolerated");
    assert!(report.violations[0].found.contains("global 1"));
    assert!(report.is_valid());
}

/// Ten memories of 64 MiB: a server allocates 640 MiB for the instance it
/// keeps; here it is a warning that says so, not a silent cap.
#[test]
fn memory_budget() {
    let memories: String = (0..10).map(|i| format!("(memory $m{i} 1024)")).collect();
    let report = validate(&wat(&format!(r#"(module {memories} {EXECUTE})"#)));
    assert_rules(&report, &[Rule::MemoryBudget]);
    assert!(report.violations[0].found.contains("640 MiB"), "{:?}", report.violations[0]);
    assert!(report.violations[0].allowed.contains("status 5"), "{:?}", report.violations[0]);
    assert!(report.is_valid(), "a warning: the server accepts it");
    let one = validate(&wat(&format!(r#"(module (memory 1024) {EXECUTE})"#)));
    assert!(one.violations.is_empty(), "64 MiB is within the budget: {:?}", one.violations);
}

/// Every violation is reported at once, errors before warnings.
#[test]
fn collects_every_violation() {
    let report = validate(&wat(r#"(module
             (import "env" "abort" (func (param i32 i32 i32 i32)))
             (import "wasi" "random" (func (result i64)))
             (global $a (mut i64) (i64.const 0))
             (func $init)
             (start $init)
             (func (export "run") (result f32) f32.const 1))"#));
    assert_eq!(
        codes(&report),
        ["missing-execute", "foreign-import", "env-abort", "start-function", "float-instructions", "mutable-global"]
    );
    assert!(!report.is_valid());
    assert_eq!(report.errors().count(), 4);
    assert_eq!(report.warnings().count(), 2);
}

/// Every rule has a distinct, kebab-case code; every rule above is tested.
#[test]
fn rule_codes_are_stable() {
    let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len());
    assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-')));
    let this_file = include_str!("validation.rs");
    for rule in Rule::ALL {
        let test_name = format!("fn {}", rule.code().replace('-', "_"));
        assert!(this_file.contains(&test_name), "no test named after rule `{}`", rule.code());
    }
}

/// Truncated and corrupted modules never panic the validator.
#[test]
fn garbage_never_panics() {
    // No identifiers, so no trailing name section: every cut is invalid.
    let seed = wat(&format!(r#"(module (import "ledger" "credit" (func (param i64 i64))) {EXECUTE})"#));
    for cut in 0..seed.len() {
        let report = validate(&seed[..cut]);
        assert!(!report.is_valid(), "{cut} of {} bytes: {report:?}", seed.len());
    }
    for i in 0..seed.len() {
        let mut flipped = seed.clone();
        flipped[i] ^= 0xFF;
        let _ = validate(&flipped);
    }
}

#[test]
fn interface() {
    let unreadable = wat(&format!(r#"(module (@custom "roda.interface" "{{\"status\":\"A\"}}") {EXECUTE})"#));
    let report = validate(&unreadable);
    assert_rules(&report, &[Rule::Interface]);
    assert!(report.violations[0].found.contains("missing field `code`"), "{:?}", report.violations[0]);
    let readable = wat(&format!(
        r#"(module (@custom "roda.interface" "{{\"roda.interface\":1,\"abi\":\"v1\"}}\n{{\"status\":\"A\",\"code\":130}}") {EXECUTE})"#
    ));
    assert_rules(&validate(&readable), &[]);
}

#[test]
fn interface_abi() {
    let wasm =
        wat(&format!(r#"(module (@custom "roda.interface" "{{\"roda.interface\":1,\"abi\":\"v2\"}}") {EXECUTE})"#));
    let report = validate_for(&wasm, &V1);
    assert_rules(&report, &[Rule::InterfaceAbi]);
    assert_eq!(report.violations[0].severity(), Severity::Warning);
    assert_rules(&validate_for(&wasm, &V2), &[]);
}
