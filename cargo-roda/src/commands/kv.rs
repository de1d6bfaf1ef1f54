//! `cargo roda kv`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// KV values that functions wrote, on a roda-ledger HEAD server.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do with KV.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Read the value under KEY.
    #[command(
        after_help = "KEY is `/`-joined integers and constant names, as the server's GetKv takes it. A guest's key\nalways has four components, so fewer are padded with zeros as a guest's key builder does\n(`counter/1` reads `counter/1/0/0`); the server itself does not pad: pass --exact to send KEY as is.\n\nExamples:\n  cargo roda kv get counter/1\n  cargo roda kv get counter/1/0/0 --exact --output json"
    )]
    Get(GetArgs),
}

/// `kv get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The key.
    pub key: String,
    /// Send the key as given, without padding it to four components.
    #[arg(long)]
    pub exact: bool,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// The value read.
#[derive(Debug, Serialize)]
pub struct Read {
    server: String,
    /// The key as sent.
    key: String,
    found: bool,
    value: Option<i64>,
}

impl Outcome for Read {
    fn command(&self) -> &'static str {
        "kv get"
    }

    fn human(&self) -> String {
        match self.value {
            Some(value) => format!("{} = {value}\n", self.key),
            None => format!("{}: not found (nothing was written under it)\n", self.key),
        }
    }
}

/// The components a guest's key has.
const KEY_PARTS: usize = 4;

/// `key` with zeros added up to four components.
///
/// # Errors
///
/// [`Error::Usage`] for an empty component or more than four.
pub fn padded(key: &str) -> Result<String, Error> {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return Err(Error::Usage(format!(
            "`{key}` has an empty component; a key is `/`-joined integers and constant names, e.g. counter/1"
        )));
    }
    if parts.len() > KEY_PARTS {
        return Err(Error::Usage(format!(
            "`{key}` has {} components; a function's key has {KEY_PARTS} (pass --exact to ask for it anyway)",
            parts.len()
        )));
    }
    let zeros = std::iter::repeat_n("0", KEY_PARTS - parts.len());
    Ok(parts.into_iter().chain(zeros).collect::<Vec<_>>().join("/"))
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Read, Error> {
    let Command::Get(args) = args.command;
    let key = match args.exact {
        true => args.key,
        false => padded(&args.key)?,
    };
    block_on(async {
        let client = args.endpoint.connect_here().await?.reader().await?;
        let value = client.kv_get(&key).await?;
        Ok(Read { server: client.url().to_owned(), key, found: value.is_some(), value })
    })?
}
