//! The checks in `wire/` against a real roda-ledger server at ee2b042 (the
//! same ones `fidelity.rs` runs on the dev server), and the chosen
//! differences of `docs/differences.md` as the real server shows them.
//!
//! Ignored without that server, which CI cannot build. To run them, build
//! upstream roda-ledger at ee2b042 (`cargo build --release --features grpc
//! --bin roda-ledger`; its build needs `protoc`) and run
//! `RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test
//! upstream -- --ignored`. Each test starts the server on a free loopback
//! port with a data directory of its own.

mod head_checks;
mod wire;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use roda_rpc::proto::{self, TransactionStatus, ledger_client::LedgerClient};
use wire::{Wire, status, wait, withdrawal};

/// A real server process; killed when dropped.
struct Upstream {
    child: Child,
    config: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Upstream {
    fn start() -> Upstream {
        let dir = tempfile::tempdir().unwrap();
        // A free port: bound, read, released for the server to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("config.toml");
        let data = dir.path().join("data");
        std::fs::write(
            &config,
            format!(
                "[server]\nhost = \"127.0.0.1\"\nport = {port}\n\n[ledger]\nmax_accounts = 1000000\n\n[ledger.storage]\ndata_dir = \"{}\"\n",
                data.display()
            ),
        )
        .unwrap();
        let child = Upstream::spawn(&config);
        Upstream { child, config, port, _dir: dir }
    }

    fn spawn(config: &PathBuf) -> Child {
        let binary = std::env::var_os("RODA_EE2B042_SERVER")
            .expect("set RODA_EE2B042_SERVER to a roda-ledger server binary built at ee2b042");
        Command::new(binary).arg(config).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    /// Kills the process outright and starts it again on the same data.
    fn restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = Upstream::spawn(&self.config);
    }

    /// A client, once the server answers (it takes a while to start).
    async fn connect(&self) -> Wire {
        let url = format!("http://127.0.0.1:{}", self.port);
        for _ in 0..600 {
            if let Ok(mut client) = LedgerClient::connect(url.clone()).await
                && client.get_pipeline_index(proto::GetPipelineIndexRequest {}).await.is_ok()
            {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server at {url} never answered");
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn transaction_status_is_the_dev_servers() {
    let server = Upstream::start();
    runtime().block_on(async { wire::status_through_the_stages(&mut server.connect().await).await });
}

#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn the_commit_index_reads_0_after_a_registration() {
    let server = Upstream::start();
    runtime()
        .block_on(async { wire::the_commit_index_reads_0_after_a_registration(&mut server.connect().await).await });
}

/// Reflection answers with the ee2b042 service, as the dev server's does.
#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn reflection_lists_the_service() {
    let server = Upstream::start();
    runtime().block_on(async {
        server.connect().await;
        head_checks::reflection_lists_the_service(&format!("http://127.0.0.1:{}", server.port)).await
    });
}

#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn scenarios_run_on_the_scenarios_ids() {
    let server = Upstream::start();
    runtime().block_on(async {
        server.connect().await;
        wire::scenarios_run_on_the_scenarios_ids(&format!("http://127.0.0.1:{}", server.port)).await
    });
}

#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn messages_are_the_dev_servers() {
    let server = Upstream::start();
    runtime().block_on(async { wire::messages(&mut server.connect().await).await });
}

#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn unregister_checks_the_name_first() {
    let server = Upstream::start();
    runtime().block_on(async { wire::unregister_checks_the_name_first(&mut server.connect().await).await });
}

/// The chosen difference: the real server forgets a failure when it
/// restarts (the dev server keeps it: `fidelity.rs`).
#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn a_failure_is_forgotten_after_a_restart() {
    let mut server = Upstream::start();
    runtime().block_on(async {
        let mut client = server.connect().await;
        let failed = client.submit_and_wait(wait(withdrawal(1, 50), proto::WaitLevel::Snapshot)).await.unwrap();
        assert_eq!(failed.into_inner().fail_reason, 1);
        assert_eq!(status(&mut client, 1).await, (TransactionStatus::Error, 1));
    });
    server.restart();
    runtime().block_on(async {
        let mut client = server.connect().await;
        assert_eq!(status(&mut client, 1).await, (TransactionStatus::OnSnapshot, 0));
    });
}

/// A call of a name no function can have is a status-5 transaction, not a
/// refused request: as the dev server answers.
#[test]
#[ignore = "needs a roda-ledger server built at ee2b042: RODA_EE2B042_SERVER=/path/to/roda-ledger cargo test -p roda-rpc --test upstream -- --ignored"]
fn a_call_of_an_impossible_name_is_status_5() {
    let server = Upstream::start();
    runtime().block_on(async {
        let mut client = server.connect().await;
        let call = proto::submit_operation_request::Operation::Function(proto::Function {
            name: "fee-transfer".into(),
            params: vec![],
            user_ref: 0,
        });
        let answer = client.submit_and_wait(wait(call, proto::WaitLevel::Committed)).await.unwrap().into_inner();
        assert_eq!(answer.fail_reason, 5);
    });
}
