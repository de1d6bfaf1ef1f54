//! The `#[execute]`, `#[register]` and `#[status]` attributes. Use them through
//! `ledger_guest`; the documentation lives there.
//!
//! The macro is thin: `model` parses the function into a model, collecting
//! every error at once, and `expand` generates code from the model.

use proc_macro::TokenStream;

mod expand;
mod manifest;
mod model;
mod register;
mod status;

/// Turns a plain Rust function into the ledger's `execute` export. See
/// `ledger_guest::execute`.
#[proc_macro_attribute]
pub fn execute(attr: TokenStream, item: TokenStream) -> TokenStream {
    execute_for("v1", attr, item)
}

/// `#[execute]` as `ledger_guest::v2` exports it: the same function, whose
/// interface manifest says ABI v2. The ABI follows the path the macro is
/// imported from, not a cargo feature, which a workspace unifies across its
/// crates.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn execute_v2(attr: TokenStream, item: TokenStream) -> TokenStream {
    execute_for("v2", attr, item)
}

fn execute_for(abi: &str, attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = proc_macro2::TokenStream::from(attr);
    let item = proc_macro2::TokenStream::from(item);
    match model::Function::parse(attr, item) {
        Ok(function) => expand::expand(&function, abi).into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}

/// Turns a plain Rust function into v2's `register` export. See
/// `ledger_guest::v2::register`.
#[proc_macro_attribute]
pub fn register(attr: TokenStream, item: TokenStream) -> TokenStream {
    match register::expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}

/// Names a function's own status in its interface manifest. See
/// `ledger_guest::status`.
#[proc_macro_attribute]
pub fn status(attr: TokenStream, item: TokenStream) -> TokenStream {
    match status::expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(errors) => errors.to_compile_error().into(),
    }
}
