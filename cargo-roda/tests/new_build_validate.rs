//! `cargo roda new`, then `build`, then `validate`, for each language, with
//! real cargo, real npm and asc, and real WAT parsing.

mod support;

use std::path::Path;

use support::{Run, roda};

#[track_caller]
fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
}

/// Scaffolds `name` in `lang` inside `dir`, builds it with `--output json`,
/// validates the artifact, and returns the build's JSON.
fn new_build_validate(dir: &Path, name: &str, lang: &str) -> serde_json::Value {
    let created = roda(dir, &["new", name, "--lang", lang, "--output", "json", "--abi", "v1"]);
    ok(&created);
    let created = created.json();
    assert_eq!(created["ok"], true);
    assert!(created["files"].as_array().unwrap().iter().any(|f| f == "Roda.toml"));

    let project = dir.join(name);
    let built = roda(&project, &["build", "--output", "json"]);
    ok(&built);
    let built = built.json();
    assert_eq!(built["command"], "build");
    assert_eq!(built["report"]["valid"], true, "{built:#}");
    assert_eq!(built["report"]["errors"], 0);
    assert!(
        built["report"]["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["name"].as_str().unwrap().starts_with("ledger."))
    );

    let wasm = built["report"]["path"].as_str().unwrap();
    let validated = roda(&project, &["validate", wasm, "--name", name, "--deny-warnings"]);
    ok(&validated);
    assert!(validated.stdout.contains(": valid for ABI v1,"), "{validated:?}");
    assert!(validated.stdout.contains("satisfies ABI: v1, v2"), "the seed's imports are in both: {validated:?}");
    built
}

/// The templates refuse a negative amount and a fee over 100%, which the
/// seed's hand-written fee transfers (254 bytes in Rust, 174 in
/// AssemblyScript) do not; the checks cost some 70 bytes, and no more
/// (`#[execute]` itself costs nothing: ledger-guest's seed-equivalent guest
/// is 248 bytes).
#[test]
fn rust_template_builds_small() {
    let dir = tempfile::tempdir().unwrap();
    let built = new_build_validate(dir.path(), "fee_transfer", "rust");
    // The code, without the interface manifest (a custom section of data).
    let inspected = roda(dir.path(), &["inspect", built["wasm"].as_str().unwrap(), "--output", "json"]).json();
    let manifest = inspected["interface_size"].as_u64().unwrap();
    assert!((100..1000).contains(&manifest), "{inspected:#}");
    let size = built["report"]["size"].as_u64().unwrap() - manifest;
    assert!(size <= 330, "the Rust template is {size} bytes without its manifest; 319 when this test was written");
    // The scaffolded crate's own native unit tests pass against the mock,
    // and its scenario test through `cargo roda test`: its first `cargo
    // test` compiles no simulator.
    let cargo = || std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
    let project = dir.path().join("fee_transfer");
    let test = cargo().args(["test"]).current_dir(&project).envs(support::guest_build_env()).output().unwrap();
    let stdout = String::from_utf8_lossy(&test.stdout);
    assert!(test.status.success(), "{stdout}{}", String::from_utf8_lossy(&test.stderr));
    assert!(stdout.contains("test scenarios_pass_against_the_built_wasm ... ok"), "{stdout}");
    let metadata = cargo().args(["metadata", "--format-version", "1"]).current_dir(&project).output().unwrap();
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let packages: Vec<&str> =
        metadata["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(!packages.contains(&"wasmtime") && !packages.contains(&"roda-test"), "{packages:?}");
}

#[test]
fn assemblyscript_template_builds_small() {
    let dir = tempfile::tempdir().unwrap();
    let built = new_build_validate(dir.path(), "fee_transfer", "assemblyscript");
    let inspected = roda(dir.path(), &["inspect", built["wasm"].as_str().unwrap(), "--output", "json"]).json();
    let size = built["report"]["size"].as_u64().unwrap() - inspected["interface_size"].as_u64().unwrap();
    assert!(
        size <= 270,
        "the AssemblyScript template is {size} bytes without its manifest; 259 when this test was written"
    );

    // An `assert` does not bring in `env.abort`: the template's asconfig
    // makes a failed assertion trap instead.
    let index = dir.path().join("fee_transfer/assembly/index.ts");
    let source = std::fs::read_to_string(&index).unwrap();
    let asserting = source.replace("  const fee =", "  assert(fee_bps < 10_000, \"fee too high\");\n  const fee =");
    assert_ne!(source, asserting);
    std::fs::write(&index, asserting).unwrap();
    let rebuilt = roda(&dir.path().join("fee_transfer"), &["build", "--output", "json"]);
    ok(&rebuilt);
    let imports = rebuilt.json()["report"]["imports"].clone();
    assert!(
        imports.as_array().unwrap().iter().all(|i| i["name"].as_str().unwrap().starts_with("ledger.")),
        "{imports}"
    );
}

#[test]
fn wat_template_builds() {
    let dir = tempfile::tempdir().unwrap();
    let built = new_build_validate(dir.path(), "fee_transfer", "wat");
    assert_eq!(built["report"]["exports"], serde_json::json!(["execute"]));
}

/// A Rust keyword is a valid function name; the template makes it a raw identifier.
#[test]
fn rust_keyword_name_builds() {
    let dir = tempfile::tempdir().unwrap();
    new_build_validate(dir.path(), "match", "rust");
}

#[test]
fn human_build_prints_path_size_and_crc() {
    let dir = tempfile::tempdir().unwrap();
    ok(&roda(dir.path(), &["new", "f", "--lang", "wat", "--abi", "v1"]));
    let built = roda(&dir.path().join("f"), &["build"]);
    ok(&built);
    let wasm = std::fs::read(dir.path().join("f/build/function.wasm")).unwrap();
    let line = built.stdout.lines().next().unwrap();
    let expected = format!(
        "build/function.wasm: valid for ABI v1, {} bytes, crc32c {:08x}",
        wasm.len(),
        ledger_core::crc32c(&wasm)
    );
    assert!(line.ends_with(&expected), "{line}");
    assert!(built.stderr.contains("Building f (wat, release)"), "{built:?}");
}

/// `--abi v2` checks against upstream's current ABI; every report says
/// which ABIs the module satisfies.
#[test]
fn validate_checks_the_abi_named_and_lists_those_satisfied() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("counter.wat");
    std::fs::write(
        &counter,
        r#"(module
  (import "ledger" "kv_get" (func $get (param i32 i32 i32 i32) (result i64)))
  (import "ledger" "kv_set" (func $set (param i32 i32 i32 i32 i64)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (call $set (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)
      (i64.add (call $get (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)) (i64.const 1)))
    i32.const 0))"#,
    )
    .unwrap();
    let path = counter.to_str().unwrap();
    let v2 = roda(dir.path(), &["validate", path, "--abi", "v2", "--output", "json"]);
    ok(&v2);
    let json = v2.json();
    assert_eq!(json["files"][0]["abi"], "v2");
    assert_eq!(json["files"][0]["satisfies"], serde_json::json!(["v2"]));
    // Outside a project the module's imports say which ABI to check.
    let inferred = roda(dir.path(), &["validate", path]);
    ok(&inferred);
    assert!(
        inferred.stdout.contains("valid for ABI v2")
            && inferred.stdout.contains("the module's imports say so (outside a project)"),
        "{inferred:?}"
    );
    let v1 = roda(dir.path(), &["validate", path, "--abi", "v1"]);
    assert_eq!(v1.code, 3, "{v1:?}");
    assert!(v1.stdout.contains("INVALID (2 error(s)) for ABI v1"), "{v1:?}");
    assert!(v1.stdout.contains("satisfies ABI: v2"), "{v1:?}");
    assert!(v1.stdout.contains("validate and deploy with `--abi v2`"), "{v1:?}");
    let unknown = roda(dir.path(), &["validate", path, "--abi", "v3"]);
    assert_eq!(unknown.code, 2, "a usage error: {unknown:?}");
    assert!(unknown.stderr.contains("[possible values: v1, v2]"), "{unknown:?}");
}
