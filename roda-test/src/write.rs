//! Scenarios back into the file format: the one writer behind a fuzz
//! case ready to paste and a replay saved as a regression test.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ledger_core::Status;

use crate::model::{Action, Balances, Flags, KeyComponent, KeySpec, Scenario, Step};

/// A TOML string, quoted and escaped.
fn string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

impl Scenario {
    /// The scenario as a `[[scenario]]` table of a version 2 file (a
    /// version 1 file reads it too when it uses no version 2 key), its
    /// accounts by name wherever it names them; `comment` goes in a TOML
    /// comment under the name. Fuzzing is left out.
    ///
    /// ```
    /// use roda_test::ScenarioFile;
    ///
    /// let text = r#"version = 2
    /// [[scenario]]
    /// name = "moves"
    /// open = ["alice", "bob"]
    /// balances = { alice = 10 }
    /// steps = [{ call = "move", params = ["alice", "bob", 4], balances = { bob = 4, alice = "-4" } }]
    /// "#;
    /// let scenario = &ScenarioFile::from_str(text, "a.toml")?.scenarios[0];
    /// let written = scenario.to_toml(None);
    /// assert!(written.contains(r#"{ call = "move", params = ["alice", "bob", 4], balances = { alice = "-4", bob = 4 } }"#));
    /// let again = &ScenarioFile::from_str(&format!("version = 2\n{written}"), "b.toml")?.scenarios[0];
    /// assert_eq!(again.steps[0].balances, scenario.steps[0].balances);
    /// # Ok::<(), roda_test::ScenarioError>(())
    /// ```
    pub fn to_toml(&self, comment: Option<&str>) -> String {
        let names: BTreeMap<u64, &str> = self
            .existing
            .iter()
            .map(|(name, &id)| (id, name.as_str()))
            .chain(self.open.iter().zip(self.first_opened()..).map(|(name, id)| (id, name.as_str())))
            .collect();
        let writer = Writer { names };
        let mut out = format!("[[scenario]]\nname = {}\n", string(&self.name));
        if let Some(comment) = comment {
            // One line: a TOML comment ends at the line's end.
            let _ = writeln!(out, "# {}", comment.replace(['\n', '\r'], " "));
        }
        if !self.existing.is_empty() {
            let existing: Vec<String> = self.existing.iter().map(|(name, id)| format!("{name} = {id}")).collect();
            let _ = writeln!(out, "accounts = {{ {} }}", existing.join(", "));
        }
        if !self.open.is_empty() {
            let open: Vec<String> = self.open.iter().map(|n| string(n)).collect();
            let _ = writeln!(out, "open = [{}]", open.join(", "));
        }
        if !self.balances.is_empty() {
            let _ = writeln!(out, "balances = {}", writer.balances(&self.balances, &Balances::new()));
        }
        if !self.flags.is_empty() {
            let _ = writeln!(out, "flags = {}", writer.flags(&self.flags));
        }
        if !self.kv.is_empty() {
            let _ = writeln!(out, "kv = {}", writer.kv(&self.kv));
        }
        if !self.steps.is_empty() {
            out.push_str("steps = [\n");
            for step in &self.steps {
                let _ = writeln!(out, "  {},", writer.step(step));
            }
            out.push_str("]\n");
        }
        out
    }
}

/// Writes values with the scenario's names for its accounts.
struct Writer<'a> {
    names: BTreeMap<u64, &'a str>,
}

impl Writer<'_> {
    /// An account where a key goes: its name, or its id.
    fn key(&self, id: u64) -> String {
        self.names.get(&id).map_or_else(|| id.to_string(), |name| (*name).to_owned())
    }

    /// An account where a value goes: its name quoted, or its id.
    fn value(&self, id: u64) -> String {
        self.names.get(&id).map_or_else(|| id.to_string(), |name| string(name))
    }

    fn balances(&self, absolute: &Balances, relative: &Balances) -> String {
        let mut all: BTreeMap<String, String> = absolute.iter().map(|(&a, b)| (self.key(a), b.to_string())).collect();
        all.extend(relative.iter().map(|(&a, change)| (self.key(a), string(&format!("{change:+}")))));
        let parts: Vec<String> = all.into_iter().map(|(key, value)| format!("{key} = {value}")).collect();
        format!("{{ {} }}", parts.join(", "))
    }

    fn flags(&self, flags: &Flags) -> String {
        let mut by_account: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for ((account, lane), value) in flags {
            by_account.entry(*account).or_default().push(format!("{lane} = {value}"));
        }
        let parts: Vec<String> =
            by_account.iter().map(|(id, lanes)| format!("{} = {{ {} }}", self.key(*id), lanes.join(", "))).collect();
        format!("{{ {} }}", parts.join(", "))
    }

    fn kv(&self, kv: &[(KeySpec, i64)]) -> String {
        let parts: Vec<String> =
            kv.iter().map(|(key, value)| format!("{} = {value}", string(&self.key_spec(key)))).collect();
        format!("{{ {} }}", parts.join(", "))
    }

    fn key_spec(&self, key: &KeySpec) -> String {
        let parts: Vec<String> = key
            .0
            .iter()
            .map(|component| match component {
                KeyComponent::Int(value) => value.to_string(),
                KeyComponent::Account(id) => self.key(*id),
                KeyComponent::Constant(name) => name.clone(),
            })
            .collect();
        parts.join("/")
    }

    fn step(&self, step: &Step) -> String {
        let mut parts = vec![match &step.action {
            Action::Call { function, params } => {
                let params: Vec<String> = params
                    .as_slice()
                    .iter()
                    .enumerate()
                    .map(|(slot, &v)| match step.account_params & (1 << slot) {
                        0 => v.to_string(),
                        _ => self.value(v as u64),
                    })
                    .collect();
                format!("call = {}, params = [{}]", string(function), params.join(", "))
            }
            Action::Deposit { account, amount } => {
                format!("deposit = {{ account = {}, amount = {amount} }}", self.value(*account))
            }
            Action::Withdrawal { account, amount } => {
                format!("withdrawal = {{ account = {}, amount = {amount} }}", self.value(*account))
            }
            Action::Transfer { from, to, amount } => {
                format!("transfer = {{ from = {}, to = {}, amount = {amount} }}", self.value(*from), self.value(*to))
            }
            Action::OpenAccount { count } => format!("open = {count}"),
        }];
        if step.user_ref != 0 {
            parts.push(format!("user_ref = {}", step.user_ref));
        }
        if step.expect != Status::NONE {
            parts.push(format!("expect = {}", string(&step.expect.to_string())));
        }
        if !step.balances.is_empty() || !step.relative.is_empty() {
            parts.push(format!("balances = {}", self.balances(&step.balances, &step.relative)));
        }
        if let Some(entries) = &step.entries {
            let entries: Vec<String> = entries
                .iter()
                .map(|e| {
                    let balance = e.balance.map_or_else(String::new, |b| format!(", balance = {b}"));
                    format!(
                        "{{ account = {}, amount = {}, kind = \"{}\"{balance} }}",
                        self.value(e.account),
                        e.amount,
                        e.kind
                    )
                })
                .collect();
            parts.push(format!("entries = [{}]", entries.join(", ")));
        }
        if !step.flags.is_empty() {
            parts.push(format!("flags = {}", self.flags(&step.flags)));
        }
        if !step.kv.is_empty() {
            parts.push(format!("kv = {}", self.kv(&step.kv)));
        }
        if !step.links.is_empty() {
            let mut by_parent: BTreeMap<u64, Vec<String>> = BTreeMap::new();
            for &(parent, link_type, child) in &step.links {
                by_parent.entry(parent).or_default().push(format!("{link_type} = {}", self.value(child)));
            }
            let links: Vec<String> =
                by_parent.iter().map(|(p, types)| format!("{} = {{ {} }}", self.key(*p), types.join(", "))).collect();
            parts.push(format!("links = {{ {} }}", links.join(", ")));
        }
        if let Some(records) = &step.records {
            let records: Vec<String> = records.iter().map(|r| string(r)).collect();
            parts.push(format!("records = [{}]", records.join(", ")));
        }
        format!("{{ {} }}", parts.join(", "))
    }
}
