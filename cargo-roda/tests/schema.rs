//! The JSON Schemas of `Roda.toml` and of the scenario files, generated from
//! the types that parse them: every template and example fits them, a typo
//! does not; `cargo roda new` writes them where the templates' `#:schema`
//! lines say; `cargo roda schema` prints and writes them.

mod support;

use cargo_roda::project::{Abi, Language};
use cargo_roda::scaffold::{NewProject, rendered, schemas};
use cargo_roda::sdk::Sdk;
use support::{repo_root, roda};

/// A TOML text as the JSON value a schema validates.
fn as_json(text: &str) -> serde_json::Value {
    serde_json::to_value(toml::from_str::<toml::Value>(text).unwrap()).unwrap()
}

#[track_caller]
fn assert_fits(validator: &jsonschema::Validator, text: &str, what: &str) {
    let errors: Vec<String> = validator.iter_errors(&as_json(text)).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}");
}

#[test]
fn every_template_and_example_fits_its_schema_and_a_typo_does_not() {
    let project = jsonschema::validator_for(&cargo_roda::project::schema()).unwrap();
    let scenarios = jsonschema::validator_for(&roda_test::scenario_schema()).unwrap();
    let mut checked = 0;
    for language in [Language::Rust, Language::AssemblyScript, Language::Wat] {
        for abi in [Abi::V1, Abi::V2] {
            let new = NewProject { name: "f".into(), language, dir: "f".into(), sdk: Sdk::built_with(), abi };
            assert_fits(&project, &rendered(&new, "Roda.toml").unwrap(), &format!("{language:?} {abi:?} Roda.toml"));
            assert_fits(
                &scenarios,
                &rendered(&new, "tests/f.toml").unwrap(),
                &format!("{language:?} {abi:?} scenario"),
            );
            checked += 2;
        }
    }
    for example in std::fs::read_dir(repo_root().join("examples")).unwrap().map(|e| e.unwrap().path()) {
        let Ok(text) = std::fs::read_to_string(example.join("Roda.toml")) else { continue };
        assert_fits(&project, &text, &example.display().to_string());
        for file in roda_test::scenario_paths(&example.join("tests")).unwrap() {
            assert_fits(&scenarios, &std::fs::read_to_string(&file).unwrap(), &file.display().to_string());
            checked += 1;
        }
        checked += 1;
    }
    assert!(checked > 30, "{checked}");

    let typo = "[function]\nname = \"f\"\nlangauge = \"rust\"\n";
    let errors: Vec<String> = project.iter_errors(&as_json(typo)).map(|e| e.to_string()).collect();
    assert!(errors.iter().any(|e| e.contains("langauge")), "{errors:?}");
    let kind =
        "[function]\nname = \"f\"\nlanguage = \"rust\"\n[interface]\nparams = [{ name = \"a\", kind = \"money\" }]\n";
    assert!(!project.is_valid(&as_json(kind)), "an unknown parameter kind");
    let step = "version = 2\n[[scenario]]\nname = \"s\"\nsteps = [{ call = \"f\", expct = \"NONE\" }]\n";
    let errors: Vec<String> = scenarios.iter_errors(&as_json(step)).map(|e| e.to_string()).collect();
    assert!(errors.iter().any(|e| e.contains("expct")), "{errors:?}");
    assert!(!scenarios.is_valid(&as_json("version = 3\n")), "a later format");
}

#[test]
fn new_writes_the_schemas_the_templates_name_and_schema_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "f", "--lang", "wat"]).code, 0);
    let project = dir.path().join("f");
    for (file, named) in
        [("Roda.toml", ".roda/schema/Roda.toml.json"), ("tests/f.toml", "../.roda/schema/scenarios.json")]
    {
        let text = std::fs::read_to_string(project.join(file)).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(first, format!("#:schema {named}"), "{file}");
        let schema = project.join(file).parent().unwrap().join(named);
        assert!(schema.is_file(), "{} names {}", file, schema.display());
    }
    for (name, text) in schemas() {
        assert_eq!(std::fs::read_to_string(project.join(".roda/schema").join(name)).unwrap(), text, "{name}");
    }
    let printed = roda(dir.path(), &["schema", "scenarios"]);
    assert_eq!(printed.code, 0, "{printed:?}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&printed.stdout).unwrap(), roda_test::scenario_schema());
    let written = roda(dir.path(), &["schema", "--write", "schemas"]);
    assert_eq!(written.code, 0, "{written:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("schemas/Roda.toml.json")).unwrap(), schemas()[0].1);
    assert_eq!(roda(dir.path(), &["schema"]).code, 2, "which schema");
}
