//! Function-name rules, with the server's exact messages.

use super::MAX_NAME_LEN;

/// Why a function name is refused. `Display` is the server's message, word
/// for word, so a client cannot tell our check from the server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("function name must not be empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    #[error("function name `{0}` is longer than 32 bytes")]
    TooLong(String),
    /// The first character is not an ASCII letter.
    #[error("function name `{0}` must start with an ASCII letter")]
    BadStart(String),
    /// A character other than ASCII letters, digits and `_`.
    #[error("function name `{0}` must contain only ASCII alphanumerics and underscore")]
    BadChar(String),
}

impl NameError {
    /// A suggestion that fixes the name.
    pub fn fix(&self) -> &'static str {
        match self {
            NameError::Empty => "give the function a name such as `fee_transfer`",
            NameError::TooLong(_) => "shorten the name to at most 32 bytes",
            NameError::BadStart(_) => "start the name with a letter, e.g. `f_` + the name",
            NameError::BadChar(_) => "use only ASCII letters, digits and `_` (e.g. `fee_transfer`, not `fee-transfer`)",
        }
    }
}

/// Checks a function name with the server's rules, in the server's order:
/// non-empty, at most 32 bytes, starts with an ASCII letter, then only ASCII
/// letters, digits and `_`.
///
/// ```
/// use ledger_core::abi::{validate_function_name, NameError};
///
/// assert!(validate_function_name("fee_transfer").is_ok());
/// let err = validate_function_name("fee-transfer").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "function name `fee-transfer` must contain only ASCII alphanumerics and underscore"
/// );
/// assert_eq!(validate_function_name(""), Err(NameError::Empty));
/// ```
pub fn validate_function_name(name: &str) -> Result<(), NameError> {
    let Some(first) = name.chars().next() else {
        return Err(NameError::Empty);
    };
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.to_owned()));
    }
    if !first.is_ascii_alphabetic() {
        return Err(NameError::BadStart(name.to_owned()));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(NameError::BadChar(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages() {
        let long = "a".repeat(33);
        assert_eq!(
            validate_function_name(&long).unwrap_err().to_string(),
            format!("function name `{long}` is longer than 32 bytes")
        );
        assert!(validate_function_name(&"a".repeat(32)).is_ok());
        assert_eq!(
            validate_function_name("1abc").unwrap_err().to_string(),
            "function name `1abc` must start with an ASCII letter"
        );
        assert_eq!(validate_function_name("_abc").unwrap_err(), NameError::BadStart("_abc".into()));
        assert_eq!(validate_function_name("héllo").unwrap_err(), NameError::BadChar("héllo".into()));
        assert_eq!(validate_function_name("é").unwrap_err(), NameError::BadStart("é".into()));
        assert!(validate_function_name("A1_b").is_ok());
    }
}
