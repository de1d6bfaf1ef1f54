//! Where a scaffolded Rust project gets the SDK crates (`ledger-guest` and,
//! for its scenario test, `roda-test`) from: the record made when this
//! cargo-roda was built (`build.rs`), or what `cargo roda new` was told.
//!
//! ```
//! use cargo_roda::sdk::Sdk;
//!
//! let git = Sdk::Git { url: "https://example.com/cargo-roda".into(), rev: "0123abc".into() };
//! assert_eq!(
//!     git.dependency("ledger-guest", &["v2"]),
//!     r#"{ git = "https://example.com/cargo-roda", rev = "0123abc", features = ["v2"] }"#
//! );
//! assert_eq!(Sdk::Registry("0.1.0".into()).dependency("roda-test", &[]), r#""0.1.0""#);
//! ```

use std::path::{Component, Path, PathBuf};

/// The crates a Rust project depends on, by package name (also their
/// directories in a checkout).
pub const CRATES: [&str; 2] = ["ledger-guest", "roda-test"];

/// Where the SDK crates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// A checkout holding `ledger-guest/` and `roda-test/`: absolute, or
    /// relative to the project's directory.
    Path(PathBuf),
    /// A git repository at a commit (`cargo install --git` fetched it).
    Git {
        /// The repository.
        url: String,
        /// The commit.
        rev: String,
    },
    /// A registry release (crates.io).
    Registry(String),
}

/// Why `--guest-path` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// Neither a checkout nor its `ledger-guest` directory.
    #[error(
        "--guest-path {}: {found}; give the directory of a cargo-roda checkout, the one holding ledger-guest/ and roda-test/ (or ledger-guest/ itself)",
        .given.display()
    )]
    NotACheckout {
        /// The path as given.
        given: PathBuf,
        /// What is there instead.
        found: String,
    },
}

impl Sdk {
    /// Where this cargo-roda's own SDK is: the checkout it was built from,
    /// the git repository and commit it was installed from, or the registry
    /// release of its version.
    pub fn built_with() -> Sdk {
        Sdk::from_record(env!("RODA_SDK_SOURCE"))
    }

    /// Reads the record `build.rs` makes: `registry`, `git URL REV` or
    /// `path DIR`.
    fn from_record(record: &str) -> Sdk {
        let mut words = record.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("git"), Some(url), Some(rev)) => Sdk::Git { url: url.into(), rev: rev.into() },
            (Some("path"), Some(_), _) => Sdk::Path(record["path ".len()..].into()),
            _ => Sdk::Registry(env!("CARGO_PKG_VERSION").into()),
        }
    }

    /// The checkout at `given` (the checkout itself, or its `ledger-guest`
    /// directory), checked to hold the SDK crates. A relative `given` (from
    /// the current directory) stays relative, to `project_dir`, so that the
    /// project keeps working wherever the two are moved together.
    ///
    /// # Errors
    ///
    /// [`SdkError::NotACheckout`] when the crates are not there.
    pub fn checkout(given: &Path, project_dir: &Path) -> Result<Sdk, SdkError> {
        let not_a_checkout = |found: String| SdkError::NotACheckout { given: given.to_path_buf(), found };
        let root = if given.join("ledger-guest").join("Cargo.toml").is_file() {
            given.to_path_buf()
        } else if package_name(&given.join("Cargo.toml")).as_deref() == Some("ledger-guest") {
            given.parent().map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
        } else if !given.is_dir() {
            return Err(not_a_checkout("no such directory".into()));
        } else {
            return Err(not_a_checkout("it holds no ledger-guest crate".into()));
        };
        if let Some(missing) = CRATES.iter().find(|name| !root.join(name).join("Cargo.toml").is_file()) {
            return Err(not_a_checkout(format!("{} holds no {missing}/Cargo.toml", root.display())));
        }
        if given.is_absolute() {
            return Ok(Sdk::Path(normalize(&root)));
        }
        let cwd = std::env::current_dir().unwrap_or_default();
        Ok(Sdk::Path(relative(&normalize(&cwd.join(&root)), &normalize(&cwd.join(project_dir)))))
    }

    /// The dependency on `package` as a TOML value for Cargo.toml, with
    /// `features` when there are any.
    pub fn dependency(&self, package: &str, features: &[&str]) -> String {
        let features = match features {
            [] => String::new(),
            features => {
                let quoted: Vec<String> = features.iter().map(|f| toml_string(f)).collect();
                format!(", features = [{}]", quoted.join(", "))
            }
        };
        match self {
            Sdk::Path(root) => {
                let path = root.join(package).display().to_string();
                format!("{{ path = {}{features} }}", toml_string(&path))
            }
            Sdk::Git { url, rev } => format!("{{ git = {}, rev = {}{features} }}", toml_string(url), toml_string(rev)),
            Sdk::Registry(version) if features.is_empty() => toml_string(version),
            Sdk::Registry(version) => format!("{{ version = {}{features} }}", toml_string(version)),
        }
    }

    /// Where the crates come from, in words, for `cargo roda new` to say.
    pub fn describe(&self) -> String {
        match self {
            Sdk::Path(root) => format!("the checkout at {}", root.display()),
            Sdk::Git { url, rev } => format!("{url} at commit {rev}"),
            Sdk::Registry(version) => format!("crates.io, version {version}"),
        }
    }
}

/// A TOML basic string (what TOML requires escaped, escaped).
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The `[package] name` of a manifest, if it can be read.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: toml::Table = toml::from_str(&text).ok()?;
    value.get("package")?.get("name")?.as_str().map(str::to_owned)
}

/// `path` without `.` and with each `..` applied to what precedes it.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` as seen from `base` (both absolute and normalised).
fn relative(target: &Path, base: &Path) -> PathBuf {
    let common = target.components().zip(base.components()).take_while(|(a, b)| a == b).count();
    let mut out: PathBuf = base.components().skip(common).map(|_| Component::ParentDir).collect();
    out.extend(target.components().skip(common));
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back() {
        assert_eq!(Sdk::from_record("git file:///r 0123"), Sdk::Git { url: "file:///r".into(), rev: "0123".into() });
        assert_eq!(Sdk::from_record("path /a b/c"), Sdk::Path("/a b/c".into()));
        assert_eq!(Sdk::from_record("registry"), Sdk::Registry(env!("CARGO_PKG_VERSION").into()));
    }

    #[test]
    fn relative_paths_climb_from_the_project() {
        assert_eq!(relative(Path::new("/w/sdk"), Path::new("/w/fns/hello")), PathBuf::from("../../sdk"));
        assert_eq!(relative(Path::new("/w/hello/sdk"), Path::new("/w/hello")), PathBuf::from("sdk"));
        assert_eq!(normalize(Path::new("/w/./a/../b")), PathBuf::from("/w/b"));
    }

    #[test]
    fn dependencies_render_as_toml() {
        let path = Sdk::Path("/a \"b\"".into());
        assert_eq!(path.dependency("ledger-guest", &[]), r#"{ path = "/a \"b\"/ledger-guest" }"#);
        assert_eq!(Sdk::Path("../sdk".into()).dependency("roda-test", &[]), r#"{ path = "../sdk/roda-test" }"#);
        assert_eq!(
            Sdk::Registry("0.1.0".into()).dependency("ledger-guest", &["v2"]),
            r#"{ version = "0.1.0", features = ["v2"] }"#
        );
    }
}
