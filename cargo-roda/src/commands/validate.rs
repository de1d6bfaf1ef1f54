//! `cargo roda validate`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use cargo_roda::validate::{FileReport, check_bytes, load_module};
use serde::Serialize;

/// Check modules against the ledger's ABI, as CI does before registration;
/// every report also lists each ABI the module satisfies.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda validate build/function.wasm\n  cargo roda validate a.wasm b.wat --name fee_transfer --deny-warnings --output json"
)]
pub struct Args {
    /// The modules: .wasm binaries or .wat text.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also check the name the modules will be registered under.
    #[arg(long, env = "RODA_NAME")]
    pub name: Option<String>,
    /// Fail on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    #[command(flatten)]
    pub abi: super::AbiArgs,
}

/// The reports, one per file.
#[derive(Debug, Serialize)]
pub struct Validated {
    files: Vec<FileReport>,
    deny_warnings: bool,
}

impl Outcome for Validated {
    fn command(&self) -> &'static str {
        "validate"
    }

    fn human(&self) -> String {
        let mut out: String = self.files.iter().map(FileReport::human).collect();
        let failed = self.files.iter().filter(|f| !f.passes(self.deny_warnings)).count();
        if self.files.len() > 1 {
            out.push_str(&format!(
                "{} file(s): {} passed, {failed} failed\n",
                self.files.len(),
                self.files.len() - failed
            ));
        }
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.files.iter().all(|f| f.passes(self.deny_warnings)) {
            ExitCode::Success
        } else {
            ExitCode::InvalidModule
        }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Validated, Error> {
    // Inside a project, its `abi` is the default; outside, each module's
    // imports say.
    let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
    let files = args
        .files
        .iter()
        .map(|path| match load_module(path) {
            Ok(bytes) => {
                let abi = args.abi.resolve(project.as_ref(), Some(&bytes));
                let mut report = check_bytes(path, &bytes, args.name.as_deref(), abi.abi.profile());
                report.abi_source = abi.source;
                report
            }
            Err(e) => FileReport::unreadable(path, args.abi.resolve(project.as_ref(), None).abi.profile(), &e),
        })
        .collect();
    Ok(Validated { files, deny_warnings: args.deny_warnings })
}
