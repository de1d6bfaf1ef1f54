//! `cargo roda build`.

use std::path::PathBuf;

use cargo_roda::builder::{BuildError, BuildProfile};
use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use cargo_roda::project::Language;
use cargo_roda::validate::{self, FileReport};
use serde::Serialize;

use super::ProjectArgs;

/// Build the function to .wasm and validate it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda build\n  cargo roda build --project functions/fee --output json")]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Build without optimisations (Rust only); the default is the
    /// optimised release build that gets deployed.
    #[arg(long)]
    pub debug: bool,
    /// Fail on validation warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    #[command(flatten)]
    pub abi: super::AbiArgs,
}

/// The built module and its validation.
#[derive(Debug, Serialize)]
pub struct Built {
    name: String,
    language: Language,
    wasm: PathBuf,
    report: FileReport,
    deny_warnings: bool,
}

impl Outcome for Built {
    fn command(&self) -> &'static str {
        "build"
    }

    fn human(&self) -> String {
        let mut out = self.report.human();
        if !self.report.passes(self.deny_warnings) {
            out.push_str(&format!(
                "error: `{}` built but fails validation: a server would refuse it or fail its calls\n",
                self.name
            ));
        }
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.report.passes(self.deny_warnings) { ExitCode::Success } else { ExitCode::InvalidModule }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Built, Error> {
    let project = args.project.load()?;
    let profile = if args.debug { BuildProfile::Debug } else { BuildProfile::Release };
    let function = &project.file.function;
    let wasm = super::build_project(&project, profile)?;
    let bytes = validate::load_module(&wasm).map_err(|source| BuildError::Unreadable { path: wasm.clone(), source })?;
    let abi = args.abi.resolve(Some(&project), Some(&bytes));
    let mut report = validate::check_bytes(&wasm, &bytes, Some(&function.name), abi.abi.profile());
    report.abi_source = abi.source;
    Ok(Built {
        name: function.name.clone(),
        language: function.language,
        wasm,
        report,
        deny_warnings: args.deny_warnings,
    })
}
