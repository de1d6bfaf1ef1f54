//! The status a function returns.

/// A function's status: `NONE` commits; anything else rolls the transaction
/// back and is what the caller sees.
///
/// Only valid statuses can be built: the ledger's standard ones by name, and
/// your own codes `128..=255` through [`Status::user`], which refuses the
/// reserved range `8..=127` (at compile time in a `const`).
///
/// ```
/// use ledger_guest::Status;
///
/// const OVER_LIMIT: Status = Status::user(130);
/// assert_eq!(OVER_LIMIT.code(), 130);
/// assert_eq!(Status::try_user(42), None);
/// assert!(Status::NONE.is_success());
/// ```
///
/// ```compile_fail
/// // Reserved for the ledger: refused while compiling.
/// const BAD: ledger_guest::Status = ledger_guest::Status::user(42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Status(u8);

impl Status {
    /// Success: the credits and debits commit.
    pub const NONE: Status = Status(0);
    /// Another name for [`Status::NONE`].
    pub const OK: Status = Status::NONE;
    /// A balance was too low.
    pub const INSUFFICIENT_FUNDS: Status = Status(1);
    /// An account does not exist.
    pub const ACCOUNT_NOT_FOUND: Status = Status(2);
    /// Credits and debits did not balance (the ledger sets it itself too).
    pub const ZERO_SUM_VIOLATION: Status = Status(3);
    /// Too many entries (the ledger sets it itself past 255).
    pub const ENTRY_LIMIT_EXCEEDED: Status = Status(4);
    /// The operation is invalid (also what a trap becomes).
    pub const INVALID_OPERATION: Status = Status(5);
    /// An account id is out of range (the ledger sets it itself).
    pub const ACCOUNT_LIMIT_EXCEEDED: Status = Status(6);
    /// The operation was already applied.
    pub const DUPLICATE: Status = Status(7);

    /// The standard statuses and their names.
    pub const STANDARD: [(Status, &'static str); 8] = [
        (Status::NONE, "NONE"),
        (Status::INSUFFICIENT_FUNDS, "INSUFFICIENT_FUNDS"),
        (Status::ACCOUNT_NOT_FOUND, "ACCOUNT_NOT_FOUND"),
        (Status::ZERO_SUM_VIOLATION, "ZERO_SUM_VIOLATION"),
        (Status::ENTRY_LIMIT_EXCEEDED, "ENTRY_LIMIT_EXCEEDED"),
        (Status::INVALID_OPERATION, "INVALID_OPERATION"),
        (Status::ACCOUNT_LIMIT_EXCEEDED, "ACCOUNT_LIMIT_EXCEEDED"),
        (Status::DUPLICATE, "DUPLICATE"),
    ];

    /// Your own status, `128..=255`.
    ///
    /// # Panics
    ///
    /// If `code` is below 128 (in a `const`, that is a compile error).
    #[track_caller]
    pub const fn user(code: u8) -> Status {
        match Status::try_user(code as u32) {
            Some(status) => status,
            None => panic!(
                "user status codes are 128..=255; 0..=7 are the ledger's (use the named constants) and 8..=127 are reserved"
            ),
        }
    }

    /// Your own status, if `code` is in `128..=255`.
    pub const fn try_user(code: u32) -> Option<Status> {
        if code >= 128 && code <= 255 { Some(Status(code as u8)) } else { None }
    }

    /// The numeric code the ledger records.
    pub const fn code(self) -> u8 {
        self.0
    }

    /// `true` for [`Status::NONE`].
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }
}

impl From<Status> for Result<(), Status> {
    /// `NONE` is `Ok(())`, anything else `Err`.
    fn from(status: Status) -> Self {
        if status.is_success() { Ok(()) } else { Err(status) }
    }
}

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
