//! The vocabulary of a function's interface manifest: the custom section's
//! name and the kinds a parameter of `execute` may have.
//!
//! A manifest (the `roda.interface` custom section) names a function's
//! parameters, its own statuses and the constants it registers, so tools
//! can take `amount = 100` instead of a slot number and print `USER(140) =
//! COLLATERAL_SHORT`. A server ignores the section, and its CRC32C covers
//! it like any other byte. `ledger-guest`'s macros write it from the Rust
//! source; `ledger_core::interface` reads and writes it.
//!
//! ```
//! use ledger_abi::interface::ParamKind;
//!
//! assert_eq!(ParamKind::from_rust_type("AccountId"), Some(ParamKind::Account));
//! assert_eq!(ParamKind::Account.name(), "account");
//! assert_eq!(ParamKind::from_name("amount"), Some(ParamKind::Amount));
//! ```

/// The custom section's name.
pub const SECTION: &str = "roda.interface";

/// The manifest format this crate describes; a reader refuses a later one.
pub const FORMAT: u32 = 1;

/// What a parameter of `execute` holds, as `#[execute]` converts its `i64`
/// slot. One row per Rust type the macro accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamKind {
    /// Any `i64`, as is.
    I64,
    /// The slot's 64 bits read unsigned.
    U64,
    /// An account id (the slot's bits, unsigned).
    Account,
    /// A non-negative amount; a negative slot fails the call before the
    /// function runs.
    Amount,
    /// `0` is false, anything else true.
    Bool,
    /// An `i32`; a slot outside its range fails the call.
    I32,
    /// A `u32`; a slot outside its range fails the call.
    U32,
}

impl ParamKind {
    /// Every kind, in the order the macro documents them.
    pub const ALL: [ParamKind; 7] = [
        ParamKind::I64,
        ParamKind::U64,
        ParamKind::Account,
        ParamKind::Amount,
        ParamKind::Bool,
        ParamKind::I32,
        ParamKind::U32,
    ];

    /// The kind's name in a manifest: `i64`, `u64`, `account`, `amount`,
    /// `bool`, `i32`, `u32`.
    pub const fn name(self) -> &'static str {
        match self {
            ParamKind::I64 => "i64",
            ParamKind::U64 => "u64",
            ParamKind::Account => "account",
            ParamKind::Amount => "amount",
            ParamKind::Bool => "bool",
            ParamKind::I32 => "i32",
            ParamKind::U32 => "u32",
        }
    }

    /// The Rust type an `#[execute]` parameter of this kind is written with
    /// (the last path segment).
    pub const fn rust_type(self) -> &'static str {
        match self {
            ParamKind::Account => "AccountId",
            ParamKind::Amount => "Amount",
            other => other.name(),
        }
    }

    /// What a slot of this kind holds, in a sentence.
    pub const fn meaning(self) -> &'static str {
        match self {
            ParamKind::I64 => "any i64, as is",
            ParamKind::U64 => "the slot's 64 bits read unsigned (-1 is u64::MAX)",
            ParamKind::Account => "an account id (the slot's bits, unsigned)",
            ParamKind::Amount => {
                "0 or more; a negative slot fails the call with NEGATIVE_AMOUNT before the function runs"
            }
            ParamKind::Bool => "0 is false, anything else true",
            ParamKind::I32 => {
                "an i32; a slot outside it fails the call with INVALID_OPERATION before the function runs"
            }
            ParamKind::U32 => "a u32; a slot outside it fails the call with INVALID_OPERATION before the function runs",
        }
    }

    /// The kind a manifest names.
    pub fn from_name(name: &str) -> Option<ParamKind> {
        ParamKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The kind of an `#[execute]` parameter written with this type.
    pub fn from_rust_type(ty: &str) -> Option<ParamKind> {
        ParamKind::ALL.into_iter().find(|kind| kind.rust_type() == ty)
    }

    /// Whether `value` is one the function accepts without failing before
    /// its code runs, and what it accepts otherwise.
    ///
    /// ```
    /// use ledger_abi::interface::ParamKind;
    /// assert!(ParamKind::Amount.accepts(0).is_ok());
    /// assert_eq!(ParamKind::Amount.accepts(-1), Err("0 or more (a negative amount fails the call with NEGATIVE_AMOUNT)"));
    /// assert!(ParamKind::U32.accepts(1 << 32).is_err());
    /// ```
    pub const fn accepts(self, value: i64) -> Result<(), &'static str> {
        let fits = match self {
            ParamKind::Amount => value >= 0,
            ParamKind::I32 => value >= i32::MIN as i64 && value <= i32::MAX as i64,
            ParamKind::U32 => value >= 0 && value <= u32::MAX as i64,
            ParamKind::I64 | ParamKind::U64 | ParamKind::Account | ParamKind::Bool => true,
        };
        if fits {
            return Ok(());
        }
        Err(match self {
            ParamKind::Amount => "0 or more (a negative amount fails the call with NEGATIVE_AMOUNT)",
            ParamKind::I32 => "an i32 (a value outside it fails the call with INVALID_OPERATION)",
            _ => "a u32 (a value outside it fails the call with INVALID_OPERATION)",
        })
    }
}
