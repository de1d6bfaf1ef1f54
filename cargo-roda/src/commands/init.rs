//! `cargo roda init`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use cargo_roda::project::{Abi, Language, Origin, Project};
use cargo_roda::scaffold::{self, NewProject};
use cargo_roda::sdk::Sdk;
use serde::Serialize;

/// Make an existing crate or directory a function project: write its
/// Roda.toml.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda init                      # in a cdylib crate: name, language and ABI from it\n  cargo roda init --name counter --abi v2\n  cargo roda init --path functions/fee --lang wat"
)]
pub struct Args {
    /// The directory (default: the current one).
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The function's name (default: a Rust crate's library name, else the
    /// directory's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The language (default: Rust for a Cargo.toml, AssemblyScript for an
    /// asconfig.json, WAT for a function.wat).
    #[arg(long, value_enum)]
    pub lang: Option<Language>,
    /// The host ABI (default: what a Rust crate's dependencies say, else v2).
    #[arg(long, value_enum, env = "RODA_ABI")]
    pub abi: Option<Abi>,
}

/// What was written.
#[derive(Debug, Serialize)]
pub struct Initialised {
    name: String,
    language: Language,
    abi: Abi,
    path: PathBuf,
    /// How the ABI was chosen.
    abi_source: String,
}

impl Outcome for Initialised {
    fn command(&self) -> &'static str {
        "init"
    }

    fn human(&self) -> String {
        format!(
            "Wrote {} for {} function `{}` (ABI {}: {})\nNext: cargo roda build, then write scenarios in tests/*.toml (see `cargo roda new` for an example) and cargo roda test\n",
            self.path.display(),
            self.language.title(),
            self.name,
            self.abi.id(),
            self.abi_source,
        )
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Initialised, Error> {
    let dir = match args.path {
        Some(path) => path,
        None => std::env::current_dir().map_err(Error::io("cannot read the current directory"))?,
    };
    if !dir.is_dir() {
        return Err(Error::Usage(format!("{} is not a directory: init works in an existing one", dir.display())));
    }
    let manifest = dir.join("Cargo.toml");
    let krate = manifest.is_file().then(|| Project::from_crate(&manifest)).transpose()?;
    let language = match (args.lang, &krate) {
        (Some(language), _) => language,
        (None, Some(_)) => Language::Rust,
        (None, None) if dir.join("asconfig.json").is_file() => Language::AssemblyScript,
        (None, None) if dir.join("function.wat").is_file() => Language::Wat,
        (None, None) => {
            return Err(Error::Usage(format!(
                "{} has no Cargo.toml, asconfig.json or function.wat: say the language with --lang",
                dir.display()
            )));
        }
    };
    let from_crate = krate.as_ref().and_then(|project| match project.origin {
        Origin::Crate { abi_from } => abi_from,
        Origin::RodaToml => None,
    });
    let (abi, abi_source) = match (args.abi, from_crate) {
        (Some(abi), _) => (abi, "--abi".to_owned()),
        (None, Some((abi, dependency))) => (abi, format!("the crate depends on {dependency}")),
        (None, None) => (Abi::V2, "the default, roda-ledger e14b146's; --abi v1 for ee2b042".to_owned()),
    };
    let name = match (args.name, &krate) {
        (Some(name), _) => name,
        (None, Some(project)) => project.file.function.name.clone(),
        (None, None) => {
            let absolute = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
            absolute.file_name().map(|n| n.to_string_lossy().replace('-', "_")).unwrap_or_default()
        }
    };
    let new = NewProject { name, language, dir, sdk: Sdk::built_with(), abi };
    let path = scaffold::init(&new)?;
    Ok(Initialised { name: new.name, language, abi, path, abi_source })
}
