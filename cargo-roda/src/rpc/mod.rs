//! gRPC: the generated `roda.ledger.v1` types, the client `cargo roda`
//! deploys with, and `cargo roda dev`, a local server built on ledger-core.

pub mod client;
pub mod server;
pub mod store;

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

use ledger_core::Operation;

/// A proto operation as a ledger-core operation.
pub fn operation_from_proto(op: proto::submit_and_wait_request::Operation) -> Operation {
    use proto::submit_and_wait_request::Operation as P;
    match op {
        P::Deposit(d) => Operation::Deposit { account: d.account, amount: d.amount, user_ref: d.user_ref },
        P::Withdrawal(w) => Operation::Withdrawal { account: w.account, amount: w.amount, user_ref: w.user_ref },
        P::Transfer(t) => Operation::Transfer { from: t.from, to: t.to, amount: t.amount, user_ref: t.user_ref },
        P::Function(f) => Operation::Function { name: f.name, params: f.params, user_ref: f.user_ref },
    }
}

/// A ledger-core operation as the proto one.
pub fn operation_to_proto(op: &Operation) -> proto::submit_and_wait_request::Operation {
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
