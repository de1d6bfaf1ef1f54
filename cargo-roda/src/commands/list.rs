//! `cargo roda list`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// List the functions registered on a server.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda list\n  cargo roda list --server http://127.0.0.1:50051 --output json")]
pub struct Args {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// One function.
#[derive(Debug, Serialize)]
pub struct Function {
    name: String,
    version: u32,
    crc32c: String,
}

/// The functions.
#[derive(Debug, Serialize)]
pub struct Listed {
    server: String,
    wire: roda_rpc::Wire,
    functions: Vec<Function>,
}

impl Outcome for Listed {
    fn command(&self) -> &'static str {
        "list"
    }

    fn human(&self) -> String {
        if self.functions.is_empty() {
            return format!("no functions registered on {}\n", self.server);
        }
        let mut out = format!("{:<32} {:>7}  {}\n", "NAME", "VERSION", "CRC32C");
        for f in &self.functions {
            out.push_str(&format!("{:<32} {:>7}  {}\n", f.name, f.version, f.crc32c));
        }
        out
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Listed, Error> {
    let (server, wire, functions) = block_on(async {
        let client = args.endpoint.connect_here().await?.client().await?;
        Ok::<_, Error>((client.url().to_owned(), client.wire(), client.list().await?))
    })??;
    let functions = functions
        .into_iter()
        .map(|f| Function { name: f.name, version: f.version, crc32c: format!("{:08x}", f.crc32c) })
        .collect();
    Ok(Listed { server, wire, functions })
}
