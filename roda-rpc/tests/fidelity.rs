//! Where the dev server answers as an ee2b042 server does (the checks in
//! `wire/`, which `upstream.rs` runs on a real server), and the switches for
//! the differences it keeps (`docs/differences.md`): a lagging pipeline, a
//! shuffled function list, a failure remembered across a restart.

mod head_checks;
mod wire;

use std::path::Path;
use std::time::Duration;

use roda_rpc::dev::{self, DevConfig, DevHandle};
use roda_rpc::proto::{self, TransactionStatus, ledger_client::LedgerClient};
use wire::{Wire, balance, deposit, fee_transfer, indices, status, wait, withdrawal};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn connect(server: &DevHandle) -> Wire {
    LedgerClient::connect(server.url()).await.unwrap()
}

/// Runs a `wire` check on a new in-memory dev server.
fn on_a_new_server<F: Future<Output = ()>>(check: impl FnOnce(Wire) -> F) {
    let server = dev::start(DevConfig::default()).unwrap();
    runtime().block_on(async { check(connect(&server).await).await });
    server.shutdown().unwrap();
}

#[test]
fn transaction_status_is_the_servers_once_the_stages_caught_up() {
    on_a_new_server(|mut client| async move { wire::status_through_the_stages(&mut client).await });
}

#[test]
fn the_commit_index_reads_0_after_a_registration() {
    on_a_new_server(|mut client| async move { wire::the_commit_index_reads_0_after_a_registration(&mut client).await });
}

/// Reflection answers with the ee2b042 service, as that server's does.
#[test]
fn reflection_lists_the_service() {
    let server = dev::start(DevConfig::default()).unwrap();
    runtime().block_on(head_checks::reflection_lists_the_service(&server.url()));
    server.shutdown().unwrap();
}

#[test]
fn messages_are_the_servers_words() {
    on_a_new_server(|mut client| async move { wire::messages(&mut client).await });
}

#[test]
fn unregister_checks_the_name_first() {
    on_a_new_server(|mut client| async move { wire::unregister_checks_the_name_first(&mut client).await });
}

/// A chosen difference: a server forgets a failure when it restarts (its
/// status is then ON_SNAPSHOT, reason 0); the dev server keeps it (within
/// `--history`).
#[test]
fn a_failure_is_remembered_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = || dev::start(DevConfig { data_dir: Some(dir.path().to_path_buf()), ..DevConfig::default() }).unwrap();
    let server = start();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let failed = client.submit_and_wait(wait(withdrawal(1, 50), proto::WaitLevel::Snapshot)).await.unwrap();
        assert_eq!(failed.into_inner().fail_reason, 1);
    });
    server.shutdown().unwrap();
    let server = start();
    runtime().block_on(async {
        assert_eq!(status(&mut connect(&server).await, 1).await, (TransactionStatus::Error, 1));
    });
}

/// SubmitAndWait reports a failure even when no history is kept, instant
/// or delayed: the status is taken when the operation runs.
#[test]
fn a_failure_is_reported_whatever_the_history_keeps() {
    for pipeline_delay in [None, Some(Duration::from_millis(5))] {
        let ledger = ledger_core::LedgerConfig { max_history: 0, ..Default::default() };
        let server = dev::start(DevConfig { ledger, pipeline_delay, ..DevConfig::default() }).unwrap();
        runtime().block_on(async {
            let mut client = connect(&server).await;
            let failed = client.submit_and_wait(wait(withdrawal(1, 50), proto::WaitLevel::Committed)).await.unwrap();
            assert_eq!(failed.into_inner().fail_reason, 1, "{pipeline_delay:?}");
        });
        server.shutdown().unwrap();
    }
}

fn delayed(delay: Duration, data_dir: Option<&Path>) -> DevHandle {
    dev::start(DevConfig {
        pipeline_delay: Some(delay),
        data_dir: data_dir.map(Path::to_path_buf),
        ..DevConfig::default()
    })
    .unwrap()
}

/// With a pipeline delay far longer than the test, a submitted operation
/// stays PENDING and unseen by reads; a registration computes what was
/// submitted before it; a stop finishes what was submitted, and a restart
/// shows it.
#[test]
fn a_delayed_pipeline_answers_before_it_computes_and_finishes_on_stop() {
    let dir = tempfile::tempdir().unwrap();
    let an_hour = Duration::from_secs(3600);
    let server = delayed(an_hour, Some(dir.path()));
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let submitted = client.submit_operation(proto::SubmitOperationRequest { operation: deposit(1, 5) }).await;
        let tx_id = submitted.unwrap().into_inner().transaction_id;
        assert_eq!(tx_id, 1);
        assert_eq!(status(&mut client, 1).await, (TransactionStatus::Pending, 0));
        assert_eq!(indices(&mut client).await, (0, 0, 0));
        assert_eq!(balance(&mut client, 1).await, 0);
        let second = client.submit_operation(proto::SubmitOperationRequest { operation: deposit(1, 7) }).await;
        assert_eq!(second.unwrap().into_inner().transaction_id, 2, "ids in submission order");

        let request =
            proto::RegisterFunctionRequest { name: "fee".into(), binary: fee_transfer(), override_existing: false };
        client.register_function(request).await.unwrap();
        assert_eq!(indices(&mut client).await, (2, 0, 0), "computed before the registration, not committed");
        assert_eq!(status(&mut client, 2).await, (TransactionStatus::Computed, 0));
        let read = client.get_transaction(proto::GetTransactionRequest { tx_id: 2 }).await.unwrap_err();
        assert_eq!(read.message(), "transaction not found", "not on the snapshot yet");
        assert_eq!(balance(&mut client, 1).await, 0, "reads show the snapshot");
    });
    server.shutdown().unwrap();

    let server = delayed(an_hour, Some(dir.path()));
    runtime().block_on(async {
        let mut client = connect(&server).await;
        assert_eq!(indices(&mut client).await, (2, 2, 2));
        assert_eq!(balance(&mut client, 1).await, 12);
        assert_eq!(status(&mut client, 2).await, (TransactionStatus::OnSnapshot, 0));
    });
}

/// With a short delay, waiting for a level returns once that stage has the
/// transaction, and the status a client polls only moves forward.
#[test]
fn a_delayed_pipeline_moves_each_transaction_through_its_stages_in_order() {
    let server = delayed(Duration::from_millis(20), None);
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let computed = wait(deposit(1, 100).unwrap(), proto::WaitLevel::Computed);
        let tx_id = client.submit_and_wait(computed).await.unwrap().into_inner().transaction_id;
        let mut seen = vec![status(&mut client, tx_id).await.0];
        while *seen.last().unwrap() != TransactionStatus::OnSnapshot {
            seen.push(status(&mut client, tx_id).await.0);
        }
        assert!(seen[0] >= TransactionStatus::Computed, "{seen:?}");
        assert!(seen.is_sorted(), "a status never goes back: {seen:?}");
        assert_eq!(balance(&mut client, 1).await, 100);

        let snapshot = wait(withdrawal(1, 500), proto::WaitLevel::Snapshot);
        let failed = client.submit_and_wait(snapshot).await.unwrap().into_inner();
        assert_eq!(failed.fail_reason, 1);
        assert_eq!(status(&mut client, failed.transaction_id).await, (TransactionStatus::Error, 1));
        let (compute, commit, snapshot) = indices(&mut client).await;
        assert!(compute >= 2 && commit >= 2 && snapshot >= 2, "waited for the snapshot");
    });
}

/// With a pipeline delay, reads come from a snapshot that applies committed
/// entries only, as a server's: after a failed call that saturated a
/// balance, the committed value shows until the account's next change,
/// then the ledger's (the values a real server gave, docs/differences.md).
#[test]
fn a_delayed_snapshot_shows_the_committed_balance_after_a_saturated_rollback() {
    let server = delayed(Duration::from_millis(1), None);
    let mv = wat::parse_str(
        r#"(module (import "ledger" "credit" (func $credit (param i64 i64))) (import "ledger" "debit" (func $debit (param i64 i64)))
          (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
            (call $debit (local.get 0) (local.get 2)) (call $credit (local.get 1) (local.get 2)) (i32.wrap_i64 (local.get 3))))"#,
    )
    .unwrap();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let request = proto::RegisterFunctionRequest { name: "mv".into(), binary: mv, override_existing: false };
        client.register_function(request).await.unwrap();
        let call = |params: Vec<i64>| {
            let call = proto::submit_operation_request::Operation::Function(proto::Function {
                name: "mv".into(),
                params,
                user_ref: 0,
            });
            wait(call, proto::WaitLevel::Snapshot)
        };
        let committed = client.submit_and_wait(call(vec![11, 10, 9_223_372_036_854_775_800, 0])).await.unwrap();
        assert_eq!(committed.into_inner().fail_reason, 0);
        let failed = client.submit_and_wait(call(vec![11, 12, 10, 1])).await.unwrap();
        assert_eq!(failed.into_inner().fail_reason, 1);
        assert_eq!(balance(&mut client, 11).await, 9_223_372_036_854_775_800, "the committed value");
        let next = client.submit_and_wait(call(vec![11, 13, 1, 0])).await.unwrap();
        assert_eq!(next.into_inner().fail_reason, 0);
        assert_eq!(balance(&mut client, 11).await, 9_223_372_036_854_775_798, "then the ledger's, moved by 1");
    });
}

/// `--shuffle-functions`: the same functions, not always in name order.
#[test]
fn a_shuffled_list_has_every_function_in_some_order() {
    let server = dev::start(DevConfig { shuffle_functions: true, ..DevConfig::default() }).unwrap();
    let wasm = fee_transfer();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let names: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        for name in &names {
            let request =
                proto::RegisterFunctionRequest { name: name.clone(), binary: wasm.clone(), override_existing: false };
            client.register_function(request).await.unwrap();
        }
        let mut orders = Vec::new();
        // 720 orders: ten listings all sorted would happen once in 10^28.
        for _ in 0..10 {
            let listed = client.list_functions(proto::ListFunctionsRequest {}).await.unwrap().into_inner().functions;
            let listed: Vec<String> = listed.into_iter().map(|f| f.name).collect();
            let mut sorted = listed.clone();
            sorted.sort();
            assert_eq!(sorted, names);
            orders.push(listed);
        }
        assert!(orders.iter().any(|order| *order != names), "never shuffled: {orders:?}");
    });
}

#[test]
fn scenarios_run_on_the_scenarios_ids() {
    let server = dev::start(DevConfig::default()).unwrap();
    runtime().block_on(wire::scenarios_run_on_the_scenarios_ids(&server.url()));
    server.shutdown().unwrap();
}
