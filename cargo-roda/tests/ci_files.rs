//! The CI files in `docs/ci/` run as written: every command of the GitHub
//! Actions workflow and of the GitLab job is executed in a fresh project,
//! with the `cargo-roda` under test standing in for `cargo install`.

mod support;

use std::path::Path;
use std::process::Command;

use support::{repo_root, roda};

/// What the CI files install: cargo-roda from its repository (the SDK it
/// scaffolds against comes from the same commit); the test runs the binary
/// it built instead.
fn install() -> String {
    format!("cargo install --locked --git {} cargo-roda", env!("CARGO_PKG_REPOSITORY"))
}

/// The shell commands of a GitHub Actions workflow: its `run:` lines.
fn github_commands(workflow: &str) -> Vec<String> {
    workflow.lines().filter_map(|line| line.trim().strip_prefix("run: ")).map(str::to_owned).collect()
}

/// The shell commands of a GitLab job: the items of `before_script` and
/// `script`, in order.
fn gitlab_commands(job: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_script = false;
    for line in job.lines() {
        let trimmed = line.trim();
        if trimmed.ends_with(':') {
            in_script = trimmed == "before_script:" || trimmed == "script:";
        } else if let (true, Some(command)) = (in_script, trimmed.strip_prefix("- ")) {
            commands.push(command.to_owned());
        }
    }
    commands
}

/// Runs `command` in `project` through `sh`, `cargo roda` being the binary
/// under test; returns its exit code and what it printed.
fn run(project: &Path, command: &str) -> (i32, String) {
    let binary = env!("CARGO_BIN_EXE_cargo-roda");
    let command = command.replace("cargo roda ", &format!("'{binary}' roda "));
    let output = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(project)
        .envs(support::guest_build_env())
        .output()
        .expect("run sh");
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), printed)
}

#[test]
fn the_ci_files_commands_pass_on_a_new_project_and_fail_on_a_broken_scenario() {
    let root = repo_root().join("docs/ci");
    for (file, commands) in [
        ("github-actions.yml", github_commands(&std::fs::read_to_string(root.join("github-actions.yml")).unwrap())),
        ("gitlab-ci.yml", gitlab_commands(&std::fs::read_to_string(root.join("gitlab-ci.yml")).unwrap())),
    ] {
        assert_eq!(commands.first(), Some(&install()), "{file}: {commands:?}");
        assert_eq!(commands.len(), 3, "{file}: install, build, test: {commands:?}");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(roda(dir.path(), &["new", "xfer", "--lang", "wat", "--abi", "v2"]).code, 0);
        let project = dir.path().join("xfer");
        for command in &commands[1..] {
            let (code, printed) = run(&project, command);
            assert_eq!(code, 0, "{file}: `{command}`:\n{printed}");
        }
        let build: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(project.join("build.json")).unwrap()).unwrap();
        assert_eq!(build["report"]["valid"], true, "{file}: {build:#}");
        let junit = std::fs::read_to_string(project.join("junit.xml")).unwrap();
        assert!(junit.contains("<testsuite") && junit.contains("failures=\"0\""), "{file}: {junit}");

        // The gate: a scenario that no longer holds fails the job with 5.
        let scenarios = project.join("tests/xfer.toml");
        let text = std::fs::read_to_string(&scenarios).unwrap();
        std::fs::write(&scenarios, text.replace("bob = 40 }", "bob = 41 }")).unwrap();
        let (code, printed) = run(&project, &commands[2]);
        assert_eq!(code, 5, "{file}: `{}` on a broken scenario:\n{printed}", commands[2]);
        let junit = std::fs::read_to_string(project.join("junit.xml")).unwrap();
        assert!(junit.contains("<failure"), "{file}: {junit}");
    }
}
