//! The interface manifest end to end, on a WAT project (no toolchain to
//! wait for): `Roda.toml`'s `[interface]` goes into the module, `inspect`
//! prints it, scenarios and `call` take parameters by name and statuses by
//! the function's own names, and reports print them; every way to get it
//! wrong says what and how to fix it. The Rust and AssemblyScript round
//! trips are in examples.rs (every example's manifest against its source).

mod support;

use std::path::Path;

use support::dev::{DevServer, against};
use support::roda;

fn new_wat_v2(dir: &Path) -> std::path::PathBuf {
    assert_eq!(roda(dir, &["new", "mover", "--lang", "wat", "--abi", "v2"]).code, 0);
    dir.join("mover")
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
fn a_declared_interface_names_parameters_and_statuses_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_wat_v2(dir.path());
    let built = roda(&project, &["build", "--output", "json"]);
    assert_eq!(built.code, 0, "{built:?}");

    let inspected = roda(&project, &["inspect", "build/function.wasm"]);
    assert_eq!(inspected.code, 0, "{inspected:?}");
    for line in [
        "  interface: function `mover`, written for ABI v2 (",
        "      0  sender    account\n      1  receiver  account\n      2  amount    amount\n",
        "      USER(200) = ACCOUNT_FROZEN\n",
        "    constants: transfers\n",
    ] {
        assert!(inspected.stdout.contains(line), "{line:?} in {}", inspected.stdout);
    }

    // The template's scenarios use a name (`params = { ... }`,
    // `expect = "ACCOUNT_FROZEN"`); a failing step prints the name too.
    let tested = roda(&project, &["test"]);
    assert_eq!(tested.code, 0, "{tested:?}");
    let scenario = project.join("tests/mover.toml");
    edit(&scenario, "expect = \"ACCOUNT_FROZEN\"", "expect = \"NONE\"");
    let failed = roda(&project, &["test"]);
    assert_eq!(failed.code, 5, "{failed:?}");
    assert!(
        failed.stdout.contains("expected status NONE (0), got USER(200) = ACCOUNT_FROZEN (200)"),
        "{}",
        failed.stdout
    );
    let json = roda(&project, &["test", "--output", "json"]).stdout;
    assert!(json.contains(r#""status_names":{"200":"ACCOUNT_FROZEN"}"#), "{json}");

    // `call` by name, against a server.
    let server = DevServer::start(&["--abi", "v2"]);
    let run = |args: &[&str]| against(&project, &server.url, args);
    assert_eq!(run(&["deploy"]).code, 0);
    assert_eq!(run(&["accounts", "open", "2"]).code, 0);
    let called = run(&["call", "mover", "sender=1", "receiver=2", "amount=5", "--expect", "INSUFFICIENT_FUNDS"]);
    assert_eq!(called.code, 0, "{called:?}");
    let frozen = run(&["call", "mover", "receiver=2", "sender=99", "amount=5", "--output", "json"]);
    assert_eq!(frozen.code, 7, "{frozen:?}");
    assert_eq!(frozen.json()["status_name"], serde_json::Value::Null, "ACCOUNT_NOT_FOUND is the ledger's own");
    for (args, message) in [
        (vec!["sender=1", "receiver=2", "amount=-5"], "`amount` (amount) takes 0 or more"),
        (vec!["sender=1", "receiver=2"], "missing `amount`: the function takes sender, receiver, amount"),
        (vec!["sender=1", "2", "amount=5"], "give every parameter as `name=value`, or none"),
        (vec!["sender=1", "recipient=2", "amount=5"], "the function takes no parameter `recipient`"),
        (vec!["sender=1", "receiver=x", "amount=5"], "`receiver`: `x` is not an integer"),
    ] {
        let refused = run(&[&["call", "mover"][..], &args].concat());
        assert_eq!(refused.code, 2, "{args:?}: {refused:?}");
        assert!(refused.stderr.contains(message), "{args:?}: {}", refused.stderr);
    }
    let unknown = run(&["call", "mover", "1", "2", "3", "--expect", "FROZEN"]);
    assert!(unknown.stderr.contains("or one of the function's own: ACCOUNT_FROZEN"), "{unknown:?}");
    // Elsewhere, the manifest comes from --interface.
    let elsewhere = against(dir.path(), &server.url, &["call", "mover", "sender=1", "receiver=2", "amount=5"]);
    assert!(elsewhere.stderr.contains("parameters by name need the function's interface manifest"), "{elsewhere:?}");
    let wasm = project.join("build/function.wasm");
    let given = against(
        dir.path(),
        &server.url,
        &["call", "mover", "sender=1", "receiver=2", "amount=5", "--interface", wasm.to_str().unwrap()],
    );
    assert!(given.stdout.contains("INSUFFICIENT_FUNDS"), "{given:?}");
}

#[test]
fn scenarios_by_name_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_wat_v2(dir.path());
    let scenario = project.join("tests/mover.toml");
    edit(&scenario, "params = { sender = \"alice\",", "params = { sendr = \"alice\",");
    let misspelt = roda(&project, &["test"]);
    assert_eq!(misspelt.code, 1, "{misspelt:?}");
    assert!(
        misspelt
            .stderr
            .contains("params of `mover`: the function takes no parameter `sendr`: it takes sender, receiver, amount"),
        "{}",
        misspelt.stderr
    );
    // Without a manifest, a table of params cannot be placed in slots.
    let roda_toml = project.join("Roda.toml");
    let text = std::fs::read_to_string(&roda_toml).unwrap();
    let (before, declared) = text.split_once("[interface]").unwrap();
    let after = declared.split_once("\n\n").map_or("", |(_, after)| after);
    std::fs::write(&roda_toml, format!("{before}{after}")).unwrap();
    edit(&scenario, "sendr", "sender");
    let bare = roda(&project, &["test"]);
    assert_eq!(bare.code, 1, "{bare:?}");
    assert!(bare.stderr.contains("params by name need `mover`'s interface manifest"), "{}", bare.stderr);
    let inspected = roda(&project, &["inspect", "build/function.wasm"]);
    assert!(inspected.stdout.contains("interface: none (no `roda.interface` section)"), "{inspected:?}");
}

#[test]
fn a_wrong_interface_declaration_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let project = new_wat_v2(dir.path());
    let roda_toml = project.join("Roda.toml");
    for (from, to, message) in [
        ("ACCOUNT_FROZEN = 200", "ACCOUNT_FROZEN = 5", "`ACCOUNT_FROZEN = 5`: a function's own statuses are 128..=255"),
        (
            "name = \"amount\", kind = \"amount\"",
            "name = \"sender\", kind = \"amount\"",
            "declares the parameter `sender` twice",
        ),
        ("kind = \"amount\"", "kind = \"money\"", "unknown parameter kind `money`"),
    ] {
        edit(&roda_toml, from, to);
        let built = roda(&project, &["build"]);
        assert_ne!(built.code, 0, "{from}: {built:?}");
        assert!(built.stderr.contains(message), "{from}: {}", built.stderr);
        assert!(!project.join("build/function.wasm").exists(), "{from}: a module was written");
        edit(&roda_toml, to, from);
    }
    let restored = roda(&project, &["build"]);
    assert_eq!(restored.code, 0, "{restored:?}");

    // The constants are checked against what `register()` defines: the
    // code renamed without the declaration leaves no module.
    let source = project.join("function.wat");
    edit(&source, "\"transfers\\00\"", "\"transferz\\00\"");
    let drifted = roda(&project, &["build"]);
    assert_eq!(drifted.code, 4, "{drifted:?}");
    assert!(
        drifted
            .stderr
            .contains("declares the constants [transfers], and the module's `register()` defines [transferz]"),
        "{drifted:?}"
    );
    assert!(!project.join("build/function.wasm").exists(), "a module without its declared interface was left");
    edit(&source, "\"transferz\\00\"", "\"transfers\\00\"");

    // A Rust function declares its interface in code.
    let rust = dir.path().join("rusty");
    std::fs::create_dir(&rust).unwrap();
    std::fs::write(
        rust.join("Roda.toml"),
        "[function]\nname = \"rusty\"\nlanguage = \"rust\"\n\n[interface]\nstatuses = { SHORT = 140 }\n",
    )
    .unwrap();
    let refused = roda(&rust, &["build"]);
    assert_eq!(refused.code, 4, "{refused:?}");
    assert!(refused.stderr.contains("a Rust function declares its interface in code"), "{refused:?}");

    // A module whose manifest does not read: inspect and validate say so.
    let broken = dir.path().join("broken.wat");
    std::fs::write(
        &broken,
        r#"(module (@custom "roda.interface" "{\"status\":\"A\"}") (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let inspected = roda(dir.path(), &["inspect", "broken.wat"]);
    assert_eq!(inspected.code, 3, "{inspected:?}");
    assert!(
        inspected.stdout.contains("interface: unreadable: line 1 of the `roda.interface` section"),
        "{inspected:?}"
    );
    let validated = roda(dir.path(), &["validate", "broken.wat"]);
    assert_eq!(validated.code, 3, "{validated:?}");
    assert!(validated.stdout.contains("error[interface]"), "{validated:?}");
    let missing = roda(dir.path(), &["inspect", "nowhere.wasm"]);
    assert_eq!(missing.code, 3, "{missing:?}");

    // A manifest that leaves out a constant `register()` defines.
    std::fs::write(
        dir.path().join("quiet.wat"),
        r#"(module (@custom "roda.interface" "{\"roda.interface\":1}")
             (import "ledger" "kv_register_constant" (func $define (param i32)))
             (memory (export "memory") 1) (data (i32.const 16) "calls\00")
             (func (export "register") (call $define (i32.const 16)))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let noted = roda(dir.path(), &["inspect", "quiet.wat"]);
    assert!(
        noted.stdout.contains("note: its `register()` defines [calls], which the manifest does not say"),
        "{noted:?}"
    );
}
