//! `Roda.toml`, the project file of a function.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ledger_core::Status;
use ledger_core::interface::{Interface, NamedStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The project file's name.
pub const PROJECT_FILE: &str = "Roda.toml";

/// The language a function is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Rust with `ledger-guest`.
    Rust,
    /// AssemblyScript.
    #[value(name = "assemblyscript", alias = "as")]
    AssemblyScript,
    /// The WebAssembly text format.
    Wat,
}

impl Language {
    /// The name used in `Roda.toml`.
    pub const fn id(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::AssemblyScript => "assemblyscript",
            Language::Wat => "wat",
        }
    }

    /// The name for people.
    pub const fn title(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::AssemblyScript => "AssemblyScript",
            Language::Wat => "WebAssembly text (WAT)",
        }
    }
}

/// A host ABI profile, as `Roda.toml`'s `abi` and `--abi` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Abi {
    /// roda-ledger ee2b042 (the seed's): credit, debit, get_balance.
    V1,
    /// roda-ledger e14b146: accounts, flags, linked accounts, KV, constants, register().
    V2,
}

impl Abi {
    /// The profile's table.
    pub fn profile(self) -> &'static ledger_core::abi::Profile {
        match self {
            Abi::V1 => &ledger_core::abi::V1,
            Abi::V2 => &ledger_core::abi::V2,
        }
    }

    /// The name `Roda.toml` uses (`v1`).
    pub fn id(self) -> &'static str {
        self.profile().name
    }

    /// The ABI a profile name (`v1`, `v2`) names.
    pub fn parse(name: &str) -> Option<Abi> {
        ledger_core::abi::PROFILES.iter().find(|p| p.name == name).map(Abi::from_profile)
    }

    /// The ABI of a profile of the table: with no wildcard, so a profile
    /// added to the table is a compile error here until the CLI names it.
    pub fn from_profile(profile: &ledger_core::abi::Profile) -> Abi {
        match profile.id {
            ledger_core::abi::ProfileId::V1 => Abi::V1,
            ledger_core::abi::ProfileId::V2 => Abi::V2,
        }
    }
}

/// The `[function]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionSection {
    /// The name to register.
    pub name: String,
    /// The source language.
    pub language: Language,
    /// The host ABI the function is written for; a project without it is v1
    /// (it predates the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi: Option<Abi>,
}

/// A server profile, `[profiles.NAME]`: one server, or the nodes of a
/// cluster (writes go to whichever leads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The server's URL, e.g. `http://127.0.0.1:50051`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// A cluster's nodes, e.g. `["http://10.0.0.1:50051", "http://10.0.0.2:50051"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
}

impl Profile {
    /// `server`, then `servers`.
    pub fn urls(&self) -> Vec<String> {
        self.server.iter().chain(&self.servers).cloned().collect()
    }
}

/// The contents of `Roda.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// The function.
    pub function: FunctionSection,
    /// An AssemblyScript or WAT function's interface, which `build` writes
    /// into the module (Rust functions declare theirs in code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<InterfaceSection>,
    /// Server profiles, by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// `[interface]`: what `build` writes into an AssemblyScript or WAT
/// module's `roda.interface` section.
///
/// ```toml
/// [interface]
/// params = [{ name = "sender", kind = "account" }, { name = "amount", kind = "amount" }]
/// statuses = { FEE_TOO_HIGH = 201 }
/// constants = ["transfers"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InterfaceSection {
    /// `execute`'s parameters in slot order, each a name and a kind
    /// (`account`, `amount`, `i64`, `u64`, `bool`, `i32`, `u32`).
    #[serde(default)]
    #[schemars(schema_with = "params_schema")]
    pub params: Vec<ledger_core::interface::Param>,
    /// The function's own statuses: name = code (128..=255).
    #[serde(default)]
    pub statuses: BTreeMap<String, u8>,
    /// The constants `register()` defines (v2).
    #[serde(default)]
    pub constants: Vec<String>,
}

/// `[interface]`'s `params`: a name and one of the kinds `#[execute]`
/// converts.
fn params_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let kinds: Vec<&str> = ledger_core::interface::ParamKind::ALL.iter().map(|kind| kind.name()).collect();
    schemars::json_schema!({
        "type": "array",
        "maxItems": ledger_core::abi::PARAM_COUNT,
        "items": {
            "type": "object",
            "properties": { "name": { "type": "string" }, "kind": { "enum": kinds } },
            "required": ["name", "kind"],
            "additionalProperties": false,
        },
    })
}

/// The JSON Schema of `Roda.toml`, generated from the types that parse it,
/// for editors that check TOML against one (`cargo roda schema roda-toml`
/// prints it).
///
/// ```
/// let schema = cargo_roda::project::schema();
/// assert!(schema["properties"]["function"].is_object());
/// assert_eq!(schema["additionalProperties"], false);
/// ```
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(ProjectFile);
    schema.insert("title".into(), "cargo roda project file (Roda.toml)".into());
    schema.to_value()
}

/// A function project on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The directory holding `Roda.toml` (or, without one, the crate's
    /// `Cargo.toml`).
    pub root: PathBuf,
    /// The parsed file, or what stands for it in a crate without one.
    pub file: ProjectFile,
    /// Where the settings come from.
    pub origin: Origin,
}

/// Where a project's settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Its `Roda.toml`.
    RodaToml,
    /// A Rust `cdylib` crate without a `Roda.toml` (upstream's
    /// `roda-wasm-abi` examples, say): the name is its library's, the
    /// language Rust, no server profiles; the ABI, unless a flag names it,
    /// comes from its dependencies or from the module it builds.
    Crate {
        /// The ABI its dependencies tell, and the dependency that tells it
        /// (`roda-wasm-abi` and `ledger-guest`'s `v2` feature are v2,
        /// `ledger-guest` without it v1).
        abi_from: Option<(Abi, &'static str)>,
    },
}

/// Why a project could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// No `Roda.toml` or function crate here or above.
    #[error(
        "no Roda.toml or Cargo.toml in {} or any parent directory; run this inside a function project (create one with `cargo roda new NAME`, or add a Roda.toml to a crate with `cargo roda init`)",
        .0.display()
    )]
    NotFound(PathBuf),
    /// A crate without `Roda.toml` that is not a function.
    #[error(
        "{} has no Roda.toml, and its package `{package}` builds no cdylib: a function crate has `[lib] crate-type = [\"cdylib\"]` (or create one with `cargo roda new NAME`)",
        .manifest.display()
    )]
    NotAFunctionCrate {
        /// The crate's manifest.
        manifest: PathBuf,
        /// Its package.
        package: String,
    },
    /// A directory whose `Cargo.toml` is a workspace, not a crate.
    #[error(
        "{} is a workspace without a package and there is no Roda.toml: run this in the function's crate, or pass --project DIR",
        .0.display()
    )]
    VirtualWorkspace(PathBuf),
    /// `cargo metadata` failed on a crate without `Roda.toml`.
    #[error("no Roda.toml, and cargo cannot read the crate at {}: {message}", .manifest.display())]
    Metadata {
        /// The crate's manifest.
        manifest: PathBuf,
        /// Cargo's message.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{} is not a valid project file: {message}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// `--profile NAME` with no such profile in `Roda.toml`.
    #[error("no profile `{0}` in Roda.toml's [profiles]; add one with `server = \"http://...\"` or pass --server")]
    NoProfile(String),
    /// A profile that names no server.
    #[error(
        "profile `{0}` in Roda.toml names no server: give it `server = \"http://...\"` or, for a cluster, `servers = [\"http://...\", ...]`"
    )]
    EmptyProfile(String),
}

impl Project {
    /// Finds `Roda.toml` in `start` or the nearest parent and loads it;
    /// without one, the Rust `cdylib` crate of the nearest `Cargo.toml`
    /// (see [`Origin::Crate`]).
    pub fn find(start: &Path) -> Result<Project, ProjectError> {
        if let Some(path) = nearest(start, PROJECT_FILE) {
            return Project::load(&path);
        }
        match nearest(start, "Cargo.toml") {
            Some(manifest) => Project::from_crate(&manifest),
            None => Err(ProjectError::NotFound(start.to_path_buf())),
        }
    }

    /// The function crate of `manifest`, read with `cargo metadata`.
    ///
    /// # Errors
    ///
    /// [`ProjectError`] when cargo cannot read it, it is a virtual
    /// workspace, builds no `cdylib`, or its library's name is not a valid
    /// function name.
    pub fn from_crate(manifest: &Path) -> Result<Project, ProjectError> {
        let metadata =
            cargo_metadata::MetadataCommand::new().manifest_path(manifest).no_deps().exec().map_err(|e| {
                let message = match e {
                    cargo_metadata::Error::CargoMetadata { stderr } => stderr.trim().to_owned(),
                    other => other.to_string(),
                };
                ProjectError::Metadata { manifest: manifest.into(), message }
            })?;
        let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
        let package = metadata
            .packages
            .iter()
            .find(|p| p.manifest_path.as_std_path() == manifest)
            .ok_or_else(|| ProjectError::VirtualWorkspace(manifest.clone()))?;
        let library =
            package.targets.iter().find(|t| t.is_kind(cargo_metadata::TargetKind::CDyLib)).ok_or_else(|| {
                ProjectError::NotAFunctionCrate { manifest: manifest.clone(), package: package.name.to_string() }
            })?;
        let abi_from = package.dependencies.iter().find_map(|dependency| match dependency.name.as_str() {
            "roda-wasm-abi" => Some((Abi::V2, "roda-wasm-abi")),
            "ledger-guest" if dependency.features.iter().any(|f| f == "v2") => {
                Some((Abi::V2, "ledger-guest with its v2 feature"))
            }
            "ledger-guest" => Some((Abi::V1, "ledger-guest without its v2 feature")),
            _ => None,
        });
        let root = manifest.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let function = FunctionSection {
            name: library.name.replace('-', "_"),
            language: Language::Rust,
            abi: abi_from.map(|(abi, _)| abi),
        };
        let mut project = Project {
            root,
            file: ProjectFile { function, interface: None, profiles: BTreeMap::new() },
            origin: Origin::Crate { abi_from },
        };
        let name = project.file.function.name.clone();
        project.override_name(&name)?;
        Ok(project)
    }

    /// Loads a project file.
    ///
    /// # Errors
    ///
    /// [`ProjectError`] when the file cannot be read or is not a valid
    /// `Roda.toml`.
    pub fn load(path: &Path) -> Result<Project, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Read { path: path.into(), source })?;
        Project::parse(&text, path)
    }

    /// A project from the text of its `Roda.toml`, found at `path`.
    ///
    /// # Errors
    ///
    /// [`ProjectError::Parse`], with the line and column, for text that is
    /// not a valid `Roda.toml`.
    pub fn parse(text: &str, path: &Path) -> Result<Project, ProjectError> {
        let file: ProjectFile =
            toml::from_str(text).map_err(|e| ProjectError::Parse { path: path.into(), message: e.to_string() })?;
        let root = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let name = file.function.name.clone();
        let mut project = Project { root, file, origin: Origin::RodaToml };
        project.override_name(&name)?;
        Ok(project)
    }

    /// The ABI the function is written for: `Roda.toml`'s `abi`, else v1
    /// (a `Roda.toml` from before the key); for a crate without one, what
    /// its dependencies say, else v1 (commands that build it read the
    /// module's imports first: see `AbiArgs::resolve`).
    pub fn abi(&self) -> Abi {
        self.file.function.abi.unwrap_or(Abi::V1)
    }

    /// The manifest `Roda.toml`'s `[interface]` declares, if it declares
    /// one: for the function's name and ABI.
    ///
    /// # Errors
    ///
    /// [`ProjectError::Parse`] for a status outside 128..=255 or a rule of
    /// the manifest broken (a name twice, more than eight parameters).
    pub fn interface(&self) -> Result<Option<Interface>, ProjectError> {
        let Some(section) = &self.file.interface else { return Ok(None) };
        let invalid = |message: String| ProjectError::Parse { path: self.root.join(PROJECT_FILE), message };
        let statuses = section
            .statuses
            .iter()
            .map(|(name, &code)| {
                let status = Status::try_user(u32::from(code)).ok_or_else(|| {
                    invalid(format!(
                        "[interface] statuses: `{name} = {code}`: a function's own statuses are 128..=255 (0..=127 are the ledger's)"
                    ))
                })?;
                Ok(NamedStatus { name: name.clone(), status, doc: String::new() })
            })
            .collect::<Result<Vec<_>, ProjectError>>()?;
        let mut interface = Interface {
            abi: Some(self.abi().id().to_owned()),
            function: Some(self.file.function.name.clone()),
            doc: String::new(),
            params: section.params.clone(),
            statuses,
            constants: section.constants.clone(),
        };
        interface.statuses.sort_by_key(|s| s.status.code());
        interface.constants.sort();
        interface.check().map_err(|e| invalid(format!("[interface]: {e}")))?;
        Ok(Some(interface))
    }

    /// Replaces the function name (from a flag or `RODA_NAME`), checked with
    /// the ledger's rules.
    pub fn override_name(&mut self, name: &str) -> Result<(), ProjectError> {
        let file = match self.origin {
            Origin::RodaToml => PROJECT_FILE,
            Origin::Crate { .. } => "Cargo.toml",
        };
        ledger_core::abi::validate_function_name(name).map_err(|err| ProjectError::Parse {
            path: self.root.join(file),
            message: format!("function name: {err}; {}", err.fix()),
        })?;
        self.file.function.name = name.to_owned();
        Ok(())
    }
}

/// `name` in `start` or its nearest parent that has one.
fn nearest(start: &Path, name: &str) -> Option<PathBuf> {
    start.ancestors().map(|dir| dir.join(name)).find(|path| path.is_file())
}
