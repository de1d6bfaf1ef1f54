//! `cargo roda new`: a function project from the templates under
//! `templates/`, embedded in the binary at compile time.

use std::path::{Path, PathBuf};

use crate::project::{Abi, Language, PROJECT_FILE};
use crate::sdk::Sdk;

/// One file of a template: its path in the new project and its text, with
/// `{{placeholders}}`.
struct TemplateFile {
    path: &'static str,
    text: &'static str,
}

macro_rules! template {
    ($($path:literal => $file:literal),* $(,)?) => {
        &[$(TemplateFile { path: $path, text: include_str!(concat!("../templates/", $file)) }),*]
    };
}

const COMMON: &[TemplateFile] = template! {
    "Roda.toml" => "Roda.toml.tmpl",
    "README.md" => "README.md.tmpl",
};

const RUST: &[TemplateFile] = template! {
    "Cargo.toml" => "rust/Cargo.toml.tmpl",
    "rust-toolchain.toml" => "rust/rust-toolchain.toml",
    "tests/scenarios.rs" => "rust/tests/scenarios.rs.tmpl",
    ".gitignore" => "rust/gitignore",
};

const ASSEMBLYSCRIPT: &[TemplateFile] = template! {
    "package.json" => "assemblyscript/package.json.tmpl",
    "asconfig.json" => "assemblyscript/asconfig.json",
    "assembly/tsconfig.json" => "assemblyscript/assembly/tsconfig.json",
    ".gitignore" => "assemblyscript/gitignore",
};

const WAT: &[TemplateFile] = template! {
    ".gitignore" => "wat/gitignore",
};

/// The function and its scenarios: what the ABI changes. v1's is the
/// seed's fee transfer; v2's a transfer that respects a freeze flag and
/// counts transfers in KV under a constant.
const RUST_V1: &[TemplateFile] = template! {
    "src/lib.rs" => "rust/src/lib.rs.tmpl",
    "tests/{{name}}.toml" => "scenario.toml.tmpl",
};
const RUST_V2: &[TemplateFile] = template! {
    "src/lib.rs" => "v2/rust/src/lib.rs.tmpl",
    "tests/{{name}}.toml" => "v2/scenario.toml.tmpl",
};
const ASSEMBLYSCRIPT_V1: &[TemplateFile] = template! {
    "assembly/index.ts" => "assemblyscript/assembly/index.ts",
    "tests/{{name}}.toml" => "scenario.toml.tmpl",
};
const ASSEMBLYSCRIPT_V2: &[TemplateFile] = template! {
    "assembly/index.ts" => "v2/assemblyscript/assembly/index.ts",
    "tests/{{name}}.toml" => "v2/scenario.toml.tmpl",
};
const WAT_V1: &[TemplateFile] = template! {
    "function.wat" => "wat/function.wat",
    "tests/{{name}}.toml" => "scenario.toml.tmpl",
};
const WAT_V2: &[TemplateFile] = template! {
    "function.wat" => "v2/wat/function.wat",
    "tests/{{name}}.toml" => "v2/scenario.toml.tmpl",
};

/// What the README says the template function does, per ABI.
fn summary(abi: Abi) -> &'static str {
    match abi {
        Abi::V1 => {
            "The function takes `(sender, receiver, fee_account, amount, fee_bps)`: it moves `amount` from\n`sender` to `receiver` and `amount * fee_bps / 10000` to `fee_account`, or returns\n`INSUFFICIENT_FUNDS` (status 1) and moves nothing."
        }
        Abi::V2 => {
            "It is written for ABI v2 (roda-ledger e14b146): accounts must be opened before use. The function\ntakes `(sender, receiver, amount)`: it moves `amount` from `sender` to `receiver` and counts the\nsender's transfers in KV under the constant `transfers` (defined by `register()`), or returns\n`USER(200)` when `sender` is frozen (flag lane 1 is 1), `INSUFFICIENT_FUNDS` (1) when it cannot\npay, `ACCOUNT_NOT_FOUND` (2) when an account is not open; a failure moves and counts nothing."
        }
    }
}

/// The path of the built module inside a project, per language.
pub fn artifact_path(language: Language, name: &str) -> String {
    match language {
        Language::Rust => format!("target/wasm32-unknown-unknown/release/{name}.wasm"),
        Language::AssemblyScript | Language::Wat => "build/function.wasm".into(),
    }
}

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// The function name (validated with the ledger's rules).
    pub name: String,
    /// The language.
    pub language: Language,
    /// The directory to create; must not exist.
    pub dir: PathBuf,
    /// Where a Rust project gets `ledger-guest` and `roda-test` from.
    pub sdk: Sdk,
    /// The host ABI the function is written for.
    pub abi: Abi,
}

/// Why a project could not be created. Nothing is left on disk.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name breaks the ledger's naming rules.
    #[error("invalid function name: {error}; {fix}", fix = .error.fix())]
    Name {
        /// The rule broken.
        #[source]
        error: ledger_core::abi::NameError,
    },
    /// The directory is already there.
    #[error("{} already exists; choose another name or `--path`, or remove it first", .0.display())]
    Exists(PathBuf),
    /// `cargo roda init` where a `Roda.toml` already is.
    #[error("{} already exists: this is a function project already (edit it, or remove it to start again)", .0.display())]
    ProjectFileExists(PathBuf),
    /// Writing failed.
    #[error("cannot create {}: {source}", .path.display())]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Rust keywords, which a function name may be but a Rust identifier may not.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else", "enum", "extern",
    "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut",
    "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe",
    "unsized", "use", "virtual", "where", "while", "yield", "abstract", "become",
];

fn files(language: Language, abi: Abi) -> impl Iterator<Item = &'static TemplateFile> {
    let (own, function) = match (language, abi) {
        (Language::Rust, Abi::V1) => (RUST, RUST_V1),
        (Language::Rust, Abi::V2) => (RUST, RUST_V2),
        (Language::AssemblyScript, Abi::V1) => (ASSEMBLYSCRIPT, ASSEMBLYSCRIPT_V1),
        (Language::AssemblyScript, Abi::V2) => (ASSEMBLYSCRIPT, ASSEMBLYSCRIPT_V2),
        (Language::Wat, Abi::V1) => (WAT, WAT_V1),
        (Language::Wat, Abi::V2) => (WAT, WAT_V2),
    };
    COMMON.iter().chain(own).chain(function)
}

/// `Roda.toml`'s `[interface]` for the AssemblyScript and WAT templates
/// (Rust's macros write it from the source): their parameters, statuses
/// and constants.
fn interface_section(language: Language, abi: Abi) -> String {
    const INTRO: &str = "
# The function's interface, which `cargo roda build` writes into the module
# (its `roda.interface` section): `call` and scenarios then take parameters
# by name, and reports name the statuses.
[interface]
";
    let declared = match (language, abi) {
        (Language::Rust, _) => return String::new(),
        (Language::AssemblyScript | Language::Wat, Abi::V1) => {
            "params = [
    { name = \"sender\", kind = \"account\" },
    { name = \"receiver\", kind = \"account\" },
    { name = \"fee_account\", kind = \"account\" },
    { name = \"amount\", kind = \"amount\" },
    { name = \"fee_bps\", kind = \"u64\" },
]
statuses = { FEE_TOO_HIGH = 201 }
"
        }
        (Language::AssemblyScript | Language::Wat, Abi::V2) => {
            "params = [
    { name = \"sender\", kind = \"account\" },
    { name = \"receiver\", kind = \"account\" },
    { name = \"amount\", kind = \"amount\" },
]
statuses = { ACCOUNT_FROZEN = 200 }
constants = [\"transfers\"]
"
        }
    };
    format!("{INTRO}{declared}")
}

fn render(text: &str, new: &NewProject) -> String {
    // In Rust source the name is also an identifier, which a keyword cannot be.
    let rust_ident =
        if RUST_KEYWORDS.contains(&new.name.as_str()) { format!("r#{}", new.name) } else { new.name.clone() };
    let guest_features: &[&str] = match new.abi {
        Abi::V1 => &[],
        Abi::V2 => &["v2"],
    };
    text.replace("{{ledger_guest}}", &new.sdk.dependency("ledger-guest", guest_features))
        .replace("{{roda_test}}", &new.sdk.dependency("roda-test", &[]))
        .replace("{{abi}}", new.abi.id())
        .replace("{{abi_profile}}", &new.abi.id().to_uppercase())
        .replace("{{summary}}", summary(new.abi))
        .replace("{{language_title}}", new.language.title())
        .replace("{{language}}", new.language.id())
        .replace("{{artifact}}", &artifact_path(new.language, &new.name))
        .replace("{{interface}}", &interface_section(new.language, new.abi))
        .replace("{{name}}(", &format!("{rust_ident}("))
        .replace("{{name}}", &new.name)
}

/// The text `cargo roda new` writes at `relative` (a path in the project,
/// e.g. `tests/scenarios.rs`), or `None` when the project has no such
/// template file: to check a hand-kept copy against the template.
pub fn rendered(new: &NewProject, relative: &str) -> Option<String> {
    files(new.language, new.abi).find(|file| render(file.path, new) == relative).map(|file| render(file.text, new))
}

/// Creates the project: every file is written into a staging directory
/// beside the target, which is renamed into place at the end, so a failure
/// leaves nothing behind. Returns the files created, relative to the project.
pub fn scaffold(new: &NewProject) -> Result<Vec<PathBuf>, ScaffoldError> {
    ledger_core::abi::validate_function_name(&new.name).map_err(|error| ScaffoldError::Name { error })?;
    if new.dir.exists() {
        return Err(ScaffoldError::Exists(new.dir.clone()));
    }
    let parent = match new.dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = parent.join(format!(".{}.cargo-roda-new-{}", new.name, std::process::id()));
    let result = write_files(&staging, new).and_then(|created| {
        std::fs::rename(&staging, &new.dir).map_err(io(&new.dir))?;
        Ok(created)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn write_files(staging: &Path, new: &NewProject) -> Result<Vec<PathBuf>, ScaffoldError> {
    let mut created = Vec::new();
    for file in files(new.language, new.abi) {
        let relative = PathBuf::from(render(file.path, new));
        let path = staging.join(&relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ScaffoldError::Io { path: dir.into(), source })?;
        }
        std::fs::write(&path, render(file.text, new))
            .map_err(|source| ScaffoldError::Io { path: path.clone(), source })?;
        created.push(relative);
    }
    for (relative, text) in generated_files(new.language, new.abi) {
        let path = staging.join(&relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ScaffoldError::Io { path: dir.into(), source })?;
        }
        std::fs::write(&path, text).map_err(|source| ScaffoldError::Io { path: path.clone(), source })?;
        created.push(relative.into());
    }
    debug_assert!(created.iter().any(|p| p == Path::new(PROJECT_FILE)));
    Ok(created)
}

/// `cargo roda init`: writes the `Roda.toml` that `cargo roda new` would
/// write for `project` into the existing directory `project.dir`, and
/// nothing else. Returns its path.
///
/// # Errors
///
/// [`ScaffoldError`] for an invalid name, a `Roda.toml` already there, or
/// a failed write (nothing half-written stays).
pub fn init(project: &NewProject) -> Result<PathBuf, ScaffoldError> {
    ledger_core::abi::validate_function_name(&project.name).map_err(|error| ScaffoldError::Name { error })?;
    let path = project.dir.join(PROJECT_FILE);
    if path.exists() {
        return Err(ScaffoldError::ProjectFileExists(path));
    }
    let text = rendered(project, PROJECT_FILE).expect("every template has a Roda.toml");
    roda_test::fs::write_atomically(&path, text.as_bytes())
        .map_err(|source| ScaffoldError::Io { path: path.clone(), source })?;
    Ok(path)
}

/// The text `cargo roda new` generates at `relative` from the ABI table
/// (the AssemblyScript bindings, `assembly/ledger.ts`), or `None`.
pub fn generated(new: &NewProject, relative: &str) -> Option<String> {
    generated_files(new.language, new.abi).into_iter().find(|(path, _)| *path == relative).map(|(_, text)| text)
}

/// Where `cargo roda new` writes the JSON Schemas of `Roda.toml` and of the
/// scenario files, which the templates name (`#:schema`) for editors.
pub const SCHEMA_DIR: &str = ".roda/schema";

/// The JSON Schemas an editor checks a project's TOML files with, by file
/// name: `Roda.toml.json`, `scenarios.json`.
pub fn schemas() -> [(&'static str, String); 2] {
    let pretty = |schema: serde_json::Value| {
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
        text.push('\n');
        text
    };
    [("Roda.toml.json", pretty(crate::project::schema())), ("scenarios.json", pretty(roda_test::scenario_schema()))]
}

/// Files generated rather than copied from a template: the JSON Schemas,
/// and the AssemblyScript bindings (from the ABI table).
fn generated_files(language: Language, abi: Abi) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> =
        schemas().into_iter().map(|(name, text)| (format!("{SCHEMA_DIR}/{name}"), text)).collect();
    if language == Language::AssemblyScript {
        let mut bindings = String::new();
        // Writing to a String cannot fail.
        let _ = ledger_core::abi::bindings::assemblyscript(abi.profile(), &mut bindings);
        files.push(("assembly/ledger.ts".into(), bindings));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(language: Language, name: &str) -> NewProject {
        NewProject {
            name: name.into(),
            language,
            dir: PathBuf::from("unused"),
            sdk: Sdk::Registry("0.1.0".into()),
            abi: Abi::V1,
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for language in [Language::Rust, Language::AssemblyScript, Language::Wat] {
            for abi in [Abi::V1, Abi::V2] {
                let project = NewProject { abi, ..new(language, "fee_transfer") };
                for file in files(language, abi) {
                    let text = render(file.text, &project);
                    assert!(!text.contains("{{"), "{} ({language:?}, {abi:?}) keeps a placeholder:\n{text}", file.path);
                }
            }
        }
    }

    #[test]
    fn a_v2_rust_project_takes_ledger_guest_with_its_v2_feature() {
        let project = NewProject { abi: Abi::V2, ..new(Language::Rust, "f") };
        let cargo = render(RUST[0].text, &project);
        assert!(cargo.contains("ledger-guest = { version = \"0.1.0\", features = [\"v2\"] }"), "{cargo}");
        assert!(render(COMMON[0].text, &project).contains("abi = \"v2\""));
    }

    #[test]
    fn keywords_become_raw_identifiers_in_rust_only() {
        let project = new(Language::Rust, "match");
        let lib = render(RUST_V1[0].text, &project);
        assert!(lib.contains("pub fn r#match("), "{lib}");
        assert!(lib.contains("`match`: a roda-ledger function"));
        let roda = render(COMMON[0].text, &project);
        assert!(roda.contains("name = \"match\""));
    }
}
