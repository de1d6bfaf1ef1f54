//! `cargo roda list`.

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// List the functions registered on a server (any node of a cluster
/// answers), or on every node of a cluster.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda list\n  cargo roda list --server http://127.0.0.1:50051 --output json\n  cargo roda list --server http://10.0.0.1:50051,http://10.0.0.2:50051 --nodes"
)]
pub struct Args {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Ask every node of the cluster, not only one: roda-ledger does not
    /// replicate function binaries, so a node that did not take a
    /// registration lacks the function (and fails its calls with status 5
    /// should it lead).
    #[arg(long)]
    pub nodes: bool,
}

/// One function.
#[derive(Debug, Serialize)]
pub struct Function {
    name: String,
    version: u32,
    crc32c: String,
}

/// One node's functions, or why it could not be asked.
#[derive(Debug, Serialize)]
pub struct Node {
    server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    functions: Option<Vec<Function>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The functions.
#[derive(Debug, Serialize)]
pub struct Listed {
    server: String,
    wire: roda_rpc::Wire,
    functions: Vec<Function>,
    /// With `--nodes`: each node's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nodes: Vec<Node>,
}

fn table(functions: &[Function]) -> String {
    let mut out = format!("{:<32} {:>7}  {}\n", "NAME", "VERSION", "CRC32C");
    for f in functions {
        out.push_str(&format!("{:<32} {:>7}  {}\n", f.name, f.version, f.crc32c));
    }
    out
}

impl Outcome for Listed {
    fn command(&self) -> &'static str {
        "list"
    }

    fn human(&self) -> String {
        if !self.nodes.is_empty() {
            let mut out = String::new();
            for node in &self.nodes {
                match (&node.functions, &node.error) {
                    (Some(functions), _) if functions.is_empty() => {
                        out.push_str(&format!("{}: no functions registered\n", node.server));
                    }
                    (Some(functions), _) => out.push_str(&format!("{}:\n{}", node.server, table(functions))),
                    (None, error) => {
                        out.push_str(&format!("{}: not asked ({})\n", node.server, error.as_deref().unwrap_or("")));
                    }
                }
            }
            return out;
        }
        if self.functions.is_empty() {
            return format!("no functions registered on {}\n", self.server);
        }
        table(&self.functions)
    }
}

fn functions(list: Vec<ledger_core::FunctionInfo>) -> Vec<Function> {
    list.into_iter()
        .map(|f| Function { name: f.name, version: f.version, crc32c: format!("{:08x}", f.crc32c) })
        .collect()
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Listed, Error> {
    let (server, wire, listed, nodes) = block_on(async {
        let cluster = args.endpoint.connect_here().await?;
        let client = cluster.reader().await?;
        let nodes = match args.nodes {
            true => cluster.list_on_every_node().await,
            false => Vec::new(),
        };
        Ok::<_, Error>((client.url().to_owned(), client.wire(), client.list().await?, nodes))
    })??;
    let nodes = nodes
        .into_iter()
        .map(|node| match node.answer {
            Ok(list) => Node { server: node.url, functions: Some(functions(list)), error: None },
            Err(error) => Node { server: node.url, functions: None, error: Some(error.to_string()) },
        })
        .collect();
    Ok(Listed { server, wire, functions: functions(listed), nodes })
}
