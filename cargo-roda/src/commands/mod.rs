//! One module per subcommand, each with `Args` and `exec`.

pub mod accounts;
pub mod balance;
pub mod build;
pub mod call;
pub mod deploy;
pub mod deposit;
pub mod dev;
pub mod diff;
pub mod init;
pub mod inspect;
pub mod kv;
pub mod list;
pub mod new;
pub mod replay;
pub mod schema;
pub mod test;
pub mod tx;
pub mod unregister;
pub mod validate;
pub mod verify;

use std::path::PathBuf;

/// Where the project is: flags shared by the commands that work on one.
#[derive(Debug, Clone, clap::Args)]
pub struct ProjectArgs {
    /// The project directory (holding Roda.toml); default: the current
    /// directory or its nearest parent with a Roda.toml.
    #[arg(long, value_name = "DIR", env = "RODA_PROJECT")]
    pub project: Option<PathBuf>,
    /// The function's name, instead of Roda.toml's `[function] name`.
    #[arg(long, env = "RODA_NAME")]
    pub name: Option<String>,
}

impl ProjectArgs {
    /// Loads the project.
    pub fn load(&self) -> Result<cargo_roda::project::Project, cargo_roda::error::Error> {
        let start = match &self.project {
            Some(dir) => dir.clone(),
            None => {
                std::env::current_dir().map_err(cargo_roda::error::Error::io("cannot read the current directory"))?
            }
        };
        let mut project = cargo_roda::project::Project::find(&start)?;
        if let Some(name) = &self.name {
            project.override_name(name)?;
        }
        Ok(project)
    }
}

/// Which host ABI: the flag shared by the commands that check or run a
/// module.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AbiArgs {
    /// The host ABI: v1 (roda-ledger ee2b042, the seed's) or v2 (roda-ledger
    /// e14b146). Default: Roda.toml's `[function] abi`; without a Roda.toml,
    /// what the crate's dependencies or the module's imports say; else v1.
    #[arg(long, value_enum, env = "RODA_ABI")]
    pub abi: Option<cargo_roda::project::Abi>,
}

/// The ABI a command checks or runs a module for, and how it was chosen
/// when no flag or `Roda.toml` said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedAbi {
    /// The ABI.
    pub abi: cargo_roda::project::Abi,
    /// Where it came from, for a module without a `Roda.toml` to say it.
    pub source: Option<String>,
}

impl AbiArgs {
    /// The flag; else the project's `Roda.toml`; else (a crate without one,
    /// or a file outside any project) what the crate's dependencies say,
    /// then what the module's imports say; else v1.
    pub fn resolve(&self, project: Option<&cargo_roda::project::Project>, module: Option<&[u8]>) -> ResolvedAbi {
        use cargo_roda::project::{Abi, Origin};
        let chosen = |abi, source: Option<String>| ResolvedAbi { abi, source };
        if let Some(abi) = self.abi {
            return chosen(abi, None);
        }
        let abi_from = match project.map(|p| (&p.origin, p.abi())) {
            Some((Origin::RodaToml, abi)) => return chosen(abi, None),
            Some((Origin::Crate { abi_from }, _)) => *abi_from,
            None => None,
        };
        let nothing_says = if project.is_some() { "no Roda.toml" } else { "outside a project" };
        let why = |why: String| Some(format!("{why} ({nothing_says})"));
        if let Some((abi, dependency)) = abi_from {
            return chosen(abi, why(format!("the crate depends on {dependency}")));
        }
        let declared = module
            .and_then(|m| ledger_core::interface::Interface::from_module(m).ok().flatten())
            .and_then(|interface| interface.abi)
            .and_then(|abi| Abi::parse(&abi));
        if let Some(abi) = declared {
            return chosen(abi, why("the module's interface manifest says so".into()));
        }
        let inferred = module.and_then(ledger_core::abi::inferred_profile);
        match inferred.map(Abi::from_profile) {
            Some(abi) => chosen(abi, why("the module's imports say so".into())),
            None if module.is_some_and(|m| !ledger_core::abi::satisfied_profiles(m).is_empty()) => {
                chosen(Abi::V1, why("the module's imports fit v1 and v2 alike; --abi v2 checks it for e14b146".into()))
            }
            None => chosen(Abi::V1, None),
        }
    }
}

/// The bounds every function call runs under: flags shared by the commands
/// that execute functions (`test`, `dev`). A server has none of them.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Fuel per call; a call that runs out fails with status 5 (on a server,
    /// which has no limit, it would never return).
    #[arg(long, default_value_t = ledger_core::DEFAULT_FUEL_PER_CALL)]
    pub fuel: u64,
    /// MiB one instance may hold in all its memories and tables together;
    /// growing past it fails the call with status 5.
    #[arg(long, value_name = "MIB", default_value_t = ledger_core::DEFAULT_MAX_MEMORY_BYTES >> 20)]
    pub max_instance_memory: usize,
    /// MiB all cached instances may hold together; past it the least
    /// recently used are dropped (and re-created, with fresh state).
    #[arg(long, value_name = "MIB", default_value_t = ledger_core::DEFAULT_MAX_CACHED_BYTES >> 20)]
    pub max_cached_memory: usize,
}

impl LimitArgs {
    /// The limits these flags set.
    pub fn limits(&self) -> ledger_core::Limits {
        ledger_core::Limits {
            fuel_per_call: self.fuel,
            max_memory_bytes: self.max_instance_memory.saturating_mul(1 << 20),
            max_cached_bytes: self.max_cached_memory.saturating_mul(1 << 20),
            ..ledger_core::Limits::default()
        }
    }
}

/// Builds the project, saying so on stderr; returns the `.wasm`.
pub fn build_project(
    project: &cargo_roda::project::Project,
    profile: cargo_roda::builder::BuildProfile,
) -> Result<std::path::PathBuf, cargo_roda::error::Error> {
    let function = &project.file.function;
    let profile_name = match profile {
        cargo_roda::builder::BuildProfile::Release => "release",
        cargo_roda::builder::BuildProfile::Debug => "debug",
        cargo_roda::builder::BuildProfile::Symbols => "release with symbols",
    };
    eprintln!("    Building {} ({}, {profile_name})", function.name, function.language.id());
    if function.abi.is_none() && project.origin == cargo_roda::project::Origin::RodaToml {
        eprintln!(
            "note: Roda.toml's [function] has no `abi`, so the function is ABI v1 (roda-ledger ee2b042); add `abi = \"v1\"` to say so, or `abi = \"v2\"` to write it for e14b146's ABI"
        );
    }
    Ok(cargo_roda::builder::build(project, profile)?)
}

/// A validated module a command works on.
pub struct CheckedModule {
    /// The project, when there is one.
    pub project: Option<cargo_roda::project::Project>,
    /// The function's name.
    pub name: String,
    /// The binary.
    pub bytes: Vec<u8>,
    /// The ABI it was validated against.
    pub abi: cargo_roda::project::Abi,
}

/// The module `file`, or the project built the way `cargo roda build` does;
/// refused with exit code 3 and `refusal` when it fails validation. The name
/// is `--name`, else the project's, else (if `name_from_file`) the file's stem.
pub fn checked_module(
    project_args: &ProjectArgs,
    file: Option<&std::path::Path>,
    name_from_file: bool,
    refusal: &str,
    abi: &AbiArgs,
) -> Result<CheckedModule, cargo_roda::error::Error> {
    use cargo_roda::error::Error;
    let project = match (file, project_args.load()) {
        (None, Err(err)) => return Err(err),
        (_, project) => project.ok(),
    };
    let (path, name) = match (file, &project) {
        (Some(path), _) => {
            let name = project_args
                .name
                .clone()
                .or_else(|| project.as_ref().map(|p| p.file.function.name.clone()))
                .or_else(|| {
                    name_from_file.then(|| path.file_stem().map(|s| s.to_string_lossy().into_owned())).flatten()
                })
                .ok_or_else(|| {
                    Error::Usage("name the function with --name (or run inside a project with a Roda.toml)".into())
                })?;
            (path.to_path_buf(), name)
        }
        (None, Some(project)) => {
            (build_project(project, cargo_roda::builder::BuildProfile::Release)?, project.file.function.name.clone())
        }
        (None, None) => unreachable!("a missing project returned above"),
    };
    let bytes = roda_test::fs::load_module(&path)?;
    let resolved = abi.resolve(project.as_ref(), Some(&bytes));
    if let Some(source) = &resolved.source {
        eprintln!("note: ABI {}: {source}; `cargo roda init` writes a Roda.toml that says so", resolved.abi.id());
    }
    let abi = resolved.abi;
    let report = cargo_roda::validate::check_bytes(&path, &bytes, Some(&name), abi.profile());
    if !report.valid {
        return Err(Error::InvalidModule { report: report.human().trim_end().to_owned(), refusal: refusal.to_owned() });
    }
    Ok(CheckedModule { project, name, bytes, abi })
}

/// The modules a fork or a replay may run: the project's, built as
/// `deploy` builds it, when there is a project; the files named; a
/// directory's `.wasm` and `.wat` files, by name (a `.wat` file compiled as
/// `deploy` compiles it).
pub fn module_files(
    project: Option<&cargo_roda::project::Project>,
    files: &[PathBuf],
    dir: Option<&PathBuf>,
) -> Result<Vec<Vec<u8>>, cargo_roda::error::Error> {
    use cargo_roda::error::Error;
    let mut paths = Vec::new();
    if let Some(project) = project {
        paths.push(build_project(project, cargo_roda::builder::BuildProfile::Release)?);
    }
    paths.extend_from_slice(files);
    if let Some(dir) = dir {
        let entries =
            std::fs::read_dir(dir).map_err(Error::io(format!("cannot read the directory {}", dir.display())))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm" || ext == "wat"))
            .collect();
        found.sort();
        paths.extend(found);
    }
    Ok(paths.iter().map(|path| roda_test::fs::load_module(path)).collect::<Result<_, _>>()?)
}

/// Which server to talk to: flags shared by the commands that make RPCs.
#[derive(Debug, Clone, clap::Args)]
pub struct EndpointArgs {
    /// Server URL: http://host:port or https://host:port (TLS). Several
    /// (repeated, or comma-separated) are the nodes of a cluster: writes go
    /// to the one that leads.
    #[arg(long, value_name = "URL", env = "RODA_SERVER", value_delimiter = ',')]
    pub server: Vec<String>,
    /// A server profile from Roda.toml's [profiles].
    #[arg(long, value_name = "NAME", env = "RODA_PROFILE")]
    pub profile: Option<String>,
    /// A CA certificate (PEM) to trust for https:// besides the system roots.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Read the bearer token from this file (default: $RODA_TOKEN). It is
    /// sent as `authorization` metadata and never printed.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Seconds to wait for each request.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    /// Retries of a transient UNAVAILABLE, with backoff.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
}

/// The server used when nothing names one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

impl EndpointArgs {
    /// Connects to the server, or the cluster, named as
    /// [`EndpointArgs::endpoints`] says, with the Roda.toml found from the
    /// current directory, if any.
    pub async fn connect_here(&self) -> Result<roda_rpc::cluster::Cluster, cargo_roda::error::Error> {
        Ok(roda_rpc::cluster::Cluster::connect(self.endpoints_here()?).await?)
    }

    /// [`EndpointArgs::endpoints`] with the Roda.toml found from the current
    /// directory, if any.
    pub fn endpoints_here(&self) -> Result<Vec<roda_rpc::client::Endpoint>, cargo_roda::error::Error> {
        let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
        self.endpoints(project.as_ref())
    }

    /// Resolves the nodes: `--server`/`RODA_SERVER`, then the profile
    /// (`--profile`/`RODA_PROFILE`, else `local`) of `project`'s Roda.toml,
    /// then the default local server. Each gets the same TLS, token and
    /// timeouts.
    pub fn endpoints(
        &self,
        project: Option<&cargo_roda::project::Project>,
    ) -> Result<Vec<roda_rpc::client::Endpoint>, cargo_roda::error::Error> {
        use cargo_roda::error::Error;
        use cargo_roda::project::ProjectError;
        // The profile a Roda.toml named the servers in, and that file.
        let from_profile = |name: &str| {
            project.and_then(|p| p.file.profiles.get(name).map(|profile| (profile.urls(), p, name.to_owned())))
        };
        let (urls, named_in) = match (self.server.is_empty(), &self.profile) {
            (false, _) => (self.server.clone(), None),
            (true, Some(profile)) => {
                let (urls, project, name) =
                    from_profile(profile).ok_or_else(|| ProjectError::NoProfile(profile.clone()))?;
                (urls, Some((project, name)))
            }
            (true, None) => match from_profile("local") {
                Some((urls, project, name)) => (urls, Some((project, name))),
                None => (vec![DEFAULT_SERVER.into()], None),
            },
        };
        if urls.is_empty() {
            let name = named_in.map_or_else(String::new, |(_, name)| name);
            return Err(ProjectError::EmptyProfile(name).into());
        }
        for url in &urls {
            roda_rpc::client::check_server_url(url).map_err(Error::Usage)?;
        }
        let token = match &self.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(Error::io(format!("cannot read the token file {}", path.display())))?;
                Some(token(&text, || format!("--token-file {}", path.display()))?)
            }
            None => match std::env::var("RODA_TOKEN") {
                Ok(text) => Some(token(&text, || "RODA_TOKEN".into())?),
                Err(_) => None,
            },
        };
        let endpoints: Vec<_> = urls
            .into_iter()
            .map(|url| roda_rpc::client::Endpoint {
                url,
                ca_cert: self.ca_cert.clone(),
                token: token.clone(),
                timeout: std::time::Duration::from_secs(self.timeout),
                retries: self.retries,
            })
            .collect();
        if let (Some(_), Some((project, profile))) = (&token, named_in) {
            // The file may be in a parent directory the user did not think of.
            let urls: Vec<_> = endpoints.iter().map(|e| e.url.as_str()).collect();
            eprintln!(
                "note: sending the token to {}, the server of profile `{profile}` in {}",
                urls.join(", "),
                project.root.join(cargo_roda::project::PROJECT_FILE).display()
            );
        }
        for endpoint in endpoints.iter().filter(|e| e.token_in_clear_beyond_loopback()) {
            eprintln!(
                "warning: the token goes in plain text to {}: anyone on the path can read it; use https://",
                endpoint.url
            );
        }
        Ok(endpoints)
    }
}

/// A token read from `origin`; refused when empty.
pub fn token(text: &str, origin: impl FnOnce() -> String) -> Result<roda_rpc::token::Token, cargo_roda::error::Error> {
    roda_rpc::token::Token::new(text).map_err(|source| cargo_roda::error::Error::Token { origin: origin(), source })
}

/// Runs an async block on a fresh runtime.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T, cargo_roda::error::Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(cargo_roda::error::Error::io("cannot start the async runtime"))?;
    Ok(runtime.block_on(future))
}

/// `URL[@TX]`: the server, and the transaction to fork at (none: the last).
fn fork_source(text: &str) -> Result<(String, Option<u64>), cargo_roda::error::Error> {
    use cargo_roda::error::Error;
    match text.rsplit_once('@') {
        Some((url, tx)) if !tx.is_empty() && tx.bytes().all(|b| b.is_ascii_digit()) => {
            let tx = tx.parse().map_err(|_| Error::Usage(format!("--fork {text}: transaction {tx} is too large")))?;
            Ok((url.to_owned(), Some(tx)))
        }
        _ => Ok((text.to_owned(), None)),
    }
}

/// Forks the ledger at `source` (`URL[@TX]`) and reports progress on
/// stderr as `command`.
pub fn fork(
    command: &str,
    source: &str,
    binaries: &[Vec<u8>],
    config: ledger_core::LedgerConfig,
) -> Result<roda_rpc::fork::Fork, cargo_roda::error::Error> {
    use cargo_roda::error::Error;
    let (url, at) = fork_source(source)?;
    roda_rpc::client::check_server_url(&url).map_err(Error::Usage)?;
    block_on(async {
        let client = roda_rpc::client::Client::connect(&roda_rpc::client::Endpoint::new(&url)).await?;
        let progress = |applied: u64, target: u64| {
            eprintln!("cargo roda {command}: forking {url}: {applied} of {target} transactions")
        };
        Ok(roda_rpc::fork::fork(&client, at, binaries, config, progress).await?)
    })?
}

/// The project as it was at git revision `rev`, built for release in a
/// temporary worktree: its bytes, the compiler that built them and the
/// commit `rev` names.
pub fn build_at(
    project: &cargo_roda::project::Project,
    rev: &str,
) -> Result<(Vec<u8>, String, Option<String>), cargo_roda::error::Error> {
    use cargo_roda::deployments::{self, Worktree};
    use cargo_roda::error::Error;
    let (worktree, dir) = Worktree::at(&project.root, rev).map_err(|e| Error::Usage(e.to_string()))?;
    let mut there = cargo_roda::project::Project::find(&dir)?;
    if there.file.function.name != project.file.function.name {
        there.override_name(&project.file.function.name)?;
    }
    let bytes = roda_test::fs::load_module(&build_project(&there, cargo_roda::builder::BuildProfile::Release)?)?;
    let toolchain = deployments::toolchain(&there);
    let commit = deployments::git_revision(&dir).map(|(commit, _)| commit);
    drop(worktree);
    Ok((bytes, toolchain, commit))
}

/// The binary of the last deployment of `name` recorded in the project
/// (to `server`, when given), rebuilt at its recorded revision and checked
/// against its SHA-256: what the server runs, to compare a new build with.
pub fn deployed_binary(
    project: &cargo_roda::project::Project,
    name: &str,
    server: Option<&str>,
) -> Result<(cargo_roda::deployments::Deployment, Vec<u8>), cargo_roda::error::Error> {
    use cargo_roda::error::Error;
    let records = cargo_roda::deployments::Deployments::load(&project.root)?;
    let record = records.last(name, server).cloned().ok_or_else(|| {
        Error::Usage(format!(
            "no deployment of `{name}` is recorded in {}: name the old module (a .wasm or .wat file) instead",
            project.root.join(cargo_roda::deployments::FILE).display()
        ))
    })?;
    let revision = record.revision.clone().ok_or_else(|| {
        Error::Usage(format!(
            "the last deployment of `{name}` names no git revision to rebuild it from: name the old module (a .wasm or .wat file) instead"
        ))
    })?;
    if record.dirty {
        return Err(Error::Usage(format!(
            "the last deployment of `{name}` was built from files that differed from revision {revision}, so it cannot be rebuilt: name the old module (a .wasm or .wat file) instead"
        )));
    }
    let (bytes, _, _) = build_at(project, &revision)?;
    let sha256 = cargo_roda::validate::sha256_hex(&bytes);
    if sha256 != record.sha256 {
        return Err(Error::Usage(format!(
            "revision {revision} builds {sha256}, not the recorded {} (`cargo roda verify --rev` shows why): name the old module instead",
            record.sha256
        )));
    }
    Ok((record, bytes))
}
