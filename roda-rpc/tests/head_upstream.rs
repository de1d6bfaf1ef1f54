//! The checks in `head_checks/` against a real roda-ledger `roda-server`
//! built at e14b146 (the same ones `head_fidelity.rs` runs on the dev
//! server).
//!
//! Ignored without that server, which CI cannot build. To run them, build
//! upstream roda-ledger at e14b146 (`cargo build --release -p cluster --bin
//! roda-server`; its build needs `protoc`) and run
//! `RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test
//! head_upstream -- --ignored`. Each test starts a standalone server on a
//! free loopback port with a data directory of its own.

mod head_checks;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real standalone server process; killed when dropped.
struct Upstream {
    child: Child,
    url: String,
    config: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl Upstream {
    fn start() -> Upstream {
        let dir = tempfile::tempdir().unwrap();
        // A free port: bound, read, released for the server to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nhost = \"127.0.0.1\"\nport = {port}\n\n[ledger.storage]\ndata_dir = \"{}\"\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = spawn(&config, dir.path());
        let upstream = Upstream { child, url: format!("http://127.0.0.1:{port}"), config, dir };
        upstream.wait_until_it_answers();
        upstream
    }

    /// Stops the server cleanly (SIGTERM) and starts it again on its data
    /// directory.
    fn restart(&mut self) {
        let stopped = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(stopped.success());
        for _ in 0..300 {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(&self.config, self.dir.path());
        self.wait_until_it_answers();
    }

    /// It takes seconds to start.
    fn wait_until_it_answers(&self) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for _ in 0..600 {
                if let Ok(mut client) = roda_rpc::head::ledger_client::LedgerClient::connect(self.url.clone()).await
                    && client.get_pipeline_index(roda_rpc::head::GetPipelineIndexRequest {}).await.is_ok()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the server at {} never answered", self.url);
        });
    }

    fn check<F: Future<Output = ()>>(&self, check: impl FnOnce(String) -> F) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(check(self.url.clone()));
    }
}

fn spawn(config: &std::path::Path, dir: &std::path::Path) -> Child {
    let binary =
        std::env::var_os("RODA_HEAD_SERVER").expect("set RODA_HEAD_SERVER to a roda-server binary built at e14b146");
    Command::new(binary).arg(config).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs a roda-server built at e14b146: RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test head_upstream -- --ignored"]
fn the_wire_is_found() {
    Upstream::start().check(|url| async move { head_checks::the_wire_is_found(&url).await });
}

#[test]
#[ignore = "needs a roda-server built at e14b146: RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test head_upstream -- --ignored"]
fn accounts_kv_flags_and_links() {
    Upstream::start().check(|url| async move { head_checks::accounts_kv_flags_and_links(&url).await });
}

#[test]
#[ignore = "needs a roda-server built at e14b146: RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test head_upstream -- --ignored"]
fn registration_is_a_transaction() {
    Upstream::start().check(|url| async move {
        assert_eq!(head_checks::registration_is_a_transaction(&url).await, 1);
    });
}

#[test]
#[ignore = "needs a roda-server built at e14b146: RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test head_upstream -- --ignored"]
fn messages_and_statuses() {
    Upstream::start().check(|url| async move { head_checks::messages_and_statuses(&url).await });
}

macro_rules! upstream_checks {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        #[ignore = "needs a roda-server built at e14b146: RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test head_upstream -- --ignored"]
        fn $name() {
            Upstream::start().check(|url| async move { head_checks::$name(&url).await });
        }
    )*};
}

/// Checks around a clean restart: `$before` on the new server, `$after` once
/// it started again on its data directory.
macro_rules! upstream_restart_checks {
    ($($name:ident: $before:ident, $after:ident;)*) => {$(
        #[test]
        #[ignore = "needs a roda-server built at e14b146: RODA_HEAD_SERVER=/path/to/roda-server cargo test -p roda-rpc --test head_upstream -- --ignored"]
        fn $name() {
            let mut upstream = Upstream::start();
            upstream.check(|url| async move { head_checks::$before(&url).await });
            upstream.restart();
            upstream.check(|url| async move { head_checks::$after(&url).await });
        }
    )*};
}

head_checks::every_check!(upstream_checks, upstream_restart_checks);
