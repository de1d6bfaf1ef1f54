//! Transaction status codes, as the ledger reports them.

/// A transaction's final status: `fail_reason` on the wire, a `u8` inside.
///
/// `0` is success, `1..=7` are the ledger's standard reasons, `8..=127` are
/// reserved and `128..=255` belong to functions.
///
/// ```
/// use ledger_core::Status;
///
/// assert_eq!(Status::from_execute_return(256), Status::NONE);
/// assert_eq!(Status::from_execute_return(-1).code(), 255);
/// assert_eq!(Status::ZERO_SUM_VIOLATION.name(), "ZERO_SUM_VIOLATION");
/// assert_eq!(Status(130).to_string(), "USER(130)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Status(pub u8);

impl Status {
    /// Success: the transaction committed.
    pub const NONE: Status = Status(0);
    /// A balance was too low.
    pub const INSUFFICIENT_FUNDS: Status = Status(1);
    /// The account does not exist (not produced by ee2b042's single-node ledger).
    pub const ACCOUNT_NOT_FOUND: Status = Status(2);
    /// Credits and debits did not balance.
    pub const ZERO_SUM_VIOLATION: Status = Status(3);
    /// More than 255 entries in one transaction.
    pub const ENTRY_LIMIT_EXCEEDED: Status = Status(4);
    /// Unknown function, failed instantiation, or a trap.
    pub const INVALID_OPERATION: Status = Status(5);
    /// An account id at or above the ledger's `max_accounts`.
    pub const ACCOUNT_LIMIT_EXCEEDED: Status = Status(6);
    /// A `user_ref` already used by an earlier transaction.
    pub const DUPLICATE: Status = Status(7);

    /// The standard statuses with their names, in numeric order.
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

    /// The status a server derives from `execute`'s return value: the low
    /// byte, so `256` is `0` and commits.
    pub const fn from_execute_return(ret: i32) -> Status {
        Status((ret as u32 & 0xFF) as u8)
    }

    /// The numeric code.
    pub const fn code(self) -> u8 {
        self.0
    }

    /// `true` for success.
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// `true` for a function's own code, `128..=255`.
    pub const fn is_user_defined(self) -> bool {
        self.0 >= 128
    }

    /// `true` for `8..=127`, reserved for future standard reasons.
    pub const fn is_reserved(self) -> bool {
        self.0 >= 8 && self.0 < 128
    }

    /// The name: `NONE` .. `DUPLICATE`, `RESERVED(n)` or `USER(n)`.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match Status::STANDARD.get(self.0 as usize) {
            Some((_, name)) => (*name).into(),
            None if self.is_user_defined() => format!("USER({})", self.0).into(),
            None => format!("RESERVED({})", self.0).into(),
        }
    }

    /// Parses a name as [`name`](Status::name) prints it, or a number.
    ///
    /// ```
    /// use ledger_core::Status;
    /// assert_eq!(Status::parse("DUPLICATE"), Some(Status::DUPLICATE));
    /// assert_eq!(Status::parse("130"), Some(Status(130)));
    /// assert_eq!(Status::parse("USER(130)"), Some(Status(130)));
    /// assert_eq!(Status::parse("300"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Status> {
        if let Some((status, _)) = Status::STANDARD.iter().find(|(_, name)| name.eq_ignore_ascii_case(text)) {
            return Some(*status);
        }
        let number = text
            .strip_prefix("USER(")
            .or_else(|| text.strip_prefix("RESERVED("))
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or(text);
        number.parse::<u8>().ok().map(Status)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}
