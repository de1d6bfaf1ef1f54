//! `cargo roda build` gives the same bytes for the same source wherever it
//! runs: another directory, another CARGO_HOME, another target directory.
//! The report prints the SHA-256 beside the CRC32C a server keeps.

mod support;

use std::path::Path;

use support::roda;

/// The report of `cargo roda build --output json` in `project`, with `envs`
/// over the usual ones.
fn built(project: &Path, envs: &[(&str, &Path)]) -> serde_json::Value {
    let mut command = support::command(project, &["build", "--output", "json"]);
    for (key, value) in envs {
        command.env(key, value);
    }
    let run = support::finish(command.output().expect("run cargo-roda"));
    assert_eq!(run.code, 0, "{run:?}");
    run.json()
}

/// A Rust function whose module holds a source path: a path dependency
/// outside the project (`file!()` there is absolute, as a panic location
/// would be). Built in two directories, with two CARGO_HOMEs and two target
/// directories, it is the same module, the path taken out.
#[test]
fn a_rust_function_builds_the_same_anywhere() {
    let places = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for place in &places {
        assert_eq!(roda(place.path(), &["new", "mover", "--lang", "rust"]).code, 0);
        let helper = place.path().join("helper");
        std::fs::create_dir_all(helper.join("src")).unwrap();
        std::fs::write(
            helper.join("Cargo.toml"),
            "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(
            helper.join("src/lib.rs"),
            "#![no_std]\n/// An entry of `v` plus a byte of this file's path: the path stays in the module.\npub fn nth(v: &[i64], i: usize) -> i64 {\n    let f = file!().as_bytes();\n    v[i % v.len()] + i64::from(f[i % f.len()])\n}\n",
        )
        .unwrap();
        let project = place.path().join("mover");
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        let manifest = manifest.replace("[dependencies]\n", "[dependencies]\nhelper = { path = \"../helper\" }\n");
        std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
        let source = std::fs::read_to_string(project.join("src/lib.rs")).unwrap();
        let source = source.replacen(
            "    credit(sender, amount.get());",
            "    if helper::nth(&[1, 2, 3], amount.get() as usize % 7) < 0 {\n        return Err(Status::INSUFFICIENT_FUNDS);\n    }\n    credit(sender, amount.get());",
            1,
        );
        assert!(source.contains("helper::nth"), "the template changed: {source}");
        std::fs::write(project.join("src/lib.rs"), source).unwrap();
    }
    let first = built(&places[0].path().join("mover"), &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    let (home, target) = (elsewhere.path().join("cargo-home"), elsewhere.path().join("target"));
    let second = built(&places[1].path().join("mover"), &[("CARGO_HOME", &home), ("CARGO_TARGET_DIR", &target)]);
    assert_eq!(first["report"]["sha256"], second["report"]["sha256"], "{first:#}\n{second:#}");
    assert_eq!(first["report"]["crc32c"], second["report"]["crc32c"]);
    let wasm = std::fs::read(second["wasm"].as_str().unwrap()).unwrap();
    let text = String::from_utf8_lossy(&wasm);
    assert!(text.contains("/path/helper/src/lib.rs"), "the dependency's path, remapped");
    assert!(!text.contains(&places[1].path().display().to_string()), "no path of the place it was built in");
    let human = roda(&places[1].path().join("mover"), &["build"]);
    let sha = second["report"]["sha256"].as_str().unwrap();
    assert!(human.stdout.contains(&format!("\n  sha256: {sha}\n")), "{human:?}");
}

/// An AssemblyScript function (its compiler from the lock file npm writes)
/// and a WAT one build the same in two directories.
#[test]
fn assemblyscript_and_wat_functions_build_the_same_anywhere() {
    for language in ["assemblyscript", "wat"] {
        let places = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let hashes: Vec<serde_json::Value> = places
            .iter()
            .map(|place| {
                assert_eq!(roda(place.path(), &["new", "fn_a", "--lang", language]).code, 0);
                built(&place.path().join("fn_a"), &[])["report"]["sha256"].clone()
            })
            .collect();
        assert!(hashes[0].as_str().is_some_and(|h| h.len() == 64), "{language}: {hashes:?}");
        assert_eq!(hashes[0], hashes[1], "{language}");
    }
}
