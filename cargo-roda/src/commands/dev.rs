//! `cargo roda dev`.

use std::net::SocketAddr;
use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use ledger_core::{LedgerConfig, Limits};
use roda_rpc::dev::{DevConfig, DevEvent, EventHook, ServerTls};
use serde::Serialize;

use super::token;

/// Run a local ledger server (in memory, or durable with --data-dir).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda dev\n  cargo roda dev --watch\n  cargo roda dev --listen 127.0.0.1:0 --data-dir .roda/data\n  cargo roda dev --pipeline-delay 5\n  cargo roda dev --fork http://ledger.internal:50051@1200 --functions build/functions\n\nWhere it answers differently from a real server, and why: docs/differences.md in the repository."
)]
pub struct Args {
    #[command(flatten)]
    pub abi: super::AbiArgs,
    /// Address to listen on; port 0 picks a free one (printed on start).
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Keep functions and transactions here, in the seed's layout, and
    /// recover them on start.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Account ids are 0..N (ABI v1; a v2 ledger has no maximum).
    #[arg(long, default_value_t = ledger_core::DEFAULT_MAX_ACCOUNTS)]
    pub max_accounts: u64,
    /// How many of the latest transactions GetTransaction can still show;
    /// older ones are "transaction not found".
    #[arg(long, value_name = "N", default_value_t = ledger_core::DEFAULT_MAX_HISTORY)]
    pub history: usize,
    /// How many transactions after it a user_ref is remembered for: a repeat
    /// within the window is DUPLICATE, a later one is new (upstream keeps the
    /// user_refs of one to two WAL segments).
    #[arg(long, value_name = "N", default_value_t = ledger_core::DEFAULT_DEDUP_WINDOW)]
    pub dedup_window: u64,
    #[command(flatten)]
    pub limits: super::LimitArgs,
    /// Serve TLS with this certificate (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require `authorization: Bearer <token>` with the token in this
    /// environment variable.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Lag like a server's pipeline: SubmitOperation answers at once, the
    /// operation is computed MS later, committed 2*MS and on the snapshot
    /// 3*MS later, and balances and transactions are read from the snapshot.
    /// Without it every stage is done before the answer. ABI v1 only.
    #[arg(long, value_name = "MS")]
    pub pipeline_delay: Option<u64>,
    /// List functions in a new order every time, as a server's order is
    /// arbitrary (sorted by name without it).
    #[arg(long)]
    pub shuffle_functions: bool,
    /// ABI v2 only: answer as a cluster's follower, refusing every write
    /// with the server's FAILED_PRECONDITION, to test how clients find the
    /// leader.
    #[arg(long)]
    pub follower: bool,
    /// ABI v2: serve a fork of the live ledger at URL, as it was at its
    /// transaction TX (default: its last), rebuilt from its log: balances,
    /// accounts, flags, links, KV, constants and functions. The log holds no
    /// binary: inside a project its build is given, others with --wasm or
    /// --functions; a function without one is listed and its calls fail with
    /// status 5. In memory.
    #[arg(long, value_name = "URL[@TX]", conflicts_with_all = ["data_dir", "pipeline_delay"])]
    pub fork: Option<String>,
    /// A module the fork may run, when its CRC32C is a registration's: a
    /// `.wasm` binary, or a `.wat` file as `deploy` sends it (repeatable).
    #[arg(long = "wasm", value_name = "FILE", requires = "fork")]
    pub wasm: Vec<PathBuf>,
    /// Every `.wasm` and `.wat` file in DIR is a module the fork may run.
    #[arg(long, value_name = "DIR", requires = "fork")]
    pub functions: Option<PathBuf>,
    /// In a project: build, validate and register its function, then again
    /// (as an override) each time its sources change, saying what changed
    /// (size, CRC32C, its scenarios' fuel). A build that fails, or a module
    /// that fails validation, leaves the last good version registered.
    #[arg(long, conflicts_with = "fork")]
    pub watch: bool,
}

/// The server stopped cleanly.
#[derive(Debug, Serialize)]
pub struct Stopped {
    address: String,
}

impl Outcome for Stopped {
    fn command(&self) -> &'static str {
        "dev"
    }

    fn human(&self) -> String {
        format!("stopped {}\n", self.address)
    }
}

/// SIGINT and SIGTERM, handled from the moment this returns: a signal
/// that arrives as soon as the server says it listens stops it cleanly
/// instead of killing it.
struct StopSignals {
    runtime: tokio::runtime::Runtime,
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<StopSignals, Error> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::io("cannot start the async runtime"))?;
        let _entered = runtime.enter();
        let listen = |kind| signal(kind).map_err(Error::io("cannot handle SIGINT and SIGTERM"));
        Ok(StopSignals {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
            runtime,
        })
    }

    /// Blocks until one of them arrives.
    fn wait(self) {
        let StopSignals { runtime, mut interrupt, mut terminate } = self;
        runtime.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        });
    }
}

/// Runs the command: prints the address on stderr and serves until Ctrl-C
/// or SIGTERM, which interrupts a running call (answered with status 5).
/// It serves the ABI `--abi` names, else the one of the project it runs in,
/// else v1: ee2b042's wire for v1, HEAD's (e14b146) for v2.
pub fn exec(args: Args) -> Result<Stopped, Error> {
    let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
    // Set up before the first build, so that no change is missed.
    let watcher = match (args.watch, &project) {
        (false, _) => None,
        (true, Some(project)) => Some(cargo_roda::watch::Watcher::new(&project.root)?),
        (true, None) => {
            return Err(Error::Usage(
                "--watch rebuilds a project's function: run it in a project (a directory with a Roda.toml)".into(),
            ));
        }
    };
    let abi = match &args.fork {
        Some(_) if args.abi.abi == Some(cargo_roda::project::Abi::V1) => {
            return Err(Error::Usage(
                "--fork serves a fork of a HEAD (e14b146) ledger, on ABI v2: leave --abi v1 out".into(),
            ));
        }
        Some(_) => cargo_roda::project::Abi::V2,
        None => args.abi.resolve(project.as_ref(), None).abi,
    };
    let wire = match abi {
        cargo_roda::project::Abi::V1 => roda_rpc::Wire::Ee2b042,
        cargo_roda::project::Abi::V2 => roda_rpc::Wire::Head,
    };
    let token = match &args.token_env {
        Some(var) => {
            let text = std::env::var(var).map_err(|_| Error::TokenMissing { origin: format!("--token-env {var}") })?;
            Some(token(&text, || format!("--token-env {var}"))?)
        }
        None => None,
    };
    let read = |path: &PathBuf| std::fs::read(path).map_err(Error::io(format!("cannot read {}", path.display())));
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls { cert: read(cert)?, key: read(key)? }),
        _ => None,
    };
    let config = DevConfig {
        listen: args.listen,
        ledger: LedgerConfig {
            max_accounts: args.max_accounts,
            limits: args.limits.limits(),
            max_history: args.history,
            dedup_window: args.dedup_window,
            ..LedgerConfig::default()
        },
        data_dir: args.data_dir,
        tls,
        token,
        pipeline_delay: args.pipeline_delay.map(std::time::Duration::from_millis),
        shuffle_functions: args.shuffle_functions,
        on_event: Some(EventHook(std::sync::Arc::new(print_event))),
        wire,
        follower: args.follower,
    };
    let open = config.open_beyond_loopback();
    let signals = StopSignals::install()?;
    let (server, forked) = match &args.fork {
        Some(source) => {
            let binaries = super::module_files(project.as_ref(), &args.wasm, args.functions.as_ref())?;
            let forked = super::fork("dev", source, &binaries, config.ledger.clone())?;
            let (at, unmatched) = (forked.at, forked.unmatched);
            (roda_rpc::dev::start_fork(config, forked.ledger)?, Some((source, at, unmatched)))
        }
        None => (roda_rpc::dev::start(config)?, None),
    };
    let address = server.url();
    eprintln!("cargo roda dev: listening on {address}");
    eprintln!("cargo roda dev: ABI {}, serving the {wire} wire", abi.id());
    if let Some((source, at, unmatched)) = forked {
        eprintln!("cargo roda dev: a fork of {source} at transaction {at}");
        for function in unmatched {
            eprintln!(
                "warning: no binary given for `{}` version {} (CRC32C {:08x}): it is listed, and its calls fail with status 5; give it with --wasm or --functions",
                function.name, function.version, function.crc32c
            );
        }
    }
    if open {
        eprintln!(
            "warning: listening beyond loopback without a token: anyone who reaches the port can register functions and move balances; pass --token-env"
        );
    }
    if let (Some(watcher), Some(project)) = (watcher, project) {
        let (url, limits) = (address.clone(), args.limits.limits());
        std::thread::spawn(move || watch(&project, &watcher, &url, limits));
    }
    if let Some(tail) = server.recovery().dropped_tail {
        eprintln!("warning: {tail}");
    }
    for (from, to) in &server.recovery().renamed {
        eprintln!(
            "cargo roda dev: renamed {} to {} (names that differ only in case get files that differ)",
            from.display(),
            to.display()
        );
    }
    signals.wait();
    server.shutdown()?;
    eprintln!("cargo roda dev: stopped");
    Ok(Stopped { address })
}

/// What the last registration sent, to say what the next one changes.
struct Registered {
    version: u32,
    size: usize,
    /// The scenarios' fuel, when the project has scenarios.
    fuel: Option<u64>,
}

/// Registers the project's function on the server at `url`, then again at
/// each change of its sources, until the watcher stops.
fn watch(project: &cargo_roda::project::Project, watcher: &cargo_roda::watch::Watcher, url: &str, limits: Limits) {
    let mut last: Option<Registered> = None;
    loop {
        match register(project, url, limits, last.as_ref()) {
            Ok((registered, said)) => {
                eprintln!("cargo roda dev: {said}");
                last = Some(registered);
            }
            Err(error) => {
                let kept = match &last {
                    Some(last) => format!("v{} stays registered", last.version),
                    None => "nothing is registered yet".to_owned(),
                };
                eprintln!(
                    "cargo roda dev: error: {error}
cargo roda dev: {kept}; watching for changes"
                );
            }
        }
        match watcher.next_change() {
            Ok(changed) => eprintln!("cargo roda dev: {}", cargo_roda::watch::describe(&changed)),
            Err(error) => {
                eprintln!("cargo roda dev: {error}; no longer watching");
                return;
            }
        }
    }
}

/// Builds, validates and registers (overriding) the project's function,
/// running its scenarios for their fuel; what it registered, and a line
/// saying what changed since `last`.
fn register(
    project: &cargo_roda::project::Project,
    url: &str,
    limits: Limits,
    last: Option<&Registered>,
) -> Result<(Registered, String), Error> {
    let project_args = super::ProjectArgs { project: Some(project.root.clone()), name: None };
    let refusal = "the module fails validation";
    let module = super::checked_module(&project_args, None, false, refusal, &super::AbiArgs::default())?;
    let runner = roda_test::Runner::new(module.bytes.clone(), module.name.clone())
        .with_limits(limits)
        .with_profile(module.abi.profile());
    // No scenarios is said by saying nothing; a file that does not parse
    // is said.
    let (scenarios, unreadable) =
        match roda_test::ScenarioFile::from_dir_with(project.root.join("tests"), &runner.interfaces()) {
            Ok(files) => {
                (Some(files.iter().flat_map(|file| runner.run_file(file).scenarios).collect::<Vec<_>>()), None)
            }
            Err(roda_test::ScenarioError::NoFiles { .. } | roda_test::ScenarioError::ListDir { .. }) => (None, None),
            Err(error) => (None, Some(error)),
        };
    let endpoint = roda_rpc::client::Endpoint::new(url);
    let info = super::block_on(async {
        roda_rpc::client::Client::connect(&endpoint).await?.register(&module.name, &module.bytes, true).await
    })??;
    let registered = Registered {
        version: info.version,
        size: module.bytes.len(),
        fuel: scenarios.as_ref().map(|s| s.iter().map(|r| r.fuel()).sum()),
    };
    let change = |now: i128, before: Option<i128>| match before {
        Some(before) if before != now => format!(" ({:+})", now - before),
        _ => String::new(),
    };
    let mut said = format!(
        "registered `{}` v{} (crc32c {:08x}, {} bytes{})",
        module.name,
        info.version,
        info.crc32c,
        registered.size,
        change(registered.size as i128, last.map(|l| l.size as i128))
    );
    if let (Some(scenarios), Some(fuel)) = (&scenarios, registered.fuel) {
        let failed = scenarios.iter().filter(|s| !s.passed()).count();
        said.push_str(&format!(
            "; scenarios: {} passed, {failed} failed, {fuel} fuel{}",
            scenarios.len() - failed,
            change(i128::from(fuel), last.and_then(|l| l.fuel).map(i128::from))
        ));
        for failure in scenarios.iter().filter(|s| !s.passed()) {
            said.push_str(&format!("\n{failure}"));
        }
    }
    if let Some(error) = unreadable {
        said.push_str(&format!("; scenarios not run: {error}"));
    }
    Ok((registered, said))
}

fn print_event(event: &DevEvent) {
    if let DevEvent::CallStarted { name, tx_id } = event {
        eprintln!("cargo roda dev: calling `{name}` (transaction {tx_id})");
    }
}
