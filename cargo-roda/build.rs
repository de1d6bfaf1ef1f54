//! Records where this cargo-roda's SDK crates (`ledger-guest`, `roda-test`)
//! come from, so that `cargo roda new` writes dependencies that resolve on
//! the machine it runs on: the checkout it was built from, the git
//! repository and revision `cargo install --git` fetched, or the registry
//! release it was packaged as. `src/sdk.rs` reads the record
//! (`RODA_SDK_SOURCE`).
//!
//! Only files are read (no `git` process): cargo fetches git dependencies
//! with its own library, so a user's machine may have no git at all.

use std::path::{Path, PathBuf};

fn main() {
    // No `rerun-if-changed`: cargo then runs this again whenever a file of
    // the package is newer than its last run, which a checkout or clone in
    // another place always is. (With one, a target directory shared by two
    // checkouts keeps the first one's record: cargo gives a workspace
    // member's build script the same identity wherever it lies.)
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let source = sdk_source(&manifest_dir);
    println!("cargo:rustc-env=RODA_SDK_SOURCE={source}");
}

/// `registry`, `git URL REV` or `path DIR`.
fn sdk_source(manifest_dir: &Path) -> String {
    // A packaged crate (from a registry, or `cargo package`) carries the
    // original manifest beside the normalised one: its SDK is the release
    // of the same version.
    if manifest_dir.join("Cargo.toml.orig").is_file() {
        return "registry".into();
    }
    let Some(checkout) = manifest_dir.parent().filter(|dir| holds_sdk(dir)) else {
        return "registry".into();
    };
    match git_install(checkout) {
        Some((url, rev)) => format!("git {url} {rev}"),
        None => format!("path {}", checkout.display()),
    }
}

/// Whether `dir` holds the SDK crates beside this one.
fn holds_sdk(dir: &Path) -> bool {
    ["ledger-guest", "roda-test"].iter().all(|name| dir.join(name).join("Cargo.toml").is_file())
}

/// For a checkout cargo made of a git dependency
/// (`CARGO_HOME/git/checkouts/DB/SHORT_REV`, marked by `.cargo-ok`): the URL
/// it was fetched from (the first line of its database's `FETCH_HEAD`) and
/// the commit checked out.
fn git_install(checkout: &Path) -> Option<(String, String)> {
    if !checkout.join(".cargo-ok").is_file() {
        return None;
    }
    let db_name = checkout.parent()?.file_name()?;
    let checkouts = checkout.parent()?.parent()?;
    if checkouts.file_name()? != "checkouts" {
        return None;
    }
    let rev = resolve_head(&checkout.join(".git"))?;
    let fetch_head = std::fs::read_to_string(checkouts.parent()?.join("db").join(db_name).join("FETCH_HEAD")).ok()?;
    // Lines are `SHA<TAB>[not-for-merge]<TAB>DESCRIPTION`, the description
    // being the URL, or `branch 'main' of URL` when git itself fetched.
    let line = fetch_head.lines().find(|line| line.starts_with(rev.as_str())).or_else(|| fetch_head.lines().next())?;
    let description = line.splitn(3, '\t').nth(2)?.trim();
    let url = description.rsplit_once(" of ").map_or(description, |(_, url)| url).trim();
    (!url.is_empty()).then(|| (url.to_owned(), rev))
}

/// The commit `HEAD` names in a git directory: detached, or through a ref
/// (loose or packed).
fn resolve_head(git_dir: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return is_commit(head).then(|| head.to_owned());
    };
    if let Ok(loose) = std::fs::read_to_string(git_dir.join(reference)) {
        let loose = loose.trim();
        return is_commit(loose).then(|| loose.to_owned());
    }
    let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (sha, name) = line.split_once(' ')?;
        (name == reference && is_commit(sha)).then(|| sha.to_owned())
    })
}

fn is_commit(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}
