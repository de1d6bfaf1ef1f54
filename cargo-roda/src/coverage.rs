//! Which guest code the scenarios and fuzzing reached: blocks counted by
//! the simulator ([`ledger_core::probe`]), mapped to source lines through
//! the module's DWARF line table when it has one, to functions otherwise,
//! and written as lcov for editors and CI.
//!
//! ```
//! use cargo_roda::coverage::{Coverage, LineTable};
//! use ledger_core::{Engine, IfRegistered, Ledger, LedgerConfig, Operation};
//!
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (func $refuse (result i32) (i32.const 140))
//!     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
//!       (if (result i32) (i64.lt_s (local.get 0) (i64.const 0))
//!         (then (call $refuse)) (else (i32.const 0)))))
//! "#)?;
//! let mut ledger = Ledger::new(LedgerConfig { probe: true, ..LedgerConfig::default() })?;
//! ledger.register("f", &wasm, IfRegistered::Refuse)?;
//! ledger.submit(&Operation::Function { name: "f".into(), params: vec![5], user_ref: 0 });
//! let recording = ledger.probes().remove(0)?;
//!
//! // No line table in a WAT module: coverage by function.
//! assert!(LineTable::read(&wasm)?.is_none());
//! let coverage = Coverage::of(&recording, None, None);
//! assert_eq!((coverage.functions_hit(), coverage.functions.len()), (1, 2));
//! assert_eq!(coverage.percent(), 50.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ledger_core::probe::{FunctionName, ModuleMap, Recording, code_section, function_names};

/// The prefix `cargo roda build` gives the project's paths in a Rust
/// module (`--remap-path-prefix`).
pub const PROJECT_PREFIX: &str = "/project";

/// What names a binary's functions and lines: its own name section and line
/// table, or a symbols build's ([`BuildProfile::Symbols`]) when that build's
/// code is the binary's.
///
/// [`BuildProfile::Symbols`]: crate::builder::BuildProfile::Symbols
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    /// Function names, when taken from the symbols build.
    pub names: Option<Vec<FunctionName>>,
    /// The line table, when there is one.
    pub lines: Option<LineTable>,
    /// Why the symbols build was not used, when it was not.
    pub note: Option<String>,
}

impl Symbols {
    /// The symbols of `binary`: `symbols_build`'s when its code is the
    /// same, else the binary's own (with a note saying why).
    ///
    /// # Errors
    ///
    /// [`LineTableError`] when a line table does not parse.
    pub fn of(binary: &[u8], symbols_build: Option<&[u8]>) -> Result<Symbols, LineTableError> {
        match symbols_build {
            Some(build) if code_section(build).is_some_and(|code| Some(code) == code_section(binary)) => {
                Ok(Symbols { names: function_names(build).ok(), lines: LineTable::read(build)?, note: None })
            }
            Some(_) => Ok(Symbols {
                names: None,
                lines: LineTable::read(binary)?,
                note: Some(
                    "the build with symbols has other code than the tested binary (a toolchain that optimises differently with debug information): functions are named from the binary itself".into(),
                ),
            }),
            None => Ok(Symbols { names: None, lines: LineTable::read(binary)?, note: None }),
        }
    }

    /// `recording` with its functions named by these symbols.
    pub fn name(&self, recording: &mut Recording) {
        if let Some(names) = &self.names
            && names.len() == recording.map.functions.len()
        {
            recording.map = std::sync::Arc::new(ModuleMap::named_from(&recording.map, names.clone()));
        }
    }
}

/// Why a module's line table could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the module's DWARF line table cannot be read: {0}")]
pub struct LineTableError(#[from] gimli::Error);

/// A module's DWARF line table: which source line each code address is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineTable {
    /// `(address, file, line)`: the address from the start of the code
    /// section's contents, the file an index into `files`.
    rows: Vec<(u32, usize, u32)>,
    files: Vec<String>,
}

impl LineTable {
    /// The line table of `wasm`, when it has `.debug_line` (a Rust build
    /// with `debug` set and not stripped; `cargo roda test --coverage`
    /// makes one).
    ///
    /// # Errors
    ///
    /// [`LineTableError`] when the DWARF sections do not parse.
    pub fn read(wasm: &[u8]) -> Result<Option<LineTable>, LineTableError> {
        let mut sections: BTreeMap<&str, &[u8]> = BTreeMap::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            if let Ok(wasmparser::Payload::CustomSection(section)) = payload
                && section.name().starts_with(".debug_")
            {
                sections.insert(section.name(), section.data());
            }
        }
        if !sections.contains_key(".debug_line") {
            return Ok(None);
        }
        let dwarf = gimli::Dwarf::load(|id| {
            let data = sections.get(id.name()).copied().unwrap_or_default();
            Ok::<_, gimli::Error>(gimli::EndianSlice::new(data, gimli::LittleEndian))
        })?;
        let mut table = LineTable::default();
        let mut file_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut units = dwarf.units();
        while let Some(header) = units.next()? {
            let unit = dwarf.unit(header)?;
            let Some(program) = unit.line_program.clone() else { continue };
            let mut rows = program.rows();
            while let Some((header, row)) = rows.next_row()? {
                let (Some(line), Some(file)) = (row.line(), row.file(header)) else { continue };
                if row.end_sequence() {
                    continue;
                }
                // A relative name is under its directory, a relative
                // directory (or none, DWARF 4's index 0) under the unit's.
                let name = dwarf.attr_string(&unit, file.path_name())?.to_string_lossy().into_owned();
                let dir = match file.directory(header) {
                    Some(dir) => dwarf.attr_string(&unit, dir)?.to_string_lossy().into_owned(),
                    None => String::new(),
                };
                let comp_dir = unit.comp_dir.map(|dir| dir.to_string_lossy().into_owned()).unwrap_or_default();
                let path = [comp_dir, dir, name].into_iter().filter(|part| !part.is_empty()).fold(
                    String::new(),
                    |path, part| match part.starts_with('/') || path.is_empty() {
                        true => part,
                        false => format!("{path}/{part}"),
                    },
                );
                let next = file_ids.len();
                let id = *file_ids.entry(path.clone()).or_insert(next);
                if id == table.files.len() {
                    table.files.push(path);
                }
                let address = u32::try_from(row.address()).unwrap_or(u32::MAX);
                table.rows.push((address, id, u32::try_from(line.get()).unwrap_or(u32::MAX)));
            }
        }
        Ok(Some(table))
    }
}

/// Where a build put its sources: the prefix its paths carry
/// (`cargo roda build` remaps the project to `/project`) and the directory
/// it stands for. Only files under it are counted.
#[derive(Debug, Clone)]
pub struct Sources<'a> {
    /// The prefix in the line table.
    pub prefix: &'a str,
    /// The directory it stands for.
    pub root: &'a Path,
}

/// What ran of one binary.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Each guest function (host imports aside), in index order: when
    /// lines are known, only those whose code is in the counted files.
    pub functions: Vec<FunctionRuns>,
    /// Runs by line, by source file: empty without a line table.
    pub files: BTreeMap<PathBuf, BTreeMap<u32, u64>>,
    /// Host imports the code called, and those it never called.
    pub host_called: Vec<String>,
    /// Host imports the module has and never called.
    pub host_not_called: Vec<String>,
}

/// A function and how often it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRuns {
    /// Its name.
    pub name: String,
    /// Times it was entered.
    pub runs: u64,
    /// Where it starts, when lines are known.
    pub line: Option<(PathBuf, u32)>,
}

impl Coverage {
    /// What `recording` says ran, by line through `lines` when given (only
    /// in the files under `sources`, when given).
    pub fn of(recording: &Recording, lines: Option<&LineTable>, sources: Option<&Sources<'_>>) -> Coverage {
        let map = &recording.map;
        let mut files: BTreeMap<PathBuf, BTreeMap<u32, u64>> = BTreeMap::new();
        // The first counted line of each function, by its index.
        let mut starts: BTreeMap<u32, (PathBuf, u32, u32)> = BTreeMap::new();
        if let Some(lines) = lines {
            let counted: Vec<Option<PathBuf>> = lines.files.iter().map(|file| counted_path(file, sources)).collect();
            for &(address, file, line) in &lines.rows {
                let (Some(path), Some(block)) = (&counted[file], map.block_at(address)) else { continue };
                if line == 0 {
                    continue;
                }
                let runs = recording.blocks[block];
                let slot = files.entry(path.clone()).or_default().entry(line).or_default();
                *slot = (*slot).max(runs);
                let function = map.blocks[block].function;
                let start = starts.entry(function).or_insert((path.clone(), line, address));
                if address < start.2 {
                    *start = (path.clone(), line, address);
                }
            }
        }
        let functions = map
            .functions
            .iter()
            .enumerate()
            .filter(|(_, function)| !function.host)
            .map(|(index, function)| (index as u32, function))
            .filter(|(index, _)| lines.is_none() || starts.contains_key(index))
            .map(|(index, function)| FunctionRuns {
                name: function.name.clone(),
                runs: recording.runs(index),
                line: starts.get(&index).map(|(path, line, _)| (path.clone(), *line)),
            })
            .collect();
        let (host_called, host_not_called) = map
            .functions
            .iter()
            .enumerate()
            .filter(|(_, function)| function.host)
            .map(|(index, function)| (recording.ran(index as u32), function.name.clone()))
            .partition::<Vec<_>, _>(|(ran, _)| *ran);
        let names = |list: Vec<(bool, String)>| list.into_iter().map(|(_, name)| name).collect();
        Coverage { functions, files, host_called: names(host_called), host_not_called: names(host_not_called) }
    }

    /// What `recordings` (of one binary: a run's scenarios and fuzz runs)
    /// say ran, together; `None` when there are none.
    pub fn of_all<'a>(
        recordings: impl IntoIterator<Item = &'a Recording>,
        lines: Option<&LineTable>,
        sources: Option<&Sources<'_>>,
    ) -> Option<Coverage> {
        recordings.into_iter().map(|recording| Coverage::of(recording, lines, sources)).reduce(|mut all, more| {
            all.merge(&more);
            all
        })
    }

    /// Whether source lines are known (else coverage is by function).
    pub fn by_line(&self) -> bool {
        !self.files.is_empty()
    }

    /// Lines with code, and those that ran.
    pub fn lines(&self) -> (usize, usize) {
        let all = self.files.values().map(BTreeMap::len).sum();
        let hit = self.files.values().flat_map(BTreeMap::values).filter(|&&runs| runs > 0).count();
        (hit, all)
    }

    /// Functions that ran.
    pub fn functions_hit(&self) -> usize {
        self.functions.iter().filter(|f| f.runs > 0).count()
    }

    /// The share that ran, in percent: of the lines when known, else of the
    /// functions (100 when there is nothing to run).
    pub fn percent(&self) -> f64 {
        let (hit, all) = if self.by_line() { self.lines() } else { (self.functions_hit(), self.functions.len()) };
        if all == 0 { 100.0 } else { hit as f64 * 100.0 / all as f64 }
    }

    /// Adds what `other` (of the same binary, read the same way) counted.
    pub fn merge(&mut self, other: &Coverage) {
        for (mine, theirs) in self.functions.iter_mut().zip(&other.functions) {
            mine.runs += theirs.runs;
        }
        for (path, lines) in &other.files {
            let mine = self.files.entry(path.clone()).or_default();
            for (line, runs) in lines {
                *mine.entry(*line).or_default() += runs;
            }
        }
        let called: BTreeSet<String> = self.host_called.iter().chain(&other.host_called).cloned().collect();
        self.host_not_called.retain(|name| !called.contains(name));
        self.host_called = called.into_iter().collect();
    }

    /// The lcov tracefile: a record per source file (by line), or, without
    /// a line table, one for `module` with its functions.
    pub fn lcov(&self, module: &Path) -> String {
        let mut out = String::from("TN:\n");
        if !self.by_line() {
            let _ = writeln!(out, "SF:{}", module.display());
            for function in &self.functions {
                let _ = writeln!(out, "FN:1,{}", function.name);
            }
            self.function_totals(&mut out, self.functions.iter());
            out.push_str("end_of_record\n");
            return out;
        }
        for (path, lines) in &self.files {
            let _ = writeln!(out, "SF:{}", path.display());
            let functions: Vec<&FunctionRuns> =
                self.functions.iter().filter(|f| f.line.as_ref().is_some_and(|(p, _)| p == path)).collect();
            for function in &functions {
                let line = function.line.as_ref().map_or(1, |(_, line)| *line);
                let _ = writeln!(out, "FN:{line},{}", function.name);
            }
            self.function_totals(&mut out, functions.into_iter());
            for (line, runs) in lines {
                let _ = writeln!(out, "DA:{line},{runs}");
            }
            let hit = lines.values().filter(|&&runs| runs > 0).count();
            let _ = writeln!(out, "LF:{}\nLH:{hit}", lines.len());
            out.push_str("end_of_record\n");
        }
        out
    }

    fn function_totals<'a>(&self, out: &mut String, functions: impl Iterator<Item = &'a FunctionRuns> + Clone) {
        for function in functions.clone() {
            let _ = writeln!(out, "FNDA:{},{}", function.runs, function.name);
        }
        let all = functions.clone().count();
        let hit = functions.filter(|f| f.runs > 0).count();
        let _ = writeln!(out, "FNF:{all}\nFNH:{hit}");
    }
}

/// The path a line table's `file` stands for, when it is counted: under
/// `sources`' prefix (made the real path), or any file without `sources`.
fn counted_path(file: &str, sources: Option<&Sources<'_>>) -> Option<PathBuf> {
    let Some(sources) = sources else { return Some(PathBuf::from(file)) };
    let rest = file.strip_prefix(sources.prefix)?;
    Some(sources.root.join(rest.trim_start_matches('/')))
}
