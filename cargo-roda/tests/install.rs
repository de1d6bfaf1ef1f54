//! cargo-roda installs from its packaged `.crate`, not from the workspace:
//! `cargo package` every crate, unpack them, `cargo install` the CLI from
//! its package with the sibling packages standing in for crates.io, then
//! scaffold, build and test a function with the installed binary, the
//! scaffold depending on ledger-guest by version as a user's does.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `command`, failing the test with its output when it fails.
#[track_caller]
fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `[patch.crates-io]` keys and values, `name.path = "..."`, that make every
/// packaged library stand in for its (not yet published) crates.io release.
fn patches(packages: &[(String, PathBuf)]) -> Vec<String> {
    packages
        .iter()
        .filter(|(name, _)| name != "cargo-roda")
        .map(|(name, dir)| format!("{name}.path = {:?}", dir.display().to_string()))
        .collect()
}

#[test]
fn cargo_roda_installs_from_its_package_and_builds_and_tests_a_function() {
    let repo = support::repo_root();
    let work = tempfile::tempdir().unwrap();
    let package_target = repo.join("target/package-check");
    run(cargo()
        .current_dir(&repo)
        .args(["package", "--workspace", "--no-verify", "--allow-dirty", "--locked", "--target-dir"])
        .arg(&package_target));

    // Unpack every package, as a registry would hand it out.
    let unpacked = work.path().join("packages");
    std::fs::create_dir_all(&unpacked).unwrap();
    let mut packages = Vec::new();
    for entry in std::fs::read_dir(package_target.join("package")).unwrap() {
        let path = entry.unwrap().path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()).and_then(|f| f.strip_suffix(".crate")) else {
            continue;
        };
        run(Command::new("tar").arg("xzf").arg(&path).arg("-C").arg(&unpacked));
        let (name, _version) = file.rsplit_once('-').unwrap();
        packages.push((name.to_owned(), unpacked.join(file)));
    }
    let cli = &packages.iter().find(|(name, _)| name == "cargo-roda").expect("cargo-roda was packaged").1;
    for template in
        ["templates/rust/Cargo.toml.tmpl", "templates/assemblyscript/package.json.tmpl", "templates/wat/function.wat"]
    {
        assert!(cli.join(template).is_file(), "the package carries {template}");
    }

    // Install from the package; dependencies build in a directory of their
    // own, kept between runs.
    let root = work.path().join("root");
    let mut install = cargo();
    install.args(["install", "--debug", "--path"]).arg(cli).arg("--root").arg(&root);
    install.arg("--target-dir").arg(repo.join("target/install-check"));
    for patch in patches(&packages) {
        install.args(["--config", &format!("patch.crates-io.{patch}")]);
    }
    run(&mut install);
    let installed = root.join("bin/cargo-roda");
    assert!(installed.is_file());

    // A user's project: `cargo roda new` writes a dependency on the
    // published ledger-guest; the packages stand in for the registry.
    let projects = work.path().join("projects");
    std::fs::create_dir_all(projects.join(".cargo")).unwrap();
    let config = format!("[patch.crates-io]\n{}\n", patches(&packages).join("\n"));
    std::fs::write(projects.join(".cargo/config.toml"), config).unwrap();
    let roda = |dir: &Path, args: &[&str]| {
        let mut command = Command::new(&installed);
        command.arg("roda").args(args).current_dir(dir).env_remove("RODA_GUEST_PATH");
        command.env("CARGO_TARGET_DIR", work.path().join("guest-target"));
        run(&mut command)
    };
    roda(&projects, &["new", "fee_transfer", "--abi", "v1"]);
    let manifest = std::fs::read_to_string(projects.join("fee_transfer/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("ledger-guest = \"{}\"", env!("CARGO_PKG_VERSION"))),
        "depends on the published release:\n{manifest}"
    );
    let project = projects.join("fee_transfer");
    let built = roda(&project, &["build"]);
    assert!(built.contains("fee_transfer.wasm"), "{built}");
    let tested = roda(&project, &["test", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&tested).unwrap();
    assert_eq!(report["failed"], 0, "{tested}");
    assert!(report["passed"].as_u64() > Some(0), "{tested}");
}
