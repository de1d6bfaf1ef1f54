//! The corpus of hostile modules in `tests/hostile`: each is rejected with
//! the right code, by the real binary.

mod support;

use std::collections::BTreeMap;

use support::{repo_root, roda};

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["violations"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_hostile_module_is_rejected_with_its_code() {
    let corpus = repo_root().join("tests/hostile");
    let expected: BTreeMap<String, Vec<String>> =
        toml::from_str(&std::fs::read_to_string(corpus.join("expected.toml")).unwrap()).unwrap();
    let on_disk =
        std::fs::read_dir(&corpus).unwrap().filter(|e| e.as_ref().unwrap().file_name() != "expected.toml").count();
    assert_eq!(on_disk, expected.len(), "every file in tests/hostile is listed in expected.toml");

    let files: Vec<&str> = expected.keys().map(String::as_str).collect();
    let mut args = vec!["validate", "--output", "json"];
    args.extend(&files);
    let run = roda(&corpus, &args);
    assert_eq!(run.code, 3, "{run:?}");
    let json = run.json();
    assert_eq!(json["ok"], false);
    for (report, (file, want)) in json["files"].as_array().unwrap().iter().zip(&expected) {
        assert_eq!(report["path"], file.as_str());
        assert_eq!(report["valid"], false, "{file}");
        assert_eq!(&codes(report), want, "{file}");
    }
}

#[test]
fn oversize_module_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let padding = "\\00".repeat(ledger_core::abi::MAX_BINARY_SIZE);
    let wat = format!(
        r#"(module (memory 65) (data (i32.const 0) "{padding}")
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#
    );
    std::fs::write(dir.path().join("big.wasm"), wat::parse_str(wat).unwrap()).unwrap();
    let run = roda(dir.path(), &["validate", "big.wasm", "--output", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(codes(&run.json()["files"][0]), ["too-large"]);
}

#[test]
fn env_abort_gets_the_assemblyscript_hint() {
    let run = roda(&repo_root().join("tests/hostile"), &["validate", "env_abort.wat"]);
    assert_eq!(run.code, 3);
    insta::assert_snapshot!(run.stdout);
}

/// Warnings pass unless `--deny-warnings`; a good file and a bad one fail
/// together; the exit code is the validation one.
#[test]
fn warnings_and_mixed_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("floaty.wat"),
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
             (drop (f64.add (f64.const 1) (f64.const 2))) i32.const 0))"#,
    )
    .unwrap();
    let warned = roda(dir.path(), &["validate", "floaty.wat"]);
    assert_eq!(warned.code, 0, "{warned:?}");
    assert!(warned.stdout.contains("warning[float-instructions]"), "{warned:?}");
    assert_eq!(roda(dir.path(), &["validate", "floaty.wat", "--deny-warnings"]).code, 3);

    let hostile = repo_root().join("tests/hostile/env_abort.wat");
    let mixed = roda(dir.path(), &["validate", "floaty.wat", hostile.to_str().unwrap(), "--output", "json"]);
    assert_eq!(mixed.code, 3);
    let json = mixed.json();
    assert_eq!(json["files"][0]["valid"], true);
    assert_eq!(json["files"][1]["valid"], false);
}

#[test]
fn bad_name_and_unreadable_files_are_reported_per_file() {
    let corpus = repo_root().join("tests/hostile");
    let run = roda(&corpus, &["validate", "missing.wasm", "--output", "json"]);
    assert_eq!(run.code, 3);
    assert_eq!(codes(&run.json()["files"][0]), ["unreadable"]);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typo.wat"), "(module (func (export \"execute\")").unwrap();
    let run = roda(dir.path(), &["validate", "typo.wat", "--output", "json"]);
    assert_eq!(codes(&run.json()["files"][0]), ["malformed"]);

    let good = repo_root().join("cargo-roda/templates/wat/function.wat");
    let run = roda(dir.path(), &["validate", good.to_str().unwrap(), "--name", "fee-transfer", "--output", "json"]);
    assert_eq!(run.code, 3);
    assert_eq!(codes(&run.json()["files"][0]), ["function-name"]);
}
