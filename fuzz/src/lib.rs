//! The properties the fuzz targets check, one function per target, so the
//! targets (nightly, libFuzzer) and the corpus replay in the main test suite
//! (stable, `cargo-roda/tests/fuzz_corpus.rs`) run the same code.

use arbitrary::{Arbitrary, Unstructured};
use ledger_core::abi::{Profile, Rule, Severity, V2, validate, validate_for};
use ledger_core::v2::{self, Record, State};
use ledger_core::{
    CallOutcome, IfRegistered, Ledger, LedgerConfig, Limits, Operation, RegistryError, TrapCode, ZeroSum,
};

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
    smith_module_from(wat::parse_str(ABI).expect("the ABI module parses"), data)
}

/// What a v2 function may import and export, from the ABI table: every
/// import, `execute`, and (`with_register`) the optional `register`.
fn v2_abi(profile: &Profile, with_register: bool) -> Vec<u8> {
    let mut source = String::from("(module ");
    ledger_core::abi::bindings::wat_imports(profile, &mut source).expect("writing to a String");
    source.push_str(r#" (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) unreachable)"#);
    if with_register {
        source.push_str(r#" (func (export "register") unreachable)"#);
    }
    source.push(')');
    wat::parse_str(&source).expect("the v2 ABI module parses")
}

fn smith_module_from(abi: Vec<u8>, data: &[u8]) -> arbitrary::Result<Vec<u8>> {
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

/// The name to register the next input's module under: a thread's ledger
/// lives across inputs, and one name has at most 65,535 versions.
fn next_name() -> String {
    thread_local!(static REGISTRATIONS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let n = REGISTRATIONS.get();
    REGISTRATIONS.set(n.wrapping_add(1));
    format!("f{}", n / 60_000)
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
    let name = next_name();
    let tx = LEDGER.with_borrow_mut(|ledger| {
        if let Err(e) = ledger.register_function(&name, &wasm, IfRegistered::Override) {
            panic!("valid for abi::validate, refused by registration: {e}\n{:#?}", report.violations);
        }
        ledger.submit(&Operation::Function { name: name.clone(), params: vec![1, 2, 3], user_ref: 0 })
    });
    if let Some(CallOutcome::InstantiationFailed(why)) = tx.call.as_ref().map(|call| &call.outcome) {
        let explained = report.violations.iter().any(|v| v.rule == Rule::MemoryBudget);
        assert!(explained, "valid for abi::validate, not instantiable: {why}\n{:#?}", report.violations);
    }
}

/// The probes change nothing a call answers: whatever `abi::validate`
/// calls valid returns, traps and uses fuel run as its instrumented copy
/// (`LedgerConfig::probe`) as it does run as it is, and the recording of
/// `execute` totals the fuel charged. (A deeper native stack is the one
/// difference: a copy may overflow it where the original does not.)
pub fn probed_calls_answer_as_plain_ones(data: &[u8]) {
    let Ok(wasm) = smith_module(data) else { return };
    if !validate(&wasm).is_valid() {
        return;
    }
    let limits = Limits { fuel_per_call: 100_000, ..Limits::default() };
    let config = LedgerConfig { limits, keep_history: false, ..LedgerConfig::default() };
    thread_local! {
        static PLAIN: std::cell::RefCell<Ledger> = std::cell::RefCell::new({
            let limits = Limits { fuel_per_call: 100_000, ..Limits::default() };
            Ledger::new(LedgerConfig { limits, keep_history: false, ..LedgerConfig::default() }).expect("engine")
        });
    }
    // A probing ledger of its own, so that its one recording is this
    // binary's.
    let mut probed = Ledger::new(LedgerConfig { probe: true, ..config }).expect("engine");
    let name = next_name();
    let run = |ledger: &mut Ledger| {
        let registered = ledger.register_function(&name, &wasm, IfRegistered::Override).map(drop);
        let tx = ledger.submit(&Operation::Function { name: name.clone(), params: vec![1, 2, 3], user_ref: 0 });
        let call = tx.call.expect("a function call");
        (registered, call.outcome, call.fuel_used, tx.status, tx.entries)
    };
    let plain = PLAIN.with_borrow_mut(run);
    let copy = run(&mut probed);
    let overflowed = |outcome: &CallOutcome| matches!(outcome, CallOutcome::Trapped(TrapCode::StackOverflow));
    if overflowed(&copy.1) && !overflowed(&plain.1) {
        return;
    }
    assert_eq!(copy, plain, "run as its instrumented copy, the module answers otherwise");
    if let Some(recording) = ledger_core::Engine::probes(&probed).into_iter().next() {
        let recording = recording.expect("a valid module is instrumented");
        assert_eq!(recording.fuel_under("execute"), plain.2, "the profile totals the fuel charged");
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
    if let Err(error) = roda_rpc::store::Store::<ledger_core::Ledger>::open(dir.path(), config) {
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

/// Everything a v2 call could change, for the accounts a fuzzed call can
/// reach: balances, flags, links, the allocator, KV and constants.
fn v2_snapshot(state: &State) -> impl PartialEq + std::fmt::Debug + use<> {
    let accounts = 0..64u64;
    let cells: Vec<(i64, u64)> = accounts.clone().map(|a| (state.balance(a), state.flags(a))).collect();
    let links: Vec<Vec<(u16, u64)>> = accounts.map(|a| state.linked_accounts(a).collect()).collect();
    let kv: Vec<([u32; 4], i64)> = state.kv_entries().collect();
    let constants: Vec<(Vec<u8>, u32)> = state.constants().map(|(name, id)| (name.to_vec(), id)).collect();
    (cells, links, state.next_account(), kv, constants)
}

/// The v2 invariants, through wasm: whatever `validate_for(V2)` calls
/// valid registers (or its `register()` fails with a status), and every
/// call either commits balanced entries or fails with no record and, where
/// no inexact-rollback hazard is reported, no trace in balances, flags,
/// links, KV or constants.
pub fn v2_calls_keep_the_invariants(data: &[u8]) {
    let with_register = data.first().is_some_and(|b| b & 1 == 1);
    let Ok(wasm) = smith_module_from(v2_abi(&V2, with_register), data) else { return };
    let report = validate_for(&wasm, &V2);
    if !report.is_valid() {
        return;
    }
    thread_local! {
        static LEDGER: std::cell::RefCell<(v2::Ledger, State)> = std::cell::RefCell::new({
            let limits = Limits { fuel_per_call: 100_000, ..Limits::default() };
            let mut ledger = v2::Ledger::new(LedgerConfig { limits, keep_history: false, ..LedgerConfig::default() })
                .expect("engine");
            ledger.submit(&v2::Operation::OpenAccount { count: 8, user_ref: 0 });
            for account in 1..=8 {
                ledger.submit(&v2::Operation::Deposit { account, amount: 1_000, user_ref: 0 });
            }
            let start = ledger.state().clone();
            (ledger, start)
        });
    }
    let name = next_name();
    LEDGER.with_borrow_mut(|(ledger, start)| {
        ledger.set_state(start.clone());
        match ledger.register_function(&name, &wasm, IfRegistered::Override) {
            Ok(_) => {}
            Err(RegistryError::RegisterFailed { .. }) => return,
            Err(e) => panic!("valid for validate_for(V2), refused by registration: {e}\n{:#?}", report.violations),
        }
        for seed in data.chunks(8).take(4) {
            let params: Vec<i64> = seed.iter().map(|b| i64::from(*b % 12)).collect();
            let before = v2_snapshot(ledger.state());
            let tx = ledger.submit(&v2::Operation::Function { name: name.clone(), params, user_ref: 0 });
            if tx.status.is_success() {
                let entries = tx.records.iter().filter_map(|r| match r {
                    Record::Entry(entry) => Some(entry),
                    _ => None,
                });
                assert!(ZeroSum::of(entries).status().is_success(), "a committed call's entries balance");
            } else {
                assert!(tx.records.is_empty(), "a failed call keeps no record");
                if !tx.hazards.inexact_rollback {
                    assert_eq!(v2_snapshot(ledger.state()), before, "no hazard reported, yet a trace");
                }
            }
        }
    });
}
