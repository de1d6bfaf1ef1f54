//! The ABI reference pages (`docs/abi.md` for v1, `docs/abi-v2.md`),
//! generated from the table and the validator's rules so the documentation
//! cannot drift from either.

use std::fmt::Write as _;

use super::{Profile, Rule, Severity};

/// The ABI reference page for `profile`, in Markdown: the entry point, the
/// host imports, the statuses, the limits and every validation rule.
/// `docs/abi.md` is this text; a test keeps it so.
///
/// ```
/// let page = ledger_core::abi::reference_markdown(&ledger_core::abi::V1);
/// assert!(page.contains("| `ledger.credit` | `(i64, i64) -> ()` |"));
/// let page = ledger_core::abi::reference_markdown(&ledger_core::abi::V2);
/// assert!(page.contains("| `ledger.kv_get_constant` | `(i32) -> i32` |"));
/// ```
pub fn reference_markdown(profile: &Profile) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_reference(profile, &mut out);
    out
}

fn write_reference(profile: &Profile, out: &mut String) -> std::fmt::Result {
    let module = profile.host_module;
    let entry = &profile.entry_point;
    let limits = &profile.limits;
    writeln!(out, "# The function ABI ({}, roda-ledger {})", profile.name, profile.upstream_commit)?;
    writeln!(out)?;
    writeln!(
        out,
        "A roda-ledger function is a WebAssembly module. The ledger calls one export and offers {} imports;\n\
         nothing else is available. This page is generated from the ABI table (the `ledger-abi` crate) and\n\
         the validator's rules (`ledger_core::abi::reference_markdown`); a test fails when it differs, so it\n\
         cannot drift from what the validator and the runtime enforce.",
        profile.host_imports.len()
    )?;
    writeln!(out)?;
    writeln!(out, "## Required export")?;
    writeln!(out)?;
    writeln!(out, "| export | signature |")?;
    writeln!(out, "|---|---|")?;
    writeln!(out, "| `{}` | `{}` |", entry.name, entry.signature)?;
    writeln!(out)?;
    if !profile.optional_exports.is_empty() {
        writeln!(out, "Optional exports, checked when present:")?;
        writeln!(out)?;
        writeln!(out, "| export | signature | what the server does with it |")?;
        writeln!(out, "|---|---|---|")?;
        for export in profile.optional_exports {
            writeln!(out, "| `{}` | `{}` | {} |", export.name, export.signature, export.doc)?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "The {} parameters are the call's `params`, zero-padded (a server silently drops a ninth). The\n\
         return value is reduced to its low byte: `0` commits, `1..=127` are standard reasons, `128..=255`\n\
         are yours. A return of `256` is status `0` and **commits**.",
        entry.signature.params.len()
    )?;
    writeln!(out)?;
    writeln!(out, "## Host imports (module `{module}`)")?;
    writeln!(out)?;
    writeln!(out, "| import | signature | parameters | effect |")?;
    writeln!(out, "|---|---|---|---|")?;
    for import in profile.host_imports {
        let params: Vec<String> = import.params.iter().map(|p| format!("{}: {}", p.name, p.ty.name())).collect();
        let effect = import.doc.split_once(": ").map_or(import.doc, |(_, effect)| effect);
        writeln!(out, "| `{module}.{}` | `{}` | `{}` | {effect} |", import.name, import.signature, params.join(", "))?;
    }
    writeln!(out)?;
    match profile.limits.default_max_accounts {
        Some(_) => writeln!(
            out,
            "Amounts are passed as `u64` and applied as `amount as i64`: an amount of `2^63` or more moves the\n\
             balance the other way. An account id at or above the ledger's `max_accounts` fails the\n\
             transaction with status 6."
        )?,
        None => writeln!(
            out,
            "Amounts are passed as `u64` and applied as `amount as i64`: an amount of `2^63` or more moves the\n\
             balance the other way. Accounts must exist: `OpenAccount` opens them (built-in operations need an\n\
             OPEN account, credit and debit any existing one), `linked_account` creates PROGRAMMED children.\n\
             Inside `register()` the data verbs set status 8 and return 0; a failing `register()` rolls the\n\
             registration back."
        )?,
    }
    writeln!(out)?;
    writeln!(out, "## Statuses")?;
    writeln!(out)?;
    writeln!(out, "| value | name | meaning |")?;
    writeln!(out, "|---|---|---|")?;
    for info in profile.statuses {
        writeln!(out, "| {} | {} | {} |", info.status.code(), info.name, info.meaning)?;
    }
    writeln!(out, "| {}..=127 | reserved | for future standard reasons |", profile.reserved_from())?;
    writeln!(out, "| 128..=255 | user-defined | a function's own reasons |")?;
    writeln!(out)?;
    writeln!(out, "## Limits")?;
    writeln!(out)?;
    writeln!(out, "| rule | limit |")?;
    writeln!(out, "|---|---|")?;
    writeln!(out, "| binary size | {} bytes ({} MiB) |", limits.max_binary_size, limits.max_binary_size >> 20)?;
    writeln!(
        out,
        "| function name | 1..={} bytes, ASCII letters, digits and `_`, starting with a letter |",
        limits.max_name_len
    )?;
    match limits.default_max_accounts {
        Some(accounts) => {
            writeln!(out, "| entries per transaction | {} |", limits.max_entries_per_tx)?;
            writeln!(out, "| accounts (server default) | ids `0..{accounts}` |")?;
        }
        None => {
            writeln!(
                out,
                "| records per transaction (entries, accounts, links, flags, KV) | {} |",
                limits.max_entries_per_tx
            )?;
            writeln!(out, "| accounts | no maximum: capacity grows as accounts open |")?;
        }
    }
    if limits.max_constant_name_len > 0 {
        writeln!(out, "| KV constant name | at most {} bytes |", limits.max_constant_name_len)?;
    }
    writeln!(
        out,
        "| instances until a restart (one per registration and override; the next one is refused, its calls fail with status 5) | {} |",
        limits.max_instances
    )?;
    writeln!(out)?;
    writeln!(out, "## Interface manifest")?;
    writeln!(out)?;
    writeln!(
        out,
        "A module may carry a `{}` custom section naming what the ABI leaves as numbers: `execute`'s\n\
         parameters, the function's own statuses, the constants `register()` defines. A server ignores it\n\
         (its CRC32C covers it like any other byte); `cargo roda` reads it to take parameters by name and\n\
         to name statuses. Rust's `#[execute]`, `#[status]` and `#[register]` write it; AssemblyScript and WAT\n\
         projects declare `[interface]` in `Roda.toml`; `cargo roda inspect FILE` prints it. A parameter has\n\
         one of these kinds:",
        crate::interface::SECTION
    )?;
    writeln!(out)?;
    writeln!(out, "| kind | Rust type | the slot holds |")?;
    writeln!(out, "|---|---|---|")?;
    for kind in crate::interface::ParamKind::ALL {
        writeln!(out, "| `{}` | `{}` | {} |", kind.name(), kind.rust_type(), kind.meaning())?;
    }
    writeln!(out)?;
    writeln!(out, "## Validation rules")?;
    writeln!(out)?;
    writeln!(
        out,
        "`cargo roda validate` (and `ledger_core::abi::validate`) reports each of these with its code.\n\
         \"Server\" says whether a roda-ledger server itself refuses the module at registration; the others\n\
         register fine there and then fail every call with status 5, or misbehave quietly."
    )?;
    writeln!(out)?;
    writeln!(out, "| code | severity | server | what |")?;
    writeln!(out, "|---|---|---|---|")?;
    for rule in Rule::ALL {
        let severity = match rule.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let server = if rule.server_enforced() { "yes" } else { "no" };
        writeln!(out, "| `{}` | {severity} | {server} | {} |", rule.code(), rule.title())?;
    }
    Ok(())
}
