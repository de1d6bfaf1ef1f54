//! roda-ledger's gRPC surface: the generated `roda.ledger.v1` types of both
//! wires ([`proto`] for ee2b042, [`head`] for e14b146), a
//! [`Client`](client::Client) that finds a server's wire and answers in
//! ledger-core types, a [`cluster`] of nodes that writes to the leader, and
//! a local server on ledger-core ([`dev`]) with a durable data directory
//! ([`store`]), wire-compatible with a roda-ledger server at ee2b042 (ABI
//! v1) or at e14b146 (ABI v2).
//!
//! Start a server in-process, connect, register a function and call it:
//!
//! ```
//! use ledger_core::{Operation, Status};
//! use roda_rpc::client::{Client, Endpoint, WaitLevel};
//! use roda_rpc::dev::{self, DevConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Port 0 picks a free port; the handle knows which.
//! let server = dev::start(DevConfig::default())?;
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (import "ledger" "credit" (func $credit (param i64 i64)))
//!     (import "ledger" "debit" (func $debit (param i64 i64)))
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       local.get 0 local.get 2 call $credit
//!       local.get 1 local.get 2 call $debit
//!       i32.const 0))
//! "#)?;
//! tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//!     let client = Client::connect(&Endpoint::new(server.url())).await?;
//!     let registered = client.register("mv", &wasm, false).await?;
//!     assert_eq!((registered.name.as_str(), registered.version), ("mv", 1));
//!     client.submit(&Operation::Deposit { account: 1, amount: 100, user_ref: 0 }, WaitLevel::Committed).await?;
//!     let call = Operation::Function { name: "mv".into(), params: vec![1, 2, 40], user_ref: 0 };
//!     let result = client.submit(&call, WaitLevel::Committed).await?;
//!     assert_eq!(result.status, Status::NONE);
//!     assert_eq!(client.balances(&[1, 2]).await?, vec![60, 40]);
//!     Ok::<_, roda_rpc::client::RpcError>(())
//! })?;
//! server.shutdown()?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod client;
pub mod cluster;
pub mod dev;
pub mod fork;
pub mod live;
mod pipeline;
pub mod replay;
pub mod results;
pub mod store;
pub mod token;

/// Types and stubs generated from `proto/ledger.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    tonic::include_proto!("roda.ledger.v1");
}

/// The response shapes of roda-ledger HEAD (e14b146) that differ from
/// ee2b042, from `proto/head.proto`.
#[allow(missing_docs, clippy::all)]
pub mod head {
    include!(concat!(env!("OUT_DIR"), "/head/roda.ledger.v1.rs"));
}

/// Which gRPC surface a server speaks: the two differ in messages that
/// share a name (see `proto/head.proto`), so a client must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// roda-ledger ee2b042 (the seed's single-node server; functions of
    /// ABI v1).
    #[default]
    Ee2b042,
    /// roda-ledger HEAD, e14b146 (`roda-server`: accounts opened first,
    /// statuses in the transaction's metadata, KV, clusters; functions of
    /// ABI v2).
    Head,
}

impl Wire {
    /// `ee2b042` or `head`, as `--output json` says it.
    pub fn name(self) -> &'static str {
        match self {
            Wire::Ee2b042 => "ee2b042",
            Wire::Head => "head",
        }
    }
}

impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The gRPC status codes [`client::RpcError::code`] reports.
pub use tonic::Code;

use ledger_core::Operation;

/// A proto operation as a ledger-core operation.
fn operation_from_proto(op: proto::submit_and_wait_request::Operation) -> Operation {
    use proto::submit_and_wait_request::Operation as P;
    match op {
        P::Deposit(d) => Operation::Deposit { account: d.account, amount: d.amount, user_ref: d.user_ref },
        P::Withdrawal(w) => Operation::Withdrawal { account: w.account, amount: w.amount, user_ref: w.user_ref },
        P::Transfer(t) => Operation::Transfer { from: t.from, to: t.to, amount: t.amount, user_ref: t.user_ref },
        P::Function(f) => Operation::Function { name: f.name, params: f.params, user_ref: f.user_ref },
    }
}

/// A ledger-core operation as the proto one.
fn operation_to_proto(op: &Operation) -> proto::submit_and_wait_request::Operation {
    use proto::submit_and_wait_request::Operation as P;
    match op.clone() {
        Operation::Deposit { account, amount, user_ref } => P::Deposit(proto::Deposit { account, amount, user_ref }),
        Operation::Withdrawal { account, amount, user_ref } => {
            P::Withdrawal(proto::Withdrawal { account, amount, user_ref })
        }
        Operation::Transfer { from, to, amount, user_ref } => {
            P::Transfer(proto::Transfer { from, to, amount, user_ref })
        }
        Operation::Function { name, params, user_ref } => P::Function(proto::Function { name, params, user_ref }),
    }
}
