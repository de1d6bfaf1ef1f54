//! The user documentation says what the ABI table says.

use ledger_core::abi::{ENTRY_POINT, HOST_IMPORTS, HOST_MODULE, MAX_BINARY_SIZE, Rule, Severity};
use ledger_core::{MAX_ENTRIES_PER_TX, Status};

const ABI_DOC: &str = include_str!("../../docs/abi.md");

#[test]
fn abi_doc_lists_every_import_with_its_signature() {
    assert!(ABI_DOC.contains(&format!("| `{}` | `{}` |", ENTRY_POINT.name, ENTRY_POINT.signature())));
    for import in HOST_IMPORTS {
        let row = format!("| `{HOST_MODULE}.{}` | `{}` |", import.name, import.signature);
        assert!(ABI_DOC.contains(&row), "docs/abi.md lacks {row}");
    }
    let documented = ABI_DOC.lines().filter(|l| l.starts_with(&format!("| `{HOST_MODULE}."))).count();
    assert_eq!(documented, HOST_IMPORTS.len(), "docs/abi.md documents an import the ABI lacks");
}

#[test]
fn abi_doc_lists_every_rule() {
    for rule in Rule::ALL {
        let severity = match rule.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let server = if rule.server_enforced() { "yes" } else { "no" };
        let row = format!("| `{}` | {severity} | {server} | {} |", rule.code(), rule.title());
        assert!(ABI_DOC.contains(&row), "docs/abi.md lacks {row}");
    }
}

#[test]
fn abi_doc_states_the_limits_and_statuses() {
    assert!(ABI_DOC.contains(&format!("| binary size | {MAX_BINARY_SIZE} bytes")));
    assert!(ABI_DOC.contains(&format!("| entries per transaction | {MAX_ENTRIES_PER_TX} |")));
    for (status, name) in Status::STANDARD {
        assert!(ABI_DOC.contains(&format!("| {} | {name}", status.code())), "{name}");
    }
}
