//! Fuel baselines: `cargo roda test --costs FILE` records each step's fuel
//! once, then fails when a step grows past the tolerance.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

/// Fuel per step, by `file › scenario › step N`.
pub type Costs = BTreeMap<String, u64>;

/// The key of one step.
pub fn key(file: &Path, scenario: &str, step: usize) -> String {
    format!("{} › {scenario} › step {step}", file.display())
}

/// A step whose fuel grew past the tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regression {
    /// The step.
    pub key: String,
    /// The recorded fuel.
    pub baseline: u64,
    /// The fuel now.
    pub now: u64,
    /// Growth in percent.
    pub percent: f64,
}

/// Steps that grew by more than `tolerance_percent`. Steps without a
/// baseline are new and pass.
pub fn compare(baseline: &Costs, now: &Costs, tolerance_percent: f64) -> Vec<Regression> {
    now.iter()
        .filter_map(|(key, &now)| {
            let &base = baseline.get(key)?;
            // Compared against the limit, not as a percentage: 110 over 100 is
            // within 10% however the division rounds.
            let limit = base as f64 * (1.0 + tolerance_percent / 100.0);
            let percent = if base == 0 { f64::INFINITY } else { (now as f64 / base as f64 - 1.0) * 100.0 };
            (now as f64 > limit).then(|| Regression { key: key.clone(), baseline: base, now, percent })
        })
        .collect()
}

/// Reads a baseline; `None` when the file does not exist.
pub fn load(path: &Path) -> Result<Option<Costs>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            serde_json::from_str(&text).map(Some).map_err(|e| format!("{}: not a costs file: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes a baseline atomically.
pub fn save(path: &Path, costs: &Costs) -> Result<(), String> {
    let text = serde_json::to_string_pretty(costs).map_err(|e| e.to_string())? + "\n";
    crate::builder::write_atomically(path, text.as_bytes()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_past_the_tolerance_regresses() {
        let base: Costs = [("a".into(), 100), ("b".into(), 100), ("z".into(), 0)].into();
        let now: Costs = [("a".into(), 110), ("b".into(), 111), ("new".into(), 5), ("z".into(), 0)].into();
        let regressions = compare(&base, &now, 10.0);
        assert_eq!(regressions.len(), 1);
        assert_eq!(regressions[0].key, "b");
        assert!((regressions[0].percent - 11.0).abs() < 1e-9);
    }
}
