//! Against a HEAD-style server (roda-ledger e14b146), which answers
//! SubmitAndWait with a `term` and no `fail_reason`, `call` reads the status
//! from the transaction, the HEAD way. The peer here serves HEAD's message
//! shapes from `proto/head.proto`.

mod support;

use roda_rpc::head::{self, ledger_server::LedgerServer};
use support::dev::against;
use tonic::{Request, Response, Status};

struct HeadStyle;

#[tonic::async_trait]
impl head::ledger_server::Ledger for HeadStyle {
    async fn submit_and_wait(
        &self,
        _request: Request<head::SubmitAndWaitRequest>,
    ) -> Result<Response<head::SubmitAndWaitResponse>, Status> {
        Ok(Response::new(head::SubmitAndWaitResponse { transaction_id: 41, term: 3 }))
    }

    async fn get_transaction(
        &self,
        request: Request<head::GetTransactionRequest>,
    ) -> Result<Response<head::GetTransactionResponse>, Status> {
        let tx_id = request.into_inner().tx_id;
        let meta = head::WalTxMetadata { tx_id, fail_reason: 130, sub_item_count: 1, ..Default::default() };
        let entry = head::WalTxEntry {
            tx_id,
            account_id: 7,
            amount: 5,
            kind: head::EntryKind::Debit as i32,
            computed_balance: 5,
        };
        Ok(Response::new(head::GetTransactionResponse {
            transaction: Some(head::CommitedTransaction {
                meta: Some(head::WalEntry { entry: Some(head::wal_entry::Entry::Metadata(meta)) }),
                items: vec![head::WalEntry { entry: Some(head::wal_entry::Entry::TxEntry(entry)) }],
            }),
        }))
    }
}

#[test]
fn call_reads_the_status_the_head_way() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let url = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        tokio::spawn(
            tonic::transport::Server::builder().add_service(LedgerServer::new(HeadStyle)).serve_with_incoming(incoming),
        );
        url
    });
    let dir = tempfile::tempdir().unwrap();
    let run = against(dir.path(), &url, &["call", "f", "1", "--show-entries", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    assert_eq!(json["transaction_id"], 41);
    assert_eq!(json["status"], "USER(130)", "read from the transaction's metadata, not the absent fail_reason");
    assert_eq!(json["entries"], serde_json::json!([{ "account": 7, "amount": 5, "kind": "debit", "balance": 5 }]));
}
