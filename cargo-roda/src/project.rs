//! `Roda.toml`, the project file of a function.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The project file's name.
pub const PROJECT_FILE: &str = "Roda.toml";

/// The language a function is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
}

/// The `[function]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// The function.
    pub function: FunctionSection,
    /// Server profiles, by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// A function project on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The directory holding `Roda.toml`.
    pub root: PathBuf,
    /// The parsed file.
    pub file: ProjectFile,
}

/// Why a project could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// No `Roda.toml` here or above.
    #[error("no Roda.toml in {} or any parent directory; run this inside a function project (create one with `cargo roda new NAME`)", .0.display())]
    NotFound(PathBuf),
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
    /// Finds `Roda.toml` in `start` or the nearest parent and loads it.
    pub fn find(start: &Path) -> Result<Project, ProjectError> {
        let mut dir = Some(start);
        while let Some(candidate) = dir {
            let path = candidate.join(PROJECT_FILE);
            if path.is_file() {
                return Project::load(&path);
            }
            dir = candidate.parent();
        }
        Err(ProjectError::NotFound(start.to_path_buf()))
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
        let mut project = Project { root, file };
        project.override_name(&name)?;
        Ok(project)
    }

    /// The ABI the function is written for: `Roda.toml`'s `abi`, else v1.
    pub fn abi(&self) -> Abi {
        self.file.function.abi.unwrap_or(Abi::V1)
    }

    /// Replaces the function name (from a flag or `RODA_NAME`), checked with
    /// the ledger's rules.
    pub fn override_name(&mut self, name: &str) -> Result<(), ProjectError> {
        ledger_core::abi::validate_function_name(name).map_err(|err| ProjectError::Parse {
            path: self.root.join(PROJECT_FILE),
            message: format!("function name: {err}; {}", err.fix()),
        })?;
        self.file.function.name = name.to_owned();
        Ok(())
    }
}
