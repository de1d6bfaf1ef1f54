//! JUnit XML reports for CI systems: scenarios, fuzzing and fuel
//! regressions as test cases.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::costs::Regression;
use crate::fuzz::FuzzReport;
use crate::run::FileReport;

/// One test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The suite: a scenario file, `fuzz` or `costs`.
    pub suite: String,
    /// The case: a scenario or a step.
    pub name: String,
    /// Why it failed; `None` when it passed.
    pub failure: Option<String>,
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the JUnit report {}: {source}", .path.display())]
pub struct JunitError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// A JUnit report being gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    name: String,
    cases: Vec<Case>,
}

impl Report {
    /// An empty report; `name` names its `<testsuites>`.
    pub fn new(name: impl Into<String>) -> Report {
        Report { name: name.into(), cases: Vec::new() }
    }

    /// Adds a case.
    pub fn push(&mut self, case: Case) {
        self.cases.push(case);
    }

    /// Adds each scenario of a file, its report as the failure text.
    pub fn add_file(&mut self, file: &FileReport) {
        for scenario in &file.scenarios {
            self.push(Case {
                suite: file.path.display().to_string(),
                name: scenario.name.clone(),
                failure: (!scenario.passed()).then(|| scenario.to_string()),
            });
        }
    }

    /// Adds a fuzzed scenario to the `fuzz` suite, the case to paste as the
    /// failure text.
    pub fn add_fuzz(&mut self, fuzz: &FuzzReport) {
        self.push(Case {
            suite: "fuzz".into(),
            name: fuzz.scenario.clone(),
            failure: fuzz.failure.as_ref().map(|f| format!("{}\n{}", f.reason, f.scenario)),
        });
    }

    /// Adds each regression to the `costs` suite, as a failure.
    pub fn add_regressions(&mut self, regressions: &[Regression]) {
        for r in regressions {
            self.push(Case {
                suite: "costs".into(),
                name: r.key.clone(),
                failure: Some(format!("fuel {} -> {} (+{:.1}%)", r.baseline, r.now, r.percent)),
            });
        }
    }

    /// The cases, in the order added.
    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_some()).count()
    }

    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.len() - self.failed()
    }

    /// The XML: one `<testsuite>` per suite, in first-seen order.
    pub fn render(&self) -> String {
        let mut suites: Vec<(&str, Vec<&Case>)> = Vec::new();
        for case in &self.cases {
            match suites.iter_mut().find(|(s, _)| *s == case.suite) {
                Some((_, list)) => list.push(case),
                None => suites.push((&case.suite, vec![case])),
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\">",
            escape(&self.name),
            self.cases.len(),
            self.failed()
        );
        for (suite, list) in suites {
            let failed = list.iter().filter(|c| c.failure.is_some()).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
                escape(suite),
                list.len()
            );
            for case in list {
                let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\"", escape(suite), escape(&case.name));
                match &case.failure {
                    None => out.push_str("/>\n"),
                    Some(text) => {
                        let first = text.lines().next().unwrap_or("failed");
                        let _ = writeln!(
                            out,
                            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                            escape(first),
                            escape(text)
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// Writes the XML atomically.
    ///
    /// # Errors
    ///
    /// [`JunitError`]; the previous file, if any, is left as it was.
    pub fn write(&self, path: &Path) -> Result<(), JunitError> {
        crate::fs::write_atomically(path, self.render().as_bytes())
            .map_err(|source| JunitError { path: path.into(), source })
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_counts() {
        let mut report = Report::new("cargo roda test");
        report.push(Case { suite: "a.toml".into(), name: "ok <1>".into(), failure: None });
        report.push(Case {
            suite: "a.toml".into(),
            name: "bad".into(),
            failure: Some("step 1: \"x\" & y\nmore".into()),
        });
        let xml = report.render();
        assert!(xml.contains("<testsuites name=\"cargo roda test\" tests=\"2\" failures=\"1\">"));
        assert!(xml.contains("name=\"ok &lt;1&gt;\"/>"));
        assert!(xml.contains("<failure message=\"step 1: &quot;x&quot; &amp; y\">"));
        assert_eq!((report.passed(), report.failed()), (1, 1));
    }
}
