//! Runs the real `cargo-roda` binary, the way cargo runs it.

#![allow(dead_code)]

pub mod dev;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as the one JSON document `--output json` promises.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON document ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A command for `cargo roda ARGS` in `dir`, with no RODA_* settings from
/// the environment and Rust builds sharing one target directory.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-roda"));
    command.arg("roda").args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RODA_") {
            command.env_remove(key);
        }
    }
    // Scaffolded Rust projects depend on this checkout's SDK crates: the
    // binary records the checkout it was built in.
    command.envs(guest_build_env());
    command
}

/// Runs `cargo roda ARGS` in `dir`.
pub fn roda(dir: &Path, args: &[&str]) -> Run {
    finish(command(dir, args).output().expect("run cargo-roda"))
}

pub fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Guest builds share a target directory so their dependencies build once.
fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-guests")
}

/// The environment of every build of a guest project here: the shared
/// target directory, and native test builds without debug info or
/// incremental state. Each project's tests link its own build of
/// wasmtime, and with debug info those filled a CI machine's disk.
/// `PATH` has this build's `cargo-roda` first: a scaffolded project's
/// `cargo test` runs `cargo roda test`.
pub fn guest_build_env() -> [(&'static str, std::ffi::OsString); 4] {
    let bin = Path::new(env!("CARGO_BIN_EXE_cargo-roda")).parent().unwrap();
    [
        ("CARGO_TARGET_DIR", shared_target_dir().into_os_string()),
        ("CARGO_PROFILE_DEV_DEBUG", "false".into()),
        ("CARGO_INCREMENTAL", "0".into()),
        ("PATH", path_with(bin)),
    ]
}

/// `PATH` with `dir` first.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest))).unwrap()
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
