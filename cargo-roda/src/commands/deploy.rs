//! `cargo roda deploy`.

use std::path::PathBuf;

use super::diff::Changes;
use cargo_roda::deployments::{self, Deployment, Deployments};
use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use cargo_roda::project::Abi;
use cargo_roda::refusal::{Refusal, server_abi};
use serde::Serialize;

use super::{CheckedModule, EndpointArgs, ProjectArgs, block_on, checked_module};

/// Build, validate and register the function on a server.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda deploy\n  cargo roda deploy --profile staging --override\n  cargo roda deploy build/function.wasm --name fee_transfer --server https://ledger.example:50051"
)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Replace a function already registered under the name (version + 1).
    #[arg(long = "override")]
    pub override_existing: bool,
    /// Deploy this module instead of building the project.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send it even when it would hurt the server: a module of another ABI
    /// than the server's, a name unregistered since it was deployed there
    /// (a restart of the server then fails), or a `start` or `register()`
    /// that traps or never finishes in the simulator.
    #[arg(long)]
    pub force: bool,
    /// With --override inside a project: deploy even when the new build
    /// behaves otherwise than the last recorded deployment on the project's
    /// scenarios and their fuzzed draws (`cargo roda diff` shows how).
    #[arg(long, requires = "override_existing")]
    pub accept_changes: bool,
    #[command(flatten)]
    pub abi: super::AbiArgs,
}

/// What was registered.
#[derive(Debug, Serialize)]
pub struct Deployed {
    name: String,
    /// The node that took it (the leader of a cluster).
    server: String,
    wire: roda_rpc::Wire,
    version: u32,
    crc32c: String,
    sha256: String,
    size: usize,
    /// Where the deployment was recorded (inside a project).
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_in: Option<PathBuf>,
    warnings: Vec<String>,
    /// For a cluster: whether each node lists it afterwards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nodes: Vec<NodeHas>,
    /// With --override inside a project: what the new build changes from
    /// the last recorded deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<Changes>,
}

/// Whether one node of a cluster lists the deployed function.
#[derive(Debug, Serialize)]
pub struct NodeHas {
    url: String,
    has_it: bool,
    /// Why the node could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Outcome for Deployed {
    fn command(&self) -> &'static str {
        "deploy"
    }

    fn human(&self) -> String {
        let mut out = format!(
            "Deployed {} v{} (crc32c {}, {} bytes) to {}\n",
            self.name, self.version, self.crc32c, self.size, self.server
        );
        if let Some(path) = &self.recorded_in {
            out.push_str(&format!("  sha256 {}, recorded in {}\n", self.sha256, path.display()));
        }
        out
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Deployed, Error> {
    // Refused locally, before anything is sent: invalid modules, oversize ones.
    let CheckedModule { project, name, bytes: binary, abi } = checked_module(
        &args.project,
        args.file.as_deref(),
        false,
        "not deployed: the module fails validation",
        &args.abi,
    )?;
    // The server's limit is on the whole request, name included.
    let request_len = roda_rpc::client::register_request_len(&name, &binary, args.override_existing);
    if request_len > ledger_core::abi::MAX_BINARY_SIZE {
        return Err(Error::RequestTooLarge { request_len, limit: ledger_core::abi::MAX_BINARY_SIZE });
    }
    let changes = match (&project, args.override_existing) {
        (Some(project), true) => upgrade_gate(project, &name, &binary, abi, args.accept_changes)?,
        _ => None,
    };
    let endpoints = args.endpoint.endpoints(project.as_ref())?;
    let local_crc = ledger_core::crc32c(&binary);
    // Read before anything is sent: a record file that cannot take the
    // record refuses the deploy rather than lose it.
    let mut records = project.as_ref().map(|p| Deployments::load(&p.root)).transpose()?;
    let (server, wire, registered, warnings, nodes) = block_on(async {
        let several = endpoints.len() > 1;
        let cluster = roda_rpc::cluster::Cluster::connect(endpoints).await?;
        let leader = cluster.client().await?;
        let server = leader.url().to_owned();
        let mut warnings = Vec::new();
        let refuse = |refusal: Refusal| match args.force {
            true => Ok(format!("sent anyway (--force): {refusal}")),
            false => Err(Error::Refused(refusal.to_string())),
        };
        let server_abi = server_abi(leader.wire());
        let fits = ledger_core::abi::validate_for(&binary, server_abi.profile());
        if let Some(error) = fits.errors().next() {
            let found = format!("{}; {}", error.found, error.fix);
            warnings.push(refuse(Refusal::WrongAbi { server: server.clone(), wire: leader.wire(), abi, found })?);
        } else if (abi, server_abi) == (Abi::V1, Abi::V2) {
            warnings.push(format!(
                "`{name}` is written for ABI v1 and {server} runs ABI v2 (e14b146): there, accounts must be opened (`cargo roda accounts open`) before a call moves money in or out of them, else the call fails with ACCOUNT_NOT_FOUND"
            ));
        }
        let seen = records.as_ref().and_then(|r| r.last(&name, Some(&server))).map(|record| record.version);
        let live = leader.list().await?;
        if let (Some(seen), false) = (seen, live.iter().any(|f| f.name == name)) {
            warnings.push(refuse(Refusal::Unregistered { name: name.clone(), server: server.clone(), seen })?);
        }
        if let Err(risk) = ledger_core::preflight::preflight(server_abi.profile(), &name, &binary, Default::default()) {
            warnings.push(refuse(Refusal::Risk(risk))?);
        }
        let registered = cluster.register(&name, &binary, args.override_existing).await?;
        let nodes = match several {
            true => nodes_with(&cluster, &registered).await,
            false => Vec::new(),
        };
        let lacking: Vec<String> = nodes
            .iter()
            .filter(|n| !n.has_it)
            .map(|n| match n.error {
                Some(_) => format!("{} (unreachable)", n.url),
                None => n.url.clone(),
            })
            .collect();
        if !lacking.is_empty() {
            warnings.push(format!(
                "{} do not list `{name}` v{}: a roda-ledger cluster does not replicate function binaries, so if one of them becomes the leader, calls of `{name}` fail with status 5 until you deploy again (deploy goes to whichever node leads)",
                lacking.join(", "),
                registered.version
            ));
        }
        for warning in &warnings {
            eprintln!("warning: {warning}");
        }
        Ok::<_, Error>((cluster.client().await?.url().to_owned(), leader.wire(), registered, warnings, nodes))
    })??;
    let (version, crc) = (registered.version, registered.crc32c);
    if crc != local_crc {
        return Err(Error::UploadAltered { name, version, server: crc, local: local_crc });
    }
    let sha256 = cargo_roda::validate::sha256_hex(&binary);
    let mut recorded_in = None;
    if let (Some(project), Some(records)) = (&project, records.as_mut()) {
        let (revision, dirty) = deployments::git_revision(&project.root).map_or((None, false), |(r, d)| (Some(r), d));
        let record = Deployment {
            server: server.clone(),
            wire: wire.name().to_owned(),
            name: name.clone(),
            version,
            crc32c: format!("{crc:08x}"),
            sha256: sha256.clone(),
            size: binary.len(),
            revision,
            dirty,
            toolchain: match args.file {
                Some(_) => "(a module given on the command line)".to_owned(),
                None => deployments::toolchain(project),
            },
            cargo_roda: env!("CARGO_PKG_VERSION").to_owned(),
            deployed_at: deployments::now_utc(),
        };
        // The function is registered: a record that cannot be written is
        // said, not an error that would hide the deploy.
        match records.append(&project.root, record) {
            Ok(()) => recorded_in = Some(project.root.join(deployments::FILE)),
            Err(error) => eprintln!("warning: deployed, but not recorded: {error}"),
        }
    }
    Ok(Deployed {
        name,
        server,
        wire,
        version,
        crc32c: format!("{crc:08x}"),
        sha256,
        size: binary.len(),
        recorded_in,
        warnings,
        nodes,
        changes,
    })
}

/// Fuzzed draws per scenario the upgrade gate compares, from a fixed seed
/// so that a deploy is refused or not the same way every time.
const GATE_SEED: u64 = 0;

/// Before an override: what the new build changes from the last recorded
/// deployment (rebuilt at its revision), on the project's scenarios and
/// their fuzzed draws; refused when the behaviour changed, unless
/// `accept`. `None` when there is nothing to compare with (no record, no
/// revision, no scenarios), which is said.
fn upgrade_gate(
    project: &cargo_roda::project::Project,
    name: &str,
    binary: &[u8],
    abi: Abi,
    accept: bool,
) -> Result<Option<Changes>, Error> {
    let records = Deployments::load(&project.root)?;
    let Some(record) = records.last(name, None) else { return Ok(None) };
    if record.revision.is_none() {
        eprintln!(
            "warning: the last deployment of `{name}` names no git revision, so its behaviour is not compared with this build's"
        );
        return Ok(None);
    }
    let interfaces = roda_test::Interfaces::of(name, binary);
    let files = match roda_test::ScenarioFile::from_dir_with(project.root.join("tests"), &interfaces) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("warning: no scenarios to compare the deployed version with ({error})");
            return Ok(None);
        }
    };
    let old = match super::deployed_binary(project, name, None) {
        Ok((_, old)) => old,
        Err(error) if accept => {
            eprintln!(
                "warning: the deployed version could not be rebuilt to compare with ({error}); deploying (--accept-changes)"
            );
            return Ok(None);
        }
        Err(error) => {
            return Err(Error::UpgradeRefused(format!(
                "the deployed version could not be rebuilt to compare with this build: {error}; deploy with --override --accept-changes to skip the comparison"
            )));
        }
    };
    let runner = |bytes: Vec<u8>| roda_test::Runner::new(bytes, name).with_profile(abi.profile());
    let changes = super::diff::changes(
        &runner(old),
        &runner(binary.to_vec()),
        &files,
        super::diff::DEFAULT_DIFF_CASES,
        GATE_SEED,
    )?;
    if changes.behaviour_changed() && !accept {
        return Err(Error::UpgradeRefused(format!(
            "`{name}` behaves otherwise than v{} deployed to {} ({}):\n{}deploy it with --override --accept-changes if that is intended",
            record.version,
            record.server,
            record.deployed_at,
            changes.human()
        )));
    }
    Ok(Some(changes))
}

/// Whether each node of a cluster lists `registered` (its name and CRC).
async fn nodes_with(cluster: &roda_rpc::cluster::Cluster, registered: &ledger_core::FunctionInfo) -> Vec<NodeHas> {
    cluster
        .list_on_every_node()
        .await
        .into_iter()
        .map(|node| match node.answer {
            Ok(live) => NodeHas {
                url: node.url,
                has_it: live.iter().any(|f| f.name == registered.name && f.crc32c == registered.crc32c),
                error: None,
            },
            Err(error) => NodeHas { url: node.url, has_it: false, error: Some(error.to_string()) },
        })
        .collect()
}
