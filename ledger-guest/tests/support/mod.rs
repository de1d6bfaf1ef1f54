//! Builds the guest crates under `tests/guests` for wasm32 with real cargo,
//! once per test binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The built `.wasm` of guest crate `name`.
pub fn guest_wasm(name: &str) -> Vec<u8> {
    let path = guests_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn guests_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target_dir = manifest_dir.join("../target/guests");
        // rustup installs the targets a rust-toolchain.toml lists only with a
        // toolchain it installs: add the wasm target to the one at hand (a
        // no-op once it is there).
        let _ = Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]).current_dir(manifest_dir).output();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--release", "--locked", "--target", "wasm32-unknown-unknown", "--manifest-path"])
            .arg(manifest_dir.join("tests/guests/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .output()
            .expect("run cargo");
        assert!(
            output.status.success(),
            "building the guest crates failed (is the target installed? `rustup target add wasm32-unknown-unknown`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target_dir.join("wasm32-unknown-unknown/release")
    })
}
