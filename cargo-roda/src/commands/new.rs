//! `cargo roda new`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use cargo_roda::project::{Abi, Language};
use cargo_roda::scaffold::{self, GuestDependency, NewProject};
use serde::Serialize;

/// Create a function project.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda new fee_transfer\n  cargo roda new transfer --abi v2 --lang assemblyscript\n  cargo roda new fee_transfer --lang assemblyscript --path functions/fee\n  cargo roda new fee_transfer --guest-version 0.1"
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
    /// Rust: take ledger-guest from this local checkout, and roda-test from
    /// beside it (for developing the SDK itself), instead of the published
    /// releases.
    #[arg(long, value_name = "DIR", env = "RODA_GUEST_PATH", hide_env_values = true, conflicts_with = "guest_version")]
    pub guest_path: Option<PathBuf>,
    /// Rust: take this published version of ledger-guest (default: the one
    /// released with this cargo-roda).
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
        out.push_str(&format!("Next: cd {} && cargo roda build\n", self.path.display()));
        out
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Created, Error> {
    let guest = match (args.guest_path, args.guest_version) {
        (Some(path), _) => GuestDependency::Path(std::path::absolute(&path).unwrap_or(path)),
        (None, Some(version)) => GuestDependency::Version(version),
        (None, None) => GuestDependency::this_release(),
    };
    let dir = args.path.unwrap_or_else(|| PathBuf::from(&args.name));
    let new = NewProject { name: args.name, language: args.lang, dir, guest, abi: args.abi };
    let files = scaffold::scaffold(&new)?;
    Ok(Created { name: new.name, language: new.language, abi: new.abi, path: new.dir, files })
}
