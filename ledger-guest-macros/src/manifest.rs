//! Lines of the `roda.interface` custom section (the format is
//! `ledger_core::interface`'s), emitted as statics in that section: on wasm
//! rustc writes such a static into the custom section and wasm-ld
//! concatenates the sections of one name, so each macro writes its own lines
//! and none needs to see the others. Only on wasm32. Not `#[used]`: that
//! would also keep a copy of the bytes in the module's data (measured: 575
//! bytes more for collateral_check).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Expr, Lit, LitByteStr, Meta};

/// A JSON string literal of `text`, quotes included.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `,"doc":"..."` for a non-empty doc comment, else nothing.
pub fn doc_field(attrs: &[Attribute]) -> String {
    let doc = doc(attrs);
    if doc.is_empty() { String::new() } else { format!(",\"doc\":{}", json_string(&doc)) }
}

/// The doc comment, each line without the one space `///` leaves.
fn doc(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(text) => Some(text.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').unwrap_or(&line).trim_end().to_owned())
        .collect();
    lines.join("\n").trim().to_owned()
}

/// Statics holding `lines` (each a complete line, `\n` included) in the
/// section, on wasm32 only.
pub fn section(lines: &[String]) -> TokenStream {
    let statics = lines.iter().map(|line| {
        let bytes = LitByteStr::new(line.as_bytes(), Span::call_site());
        let len = line.len();
        quote! {
            #[unsafe(link_section = "roda.interface")]
            static _LINE: [u8; #len] = *#bytes;
        }
    });
    // One anonymous scope per static, so that their names never clash.
    quote! { #( #[cfg(target_arch = "wasm32")] const _: () = { #statics }; )* }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_what_json_requires() {
        assert_eq!(json_string("a \"b\" \\ c\nd\u{1}é"), "\"a \\\"b\\\" \\\\ c\\nd\\u0001é\"");
    }

    #[test]
    fn doc_comments_lose_the_leading_space_only() {
        let item: syn::ItemFn = syn::parse_quote! {
            /// First line.
            ///    indented
            fn f() {}
        };
        assert_eq!(doc(&item.attrs), "First line.\n   indented");
        assert_eq!(doc_field(&[]), "");
    }
}
