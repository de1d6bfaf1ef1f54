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
    after_help = "Examples:\n  cargo roda replay 42 --params 1 2 30 --wasm move.wasm\n  cargo roda replay 42 --params 1 2 30 --functions build/ --instead target/new.wasm\n\nA server's log does not keep a call's parameters: give them with --params. Exit code 5 when the records differ."
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
}

impl Outcome for Replayed {
    fn command(&self) -> &'static str {
        "replay"
    }

    fn human(&self) -> String {
        let r = &self.replay;
        let mut out = format!(
            "transaction {} ran `{}` v{}; replayed with crc32c {:08x}: {} (committed {})\n",
            r.tx_id, r.function.name, r.function.version, r.crc32c, r.replayed_status, r.committed_status
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
        Ok(Replayed { server: client.url().to_owned(), same: replay.same(), replay })
    })?
}
