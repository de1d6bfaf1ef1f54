//! `cargo roda dev --watch`: the project's function is registered when the
//! server starts and again after each change of its sources, driven here by
//! writing the files; a build or a module that fails leaves the last good
//! version registered.

mod support;

use std::process::Command;

use support::dev::{DevServer, against};
use support::roda;

#[test]
fn dev_watch_re_registers_after_a_change_and_keeps_the_last_good_version() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "mover", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.path().join("mover");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-roda"));
    command.args(["roda", "dev", "--watch", "--listen", "127.0.0.1:0"]).current_dir(&project);
    let server = DevServer::spawn(command).unwrap_or_else(|stderr| panic!("did not start:\n{stderr}"));
    let first = server.wait_for_stderr("registered `mover` v1");
    assert!(first.contains("; scenarios: 4 passed, 0 failed, "), "{first}");
    let listed = |server: &DevServer| {
        let list = against(&project, &server.url, &["list", "--output", "json"]).json();
        let mover = list["functions"].as_array().unwrap().iter().find(|f| f["name"] == "mover").unwrap().clone();
        (mover["version"].as_u64().unwrap(), mover["crc32c"].as_str().unwrap().to_owned())
    };

    // A change: the frozen status is 201 now, which a scenario notices.
    let source = project.join("function.wat");
    let text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(&source, text.replace("(i32.const 200)", "(i32.const 201)")).unwrap();
    let second = server.wait_for_stderr("registered `mover` v2");
    assert!(second.contains("; scenarios: 3 passed, 1 failed, "), "{second}");
    server.wait_for_stderr("expected status USER(200) = ACCOUNT_FROZEN (200), got USER(201) (201)");
    let built = roda(&project, &["build", "--output", "json"]).json();
    assert_eq!(listed(&server), (2, built["report"]["crc32c"].as_str().unwrap().to_owned()));

    // A source that does not build, then a module that fails validation:
    // v2 stays.
    std::fs::write(&source, "(module").unwrap();
    server.wait_for_stderr("v2 stays registered; watching for changes");
    std::fs::write(&source, "(module (func (export \"run\")))").unwrap();
    let refused = server.wait_for_stderr("v2 stays registered; watching for changes");
    assert!(refused.contains("v2 stays"), "{refused}");
    assert_eq!(listed(&server).0, 2);

    // Fixed again: v3, the first version's bytes.
    std::fs::write(&source, text).unwrap();
    let third = server.wait_for_stderr("registered `mover` v3");
    assert!(third.contains("; scenarios: 4 passed, 0 failed, "), "{third}");

    // A scenario file that does not parse is said, the function registered.
    std::fs::write(project.join("tests/mover.toml"), "version = 2\n[[scenario]]\n").unwrap();
    let fourth = server.wait_for_stderr("registered `mover` v4");
    assert!(fourth.contains("; scenarios not run: "), "{fourth}");
    let (_, stderr) = server.stop_with_stderr();
    assert!(
        !stderr.iter().any(|line| line.contains("registered `mover` v5")),
        "a build's own files are no change: {stderr:?}"
    );
}

#[test]
fn dev_watch_needs_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let run = roda(dir.path(), &["dev", "--watch", "--listen", "127.0.0.1:0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--watch rebuilds a project's function: run it in a project"), "{run:?}");
}

/// `cargo roda test --watch` runs the scenarios, then again at each change,
/// each report on stdout as the run ends.
#[test]
fn test_watch_reruns_the_scenarios_after_a_change() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "mover", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.path().join("mover");
    let mut child = support::command(&project, &["test", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The verdicts, from stderr, in order; stdout drained beside them.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let reports = std::thread::spawn(move || stdout.lines().map_while(Result::ok).collect::<Vec<_>>());
    let mut verdicts = stderr.lines().map_while(Result::ok).filter(|l| l.starts_with("cargo roda test: "));
    assert!(verdicts.next().unwrap().starts_with("cargo roda test: passed; watching "));
    let scenario = project.join("tests/mover.toml");
    let text = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(&scenario, text.replace("expect = \"ACCOUNT_FROZEN\"", "expect = \"NONE\"")).unwrap();
    assert_eq!(verdicts.next().unwrap(), "cargo roda test: changed: tests/mover.toml");
    assert!(verdicts.next().unwrap().starts_with("cargo roda test: FAILED; watching "));
    let _ = child.kill();
    let _ = child.wait();
    let reports = reports.join().unwrap().join("\n");
    assert!(reports.contains("got USER(200) = ACCOUNT_FROZEN (200)"), "{reports}");
    assert_eq!(reports.matches("test result: ").count(), 2, "{reports}");

    let json = roda(&project, &["test", "--watch", "--output", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    assert!(json.stdout.contains("leave --output json out"), "{json:?}");
}
