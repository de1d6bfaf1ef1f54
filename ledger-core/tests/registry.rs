//! Every registry path, with the server's versions, CRCs, messages and codes.

mod common;

use common::{EXECUTE_ONLY, call, function, ledger, wat};
use ledger_core::Engine;
use ledger_core::abi::Rule;
use ledger_core::{BinaryError, ErrorCode, FunctionInfo, IfRegistered, RegistryError};
use ledger_core::{CallOutcome, Status, crc32c};

#[test]
fn register_returns_version_1_and_the_crc32c() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    let registered = ledger.register_function("fee_transfer", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!((registered.version, registered.crc32c), (1, crc32c(&wasm)));
    assert_eq!(
        ledger.list_functions(),
        [FunctionInfo { name: "fee_transfer".into(), version: 1, crc32c: crc32c(&wasm) }]
    );
}

#[test]
fn taken_name_without_override_is_already_exists() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    ledger.register_function("fee_transfer", &wasm, IfRegistered::Refuse).unwrap();
    let err = ledger.register_function("fee_transfer", &wasm, IfRegistered::Refuse).unwrap_err();
    assert_eq!(err.to_string(), "function `fee_transfer` is already registered");
    assert_eq!(err.code(), ErrorCode::AlreadyExists);
    assert_eq!(ledger.list_functions()[0].version, 1, "nothing changed");
}

#[test]
fn override_bumps_the_version_even_for_identical_bytes() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!(ledger.register_function("f", &wasm, IfRegistered::Override).unwrap().version, 2);
    let other = function("", "i32.const 130");
    let v3 = ledger.register_function("f", &other, IfRegistered::Override).unwrap();
    assert_eq!((v3.version, v3.crc32c), (3, crc32c(&other)));
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::from_code(130), "the new binary runs");
}

#[test]
fn override_of_an_unknown_name_is_version_1() {
    let mut ledger = ledger();
    assert_eq!(ledger.register_function("f", &wat(EXECUTE_ONLY), IfRegistered::Override).unwrap().version, 1);
}

#[test]
fn unregister_returns_the_next_version_and_later_calls_fail_with_5() {
    let mut ledger = ledger();
    ledger.register_function("f", &wat(EXECUTE_ONLY), IfRegistered::Refuse).unwrap();
    assert_eq!(ledger.unregister_function("f").unwrap(), 2);
    assert!(ledger.list_functions().is_empty());
    assert!(ledger.was_unregistered("f"));
    let receipt = call(&mut ledger, "f", &[]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    assert_eq!(receipt.call.unwrap().outcome, CallOutcome::UnknownFunction);
}

#[test]
fn unregister_unknown_or_twice_is_not_found() {
    let mut ledger = ledger();
    let err = ledger.unregister_function("never_registered").unwrap_err();
    assert_eq!(err.to_string(), "function `never_registered` is not registered");
    assert_eq!(err.code(), ErrorCode::NotFound);
    ledger.register_function("f", &wat(EXECUTE_ONLY), IfRegistered::Refuse).unwrap();
    ledger.unregister_function("f").unwrap();
    assert_eq!(ledger.unregister_function("f").unwrap_err(), RegistryError::NotFound("f".into()));
}

/// The seed's rule, where a server at ee2b042 diverges: the counter keeps
/// rising across an unregister, and a register needs no override.
#[test]
fn version_counter_never_restarts_after_unregister() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!(ledger.unregister_function("f").unwrap(), 2);
    assert_eq!(ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap().version, 3);
    assert!(!ledger.was_unregistered("f"));
    assert_eq!(ledger.list_functions()[0].version, 3);
}

#[test]
fn invalid_names_get_the_server_messages() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    let long = "a".repeat(33);
    for (name, message) in [
        ("", "function name must not be empty".to_owned()),
        ("1abc", "function name `1abc` must start with an ASCII letter".to_owned()),
        ("_abc", "function name `_abc` must start with an ASCII letter".to_owned()),
        (long.as_str(), format!("function name `{long}` is longer than 32 bytes")),
        (
            "fee-transfer",
            "function name `fee-transfer` must contain only ASCII alphanumerics and underscore".to_owned(),
        ),
    ] {
        let err = ledger.register_function(name, &wasm, IfRegistered::Refuse).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
    }
    assert!(ledger.list_functions().is_empty());
}

#[test]
fn invalid_binaries_get_the_server_messages() {
    let mut ledger = ledger();
    for (source, message) in [
        ("", "failed to parse WebAssembly module"),
        (
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i64.const 0))"#,
            "WebAssembly translation error",
        ),
        ("(module)", "module does not export `execute`"),
        (r#"(module (memory (export "execute") 1))"#, "export `execute` is not a function"),
        (
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
            "`execute` must take exactly 8 parameters, got 7",
        ),
        (
            r#"(module (func (export "execute") (param i32 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
            "`execute` param 0 must be i64",
        ),
        (
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i64) i64.const 0))"#,
            "`execute` must return exactly one i32",
        ),
    ] {
        let bytes = if source.is_empty() { b"not wasm".to_vec() } else { wat(source) };
        let err = ledger.register_function("f", &bytes, IfRegistered::Refuse).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
    }
    assert!(ledger.list_functions().is_empty());
    assert!(!ledger.was_unregistered("f"));
    // Failed registrations issued no version.
    assert_eq!(ledger.register_function("f", &wat(EXECUTE_ONLY), IfRegistered::Refuse).unwrap().version, 1);
}

#[test]
fn parse_failure_keeps_wasmtimes_detail() {
    let mut ledger = ledger();
    let err = ledger.register_function("f", b"\0asm\x01\0\0\0\x01", IfRegistered::Refuse).unwrap_err();
    let RegistryError::InvalidBinary(BinaryError::Parse { detail, .. }) = err else { panic!("{err:?}") };
    assert!(!detail.is_empty());
}

/// Checks run name first, then binary, then the taken name.
#[test]
fn checks_run_in_the_servers_order() {
    let mut ledger = ledger();
    ledger.register_function("f", &wat(EXECUTE_ONLY), IfRegistered::Refuse).unwrap();
    assert!(matches!(
        ledger.register_function("1f", b"junk", IfRegistered::Refuse),
        Err(RegistryError::InvalidName(_))
    ));
    assert!(matches!(
        ledger.register_function("f", b"junk", IfRegistered::Refuse),
        Err(RegistryError::InvalidBinary(_))
    ));
}

/// The engine accepts exactly the server's feature set: a shared memory
/// (threads) or a 64-bit memory is refused at registration, as upstream's
/// wasmtime 26 refuses it ("failed to parse WebAssembly module"), and the
/// validator names the feature.
#[test]
fn features_outside_the_servers_set_are_refused_at_registration() {
    let mut ledger = ledger();
    for (memory, rule) in [("(memory 1 1 shared)", Rule::SharedMemory), ("(memory i64 1)", Rule::UnsupportedFeature)] {
        let wasm = wat(&format!(
            r#"(module {memory} (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#
        ));
        let err = ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidBinary(BinaryError::Parse { .. })), "{memory}: {err}");
        let report = ledger_core::abi::validate(&wasm);
        assert!(report.violations.iter().any(|v| v.rule == rule && rule.server_enforced()), "{memory}");
    }
}

/// A server does not check imports at registration: such a module registers
/// and every call fails with status 5. We keep the real cause.
#[test]
fn bad_imports_register_and_every_call_fails_with_5() {
    let mut ledger = ledger();
    for (name, import) in [
        ("wasi", r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#),
        ("unknown_host", r#"(import "ledger" "transfer" (func (param i64 i64 i64)))"#),
        ("wrong_sig", r#"(import "ledger" "credit" (func (param i32 i64)))"#),
    ] {
        let wasm = wat(&format!(
            r#"(module {import} (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#
        ));
        ledger.register_function(name, &wasm, IfRegistered::Refuse).unwrap();
        for _ in 0..2 {
            let receipt = call(&mut ledger, name, &[]);
            assert_eq!(receipt.status, Status::INVALID_OPERATION, "{name}");
            let report = receipt.call.unwrap();
            assert!(matches!(report.outcome, CallOutcome::InstantiationFailed(_)), "{name}: {:?}", report.outcome);
            assert_eq!(receipt.tag, ledger_core::tags::function(0), "no function ran");
        }
    }
}

#[test]
fn trapping_start_registers_and_calls_fail_with_5() {
    let mut ledger = ledger();
    let wasm = wat(r#"(module (func $init unreachable) (start $init)
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#);
    ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap();
    let receipt = call(&mut ledger, "f", &[]);
    assert_eq!(receipt.status, Status::INVALID_OPERATION);
    let outcome = receipt.call.unwrap().outcome;
    assert!(
        matches!(&outcome, CallOutcome::StartFailed(inner) if matches!(**inner, CallOutcome::Trapped(_))),
        "{outcome:?}"
    );
    assert!(outcome.to_string().contains("its `start` function trapped"), "{outcome}");
}

#[test]
fn quiet_start_runs_once_and_calls_succeed() {
    let mut ledger = ledger();
    let wasm =
        wat(r#"(module (global $g (mut i32) (i32.const 0)) (func $init (global.set $g (i32.const 130))) (start $init)
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) global.get $g))"#);
    ledger.register_function("f", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!(call(&mut ledger, "f", &[]).status, Status::from_code(130));
}

#[test]
fn list_is_sorted_and_shows_only_live_functions() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    for name in ["zeta", "alpha", "mid"] {
        ledger.register_function(name, &wasm, IfRegistered::Refuse).unwrap();
    }
    ledger.unregister_function("mid").unwrap();
    let names: Vec<String> = ledger.list_functions().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["alpha", "zeta"]);
}

/// Prepare checks and compiles without changing anything; install applies.
#[test]
fn prepare_then_install() {
    let mut ledger = ledger();
    let wasm = wat(EXECUTE_ONLY);
    let prepared = ledger.prepare_function("f", &wasm, IfRegistered::Refuse).unwrap();
    assert_eq!(prepared.registered().version, 1);
    assert_eq!(prepared.name(), "f");
    assert!(ledger.list_functions().is_empty(), "nothing installed yet");
    assert_eq!(ledger.install_function(prepared).version, 1);
    assert!(matches!(ledger.prepare_function("f", &wasm, IfRegistered::Refuse), Err(RegistryError::AlreadyExists(_))));
    assert_eq!(ledger.check_unregister("f").unwrap(), 2);
    assert_eq!(ledger.list_functions().len(), 1, "check_unregister changes nothing");
    assert_eq!(ledger.check_unregister("g").unwrap_err(), RegistryError::NotFound("g".into()));
}
