//! `cargo roda new`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use cargo_roda::project::{Abi, Language};
use cargo_roda::scaffold::{self, NewProject};
use cargo_roda::sdk::Sdk;
use serde::Serialize;

/// Create a function project.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda new fee_transfer\n  cargo roda new transfer --abi v2 --lang assemblyscript\n  cargo roda new fee_transfer --lang assemblyscript --path functions/fee\n  cargo roda new fee_transfer --guest-path ../cargo-roda"
)]
pub struct Args {
    /// The function's name, as it will be registered (ASCII letters, digits
    /// and `_`, starting with a letter, at most 32 bytes).
    pub name: String,
    /// The language to write it in.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Language,
    /// The host ABI to write it for: v1 (roda-ledger ee2b042, the seed's: a
    /// fee transfer) or v2 (roda-ledger e14b146: a transfer that respects a
    /// freeze flag and counts transfers in KV). Written to Roda.toml.
    #[arg(long, value_enum, default_value = "v2", env = "RODA_ABI")]
    pub abi: Abi,
    /// The directory to create (default: ./NAME). It must not exist.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Rust: take ledger-guest and roda-test from this cargo-roda checkout
    /// (the directory holding ledger-guest/ and roda-test/, or ledger-guest/
    /// itself). A relative path stays relative, from the new project.
    /// Default: where this cargo-roda's own SDK came from (the checkout it
    /// was built in, the git URL and commit it was installed from, or the
    /// registry release of its version), said when the project is created.
    #[arg(long, value_name = "DIR", env = "RODA_GUEST_PATH", hide_env_values = true, conflicts_with = "guest_version")]
    pub guest_path: Option<PathBuf>,
    /// Rust: take this registry (crates.io) version of ledger-guest and
    /// roda-test.
    #[arg(long, value_name = "VERSION")]
    pub guest_version: Option<String>,
}

/// What was created.
#[derive(Debug, Serialize)]
pub struct Created {
    name: String,
    language: Language,
    abi: Abi,
    path: PathBuf,
    files: Vec<PathBuf>,
    /// Rust: where ledger-guest and roda-test come from, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    sdk: Option<String>,
}

impl Outcome for Created {
    fn command(&self) -> &'static str {
        "new"
    }

    fn human(&self) -> String {
        let mut out = format!(
            "Created {} function `{}` (ABI {}) in {}\n",
            self.language.title(),
            self.name,
            self.abi.id(),
            self.path.display()
        );
        for file in &self.files {
            out.push_str(&format!("  {}\n", file.display()));
        }
        if let Some(sdk) = &self.sdk {
            out.push_str(&format!("ledger-guest and roda-test from {sdk}\n"));
        }
        out.push_str(&format!("Next: cd {} && cargo roda build\n", self.path.display()));
        out
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Created, Error> {
    let dir = args.path.unwrap_or_else(|| PathBuf::from(&args.name));
    let rust = args.lang == Language::Rust;
    let sdk = match (args.guest_path, args.guest_version) {
        (Some(path), _) if rust => Sdk::checkout(&path, &dir)?,
        (None, Some(version)) => Sdk::Registry(version),
        _ => Sdk::built_with(),
    };
    let new = NewProject { name: args.name, language: args.lang, dir, sdk, abi: args.abi };
    let files = scaffold::scaffold(&new)?;
    let sdk = rust.then(|| new.sdk.describe());
    Ok(Created { name: new.name, language: new.language, abi: new.abi, path: new.dir, files, sdk })
}
