//! The scenarios in `tests/*.toml`, run against the built `.wasm` by the
//! installed `cargo roda test`, in its own process: `cargo test` runs them
//! without compiling the simulator (wasmtime) into this crate's tests.
//! (`roda-test`, the same runner as a library, runs them in process too.)
//!
//! Build the function first (`cargo roda build`), then `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `cargo roda build` leaves the release `.wasm`.
fn built_wasm() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("wasm32-unknown-unknown/release/loyalty_accrual.wasm")
}

#[test]
fn scenarios_pass_against_the_built_wasm() {
    let wasm = built_wasm();
    assert!(wasm.is_file(), "{} is missing: build the function first with `cargo roda build`", wasm.display());
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["roda", "test", "--wasm"])
        .arg(&wasm)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    let (report, errors) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!errors.contains("no such command"), "`cargo roda` is not installed: install cargo-roda as its README says");
    assert!(output.status.success(), "{report}{errors}");
}
