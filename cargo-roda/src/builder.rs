//! `cargo roda build`: turns a project's source into a `.wasm`, with the
//! language's own toolchain.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ledger_core::interface::Interface;

use crate::project::{Language, Project};
use crate::scaffold::artifact_path;

/// The Rust target functions are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Release (the default, what gets deployed), debug, or release with
/// symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildProfile {
    /// Optimised, as the project's `[profile.release]` says.
    #[default]
    Release,
    /// Unoptimised, with debug assertions.
    Debug,
    /// The release build's code with the function names and (Rust) the
    /// DWARF line table kept, whatever `strip` says, for fuel profiles and
    /// coverage (`cargo roda test --profile/--coverage`): a Rust build in
    /// its own cargo profile (`roda-symbols`, beside `release`), an
    /// AssemblyScript build with `--debug` to `build/function.symbols.wasm`.
    /// WAT builds keep their names in any case.
    Symbols,
}

/// The cargo profile of [`BuildProfile::Symbols`] builds.
pub const SYMBOLS_PROFILE: &str = "roda-symbols";

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Rust wasm target is not installed.
    #[error(
        "the Rust target `{WASM_TARGET}` is not installed for this toolchain ({sysroot}); install it with:\n    rustup target add {WASM_TARGET}"
    )]
    MissingTarget {
        /// The toolchain's sysroot that lacks it.
        sysroot: String,
    },
    /// A tool could not be started.
    #[error("cannot run `{tool}`: {source}; {hint}")]
    ToolMissing {
        /// The program.
        tool: String,
        /// Why.
        source: std::io::Error,
        /// How to get it.
        hint: &'static str,
    },
    /// A tool ran and failed; its own messages were shown above.
    #[error("`{command}` failed ({status}); see its messages above")]
    ToolFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// The build finished but left no module that can be read.
    #[error("the build produced no readable module: {source}")]
    Unreadable {
        /// Where the module should be.
        path: PathBuf,
        /// Why it cannot be read.
        source: roda_test::fs::LoadError,
    },
    /// Cargo built nothing that looks like the function.
    #[error(
        "cargo reported no .wasm for package `{package}`; is `crate-type = [\"cdylib\"]` set in Cargo.toml's [lib]?"
    )]
    NoArtifact {
        /// The package built.
        package: String,
    },
    /// Cargo's messages could not be read.
    #[error("cannot read cargo's build messages: {0}")]
    Messages(std::io::Error),
    /// `cargo metadata` failed: the packages whose paths a reproducible
    /// build takes out of the module are unknown.
    #[error("cannot read the package graph (`cargo metadata`): {0}")]
    Metadata(String),
    /// The WAT source does not parse.
    #[error("{}: {message}", .path.display())]
    Wat {
        /// The source file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// `Roda.toml`'s `[interface]` cannot be written into the module.
    #[error("{}: {message}", .path.display())]
    Interface {
        /// `Roda.toml`.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An input or output file.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Builds the project and returns the path of its `.wasm`. The tools'
/// own output goes to this process's stderr.
pub fn build(project: &Project, profile: BuildProfile) -> Result<PathBuf, BuildError> {
    let interface = project.interface().map_err(|e| match e {
        crate::project::ProjectError::Parse { path, message } => BuildError::Interface { path, message },
        other => {
            BuildError::Interface { path: project.root.join(crate::project::PROJECT_FILE), message: other.to_string() }
        }
    })?;
    match (project.file.function.language, interface) {
        (Language::Rust, None) => canonical(build_rust(project, profile)?),
        (Language::Rust, Some(_)) => Err(BuildError::Interface {
            path: project.root.join(crate::project::PROJECT_FILE),
            message: "a Rust function declares its interface in code, not in `[interface]`: `#[execute]` names the parameters, `#[status]` the statuses, `#[register]` the constants; remove `[interface]`".into(),
        }),
        (Language::AssemblyScript, interface) => embed(project, build_assemblyscript(project, profile)?, interface),
        (Language::Wat, interface) => embed(project, build_wat(project)?, interface),
    }
}

/// Rewrites the module's interface manifest, if it has one, in its
/// canonical form: the lines the macros wrote come out of the linker in an
/// order that depends on where the crate was built.
fn canonical(module: PathBuf) -> Result<PathBuf, BuildError> {
    let bytes = std::fs::read(&module).map_err(|source| BuildError::Io { path: module.clone(), source })?;
    match Interface::canonicalize(&bytes) {
        Ok(Some(canonical)) if canonical != bytes => write_atomically(&module, &canonical)?,
        // No manifest, or one already canonical; an unreadable one is the
        // validator's to report.
        Ok(_) | Err(_) => {}
    }
    Ok(module)
}

/// Writes `[interface]` into the module the toolchain wrote, if declared;
/// when it cannot, removes the module, so that none without its declared
/// interface is left to deploy or test.
fn embed(project: &Project, module: PathBuf, interface: Option<Interface>) -> Result<PathBuf, BuildError> {
    let embedded = embed_declared(project, &module, interface);
    if embedded.is_err() {
        let _ = std::fs::remove_file(&module);
    }
    embedded.map(|()| module)
}

fn embed_declared(project: &Project, module: &Path, interface: Option<Interface>) -> Result<(), BuildError> {
    let Some(interface) = interface else { return Ok(()) };
    let bytes = std::fs::read(module).map_err(|source| BuildError::Io { path: module.to_path_buf(), source })?;
    // The constants are the one declaration the simulator can check: it
    // runs `register()`.
    if let Some(defined) = ledger_core::interface::registered_constants(&bytes)
        && defined != interface.constants
    {
        return Err(BuildError::Interface {
            path: project.root.join(crate::project::PROJECT_FILE),
            message: format!(
                "`[interface]` declares the constants [{}], and the module's `register()` defines [{}]: declare what it defines (`constants = [...]`)",
                interface.constants.join(", "),
                defined.join(", ")
            ),
        });
    }
    let with = interface.embed(&bytes).map_err(|e| BuildError::Interface {
        path: project.root.join(crate::project::PROJECT_FILE),
        message: format!("`[interface]` cannot be added to {}: {e}", module.display()),
    })?;
    write_atomically(module, &with)
}

/// Where the project's last release build is, without building: for Rust,
/// under `CARGO_TARGET_DIR` when the environment sets it (cargo's own
/// configuration aside), else the project's `target/`.
pub fn last_build(project: &Project) -> PathBuf {
    let function = &project.file.function;
    match (function.language, std::env::var_os("CARGO_TARGET_DIR")) {
        (Language::Rust, Some(target)) => {
            PathBuf::from(target).join(WASM_TARGET).join("release").join(format!("{}.wasm", function.name))
        }
        (language, _) => project.root.join(artifact_path(language, &function.name)),
    }
}

/// stderr, for a child's stdout: our stdout carries only results.
fn stderr_stdio() -> Stdio {
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(_) => Stdio::null(),
    }
}

fn run(command: &mut Command, tool: &str, hint: &'static str) -> Result<(), BuildError> {
    let status = command.status().map_err(|source| BuildError::ToolMissing { tool: tool.into(), source, hint })?;
    if status.success() { Ok(()) } else { Err(BuildError::ToolFailed { command: describe(command), status }) }
}

fn describe(command: &Command) -> String {
    let mut line = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

const RUSTUP_HINT: &str = "install Rust with rustup (https://rustup.rs)";

/// Makes sure the toolchain the project uses has the wasm target. A missing
/// target is added with rustup, as wasm-pack does (rustup reports its own
/// progress on stderr), because rustup installs the targets a
/// `rust-toolchain.toml` lists only together with a toolchain it installs,
/// never into one already there. Without rustup, or when it fails, the user
/// sees the command instead of rustc's "can't find crate for `core`".
fn ensure_wasm_target(project_root: &Path) -> Result<(), BuildError> {
    let Some(sysroot) = sysroot_lacking_wasm_target(project_root)? else {
        return Ok(());
    };
    let added = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(project_root)
        .stdout(stderr_stdio())
        .stderr(stderr_stdio())
        .status()
        .is_ok_and(|status| status.success());
    match added.then(|| sysroot_lacking_wasm_target(project_root)) {
        Some(Ok(None)) => Ok(()),
        _ => Err(BuildError::MissingTarget { sysroot }),
    }
}

/// The sysroot of the project's toolchain when it has no wasm target;
/// `None` when it has one, or when rustc cannot tell (cargo then explains
/// whatever is wrong with the toolchain).
fn sysroot_lacking_wasm_target(project_root: &Path) -> Result<Option<String>, BuildError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(project_root)
        .stderr(stderr_stdio())
        .output()
        .map_err(|source| BuildError::ToolMissing {
            tool: rustc.to_string_lossy().into(),
            source,
            hint: RUSTUP_HINT,
        })?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || sysroot.is_empty() {
        return Ok(None);
    }
    let target_lib = Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET).join("lib");
    Ok((!target_lib.is_dir()).then_some(sysroot))
}

fn build_rust(project: &Project, profile: BuildProfile) -> Result<PathBuf, BuildError> {
    ensure_wasm_target(&project.root)?;
    // Cargo sets $CARGO for its subcommands: use the same cargo.
    let cargo: OsString = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = project.root.join("Cargo.toml");
    let mut command = Command::new(&cargo);
    command
        .args(["build", "--target", WASM_TARGET, "--message-format=json-render-diagnostics", "--manifest-path"])
        .arg(&manifest)
        .current_dir(&project.root)
        .stdout(Stdio::piped())
        .stderr(stderr_stdio());
    match profile {
        BuildProfile::Release => {
            command.arg("--release");
        }
        BuildProfile::Debug => {}
        BuildProfile::Symbols => {
            // A profile of its own, so that the release build's artifacts
            // stay as they are.
            for setting in [
                format!("profile.{SYMBOLS_PROFILE}.inherits=\"release\""),
                format!("profile.{SYMBOLS_PROFILE}.strip=false"),
                format!("profile.{SYMBOLS_PROFILE}.debug=\"line-tables-only\""),
            ] {
                command.arg("--config").arg(setting);
            }
            command.args(["--profile", SYMBOLS_PROFILE]);
        }
    }
    reproducible(&mut command, &remap_flags(project, &cargo)?);
    let mut child = command.spawn().map_err(|source| BuildError::ToolMissing {
        tool: cargo.to_string_lossy().into(),
        source,
        hint: RUSTUP_HINT,
    })?;
    let stdout = child.stdout.take().expect("piped");
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    let mut wasm = None;
    for message in cargo_metadata::Message::parse_stream(std::io::BufReader::new(stdout)) {
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BuildError::Messages(e));
            }
        };
        if let cargo_metadata::Message::CompilerArtifact(artifact) = message
            && artifact.target.is_kind(cargo_metadata::TargetKind::CDyLib)
            && artifact.manifest_path.as_std_path() == manifest
        {
            wasm = artifact.filenames.into_iter().find(|f| f.extension() == Some("wasm")).map(PathBuf::from);
        }
    }
    let status = child.wait().map_err(BuildError::Messages)?;
    if !status.success() {
        return Err(BuildError::ToolFailed { command: describe(&command), status });
    }
    wasm.ok_or_else(|| BuildError::NoArtifact { package: project.file.function.name.clone() })
}

/// `--remap-path-prefix` flags that take out of the module every path
/// that depends on where the build ran (panic locations hold source
/// paths): each path dependency outside the project (the SDK's checkout, a
/// sibling crate) becomes `/path/NAME`, CARGO_HOME (registry and git
/// sources) `/cargo`, the project `/project`. The same source then gives
/// the same bytes in any directory, for any user, whatever the target
/// directory.
fn remap_flags(project: &Project, cargo: &OsString) -> Result<Vec<String>, BuildError> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .cargo_path(cargo)
        .manifest_path(project.root.join("Cargo.toml"))
        .exec()
        .map_err(|e| BuildError::Metadata(e.to_string()))?;
    let root = project.root.canonicalize().unwrap_or_else(|_| project.root.clone());
    let mut prefixes: Vec<(PathBuf, String)> = metadata
        .packages
        .iter()
        .filter(|package| package.source.is_none())
        .filter_map(|package| Some((package.manifest_path.parent()?.as_std_path().to_path_buf(), &package.name)))
        .filter(|(dir, _)| !dir.starts_with(&root))
        .map(|(dir, name)| (dir, format!("/path/{name}")))
        .collect();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    prefixes.extend(home.map(|home| (home, "/cargo".to_owned())));
    prefixes.push((project.root.clone(), "/project".to_owned()));
    let mut flags = Vec::new();
    for (from, to) in prefixes {
        // Cargo names some paths as given and others resolved: both.
        let resolved = from.canonicalize().ok().filter(|resolved| *resolved != from);
        for from in std::iter::once(from).chain(resolved) {
            flags.push(format!("--remap-path-prefix={}={to}", from.display()));
        }
    }
    Ok(flags)
}

/// Adds `flags` to the rustc flags of a cargo `command`: to the ones the
/// environment gives when it gives any (cargo then reads no others), else
/// to the ones cargo's configuration gives.
fn reproducible(command: &mut Command, flags: &[String]) {
    const SEPARATOR: char = '\x1f';
    let encoded = std::env::var("CARGO_ENCODED_RUSTFLAGS").ok().filter(|f| !f.is_empty());
    let plain = std::env::var("RUSTFLAGS").ok().filter(|f| !f.trim().is_empty());
    let from_env: Option<Vec<String>> = match (encoded, plain) {
        (Some(encoded), _) => Some(encoded.split(SEPARATOR).map(str::to_owned).collect()),
        (None, Some(plain)) => Some(plain.split_whitespace().map(str::to_owned).collect()),
        (None, None) => None,
    };
    match from_env {
        Some(mut all) => {
            all.extend_from_slice(flags);
            command.env("CARGO_ENCODED_RUSTFLAGS", all.join(&SEPARATOR.to_string())).env_remove("RUSTFLAGS");
        }
        None => {
            let quoted: Vec<String> = flags.iter().map(|f| toml::Value::String(f.clone()).to_string()).collect();
            command.arg("--config").arg(format!("build.rustflags=[{}]", quoted.join(", ")));
        }
    }
}

const NODE_HINT: &str = "install Node.js and npm (Debian: `apt-get install nodejs npm`)";

fn build_assemblyscript(project: &Project, profile: BuildProfile) -> Result<PathBuf, BuildError> {
    if !project.root.join("node_modules").is_dir() {
        // The lock file, once npm wrote it, pins the compiler: `npm ci`
        // installs exactly what it lists.
        let install = if project.root.join("package-lock.json").is_file() { "ci" } else { "install" };
        run(
            Command::new("npm")
                .args([install, "--no-audit", "--no-fund"])
                .current_dir(&project.root)
                .stdout(stderr_stdio()),
            "npm",
            NODE_HINT,
        )?;
    }
    let mut out = project.root.join(artifact_path(Language::AssemblyScript, &project.file.function.name));
    let mut command = Command::new("npx");
    command.args(["--no-install", "asc", "assembly/index.ts", "--target", "release"]);
    if profile == BuildProfile::Symbols {
        out.set_extension("symbols.wasm");
        command.arg("--debug");
    }
    run(command.arg("--outFile").arg(&out).current_dir(&project.root).stdout(stderr_stdio()), "npx", NODE_HINT)?;
    Ok(out)
}

fn build_wat(project: &Project) -> Result<PathBuf, BuildError> {
    let source = project.root.join("function.wat");
    let bytes =
        wat::parse_file(&source).map_err(|e| BuildError::Wat { path: source.clone(), message: e.to_string() })?;
    let out = project.root.join(artifact_path(Language::Wat, &project.file.function.name));
    write_atomically(&out, &bytes)?;
    Ok(out)
}

/// Writes through a temporary file and a rename: never a half-written module.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    roda_test::fs::write_atomically(path, bytes).map_err(|source| BuildError::Io { path: path.to_path_buf(), source })
}
