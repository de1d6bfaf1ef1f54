//! Every failure a command can end with, mapped to an exit code.

use crate::exit::ExitCode;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project file.
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    /// Scaffolding.
    #[error(transparent)]
    Scaffold(#[from] crate::scaffold::ScaffoldError),
    /// The build.
    #[error(transparent)]
    Build(#[from] crate::builder::BuildError),
    /// A scenario file that cannot be used (exit 1).
    #[error(transparent)]
    Scenario(#[from] roda_test::ScenarioError),
    /// Fuzzing that could not run to a verdict (exit 1).
    #[error(transparent)]
    Fuzz(#[from] roda_test::FuzzError),
    /// `--fuzz` with no `[scenario.fuzz]` table to fuzz (exit 1).
    #[error("--fuzz needs a [scenario.fuzz] table in a scenario file")]
    NothingToFuzz,
    /// A fuel baseline that cannot be read or written (exit 1).
    #[error(transparent)]
    Costs(#[from] roda_test::CostsError),
    /// A JUnit report that cannot be written (exit 1).
    #[error(transparent)]
    Junit(#[from] roda_test::JunitError),
    /// A request to a ledger server.
    #[error(transparent)]
    Rpc(#[from] roda_rpc::client::RpcError),
    /// The dev server's data directory.
    #[error(transparent)]
    Store(#[from] roda_rpc::store::StoreError),
    /// Starting or running the dev server.
    #[error(transparent)]
    Dev(roda_rpc::dev::DevError),
    /// A bearer token, from where it was read.
    #[error("{origin}: {source}")]
    Token {
        /// Where the token came from (a variable or a file).
        origin: String,
        /// What is wrong with it.
        source: roda_rpc::token::TokenError,
    },
    /// Anything else, with its own exit code.
    #[error("{message}")]
    Other {
        /// The exit code.
        exit: ExitCode,
        /// What went wrong and how to fix it.
        message: String,
    },
}

impl Error {
    /// A failure with its own exit code and message.
    pub fn other(exit: ExitCode, message: impl Into<String>) -> Error {
        Error::Other { exit, message: message.into() }
    }

    /// The exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Project(_)
            | Error::Scaffold(_)
            | Error::Scenario(_)
            | Error::Fuzz(_)
            | Error::NothingToFuzz
            | Error::Costs(_)
            | Error::Junit(_)
            | Error::Store(_)
            | Error::Dev(_)
            | Error::Token { .. } => ExitCode::Error,
            Error::Build(_) => ExitCode::BuildFailed,
            Error::Rpc(_) => ExitCode::RpcFailed,
            Error::Other { exit, .. } => *exit,
        }
    }

    /// A short, stable name for the kind of failure (the JSON `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Project(_) => "project",
            Error::Scaffold(_) => "scaffold",
            Error::Build(_) => "build",
            Error::Scenario(_) => "scenario",
            Error::Fuzz(_) | Error::NothingToFuzz => "fuzz",
            Error::Costs(_) => "costs",
            Error::Junit(_) => "junit",
            Error::Rpc(_) => "rpc",
            Error::Store(_) => "store",
            Error::Dev(_) => "dev",
            Error::Token { .. } => "token",
            Error::Other { .. } => "error",
        }
    }
}

impl From<roda_rpc::dev::DevError> for Error {
    /// A data directory that cannot be used is a store error, whoever found it.
    fn from(error: roda_rpc::dev::DevError) -> Error {
        match error {
            roda_rpc::dev::DevError::Store(store) => Error::Store(store),
            other => Error::Dev(other),
        }
    }
}
