//! A function crate that cargo-roda did not scaffold: written with upstream's
//! own guest crate (`roda-wasm-abi` 0.1.0 from crates.io), with no
//! Roda.toml. `build`, `test` and `deploy` work in it as it is (the name is
//! its library's, the ABI its dependency's), `validate` outside any project
//! reads the ABI from the module's imports, and `init` writes the Roda.toml.

mod support;

use std::path::{Path, PathBuf};

use support::dev::DevServer;
use support::roda;

/// A copy of `tests/crates/wasm_abi_counter` in a temporary directory.
fn copy_of_the_crate() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let from = support::repo_root().join("tests/crates/wasm_abi_counter");
    let to = dir.path().join("wasm_abi_counter");
    for file in ["Cargo.toml", "Cargo.lock", "src/lib.rs", "tests/counter.toml"] {
        std::fs::create_dir_all(to.join(file).parent().unwrap()).unwrap();
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    (dir, to)
}

#[test]
fn a_crate_without_roda_toml_builds_tests_and_deploys() {
    let (_dir, krate) = copy_of_the_crate();
    let built = roda(&krate, &["build", "--output", "json"]);
    assert_eq!(built.code, 0, "{built:?}");
    let report = built.json();
    assert_eq!(report["name"], "wasm_abi_counter", "the library's name: {report}");
    assert_eq!(report["report"]["abi"], "v2");
    assert_eq!(report["report"]["abi_source"], "the crate depends on roda-wasm-abi (no Roda.toml)");

    let tested = roda(&krate, &["test", "--output", "json"]);
    assert_eq!(tested.code, 0, "{tested:?}");
    assert_eq!(tested.json()["passed"], 1, "{tested:?}");
    assert!(tested.stderr.contains("note: ABI v2: the crate depends on roda-wasm-abi (no Roda.toml)"), "{tested:?}");

    let server = DevServer::start(&["--abi", "v2"]);
    let deployed = roda(&krate, &["deploy", "--server", &server.url, "--output", "json"]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    assert_eq!(deployed.json()["name"], "wasm_abi_counter");

    // The built module, validated outside any project: its imports say v2.
    let wasm = PathBuf::from(report["wasm"].as_str().unwrap());
    let elsewhere = tempfile::tempdir().unwrap();
    let validated = roda(elsewhere.path(), &["validate", wasm.to_str().unwrap()]);
    assert_eq!(validated.code, 0, "{validated:?}");
    assert!(
        validated.stdout.contains("valid for ABI v2") && validated.stdout.contains("the module's imports say so"),
        "{validated:?}"
    );
}

#[test]
fn init_writes_the_roda_toml_of_a_crate_and_only_once() {
    let (_dir, krate) = copy_of_the_crate();
    let init = roda(&krate, &["init", "--output", "json"]);
    assert_eq!(init.code, 0, "{init:?}");
    let written = std::fs::read_to_string(krate.join("Roda.toml")).unwrap();
    let project = cargo_roda::project::Project::parse(&written, &krate.join("Roda.toml")).unwrap();
    assert_eq!(project.file.function.name, "wasm_abi_counter");
    assert_eq!(project.file.function.language, cargo_roda::project::Language::Rust);
    assert_eq!(project.abi(), cargo_roda::project::Abi::V2);
    assert_eq!(init.json()["abi_source"], "the crate depends on roda-wasm-abi");

    let again = roda(&krate, &["init"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("Roda.toml already exists"), "{again:?}");
    assert_eq!(std::fs::read_to_string(krate.join("Roda.toml")).unwrap(), written, "left as it was");

    // With a Roda.toml, its settings rule: the build no longer notes where the ABI came from.
    let built = roda(&krate, &["build", "--output", "json"]);
    assert_eq!(built.code, 0, "{built:?}");
    assert!(built.json()["report"].get("abi_source").is_none(), "{built:?}");
}

#[test]
fn init_refuses_what_it_cannot_tell() {
    let dir = tempfile::tempdir().unwrap();
    let empty = roda(dir.path(), &["init"]);
    assert_eq!(empty.code, 2, "{empty:?}");
    assert!(empty.stderr.contains("has no Cargo.toml, asconfig.json or function.wat: say the language with --lang"));
    let wat = roda(dir.path(), &["init", "--lang", "wat", "--name", "9lives"]);
    assert_eq!(wat.code, 1, "{wat:?}");
    assert!(wat.stderr.contains("must start with an ASCII letter"), "{wat:?}");
    assert!(!dir.path().join("Roda.toml").exists());
    let named = roda(dir.path(), &["init", "--lang", "wat", "--name", "fee", "--abi", "v1"]);
    assert_eq!(named.code, 0, "{named:?}");
    assert!(std::fs::read_to_string(dir.path().join("Roda.toml")).unwrap().contains("abi = \"v1\""));
}

#[test]
fn a_crate_that_is_not_a_function_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"plain\"\nversion = \"0.0.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    write(dir.path(), "src/lib.rs", "");
    let built = roda(dir.path(), &["build"]);
    assert_eq!(built.code, 1, "{built:?}");
    assert!(built.stderr.contains("its package `plain` builds no cdylib"), "{built:?}");
    let outside = tempfile::tempdir().unwrap();
    let nothing = roda(outside.path(), &["build"]);
    assert!(nothing.stderr.contains("no Roda.toml or Cargo.toml in"), "{nothing:?}");
    assert!(nothing.stderr.contains("`cargo roda init`"), "{nothing:?}");
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
    std::fs::write(dir.join(file), text).unwrap();
}
