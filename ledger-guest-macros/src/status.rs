//! `#[status]`: a function's own status, named in the interface manifest.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{ItemConst, LitByteStr, Path};

use crate::manifest::{doc_field, json_string};

/// Keeps the constant and adds its line to the manifest. The code is the
/// constant's value, read at compile time, so the source states it once.
pub fn expand(attr: TokenStream, item: TokenStream) -> Result<TokenStream, syn::Error> {
    let krate: Path = crate::model::parse_attr(attr, "#[status]")?;
    let item: ItemConst = syn::parse2(item).map_err(|err| {
        syn::Error::new(
            err.span(),
            "`#[status]` goes on a constant: `#[status] pub const COLLATERAL_SHORT: Status = Status::user(140);`",
        )
    })?;
    let name = &item.ident;
    // The line is `{"status":"NAME","code":NNN...}`: the code is written at
    // compile time into three characters, padded with spaces (JSON allows
    // them before a number).
    let prefix = format!("{{\"status\":{},\"code\":", json_string(&name.unraw().to_string()));
    let suffix = format!("{}}}\n", doc_field(&item.attrs));
    let len = prefix.len() + 3 + suffix.len();
    let prefix = LitByteStr::new(prefix.as_bytes(), name.span());
    let suffix = LitByteStr::new(suffix.as_bytes(), name.span());
    Ok(quote! {
        #item

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[unsafe(link_section = "roda.interface")]
            static _STATUS: [u8; #len] = #krate::__private::status_line::<#len>(#prefix, #name.code(), #suffix);
        };
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn keeps_the_constant_and_adds_its_line_for_wasm32_only() {
        let out = super::expand(
            quote!(),
            quote! {
                /// Not enough "collateral".
                pub const SHORT: Status = Status::user(140);
            },
        )
        .unwrap()
        .to_string();
        assert!(out.contains("pub const SHORT : Status = Status :: user (140) ;"), "{out}");
        assert!(out.contains("# [cfg (target_arch = \"wasm32\")] const _ : () ="), "{out}");
        assert!(
            out.contains(r#":: ledger_guest :: __private :: status_line :: < 65usize > (b"{\"status\":\"SHORT\",\"code\":" , SHORT . code () , b",\"doc\":\"Not enough \\\"collateral\\\".\"}\n")"#),
            "{out}"
        );
    }

    #[test]
    fn refuses_anything_but_a_constant() {
        let err = super::expand(quote!(), quote! { fn f() {} }).unwrap_err();
        assert!(err.to_string().contains("`#[status]` goes on a constant"), "{err}");
        let err = super::expand(quote!(x), quote! { const A: Status = Status::NONE; }).unwrap_err();
        assert!(err.to_string().contains("`#[status]` takes only `crate"), "{err}");
    }
}
