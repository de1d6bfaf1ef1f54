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
    /// Inside a project with deployment records: the record this function
    /// matches (name, server and CRC32C), as `deployed_at` and revision;
    /// `null` when none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded: Option<Option<String>>,
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
    let records = functions.iter().any(|f| f.recorded.is_some());
    let mut out = format!("{:<32} {:>7}  {:<8}", "NAME", "VERSION", "CRC32C");
    out.push_str(if records { "  DEPLOYMENT RECORD\n" } else { "\n" });
    for f in functions {
        out.push_str(&format!("{:<32} {:>7}  {:<8}", f.name, f.version, f.crc32c));
        match &f.recorded {
            Some(Some(record)) => out.push_str(&format!("  {record}\n")),
            Some(None) => out.push_str("  none matches (not deployed from this project, or changed since)\n"),
            None => out.push('\n'),
        }
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

/// The functions listed; with `records` (a project's, for `server`), the
/// record each matches.
fn functions(
    list: Vec<ledger_core::FunctionInfo>,
    records: Option<(&cargo_roda::deployments::Deployments, &str)>,
) -> Vec<Function> {
    list.into_iter()
        .map(|f| {
            let crc32c = format!("{:08x}", f.crc32c);
            let recorded = records.map(|(records, server)| {
                records.matching(server, &f.name, &crc32c).map(|d| {
                    // The file is the user's: any text may stand there.
                    let revision: String =
                        d.revision.as_deref().map_or("no revision".into(), |r| r.chars().take(12).collect());
                    let dirty = if d.dirty { ", modified" } else { "" };
                    format!("v{} deployed {} ({revision}{dirty})", d.version, d.deployed_at)
                })
            });
            Function { name: f.name, version: f.version, crc32c, recorded }
        })
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
    let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
    let records = match &project {
        Some(project) => Some(cargo_roda::deployments::Deployments::load(&project.root)?),
        None => None,
    };
    let records = records.as_ref().filter(|r| !r.list.is_empty());
    let nodes = nodes
        .into_iter()
        .map(|node| match node.answer {
            Ok(list) => {
                let functions = functions(list, records.map(|r| (r, node.url.as_str())));
                Node { server: node.url, functions: Some(functions), error: None }
            }
            Err(error) => Node { server: node.url, functions: None, error: Some(error.to_string()) },
        })
        .collect();
    let functions = functions(listed, records.map(|r| (r, server.as_str())));
    Ok(Listed { server, wire, functions, nodes })
}
