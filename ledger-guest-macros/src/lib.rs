//! The `#[execute]` and `#[register]` attributes. Use them through
//! `ledger_guest`; the documentation lives there.
//!
//! The macro is thin: `model` parses the function into a model, collecting
//! every error at once, and `expand` generates code from the model.

use proc_macro::TokenStream;

mod expand;
mod model;
mod register;

/// Turns a plain Rust function into the ledger's `execute` export. See
/// `ledger_guest::execute`.
#[proc_macro_attribute]
pub fn execute(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = proc_macro2::TokenStream::from(attr);
    let item = proc_macro2::TokenStream::from(item);
    match model::Function::parse(attr, item) {
        Ok(function) => expand::expand(&function).into(),
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
