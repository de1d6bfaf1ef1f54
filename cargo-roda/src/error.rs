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
    /// Where the SDK crates come from (exit 2: a flag's value).
    #[error(transparent)]
    Sdk(#[from] crate::sdk::SdkError),
    /// The build.
    #[error(transparent)]
    Build(#[from] crate::builder::BuildError),
    /// A scenario file that cannot be used (exit 1).
    #[error(transparent)]
    Scenario(#[from] roda_test::ScenarioError),
    /// Fuzzing that could not run to a verdict (exit 1).
    #[error(transparent)]
    Fuzz(#[from] roda_test::FuzzError),
    /// The project's deployment records (exit 1).
    #[error(transparent)]
    Deployments(#[from] crate::deployments::DeploymentsError),
    /// The function cannot be set up on a fork (exit 1).
    #[error("on the fork: {0}")]
    ForkSetup(#[from] roda_test::SetupError),
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
    /// A fork of a live ledger (exit 6).
    #[error("cannot fork: {0}")]
    Fork(#[from] roda_rpc::fork::ForkError),
    /// A replay of a committed call (exit 6).
    #[error("cannot replay: {0}")]
    Replay(#[from] roda_rpc::replay::ReplayError),
    /// Scenarios could not be run on a live server.
    #[error(transparent)]
    Live(#[from] roda_rpc::live::LiveError),
    /// Watching the project's sources (exit 1).
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
    /// The module could not be instrumented for a profile or coverage.
    #[error("{0}; run without --profile and --coverage (and --costs, which records fuel by function)")]
    Probe(ledger_core::probe::ProbeError),
    /// A profile could not be written.
    #[error(transparent)]
    Flame(#[from] crate::flame::FlameError),
    /// The symbols build's line table.
    #[error(transparent)]
    LineTable(#[from] crate::coverage::LineTableError),
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
    /// A token the command was told to read is not there (exit 1).
    #[error("{origin}: not set; set it to the server's token, or leave the flag out")]
    TokenMissing {
        /// The variable named.
        origin: String,
    },
    /// A module file that cannot be read (exit 1).
    #[error(transparent)]
    Module(#[from] roda_test::fs::LoadError),
    /// A module that fails validation, refused before it is used (exit 3).
    #[error("{report}\n{refusal}")]
    InvalidModule {
        /// The validation report, as text.
        report: String,
        /// What the command did not do, and why.
        refusal: String,
    },
    /// A deploy request over the server's message limit (exit 3).
    #[error(
        "not deployed: the request would be {request_len} bytes, over the server's {limit} byte message limit; shrink the module (opt-level \"z\", lto, strip)"
    )]
    RequestTooLarge {
        /// The encoded request's size.
        request_len: usize,
        /// The server's limit.
        limit: usize,
    },
    /// The server registered a binary other than the one sent (exit 6).
    #[error(
        "the server reports CRC32C {server:08x} for `{name}` v{version}, but the local binary's is {local:08x}: the upload was altered"
    )]
    UploadAltered {
        /// The function.
        name: String,
        /// The version the server registered.
        version: u32,
        /// The server's CRC32C.
        server: u32,
        /// The local binary's CRC32C.
        local: u32,
    },
    /// `deploy` would hurt the server, and `--force` was not given (exit 3):
    /// the module does not fit the server's ABI, its `start` or `register()`
    /// fails or never finishes, or the name was unregistered there.
    #[error("not deployed: {0}; --force sends it anyway")]
    Refused(String),
    /// `deploy --override` found that the new build behaves otherwise than
    /// the last recorded deployment (exit 3).
    #[error("not deployed: {0}")]
    UpgradeRefused(String),
    /// Arguments that make no sense together (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A file or system resource the command needs (exit 1).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O failure while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    /// The exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Project(_)
            | Error::Scaffold(_)
            | Error::Scenario(_)
            | Error::Fuzz(_)
            | Error::ForkSetup(_)
            | Error::Deployments(_)
            | Error::NothingToFuzz
            | Error::Costs(_)
            | Error::Junit(_)
            | Error::Store(_)
            | Error::Dev(_)
            | Error::Watch(_)
            | Error::Probe(_)
            | Error::Flame(_)
            | Error::LineTable(_)
            | Error::Token { .. }
            | Error::TokenMissing { .. }
            | Error::Module(_)
            | Error::Io { .. } => ExitCode::Error,
            Error::Usage(_) | Error::Sdk(_) => ExitCode::Usage,
            Error::InvalidModule { .. }
            | Error::RequestTooLarge { .. }
            | Error::Refused(_)
            | Error::UpgradeRefused(_) => ExitCode::InvalidModule,
            Error::Build(_) => ExitCode::BuildFailed,
            Error::Rpc(_) | Error::UploadAltered { .. } | Error::Fork(_) | Error::Replay(_) | Error::Live(_) => {
                ExitCode::RpcFailed
            }
        }
    }

    /// A short, stable name for the kind of failure (the JSON `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Project(_) => "project",
            Error::Scaffold(_) => "scaffold",
            Error::Sdk(_) => "usage",
            Error::Build(_) => "build",
            Error::Scenario(_) | Error::ForkSetup(_) => "scenario",
            Error::Deployments(_) => "deployments",
            Error::Fuzz(_) | Error::NothingToFuzz => "fuzz",
            Error::Costs(_) => "costs",
            Error::Junit(_) => "junit",
            Error::Rpc(_) => "rpc",
            Error::Fork(_) => "fork",
            Error::Replay(_) => "replay",
            Error::Live(_) => "live",
            Error::Store(_) => "store",
            Error::Dev(_) => "dev",
            Error::Watch(_) => "watch",
            Error::Probe(_) | Error::Flame(_) | Error::LineTable(_) => "profile",
            Error::Token { .. } | Error::TokenMissing { .. } => "token",
            Error::Module(_) => "module",
            Error::InvalidModule { .. } | Error::RequestTooLarge { .. } => "validation",
            Error::Refused(_) => "refused",
            Error::UpgradeRefused(_) => "upgrade-refused",
            Error::UploadAltered { .. } => "rpc",
            Error::Usage(_) => "usage",
            Error::Io { .. } => "io",
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
