//! `cargo roda`: parses arguments, dispatches to a command, prints the
//! result or the error, and exits with the documented code.

mod commands;

use std::ffi::OsString;
use std::io::Write;

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::{Outcome, OutputFormat, json_error, json_outcome};
use clap::Parser;

/// Cargo runs `cargo-roda roda ARGS` for `cargo roda ARGS`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    Roda(Cli),
}

/// Build, check, simulate and deploy roda-ledger functions.
#[derive(Debug, clap::Args)]
#[command(version, after_help = ExitCode::table())]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How to print results: `human`, or `json` (one document on stdout).
    #[arg(long, global = true, value_enum, default_value = "human", env = "RODA_OUTPUT")]
    output: OutputFormat,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    New(commands::new::Args),
    Init(commands::init::Args),
    Build(commands::build::Args),
    Validate(commands::validate::Args),
    Inspect(commands::inspect::Args),
    Test(commands::test::Args),
    Deploy(commands::deploy::Args),
    Verify(commands::verify::Args),
    Diff(commands::diff::Args),
    List(commands::list::Args),
    Unregister(commands::unregister::Args),
    Call(commands::call::Args),
    Balance(commands::balance::Args),
    Deposit(commands::deposit::Args),
    Accounts(commands::accounts::Args),
    Kv(commands::kv::Args),
    Tx(commands::tx::Args),
    Replay(commands::replay::Args),
    Dev(commands::dev::Args),
    Schema(commands::schema::Args),
}

fn main() -> std::process::ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    // Also accept `cargo-roda new ...`, without cargo's extra `roda`.
    if args.get(1).is_none_or(|a| a != "roda") {
        args.insert(1, "roda".into());
    }
    let code = match Cargo::try_parse_from(&args) {
        Ok(Cargo::Roda(cli)) => run(cli),
        Err(err) => usage(err, wants_json(&args)),
    };
    std::process::ExitCode::from(code.code())
}

fn run(cli: Cli) -> ExitCode {
    let format = cli.output;
    match cli.command {
        Command::New(args) => finish(commands::new::exec(args), format),
        Command::Init(args) => finish(commands::init::exec(args), format),
        Command::Build(args) => finish(commands::build::exec(args), format),
        Command::Validate(args) => finish(commands::validate::exec(args), format),
        Command::Inspect(args) => finish(commands::inspect::exec(args), format),
        // A report per run is a stream, not the one JSON document promised.
        Command::Test(args) if args.watch && format == OutputFormat::Json => finish(
            Err::<commands::test::Tested, _>(Error::Usage(
                "test --watch prints a report per run: leave --output json out".into(),
            )),
            format,
        ),
        Command::Test(args) => finish(commands::test::exec(args), format),
        Command::Deploy(args) => finish(commands::deploy::exec(args), format),
        Command::Verify(args) => finish(commands::verify::exec(args), format),
        Command::Diff(args) => finish(commands::diff::exec(args), format),
        Command::List(args) => finish(commands::list::exec(args), format),
        Command::Unregister(args) => finish(commands::unregister::exec(args), format),
        Command::Call(args) => finish(commands::call::exec(args), format),
        Command::Balance(args) => finish(commands::balance::exec(args), format),
        Command::Deposit(args) => finish(commands::deposit::exec(args), format),
        Command::Accounts(args) => finish(commands::accounts::exec(args), format),
        Command::Kv(args) => finish(commands::kv::exec(args), format),
        Command::Tx(args) => finish(commands::tx::exec(args), format),
        Command::Replay(args) => finish(commands::replay::exec(args), format),
        Command::Dev(args) => finish(commands::dev::exec(args), format),
        Command::Schema(args) => finish(commands::schema::exec(args), format),
    }
}

fn finish(result: Result<impl Outcome, Error>, format: OutputFormat) -> ExitCode {
    match (result, format) {
        (Ok(outcome), OutputFormat::Human) => {
            print_stdout(&outcome.human());
            outcome.exit_code()
        }
        (Ok(outcome), OutputFormat::Json) => {
            print_stdout(&format!("{}\n", json_outcome(&outcome)));
            outcome.exit_code()
        }
        (Err(err), OutputFormat::Human) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
        (Err(err), OutputFormat::Json) => {
            print_stdout(&format!("{}\n", json_error(err.kind(), &err.to_string(), err.exit_code())));
            err.exit_code()
        }
    }
}

/// Prints, ignoring a closed pipe (`cargo roda ... | head`).
fn print_stdout(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// Usage errors are reported before `--output` is parsed, so look for it.
fn wants_json(args: &[OsString]) -> bool {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    args.windows(2).any(|w| w == ["--output", "json"])
        || args.contains(&"--output=json")
        || std::env::var("RODA_OUTPUT").is_ok_and(|v| v == "json")
}

fn usage(err: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        print_stdout(&err.to_string());
        return ExitCode::Success;
    }
    if json {
        print_stdout(&format!("{}\n", json_error("usage", err.to_string().trim_end(), ExitCode::Usage)));
    } else {
        let _ = err.print();
    }
    ExitCode::Usage
}
