//! `cargo roda replay`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use ledger_core::LedgerConfig;
use ledger_core::v2::record_text;
use roda_rpc::replay::Replay;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Run a committed function call again on the ledger as it was just before
/// it (a fork, rebuilt from the server's log), and compare what it writes
/// with what the server committed: the same records, or the first that
/// differs. Give the binary its tag's CRC names, or another to see what a
/// new version would have written.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda replay 42 --params 1 2 30 --wasm move.wasm\n  cargo roda replay 42 --params 1 2 30 --functions build/ --instead target/new.wasm\n  cargo roda replay 42 --params 1 2 30 --save-scenario tests/incident_42.toml\n\nA server's log does not keep a call's parameters: give them with --params. Exit code 5 when the records differ."
)]
pub struct Args {
    /// The committed call to replay.
    pub id: u64,
    /// The call's parameters (up to 8 i64s), which the log does not keep.
    #[arg(long, num_args = 1.., allow_negative_numbers = true, value_name = "PARAM", value_parser = super::call::parse_param)]
    pub params: Option<Vec<i64>>,
    /// A module the replay may run, when its CRC32C is a registration's (a
    /// `.wasm` binary or a `.wat` file; repeatable). Inside a project, its
    /// build is one.
    #[arg(long = "wasm", value_name = "FILE")]
    pub wasm: Vec<PathBuf>,
    /// Every `.wasm` and `.wat` file in DIR is a module the replay may run.
    #[arg(long, value_name = "DIR")]
    pub functions: Option<PathBuf>,
    /// Run this module instead of the one the call ran (a new version).
    #[arg(long, value_name = "FILE")]
    pub instead: Option<PathBuf>,
    /// Print every host call the replay made: its arguments, its result and
    /// the fuel used so far.
    #[arg(long)]
    pub trace: bool,
    /// Write the call as a scenario file that runs on a fresh ledger (`cargo
    /// roda test FILE`): the accounts and KV it looked at as they were, the
    /// call, the status and records the server committed. A file already
    /// there is not overwritten.
    #[arg(long, value_name = "FILE")]
    pub save_scenario: Option<PathBuf>,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// What the replay found.
#[derive(Debug, Serialize)]
pub struct Replayed {
    server: String,
    same: bool,
    #[serde(flatten)]
    replay: Replay,
    /// Where the scenario was saved, and what it cannot hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<Saved>,
    /// The manifest of the binary replayed, which names its statuses.
    #[serde(skip)]
    interface: Option<ledger_core::interface::Interface>,
}

/// A replay saved as a scenario.
#[derive(Debug, Serialize)]
pub struct Saved {
    path: PathBuf,
    notes: Vec<String>,
}

impl Outcome for Replayed {
    fn command(&self) -> &'static str {
        "replay"
    }

    fn human(&self) -> String {
        let r = &self.replay;
        let describe = |status| match &self.interface {
            Some(interface) => interface.describe(status),
            None => status.to_string(),
        };
        let mut out = format!(
            "transaction {} ran `{}` v{}; replayed with crc32c {:08x}: {} (committed {})\n",
            r.tx_id,
            r.function.name,
            r.function.version,
            r.crc32c,
            describe(r.replayed_status),
            describe(r.committed_status)
        );
        for call in &r.host_calls {
            let args: Vec<String> = call.args.iter().map(i64::to_string).collect();
            let result = call.result.map_or_else(String::new, |value| format!(" = {value}"));
            out.push_str(&format!("  {}({}){result}  (fuel {})\n", call.import, args.join(", "), call.fuel_used));
        }
        match r.first_difference {
            None if self.same => {
                out.push_str(&format!("same: the {} records the server committed\n", r.committed.len()))
            }
            None => out.push_str("the records agree, the statuses do not\n"),
            Some(at) => {
                out.push_str(&format!("differs at record {at}:\n"));
                let side = |records: &[ledger_core::v2::Record]| {
                    records.get(at).map_or("(none)".to_owned(), |record| record_text(record, |_| None))
                };
                out.push_str(&format!("  committed: {}\n  replayed:  {}\n", side(&r.committed), side(&r.replayed)));
            }
        }
        if let Some(saved) = &self.saved {
            out.push_str(&format!(
                "saved as a scenario: {} (run it with `cargo roda test {0}`)\n",
                saved.path.display()
            ));
            for note in &saved.notes {
                out.push_str(&format!("  note: {note}\n"));
            }
        }
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.same { ExitCode::Success } else { ExitCode::TestFailed }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Replayed, Error> {
    let params = args.params.ok_or_else(|| {
        Error::Usage(
            "a server's log does not keep a call's parameters: give them with --params (the call's, as the client sent them)"
                .into(),
        )
    })?;
    super::call::check_param_count(&params)?;
    if let Some(path) = args.save_scenario.as_ref().filter(|path| path.exists()) {
        return Err(Error::Usage(format!(
            "--save-scenario {}: the file exists; name another, or remove it first",
            path.display()
        )));
    }
    let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
    let binaries = super::module_files(project.as_ref(), &args.wasm, args.functions.as_ref())?;
    let instead = args.instead.as_deref().map(roda_test::fs::load_module).transpose()?;
    block_on(async {
        let client = args.endpoint.connect_here().await?.reader().await?;
        let config = LedgerConfig { keep_history: false, ..LedgerConfig::default() };
        let mut replay =
            roda_rpc::replay::replay(&client, args.id, &params, &binaries, instead.as_deref(), config).await?;
        if !args.trace {
            replay.host_calls.clear();
        }
        let saved = match &args.save_scenario {
            Some(path) => Some(save(path, &replay, &params, client.url())?),
            None => None,
        };
        // The binary that ran: the one given instead, else the one with its CRC.
        let ran = instead
            .as_deref()
            .or_else(|| binaries.iter().map(Vec::as_slice).find(|bytes| ledger_core::crc32c(bytes) == replay.crc32c));
        let interface = ran.and_then(|bytes| ledger_core::interface::Interface::from_module(bytes).ok().flatten());
        Ok(Replayed { server: client.url().to_owned(), same: replay.same(), replay, saved, interface })
    })?
}

/// Writes the replay as a scenario file at `path`, whole or not at all.
fn save(path: &std::path::Path, replay: &Replay, params: &[i64], server: &str) -> Result<Saved, Error> {
    let (scenario, notes) = replay.to_scenario(params);
    let params: Vec<String> = params.iter().map(i64::to_string).collect();
    let mut text = format!(
        "# Saved by `cargo roda replay {} --params {}` from {server}: `{}` v{} (crc32c {:08x}) committed {}.\n",
        replay.tx_id,
        params.join(" "),
        replay.function.name,
        replay.function.version,
        replay.function.crc32c,
        replay.committed_status
    );
    for note in &notes {
        text.push_str(&format!("# Note: {note}.\n"));
    }
    text.push_str("version = 2\n\n");
    text.push_str(&scenario.to_toml(None));
    roda_test::fs::write_atomically(path, text.as_bytes())
        .map_err(Error::io(format!("cannot write the scenario to {}", path.display())))?;
    Ok(Saved { path: path.to_path_buf(), notes })
}
