//! Where a fork of a live ledger (`roda_rpc::fork`) or a replay stops, and why: what they
//! reproduce is checked in `head_checks` on the dev server and on a real
//! e14b146 server.

use ledger_core::LedgerConfig;
use ledger_core::v2::Operation;
use roda_rpc::Wire;
use roda_rpc::client::{Client, Endpoint, RpcError, WaitLevel};
use roda_rpc::dev::{self, DevConfig};
use roda_rpc::fork::{ForkError, fork};

fn on_a_new_server<F: Future<Output = ()>>(wire: Wire, check: impl FnOnce(Client) -> F) {
    let server = dev::start(DevConfig { wire, ..DevConfig::default() }).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { check(Client::connect(&Endpoint::new(server.url())).await.unwrap()).await });
    server.shutdown().unwrap();
}

/// A transaction of more records than one `GetLog` page holds (10,000)
/// cannot be read: the fork says where it stops.
#[test]
fn a_transaction_larger_than_a_page_ends_the_fork() {
    on_a_new_server(Wire::Head, |client| async move {
        let many = wat::parse_str(
            r#"(module
                 (import "ledger" "kv_set" (func $kv_set (param i32 i32 i32 i32 i64)))
                 (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
                   (local $i i32)
                   (loop $next
                     (call $kv_set (local.get $i) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 1))
                     (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br_if $next (i32.lt_u (local.get $i) (i32.const 10000))))
                   (i32.const 0)))"#,
        )
        .unwrap();
        client.register("many", &many, false).await.unwrap();
        let op = Operation::Function { name: "many".into(), params: vec![], user_ref: 0 };
        let big = client.submit(&op, WaitLevel::Snapshot).await.unwrap();
        assert_eq!(big.status, ledger_core::Status::NONE);
        let stopped = fork(&client, None, &[many], LedgerConfig::default(), |_, _| {}).await;
        let Err(err @ ForkError::TooLarge { tx_id }) = stopped else { panic!("{:?}", stopped.err()) };
        assert_eq!(tx_id, big.tx_id);
        assert!(err.to_string().contains("fork at 1 or earlier"), "{err}");
        let before = fork(&client, Some(1), &[], LedgerConfig::default(), |_, _| {}).await.unwrap();
        assert_eq!(before.at, 1);
    });
}

/// An ee2b042 server has no log to read.
#[test]
fn an_ee2b042_server_cannot_be_forked() {
    on_a_new_server(Wire::Ee2b042, |client| async move {
        let refused = fork(&client, None, &[], LedgerConfig::default(), |_, _| {}).await;
        assert!(matches!(refused, Err(ForkError::Rpc(RpcError::NotOnWire { .. }))), "{:?}", refused.err());
    });
}

/// Progress is reported after each page, up to the target.
#[test]
fn progress_reaches_the_target() {
    on_a_new_server(Wire::Head, |client| async move {
        for _ in 0..3 {
            client.submit(&Operation::OpenAccount { count: 1, user_ref: 0 }, WaitLevel::Snapshot).await.unwrap();
        }
        let mut seen = Vec::new();
        let forked = fork(&client, None, &[], LedgerConfig::default(), |done, target| seen.push((done, target))).await;
        assert_eq!(forked.unwrap().at, 3);
        assert_eq!(seen.last(), Some(&(3, 3)));
    });
}

/// An ee2b042 server keeps no whole transactions to replay.
#[test]
fn an_ee2b042_server_has_nothing_to_replay() {
    on_a_new_server(Wire::Ee2b042, |client| async move {
        let refused = roda_rpc::replay::replay(&client, 1, &[], &[], None, LedgerConfig::default()).await;
        let Err(roda_rpc::replay::ReplayError::Rpc(RpcError::NotOnWire { .. })) = refused else {
            panic!("{:?}", refused.err())
        };
    });
}

/// A module to replay with that does not register says so, with the
/// registry's words.
#[test]
fn a_replay_with_a_module_that_does_not_register_says_why() {
    on_a_new_server(Wire::Head, |client| async move {
        let returns = wat::parse_str(
            r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#,
        )
        .unwrap();
        client.register("f", &returns, false).await.unwrap();
        let op = Operation::Function { name: "f".into(), params: vec![], user_ref: 0 };
        let called = client.submit(&op, WaitLevel::Snapshot).await.unwrap();
        let refused =
            roda_rpc::replay::replay(&client, called.tx_id, &[], &[], Some(b"junk"), LedgerConfig::default()).await;
        let Err(err @ roda_rpc::replay::ReplayError::Register { .. }) = refused else { panic!("{:?}", refused.err()) };
        assert!(err.to_string().contains("failed to parse WebAssembly module"), "{err}");
    });
}

/// A fork is served on the HEAD wire, in memory: anything else is refused
/// with what to do.
#[test]
fn a_fork_is_served_on_the_head_wire_in_memory() {
    let ledger = || ledger_core::v2::Ledger::new(LedgerConfig::default()).unwrap();
    let refused = |config: DevConfig| match dev::start_fork(config, ledger()) {
        Err(err) => err.to_string(),
        Ok(_) => panic!("served, not refused"),
    };
    assert!(refused(DevConfig::default()).contains("serve it on the HEAD wire"));
    let dir = tempfile::tempdir().unwrap();
    let durable = DevConfig { wire: Wire::Head, data_dir: Some(dir.path().to_owned()), ..DevConfig::default() };
    assert!(refused(durable).contains("a fork lives in memory"));
    let served = dev::start_fork(DevConfig { wire: Wire::Head, ..DevConfig::default() }, ledger()).unwrap();
    served.shutdown().unwrap();
}
