//! Fuel baselines: each step's fuel recorded once, then compared, so a
//! change that makes a step cost more than the tolerance fails. When the
//! scenarios ran on a probing ledger, the baseline also keeps the fuel each
//! function used in each scenario, and a regression names the functions
//! whose fuel grew.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::run::FileReport;

/// Fuel per step, keyed `file › scenario › step N`, and per function and
/// scenario, keyed `file › scenario › fuel in NAME`.
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
    /// The functions whose fuel grew in the step's scenario, most first,
    /// when both the baseline and this run recorded fuel by function.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionGrowth>,
}

/// A function whose fuel grew in a scenario: what it used itself, its
/// callees' fuel not counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionGrowth {
    /// The function (a host import is `ledger::NAME`).
    pub name: String,
    /// Its fuel in the baseline (0: new).
    pub baseline: u64,
    /// Its fuel now.
    pub now: u64,
}

/// What separates a scenario's key from a function's name.
const FUNCTION_MARK: &str = " › fuel in ";

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

    /// The key of a function's fuel in one scenario.
    pub fn function_key(file: &Path, scenario: &str, function: &str) -> String {
        let file = file.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
        format!("{file} › {scenario}{FUNCTION_MARK}{function}")
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
                if let Some(Ok(recording)) = &scenario.recording {
                    for (function, fuel) in recording.self_fuel() {
                        costs.insert(Costs::function_key(relative, &scenario.name, &function), fuel);
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
    /// baseline, each with the functions whose fuel grew in its scenario.
    /// Steps without a baseline are new and pass.
    pub fn regressions(&self, now: &Costs, tolerance_percent: f64) -> Vec<Regression> {
        now.0
            .iter()
            .filter(|(key, _)| !key.contains(FUNCTION_MARK))
            .filter_map(|(key, &fuel)| {
                let base = self.get(key)?;
                // Compared against the limit, not as a percentage: 110 over 100 is
                // within 10% however the division rounds.
                let limit = base as f64 * (1.0 + tolerance_percent / 100.0);
                let percent = if base == 0 { f64::INFINITY } else { (fuel as f64 / base as f64 - 1.0) * 100.0 };
                (fuel as f64 > limit).then(|| Regression {
                    key: key.clone(),
                    baseline: base,
                    now: fuel,
                    percent,
                    functions: self.growth(now, key),
                })
            })
            .collect()
    }

    /// The functions whose fuel grew in the scenario of step `key`, when
    /// both sides recorded fuel by function.
    fn growth(&self, now: &Costs, key: &str) -> Vec<FunctionGrowth> {
        let Some((scenario, _)) = key.rsplit_once(" › step ") else { return Vec::new() };
        let prefix = format!("{scenario}{FUNCTION_MARK}");
        let functions = |costs: &Costs| -> BTreeMap<String, u64> {
            costs
                .0
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, &fuel)| (k[prefix.len()..].to_owned(), fuel))
                .collect()
        };
        let (before, after) = (functions(self), functions(now));
        if before.is_empty() || after.is_empty() {
            return Vec::new();
        }
        let mut grew: Vec<FunctionGrowth> = after
            .into_iter()
            .map(|(name, now)| FunctionGrowth { baseline: before.get(&name).copied().unwrap_or(0), name, now })
            .filter(|growth| growth.now > growth.baseline)
            .collect();
        grew.sort_by(|a, b| (b.now - b.baseline).cmp(&(a.now - a.baseline)).then_with(|| a.name.cmp(&b.name)));
        grew
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
        assert!(regressions[0].functions.is_empty(), "no fuel by function recorded");
    }

    #[test]
    fn a_regression_names_the_functions_whose_fuel_grew() {
        let path = Path::new("tests/a.toml");
        let key = |step| Costs::key(path, "s", step);
        let function = |name| Costs::function_key(path, "s", name);
        let base = Costs(
            [(key(1), 100), (function("execute"), 60), (function("helper"), 30), (function("ledger::credit"), 10)]
                .into(),
        );
        let now = Costs(
            [
                (key(1), 150),
                (function("execute"), 62),
                (function("helper"), 70),
                (function("ledger::credit"), 10),
                (function("new_helper"), 8),
            ]
            .into(),
        );
        let regressions = base.regressions(&now, 10.0);
        assert_eq!(regressions.len(), 1, "function keys are not steps: {regressions:?}");
        let grew: Vec<(&str, u64, u64)> =
            regressions[0].functions.iter().map(|g| (g.name.as_str(), g.baseline, g.now)).collect();
        assert_eq!(grew, [("helper", 30, 70), ("new_helper", 0, 8), ("execute", 60, 62)]);
    }
}
