//! The dev server in-process on 127.0.0.1:0, through the client: codes and
//! messages as a server's, tokens, TLS, and a shutdown while a call runs.

use std::path::PathBuf;
use std::time::Duration;

use ledger_core::{Operation, Status};
use roda_rpc::Code;
use roda_rpc::client::{Client, ConnectFailure, Endpoint, RpcError, WaitLevel};
use roda_rpc::dev::{self, DevConfig, ServerTls};
use roda_rpc::token::Token;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn endpoint(url: String) -> Endpoint {
    Endpoint { retries: 2, ..Endpoint::new(url) }
}

#[test]
fn the_server_answers_with_the_servers_codes_and_messages() {
    let server = dev::start(DevConfig::default()).unwrap();
    let wasm = wat::parse_file(repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    runtime().block_on(async {
        let client = Client::connect(&endpoint(server.url())).await.unwrap();
        let err = client.register("fee-transfer", &wasm, false).await.unwrap_err();
        assert_eq!(err.code(), Some(Code::InvalidArgument));
        assert!(
            err.to_string()
                .contains("function name `fee-transfer` must contain only ASCII alphanumerics and underscore"),
            "{err}"
        );
        let err = client.register("f", b"junk", false).await.unwrap_err();
        assert!(err.to_string().contains("failed to parse WebAssembly module"), "{err}");
        // Over 4 MiB: refused by the gRPC layer, as on a server.
        let big = vec![0u8; ledger_core::abi::MAX_BINARY_SIZE + 1];
        let err = client.register("f", &big, false).await.unwrap_err();
        assert_eq!(err.code(), Some(Code::OutOfRange), "{err}");
        // A module with a foreign import registers (the server does not check
        // imports) and its calls fail with 5.
        let foreign = wat::parse_file(repo_root().join("tests/hostile/wasi_import.wat")).unwrap();
        let registered = client.register("foreign", &foreign, false).await.unwrap();
        assert_eq!((registered.version, registered.crc32c), (1, ledger_core::crc32c(&foreign)));
        let op = Operation::Function { name: "foreign".into(), params: vec![], user_ref: 0 };
        assert_eq!(client.submit(&op, WaitLevel::Computed).await.unwrap().status, Status::INVALID_OPERATION);
        assert!(client.entries(999).await.unwrap_err().to_string().contains("NotFound"));
    });
    server.shutdown().unwrap();
}

#[test]
fn results_are_ledger_core_types() {
    let server = dev::start(DevConfig::default()).unwrap();
    let wasm = wat::parse_file(repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    runtime().block_on(async {
        let client = Client::connect(&endpoint(server.url())).await.unwrap();
        let registered = client.register("fee", &wasm, false).await.unwrap();
        assert_eq!(client.list().await.unwrap(), vec![registered]);
        client
            .submit(&Operation::Deposit { account: 101, amount: 20_000, user_ref: 0 }, WaitLevel::Committed)
            .await
            .unwrap();
        let call = Operation::Function { name: "fee".into(), params: vec![101, 202, 999, 10_000, 50], user_ref: 0 };
        let result = client.submit(&call, WaitLevel::Committed).await.unwrap();
        assert_eq!(result.status, Status::NONE);
        let entries = client.entries(result.tx_id).await.unwrap();
        assert_eq!(
            entries[0],
            ledger_core::Entry {
                account_id: 101,
                amount: 10_050,
                kind: ledger_core::EntryKind::Credit,
                computed_balance: 9_950
            }
        );
        assert_eq!(client.balances(&[101, 202, 999]).await.unwrap(), vec![9_950, 10_000, 50]);
    });
}

#[test]
fn a_token_is_required_and_compared_exactly() {
    let token = Token::new("s3cr3t-token-value").unwrap();
    let server = dev::start(DevConfig { token: Some(token.clone()), ..DevConfig::default() }).unwrap();
    runtime().block_on(async {
        // Refused at once: connecting asks which wire the server speaks.
        let err = Client::connect(&endpoint(server.url())).await.err().unwrap();
        assert_eq!(err.code(), Some(Code::Unauthenticated), "{err}");
        assert!(err.to_string().contains("RODA_TOKEN"), "{err}");
        for wrong in ["s3cr3t-token-valuE", "s3cr3t-token-valu", "s3cr3t-token-value2"] {
            let wrong = Endpoint { token: Some(Token::new(wrong).unwrap()), ..endpoint(server.url()) };
            let err = Client::connect(&wrong).await.err().unwrap();
            assert_eq!(err.code(), Some(Code::Unauthenticated), "{err}");
        }
        let right = Endpoint { token: Some(token), ..endpoint(server.url()) };
        assert_eq!(Client::connect(&right).await.unwrap().list().await.unwrap(), vec![]);
    });
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tls = ServerTls { cert: cert.cert.pem().into_bytes(), key: cert.signing_key.serialize_pem().into_bytes() };
    let server = dev::start(DevConfig { tls: Some(tls), ..DevConfig::default() }).unwrap();
    assert!(server.url().starts_with("https://"), "{}", server.url());
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    let url = format!("https://localhost:{}", server.local_addr().port());
    runtime().block_on(async {
        let trusted = Endpoint { ca_cert: Some(dir.path().join("cert.pem")), ..endpoint(url.clone()) };
        assert_eq!(Client::connect(&trusted).await.unwrap().list().await.unwrap(), vec![]);
        let untrusted = Endpoint { retries: 0, ..endpoint(url) };
        let refused = match Client::connect(&untrusted).await {
            Ok(client) => client.list().await.map(|_| ()),
            Err(err) => Err(err),
        };
        assert!(refused.is_err(), "an unknown certificate is refused");
    });
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let first = dev::start(DevConfig::default()).unwrap();
    let err = dev::start(DevConfig { listen: first.local_addr(), ..DevConfig::default() }).unwrap_err();
    assert!(matches!(err, dev::DevError::Listen { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("cannot listen on {}", first.local_addr())), "{err}");
}

#[test]
fn dropping_the_handle_stops_the_server() {
    let server = dev::start(DevConfig::default()).unwrap();
    let url = server.url();
    drop(server);
    runtime().block_on(async {
        let err = Client::connect(&Endpoint { retries: 0, ..endpoint(url) }).await.err().expect("nothing listens");
        assert!(matches!(err, RpcError::Connect { failure: ConnectFailure::Refused, .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("nothing listens there") && text.contains("cargo roda dev"), "{text}");
    });
}

/// `https://` to a server that speaks plain text: said as such, not as a
/// "corrupt message" twice.
#[test]
fn https_to_a_plain_text_server_says_it_does_not_speak_tls() {
    let server = dev::start(DevConfig::default()).unwrap();
    let url = server.url().replace("http://", "https://");
    runtime().block_on(async {
        let err = Client::connect(&Endpoint { retries: 0, ..endpoint(url.clone()) }).await.err().expect("no TLS");
        assert!(matches!(err, RpcError::Connect { failure: ConnectFailure::NotTls, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("cannot connect to {url}: the server does not speak TLS; use http:// for it (https:// is for servers started with a certificate)")
        );
    });
}

#[test]
fn a_url_without_a_scheme_or_port_is_refused_before_connecting() {
    runtime().block_on(async {
        for (url, says) in [
            ("127.0.0.1:50051", "has no scheme: write http://127.0.0.1:50051"),
            ("ftp://127.0.0.1:50051", "scheme `ftp` is not one a server speaks"),
            ("http://127.0.0.1", "has no port"),
        ] {
            let err = Client::connect(&endpoint(url.to_owned())).await.err().expect("refused");
            assert!(matches!(err, RpcError::InvalidUrl { .. }), "{url}: {err:?}");
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
    });
}

/// A shutdown while a function loops: the call, seen in flight through the
/// handle (no sleep), is interrupted and answered with status 5, and the
/// server stops. With 20 billion fuel the call would otherwise run for
/// seconds to minutes, so an answer proves the interrupt.
#[test]
fn shutdown_while_a_function_runs_interrupts_it_and_stops() {
    let config = DevConfig {
        ledger: ledger_core::LedgerConfig {
            limits: ledger_core::Limits { fuel_per_call: 20_000_000_000, ..Default::default() },
            ..Default::default()
        },
        ..DevConfig::default()
    };
    let server = dev::start(config).unwrap();
    let spin = wat::parse_str(
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (loop br 0) i32.const 0))"#,
    )
    .unwrap();
    // No deadline the machine's speed could beat: the answer comes from the shutdown.
    let patient = Endpoint { timeout: Duration::from_secs(3600), ..endpoint(server.url()) };
    runtime()
        .block_on(async { Client::connect(&patient).await.unwrap().register("spin", &spin, false).await.unwrap() });
    let call = std::thread::spawn(move || {
        runtime().block_on(async {
            let client = Client::connect(&patient).await.unwrap();
            let op = Operation::Function { name: "spin".into(), params: vec![], user_ref: 0 };
            client.submit(&op, WaitLevel::Committed).await
        })
    });
    server.wait_for_operations_in_flight(1);
    server.shutdown().expect("the server stops cleanly");
    let result = call.join().unwrap().expect("the running call was answered before the server stopped");
    assert_eq!(result.status, Status::INVALID_OPERATION);
}

/// A client that stays connected but is never polled again (its runtime is
/// alive and idle) does not keep the server from stopping.
#[test]
fn an_idle_connected_client_does_not_hold_a_shutdown() {
    let server = dev::start(DevConfig::default()).unwrap();
    let idle = runtime();
    let client = idle.block_on(async {
        let client = Client::connect(&endpoint(server.url())).await.unwrap();
        client.list().await.unwrap();
        client
    });
    server.shutdown().expect("stops");
    drop((client, idle));
}

/// The server's order: the name's rules, then the binary, then whether the
/// name is taken. A good binary under a taken name is refused without being
/// compiled (ledger-core's `a_taken_name_is_refused_without_compiling`
/// proves the cache stays as it was); bytes that do not parse get the
/// server's parse error even under a taken name.
#[test]
fn a_refused_name_keeps_the_servers_order() {
    let server = dev::start(DevConfig::default()).unwrap();
    let wasm = wat::parse_file(repo_root().join("cargo-roda/templates/wat/function.wat")).unwrap();
    runtime().block_on(async {
        let client = Client::connect(&endpoint(server.url())).await.unwrap();
        client.register("fee", &wasm, false).await.unwrap();
        let other = wat::parse_str(
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 1))"#,
        )
        .unwrap();
        let err = client.register("fee", &other, false).await.unwrap_err();
        assert_eq!(err.code(), Some(Code::AlreadyExists), "{err}");
        let junk = vec![0xFFu8; 1 << 20];
        let err = client.register("fee", &junk, false).await.unwrap_err();
        assert_eq!(err.code(), Some(Code::InvalidArgument), "{err}");
        assert!(err.to_string().contains("failed to parse WebAssembly module"), "{err}");
        let err = client.register("9fee", &junk, false).await.unwrap_err();
        assert_eq!(err.code(), Some(Code::InvalidArgument), "{err}");
        assert!(err.to_string().contains("must start with an ASCII letter"), "{err}");
        // With --override the binary is checked (and refused) as before.
        let err = client.register("fee", &junk, true).await.unwrap_err();
        assert!(err.to_string().contains("failed to parse WebAssembly module"), "{err}");
        assert_eq!(client.list().await.unwrap()[0].version, 1, "nothing was installed");
    });
}
