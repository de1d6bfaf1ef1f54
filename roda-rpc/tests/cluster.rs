//! `roda_rpc::cluster` across a leadership change, on two HEAD dev servers
//! whose roles are switched while they serve (`DevHandle::set_follower`):
//! a node that stopped leading refuses a write in the server's words, and
//! the write goes to the new leader, where nothing had been applied.

use ledger_core::v2::Operation;
use roda_rpc::Wire;
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::cluster::Cluster;
use roda_rpc::dev::{self, DevConfig, DevHandle};
use roda_rpc::results::WalRecord;

fn node(follower: bool) -> DevHandle {
    dev::start(DevConfig { wire: Wire::Head, follower, ..DevConfig::default() }).unwrap()
}

/// Transactions the node has computed.
async fn computed(node: &DevHandle) -> u64 {
    Client::connect(&Endpoint::new(node.url())).await.unwrap().pipeline_index().await.unwrap().compute
}

const QUICK: &str = r#"(module
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#;

#[test]
fn writes_follow_a_leadership_change() {
    let (a, b) = (node(false), node(true));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let cluster = Cluster::connect(vec![Endpoint::new(a.url()), Endpoint::new(b.url())]).await.unwrap();
        let open = Operation::OpenAccount { count: 1, user_ref: 0 };
        cluster.submit(&open, WaitLevel::Snapshot).await.unwrap();
        assert_eq!(cluster.client().await.unwrap().url(), a.url());

        // A new leader: the old one refuses, applies nothing; the write goes on.
        assert!(a.set_follower(true) && b.set_follower(false));
        let moved = cluster.submit(&open, WaitLevel::Snapshot).await.unwrap();
        assert_eq!(cluster.client().await.unwrap().url(), b.url());
        let records = moved.transaction.unwrap().records;
        assert_eq!(
            records,
            [WalRecord::Ledger(ledger_core::v2::Record::AccountOpened { begin: 1, count: 1, flags: 1 })]
        );
        assert_eq!(computed(&a).await, 1, "the refusing node applied nothing");

        // A registration that meets a refusal asks the new leader first.
        let wasm = wat::parse_str(QUICK).unwrap();
        assert_eq!(cluster.register("f", &wasm, false).await.unwrap().version, 1);
        assert!(b.set_follower(true) && a.set_follower(false));
        assert_eq!(cluster.register("f", &wasm, false).await.unwrap().version, 1, "sent to a, which lacked it");
        assert!(a.set_follower(true) && b.set_follower(false));
        let found = cluster.register("f", &wasm, false).await.unwrap();
        assert_eq!(found.version, 1, "b has it with this CRC: not sent again");
        let on_b = Client::connect(&Endpoint::new(b.url())).await.unwrap().list().await.unwrap();
        assert_eq!(on_b.len(), 1);
        assert_eq!(on_b[0].version, 1, "no second version");

        // An unregister goes to the leader too.
        assert!(b.set_follower(true) && a.set_follower(false));
        assert_eq!(cluster.unregister("f").await.unwrap(), 2);
        assert!(Client::connect(&Endpoint::new(a.url())).await.unwrap().list().await.unwrap().is_empty());
    });
}

#[test]
fn an_ee2b042_server_has_no_follower_mode() {
    let server = dev::start(DevConfig::default()).unwrap();
    assert!(!server.set_follower(true));
    let err = dev::start(DevConfig { follower: true, ..DevConfig::default() }).unwrap_err();
    assert!(err.to_string().contains("only the HEAD wire serves as a follower"), "{err}");
}
