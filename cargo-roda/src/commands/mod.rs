//! One module per subcommand, each with `Args` and `exec`.

pub mod build;
pub mod new;
pub mod test;
pub mod validate;

use std::path::PathBuf;

/// Where the project is: flags shared by the commands that work on one.
#[derive(Debug, Clone, clap::Args)]
pub struct ProjectArgs {
    /// The project directory (holding Roda.toml); default: the current
    /// directory or its nearest parent with a Roda.toml.
    #[arg(long, value_name = "DIR", env = "RODA_PROJECT")]
    pub project: Option<PathBuf>,
    /// The function's name, instead of Roda.toml's `[function] name`.
    #[arg(long, env = "RODA_NAME")]
    pub name: Option<String>,
}

impl ProjectArgs {
    /// Loads the project.
    pub fn load(&self) -> Result<cargo_roda::project::Project, cargo_roda::error::Error> {
        let start = match &self.project {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().map_err(|e| cargo_roda::error::Error::Other {
                exit: cargo_roda::exit::ExitCode::Error,
                message: format!("cannot read the current directory: {e}"),
            })?,
        };
        let mut project = cargo_roda::project::Project::find(&start)?;
        if let Some(name) = &self.name {
            project.override_name(name)?;
        }
        Ok(project)
    }
}
