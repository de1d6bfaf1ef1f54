//! The user documentation is generated from the ABI table: `docs/abi.md` is
//! exactly what `abi::reference_markdown` writes. After changing the table or
//! a rule, regenerate it with `RODA_BLESS=1 cargo test -p ledger-core --test docs`.

use ledger_core::abi::{self, HOST_IMPORTS, Rule, V1};

fn doc_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/abi.md")
}

#[test]
fn docs_abi_md_is_the_generated_reference() {
    let generated = abi::reference_markdown(&V1);
    if std::env::var_os("RODA_BLESS").is_some() {
        std::fs::write(doc_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(doc_path()).unwrap();
    assert!(
        committed == generated,
        "docs/abi.md differs from the ABI table; regenerate it with `RODA_BLESS=1 cargo test -p ledger-core --test docs`"
    );
}

#[test]
fn the_reference_has_a_row_for_every_import_status_and_rule() {
    let page = abi::reference_markdown(&V1);
    for import in HOST_IMPORTS {
        assert!(page.contains(&format!("| `ledger.{}` | `{}` |", import.name, import.signature)), "{}", import.name);
    }
    for info in ledger_core::Status::STANDARD {
        assert!(page.contains(&format!("| {} | {} |", info.status.code(), info.name)), "{}", info.name);
    }
    for rule in Rule::ALL {
        assert!(page.contains(&format!("| `{}` |", rule.code())), "{}", rule.code());
    }
}
