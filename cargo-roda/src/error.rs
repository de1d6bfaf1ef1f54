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
            Error::Project(_) | Error::Scaffold(_) => ExitCode::Error,
            Error::Build(_) => ExitCode::BuildFailed,
            Error::Other { exit, .. } => *exit,
        }
    }

    /// A short, stable name for the kind of failure (the JSON `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Project(_) => "project",
            Error::Scaffold(_) => "scaffold",
            Error::Build(_) => "build",
            Error::Other { .. } => "error",
        }
    }
}
