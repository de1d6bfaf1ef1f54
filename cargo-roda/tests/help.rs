//! `--help` of every command, snapshot-tested.

mod support;

use support::roda;

#[test]
fn help_texts() {
    let dir = std::env::temp_dir();
    for (name, args) in [
        ("roda", vec!["--help"]),
        ("new", vec!["new", "--help"]),
        ("build", vec!["build", "--help"]),
        ("validate", vec!["validate", "--help"]),
        ("inspect", vec!["inspect", "--help"]),
        ("test", vec!["test", "--help"]),
        ("deploy", vec!["deploy", "--help"]),
        ("verify", vec!["verify", "--help"]),
        ("diff", vec!["diff", "--help"]),
        ("call", vec!["call", "--help"]),
        ("dev", vec!["dev", "--help"]),
        ("balance", vec!["balance", "--help"]),
        ("accounts_open", vec!["accounts", "open", "--help"]),
        ("kv_get", vec!["kv", "get", "--help"]),
        ("tx", vec!["tx", "--help"]),
        ("replay", vec!["replay", "--help"]),
        ("schema", vec!["schema", "--help"]),
    ] {
        let run = roda(&dir, &args);
        assert_eq!(run.code, 0, "{run:?}");
        insta::assert_snapshot!(name, run.stdout);
    }
}

/// Invoked directly, without cargo's extra `roda` argument, too.
#[test]
fn direct_invocation_works() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-roda")).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("cargo-roda "), "{output:?}");
}
