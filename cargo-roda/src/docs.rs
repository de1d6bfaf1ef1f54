//! The generated pages of the user guide: `docs/troubleshooting.md` is
//! [`troubleshooting_markdown`], from the validator's rules, the lints, the
//! exit codes and the errors themselves, so it cannot drift from what the
//! tools print. A test keeps the file equal to it.

use std::fmt::Write as _;
use std::path::PathBuf;

use ledger_core::abi::{Rule, Severity};
use roda_rpc::Code;
use roda_rpc::client::{ConnectFailure, RpcError};
use roda_rpc::store::StoreError;

use crate::exit::ExitCode;

/// `docs/troubleshooting.md`: every exit code, validation rule, lint, and
/// server and data-directory error, each with its cause and its fix.
///
/// ```
/// let page = cargo_roda::docs::troubleshooting_markdown();
/// assert!(page.contains("### `missing-execute`"));
/// assert!(page.contains("### `carried-state`"));
/// ```
pub fn troubleshooting_markdown() -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_page(&mut out);
    out
}

fn write_page(out: &mut String) -> std::fmt::Result {
    writeln!(out, "# Troubleshooting")?;
    writeln!(out)?;
    writeln!(
        out,
        "Every code `cargo roda` prints, what causes it and how to fix it. This page is generated from the\n\
         validator's rules, the lints and the errors themselves (`cargo_roda::docs`); a test fails when it\n\
         differs, so it says what the tools say."
    )?;
    writeln!(out)?;
    writeln!(out, "## Exit codes")?;
    writeln!(out)?;
    writeln!(out, "| code | meaning |")?;
    writeln!(out, "|---|---|")?;
    for code in ExitCode::ALL {
        writeln!(out, "| {} | {} |", code.code(), code.meaning())?;
    }
    writeln!(out)?;
    write_rules(out)?;
    write_lints(out)?;
    write_deploy_refusals(out)?;
    write_server_errors(out)?;
    write_store_errors(out)
}

fn write_rules(out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Validation (`error[code]`, `warning[code]`; exit code 3)")?;
    writeln!(out)?;
    writeln!(
        out,
        "`cargo roda validate`, `build`, `test` and `deploy` check a module before anything runs it. A\n\
         report line reads `error[code]: what was found; allowed: ...; fix: ...` for the module at hand;\n\
         below is each code in general. The full rules, per ABI profile: [v1](abi.md), [v2](abi-v2.md)."
    )?;
    writeln!(out)?;
    for rule in Rule::ALL {
        let severity = match rule.severity() {
            Severity::Error => "an error",
            Severity::Warning => "a warning (`--deny-warnings` makes it an error)",
        };
        let server = match (rule.server_enforced(), rule.severity()) {
            (true, _) => "a server refuses such a module at registration",
            // A custom section: the server never reads it.
            (false, _) if *rule == Rule::Interface => {
                "a server registers and runs it (it ignores custom sections), and `cargo roda` cannot name the function's parameters and statuses"
            }
            (false, Severity::Error) => "a server registers it, and then every call fails with status 5 or misbehaves",
            (false, Severity::Warning) => "a server registers and runs it",
        };
        writeln!(out, "### `{}`", rule.code())?;
        writeln!(out)?;
        writeln!(out, "{}", rule.cause())?;
        writeln!(out)?;
        writeln!(out, "It is {severity}; {server}. Fix: {}.", rule.fix())?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_lints(out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Lints (`lint[code]`)")?;
    writeln!(out)?;
    writeln!(
        out,
        "`cargo roda test` runs every call and reports what a server would accept without a word but\n\
         that hurts in production. A lint fails its scenario. Each message says the cause and the fix:"
    )?;
    writeln!(out)?;
    for lint in roda_test::Lint::catalog() {
        writeln!(out, "### `{}`", lint.code())?;
        writeln!(out)?;
        writeln!(out, "For example: {lint}.")?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_deploy_refusals(out: &mut String) -> std::fmt::Result {
    use crate::refusal::Refusal;
    writeln!(out, "## Deploy refusals (exit code 3)")?;
    writeln!(out)?;
    writeln!(
        out,
        "`cargo roda deploy` does not send what a server would accept and then suffer from; `--force`\n\
         sends it anyway, with the reason as a warning. For example:"
    )?;
    writeln!(out)?;
    let refusals = [
        Refusal::WrongAbi {
            server: "http://127.0.0.1:50051".into(),
            wire: roda_rpc::Wire::Ee2b042,
            abi: crate::project::Abi::V2,
            found: "import `ledger.kv_set`, which ABI v1 does not have; use only the imports ABI v1 lists".into(),
        },
        Refusal::Unregistered { name: "transfer".into(), server: "http://127.0.0.1:50051".into(), seen: 2 },
        Refusal::Risk(ledger_core::preflight::RegistrationRisk::Register {
            status: ledger_core::Status::INVALID_OPERATION,
            outcome: Some(ledger_core::CallOutcome::OutOfFuel),
        }),
        Refusal::Risk(ledger_core::preflight::RegistrationRisk::Register {
            status: ledger_core::Status::PROHIBITED_HOST_CALL,
            outcome: None,
        }),
    ];
    for refusal in refusals {
        writeln!(out, "- {}", crate::error::Error::Refused(refusal.to_string()))?;
    }
    writeln!(out)
}

fn write_server_errors(out: &mut String) -> std::fmt::Result {
    writeln!(out, "## Server errors (exit code 6)")?;
    writeln!(out)?;
    writeln!(
        out,
        "What the commands that talk to a server print when it refuses, or cannot be reached; each\n\
         message ends with what to do. The server's own words come after the code."
    )?;
    writeln!(out)?;
    let status = |method, code, message: &str| RpcError::Status { method, code, message: message.into() };
    let errors = [
        RpcError::Connect { url: "http://127.0.0.1:50051".into(), failure: ConnectFailure::Refused },
        RpcError::Connect { url: "https://127.0.0.1:50051".into(), failure: ConnectFailure::NotTls },
        status("RegisterFunction", Code::AlreadyExists, "function `fee_transfer` is already registered"),
        status("UnregisterFunction", Code::NotFound, "function `fee_transfer` is not registered"),
        status("RegisterFunction", Code::InvalidArgument, "module does not export `execute`"),
        status(
            "RegisterFunction",
            Code::OutOfRange,
            "Error, decoded message length too large: found 4194320 bytes, the limit is: 4194304 bytes",
        ),
        status("ListFunctions", Code::Unauthenticated, "a valid `authorization: Bearer <token>` header is required"),
        status("SubmitAndWait", Code::Unavailable, "the server is shutting down"),
        status("SubmitAndWaitResult", Code::DeadlineExceeded, "timeout"),
        status("GetKv", Code::Unimplemented, "Operation is not implemented or not supported"),
        status("SubmitAndWaitResult", Code::FailedPrecondition, "node is not a leader; writes are not accepted"),
        status("GetBalance", Code::FailedPrecondition, "account is a PROGRAMMED bucket and not directly queryable"),
        status("RegisterFunction", Code::Internal, "function registration failed: FailReason(8)"),
        RpcError::NotOnWire {
            what: "OpenAccount",
            url: "http://127.0.0.1:50051".into(),
            wire: roda_rpc::Wire::Ee2b042,
        },
        RpcError::NoLeader { nodes: vec!["http://10.0.0.2:50051: a follower in term 3".into()] },
        RpcError::WriteUncertain {
            url: "http://10.0.0.1:50051".into(),
            send: Box::new(status("SubmitAndWaitResult", Code::Unavailable, "connection reset")),
        },
        RpcError::RegisterUncertain {
            name: "fee_transfer".into(),
            send: Box::new(status("RegisterFunction", Code::DeadlineExceeded, "timeout")),
            check: None,
        },
    ];
    for error in errors {
        writeln!(out, "- {error}")?;
    }
    writeln!(out)?;
    writeln!(out, "Statuses by number: [the ABI page](abi-v2.md#statuses).")?;
    writeln!(out)?;
    Ok(())
}

fn write_store_errors(out: &mut String) -> std::fmt::Result {
    writeln!(out, "## `cargo roda dev --data-dir` refuses to start (exit code 1)")?;
    writeln!(out)?;
    let dir = PathBuf::from(".roda/data");
    let function = dir.join("functions/fee_transfer_v1.wasm");
    let errors = [
        StoreError::Locked { dir: dir.clone() },
        StoreError::WrongAbi { dir: dir.clone(), found: "v1".into(), wanted: "v2" },
        StoreError::MissingBinary { name: "fee_transfer".into(), version: 1, path: function.clone() },
        StoreError::CrcMismatch {
            name: "fee_transfer".into(),
            version: 1,
            path: function,
            expected: 0x7dff_69e1,
            found: 0xe555_8cf9,
        },
        StoreError::Corrupt {
            path: dir.join("ledger.log"),
            offset: 4096,
            why: "its contents fail their checksum".into(),
        },
        StoreError::DiskFull { path: dir.join("ledger.log") },
    ];
    for error in errors {
        writeln!(out, "- {error}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "A damaged tail (a write cut short by a crash or a power loss) is not an error: it was never\n\
         acknowledged, so the server drops it and says `warning: dropped N damaged bytes at the end of the log`."
    )
}
