//! Deployed = reviewed: `deploy` records what it sent in
//! `.roda/deployments.toml`, `list` says which listed function matches a
//! record, `verify` rebuilds the source (at the recorded revision with
//! `--rev`) and compares it with the record and the server, `diff` shows
//! what a new build changes, and `deploy --override` refuses a behaviour
//! change unless it is accepted.

mod support;

use std::path::Path;

use support::dev::{DevServer, against};
use support::roda;

/// Runs git in `dir` with an author set.
fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A WAT project in a git repository of its own, committed.
fn committed_project(dir: &Path) -> std::path::PathBuf {
    assert_eq!(roda(dir, &["new", "mover", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.join("mover");
    git(&project, &["init", "-q"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-qm", "reviewed"]);
    project
}

/// A change to the source that changes the module: the constant renamed,
/// in the code and in the manifest `Roda.toml` declares.
fn change(project: &Path) {
    for (file, from, to) in [
        ("function.wat", "\"transfers\\00\"", "\"transferz\\00\""),
        ("Roda.toml", "[\"transfers\"]", "[\"transferz\"]"),
    ] {
        let path = project.join(file);
        let source = std::fs::read_to_string(&path).unwrap();
        let changed = source.replace(from, to);
        assert_ne!(source, changed, "the template changed: {file}");
        std::fs::write(path, changed).unwrap();
    }
}

#[test]
fn deploy_records_and_verify_compares_source_record_and_server() {
    let dir = tempfile::tempdir().unwrap();
    let project = committed_project(dir.path());
    let server = DevServer::start(&["--abi", "v2"]);
    let run = |args: &[&str]| against(&project, &server.url, args);

    let deployed = run(&["deploy", "--output", "json"]).json();
    let records = std::fs::read_to_string(project.join(".roda/deployments.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&records).unwrap();
    let record = &parsed["deployment"][0];
    assert_eq!(record["name"].as_str(), Some("mover"), "{records}");
    assert_eq!(record["version"].as_integer(), Some(1));
    assert_eq!(record["crc32c"].as_str(), deployed["crc32c"].as_str());
    assert_eq!(record["sha256"].as_str(), deployed["sha256"].as_str());
    assert_eq!(record["server"].as_str(), Some(server.url.as_str()));
    assert_eq!(record["wire"].as_str(), Some("head"));
    assert_eq!(record["dirty"].as_bool(), Some(false));
    assert_eq!(record["revision"].as_str().map(str::len), Some(40), "{records}");
    for key in ["size", "toolchain", "cargo_roda", "deployed_at"] {
        assert!(record.get(key).is_some(), "{key} in {records}");
    }
    let listed = run(&["list"]).stdout;
    assert!(listed.contains("DEPLOYMENT RECORD") && listed.contains("v1 deployed "), "{listed}");

    let verified = run(&["verify"]);
    assert_eq!(verified.code, 0, "{verified:?}");
    assert!(verified.stdout.contains("verified: the server runs what this source builds"), "{verified:?}");
    assert!(verified.stdout.contains("its side of this check is a CRC"), "{verified:?}");

    change(&project);
    let changed = run(&["verify", "--output", "json"]);
    assert_eq!(changed.code, 8, "{changed:?}");
    let json = changed.json();
    let field = |name: &str| json["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!((field("sha256")["agrees"].as_bool(), field("crc32c")["agrees"].as_bool()), (Some(false), Some(false)));
    assert_eq!(field("version")["agrees"].as_bool(), Some(true));
    assert!(field("revision")["rebuilt"].as_str().unwrap().ends_with(" (modified)"), "{json:#}");
    let human = run(&["verify"]).stdout;
    assert!(human.contains("\n  sha256     DIFFERS  record "), "{human}");
    assert!(human.ends_with("NOT VERIFIED: see the fields that differ\n"), "{human}");
    let at_record = run(&["verify", "--rev"]);
    assert_eq!(at_record.code, 0, "the recorded revision still builds what was deployed: {at_record:?}");

    // What the change does, against the deployed version rebuilt at its
    // revision: the counter's constant is renamed.
    let diffed = run(&["diff", "--fuzz", "200", "--seed", "3"]);
    assert_eq!(diffed.code, 5, "{diffed:?}");
    assert!(diffed.stdout.contains("interface:\n  - constant transfers\n  + constant transferz\n"), "{diffed:?}");
    assert!(diffed.stdout.contains("CHANGED a transfer moves the amount and counts it (line "), "{diffed:?}");
    assert!(diffed.stdout.contains("  kv transfers/1/0/0: old 1, new no constant `transfers`\n"), "{diffed:?}");
    assert!(diffed.stdout.contains("CHANGED fuzz any transfer between open accounts"), "{diffed:?}");
    assert!(diffed.stdout.ends_with("behaviour changed\n"), "{diffed:?}");
    let built = run(&["build", "--output", "json"]).json();
    let same = run(&["diff", built["wasm"].as_str().unwrap(), "--fuzz", "200"]);
    assert_eq!(same.code, 0, "a build against itself: {same:?}");
    assert!(same.stdout.ends_with("no behaviour change found\n"), "{same:?}");

    // A new version: an override that changes behaviour is refused unless
    // accepted; the record grows, and verify checks the last.
    let refused = run(&["deploy", "--override"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(refused.stderr.contains("`mover` behaves otherwise than v1 deployed to "), "{refused:?}");
    assert!(refused.stderr.contains("--override --accept-changes if that is intended"), "{refused:?}");
    let accepted = run(&["deploy", "--override", "--accept-changes", "--output", "json"]).json();
    assert_eq!(accepted["version"], 2, "{accepted:#}");
    assert!(accepted["changes"]["steps"].as_array().is_some_and(|s| !s.is_empty()), "{accepted:#}");
    let records = std::fs::read_to_string(project.join(".roda/deployments.toml")).unwrap();
    assert_eq!(records.matches("[[deployment]]").count(), 2, "{records}");
    assert!(records.contains("dirty = true"), "{records}");
    assert_eq!(run(&["verify"]).code, 0);
    assert!(run(&["list"]).stdout.contains("v2 deployed "));
    // Built from modified files, it cannot be rebuilt to compare with.
    let dirty = run(&["deploy", "--override"]);
    assert_eq!(dirty.code, 3, "{dirty:?}");
    assert!(dirty.stderr.contains("was built from files that differed from revision"), "{dirty:?}");
    // Committed and deployed again: the same behaviour passes the gate.
    git(&project, &["commit", "-qam", "renamed"]);
    assert_eq!(run(&["deploy", "--override", "--accept-changes"]).code, 0);
    let unchanged = run(&["deploy", "--override", "--output", "json"]);
    assert_eq!(unchanged.code, 0, "{unchanged:?}");
    assert_eq!(unchanged.json()["changes"]["steps"], serde_json::json!([]));

    // Gone from the server: the server's side differs.
    assert_eq!(run(&["verify"]).code, 0);
    assert_eq!(run(&["unregister", "mover"]).code, 0);
    let gone = run(&["verify", "--output", "json"]);
    assert_eq!(gone.code, 8, "{gone:?}");
    assert!(gone.stdout.contains("(not registered)"), "{gone:?}");
}

#[test]
fn what_verify_and_deploy_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let server = DevServer::start(&["--abi", "v2"]);
    // Outside git: records without a revision.
    assert_eq!(roda(dir.path(), &["new", "loose", "--lang", "wat", "--abi", "v2"]).code, 0);
    let loose = dir.path().join("loose");
    let run = |args: &[&str]| against(&loose, &server.url, args);
    let nothing = run(&["verify"]);
    assert_eq!(nothing.code, 2, "{nothing:?}");
    assert!(nothing.stderr.contains("no deployment of `loose` to http://127.0.0.1:"), "{nothing:?}");
    assert!(nothing.stderr.contains("deploy it with `cargo roda deploy` from this project first"), "{nothing:?}");
    assert_eq!(run(&["deploy"]).code, 0);
    assert_eq!(run(&["verify"]).code, 0);
    let no_revision = run(&["verify", "--rev"]);
    assert_eq!(no_revision.code, 2, "{no_revision:?}");
    assert!(no_revision.stderr.contains("the record names no revision"), "{no_revision:?}");
    let unknown = run(&["verify", "--rev", "v9"]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("cannot check out revision `v9`"), "{unknown:?}");

    // A record file that cannot take a record refuses the deploy before
    // anything is sent.
    std::fs::write(loose.join(".roda/deployments.toml"), "[[deployment]]\nname = 3\n").unwrap();
    let refused = run(&["deploy", "--override"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("deployments.toml: not a deployment record file"), "{refused:?}");
    let listed = run(&["list", "--output", "json"]);
    assert_eq!(listed.code, 1, "{listed:?}");
    let listed = against(dir.path(), &server.url, &["list", "--output", "json"]).json();
    assert_eq!(listed["functions"][0]["version"], 1, "nothing was sent: {listed:#}");
}
