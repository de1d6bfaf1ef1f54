//! `cargo roda dev`.

use std::net::SocketAddr;
use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use cargo_roda::rpc::server::{self, DevConfig, DevService, ServerTls};
use ledger_core::{LedgerConfig, Limits};
use serde::Serialize;

use super::block_on;

/// Run a local ledger server (in memory, or durable with --data-dir).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cargo roda dev\n  cargo roda dev --listen 127.0.0.1:0 --data-dir .roda/data")]
pub struct Args {
    /// Address to listen on; port 0 picks a free one (printed on start).
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Keep functions and transactions here, in the seed's layout, and
    /// recover them on start.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Account ids are 0..N.
    #[arg(long, default_value_t = ledger_core::DEFAULT_MAX_ACCOUNTS)]
    pub max_accounts: u64,
    /// Fuel per call (a call that runs out fails with status 5).
    #[arg(long, default_value_t = ledger_core::DEFAULT_FUEL_PER_CALL)]
    pub fuel: u64,
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

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// Runs the command: prints the address on stderr and serves until Ctrl-C or SIGTERM.
pub fn exec(args: Args) -> Result<Stopped, Error> {
    let token = match &args.token_env {
        Some(var) => Some(
            std::env::var(var)
                .map_err(|_| Error::other(ExitCode::Error, format!("--token-env {var}: the variable is not set")))?,
        ),
        None => None,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls {
            cert: std::fs::read(cert).map_err(|e| Error::other(ExitCode::Error, format!("{}: {e}", cert.display())))?,
            key: std::fs::read(key).map_err(|e| Error::other(ExitCode::Error, format!("{}: {e}", key.display())))?,
        }),
        _ => None,
    };
    let config = DevConfig {
        ledger: LedgerConfig {
            max_accounts: args.max_accounts,
            limits: Limits { fuel_per_call: args.fuel, ..Limits::default() },
            ..LedgerConfig::default()
        },
        data_dir: args.data_dir.clone(),
        token: token.clone(),
    };
    let service = DevService::open(&config).map_err(|e| Error::other(ExitCode::Error, format!("cannot start: {e}")))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Error::other(ExitCode::Error, format!("cannot listen on {}: {e}", args.listen)))?;
        let address = listener.local_addr().map_err(|e| Error::other(ExitCode::Error, e.to_string()))?;
        let address = format!("{scheme}://{address}");
        eprintln!("cargo roda dev: listening on {address}");
        server::serve(service, listener, tls, token, shutdown_signal())
            .await
            .map_err(|e| Error::other(ExitCode::Error, format!("server error: {e}")))?;
        eprintln!("cargo roda dev: stopped");
        Ok(Stopped { address })
    })?
}
