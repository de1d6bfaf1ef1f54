//! `cargo roda validate`: the gate before registration, as data.

use std::path::{Path, PathBuf};

use ledger_core::abi::{self, Profile, Severity, ValidationReport};
use serde::Serialize;

/// One violation, as printed and serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationView {
    /// Stable rule code.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// What the module contains.
    pub found: String,
    /// What is allowed.
    pub allowed: String,
    /// How to fix it.
    pub fix: String,
    /// Byte offset, when one applies.
    pub offset: Option<usize>,
}

/// An import, as printed and serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportView {
    /// `module.name`.
    pub name: String,
    /// Kind and signature.
    #[serde(rename = "type")]
    pub ty: String,
}

/// The validation of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file validated.
    pub path: PathBuf,
    /// The ABI profile it was checked against (`v1`, `v2`).
    pub abi: &'static str,
    /// Why that profile, when no flag or `Roda.toml` named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi_source: Option<String>,
    /// Every profile it satisfies (no error), oldest first.
    pub satisfies: Vec<&'static str>,
    /// `true` when there is no error (warnings allowed).
    pub valid: bool,
    /// Size of the module in bytes.
    pub size: usize,
    /// CRC32C, as a server reports it, in hex.
    pub crc32c: String,
    /// SHA-256, in hex: what a reproducible build is compared by (a server
    /// keeps only the CRC32C, which four chosen bytes can forge).
    pub sha256: String,
    /// Imports.
    pub imports: Vec<ImportView>,
    /// Exported names.
    pub exports: Vec<String>,
    /// Every violation, errors first.
    pub violations: Vec<ViolationView>,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
}

/// The SHA-256 of `bytes`, in lowercase hex.
///
/// ```
/// assert_eq!(
///     cargo_roda::validate::sha256_hex(b""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl FileReport {
    /// A report from the validator's, with the profiles `bytes` satisfies.
    pub fn new(path: &Path, report: &ValidationReport, bytes: &[u8]) -> FileReport {
        let violations: Vec<ViolationView> = report
            .violations
            .iter()
            .map(|v| ViolationView {
                code: v.rule.code(),
                severity: match v.severity() {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                found: v.found.clone(),
                allowed: v.allowed.clone(),
                fix: v.fix.clone(),
                offset: v.offset,
            })
            .collect();
        FileReport {
            path: path.to_path_buf(),
            abi: report.profile.name,
            abi_source: None,
            satisfies: abi::satisfied_profiles(bytes).iter().map(|p| p.name).collect(),
            valid: report.is_valid(),
            size: report.size,
            crc32c: format!("{:08x}", report.crc32c),
            sha256: sha256_hex(bytes),
            imports: report
                .imports
                .iter()
                .map(|i| ImportView { name: format!("{}.{}", i.module, i.name), ty: i.ty.clone() })
                .collect(),
            exports: report.exports.iter().map(|e| e.name.clone()).collect(),
            errors: report.errors().count(),
            warnings: report.warnings().count(),
            violations,
        }
    }

    /// A file that could not be read or parsed at all.
    pub fn unreadable(path: &Path, profile: &Profile, error: &LoadError) -> FileReport {
        let mut report = FileReport {
            path: path.to_path_buf(),
            abi: profile.name,
            abi_source: None,
            satisfies: Vec::new(),
            valid: false,
            size: 0,
            crc32c: String::new(),
            sha256: String::new(),
            imports: Vec::new(),
            exports: Vec::new(),
            violations: Vec::new(),
            errors: 0,
            warnings: 0,
        };
        let (code, fix) = match error {
            LoadError::Read { .. } => ("unreadable", "check the path; build the module first with `cargo roda build`"),
            LoadError::Wat { .. } => ("malformed", "fix the WAT source at the line and column shown"),
        };
        report.add_error(code, error.to_string(), "a readable .wasm or .wat file", fix);
        report
    }

    /// An extra error found outside the module (the function name).
    pub fn add_error(&mut self, code: &'static str, found: String, allowed: &str, fix: &str) {
        self.violations.insert(
            0,
            ViolationView { code, severity: "error", found, allowed: allowed.into(), fix: fix.into(), offset: None },
        );
        self.errors += 1;
        self.valid = false;
    }

    /// Whether the file passes, with warnings counted as failures or not.
    pub fn passes(&self, deny_warnings: bool) -> bool {
        self.valid && !(deny_warnings && self.warnings > 0)
    }

    /// The report as text: a headline, then each violation with its fix.
    pub fn human(&self) -> String {
        let mut out = if self.crc32c.is_empty() {
            format!("{}: could not be checked\n", self.path.display())
        } else {
            let verdict = if self.valid { "valid".to_owned() } else { format!("INVALID ({} error(s))", self.errors) };
            let satisfies = if self.satisfies.is_empty() { "none".to_owned() } else { self.satisfies.join(", ") };
            format!(
                "{}: {verdict} for ABI {}, {} bytes, crc32c {}\n  sha256: {}\n  satisfies ABI: {satisfies}\n",
                self.path.display(),
                self.abi,
                self.size,
                self.crc32c,
                self.sha256
            )
        };
        if let Some(source) = &self.abi_source {
            out.push_str(&format!("  ABI {}: {source}\n", self.abi));
        }
        if !self.imports.is_empty() {
            let imports: Vec<String> = self.imports.iter().map(|i| format!("{} {}", i.name, i.ty)).collect();
            out.push_str(&format!("  imports: {}\n", imports.join(", ")));
        }
        for v in &self.violations {
            out.push_str(&format!("  {}[{}]: {}", v.severity, v.code, v.found));
            if let Some(offset) = v.offset {
                out.push_str(&format!(" (at byte {offset:#x})"));
            }
            out.push_str(&format!("\n      allowed: {}\n      fix: {}\n", v.allowed, v.fix));
        }
        out
    }
}

pub use roda_test::fs::{LoadError, load_module};

/// Validates one file against `profile`, and `name` with the ledger's
/// naming rules if given.
pub fn validate_file(path: &Path, name: Option<&str>, profile: &'static Profile) -> Result<FileReport, LoadError> {
    check_module(path, name, profile).map(|(report, _)| report)
}

/// Like [`validate_file`], also returning the bytes checked, so what is then
/// deployed or tested is exactly what was validated.
pub fn check_module(
    path: &Path,
    name: Option<&str>,
    profile: &'static Profile,
) -> Result<(FileReport, Vec<u8>), LoadError> {
    let bytes = load_module(path)?;
    Ok((check_bytes(path, &bytes, name, profile), bytes))
}

/// [`check_module`] for a module already read from `path`.
pub fn check_bytes(path: &Path, bytes: &[u8], name: Option<&str>, profile: &'static Profile) -> FileReport {
    let mut report = FileReport::new(path, &abi::validate_for(bytes, profile), bytes);
    if let Some(Err(err)) = name.map(abi::validate_function_name) {
        report.add_error(
            "function-name",
            err.to_string(),
            "1..=32 bytes of ASCII letters, digits and `_`, starting with a letter",
            err.fix(),
        );
    }
    report
}
