//! Every documented way to install cargo-roda works on a machine with
//! nothing but the CLI: from a clone (`cargo install --path`), from a git
//! URL (`cargo install --git`, here a `file://` URL of a temporary
//! repository made from this working tree) and from its packaged crates (as
//! a registry hands them out). After each, a user's first hour: `cargo roda
//! new` in an empty directory, then `build`, `test` and the project's own
//! `cargo test`, with no RODA_* variable set; the scaffold's dependencies
//! resolve from where the CLI came from.
//!
//! The installs share one target directory (`target/install-check`), and
//! the projects the guest target directory of the other tests, so that the
//! dependencies build once.

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

/// `command` without any RODA_* variable of this process.
fn without_roda_variables(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RODA_") {
            command.env_remove(key);
        }
    }
    command
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    without_roda_variables(&mut command);
    command
}

/// One install at a time: `cargo install` copies the binary out of the
/// shared target directory after it releases its lock, so another install
/// building there meanwhile would hand it its own binary.
static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `cargo install --debug ... --root ROOT`, into the shared install target
/// directory; returns the installed binary.
fn install(args: &[&str], extra: impl FnOnce(&mut Command), root: &Path) -> PathBuf {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let target = support::repo_root().join("target/install-check");
    // The binary another install left there: were it copied again, the
    // test would check that install's binary, so it must not be found.
    let _ = std::fs::remove_file(target.join("debug/cargo-roda"));
    let mut command = cargo();
    command.args(["install", "--debug", "--root"]).arg(root);
    command.arg("--target-dir").arg(&target);
    // Without debug info or incremental state, as the guest builds (disk).
    command.env("CARGO_PROFILE_DEV_DEBUG", "false").env("CARGO_INCREMENTAL", "0");
    // `args` may end with `--path`, whose value `extra` adds.
    command.args(args);
    extra(&mut command);
    run(&mut command);
    let installed = root.join("bin/cargo-roda");
    assert!(installed.is_file(), "{} was installed", installed.display());
    installed
}

/// A newcomer's first hour with the installed CLI, in the empty directory
/// `projects`: a Rust v2 function scaffolded, built, tested, fuzzed (when
/// `fuzz`), and tested again by its own `cargo test`. Returns its Cargo.toml
/// and what `new` printed.
fn first_hour(installed: &Path, projects: &Path, fuzz: bool) -> (String, String) {
    let roda = |dir: &Path, args: &[&str]| {
        let mut command = Command::new(installed);
        command.arg("roda").args(args).current_dir(dir);
        command.envs(support::guest_build_env());
        run(without_roda_variables(&mut command))
    };
    let created = roda(projects, &["new", "hello"]);
    let project = projects.join("hello");
    let built = roda(&project, &["build"]);
    assert!(built.contains("hello.wasm"), "{built}");
    let tested = roda(&project, &["test", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&tested).unwrap();
    assert_eq!(report["failed"], 0, "{tested}");
    assert!(report["passed"].as_u64() > Some(0), "{tested}");
    if fuzz {
        let fuzzed = roda(&project, &["test", "--fuzz", "2000", "--seed", "1", "--output", "json"]);
        let report: serde_json::Value = serde_json::from_str(&fuzzed).unwrap();
        assert_eq!(report["failed"], 0, "{fuzzed}");
        assert!(!report["fuzz"].as_array().unwrap().is_empty(), "the template fuzzes: {fuzzed}");
    }
    // Its scenario test runs `cargo roda test`: the installed one.
    let path = support::path_with(installed.parent().unwrap());
    run(cargo().args(["test", "--quiet"]).current_dir(&project).envs(support::guest_build_env()).env("PATH", path));
    (std::fs::read_to_string(project.join("Cargo.toml")).unwrap(), created)
}

#[test]
fn installs_from_a_clone_and_scaffolds_against_it() {
    let repo = support::repo_root().canonicalize().unwrap();
    let work = tempfile::tempdir().unwrap();
    let from_clone = |install: &mut Command| {
        install.arg(repo.join("cargo-roda"));
    };
    let installed = install(&["--locked", "--path"], from_clone, &work.path().join("root"));
    let projects = work.path().join("projects");
    std::fs::create_dir(&projects).unwrap();
    let (manifest, created) = first_hour(&installed, &projects, false);
    let guest = repo.join("ledger-guest").display().to_string();
    assert!(manifest.contains(&format!("ledger-guest = {{ path = \"{guest}\", features = [\"v2\"] }}")), "{manifest}");
    assert!(
        created.contains(&format!("ledger-guest and roda-test from the checkout at {}", repo.display())),
        "{created}"
    );
}

/// The files of this working tree that git would commit (tracked, and
/// untracked but not ignored), copied into `into` and committed there.
/// Returns the commit.
fn snapshot_of_the_working_tree(into: &Path) -> String {
    let repo = support::repo_root();
    let git = |dir: &Path| {
        let mut command = Command::new("git");
        command.current_dir(dir).args(["-c", "user.name=cargo-roda tests", "-c", "user.email=tests@invalid"]);
        command
    };
    let listed = run(git(&repo).args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"]));
    std::fs::create_dir_all(into).unwrap();
    for file in listed.split('\0').filter(|f| !f.is_empty()) {
        let from = repo.join(file);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = into.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    run(git(into).args(["init", "--quiet"]));
    run(git(into).args(["add", "--all"]));
    run(git(into).args(["commit", "--quiet", "-m", "snapshot"]));
    run(git(into).args(["rev-parse", "HEAD"])).trim().to_owned()
}

/// Removes what `cargo install --git` left in cargo's git cache for the
/// repository named `name` (the caches are named after its last component).
fn forget_git_cache(name: &str) {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let Some(home) = home else { return };
    for cache in ["git/db", "git/checkouts"] {
        let Ok(entries) = std::fs::read_dir(home.join(cache)) else { continue };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&format!("{name}-")) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

#[test]
fn installs_from_a_git_url_and_scaffolds_against_that_commit() {
    let work = tempfile::tempdir().unwrap();
    let name = format!("cargo-roda-install-{}", std::process::id());
    let repo = work.path().join(&name);
    let commit = snapshot_of_the_working_tree(&repo);
    let url = format!("file://{}", repo.display());
    let installed = install(&["--locked", "--git", &url, "cargo-roda"], |_| {}, &work.path().join("root"));
    let projects = work.path().join("projects");
    std::fs::create_dir(&projects).unwrap();
    let result = std::panic::catch_unwind(|| first_hour(&installed, &projects, true));
    forget_git_cache(&name);
    let (manifest, created) = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    assert!(
        manifest.contains(&format!("ledger-guest = {{ git = \"{url}\", rev = \"{commit}\", features = [\"v2\"] }}")),
        "{manifest}"
    );
    assert!(manifest.contains(&format!("# roda-test = {{ git = \"{url}\", rev = \"{commit}\" }}")), "{manifest}");
    assert!(!manifest.contains(".cargo/git"), "no path into cargo's cache: {manifest}");
    assert!(created.contains(&format!("ledger-guest and roda-test from {url} at commit {commit}")), "{created}");
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
fn installs_from_its_package_and_scaffolds_against_the_registry_release() {
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
    let cli = packages.iter().find(|(name, _)| name == "cargo-roda").expect("cargo-roda was packaged").1.clone();
    for template in
        ["templates/rust/Cargo.toml.tmpl", "templates/assemblyscript/package.json.tmpl", "templates/wat/function.wat"]
    {
        assert!(cli.join(template).is_file(), "the package carries {template}");
    }
    let installed = install(
        &["--path"],
        |install| {
            install.arg(&cli);
            for patch in patches(&packages) {
                install.args(["--config", &format!("patch.crates-io.{patch}")]);
            }
        },
        &work.path().join("root"),
    );

    // The packages stand in for the registry the scaffold depends on.
    let projects = work.path().join("projects");
    std::fs::create_dir_all(projects.join(".cargo")).unwrap();
    let config = format!("[patch.crates-io]\n{}\n", patches(&packages).join("\n"));
    std::fs::write(projects.join(".cargo/config.toml"), config).unwrap();
    let (manifest, created) = first_hour(&installed, &projects, false);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        manifest.contains(&format!("ledger-guest = {{ version = \"{version}\", features = [\"v2\"] }}")),
        "depends on the published release:\n{manifest}"
    );
    assert!(manifest.contains(&format!("# roda-test = \"{version}\"")), "{manifest}");
    assert!(created.contains(&format!("ledger-guest and roda-test from crates.io, version {version}")), "{created}");
}
