//! What a function returns.

pub use ledger_abi::Status;

/// What an [`#[execute]`](crate::execute) function may return: nothing,
/// a [`Status`], or `Result<(), Status>`.
pub trait IntoStatus {
    /// The status the ledger records.
    fn into_status(self) -> Status;
}

impl IntoStatus for () {
    #[inline(always)]
    fn into_status(self) -> Status {
        Status::NONE
    }
}

impl IntoStatus for Status {
    #[inline(always)]
    fn into_status(self) -> Status {
        self
    }
}

impl IntoStatus for Result<(), Status> {
    #[inline(always)]
    fn into_status(self) -> Status {
        match self {
            Ok(()) => Status::NONE,
            Err(status) => status,
        }
    }
}
