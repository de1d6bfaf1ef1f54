//! `cargo roda unregister`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// Unregister a function; later calls to it fail with status 5.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda unregister fee_transfer")]
pub struct Args {
    /// The function's name.
    pub name: String,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// The unregister marker's version.
#[derive(Debug, Serialize)]
pub struct Unregistered {
    name: String,
    version: u32,
}

impl Outcome for Unregistered {
    fn command(&self) -> &'static str {
        "unregister"
    }

    fn human(&self) -> String {
        let name = &self.name;
        format!(
            "Unregistered `{name}`: calls of it now fail with status 5 (INVALID_OPERATION); the server recorded the removal as version {} (an empty binary).\nnote: do not register `{name}` again on this server with other bytes: a roda-ledger server (ee2b042 or e14b146) would then fail its next restart; to replace a function, `cargo roda deploy --override` instead\n",
            self.version
        )
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Unregistered, Error> {
    let version = block_on(async {
        let cluster = args.endpoint.connect_here().await?;
        Ok::<_, Error>(cluster.unregister(&args.name).await?)
    })??;
    Ok(Unregistered { name: args.name, version })
}
