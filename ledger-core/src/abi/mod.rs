//! The function ABI as data.
//!
//! One table says what a roda-ledger function may import and must export. The
//! validator ([`validate`]), the runtime's linker, the guest SDK's bindings and
//! the user documentation all derive from it or are tested against it, so the
//! ABI is written down exactly once.
//!
//! The table itself is the `ledger-abi` crate, re-exported here; this module
//! adds what needs a parser: the validator and the server's entry-point check.
//!
//! ```
//! use ledger_core::abi::{HOST_IMPORTS, ENTRY_POINT, ValType};
//!
//! assert_eq!(ENTRY_POINT.name, "execute");
//! assert_eq!(ENTRY_POINT.signature.params, &[ValType::I64; 8]);
//! assert!(HOST_IMPORTS.iter().any(|i| i.name == "get_balance"));
//! ```

mod name;
mod reference;
mod validate;

pub use ledger_abi::{
    EntryPoint, HostImport, IntType, MAX_BINARY_SIZE, MAX_NAME_LEN, OptionalExport, PARAM_COUNT, PROFILES, Param,
    Phase, Profile, ProfileId, ProfileLimits, Signature, V1, V2, V2_RING_RECORDS, ValType, bindings, profile,
    v1_host_imports, v2_host_imports, write_signature,
};
pub use name::{NameError, validate_function_name};
pub use reference::reference_markdown;
pub use validate::{
    ExportInfo, FEATURES, ImportInfo, Rule, SERVER_FEATURES, Severity, ValidationReport, Violation, inferred_profile,
    satisfied_profiles, validate, validate_for,
};

/// The import module of the v1 host functions ([`V1`]'s `host_module`).
pub const HOST_MODULE: &str = V1.host_module;

/// The v1 host imports ([`V1`]'s `host_imports`).
pub const HOST_IMPORTS: &[HostImport] = V1.host_imports;

/// The export every function must provide: `execute(i64 x 8) -> i32`.
pub const ENTRY_POINT: EntryPoint = V1.entry_point;

/// Looks up a v1 host import by name.
///
/// ```
/// assert!(ledger_core::abi::host_import("credit").is_some());
/// assert!(ledger_core::abi::host_import("transfer").is_none());
/// ```
pub fn host_import(name: &str) -> Option<&'static HostImport> {
    V1.host_import(name)
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

/// Why an optional export (v2's `register`) is refused. `Display` is the
/// e14b146 server's message, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionalExportError {
    /// The export is not a function.
    #[error("export `{0}` is not a function")]
    NotAFunction(&'static str),
    /// The function's type is not the ABI's (`() -> ()` for `register`,
    /// the only optional export, hence the words).
    #[error("`{0}` must take no parameters and return nothing")]
    Signature(&'static str),
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
    for (i, (param, expected)) in params.zip(ENTRY_POINT.signature.params).enumerate() {
        if param != Some(*expected) {
            return Err(EntryPointError::ParamType(i));
        }
    }
    let results: Vec<Option<ValType>> = results.collect();
    if !results.iter().copied().eq(ENTRY_POINT.signature.results.iter().copied().map(Some)) {
        return Err(EntryPointError::Results);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_render_like_the_docs() {
        assert_eq!(host_import("credit").unwrap().signature.to_string(), "(i64, i64) -> ()");
        assert_eq!(host_import("get_balance").unwrap().signature.to_string(), "(i64) -> i64");
        assert_eq!(ENTRY_POINT.signature.to_string(), "(i64, i64, i64, i64, i64, i64, i64, i64) -> i32");
    }
}
