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

/// Every test `docs/differences.md` names exists: a difference pinned by a
/// test that is gone is no longer pinned.
#[test]
fn the_tests_docs_differences_names_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = std::fs::read_to_string(root.join("docs/differences.md")).unwrap();
    let mut sources = String::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
                dirs.push(path);
            } else if name.ends_with(".rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    // Test names: backticked snake_case words with three or more underscores.
    let named: Vec<&str> = page
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            word.matches('_').count() >= 3
                && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '*')
        })
        .collect();
    assert!(named.len() > 20, "the page names its tests: {named:?}");
    for name in named {
        let prefix = name.trim_end_matches('*');
        assert!(sources.contains(&format!("fn {prefix}")), "docs/differences.md names `{name}`, which no test defines");
    }
}
