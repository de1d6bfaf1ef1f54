//! An upgrade's behaviour change: a project's scenarios run through an old
//! and a new binary of the same function from identical states, step by
//! step (`cargo roda diff`; its fuzzing half is
//! [`Runner::fuzz_against`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use crate::compare::{Difference, Reads, differences};
use crate::model::{Action, ScenarioFile};
use crate::run::{Runner, SetupError};

/// The first step of a scenario where the new binary answered otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepChange {
    /// The scenario file.
    pub file: PathBuf,
    /// The scenario.
    pub scenario: String,
    /// The step, from 1.
    pub step: usize,
    /// Its line.
    pub line: usize,
    /// What it submitted.
    #[serde(serialize_with = "crate::display")]
    pub operation: Action,
    /// What differs: `left` is the old binary's answer, `right` the new's.
    pub differences: Vec<Difference>,
}

impl Runner {
    /// Runs every scenario of `files` on this runner's binary and on
    /// `old`'s (the same function's previous version, registered under the
    /// same name), each from a fresh ledger, and returns, per scenario, the
    /// first step where they answer differently (status, entries, records,
    /// or the state of an account, key or link the scenario names); after
    /// it the two ledgers have parted, so the scenario stops there.
    ///
    /// # Errors
    ///
    /// [`SetupError`] for a scenario that cannot start on either binary,
    /// with the scenario's name.
    pub fn changes_from(&self, old: &Runner, files: &[ScenarioFile]) -> Result<Vec<StepChange>, (String, SetupError)> {
        let mut changes = Vec::new();
        for file in files {
            for scenario in &file.scenarios {
                let setup = |error| (scenario.name.clone(), error);
                let mut before = old.session(file, scenario).map_err(setup)?;
                let mut after = self.session(file, scenario).map_err(setup)?;
                let accounts = scenario.accounts();
                let keys = scenario.keys();
                let links: BTreeSet<(u64, u16)> = scenario
                    .steps
                    .iter()
                    .flat_map(|s| &s.links)
                    .map(|&(parent, link_type, _)| (parent, link_type))
                    .collect();
                let reads = Reads { accounts: &accounts, keys: &keys, links: &links };
                for (index, step) in scenario.steps.iter().enumerate() {
                    let (old_answer, new_answer) = (before.submit(step), after.submit(step));
                    let found = differences((&old_answer, before.view()), (&new_answer, after.view()), reads);
                    if !found.is_empty() {
                        changes.push(StepChange {
                            file: file.origin.clone(),
                            scenario: scenario.name.clone(),
                            step: index + 1,
                            line: step.line,
                            operation: step.action.clone(),
                            differences: found,
                        });
                        break;
                    }
                }
            }
        }
        Ok(changes)
    }
}
