//! What `#[execute]` was applied to, checked.

use ledger_abi::interface::ParamKind;
use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::{FnArg, ItemFn, LitStr, Pat, Path, ReturnType, Type};

/// Parameters `execute` carries.
pub const MAX_PARAMS: usize = ledger_abi::PARAM_COUNT;

/// The kind of a parameter type the macro converts from an `i64` slot, by
/// the type's last path segment (the ABI table's `ParamKind` rows). The
/// conversion itself is `ledger_guest::__private::FromParam`.
fn param_kind(ty: &Type) -> Option<ParamKind> {
    last_segment(ty).filter(|s| s.arguments.is_none()).and_then(|s| ParamKind::from_rust_type(&s.ident.to_string()))
}

/// A function `#[execute]` can wrap.
pub struct Function {
    /// The function, unchanged.
    pub item: ItemFn,
    /// Path of the ledger-guest crate in generated code.
    pub krate: Path,
    /// Parameter types, in order.
    pub params: Vec<Type>,
    /// Each parameter's name and kind, for the interface manifest.
    pub manifest: Vec<(String, ParamKind)>,
}

impl Function {
    /// Parses and checks, reporting every problem at once.
    pub fn parse(attr: TokenStream, item: TokenStream) -> Result<Function, syn::Error> {
        let mut errors = Errors::default();
        let krate = errors.take(parse_attr(attr, "#[execute]")).unwrap_or_else(|| syn::parse_quote!(::ledger_guest));
        let item: ItemFn = match syn::parse2(item) {
            Ok(item) => item,
            Err(err) => {
                errors.push(syn::Error::new(
                    err.span(),
                    "`#[execute]` goes on a function: `#[execute] fn my_function(...)`",
                ));
                return Err(errors.finish().expect("an error was pushed"));
            }
        };
        let sig = &item.sig;
        if sig.ident == "execute" {
            errors.push(syn::Error::new(
                sig.ident.span(),
                "`#[execute]` generates the `execute` export itself: give this function another name, e.g. `fee_transfer`",
            ));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            errors.push(syn::Error::new_spanned(
                &sig.generics,
                "an `#[execute]` function cannot be generic: the ledger calls it with eight i64 values",
            ));
        }
        if let Some(asyncness) = sig.asyncness {
            errors.push(syn::Error::new(
                asyncness.span,
                "an `#[execute]` function cannot be `async`: the ledger calls it synchronously",
            ));
        }
        if let Some(variadic) = &sig.variadic {
            errors.push(syn::Error::new_spanned(variadic, "an `#[execute]` function cannot be variadic"));
        }
        if let Some(abi) = &sig.abi {
            errors.push(syn::Error::new_spanned(
                abi,
                "write a plain Rust function: `#[execute]` adds the `extern \"C\"` export itself",
            ));
        }
        let mut params = Vec::new();
        let mut manifest = Vec::new();
        for (index, input) in sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                    receiver,
                    "an `#[execute]` function cannot take `self`: write a free function",
                )),
                FnArg::Typed(typed) => {
                    if index == MAX_PARAMS {
                        errors.push(syn::Error::new_spanned(
                            typed,
                            format!(
                                "an `#[execute]` function takes at most {MAX_PARAMS} parameters (the ledger passes eight i64 slots); this one takes {}",
                                sig.inputs.len()
                            ),
                        ));
                    }
                    match param_kind(&typed.ty) {
                        Some(kind) => manifest.push((param_name(&typed.pat, index), kind)),
                        None => {
                            let types: Vec<&str> = ParamKind::ALL.iter().map(|k| k.rust_type()).collect();
                            errors.push(syn::Error::new_spanned(
                                &typed.ty,
                                format!("unsupported parameter type: use one of {}", types.join(", ")),
                            ));
                        }
                    }
                    params.push((*typed.ty).clone());
                }
            }
        }
        errors.take(check_returns(&sig.output));
        match errors.finish() {
            None => Ok(Function { item, krate, params, manifest }),
            Some(errors) => Err(errors),
        }
    }
}

/// A parameter's name as the manifest gives it: the binding's, or `paramN`
/// for a pattern that binds no one name.
fn param_name(pat: &Pat, index: usize) -> String {
    match pat {
        Pat::Ident(ident) => ident.ident.unraw().to_string(),
        _ => format!("param{index}"),
    }
}

/// The attribute's arguments: only `crate = "path::to::ledger_guest"`.
pub fn parse_attr(attr: TokenStream, macro_name: &str) -> syn::Result<Path> {
    let mut krate = None;
    if attr.is_empty() {
        return Ok(syn::parse_quote!(::ledger_guest));
    }
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let path: LitStr = meta.value()?.parse()?;
            krate = Some(path.parse::<Path>()?);
            Ok(())
        } else {
            Err(meta.error(format!("unknown argument: `{macro_name}` takes only `crate = \"path::to::ledger_guest\"`")))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(krate.unwrap_or_else(|| syn::parse_quote!(::ledger_guest)))
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

fn is_status(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.arguments.is_none() && s.ident == "Status")
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// Accepts what `ledger_guest::IntoStatus` is implemented for: nothing,
/// `()`, `Status` and `Result<(), Status>`.
fn check_returns(output: &ReturnType) -> syn::Result<()> {
    let ty = match output {
        ReturnType::Default => return Ok(()),
        ReturnType::Type(_, ty) => ty,
    };
    if is_unit(ty) || is_status(ty) {
        return Ok(());
    }
    if let Some(segment) = last_segment(ty)
        && segment.ident == "Result"
        && let syn::PathArguments::AngleBracketed(args) = &segment.arguments
    {
        let types: Vec<&Type> = args
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect();
        if let [ok, err] = types.as_slice()
            && is_unit(ok)
            && is_status(err)
        {
            return Ok(());
        }
    }
    Err(syn::Error::new_spanned(
        ty,
        "unsupported return type: return `Result<(), Status>`, `Status` or nothing (the ledger receives one status byte)",
    ))
}

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    fn finish(self) -> Option<syn::Error> {
        self.0
    }
}
