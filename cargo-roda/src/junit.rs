//! JUnit XML for CI systems.

use std::fmt::Write as _;

/// One test case for the report.
pub struct Case {
    /// Suite (the scenario file).
    pub suite: String,
    /// Name (the scenario).
    pub name: String,
    /// Failure text, if it failed.
    pub failure: Option<String>,
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

/// The report: one `<testsuite>` per suite, in first-seen order.
pub fn render(cases: &[Case]) -> String {
    let mut suites: Vec<(&str, Vec<&Case>)> = Vec::new();
    for case in cases {
        match suites.iter_mut().find(|(s, _)| *s == case.suite) {
            Some((_, list)) => list.push(case),
            None => suites.push((&case.suite, vec![case])),
        }
    }
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"cargo roda test\" tests=\"{}\" failures=\"{failures}\">", cases.len());
    for (suite, list) in suites {
        let failed = list.iter().filter(|c| c.failure.is_some()).count();
        let _ =
            writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">", escape(suite), list.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_counts() {
        let xml = render(&[
            Case { suite: "a.toml".into(), name: "ok <1>".into(), failure: None },
            Case { suite: "a.toml".into(), name: "bad".into(), failure: Some("step 1: \"x\" & y\nmore".into()) },
        ]);
        assert!(xml.contains("<testsuites name=\"cargo roda test\" tests=\"2\" failures=\"1\">"));
        assert!(xml.contains("name=\"ok &lt;1&gt;\"/>"));
        assert!(xml.contains("<failure message=\"step 1: &quot;x&quot; &amp; y\">"));
    }
}
