//! The import macros and the profiles' tables agree, checked from outside
//! the crate with one callback written for both macros, as a linker or FFI
//! generator would be.

use ledger_abi::{HostImport, PROFILES, Phase, Profile, Status, StatusName, V1, V2, ValType};

/// One import as a callback sees it: name, doc, phase, params, result.
#[derive(Debug, PartialEq)]
struct Declared {
    name: &'static str,
    doc: &'static str,
    phase: Option<&'static str>,
    params: Vec<(&'static str, &'static str)>,
    result: Option<&'static str>,
}

/// Written once, for both profiles: the optional `#[phase = ...]` is what
/// v2 adds to v1's shape.
macro_rules! declared {
    (module = $module:literal; $( #[doc = $doc:literal] $(#[phase = $phase:ident])? fn $name:ident($($p:ident : $t:ident),*) $(-> $r:ident)?; )*) => {
        ($module, vec![$(Declared {
            name: stringify!($name),
            doc: $doc,
            phase: None $(.or(Some(stringify!($phase))))?,
            params: vec![$((stringify!($p), stringify!($t))),*],
            result: None $(.or(Some(stringify!($r))))?,
        }),*])
    };
}

fn from_table(import: &HostImport) -> Declared {
    let phase = match import.phase {
        Phase::Execute => None,
        Phase::ExecuteOrTrap => Some("ExecuteOrTrap"),
        Phase::RegisterOrTrap => Some("RegisterOrTrap"),
    };
    Declared {
        name: import.name,
        doc: import.doc,
        phase,
        params: import.params.iter().map(|p| (p.name, p.ty.name())).collect(),
        result: import.result.map(|r| r.name()),
    }
}

fn check(profile: &Profile, (module, declared): (&str, Vec<Declared>)) {
    assert_eq!(module, profile.host_module);
    let table: Vec<Declared> = profile.host_imports.iter().map(from_table).collect();
    assert_eq!(declared, table, "{}: names, docs, phases, param types, results and order", profile.name);
    for import in profile.host_imports {
        let params: Vec<ValType> = import.params.iter().map(|p| p.ty.val_type()).collect();
        let results: Vec<ValType> = import.result.iter().map(|r| r.val_type()).collect();
        assert_eq!((&params[..], &results[..]), (import.signature.params, import.signature.results), "{}", import.name);
    }
}

#[test]
fn v1_host_imports_agrees_with_v1s_table() {
    check(&V1, ledger_abi::v1_host_imports!(declared));
}

#[test]
fn v2_host_imports_agrees_with_v2s_table() {
    check(&V2, ledger_abi::v2_host_imports!(declared));
}

/// Every doc starts with the call as the table types it, and a v2 doc says
/// what the import does in the phase its [`Phase`] forbids.
#[test]
fn docs_name_the_call_and_the_forbidden_phase() {
    for profile in PROFILES {
        for import in profile.host_imports {
            let params: Vec<&str> = import.params.iter().map(|p| p.name).collect();
            let result = import.result.map_or(String::new(), |r| format!(" -> {}", r.name()));
            let call = format!("{}({}){result}: ", import.name, params.join(", "));
            assert!(import.doc.starts_with(&call), "{}: {}", profile.name, import.doc);
        }
    }
    for import in V2.host_imports {
        let forbidden = match (import.phase, import.result) {
            (Phase::Execute, Some(_)) => "register(): sets status 8 (PROHIBITED_HOST_CALL) and returns 0",
            (Phase::Execute, None) => "register(): sets status 8 (PROHIBITED_HOST_CALL) and does nothing",
            (Phase::ExecuteOrTrap, _) => "register(): sets status 8 (PROHIBITED_HOST_CALL) and traps",
            (Phase::RegisterOrTrap, _) => "execute: sets status 8 (PROHIBITED_HOST_CALL) and traps",
        };
        assert!(import.doc.ends_with(forbidden), "{}", import.doc);
    }
}

#[test]
fn v2_phases_name_exactly_the_constant_verbs() {
    let register: Vec<&str> = V2.imports_in(true).map(|i| i.name).collect();
    assert_eq!(register, ["kv_register_constant"]);
    let execute: Vec<&str> = V2.imports_in(false).map(|i| i.name).collect();
    assert_eq!(execute.len(), 10);
    assert!(!execute.contains(&"kv_register_constant"));
    assert!(execute.contains(&"kv_get_constant"));
    let readers: Vec<&str> = V2.host_imports.iter().filter(|i| i.reads_name()).map(|i| i.name).collect();
    assert_eq!(readers, ["kv_register_constant", "kv_get_constant"]);
    assert_eq!(V2.memory_export, Some("memory"));
    assert!(V1.host_imports.iter().all(|i| !i.reads_name() && i.phase == Phase::Execute));
    assert!(V1.optional_exports.is_empty());
}

/// v1's profile-aware status methods are exactly the profile-free ones.
#[test]
fn v1s_status_methods_are_statuss() {
    for code in 0..=u8::MAX {
        let status = Status::from_code(code);
        assert_eq!(V1.status_name(status), status.name(), "{code}");
        assert_eq!(V1.is_reserved(status), status.is_reserved(), "{code}");
        assert_eq!(V1.status_info(status).map(|i| i.meaning), status.meaning(), "{code}");
        assert_eq!(V1.parse_status(&status.to_string()), Some(status), "{code}");
    }
}

#[test]
fn v2_names_8_to_10_and_reserves_6() {
    for code in 0..=u8::MAX {
        let status = Status::from_code(code);
        let name = V2.status_name(status);
        assert_eq!(V2.parse_status(&name.to_string()), Some(status), "{code}");
        let reserved = code == 6 || (11..128).contains(&code);
        assert_eq!(V2.is_reserved(status), reserved, "{code}");
        assert_eq!(matches!(name, StatusName::Reserved(_)), reserved, "{code}");
    }
    let names: Vec<&str> = V2.statuses.iter().filter(|i| i.status.code() >= 8).map(|i| i.name).collect();
    assert_eq!(names, ["PROHIBITED_HOST_CALL", "CONSTANT_NOT_FOUND", "CONSTANT_NAME_TOO_LONG"]);
    assert_eq!(Status::V2_ADDED, &V2.statuses[7..]);
    // The profile-free parser knows every profile's names.
    for info in V1.statuses.iter().chain(V2.statuses) {
        assert_eq!(Status::parse(info.name), Some(info.status));
    }
}

#[test]
fn v2_limits() {
    assert_eq!(V2.limits.max_entries_per_tx, 65_535);
    assert_eq!(V2.limits.default_max_accounts, None);
    assert_eq!(V2.limits.max_constant_name_len, 32);
    assert_eq!(V1.limits.max_entries_per_tx, 255);
    assert_eq!(V1.limits.default_max_accounts, Some(1_000_000));
    assert_eq!(V1.limits.max_constant_name_len, 0);
    assert_eq!(ledger_abi::profile("v2"), Some(&V2));
    assert_eq!(PROFILES.iter().map(|p| p.name).collect::<Vec<_>>(), ["v1", "v2"]);
}
