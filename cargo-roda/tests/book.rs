//! The user guide in `docs/` (an mdBook: `book.toml` at the root): it
//! builds, the generated pages are current, every page is in `docs/SUMMARY.md`, every
//! relative link and anchor resolves (the README's too), every scenario
//! parses and passes, the language pages show real files, and the
//! getting-started page's shell blocks run as written.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use support::repo_root;

fn docs() -> PathBuf {
    repo_root().join("docs")
}

fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(docs())
        .unwrap()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// The book builds, as `mdbook build` builds it, with no warning.
#[test]
fn the_book_builds() {
    let out = tempfile::tempdir().unwrap();
    let mut book = mdbook_driver::MDBook::load(repo_root()).unwrap_or_else(|e| panic!("book.toml: {e:#}"));
    book.config.build.build_dir = out.path().to_path_buf();
    book.build().unwrap_or_else(|e| panic!("mdbook build: {e:#}"));
    let built = |page: &str| std::fs::read_to_string(out.path().join(page)).unwrap();
    assert!(built("getting-started.html").contains("Getting started in five minutes"));
    assert!(built("troubleshooting.html").contains("id=\"lints-lintcode\""), "the anchor the pages link to");
    assert!(out.path().join("ci/github-actions.yml").is_file(), "files beside the pages are copied");
}

#[test]
fn the_troubleshooting_page_is_generated() {
    let path = docs().join("troubleshooting.md");
    let page = cargo_roda::docs::troubleshooting_markdown();
    if std::env::var_os("RODA_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == page,
        "docs/troubleshooting.md is stale: run `RODA_UPDATE_DOCS=1 cargo test -p cargo-roda --test book`"
    );
}

/// `[text](target)` links of a Markdown text, outside code.
fn links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            links.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    links
}

/// The anchors mdBook gives a page's headings.
fn anchors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| {
            line.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' | '-' => Some('-'),
                    c if c.is_alphanumeric() || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_page_is_in_the_summary_and_every_link_resolves() {
    let summary = std::fs::read_to_string(docs().join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    let mut broken = Vec::new();
    let readme = repo_root().join("README.md");
    for page in pages().into_iter().chain([readme.clone()]) {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        if name != "SUMMARY.md" && page != readme && !listed.contains(&name) {
            broken.push(format!("{name} is not in SUMMARY.md"));
        }
        let text = std::fs::read_to_string(&page).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() { page.clone() } else { page.parent().unwrap().join(file) };
            let Ok(target_text) = std::fs::read_to_string(&target) else {
                if !target.exists() {
                    broken.push(format!("{name}: {link}: no such file"));
                }
                continue;
            };
            if !anchor.is_empty() && !anchors(&target_text).contains(anchor) {
                broken.push(format!("{name}: {link}: no such heading"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The fenced blocks of `lang` in a page.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim() == format!("```{lang}") => current = Some(String::new()),
            Some(block) if line.trim() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The WAT template of `abi`, as `cargo roda build` writes it: with the
/// interface its `Roda.toml` declares.
fn wat_template(abi: cargo_roda::project::Abi) -> Vec<u8> {
    use cargo_roda::project::{Abi, Language, Project};
    use cargo_roda::scaffold::{NewProject, rendered};
    use cargo_roda::sdk::Sdk;
    let dir = std::env::temp_dir();
    let new =
        NewProject { name: "transfer".into(), language: Language::Wat, dir: dir.clone(), sdk: Sdk::built_with(), abi };
    let source = if abi == Abi::V1 {
        "cargo-roda/templates/wat/function.wat"
    } else {
        "cargo-roda/templates/v2/wat/function.wat"
    };
    let wasm = wat::parse_file(repo_root().join(source)).unwrap();
    let project = Project::parse(&rendered(&new, "Roda.toml").unwrap(), &dir.join("Roda.toml")).unwrap();
    project.interface().unwrap().expect("the template declares its interface").embed(&wasm).unwrap()
}

/// The `[interface]` the WAT and AssemblyScript pages show is the one their
/// v1 templates declare.
#[test]
fn the_language_pages_show_the_templates_interface() {
    use cargo_roda::project::{Abi, Language, ProjectFile};
    use cargo_roda::scaffold::{NewProject, rendered};
    use cargo_roda::sdk::Sdk;
    for (page, language) in [("docs/wat.md", Language::Wat), ("docs/assemblyscript.md", Language::AssemblyScript)] {
        let text = std::fs::read_to_string(repo_root().join(page)).unwrap();
        let shown = blocks(&text, "toml").into_iter().find(|b| b.contains("[interface]")).expect(page);
        let dir = std::env::temp_dir();
        let new = NewProject { name: "f".into(), language, dir, sdk: Sdk::built_with(), abi: Abi::V1 };
        let template: ProjectFile = toml::from_str(&rendered(&new, "Roda.toml").unwrap()).unwrap();
        let shown: ProjectFile =
            toml::from_str(&format!("[function]\nname = \"f\"\nlanguage = \"wat\"\n{shown}")).unwrap();
        assert_eq!(shown.interface, template.interface, "{page}");
    }
}

/// Every scenario in the guide parses; those of the scenario page pass
/// (and their fuzz sections hold) against the functions they call: the
/// WAT fee transfer (v1), the WAT counter of the WAT page and the v2 WAT
/// template's transfer (v2), the templates with the interfaces their
/// `Roda.toml` declares.
#[test]
fn every_scenario_in_the_guide_parses_and_passes() {
    let read = |path: &str| std::fs::read_to_string(repo_root().join(path)).unwrap();
    let fee_transfer = wat_template(cargo_roda::project::Abi::V1);
    let counter = wat::parse_str(&blocks(&read("docs/wat.md"), "wat")[1]).unwrap();
    let transfer = wat_template(cargo_roda::project::Abi::V2);
    let mut ran = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for block in blocks(&text, "toml").into_iter().filter(|b| b.contains("[[scenario]]")) {
            let runner = match () {
                _ if block.contains("\"fee_transfer\"") => roda_test::Runner::new(fee_transfer.clone(), "fee_transfer"),
                _ if block.contains("\"counter\"") => {
                    roda_test::Runner::new(counter.clone(), "counter").with_profile(&roda_test::abi::V2)
                }
                _ if block.contains("\"transfer\"") => {
                    roda_test::Runner::new(transfer.clone(), "transfer").with_profile(&roda_test::abi::V2)
                }
                _ => roda_test::Runner::new(Vec::new(), "none"),
            };
            let file = roda_test::ScenarioFile::from_str_with(&block, page.display().to_string(), &runner.interfaces())
                .unwrap_or_else(|e| panic!("{}: {e}\n{block}", page.display()));
            if runner.wasm().is_empty() {
                continue;
            }
            let report = runner.run_file(&file);
            assert!(report.passed(), "{}: {report}", page.display());
            for scenario in file.scenarios.iter().filter(|s| s.fuzz.is_some()) {
                let options = roda_test::fuzz::FuzzOptions::new(500, 1);
                let fuzz = runner.fuzz(&file, scenario, options).unwrap();
                assert!(fuzz.failure.is_none(), "{}: {:?}", page.display(), fuzz.failure);
            }
            ran += 1;
        }
    }
    assert!(ran >= 3, "the scenario page's examples ran");
}

/// The getting-started page, as a new user types it: its `sh` blocks run
/// in order in one shell, in an empty directory, with this build's
/// `cargo-roda` on PATH (the install step is the one thing skipped: it
/// would build what the tests already built), and the dev server on a free
/// port instead of 50051.
#[test]
fn getting_started_runs_as_written() {
    let stdout = run_page("getting-started.md", &["50051"]);
    assert!(stdout.contains("transfers/1/0/0 = 1"), "{stdout}");
}

/// The forking page, as written: a live ledger, a fork of it that moves
/// money of its own, and a fork at an earlier transaction.
#[test]
fn forking_runs_as_written() {
    let stdout = run_page("forking.md", &["50061", "50062", "50063"]);
    // `cargo roda balance` prints `id balance status flags` rows.
    let balances: Vec<(&str, &str)> = stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|row| row.get(2) == Some(&"open"))
        .map(|row| (row[0], row[1]))
        .collect();
    let expected = [("1", "70"), ("2", "30"), ("1", "20"), ("2", "80"), ("1", "70"), ("2", "30"), ("1", "100")];
    assert_eq!(
        balances, expected,
        "the live ledger, the fork after its own move, the live one again, an earlier fork\n{stdout}"
    );
    assert!(stdout.contains("same: the 2 records the server committed"), "the replay\n{stdout}");
    assert!(stdout.contains("saved as a scenario: incident.toml"), "the saved replay\n{stdout}");
    assert!(stdout.contains("  ok   transaction 4 replayed (1 step(s)"), "the saved replay passes\n{stdout}");
    assert!(
        stdout.contains("  ok   a newcomer is paid out of production's account 1 (2 step(s)"),
        "on the fork\n{stdout}"
    );
    assert!(
        stdout.contains("test result: ok. 1 scenario(s) passed, 0 failed; on the server 0 failed\n"),
        "live\n{stdout}"
    );
}

#[test]
fn auditing_runs_as_written() {
    let stdout = run_page("auditing.md", &["50071"]);
    assert!(stdout.contains("DEPLOYMENT RECORD") && stdout.contains("v1 deployed "), "list\n{stdout}");
    let verdicts: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("verified") || l.starts_with("NOT VERIFIED")).collect();
    assert_eq!(
        verdicts,
        [
            "verified: the server runs what this source builds",
            "NOT VERIFIED: see the fields that differ",
            "verified: the server runs what this source builds"
        ],
        "verify, after an edit, at the recorded revision\n{stdout}"
    );
    assert!(stdout.contains("exit code 8"), "{stdout}");
    assert!(stdout.contains("      USER(200) = ACCOUNT_FROZEN\n"), "inspect\n{stdout}");
    assert!(stdout.contains("  - constant transfers\n  + constant transferz\n"), "diff\n{stdout}");
    assert!(stdout.contains("CHANGED a transfer moves the amount and counts it"), "diff\n{stdout}");
    assert!(stdout.contains("exit code 5"), "diff\n{stdout}");
    assert!(stdout.contains("exit code 3"), "the gate\n{stdout}");
    assert!(stdout.contains("Deployed mover v2 (crc32c "), "accepted\n{stdout}");
}

/// Runs a page's `sh` blocks in order in one shell, in an empty directory,
/// with this build's `cargo-roda` on PATH (install steps skipped: they
/// would build what the tests already built), each of `ports` replaced by
/// a free one; returns what it printed.
fn run_page(page: &str, ports: &[&str]) -> String {
    let page = std::fs::read_to_string(docs().join(page)).unwrap();
    let mut script: String =
        blocks(&page, "sh").into_iter().filter(|block| !block.contains("cargo install")).collect::<String>();
    for port in ports {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
        script = script.replace(port, &free);
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cargo-roda"), bin.join("cargo-roda")).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = std::process::Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", &format!("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}")])
        .current_dir(&work)
        .env("PATH", path)
        .envs(support::guest_build_env());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RODA_") {
            command.env_remove(key);
        }
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script}\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The language pages show real files: the AssemblyScript example and the
/// WAT template, as they are; and the v2 WAT module validates for v2 and
/// stops validating without its `memory` export.
#[test]
fn the_language_pages_show_real_files() {
    let read = |path: &str| std::fs::read_to_string(repo_root().join(path)).unwrap();
    let ts = blocks(&read("docs/assemblyscript.md"), "ts");
    assert_eq!(ts, [read("examples/fee_transfer_as/assembly/index.ts")]);
    let wat = blocks(&read("docs/wat.md"), "wat");
    assert_eq!(wat[0], read("cargo-roda/templates/wat/function.wat"));
    let counter = wat::parse_str(&wat[1]).unwrap();
    assert!(ledger_core::abi::validate_for(&counter, &ledger_core::abi::V2).is_valid());
    let without_memory = wat::parse_str(wat[1].replace("(memory (export \"memory\") 1)", "(memory 1)")).unwrap();
    let report = ledger_core::abi::validate_for(&without_memory, &ledger_core::abi::V2);
    assert!(report.violations.iter().any(|v| v.rule.code() == "constants-need-memory"), "{report:?}");
}

/// The exit-code table of the CI page is the CLI's.
#[test]
fn the_ci_page_has_the_exit_codes() {
    let page = std::fs::read_to_string(docs().join("ci.md")).unwrap();
    for code in cargo_roda::exit::ExitCode::ALL {
        let row = format!("| {} | {} |", code.code(), code.meaning());
        assert!(page.contains(&row), "{row}");
    }
}

/// The deploying page's profiles are ones Roda.toml accepts, a cluster's
/// included.
#[test]
fn the_deploying_page_shows_valid_profiles() {
    let page = std::fs::read_to_string(docs().join("deploying.md")).unwrap();
    let profiles = blocks(&page, "toml").concat();
    let file = format!("[function]\nname = \"f\"\nlanguage = \"wat\"\n\n{profiles}");
    let parsed: cargo_roda::project::ProjectFile = toml::from_str(&file).unwrap_or_else(|e| panic!("{e}\n{file}"));
    assert_eq!(parsed.profiles["production"].urls().len(), 3);
    assert_eq!(parsed.profiles["local"].urls(), ["http://127.0.0.1:50051"]);
}
