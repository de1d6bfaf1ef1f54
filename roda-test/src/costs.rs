//! Fuel baselines: each step's fuel recorded once, then compared, so a
//! change that makes a step cost more than the tolerance fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::run::FileReport;

/// Fuel per step, keyed `file › scenario › step N`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Costs(BTreeMap<String, u64>);

/// A step whose fuel grew past the tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regression {
    /// The step's key.
    pub key: String,
    /// The recorded fuel.
    pub baseline: u64,
    /// The fuel now.
    pub now: u64,
    /// Growth in percent (infinite over a baseline of 0).
    pub percent: f64,
}

/// Why a baseline could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CostsError {
    /// The file exists but could not be read.
    #[error("cannot read the costs file {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a baseline.
    #[error("{}: not a costs file: {source}; delete it to record a new baseline", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The JSON error, with its line and column.
        source: serde_json::Error,
    },
    /// The baseline could not be written.
    #[error("cannot write the costs file {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Costs {
    /// No steps.
    pub fn new() -> Costs {
        Costs::default()
    }

    /// The key of one step: the scenario file's path (as the caller gives
    /// it: relative to the costs file, so that a baseline means the same on
    /// every checkout), the scenario, the step.
    pub fn key(file: &Path, scenario: &str, step: usize) -> String {
        let file = file.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
        format!("{file} › {scenario} › step {step}")
    }

    /// The fuel of every call step in the reports, each scenario file named
    /// by its path relative to `costs_dir` (the costs file's directory; a
    /// file outside it keeps its path).
    ///
    /// ```
    /// use roda_test::costs::Costs;
    ///
    /// let costs = Costs::from_reports([], std::path::Path::new("/anywhere"));
    /// assert_eq!(costs, Costs::new());
    /// ```
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a FileReport>, costs_dir: &Path) -> Costs {
        let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        // `Path::parent` of a bare file name is "", the current directory.
        let costs_dir = absolute(if costs_dir.as_os_str().is_empty() { Path::new(".") } else { costs_dir });
        let mut costs = Costs::new();
        for file in reports {
            let path = absolute(&file.path);
            let relative = path.strip_prefix(&costs_dir).unwrap_or(&path);
            for scenario in &file.scenarios {
                for step in &scenario.steps {
                    if let Some(fuel) = step.fuel {
                        costs.insert(Costs::key(relative, &scenario.name, step.step), fuel);
                    }
                }
            }
        }
        costs
    }

    /// Records a step's fuel.
    pub fn insert(&mut self, key: String, fuel: u64) {
        self.0.insert(key, fuel);
    }

    /// A step's fuel.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.0.get(key).copied()
    }

    /// Steps of `now` that grew by more than `tolerance_percent` over this
    /// baseline. Steps without a baseline are new and pass.
    pub fn regressions(&self, now: &Costs, tolerance_percent: f64) -> Vec<Regression> {
        now.0
            .iter()
            .filter_map(|(key, &now)| {
                let base = self.get(key)?;
                // Compared against the limit, not as a percentage: 110 over 100 is
                // within 10% however the division rounds.
                let limit = base as f64 * (1.0 + tolerance_percent / 100.0);
                let percent = if base == 0 { f64::INFINITY } else { (now as f64 / base as f64 - 1.0) * 100.0 };
                (now as f64 > limit).then(|| Regression { key: key.clone(), baseline: base, now, percent })
            })
            .collect()
    }

    /// Reads a baseline; `None` when the file does not exist.
    ///
    /// # Errors
    ///
    /// [`CostsError::Read`] or [`CostsError::Malformed`].
    pub fn load(path: &Path) -> Result<Option<Costs>, CostsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|source| CostsError::Malformed { path: path.into(), source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CostsError::Read { path: path.into(), source }),
        }
    }

    /// Writes the baseline atomically.
    ///
    /// # Errors
    ///
    /// [`CostsError::Write`]; the previous file, if any, is left as it was.
    pub fn save(&self, path: &Path) -> Result<(), CostsError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CostsError::Write { path: path.into(), source: std::io::Error::other(e) })?
            + "\n";
        crate::fs::write_atomically(path, text.as_bytes())
            .map_err(|source| CostsError::Write { path: path.into(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_past_the_tolerance_regresses() {
        let base = Costs([("a".into(), 100), ("b".into(), 100), ("z".into(), 0)].into());
        let now = Costs([("a".into(), 110), ("b".into(), 111), ("new".into(), 5), ("z".into(), 0)].into());
        let regressions = base.regressions(&now, 10.0);
        assert_eq!(regressions.len(), 1);
        assert_eq!(regressions[0].key, "b");
        assert!((regressions[0].percent - 11.0).abs() < 1e-9);
    }
}
