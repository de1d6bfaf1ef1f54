//! Why `cargo roda deploy` will not send a module, unless `--force`: what a
//! real server would accept and then suffer from.

use crate::project::Abi;

/// Why `deploy` will not send a module (unless `--force`).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The module does not fit the server's ABI.
    #[error(
        "{server} speaks the {wire} wire (ABI {}), and this module, built for ABI {}, does not fit it: {found}. A server registers such a module, and every call fails with status 5: deploy it to a server of its ABI, or build it for ABI {}",
        server_abi(*.wire).id(), .abi.id(), server_abi(*.wire).id()
    )]
    WrongAbi {
        /// The server.
        server: String,
        /// Its wire.
        wire: roda_rpc::Wire,
        /// The module's ABI.
        abi: Abi,
        /// The first thing that does not fit, and its fix.
        found: String,
    },
    /// The name was unregistered on this server since it was deployed
    /// there.
    #[error(
        "`{name}` was deployed to {server} before (v{seen}) and has been unregistered since. Registering it again breaks the server's next restart, unless these are the very bytes of its version 1: roda-ledger servers at ee2b042 and at e14b146 alike restart the version counter at 1 after an unregister, overwrite functions/{name}_v1.wasm, and then refuse to start (`crc32c mismatch for function {name}`). Deploy it under another name (--name), and next time replace a function with `deploy --override` instead of unregistering it"
    )]
    Unregistered {
        /// The function.
        name: String,
        /// The server.
        server: String,
        /// The version deployed there last.
        seen: u32,
    },
    /// Its `start` or `register()` fails or never finishes.
    #[error("in the simulator, {0}")]
    Risk(ledger_core::preflight::RegistrationRisk),
}

/// The ABI of a wire's server.
pub fn server_abi(wire: roda_rpc::Wire) -> Abi {
    match wire {
        roda_rpc::Wire::Ee2b042 => Abi::V1,
        roda_rpc::Wire::Head => Abi::V2,
    }
}
