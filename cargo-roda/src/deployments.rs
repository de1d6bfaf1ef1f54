//! Deployment records: what `cargo roda deploy` sent where, kept in the
//! project's `.roda/deployments.toml` (committed with the source), so that
//! `cargo roda verify` can say whether what a server runs is what the
//! reviewed source builds.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::project::{Language, Project};

/// Where a project keeps its deployment records.
pub const FILE: &str = ".roda/deployments.toml";

/// One deployment: what was sent, where, built from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The server's URL (the node that took it).
    pub server: String,
    /// Its wire (`ee2b042`, `head`).
    pub wire: String,
    /// The function's name.
    pub name: String,
    /// The version the server gave it.
    pub version: u32,
    /// The CRC32C the server reported, in hex: all a server keeps of it.
    pub crc32c: String,
    /// The binary's SHA-256, in hex.
    pub sha256: String,
    /// The binary's size in bytes.
    pub size: usize,
    /// The git revision of the source it was built from, when the project
    /// is in a git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Whether the project's files differed from that revision.
    #[serde(default)]
    pub dirty: bool,
    /// The compiler that built it (`rustc 1.95.0 (...)`, `asc 0.28.20`).
    pub toolchain: String,
    /// The cargo-roda that built and sent it.
    pub cargo_roda: String,
    /// When, in UTC (RFC 3339).
    pub deployed_at: String,
}

/// A project's deployment records, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployments {
    /// The records.
    #[serde(default, rename = "deployment")]
    pub list: Vec<Deployment>,
}

/// Why the records cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentsError {
    /// The file exists and cannot be read.
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a deployment record file.
    #[error(
        "{}: not a deployment record file ({message}); fix it (it holds one [[deployment]] table per deploy) or move it away",
        .path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file could not be written.
    #[error("{}: cannot write: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Deployments {
    /// The records of the project at `root` (none when it has no file).
    ///
    /// # Errors
    ///
    /// [`DeploymentsError`] when the file is there and cannot be read or
    /// parsed.
    pub fn load(root: &Path) -> Result<Deployments, DeploymentsError> {
        let path = root.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| DeploymentsError::Malformed { path, message: e.message().to_owned() })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Deployments::default()),
            Err(source) => Err(DeploymentsError::Read { path, source }),
        }
    }

    /// Adds `deployment` and writes the file whole (never half-written).
    ///
    /// # Errors
    ///
    /// [`DeploymentsError::Write`].
    pub fn append(&mut self, root: &Path, deployment: Deployment) -> Result<(), DeploymentsError> {
        self.list.push(deployment);
        let path = root.join(FILE);
        let text = format!(
            "# What `cargo roda deploy` sent, one table per deploy: commit this file with the source, so\n# that `cargo roda verify` can check a server against it.\n\n{}",
            toml::to_string(self).unwrap_or_default()
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| DeploymentsError::Write { path: path.clone(), source })?;
        }
        roda_test::fs::write_atomically(&path, text.as_bytes())
            .map_err(|source| DeploymentsError::Write { path, source })
    }

    /// The last deployment of `name` (to `server`, when given).
    pub fn last(&self, name: &str, server: Option<&str>) -> Option<&Deployment> {
        self.list.iter().rev().find(|d| d.name == name && server.is_none_or(|s| d.server == s))
    }

    /// The last deployment of `name` to `server` with this CRC32C (hex):
    /// which record a listed function matches.
    pub fn matching(&self, server: &str, name: &str, crc32c: &str) -> Option<&Deployment> {
        self.list.iter().rev().find(|d| d.server == server && d.name == name && d.crc32c == crc32c)
    }
}

/// The git revision of the repository holding `dir`, and whether the files
/// under `dir` differ from it; `None` outside a git repository.
pub fn git_revision(dir: &Path) -> Option<(String, bool)> {
    let git = |args: &[&str]| {
        let output = Command::new("git").args(args).current_dir(dir).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let revision = git(&["rev-parse", "HEAD"])?;
    let status = git(&["status", "--porcelain", "--", "."])?;
    // Build outputs and the records themselves are not the source.
    let dirty = status.lines().any(|line| !line.contains(".roda/") && !line.contains("build/"));
    Some((revision, dirty))
}

/// The compiler that builds the project, as it names itself.
pub fn toolchain(project: &Project) -> String {
    match project.file.function.language {
        Language::Rust => Command::new("rustc")
            .arg("--version")
            .current_dir(&project.root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map_or_else(
                || "rustc (unknown version)".to_owned(),
                |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            ),
        Language::AssemblyScript => {
            let manifest = project.root.join("node_modules/assemblyscript/package.json");
            let version = std::fs::read_to_string(manifest)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|json| json["version"].as_str().map(str::to_owned));
            format!("asc {}", version.as_deref().unwrap_or("(unknown version)"))
        }
        Language::Wat => format!("wat (cargo-roda {})", env!("CARGO_PKG_VERSION")),
    }
}

/// Now, in UTC, as RFC 3339 (`2026-12-06T10:31:44Z`).
pub fn now_utc() -> String {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(seconds)
}

/// Seconds since the Unix epoch as RFC 3339 in UTC.
///
/// ```
/// assert_eq!(cargo_roda::deployments::rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(cargo_roda::deployments::rfc3339(1_796_553_104), "2026-12-06T10:31:44Z");
/// ```
pub fn rfc3339(seconds: u64) -> String {
    // Days to a civil date (Howard Hinnant's algorithm).
    let days = (seconds / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let time = seconds % 86_400;
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", time / 3_600, time % 3_600 / 60, time % 60)
}

/// One thing `verify` compares, and whether the sides agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// What (`sha256`, `crc32c`, `version`, `size`, `toolchain`, `revision`).
    pub name: &'static str,
    /// The deployment record's value.
    pub record: String,
    /// The rebuilt binary's (or this machine's), where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuilt: Option<String>,
    /// The server's, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Whether every side given agrees.
    pub agrees: bool,
    /// Whether a disagreement fails the verification (a toolchain or a
    /// revision that differs only explains one).
    pub decides: bool,
}

/// What the server lists under the recorded name: its version and CRC32C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// The version.
    pub version: u32,
    /// The CRC32C.
    pub crc32c: u32,
}

/// Compares a deployment record with the binary rebuilt from source (built
/// by `toolchain`, from `revision`) and what the server lists (`None`: it
/// lists nothing under the name).
///
/// ```
/// use cargo_roda::deployments::{Deployment, Listed, compare};
///
/// let binary = b"\0asm\x01\0\0\0";
/// let record = Deployment {
///     server: "http://127.0.0.1:50051".into(),
///     wire: "head".into(),
///     name: "mover".into(),
///     version: 2,
///     crc32c: format!("{:08x}", ledger_core::crc32c(binary)),
///     sha256: cargo_roda::validate::sha256_hex(binary),
///     size: binary.len(),
///     revision: None,
///     dirty: false,
///     toolchain: "rustc 1.95.0".into(),
///     cargo_roda: "0.1.0".into(),
///     deployed_at: "2026-12-06T10:31:44Z".into(),
/// };
/// let listed = Listed { version: 2, crc32c: ledger_core::crc32c(binary) };
/// let fields = compare(&record, binary, "rustc 1.95.0", None, Some(listed));
/// assert!(fields.iter().all(|f| f.agrees));
/// let fields = compare(&record, b"\0asm\x01\0\0\0\0", "rustc 1.95.0", None, Some(listed));
/// assert!(fields.iter().any(|f| f.name == "sha256" && !f.agrees && f.decides));
/// ```
pub fn compare(
    record: &Deployment,
    rebuilt: &[u8],
    toolchain: &str,
    revision: Option<&str>,
    server: Option<Listed>,
) -> Vec<Field> {
    let field = |name, record: String, rebuilt: Option<String>, server: Option<String>, decides| {
        let agrees = rebuilt.iter().chain(&server).all(|side| *side == record);
        Field { name, record, rebuilt, server, agrees, decides }
    };
    let listed = |text: fn(Listed) -> String| Some(server.map_or_else(|| "(not registered)".to_owned(), text));
    vec![
        field("sha256", record.sha256.clone(), Some(crate::validate::sha256_hex(rebuilt)), None, true),
        field(
            "crc32c",
            record.crc32c.clone(),
            Some(format!("{:08x}", ledger_core::crc32c(rebuilt))),
            listed(|l| format!("{:08x}", l.crc32c)),
            true,
        ),
        field("version", record.version.to_string(), None, listed(|l| l.version.to_string()), true),
        field("size", record.size.to_string(), Some(rebuilt.len().to_string()), None, true),
        field("toolchain", record.toolchain.clone(), Some(toolchain.to_owned()), None, false),
        field(
            "revision",
            record.revision.clone().unwrap_or_else(|| "(none)".to_owned()),
            revision.map(str::to_owned),
            None,
            false,
        ),
    ]
}

/// A git worktree of the repository holding `dir`, at `revision`, removed
/// when dropped: where `verify --rev` rebuilds the recorded source.
pub struct Worktree {
    repository: PathBuf,
    path: PathBuf,
}

/// Why a revision could not be checked out.
#[derive(Debug, thiserror::Error)]
#[error("cannot check out revision `{revision}` beside {}: {message}", .dir.display())]
pub struct WorktreeError {
    /// The revision.
    pub revision: String,
    /// The project's directory.
    pub dir: PathBuf,
    /// What git said.
    pub message: String,
}

impl Worktree {
    /// Checks out `revision` of the repository holding `dir` in a
    /// temporary directory; returns it and where `dir` is inside it.
    ///
    /// # Errors
    ///
    /// [`WorktreeError`] outside a repository, or for a revision git does
    /// not know.
    pub fn at(dir: &Path, revision: &str) -> Result<(Worktree, PathBuf), WorktreeError> {
        let fail = |message: String| WorktreeError { revision: revision.to_owned(), dir: dir.to_path_buf(), message };
        let git = |args: &[&std::ffi::OsStr], cwd: &Path| -> Result<String, WorktreeError> {
            let output = Command::new("git").args(args).current_dir(cwd).output().map_err(|e| fail(e.to_string()))?;
            match output.status.success() {
                true => Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned()),
                false => Err(fail(String::from_utf8_lossy(&output.stderr).trim().to_owned())),
            }
        };
        let top = PathBuf::from(git(&["rev-parse".as_ref(), "--show-toplevel".as_ref()], dir)?);
        let inside = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let relative = inside.strip_prefix(&top).map(Path::to_path_buf).unwrap_or_default();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("cargo-roda-verify-{}-{nanos}", std::process::id()));
        git(&["worktree".as_ref(), "add".as_ref(), "--detach".as_ref(), path.as_os_str(), revision.as_ref()], &top)?;
        let project = path.join(relative);
        Ok((Worktree { repository: top, path }, project))
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = Command::new("git")
            .args(["worktree", "remove", "--force"])
            .arg(&self.path)
            .current_dir(&self.repository)
            .output();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
