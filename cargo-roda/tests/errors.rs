//! Every error path of new / build: a clear message, the documented exit
//! code, JSON when asked, and nothing half-written.

mod support;

use std::path::{Path, PathBuf};
use support::roda;

#[test]
fn new_refuses_an_invalid_name_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = roda(dir.path(), &["new", "fee-transfer", "--abi", "v1"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(run.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn new_refuses_an_existing_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/keep.txt"), "mine").unwrap();
    let run = roda(dir.path(), &["new", "taken", "--output", "json", "--abi", "v1"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["kind"], "scaffold");
    assert!(json["error"]["message"].as_str().unwrap().contains("already exists"));
    assert_eq!(std::fs::read_dir(dir.path().join("taken")).unwrap().count(), 1, "nothing added");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no staging directory left");
}

#[test]
fn new_into_an_unwritable_place_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    // The parent is a file: creating anything under it fails.
    let run = roda(dir.path(), &["new", "f", "--path", "file/f", "--abi", "v1"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot create"), "{run:?}");
}

#[test]
fn build_outside_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let run = roda(dir.path(), &["build", "--output", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    assert_eq!(json["error"]["kind"], "project");
    assert!(json["error"]["message"].as_str().unwrap().contains("cargo roda new"));
}

#[test]
fn project_file_with_an_unknown_key_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Roda.toml"), "[function]\nname = \"f\"\nlanguage = \"wat\"\ncolour = \"blue\"\n")
        .unwrap();
    let run = roda(dir.path(), &["build"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("line 4"), "{run:?}");
    assert!(run.stderr.contains("unknown field `colour`"), "{run:?}");
}

#[test]
fn project_file_with_an_invalid_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Roda.toml"), "[function]\nname = \"9lives\"\nlanguage = \"wat\"\n").unwrap();
    let run = roda(dir.path(), &["build"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("must start with an ASCII letter"), "{run:?}");
}

#[test]
fn wat_syntax_error_fails_the_build_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat", "--abi", "v1"]).code, 0);
    std::fs::write(dir.path().join("f/function.wat"), "(module\n  (func (export \"execute\") (param i64 nope)))\n")
        .unwrap();
    let run = roda(&dir.path().join("f"), &["build"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("function.wat") && run.stderr.contains(":2:"), "{run:?}");
    assert!(!dir.path().join("f/build/function.wasm").exists(), "no half-built module");
}

#[test]
fn a_module_that_builds_but_is_invalid_fails_with_code_3() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat", "--abi", "v1"]).code, 0);
    std::fs::write(
        dir.path().join("f/function.wat"),
        r#"(module (import "env" "abort" (func (param i32 i32 i32 i32)))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let run = roda(&dir.path().join("f"), &["build"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("error[env-abort]"), "{run:?}");
    assert!(run.stdout.contains("fails validation"), "{run:?}");
}

#[test]
fn rust_compile_error_fails_the_build_and_shows_rustc() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--abi", "v1"]).code, 0);
    std::fs::write(dir.path().join("f/src/lib.rs"), "#![no_std]\nfn broken() -> u32 { \"text\" }\n").unwrap();
    let run = roda(&dir.path().join("f"), &["build", "--output", "json"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("mismatched types"), "rustc's own diagnostics are streamed: {run:?}");
    assert_eq!(run.json()["error"]["kind"], "build");
}

/// A project whose toolchain is a `rustc` with a sysroot that has no wasm
/// target, and a `rustup` of ours on PATH that runs `script`.
fn toolchain_without_wasm_target(dir: &Path, rustup_script: &str) -> (PathBuf, std::ffi::OsString) {
    use std::os::unix::fs::PermissionsExt;
    let sysroot = dir.join("sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/lib")).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let rustc = bin.join("rustc");
    std::fs::write(&rustc, format!("#!/bin/sh\necho {}\n", sysroot.display())).unwrap();
    let rustup = bin.join("rustup");
    std::fs::write(&rustup, format!("#!/bin/sh\necho \"$@\" >> {}/rustup.args\n{rustup_script}\n", dir.display()))
        .unwrap();
    for tool in [&rustc, &rustup] {
        std::fs::set_permissions(tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    (rustc, path)
}

/// When rustup cannot add the missing wasm target, the fix is printed
/// instead of rustc's "can't find crate for `core`".
#[test]
fn missing_wasm_target_that_rustup_cannot_add_prints_the_rustup_command() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--abi", "v1"]).code, 0);
    let (rustc, path) = toolchain_without_wasm_target(dir.path(), "exit 1");
    let run = support::finish(
        support::command(&dir.path().join("f"), &["build"]).env("RUSTC", &rustc).env("PATH", path).output().unwrap(),
    );
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("rustup target add wasm32-unknown-unknown"), "{run:?}");
    let asked = std::fs::read_to_string(dir.path().join("rustup.args")).unwrap();
    assert_eq!(asked.trim(), "target add wasm32-unknown-unknown", "rustup was asked first");
}

/// A missing wasm target is added with rustup, as wasm-pack does, and the
/// build goes on: a fresh machine builds with nothing run before.
#[test]
fn missing_wasm_target_is_added_with_rustup() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--abi", "v1"]).code, 0);
    let install = format!("mkdir -p {}/sysroot/lib/rustlib/wasm32-unknown-unknown/lib", dir.path().display());
    let (rustc, path) = toolchain_without_wasm_target(dir.path(), &install);
    let run = support::finish(
        support::command(&dir.path().join("f"), &["build"]).env("RUSTC", &rustc).env("PATH", path).output().unwrap(),
    );
    // Past the target check, cargo runs our stand-in rustc, which cannot compile.
    assert_eq!(run.code, 4, "{run:?}");
    assert!(!run.stderr.contains("is not installed"), "{run:?}");
    assert!(dir.path().join("sysroot/lib/rustlib/wasm32-unknown-unknown/lib").is_dir());
}

#[test]
fn assemblyscript_without_npm_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "assemblyscript", "--abi", "v1"]).code, 0);
    let run = support::finish(
        support::command(&dir.path().join("f"), &["build"]).env("PATH", "/nonexistent").output().unwrap(),
    );
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("cannot run `npm`") && run.stderr.contains("install Node.js"), "{run:?}");
}

#[test]
fn usage_errors_exit_2_and_speak_json_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let run = roda(dir.path(), &["build", "--bogus"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unexpected argument '--bogus'"));
    let run = roda(dir.path(), &["validate", "--output", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let json = run.json();
    assert_eq!(json["error"]["kind"], "usage");
    assert_eq!(json["exit_code"], 2);
    let run = roda(dir.path(), &["new", "f", "--guest-path", "x", "--guest-version", "0.1.0", "--abi", "v1"]);
    assert_eq!(run.code, 2, "contradictory flags are refused by clap: {run:?}");
}

/// Every failure has its domain's JSON kind and exit code, never a bare
/// `error`.
#[test]
fn each_failure_has_its_kind_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat", "--abi", "v1"]).code, 0);
    let project = dir.path().join("f");
    let bad = dir.path().join("bad.wat");
    std::fs::write(&bad, r#"(module (import "env" "abort" (func)) (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#).unwrap();
    let nowhere = "http://127.0.0.1:1";
    let cases: &[(&[&str], &str, i32, &str)] = &[
        (&["call", "f", "1", "2", "3", "4", "5", "6", "7", "8", "9", "--server", nowhere], "usage", 2, "at most 8"),
        (&["deploy", "missing.wasm", "--name", "f", "--server", nowhere], "module", 1, "missing.wasm"),
        (&["deploy", bad.to_str().unwrap(), "--name", "f", "--server", nowhere], "validation", 3, "not deployed"),
        (&["list", "--profile", "nope"], "project", 1, "no profile `nope`"),
        (&["list", "--token-file", "/nonexistent/token", "--server", nowhere], "io", 1, "cannot read the token file"),
        (&["dev", "--token-env", "RODA_TEST_TOKEN_THAT_IS_NOT_SET"], "token", 1, "not set"),
    ];
    for (args, kind, code, says) in cases {
        let mut args = args.to_vec();
        args.extend(["--output", "json"]);
        let run = roda(&project, &args);
        assert_eq!(run.code, *code, "{args:?}: {run:?}");
        let json = run.json();
        assert_eq!(json["error"]["kind"], *kind, "{args:?}: {json:#}");
        assert!(json["error"]["message"].as_str().unwrap().contains(says), "{args:?}: {json:#}");
    }
}

#[test]
fn name_flag_and_env_override_the_project_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat", "--abi", "v1"]).code, 0);
    let project = dir.path().join("f");
    let run = roda(&project, &["build", "--name", "renamed", "--output", "json"]);
    assert_eq!(run.json()["name"], "renamed", "{run:?}");
    let run = support::finish(
        support::command(&project, &["build", "--output", "json"]).env("RODA_NAME", "from_env").output().unwrap(),
    );
    assert_eq!(run.json()["name"], "from_env", "{run:?}");
    let run = roda(&project, &["build", "--name", "bad name"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("must contain only ASCII alphanumerics"), "{run:?}");
}
