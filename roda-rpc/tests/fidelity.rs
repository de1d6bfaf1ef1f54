//! Where the dev server answers as an ee2b042 server does, and the switches
//! for the differences it keeps (`docs/differences.md`): transaction status
//! through the pipeline's stages, the server's messages, name checks on
//! unregister, a lagging pipeline, a shuffled function list.

use std::path::{Path, PathBuf};
use std::time::Duration;

use roda_rpc::dev::{self, DevConfig, DevHandle};
use roda_rpc::proto::{self, TransactionStatus, ledger_client::LedgerClient};
use tonic::transport::Channel;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn connect(server: &DevHandle) -> LedgerClient<Channel> {
    LedgerClient::connect(server.url()).await.unwrap()
}

fn deposit(account: u64, amount: u64) -> Option<proto::submit_operation_request::Operation> {
    Some(proto::submit_operation_request::Operation::Deposit(proto::Deposit { account, amount, user_ref: 0 }))
}

fn withdrawal(account: u64, amount: u64) -> Option<proto::submit_and_wait_request::Operation> {
    Some(proto::submit_and_wait_request::Operation::Withdrawal(proto::Withdrawal { account, amount, user_ref: 0 }))
}

async fn status(client: &mut LedgerClient<Channel>, transaction_id: u64) -> (TransactionStatus, u32) {
    let response =
        client.get_transaction_status(proto::GetStatusRequest { transaction_id }).await.unwrap().into_inner();
    (response.status(), response.fail_reason)
}

async fn indices(client: &mut LedgerClient<Channel>) -> (u64, u64, u64) {
    let index = client.get_pipeline_index(proto::GetPipelineIndexRequest {}).await.unwrap().into_inner();
    (index.compute_index, index.commit_index, index.snapshot_index)
}

async fn balance(client: &mut LedgerClient<Channel>, account_id: u64) -> i64 {
    client.get_balance(proto::GetBalanceRequest { account_id }).await.unwrap().into_inner().balance
}

fn delayed(delay: Duration, data_dir: Option<&Path>) -> DevHandle {
    dev::start(DevConfig {
        pipeline_delay: Some(delay),
        data_dir: data_dir.map(Path::to_path_buf),
        ..DevConfig::default()
    })
    .unwrap()
}

/// A committed transaction is ON_SNAPSHOT, a failed one ERROR with its
/// reason, id 0 ON_SNAPSHOT, an id not yet issued PENDING: a server's
/// answers once its stages have caught up, which they always have here.
#[test]
fn transaction_status_is_the_servers_once_the_stages_caught_up() {
    let server = dev::start(DevConfig::default()).unwrap();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let ok = client.submit_operation(proto::SubmitOperationRequest { operation: deposit(1, 5) }).await.unwrap();
        let ok = ok.into_inner().transaction_id;
        let request = proto::SubmitAndWaitRequest { operation: withdrawal(1, 50), wait_level: 0 };
        let failed = client.submit_and_wait(request).await.unwrap().into_inner();
        assert_eq!(failed.fail_reason, 1);
        assert_eq!(status(&mut client, ok).await, (TransactionStatus::OnSnapshot, 0));
        assert_eq!(status(&mut client, failed.transaction_id).await, (TransactionStatus::Error, 1));
        assert_eq!(status(&mut client, 0).await, (TransactionStatus::OnSnapshot, 0));
        assert_eq!(status(&mut client, 3).await, (TransactionStatus::Pending, 0));
        assert_eq!(indices(&mut client).await, (2, 2, 2));
    });
}

/// The words of a server, which client code may compare.
#[test]
fn messages_are_the_servers_words() {
    let server = dev::start(DevConfig::default()).unwrap();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        let missing = client.get_transaction(proto::GetTransactionRequest { tx_id: 999 }).await.unwrap_err();
        assert_eq!((missing.code(), missing.message()), (tonic::Code::NotFound, "transaction not found"));
        let empty = client.submit_operation(proto::SubmitOperationRequest { operation: None }).await.unwrap_err();
        assert_eq!((empty.code(), empty.message()), (tonic::Code::InvalidArgument, "missing operation"));
        let empty = proto::SubmitAndWaitRequest { operation: None, wait_level: 0 };
        let empty = client.submit_and_wait(empty).await.unwrap_err();
        assert_eq!((empty.code(), empty.message()), (tonic::Code::InvalidArgument, "missing operation"));
    });
}

/// `UnregisterFunction` checks the name before looking it up.
#[test]
fn unregister_checks_the_name_first() {
    let server = dev::start(DevConfig::default()).unwrap();
    runtime().block_on(async {
        let mut client = connect(&server).await;
        for (name, message) in
            [("1abc", "function name `1abc` must start with an ASCII letter"), ("", "function name must not be empty")]
        {
            let request = proto::UnregisterFunctionRequest { name: name.into() };
            let err = client.unregister_function(request).await.unwrap_err();
            assert_eq!((err.code(), err.message()), (tonic::Code::InvalidArgument, message));
        }
        let err = client.unregister_function(proto::UnregisterFunctionRequest { name: "abc".into() }).await;
        assert_eq!(err.unwrap_err().code(), tonic::Code::NotFound);
    });
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

        let wasm =
            wat::parse_file(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cargo-roda/templates/wat/function.wat"));
        let request =
            proto::RegisterFunctionRequest { name: "fee".into(), binary: wasm.unwrap(), override_existing: false };
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
        let deposit = Some(proto::submit_and_wait_request::Operation::Deposit(proto::Deposit {
            account: 1,
            amount: 100,
            user_ref: 0,
        }));
        let computed =
            proto::SubmitAndWaitRequest { operation: deposit, wait_level: proto::WaitLevel::Computed as i32 };
        let tx_id = client.submit_and_wait(computed).await.unwrap().into_inner().transaction_id;
        let mut seen = vec![status(&mut client, tx_id).await.0];
        while *seen.last().unwrap() != TransactionStatus::OnSnapshot {
            seen.push(status(&mut client, tx_id).await.0);
        }
        assert!(seen[0] >= TransactionStatus::Computed, "{seen:?}");
        assert!(seen.is_sorted(), "a status never goes back: {seen:?}");
        assert_eq!(balance(&mut client, 1).await, 100);

        let snapshot = proto::SubmitAndWaitRequest {
            operation: withdrawal(1, 500),
            wait_level: proto::WaitLevel::Snapshot as i32,
        };
        let failed = client.submit_and_wait(snapshot).await.unwrap().into_inner();
        assert_eq!(failed.fail_reason, 1);
        assert_eq!(status(&mut client, failed.transaction_id).await, (TransactionStatus::Error, 1));
        let (compute, commit, snapshot) = indices(&mut client).await;
        assert!(compute >= 2 && commit >= 2 && snapshot >= 2, "waited for the snapshot");
    });
}

/// `--shuffle-functions`: the same functions, not always in name order.
#[test]
fn a_shuffled_list_has_every_function_in_some_order() {
    let server = dev::start(DevConfig { shuffle_functions: true, ..DevConfig::default() }).unwrap();
    let wasm =
        wat::parse_file(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cargo-roda/templates/wat/function.wat"))
            .unwrap();
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
