//! Fuel profiles as files: the folded stacks speedscope opens (and flame
//! graph tools read), and an SVG flame graph a browser opens, both
//! weighted by fuel ([`ledger_core::probe::Recording`]).
//!
//! ```
//! use ledger_core::{Engine, IfRegistered, Ledger, LedgerConfig, Operation};
//!
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (import "ledger" "credit" (func $credit (param i64 i64)))
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       (call $credit (local.get 0) (local.get 1))
//!       i32.const 0))
//! "#)?;
//! let mut ledger = Ledger::new(LedgerConfig { probe: true, ..LedgerConfig::default() })?;
//! ledger.register("f", &wasm, IfRegistered::Refuse)?;
//! ledger.submit(&Operation::Function { name: "f".into(), params: vec![1, 5], user_ref: 0 });
//! let recording = ledger.probes().remove(0)?;
//!
//! let dir = tempfile::tempdir()?;
//! let written = cargo_roda::flame::write(&recording, dir.path(), "credit", "f: credits")?;
//! let folded = std::fs::read_to_string(&written.folded)?;
//! assert!(folded.contains("execute;ledger::credit 1"), "{folded}");
//! assert!(std::fs::read_to_string(&written.svg)?.starts_with("<?xml"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use ledger_core::probe::Recording;

/// Why a profile could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FlameError {
    /// A file or directory.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The flame graph writer refused the stacks.
    #[error("cannot draw the flame graph {}: {message}", .path.display())]
    Draw {
        /// The SVG file.
        path: PathBuf,
        /// The writer's message.
        message: String,
    },
}

/// The files a profile was written to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    /// Folded stacks (`a;b;c FUEL` per line): speedscope opens it.
    pub folded: PathBuf,
    /// The flame graph.
    pub svg: PathBuf,
    /// The fuel in it.
    pub fuel: u64,
}

/// Writes `recording` into `dir` as `STEM.folded` and `STEM.svg` (the
/// graph titled `title`), creating `dir`; each file is written whole or
/// not at all.
///
/// # Errors
///
/// [`FlameError`] when a file cannot be written.
pub fn write(recording: &Recording, dir: &Path, stem: &str, title: &str) -> Result<Written, FlameError> {
    std::fs::create_dir_all(dir).map_err(|source| FlameError::Io { path: dir.to_path_buf(), source })?;
    let lines: Vec<String> = recording.folded().into_iter().map(|(stack, fuel)| format!("{stack} {fuel}")).collect();
    let folded = dir.join(format!("{stem}.folded"));
    let mut text = lines.join("\n");
    text.push('\n');
    roda_test::fs::write_atomically(&folded, text.as_bytes())
        .map_err(|source| FlameError::Io { path: folded.clone(), source })?;
    let svg = dir.join(format!("{stem}.svg"));
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    options.count_name = "fuel".to_owned();
    let mut drawn = Vec::new();
    if lines.is_empty() {
        // The writer refuses an empty profile: a call that used no fuel.
        drawn.extend_from_slice(b"<?xml version=\"1.0\" standalone=\"no\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\">no fuel used</text></svg>\n");
    } else {
        inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut drawn)
            .map_err(|e| FlameError::Draw { path: svg.clone(), message: e.to_string() })?;
    }
    roda_test::fs::write_atomically(&svg, &drawn).map_err(|source| FlameError::Io { path: svg.clone(), source })?;
    Ok(Written { folded, svg, fuel: recording.total_fuel() })
}

/// A file name made of `text`: letters, digits, `-` and `_` kept, runs of
/// anything else one `-`.
pub fn file_stem(text: &str) -> String {
    let mut stem = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_matches('-');
    if stem.is_empty() { "scenario".to_owned() } else { stem.to_owned() }
}
