//! Checks of the wire that a dev server and a real ee2b042 server must pass
//! alike: `fidelity.rs` runs them on the dev server, `upstream.rs` (ignored
//! without a server binary) on a real one.
#![allow(dead_code)]

use roda_rpc::proto::{self, TransactionStatus, ledger_client::LedgerClient};
use tonic::transport::Channel;

pub type Wire = LedgerClient<Channel>;

/// The seed's fee transfer, as a registrable binary.
pub fn fee_transfer() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cargo-roda/templates/wat/function.wat");
    wat::parse_file(path).unwrap()
}

pub fn deposit(account: u64, amount: u64) -> Option<proto::submit_operation_request::Operation> {
    Some(proto::submit_operation_request::Operation::Deposit(proto::Deposit { account, amount, user_ref: 0 }))
}

pub fn wait(
    operation: proto::submit_operation_request::Operation,
    level: proto::WaitLevel,
) -> proto::SubmitAndWaitRequest {
    // The server's own conversion (roda-rpc's `From`), not a second copy.
    proto::SubmitAndWaitRequest { operation: Some(operation.into()), wait_level: level as i32 }
}

pub fn withdrawal(account: u64, amount: u64) -> proto::submit_operation_request::Operation {
    proto::submit_operation_request::Operation::Withdrawal(proto::Withdrawal { account, amount, user_ref: 0 })
}

pub async fn status(client: &mut Wire, transaction_id: u64) -> (TransactionStatus, u32) {
    let response =
        client.get_transaction_status(proto::GetStatusRequest { transaction_id }).await.unwrap().into_inner();
    (response.status(), response.fail_reason)
}

pub async fn indices(client: &mut Wire) -> (u64, u64, u64) {
    let index = client.get_pipeline_index(proto::GetPipelineIndexRequest {}).await.unwrap().into_inner();
    (index.compute_index, index.commit_index, index.snapshot_index)
}

pub async fn balance(client: &mut Wire, account_id: u64) -> i64 {
    client.get_balance(proto::GetBalanceRequest { account_id }).await.unwrap().into_inner().balance
}

/// On a new ledger: a registration is no transaction (every index stays
/// 0); a transaction on the snapshot is ON_SNAPSHOT, a failed one ERROR
/// with its reason, id 0 ON_SNAPSHOT, an id not issued yet PENDING.
pub async fn status_through_the_stages(client: &mut Wire) {
    let request =
        proto::RegisterFunctionRequest { name: "fee".into(), binary: fee_transfer(), override_existing: false };
    client.register_function(request).await.unwrap();
    assert_eq!(indices(client).await, (0, 0, 0), "a registration is no transaction");
    let deposit = deposit(1, 5).unwrap();
    let ok = client.submit_and_wait(wait(deposit, proto::WaitLevel::Snapshot)).await.unwrap().into_inner();
    assert_eq!((ok.transaction_id, ok.fail_reason), (1, 0));
    let failed = client.submit_and_wait(wait(withdrawal(1, 50), proto::WaitLevel::Snapshot)).await.unwrap();
    let failed = failed.into_inner();
    assert_eq!((failed.transaction_id, failed.fail_reason), (2, 1));
    assert_eq!(status(client, 1).await, (TransactionStatus::OnSnapshot, 0));
    assert_eq!(status(client, 2).await, (TransactionStatus::Error, 1));
    assert_eq!(status(client, 0).await, (TransactionStatus::OnSnapshot, 0));
    assert_eq!(status(client, 3).await, (TransactionStatus::Pending, 0));
    assert_eq!(indices(client).await, (2, 2, 2));
    assert_eq!(balance(client, 1).await, 5);
}

/// A registration's record carries no transaction id, and a server's WAL
/// stage publishes it as the commit index: 0 until the next transaction
/// commits, a committed transaction reading COMPUTED meanwhile (observed
/// on a server with 51 transactions: compute 51, commit 0, snapshot 51).
pub async fn the_commit_index_reads_0_after_a_registration(client: &mut Wire) {
    client.submit_and_wait(wait(deposit(1, 5).unwrap(), proto::WaitLevel::Snapshot)).await.unwrap();
    assert_eq!(indices(client).await, (1, 1, 1));
    let request =
        proto::RegisterFunctionRequest { name: "fee".into(), binary: fee_transfer(), override_existing: false };
    client.register_function(request).await.unwrap();
    assert_eq!(indices(client).await, (1, 0, 1));
    assert_eq!(status(client, 1).await, (TransactionStatus::Computed, 0));
    client.submit_and_wait(wait(deposit(1, 5).unwrap(), proto::WaitLevel::Snapshot)).await.unwrap();
    assert_eq!(indices(client).await, (2, 2, 2));
    assert_eq!(status(client, 1).await, (TransactionStatus::OnSnapshot, 0));
}

/// A server's words, which client code may compare.
pub async fn messages(client: &mut Wire) {
    let missing = client.get_transaction(proto::GetTransactionRequest { tx_id: 999 }).await.unwrap_err();
    assert_eq!((missing.code(), missing.message()), (tonic::Code::NotFound, "transaction not found"));
    let empty = client.submit_operation(proto::SubmitOperationRequest { operation: None }).await.unwrap_err();
    assert_eq!((empty.code(), empty.message()), (tonic::Code::InvalidArgument, "missing operation"));
    let empty = proto::SubmitAndWaitRequest { operation: None, wait_level: 0 };
    let empty = client.submit_and_wait(empty).await.unwrap_err();
    assert_eq!((empty.code(), empty.message()), (tonic::Code::InvalidArgument, "missing operation"));
}

/// `UnregisterFunction` checks the name before looking it up.
pub async fn unregister_checks_the_name_first(client: &mut Wire) {
    for (name, message) in
        [("1abc", "function name `1abc` must start with an ASCII letter"), ("", "function name must not be empty")]
    {
        let err = client.unregister_function(proto::UnregisterFunctionRequest { name: name.into() }).await.unwrap_err();
        assert_eq!((err.code(), err.message()), (tonic::Code::InvalidArgument, message));
    }
    let err = client.unregister_function(proto::UnregisterFunctionRequest { name: "abc".into() }).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (tonic::Code::NotFound, "function `abc` is not registered"));
}

/// Scenarios run on the server as in the simulator (`roda_rpc::live`): an
/// ee2b042 server has no account to open, so the scenario's own ids are
/// used, each brought to its starting balance (0 when none is given)
/// whatever an earlier run left there; a second run passes as the first
/// did, and the deployed name is gone after each.
pub async fn scenarios_run_on_the_scenarios_ids(url: &str) {
    use roda_rpc::live::{LiveOutcome, run};
    let client = roda_rpc::client::Client::connect(&roda_rpc::client::Endpoint::new(url)).await.unwrap();
    let file = roda_test::ScenarioFile::from_str(
        r#"
        version = 1
        [[scenario]]
        name = "moves"
        balances = { 101 = 20000 }
        steps = [
          { call = "fee_transfer", params = [101, 202, 999, 10000, 50], balances = { 101 = 9950, 202 = 10000, 999 = 50 } },
          { transfer = { from = 101, to = 202, amount = 20 }, user_ref = 3, balances = { 101 = 9930, 202 = 10020 } },
          { transfer = { from = 101, to = 202, amount = 20 }, user_ref = 3, expect = "DUPLICATE", balances = { 101 = "-10070", 202 = "+10020" } },
          { withdrawal = { account = 999, amount = 50 }, entries = [{ account = 999, amount = 50, kind = "credit", balance = 0 }, { account = 0, amount = 50, kind = "debit" }] },
        ]
        [[scenario]]
        name = "an overdrawn start"
        balances = { 101 = -5 }
        "#,
        "moves.toml",
    )
    .unwrap();
    let runner = roda_test::Runner::new(fee_transfer(), "fee_transfer");
    for run_id in [1, 2] {
        let live = run(&client, &runner, std::slice::from_ref(&file), run_id).await.unwrap();
        let scenarios: Vec<_> = live.scenarios().collect();
        assert_eq!(scenarios[0].outcome, LiveOutcome::Passed, "{live}");
        assert!(scenarios[0].accounts.is_empty(), "{live}");
        let LiveOutcome::NotReproducible { reason } = &scenarios[1].outcome else { panic!("{live}") };
        assert!(reason.contains("account 101 is -5"), "{reason}");
        assert_eq!(live.failed(), 0);
        assert!(client.list().await.unwrap().is_empty(), "{live}");
    }
}
