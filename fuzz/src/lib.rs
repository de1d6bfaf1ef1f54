//! The properties the fuzz targets check, one function per target, so the
//! targets (nightly, libFuzzer) and the corpus replay in the main test suite
//! (stable, `cargo-roda/tests/fuzz_corpus.rs`) run the same code.

use arbitrary::{Arbitrary, Unstructured};
use ledger_core::abi::{Rule, Severity, validate};
use ledger_core::{CallOutcome, IfRegistered, Ledger, LedgerConfig, Limits, Operation};

/// `abi::validate` on arbitrary bytes never panics, and its report agrees
/// with itself.
pub fn validate_is_total(bytes: &[u8]) {
    let report = validate(bytes);
    let errors = report.violations.iter().filter(|v| v.severity() == Severity::Error).count();
    assert_eq!(report.is_valid(), errors == 0);
    assert_eq!(report.size, bytes.len());
    assert_eq!(report.crc32c, ledger_core::crc32c(bytes));
}

/// A module that declares what a function may import and must export.
const ABI: &str = r#"(module
  (import "ledger" "credit" (func (param i64 i64)))
  (import "ledger" "debit" (func (param i64 i64)))
  (import "ledger" "get_balance" (func (param i64) (result i64)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) unreachable))"#;

/// A valid module built by wasm-smith from `data`: it may import the
/// ledger's host functions and exports `execute`.
pub fn smith_module(data: &[u8]) -> arbitrary::Result<Vec<u8>> {
    let abi = wat::parse_str(ABI).expect("the ABI module parses");
    let mut u = Unstructured::new(data);
    let mut config = wasm_smith::Config::arbitrary(&mut u)?;
    config.available_imports = Some(abi.clone());
    config.exports = Some(abi);
    config.threads_enabled = false;
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    config.memory64_enabled = false;
    config.allow_start_export = false;
    Ok(wasm_smith::Module::new(config, &mut u)?.to_bytes())
}

/// The differential property: whatever `abi::validate` calls valid,
/// ledger-core registers and instantiates, or a finding says why not.
pub fn valid_modules_register_and_instantiate(data: &[u8]) {
    let Ok(wasm) = smith_module(data) else { return };
    let report = validate(&wasm);
    if !report.is_valid() {
        return;
    }
    thread_local! {
        // One ledger (one wasmtime engine) for every input: creating an
        // engine costs more than the rest of the check.
        static LEDGER: std::cell::RefCell<Ledger> = std::cell::RefCell::new({
            let limits = Limits { fuel_per_call: 100_000, ..Limits::default() };
            Ledger::new(LedgerConfig { limits, keep_history: false, ..LedgerConfig::default() }).expect("engine")
        });
    }
    let tx = LEDGER.with_borrow_mut(|ledger| {
        if let Err(e) = ledger.register_function("f", &wasm, IfRegistered::Override) {
            panic!("valid for abi::validate, refused by registration: {e}\n{:#?}", report.violations);
        }
        ledger.submit(&Operation::Function { name: "f".into(), params: vec![1, 2, 3], user_ref: 0 })
    });
    if let Some(CallOutcome::InstantiationFailed(why)) = tx.call.as_ref().map(|call| &call.outcome) {
        let explained = report.violations.iter().any(|v| v.rule == Rule::MemoryBudget);
        assert!(explained, "valid for abi::validate, not instantiable: {why}\n{:#?}", report.violations);
    }
}

/// The scenario parser on arbitrary text: never panics; every error names
/// where it is.
pub fn scenario_parser_is_total(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    if let Err(error) = roda_test::ScenarioFile::from_str(text, "fuzz.toml") {
        assert!(!error.to_string().is_empty());
    }
}

/// The dev server's data directory with arbitrary bytes as its log: opening
/// it never panics; it either replays, drops a torn tail, or says why not.
pub fn store_opens_any_log(bytes: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join(roda_rpc::store::LOG_FILE), bytes).expect("write the log");
    let config = LedgerConfig { max_accounts: 1_000, ..LedgerConfig::default() };
    if let Err(error) = roda_rpc::store::Store::open(dir.path(), config) {
        assert!(!error.to_string().is_empty());
    }
}

/// `Roda.toml` on arbitrary text: never panics; a project that loads has a
/// function name the ledger accepts.
pub fn roda_toml_is_total(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    if let Ok(project) = cargo_roda::project::Project::parse(text, std::path::Path::new("Roda.toml")) {
        assert!(ledger_core::abi::validate_function_name(&project.file.function.name).is_ok());
    }
}
