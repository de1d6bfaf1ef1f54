//! Transaction statuses: the codes, their names and what they mean.

use core::fmt;

/// A transaction's status: `fail_reason` on the wire, a `u8` inside.
///
/// `0` commits, `1..=7` are the ledger's standard reasons, `8..=127` are
/// reserved and `128..=255` belong to functions. These are v1's ranges, which
/// the methods here follow; v2 names `8..=10` and retires 6 (see
/// [`Status::V2_ADDED`] and the profile-aware
/// [`Profile::status_name`](crate::Profile::status_name),
/// [`Profile::is_reserved`](crate::Profile::is_reserved) and
/// [`Profile::status_info`](crate::Profile::status_info)). A function builds its own
/// codes with [`Status::user`], which refuses the reserved range (at compile
/// time in a `const`); [`Status::from_code`] takes any code, as a ledger
/// reports it.
///
/// ```
/// use ledger_abi::Status;
///
/// const OVER_LIMIT: Status = Status::user(130);
/// assert_eq!(OVER_LIMIT.code(), 130);
/// assert_eq!(Status::try_user(42), None);
/// assert_eq!(Status::from_execute_return(256), Status::NONE);
/// assert_eq!(Status::from_execute_return(-1).code(), 255);
/// assert_eq!(Status::ZERO_SUM_VIOLATION.name().to_string(), "ZERO_SUM_VIOLATION");
/// assert_eq!(Status::from_code(130).to_string(), "USER(130)");
/// ```
///
/// ```compile_fail
/// // Reserved for the ledger: refused while compiling.
/// const BAD: ledger_abi::Status = ledger_abi::Status::user(42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[repr(transparent)]
pub struct Status(u8);

/// A standard status with its name and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInfo {
    /// The status.
    pub status: Status,
    /// Its name, as the ledger's enum spells it.
    pub name: &'static str,
    /// What it means, in one line.
    pub meaning: &'static str,
}

macro_rules! standard_statuses {
    ($(#[$list_doc:meta])* $list:ident; $( $(#[$doc:meta])* $name:ident = $code:literal, $meaning:literal; )*) => {
        impl Status {
            $( $(#[$doc])* pub const $name: Status = Status($code); )*

            $(#[$list_doc])*
            pub const $list: &'static [StatusInfo] = &[
                $( StatusInfo { status: Status::$name, name: stringify!($name), meaning: $meaning }, )*
            ];
        }
    };
}

standard_statuses! {
    /// The standard statuses (of [`V1`](crate::V1)), in numeric order, with
    /// names and meanings.
    STANDARD;
    /// Success: the transaction committed.
    NONE = 0, "success: the transaction committed";
    /// A balance was too low.
    INSUFFICIENT_FUNDS = 1, "a balance was too low";
    /// The account does not exist (not produced by ee2b042's single-node ledger).
    ACCOUNT_NOT_FOUND = 2, "an account does not exist";
    /// Credits and debits did not balance.
    ZERO_SUM_VIOLATION = 3, "credits and debits did not balance";
    /// More than 255 entries in one transaction.
    ENTRY_LIMIT_EXCEEDED = 4, "more than 255 entries in one transaction";
    /// Unknown function, failed instantiation, or a trap.
    INVALID_OPERATION = 5, "unknown function, failed instantiation, or a trap";
    /// An account id at or above the ledger's `max_accounts`.
    ACCOUNT_LIMIT_EXCEEDED = 6, "an account id at or above the ledger's max_accounts";
    /// A `user_ref` already used by an earlier transaction.
    DUPLICATE = 7, "a user_ref already used by an earlier transaction";
}

standard_statuses! {
    /// The statuses [`V2`](crate::V2) adds, which v1 reserves: the host
    /// reasons of its register phase and its constants.
    V2_ADDED;
    /// A host import called in a phase that does not allow it (a data verb
    /// in `register()`, `kv_register_constant` outside it, `kv_get_constant`
    /// inside it). v2 only.
    PROHIBITED_HOST_CALL = 8, "a host import called in a phase that does not allow it (v2)";
    /// `kv_get_constant` of a name no `register()` registered. v2 only.
    CONSTANT_NOT_FOUND = 9, "kv_get_constant of a name no register() registered (v2)";
    /// `kv_register_constant` of a name over 32 bytes. v2 only.
    CONSTANT_NAME_TOO_LONG = 10, "kv_register_constant of a name over 32 bytes (v2)";
}

standard_statuses! {
    /// The statuses the guest SDKs return on a function's behalf: codes of
    /// the function range (the ledger does not know them, and names them
    /// `USER(n)`), which scenarios and the AssemblyScript bindings also take
    /// by name. A function should not use these codes for anything else.
    SDK;
    /// An amount parameter was negative: the Rust SDK's
    /// `ledger_guest::Amount` parameters refuse it before the function runs,
    /// and the templates in every language return it, instead of letting
    /// `-5` become the `u64` 18446744073709551611 (which the ledger's
    /// `amount as i64` turns back into a move the other way).
    NEGATIVE_AMOUNT = 254, "an amount parameter was negative (the SDK's refusal, a function code)";
}

/// The first code a function may use for its own statuses.
const FIRST_USER_CODE: u8 = 128;

impl Status {
    /// The status with this code, whatever its range: what a ledger reports.
    /// A function should use the named constants or [`Status::user`].
    pub const fn from_code(code: u8) -> Status {
        Status(code)
    }

    /// A function's own status, `128..=255`.
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

    /// A function's own status, if `code` is in `128..=255`.
    pub const fn try_user(code: u32) -> Option<Status> {
        if code >= FIRST_USER_CODE as u32 && code <= u8::MAX as u32 { Some(Status(code as u8)) } else { None }
    }

    /// The status a server derives from the entry point's return value: the
    /// low byte, so `256` is `0` and commits.
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
        self.0 >= FIRST_USER_CODE
    }

    /// `true` for `8..=127`, reserved for future standard reasons.
    pub const fn is_reserved(self) -> bool {
        self.0 as usize >= Status::STANDARD.len() && self.0 < FIRST_USER_CODE
    }

    /// The name: `NONE` .. `DUPLICATE`, `RESERVED(n)` or `USER(n)`.
    pub const fn name(self) -> StatusName {
        if (self.0 as usize) < Status::STANDARD.len() {
            StatusName::Standard(Status::STANDARD[self.0 as usize].name)
        } else if self.is_user_defined() {
            StatusName::User(self.0)
        } else {
            StatusName::Reserved(self.0)
        }
    }

    /// What the status means, for a standard one.
    pub const fn meaning(self) -> Option<&'static str> {
        if (self.0 as usize) < Status::STANDARD.len() { Some(Status::STANDARD[self.0 as usize].meaning) } else { None }
    }

    /// Parses a name as [`name`](Status::name) prints it (standard names in
    /// any case), a standard name of any profile (v2's [`V2_ADDED`](Status::V2_ADDED)
    /// too), an [SDK status](Status::SDK) name, or a number. [`Profile::parse_status`](crate::Profile::parse_status)
    /// takes one profile's names only.
    ///
    /// ```
    /// use ledger_abi::Status;
    /// assert_eq!(Status::parse("DUPLICATE"), Some(Status::DUPLICATE));
    /// assert_eq!(Status::parse("prohibited_host_call"), Some(Status::PROHIBITED_HOST_CALL));
    /// assert_eq!(Status::parse("130"), Some(Status::from_code(130)));
    /// assert_eq!(Status::parse("USER(130)"), Some(Status::from_code(130)));
    /// assert_eq!(Status::parse("300"), None);
    /// assert_eq!(Status::parse("NEGATIVE_AMOUNT"), Some(Status::NEGATIVE_AMOUNT));
    /// assert_eq!(Status::NEGATIVE_AMOUNT.to_string(), "USER(254)", "the ledger's name for it");
    /// ```
    pub fn parse(text: &str) -> Option<Status> {
        let named = Status::STANDARD
            .iter()
            .chain(Status::V2_ADDED)
            .chain(Status::SDK)
            .find(|info| info.name.eq_ignore_ascii_case(text));
        match named {
            Some(info) => Some(info.status),
            None => parse_code(text),
        }
    }
}

/// A code written as `USER(n)`, `RESERVED(n)` or `n`.
pub(crate) fn parse_code(text: &str) -> Option<Status> {
    let number = text
        .strip_prefix("USER(")
        .or_else(|| text.strip_prefix("RESERVED("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(text);
    number.parse::<u8>().ok().map(Status)
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.name(), f)
    }
}

impl From<Status> for Result<(), Status> {
    /// `NONE` is `Ok(())`, anything else `Err`.
    fn from(status: Status) -> Self {
        if status.is_success() { Ok(()) } else { Err(status) }
    }
}

/// A status's name, without allocating: `NONE`, `USER(130)`, `RESERVED(42)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusName {
    /// A standard status's name.
    Standard(&'static str),
    /// A function's own code.
    User(u8),
    /// A reserved code.
    Reserved(u8),
}

impl fmt::Display for StatusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusName::Standard(name) => f.write_str(name),
            StatusName::User(code) => write!(f, "USER({code})"),
            StatusName::Reserved(code) => write!(f, "RESERVED({code})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn the_table_is_in_code_order_and_names_round_trip() {
        for (code, info) in Status::STANDARD.iter().enumerate() {
            assert_eq!(info.status.code() as usize, code);
            assert_eq!(Status::parse(info.name), Some(info.status));
        }
        for code in 0..=u8::MAX {
            let status = Status::from_code(code);
            assert_eq!(Status::parse(&status.to_string()), Some(status), "{code}");
            assert_eq!(status.is_reserved(), (8..128).contains(&code));
            assert_eq!(status.is_user_defined(), code >= 128);
        }
    }
}
