//! `cargo roda schema`.

use std::path::PathBuf;

use cargo_roda::error::Error;
use cargo_roda::output::Outcome;
use serde::Serialize;

/// Which file's schema.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Which {
    /// `Roda.toml`.
    RodaToml,
    /// A scenario file (`tests/*.toml`), format versions 1 and 2.
    Scenarios,
}

/// Print the JSON Schema of Roda.toml or of the scenario files, generated
/// from the types that parse them, for editors that check TOML against one
/// (Taplo, Even Better TOML: the templates name them with `#:schema`).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda schema roda-toml\n  cargo roda schema scenarios > scenarios.json\n  cargo roda schema --write .roda/schema     # both, where `cargo roda new` puts them"
)]
pub struct Args {
    /// The schema to print.
    #[arg(value_enum, required_unless_present = "write")]
    pub which: Option<Which>,
    /// Write both into DIR (`Roda.toml.json`, `scenarios.json`) instead,
    /// e.g. after an update of cargo-roda.
    #[arg(long, value_name = "DIR", conflicts_with = "which")]
    pub write: Option<PathBuf>,
}

/// A schema, or the files written.
#[derive(Debug, Serialize)]
pub struct Schema {
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<serde_json::Value>,
    written: Vec<PathBuf>,
}

impl Outcome for Schema {
    fn command(&self) -> &'static str {
        "schema"
    }

    fn human(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}\n", serde_json::to_string_pretty(schema).expect("a schema is JSON")),
            None => self.written.iter().map(|path| format!("wrote {}\n", path.display())).collect(),
        }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Schema, Error> {
    let Some(dir) = args.write else {
        let schema = match args.which {
            Some(Which::RodaToml) | None => cargo_roda::project::schema(),
            Some(Which::Scenarios) => roda_test::scenario_schema(),
        };
        return Ok(Schema { schema: Some(schema), written: Vec::new() });
    };
    std::fs::create_dir_all(&dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    let mut written = Vec::new();
    for (name, text) in cargo_roda::scaffold::schemas() {
        let path = dir.join(name);
        roda_test::fs::write_atomically(&path, text.as_bytes())
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
        written.push(path);
    }
    Ok(Schema { schema: None, written })
}
