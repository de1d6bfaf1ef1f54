//! Every project under `examples/`, as a user runs it: `cargo roda build`
//! (valid, no warning, for the ABI its Roda.toml names), `cargo roda test`
//! (its scenarios, its fuzz sections and its committed fuel baseline), and
//! its own `cargo test` (native unit tests on the mock, and the scenarios
//! through the roda-test library).

mod support;

use std::path::PathBuf;

use cargo_roda::scaffold::{self, NewProject};
use cargo_roda::sdk::Sdk;
use support::{repo_root, roda};

fn examples() -> Vec<PathBuf> {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.join("Roda.toml").is_file())
        .collect();
    examples.sort();
    examples
}

/// Marks an example's sources as just written. Guest builds share one
/// target directory, and other tests scaffold projects under the same
/// package names in temporary directories: cargo fingerprints a package's
/// files by their path inside it and their time, so an example whose files
/// are older than such a build would reuse its artifacts, the test binary
/// included (with the temporary project's path compiled in).
fn touch_sources(example: &std::path::Path) {
    let now = std::time::SystemTime::now();
    let mut dirs = vec![example.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                if !["target", "node_modules", "build"].contains(&name.as_ref()) {
                    dirs.push(path);
                }
            } else {
                std::fs::File::options().write(true).open(&path).unwrap().set_modified(now).unwrap();
            }
        }
    }
}

#[test]
fn every_example_builds_validates_and_passes_its_scenarios_fuzzing_and_costs() {
    let examples = examples();
    assert!(examples.len() >= 10, "{examples:?}");
    let mut interfaces = std::collections::BTreeMap::new();
    for example in examples {
        let name = example.file_name().unwrap().to_string_lossy().into_owned();
        let project = cargo_roda::project::Project::load(&example.join("Roda.toml")).unwrap();
        touch_sources(&example);
        let built = roda(&example, &["build", "--deny-warnings", "--output", "json"]);
        assert_eq!(built.code, 0, "{name}: {built:?}");
        let interface = check_manifest(&example, &project, built.json()["wasm"].as_str().unwrap());
        interfaces.insert(name.clone(), interface);
        let tested = roda(&example, &["test", "--fuzz", "3000", "--seed", "1", "--costs", "costs.json"]);
        assert_eq!(tested.code, 0, "{name}: {tested:?}");
        assert!(!tested.stdout.contains("fuel baseline written"), "{name}: costs.json is committed: {tested:?}");
        let costs = std::fs::read_to_string(example.join("costs.json")).unwrap();
        let costs: std::collections::BTreeMap<String, u64> = serde_json::from_str(&costs).unwrap();
        assert!(costs.keys().all(|key| key.starts_with("tests/")), "{name}: keys relative to costs.json: {costs:?}");
        if name == "collateral_check" {
            check_profile(&example);
        }
        if project.file.function.language != cargo_roda::project::Language::Rust {
            // No cargo here: `cargo roda test` above ran the scenarios through roda-test.
            continue;
        }
        // An example's scenario test is the template's, rendered: it shows
        // what `cargo roda new` gives, and cannot drift from it.
        let new = NewProject {
            name: project.file.function.name.clone(),
            language: project.file.function.language,
            dir: example.clone(),
            sdk: Sdk::built_with(),
            abi: project.abi(),
        };
        let rendered = scaffold::rendered(&new, "tests/scenarios.rs").expect("a Rust project's scenario test");
        assert_eq!(std::fs::read_to_string(example.join("tests/scenarios.rs")).unwrap(), rendered, "{name}");
        let native = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
            .args(["test", "--quiet", "--locked"])
            .current_dir(&example)
            .envs(support::guest_build_env())
            .output()
            .unwrap();
        assert!(native.status.success(), "{name}: {}", String::from_utf8_lossy(&native.stderr));
    }
    // The AssemblyScript template's `[interface]` says what the Rust
    // template's source does.
    let (rust, assemblyscript) = (&interfaces["fee_transfer"], &interfaces["fee_transfer_as"]);
    assert_eq!(rust["params"], assemblyscript["params"]);
    assert_eq!(rust["abi"], assemblyscript["abi"]);
    let statuses = |interface: &serde_json::Value| -> Vec<(serde_json::Value, serde_json::Value)> {
        let list = interface["statuses"].as_array().unwrap();
        list.iter().map(|s| (s["name"].clone(), s["status"].clone())).collect()
    };
    assert_eq!(statuses(rust), statuses(assemblyscript));
}

/// A Rust example's fuel profile: its functions named from the symbols
/// build (the deployed one is stripped), the host calls as leaves, and
/// each scenario's total the fuel its steps were charged.
fn check_profile(example: &std::path::Path) {
    let dir = tempfile::tempdir().unwrap();
    let run = roda(example, &["test", "--profile", dir.path().to_str().unwrap(), "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    let scenarios = json["files"][0]["scenarios"].as_array().unwrap();
    let profiles = json["profiles"].as_array().unwrap();
    for profile in profiles {
        let scenario = scenarios.iter().find(|s| s["name"] == profile["scenario"]).unwrap();
        let charged: u64 = scenario["steps"].as_array().unwrap().iter().filter_map(|s| s["fuel"].as_u64()).sum();
        assert_eq!(profile["fuel"].as_u64(), Some(charged), "{profile:#}");
        let folded = std::fs::read_to_string(profile["folded"].as_str().unwrap()).unwrap();
        let total: u64 = folded.lines().map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap()).sum();
        assert_eq!(total, charged, "{folded}");
        assert!(folded.lines().any(|l| l.starts_with("execute;ledger::get_balance ")), "{folded}");
        assert!(
            folded.contains("execute;__udivti3;compiler_builtins::int::specialized_div_rem::u128_div_rem "),
            "named from the symbols build (the u128 division's helper): {folded}"
        );
    }
    assert_eq!(profiles.len(), 2, "the two scenarios with steps: {json:#}");
}

/// The example's module names what its source declares: a parameter per
/// slot, a status per `#[status]` (Rust) or `[interface]` entry, each
/// constant `register()` defines, and the project's ABI.
fn check_manifest(example: &std::path::Path, project: &cargo_roda::project::Project, wasm: &str) -> serde_json::Value {
    let inspected = roda(example, &["inspect", wasm, "--output", "json"]);
    assert_eq!(inspected.code, 0, "{inspected:?}");
    let interface = inspected.json()["interface"].clone();
    assert_eq!(interface["abi"].as_str(), Some(project.abi().id()), "{interface:#}");
    let params = interface["params"].as_array().unwrap();
    assert!(!params.is_empty() && params.len() <= 8, "{interface:#}");
    let source: String = ["src/lib.rs", "assembly/index.ts"]
        .iter()
        .filter_map(|file| std::fs::read_to_string(example.join(file)).ok())
        .collect();
    let statuses = interface["statuses"].as_array().unwrap();
    for status in statuses {
        let name = status["name"].as_str().unwrap();
        let code = status["status"].as_u64().unwrap();
        let declared = [format!("{name}: Status = Status::user({code})"), format!("{name}: i32 = {code}")];
        assert!(declared.iter().any(|d| source.contains(d.as_str())), "{name} = {code} in {}", example.display());
    }
    assert_eq!(statuses.len(), source.matches("#[status]").count().max(source.matches(": i32 = ").count()));
    for constant in interface["constants"].as_array().unwrap() {
        assert!(source.contains(&format!("register_constant(c\"{}\")", constant.as_str().unwrap())), "{interface:#}");
    }
    interface
}

/// The fee transfer in Rust and in AssemblyScript run the same scenarios.
#[test]
fn both_fee_transfers_share_their_scenarios() {
    let read = |dir: &str| {
        std::fs::read_to_string(repo_root().join("examples").join(dir).join("tests/fee_transfer.toml")).unwrap()
    };
    assert_eq!(read("fee_transfer"), read("fee_transfer_as"));
}

/// The fee transfers are the v1 templates, rendered: what `cargo roda new`
/// writes is the example the guide shows, and cannot drift from it.
#[test]
fn the_fee_transfers_are_the_v1_templates() {
    use cargo_roda::project::{Abi, Language, Project, ProjectFile};
    let template = |example: &std::path::Path, language| NewProject {
        name: "fee_transfer".into(),
        language,
        dir: example.to_path_buf(),
        sdk: Sdk::built_with(),
        abi: Abi::V1,
    };
    for (dir, language, file) in [
        ("fee_transfer", Language::Rust, "src/lib.rs"),
        ("fee_transfer_as", Language::AssemblyScript, "assembly/index.ts"),
        ("fee_transfer_as", Language::AssemblyScript, "assembly/ledger.ts"),
    ] {
        let example = repo_root().join("examples").join(dir);
        let new = template(&example, language);
        let rendered = scaffold::rendered(&new, file)
            .or_else(|| scaffold::generated(&new, file))
            .unwrap_or_else(|| panic!("{dir}: no template writes {file}"));
        assert_eq!(std::fs::read_to_string(example.join(file)).unwrap(), rendered, "{dir}/{file}");
    }
    // Their Roda.toml says what the template's does (the template's also
    // names the schema `new` writes beside it, which an example lacks).
    for (dir, language) in [("fee_transfer", Language::Rust), ("fee_transfer_as", Language::AssemblyScript)] {
        let example = repo_root().join("examples").join(dir);
        let rendered = scaffold::rendered(&template(&example, language), "Roda.toml").unwrap();
        let rendered: ProjectFile = toml::from_str(&rendered).unwrap();
        assert_eq!(Project::load(&example.join("Roda.toml")).unwrap().file, rendered, "{dir}/Roda.toml");
    }
}
