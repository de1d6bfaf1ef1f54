//! `cargo roda inspect`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use cargo_roda::validate::{FileReport, check_bytes, load_module};
use ledger_core::interface::Interface;
use serde::Serialize;

/// Show what a module is: size, CRC32C, SHA-256, imports, exports, and its
/// interface manifest (parameter names and kinds, the function's own
/// statuses, the constants it registers).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda inspect build/function.wasm\n  cargo roda inspect fee_transfer.wasm --output json"
)]
pub struct Args {
    /// The module: a .wasm binary or .wat text.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub abi: super::AbiArgs,
}

/// A module, described.
#[derive(Debug, Serialize)]
pub struct Inspected {
    /// What `validate` says of it (size, hashes, imports, violations).
    #[serde(flatten)]
    report: FileReport,
    /// Its manifest, when it has a readable one.
    interface: Option<Interface>,
    /// The bytes the manifest's section takes (of `size`).
    interface_size: usize,
    /// The constants its `register()` defines, run in the simulator (a v2
    /// function): what the manifest's constants should say.
    #[serde(skip_serializing_if = "Option::is_none")]
    register_defines: Option<Vec<String>>,
    /// Why its manifest cannot be read, when it cannot.
    interface_error: Option<String>,
}

impl Outcome for Inspected {
    fn command(&self) -> &'static str {
        "inspect"
    }

    fn human(&self) -> String {
        let mut out = self.report.human();
        if !self.report.exports.is_empty() {
            out.push_str(&format!("  exports: {}\n", self.report.exports.join(", ")));
        }
        match (&self.interface, &self.interface_error) {
            (Some(interface), _) => {
                out.push_str(&describe(interface, self.interface_size));
                if let Some(defined) = self.register_defines.as_ref().filter(|d| **d != interface.constants) {
                    out.push_str(&format!(
                        "    note: its `register()` defines [{}], which the manifest does not say\n",
                        defined.join(", ")
                    ));
                }
            }
            (None, Some(error)) => out.push_str(&format!("  interface: unreadable: {error}\n")),
            (None, None) if !self.report.crc32c.is_empty() => out.push_str(
                "  interface: none (no `roda.interface` section): Rust's `#[execute]` writes one; AssemblyScript and WAT projects declare `[interface]` in Roda.toml\n",
            ),
            (None, None) => {}
        }
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.report.crc32c.is_empty() || self.interface_error.is_some() {
            ExitCode::InvalidModule
        } else {
            ExitCode::Success
        }
    }
}

/// The manifest as text: the function and its doc, a table of parameters,
/// the statuses, the constants.
fn describe(interface: &Interface, size: usize) -> String {
    let mut out = format!(
        "  interface{}{} ({size} bytes)\n",
        interface.function.as_deref().map(|f| format!(": function `{f}`")).unwrap_or_default(),
        interface.abi.as_deref().map(|abi| format!(", written for ABI {abi}")).unwrap_or_default()
    );
    for line in interface.doc.lines() {
        out.push_str(&format!("    // {line}\n"));
    }
    if interface.params.is_empty() {
        out.push_str("    params: none\n");
    } else {
        out.push_str("    params:\n");
        let width = interface.params.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for (slot, param) in interface.params.iter().enumerate() {
            out.push_str(&format!("      {slot}  {:width$}  {}\n", param.name, param.kind.name()));
        }
    }
    if !interface.statuses.is_empty() {
        out.push_str("    statuses:\n");
        for status in &interface.statuses {
            let doc = status.doc.lines().next().map(|d| format!("  {d}")).unwrap_or_default();
            out.push_str(&format!("      {}{doc}\n", interface.describe(status.status)));
        }
    }
    if !interface.constants.is_empty() {
        out.push_str(&format!("    constants: {}\n", interface.constants.join(", ")));
    }
    out
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Inspected, Error> {
    let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
    let bytes = match load_module(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => {
            let report = FileReport::unreadable(&args.file, args.abi.resolve(project.as_ref(), None).abi.profile(), &e);
            return Ok(Inspected {
                report,
                interface: None,
                interface_size: 0,
                register_defines: None,
                interface_error: None,
            });
        }
    };
    let abi = args.abi.resolve(project.as_ref(), Some(&bytes));
    let mut report = check_bytes(&args.file, &bytes, None, abi.abi.profile());
    report.abi_source = abi.source;
    let (interface, interface_error) = match Interface::from_module(&bytes) {
        Ok(interface) => (interface, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let register_defines = ledger_core::interface::registered_constants(&bytes).filter(|names| !names.is_empty());
    Ok(Inspected { report, interface, interface_size: Interface::size_in(&bytes), register_defines, interface_error })
}
