//! The user documentation is generated from the ABI table: `docs/abi.md`
//! (v1) and `docs/abi-v2.md` are exactly what `abi::reference_markdown`
//! writes. After changing the table or a rule, regenerate them with
//! `RODA_BLESS=1 cargo test -p ledger-core --test docs`.

use ledger_core::abi::{self, PROFILES, Profile, Rule};

fn doc_path(profile: &Profile) -> std::path::PathBuf {
    let file = if profile.name == "v1" { "abi.md".to_owned() } else { format!("abi-{}.md", profile.name) };
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs").join(file)
}

#[test]
fn each_profiles_page_is_the_generated_reference() {
    for profile in PROFILES {
        let generated = abi::reference_markdown(profile);
        let path = doc_path(profile);
        if std::env::var_os("RODA_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} differs from the ABI table; regenerate it with `RODA_BLESS=1 cargo test -p ledger-core --test docs`",
            path.display()
        );
    }
}

#[test]
fn the_reference_has_a_row_for_every_import_status_and_rule() {
    for profile in PROFILES {
        let page = abi::reference_markdown(profile);
        for import in profile.host_imports {
            assert!(
                page.contains(&format!("| `ledger.{}` | `{}` |", import.name, import.signature)),
                "{}",
                import.name
            );
        }
        for info in profile.statuses {
            assert!(page.contains(&format!("| {} | {} |", info.status.code(), info.name)), "{}", info.name);
        }
        for export in profile.optional_exports {
            assert!(page.contains(&format!("| `{}` | `{}` |", export.name, export.signature)), "{}", export.name);
        }
        for rule in Rule::ALL {
            assert!(page.contains(&format!("| `{}` |", rule.code())), "{}", rule.code());
        }
    }
}
