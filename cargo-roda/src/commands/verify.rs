//! `cargo roda verify`.

use cargo_roda::builder::BuildProfile;
use cargo_roda::deployments::{self, Deployments, Field, Listed};
use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use serde::Serialize;

use super::{EndpointArgs, ProjectArgs, block_on};

/// Check that what a server runs is what the project's source builds:
/// rebuild it (at the recorded revision with --rev), compare its SHA-256
/// and CRC32C with the last deployment record (.roda/deployments.toml),
/// and the CRC32C and version with what the server lists.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda verify\n  cargo roda verify --rev            # rebuild the recorded revision\n  cargo roda verify fee_transfer --server https://ledger.example:50051 --rev v1.2.0\n\nA server keeps only a binary's CRC32C: its side of the check is a CRC, which a binary made to match can forge. Exit code 8 when anything differs."
)]
pub struct Args {
    /// The function (default: the project's).
    #[arg(value_name = "NAME")]
    pub function: Option<String>,
    /// Rebuild at this git revision (without a value: the one the record
    /// names) in a temporary worktree, instead of the files as they are.
    #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "")]
    pub rev: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// What the verification found.
#[derive(Debug, Serialize)]
pub struct Verified {
    name: String,
    server: String,
    /// The record checked against.
    record: deployments::Deployment,
    /// Where the source was rebuilt from: `working tree` or a revision.
    rebuilt_from: String,
    fields: Vec<Field>,
    /// Every deciding field agrees.
    verified: bool,
}

impl Outcome for Verified {
    fn command(&self) -> &'static str {
        "verify"
    }

    fn human(&self) -> String {
        let mut out = format!(
            "{} v{} on {} (deployed {}), rebuilt from the {}\n",
            self.name, self.record.version, self.server, self.record.deployed_at, self.rebuilt_from
        );
        for field in &self.fields {
            let mark = match (field.agrees, field.decides) {
                (true, _) => "ok",
                (false, true) => "DIFFERS",
                (false, false) => "differs",
            };
            let mut sides = vec![format!("record {}", field.record)];
            sides.extend(field.rebuilt.as_ref().map(|value| format!("rebuilt {value}")));
            sides.extend(field.server.as_ref().map(|value| format!("server {value}")));
            out.push_str(&format!("  {:<10} {mark:<8} {}\n", field.name, sides.join(", ")));
        }
        out.push_str(
            "note: a server keeps only a binary's CRC32C, so its side of this check is a CRC (a binary made to match can forge one); the SHA-256 ties the rebuilt source to the record; a toolchain or revision that differs explains a difference and decides nothing\n",
        );
        out.push_str(match self.verified {
            true => "verified: the server runs what this source builds\n",
            false => "NOT VERIFIED: see the fields that differ\n",
        });
        out
    }

    fn exit_code(&self) -> ExitCode {
        if self.verified { ExitCode::Success } else { ExitCode::NotVerified }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Verified, Error> {
    let project = args.project.load()?;
    let name = args.function.clone().unwrap_or_else(|| project.file.function.name.clone());
    let records = Deployments::load(&project.root)?;
    let given = args.endpoint.server.first().map(String::as_str);
    let record = records.last(&name, given).cloned().ok_or_else(|| {
        Error::Usage(format!(
            "no deployment of `{name}`{} is recorded in {}: deploy it with `cargo roda deploy` from this project first",
            given.map(|s| format!(" to {s}")).unwrap_or_default(),
            project.root.join(deployments::FILE).display()
        ))
    })?;
    let (rebuilt, rebuilt_from, toolchain, revision) = match &args.rev {
        Some(rev) => {
            let rev = match rev.as_str() {
                "" => record.revision.clone().ok_or_else(|| {
                    Error::Usage("the record names no revision (the project was not in a git repository): give one with --rev REV".into())
                })?,
                rev => rev.to_owned(),
            };
            let (bytes, toolchain, commit) = super::build_at(&project, &rev)?;
            (bytes, format!("revision {rev}"), toolchain, commit)
        }
        None => {
            let commit = deployments::git_revision(&project.root)
                .map(|(commit, dirty)| if dirty { format!("{commit} (modified)") } else { commit });
            let bytes = roda_test::fs::load_module(&super::build_project(&project, BuildProfile::Release)?)?;
            (bytes, "working tree".to_owned(), deployments::toolchain(&project), commit)
        }
    };
    let server = given.map_or_else(|| record.server.clone(), str::to_owned);
    let listed = block_on(async {
        let client = roda_rpc::client::Client::connect(&roda_rpc::client::Endpoint::new(&server)).await?;
        let live = client.list().await?;
        Ok::<_, Error>(
            live.into_iter().find(|f| f.name == name).map(|f| Listed { version: f.version, crc32c: f.crc32c }),
        )
    })??;
    let fields = deployments::compare(&record, &rebuilt, &toolchain, revision.as_deref(), listed);
    let verified = fields.iter().all(|f| f.agrees || !f.decides);
    Ok(Verified { name, server, record, rebuilt_from, fields, verified })
}
