//! Human and JSON output: results go to stdout, progress to stderr.

use serde::Serialize;

use crate::exit::ExitCode;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Human,
    /// Exactly one JSON document on stdout, errors included.
    Json,
}

/// A command's result.
pub trait Outcome: Serialize {
    /// The command's name, as the JSON document's `command` field.
    fn command(&self) -> &'static str;
    /// The result as text.
    fn human(&self) -> String;
    /// The exit code the result calls for.
    fn exit_code(&self) -> ExitCode {
        ExitCode::Success
    }
}

/// The JSON document for a result: `{"ok": true, "command": ..., ...}`.
pub fn json_outcome(outcome: &impl Outcome) -> String {
    let mut value =
        serde_json::to_value(outcome).unwrap_or_else(|e| serde_json::json!({ "serialize_error": e.to_string() }));
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("ok".into(), (outcome.exit_code() == ExitCode::Success).into());
        map.insert("command".into(), outcome.command().into());
        map.insert("exit_code".into(), outcome.exit_code().code().into());
    }
    value.to_string()
}

/// The JSON document for an error.
pub fn json_error(kind: &str, message: &str, exit: ExitCode) -> String {
    serde_json::json!({
        "ok": false,
        "exit_code": exit.code(),
        "error": { "kind": kind, "message": message },
    })
    .to_string()
}
