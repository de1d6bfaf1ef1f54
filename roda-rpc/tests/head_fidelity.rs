//! Where `cargo roda dev --abi v2` answers as an e14b146 server does: the
//! checks in `head_checks/`, which `head_upstream.rs` runs on a real server.

mod head_checks;

use roda_rpc::Wire;
use roda_rpc::dev::{self, DevConfig};

/// Runs a check on a new in-memory HEAD dev server.
fn on_a_new_server<F: Future<Output = ()>>(check: impl FnOnce(String) -> F) {
    let server = dev::start(DevConfig { wire: Wire::Head, ..DevConfig::default() }).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(check(server.url()));
    server.shutdown().unwrap();
}

#[test]
fn the_wire_is_found() {
    on_a_new_server(|url| async move { head_checks::the_wire_is_found(&url).await });
}

#[test]
fn accounts_kv_flags_and_links() {
    on_a_new_server(|url| async move { head_checks::accounts_kv_flags_and_links(&url).await });
}

#[test]
fn registration_is_a_transaction() {
    on_a_new_server(|url| async move {
        // Versions keep rising: docs/differences.md, row 8.
        assert_eq!(head_checks::registration_is_a_transaction(&url).await, 4);
    });
}

#[test]
fn messages_and_statuses() {
    on_a_new_server(|url| async move { head_checks::messages_and_statuses(&url).await });
}

macro_rules! dev_checks {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            on_a_new_server(|url| async move { head_checks::$name(&url).await });
        }
    )*};
}

/// Checks around a restart: `$before` on a new server with a data
/// directory, `$after` on one started again on it.
macro_rules! dev_restart_checks {
    ($($name:ident: $before:ident, $after:ident;)*) => {$(
        #[test]
        fn $name() {
            let dir = tempfile::tempdir().unwrap();
            let config = || DevConfig { wire: Wire::Head, data_dir: Some(dir.path().to_owned()), ..DevConfig::default() };
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let server = dev::start(config()).unwrap();
            runtime.block_on(head_checks::$before(&server.url()));
            server.shutdown().unwrap();
            let server = dev::start(config()).unwrap();
            runtime.block_on(head_checks::$after(&server.url()));
            server.shutdown().unwrap();
        }
    )*};
}

head_checks::every_check!(dev_checks, dev_restart_checks);

#[test]
fn a_pipeline_delay_is_refused_on_the_head_wire() {
    let config = DevConfig {
        wire: Wire::Head,
        pipeline_delay: Some(std::time::Duration::from_millis(5)),
        ..DevConfig::default()
    };
    let err = dev::start(config).unwrap_err();
    assert!(err.to_string().contains("ee2b042 wire (ABI v1) only"), "{err}");
}

/// The dev server scans the transactions its history keeps: a page or an
/// account history that reaches an older one says so and names the flag.
#[test]
fn the_log_ends_where_the_history_does() {
    let ledger = ledger_core::LedgerConfig { max_history: 2, ..Default::default() };
    let server = dev::start(DevConfig { wire: Wire::Head, ledger, ..DevConfig::default() }).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut raw = head_checks::raw(&server.url()).await;
        for _ in 0..3 {
            let open = roda_rpc::head::SubmitAndWaitResultRequest {
                operation: Some(roda_rpc::head::submit_and_wait_result_request::Operation::OpenAccount(
                    roda_rpc::head::OpenAccount { count: 1, user_ref: 0 },
                )),
                cluster_wait: false,
            };
            raw.submit_and_wait_result(open).await.unwrap();
        }
        let recent = raw.get_log(roda_rpc::head::GetLogRequest { from_tx_id: 2, to_tx_id: 0, limit: 0 }).await.unwrap();
        assert_eq!(recent.into_inner().records.len(), 4, "transactions 2 and 3");
        let all =
            raw.get_log(roda_rpc::head::GetLogRequest { from_tx_id: 0, to_tx_id: 0, limit: 0 }).await.unwrap_err();
        assert_eq!(all.code(), tonic::Code::OutOfRange, "{all:?}");
        assert!(
            all.message().contains("transaction 1 is older than what `cargo roda dev` keeps (`--history`"),
            "{all:?}"
        );
        let request = roda_rpc::head::GetAccountHistoryRequest { account_id: 1, from_tx_id: 0, to_tx_id: 0 };
        let history = raw.get_account_history(request).await.unwrap_err();
        assert_eq!(history.code(), tonic::Code::OutOfRange, "{history:?}");
    });
    server.shutdown().unwrap();
}
