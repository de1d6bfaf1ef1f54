//! Reading modules and writing reports: the file handling the library and
//! `cargo roda` share.

use std::path::{Path, PathBuf};

/// Why a module file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading failed.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `.wat` file does not parse.
    #[error("{}: not valid WebAssembly text: {message}", .path.display())]
    Wat {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
}

/// Reads a module: a `.wat` file is parsed to binary first, anything else
/// is taken as a binary.
///
/// # Errors
///
/// [`LoadError`] when the file cannot be read or its text does not parse.
pub fn load_module(path: &Path) -> Result<Vec<u8>, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: path.into(), source })?;
    if path.extension().is_some_and(|e| e == "wat") {
        return wat::parse_bytes(&bytes)
            .map(|b| b.into_owned())
            .map_err(|e| LoadError::Wat { path: path.into(), message: e.to_string() });
    }
    Ok(bytes)
}

/// Writes through a temporary file and a rename, creating the directory:
/// a reader never sees a half-written file, and a failed write leaves
/// whatever was there before.
///
/// # Errors
///
/// The I/O error of creating the directory, writing or renaming.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
