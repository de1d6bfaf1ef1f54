//! deploy / list / unregister / call / balance against a real `cargo roda
//! dev` process on loopback, and the server's own behaviour.

mod support;

use std::path::Path;

use ledger_core::{Operation, Status};
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use support::dev::{DevServer, against};
use support::roda;

fn endpoint(url: &str) -> Endpoint {
    Endpoint { retries: 2, ..Endpoint::new(url) }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn deposit(url: &str, account: u64, amount: u64, user_ref: u64) -> Status {
    runtime().block_on(async {
        let client = Client::connect(&endpoint(url)).await.unwrap();
        client.submit(&Operation::Deposit { account, amount, user_ref }, WaitLevel::Committed).await.unwrap().status
    })
}

/// A WAT project `fee_transfer` in `dir`, built.
fn project(dir: &Path) -> std::path::PathBuf {
    assert_eq!(roda(dir, &["new", "fee_transfer", "--lang", "wat", "--abi", "v1"]).code, 0);
    dir.join("fee_transfer")
}

#[test]
fn new_build_deploy_call_list_unregister() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let server = DevServer::start(&[]);
    let url = server.url.clone();

    let deployed = against(&project, &url, &["deploy", "--output", "json"]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    let deployed = deployed.json();
    assert_eq!(deployed["version"], 1);
    let wasm = std::fs::read(project.join("build/function.wasm")).unwrap();
    assert_eq!(deployed["crc32c"], format!("{:08x}", ledger_core::crc32c(&wasm)));

    let call = against(&project, &url, &["call", "fee_transfer", "101", "202", "999", "10000", "50"]);
    assert_eq!(call.code, 7, "a transaction that failed: {call:?}");
    assert!(call.stdout.contains("INSUFFICIENT_FUNDS (1)"), "{call:?}");
    assert_eq!(deposit(&url, 101, 20_000, 0), Status::NONE);
    let call = against(
        &project,
        &url,
        &["call", "fee_transfer", "101", "202", "999", "10000", "50", "--show-entries", "--output", "json"],
    );
    let json = call.json();
    assert_eq!(json["status"], "NONE");
    assert_eq!(
        json["entries"][0],
        serde_json::json!({ "account": 101, "amount": 10050, "kind": "credit", "balance": 9950 })
    );
    assert_eq!(json["entries"].as_array().unwrap().len(), 3);
    let balance = against(&project, &url, &["balance", "101", "202", "999", "--output", "json"]).json();
    assert_eq!(
        balance["balances"],
        serde_json::json!([
            { "account": 101, "balance": 9950 }, { "account": 202, "balance": 10000 }, { "account": 999, "balance": 50 }
        ])
    );

    // user_ref dedup over the wire.
    let first = against(&project, &url, &["call", "fee_transfer", "101", "202", "999", "1", "0", "--user-ref", "77"]);
    assert!(first.stdout.contains(": NONE"), "{first:?}");
    let again = against(&project, &url, &["call", "fee_transfer", "101", "202", "999", "1", "0", "--user-ref", "77"]);
    assert!(again.stdout.contains("DUPLICATE (7)"), "{again:?}");

    let list = against(&project, &url, &["list", "--output", "json"]).json();
    assert_eq!(list["functions"][0]["name"], "fee_transfer");
    assert_eq!(list["functions"][0]["version"], 1);

    let taken = against(&project, &url, &["deploy"]);
    assert_eq!(taken.code, 6, "{taken:?}");
    assert!(taken.stderr.contains("AlreadyExists") && taken.stderr.contains("--override"), "{taken:?}");
    let overridden = against(&project, &url, &["deploy", "--override", "--output", "json"]).json();
    assert_eq!(overridden["version"], 2, "override bumps the version");

    let unregistered = against(&project, &url, &["unregister", "fee_transfer", "--output", "json"]).json();
    assert_eq!(unregistered["version"], 3);
    let call = against(&project, &url, &["call", "fee_transfer", "101"]);
    assert!(call.stdout.contains("INVALID_OPERATION (5)"), "{call:?}");
    let missing = against(&project, &url, &["unregister", "fee_transfer"]);
    assert_eq!(missing.code, 6);
    assert!(missing.stderr.contains("NotFound: function `fee_transfer` is not registered"), "{missing:?}");

    // Deploying again is refused: on a real server (either commit) it
    // breaks the next restart. --force sends it anyway, saying why not.
    let refused = against(&project, &url, &["deploy"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    for says in ["has been unregistered since", "ee2b042 and at e14b146", "--override", "--force"] {
        assert!(refused.stderr.contains(says), "{says}: {refused:?}");
    }
    let redeployed = against(&project, &url, &["deploy", "--force", "--output", "json"]);
    assert_eq!(redeployed.code, 0, "{redeployed:?}");
    let json = redeployed.json();
    assert_eq!(json["version"], 4, "the counter never restarts");
    assert!(
        json["warnings"][0].as_str().unwrap().starts_with("sent anyway (--force): `fee_transfer` was deployed"),
        "{json:#}"
    );
    assert_eq!(server.stop().code(), Some(0), "stops cleanly on SIGTERM");
}

#[test]
fn deploy_refuses_invalid_and_oversize_modules_locally() {
    let dir = tempfile::tempdir().unwrap();
    let server = DevServer::start(&[]);
    let hostile = support::repo_root().join("tests/hostile/env_abort.wat");
    let run = against(dir.path(), &server.url, &["deploy", hostile.to_str().unwrap(), "--name", "f"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("env-abort") && run.stderr.contains("not deployed"), "{run:?}");
    let padding = "\\00".repeat(ledger_core::abi::MAX_BINARY_SIZE);
    let big = wat::parse_str(format!(
        r#"(module (memory 65) (data (i32.const 0) "{padding}") (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#
    ))
    .unwrap();
    std::fs::write(dir.path().join("big.wasm"), big).unwrap();
    let run = against(dir.path(), &server.url, &["deploy", "big.wasm", "--name", "f"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("too-large"), "{run:?}");
    // Under 4 MiB on its own, but name and framing push the request over.
    let module = |data: usize| {
        wat::parse_str(format!(
            r#"(module (memory 65) (data (i32.const 0) "{}") (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
            "\\00".repeat(data)
        ))
        .unwrap()
    };
    // Measured with a segment as large, so the size fields take as many bytes.
    let overhead = module(1 << 21).len() - (1 << 21);
    let edge = module(ledger_core::abi::MAX_BINARY_SIZE - overhead - 3);
    assert_eq!(edge.len(), ledger_core::abi::MAX_BINARY_SIZE - 3);
    assert!(ledger_core::abi::validate(&edge).is_valid());
    std::fs::write(dir.path().join("edge.wasm"), &edge).unwrap();
    let run = against(dir.path(), &server.url, &["deploy", "edge.wasm", "--name", "f"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("over the server's 4194304 byte message limit"), "{run:?}");
    let list = against(dir.path(), &server.url, &["list", "--output", "json"]).json();
    assert_eq!(list["functions"], serde_json::json!([]), "nothing was sent");
}

#[test]
fn client_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let run = against(dir.path(), &url, &["list", "--retries", "0", "--output", "json"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.json()["error"]["message"].as_str().unwrap().contains("cargo roda dev"));
    assert_eq!(run.json()["error"]["kind"], "rpc", "an RPC failure is typed, not a bare `error`");
    for (url, says) in [
        ("127.0.0.1:50051", "`127.0.0.1:50051` has no scheme: write http://127.0.0.1:50051"),
        ("htp://127.0.0.1:50051", "scheme `htp` is not one a server speaks: use http://127.0.0.1:50051"),
        ("ftp://127.0.0.1:50051", "scheme `ftp` is not one a server speaks"),
    ] {
        let run = against(dir.path(), url, &["list"]);
        assert_eq!(run.code, 2, "a usage error: {run:?}");
        assert!(run.stderr.contains(says), "{run:?}");
    }
    let message = run_message(&against(dir.path(), &url, &["list", "--retries", "0"]));
    assert_eq!(message.matches("cannot connect").count(), 1, "said once: {message}");
    assert!(message.contains("nothing listens there (connection refused)"), "{message}");
    let run = roda(dir.path(), &["list", "--profile", "staging"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no profile `staging`"), "{run:?}");
    let run = roda(dir.path(), &["call", "f", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("at most 8"), "{run:?}");
}

#[test]
fn a_server_that_starts_late_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let client = support::command(dir.path(), &["list", "--retries", "10", "--output", "json"])
        .env("RODA_SERVER", &url)
        .spawn_output();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let listen = format!("127.0.0.1:{port}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-roda"))
        .args(["roda", "dev", "--listen", &listen])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let run = client.join().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn profiles_from_roda_toml() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let server = DevServer::start(&[]);
    let roda_toml = std::fs::read_to_string(project.join("Roda.toml")).unwrap();
    std::fs::write(project.join("Roda.toml"), format!("{roda_toml}\n[profiles.test]\nserver = \"{}\"\n", server.url))
        .unwrap();
    let run = roda(&project, &["deploy", "--profile", "test"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = support::finish(
        support::command(&project, &["list", "--output", "json"]).env("RODA_PROFILE", "test").output().unwrap(),
    );
    assert_eq!(run.json()["functions"][0]["name"], "fee_transfer", "{run:?}");
}

#[test]
fn the_token_is_sent_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s3cr3t-token-value";
    let server = DevServer::try_start(&["--token-env", "DEV_TOKEN"], &[("DEV_TOKEN", secret)]).unwrap();
    let run = against(dir.path(), &server.url, &["list"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("Unauthenticated") && run.stderr.contains("RODA_TOKEN"), "{run:?}");
    let run = support::finish(
        support::command(dir.path(), &["list", "--output", "json"])
            .env("RODA_SERVER", &server.url)
            .env("RODA_TOKEN", secret)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::write(dir.path().join("token"), format!("{secret}\n")).unwrap();
    let run = against(dir.path(), &server.url, &["list", "--token-file", "token"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = support::finish(
        support::command(dir.path(), &["list"])
            .env("RODA_SERVER", &server.url)
            .env("RODA_TOKEN", "wrong")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 6);
    assert!(!run.stdout.contains("wrong") && !run.stderr.contains("Bearer wrong"), "{run:?}");
}

/// A server named by a Roda.toml in a parent directory gets the token only
/// with a note naming that file.
#[test]
fn a_token_for_a_server_from_a_parent_roda_toml_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let server = DevServer::try_start(&["--token-env", "DEV_TOKEN"], &[("DEV_TOKEN", "t0ken")]).unwrap();
    let roda_toml = std::fs::read_to_string(project.join("Roda.toml")).unwrap();
    let roda_toml = roda_toml.replace("http://127.0.0.1:50051", &server.url);
    assert!(roda_toml.contains(&server.url), "the template has a `local` profile: {roda_toml}");
    std::fs::write(project.join("Roda.toml"), roda_toml).unwrap();
    let nested = project.join("src/deeper");
    std::fs::create_dir_all(&nested).unwrap();
    let run = support::finish(
        support::command(&nested, &["list", "--output", "json"]).env("RODA_TOKEN", "t0ken").output().unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let file = project.join("Roda.toml");
    assert!(
        run.stderr.contains(&format!("sending the token to {}", server.url))
            && run.stderr.contains("profile `local`")
            && run.stderr.contains(file.to_str().unwrap()),
        "{run:?}"
    );
    assert!(!run.stderr.contains("t0ken"), "{run:?}");
}

#[test]
fn warnings_for_a_token_in_plain_text_and_an_open_server() {
    let dir = tempfile::tempdir().unwrap();
    let run = support::finish(
        support::command(dir.path(), &["list", "--server", "http://ledger.invalid:50051", "--retries", "0"])
            .env("RODA_TOKEN", "t0ken")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stderr.contains("warning: the token goes in plain text to http://ledger.invalid:50051"), "{run:?}");
    let run = support::finish(
        support::command(dir.path(), &["list", "--server", "http://127.0.0.1:9", "--retries", "0"])
            .env("RODA_TOKEN", "t0ken")
            .output()
            .unwrap(),
    );
    assert!(!run.stderr.contains("plain text"), "loopback is fine: {run:?}");

    let server = DevServer::start(&["--listen", "0.0.0.0:0"]);
    let warning = server.wait_for_stderr("warning:");
    assert!(warning.contains("beyond loopback without a token"), "{warning}");
    let quiet =
        DevServer::try_start(&["--listen", "0.0.0.0:0", "--token-env", "DEV_TOKEN"], &[("DEV_TOKEN", "t")]).unwrap();
    let (status, stderr) = quiet.stop_with_stderr();
    assert_eq!(status.code(), Some(0));
    assert!(!stderr.iter().any(|line| line.contains("warning")), "a token, no warning: {stderr:?}");
}

/// An empty token is refused on both sides instead of authenticating as
/// `Bearer ` against a server configured the same way.
#[test]
fn an_empty_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = DevServer::start(&[]);
    let run = against(dir.path(), &server.url, &["list", "--token-file", "/dev/null", "--output", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    assert_eq!(json["error"]["kind"], "token", "{json:#}");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains("--token-file /dev/null") && message.contains("empty"), "{message}");
    let run = support::finish(
        support::command(dir.path(), &["list"]).env("RODA_SERVER", &server.url).env("RODA_TOKEN", "").output().unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("RODA_TOKEN") && run.stderr.contains("empty"), "{run:?}");
    let err = DevServer::try_start(&["--token-env", "DEV_TOKEN"], &[("DEV_TOKEN", " \n")]).err().expect("refuses");
    assert!(err.contains("--token-env DEV_TOKEN") && err.contains("empty"), "{err}");
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    let server =
        DevServer::start(&["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()]);
    let port = server.url.rsplit(':').next().unwrap();
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let url = format!("https://localhost:{port}");
    let run = against(dir.path(), &url, &["list", "--ca-cert", "cert.pem", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = against(dir.path(), &url, &["list", "--retries", "0"]);
    assert_eq!(run.code, 6, "an unknown certificate is refused: {run:?}");
}

trait SpawnOutput {
    fn spawn_output(self) -> std::thread::JoinHandle<support::Run>;
}

impl SpawnOutput for &mut std::process::Command {
    fn spawn_output(self) -> std::thread::JoinHandle<support::Run> {
        let child = self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        std::thread::spawn(move || support::finish(child.wait_with_output().unwrap()))
    }
}

/// SIGTERM the moment the server says it listens: the handler is in place
/// before that line, so it stops cleanly (it used to be killed outright
/// when the signal beat the handler, seen on a loaded 2-core machine).
#[test]
fn sigterm_right_after_listening_stops_cleanly() {
    for _ in 0..5 {
        let server = DevServer::start(&[]);
        assert_eq!(server.stop().code(), Some(0), "stops cleanly on SIGTERM");
    }
}

/// SIGTERM to the real process while a function loops: the call, seen
/// running on the server's stderr (no sleep), is interrupted and answered
/// with status 5, and the server then stops by itself with exit code 0.
/// With 20 billion fuel the call would otherwise run for seconds to
/// minutes, and the client waits as long as that takes.
#[test]
fn sigterm_while_a_function_runs_stops_cleanly() {
    let server = DevServer::start(&["--fuel", "20000000000"]);
    let url = server.url.clone();
    let spin = wat::parse_str(
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (loop br 0) i32.const 0))"#,
    )
    .unwrap();
    let patient = Endpoint { timeout: std::time::Duration::from_secs(3600), ..endpoint(&url) };
    runtime().block_on(async {
        let client = Client::connect(&patient).await.unwrap();
        client.register("spin", &spin, false).await.unwrap();
    });
    let call = std::thread::spawn(move || {
        runtime().block_on(async {
            let client = Client::connect(&patient).await.unwrap();
            let op = Operation::Function { name: "spin".into(), params: vec![], user_ref: 0 };
            client.submit(&op, WaitLevel::Committed).await
        })
    });
    let line = server.wait_for_stderr("calling `spin`");
    assert!(line.contains("transaction 1"), "{line}");
    assert_eq!(server.stop().code(), Some(0), "the server stops cleanly");
    let result = call.join().unwrap().expect("the running call was answered before the server stopped");
    assert_eq!(result.status, Status::INVALID_OPERATION);
}

/// A module of the other wire's ABI, and one whose `register()` or `start`
/// never finishes, are refused before they are sent; `--force` sends them.
#[test]
fn deploy_refuses_what_would_hurt_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let kv = write(
        "kv.wat",
        r#"(module (import "ledger" "kv_set" (func (param i32 i32 i32 i32 i64)))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    );
    let v1_server = DevServer::start(&["--abi", "v1"]);
    let refused = against(dir.path(), &v1_server.url, &["deploy", &kv, "--name", "kv"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(
        refused.stderr.contains("speaks the ee2b042 wire (ABI v1), and this module, built for ABI v2, does not fit it"),
        "{refused:?}"
    );
    let forced = against(dir.path(), &v1_server.url, &["deploy", &kv, "--name", "kv", "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert!(forced.stderr.contains("warning: sent anyway (--force)"), "{forced:?}");

    let looping_register = write(
        "loop.wat",
        r#"(module (func (export "register") (loop br 0))
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#,
    );
    let v2_server = DevServer::start(&["--abi", "v2"]);
    let refused = against(dir.path(), &v2_server.url, &["deploy", &looping_register, "--name", "loopreg"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(
        refused.stderr.contains("`register()` ran out of fuel") && refused.stderr.contains("accepts no write again"),
        "{refused:?}"
    );
    let list = against(dir.path(), &v2_server.url, &["list", "--output", "json"]).json();
    assert_eq!(list["functions"].as_array().unwrap().len(), 0, "nothing was sent: {list}");
}

/// The error line of a failed run.
fn run_message(run: &support::Run) -> String {
    run.stderr.lines().find(|line| line.starts_with("error: ")).unwrap_or_default().to_owned()
}
