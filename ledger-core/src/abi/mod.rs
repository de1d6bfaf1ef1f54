//! The function ABI as data.
//!
//! One table says what a roda-ledger function may import and must export. The
//! validator ([`validate`]), the runtime's linker, the guest SDK's bindings and
//! the user documentation all derive from it or are tested against it, so the
//! ABI is written down exactly once.
//!
//! ```
//! use ledger_core::abi::{HOST_IMPORTS, ENTRY_POINT, ValType};
//!
//! assert_eq!(ENTRY_POINT.name, "execute");
//! assert_eq!(ENTRY_POINT.params, &[ValType::I64; 8]);
//! assert!(HOST_IMPORTS.iter().any(|i| i.name == "get_balance"));
//! ```

mod name;
mod validate;

pub use name::{NameError, validate_function_name};
pub use validate::{ExportInfo, FEATURES, ImportInfo, Rule, Severity, ValidationReport, Violation, validate};

/// A WebAssembly value type that appears in the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

impl ValType {
    /// The type as written in the WebAssembly text format (`i32`, `i64`).
    pub const fn wat(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        }
    }
}

impl std::fmt::Display for ValType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wat())
    }
}

/// A function signature: parameter and result types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// Parameter types, in order.
    pub params: &'static [ValType],
    /// Result types, in order.
    pub results: &'static [ValType],
}

impl std::fmt::Display for Signature {
    /// Renders as `(i64, i64) -> ()`, the notation used in every message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fmt_signature(f, self.params.iter().copied(), self.results.iter().copied())
    }
}

pub(crate) fn fmt_signature(
    f: &mut impl std::fmt::Write,
    params: impl Iterator<Item = ValType>,
    results: impl Iterator<Item = ValType>,
) -> std::fmt::Result {
    fn list(f: &mut impl std::fmt::Write, types: impl Iterator<Item = ValType>) -> std::fmt::Result {
        f.write_char('(')?;
        for (i, t) in types.enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(t.wat())?;
        }
        f.write_char(')')
    }
    list(f, params)?;
    f.write_str(" -> ")?;
    let results: Vec<ValType> = results.collect();
    match results.as_slice() {
        [one] => f.write_str(one.wat()),
        many => list(f, many.iter().copied()),
    }
}

/// One host function a module may import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostImport {
    /// Import name inside [`HOST_MODULE`].
    pub name: &'static str,
    /// The exact signature the import must be declared with.
    pub signature: Signature,
    /// What the call does, in the ledger's own words.
    pub doc: &'static str,
}

/// The required export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPoint {
    /// Export name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
}

impl EntryPoint {
    /// The entry point's signature.
    pub const fn signature(&self) -> Signature {
        Signature { params: self.params, results: self.results }
    }
}

/// The import module every host function lives in.
pub const HOST_MODULE: &str = "ledger";

/// Number of `i64` parameters `execute` takes.
pub const PARAM_COUNT: usize = 8;

/// The export every function must provide: `execute(i64 x 8) -> i32`.
pub const ENTRY_POINT: EntryPoint =
    EntryPoint { name: "execute", params: &[ValType::I64; PARAM_COUNT], results: &[ValType::I32] };

/// `ledger.credit`: decreases a balance.
pub const CREDIT: HostImport = HostImport {
    name: "credit",
    signature: Signature { params: &[ValType::I64, ValType::I64], results: &[] },
    doc: "credit(account_id, amount): decreases account_id's balance by amount (saturating); never fails by itself",
};

/// `ledger.debit`: increases a balance.
pub const DEBIT: HostImport = HostImport {
    name: "debit",
    signature: Signature { params: &[ValType::I64, ValType::I64], results: &[] },
    doc: "debit(account_id, amount): increases account_id's balance by amount (saturating); never fails by itself",
};

/// `ledger.get_balance`: reads a balance, including this transaction's moves.
pub const GET_BALANCE: HostImport = HostImport {
    name: "get_balance",
    signature: Signature { params: &[ValType::I64], results: &[ValType::I64] },
    doc: "get_balance(account_id) -> i64: the current balance, including this transaction's own credits and debits",
};

/// Every host function a module may import, all in [`HOST_MODULE`].
pub const HOST_IMPORTS: [HostImport; 3] = [CREDIT, DEBIT, GET_BALANCE];

/// Largest binary a server accepts (the gRPC decode limit, 4 MiB).
pub const MAX_BINARY_SIZE: usize = 4 * 1024 * 1024;

/// Largest function name, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// Looks up a host import by name.
///
/// ```
/// assert!(ledger_core::abi::host_import("credit").is_some());
/// assert!(ledger_core::abi::host_import("transfer").is_none());
/// ```
pub fn host_import(name: &str) -> Option<&'static HostImport> {
    HOST_IMPORTS.iter().find(|i| i.name == name)
}

/// Why `execute` does not have the ABI's signature. `Display` is the
/// server's message, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryPointError {
    /// The module has no `execute` export.
    #[error("module does not export `execute`")]
    Missing,
    /// `execute` is exported but is not a function.
    #[error("export `execute` is not a function")]
    NotAFunction,
    /// `execute` takes the wrong number of parameters.
    #[error("`execute` must take exactly 8 parameters, got {0}")]
    ParamCount(usize),
    /// A parameter of `execute` is not `i64`.
    #[error("`execute` param {0} must be i64")]
    ParamType(usize),
    /// `execute` does not return exactly one `i32`.
    #[error("`execute` must return exactly one i32")]
    Results,
}

/// Checks `execute`'s signature in the server's order: parameter count, each
/// parameter's type, then the results. A type outside the ABI's vocabulary
/// (`f32`, `v128`, references) is passed as `None`.
///
/// ```
/// use ledger_core::abi::{check_execute_signature, EntryPointError, ValType};
///
/// let seven = [Some(ValType::I64); 7];
/// assert_eq!(
///     check_execute_signature(seven.into_iter(), [Some(ValType::I32)].into_iter()),
///     Err(EntryPointError::ParamCount(7)),
/// );
/// ```
pub fn check_execute_signature(
    params: impl ExactSizeIterator<Item = Option<ValType>>,
    results: impl Iterator<Item = Option<ValType>>,
) -> Result<(), EntryPointError> {
    if params.len() != PARAM_COUNT {
        return Err(EntryPointError::ParamCount(params.len()));
    }
    for (i, (param, expected)) in params.zip(ENTRY_POINT.params).enumerate() {
        if param != Some(*expected) {
            return Err(EntryPointError::ParamType(i));
        }
    }
    let results: Vec<Option<ValType>> = results.collect();
    let expected: Vec<Option<ValType>> = ENTRY_POINT.results.iter().copied().map(Some).collect();
    if results != expected {
        return Err(EntryPointError::Results);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_render_like_the_docs() {
        assert_eq!(CREDIT.signature.to_string(), "(i64, i64) -> ()");
        assert_eq!(GET_BALANCE.signature.to_string(), "(i64) -> i64");
        assert_eq!(ENTRY_POINT.signature().to_string(), "(i64, i64, i64, i64, i64, i64, i64, i64) -> i32");
    }
}
