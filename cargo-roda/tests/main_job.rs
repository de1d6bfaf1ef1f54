//! The README's main-job command, run for real with this build.

mod support;

#[test]
fn main_job_script_runs_end_to_end() {
    let output = std::process::Command::new("bash")
        .arg(support::repo_root().join("scripts/main-job.sh"))
        .env("CARGO_RODA", env!("CARGO_BIN_EXE_cargo-roda"))
        .envs(support::guest_build_env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Created Rust function `transfer` (ABI v2)"), "{stdout}");
    assert!(stdout.contains("Deployed transfer v1"), "{stdout}");
    assert!(stdout.contains("opened accounts 1..=2"), "{stdout}");
    assert!(
        stdout.contains("transaction 4: NONE (0)\n  credit            1                   40  balance 60"),
        "{stdout}"
    );
    assert!(stdout.contains("transfers/1/0/0 = 1"), "{stdout}");
    assert!(stdout.ends_with("main job: ok\n"), "{stdout}");
}
