//! Every error path of new / build: a clear message, the documented exit
//! code, JSON when asked, and nothing half-written.

mod support;

use support::roda;

#[test]
fn new_refuses_an_invalid_name_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = roda(dir.path(), &["new", "fee-transfer"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(run.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn new_refuses_an_existing_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/keep.txt"), "mine").unwrap();
    let run = roda(dir.path(), &["new", "taken", "--output", "json"]);
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
    let run = roda(dir.path(), &["new", "f", "--path", "file/f"]);
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
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat"]).code, 0);
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
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat"]).code, 0);
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
    assert_eq!(roda(dir.path(), &["new", "f"]).code, 0);
    std::fs::write(dir.path().join("f/src/lib.rs"), "#![no_std]\nfn broken() -> u32 { \"text\" }\n").unwrap();
    let run = roda(&dir.path().join("f"), &["build", "--output", "json"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("mismatched types"), "rustc's own diagnostics are streamed: {run:?}");
    assert_eq!(run.json()["error"]["kind"], "build");
}

/// With a toolchain that lacks the wasm target, the fix is printed instead of
/// rustc's "can't find crate for `core`".
#[test]
fn missing_wasm_target_prints_the_rustup_command() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f"]).code, 0);
    // A rustc whose sysroot has no wasm32 target.
    let sysroot = dir.path().join("sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/lib")).unwrap();
    let rustc = dir.path().join("rustc");
    std::fs::write(&rustc, format!("#!/bin/sh\necho {}\n", sysroot.display())).unwrap();
    std::fs::set_permissions(&rustc, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run =
        support::finish(support::command(&dir.path().join("f"), &["build"]).env("RUSTC", &rustc).output().unwrap());
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("rustup target add wasm32-unknown-unknown"), "{run:?}");
}

#[test]
fn assemblyscript_without_npm_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "assemblyscript"]).code, 0);
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
    let run = roda(dir.path(), &["build", "--release", "--debug"]);
    assert_eq!(run.code, 2, "contradictory flags are refused by clap: {run:?}");
}

#[test]
fn name_flag_and_env_override_the_project_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat"]).code, 0);
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
