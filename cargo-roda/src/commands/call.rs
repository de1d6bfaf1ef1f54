//! `cargo roda call`.

use cargo_roda::error::Error;
use cargo_roda::exit::ExitCode;
use cargo_roda::output::Outcome;
use ledger_core::interface::Interface;
use ledger_core::v2::Operation;
use ledger_core::{EntryKind, Status};
use roda_rpc::client::WaitLevel;
use serde::Serialize;

use super::{EndpointArgs, block_on};

/// How long `call` waits.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Wait {
    /// Until executed.
    Computed,
    /// Until durable.
    Committed,
    /// Until in a snapshot.
    Snapshot,
    /// Until durable on a quorum of a cluster (roda-ledger HEAD).
    ClusterCommit,
}

impl Wait {
    /// The client's level.
    pub fn level(self) -> WaitLevel {
        match self {
            Wait::Computed => WaitLevel::Computed,
            Wait::Committed => WaitLevel::Committed,
            Wait::Snapshot => WaitLevel::Snapshot,
            Wait::ClusterCommit => WaitLevel::ClusterCommit,
        }
    }
}

/// Call a registered function as a transaction.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cargo roda call fee_transfer 101 202 999 10000 50\n  cargo roda call fee_transfer 101 202 999 10000 50 --user-ref 42 --show-entries\n  cargo roda call fee_transfer sender=101 receiver=202 fee_account=999 amount=10000 fee_bps=50"
)]
pub struct Args {
    /// The function's name.
    pub name: String,
    /// Up to 8 integer parameters (i64), missing ones 0; or, with the
    /// function's interface manifest, every parameter as `name=value`
    /// (`true`/`false` for a bool).
    #[arg(allow_negative_numbers = true, value_name = "PARAM")]
    pub params: Vec<String>,
    /// The module whose interface manifest names the parameters and
    /// statuses (default: the project's last build, when the project's
    /// function is the one called).
    #[arg(long, value_name = "FILE")]
    pub interface: Option<std::path::PathBuf>,
    /// Deduplication key: a second transaction with the same non-zero key
    /// gets DUPLICATE. Given several servers (a cluster), a call without one
    /// gets a random one, so that a send that may have landed on a leader
    /// that went away can be sent again safely.
    #[arg(long, default_value_t = 0)]
    pub user_ref: u64,
    /// How long to wait. A HEAD server has the status in the transaction,
    /// readable once on the snapshot, so there `computed` and `committed`
    /// wait for the snapshot too.
    #[arg(long, value_enum, default_value = "committed")]
    pub wait: Wait,
    /// Also print the committed entries.
    #[arg(long)]
    pub show_entries: bool,
    /// The status the transaction should end with (a name, `USER(n)` or a
    /// number, or the function's own name for it): exit 0 when it does, 7
    /// when not. Without it, any status but NONE exits with 7.
    #[arg(long, value_name = "STATUS")]
    pub expect: Option<String>,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

/// One committed entry.
#[derive(Debug, Serialize)]
pub struct EntryView {
    account: u64,
    amount: u64,
    kind: &'static str,
    balance: i64,
}

/// The transaction.
#[derive(Debug, Serialize)]
pub struct Called {
    name: String,
    server: String,
    wire: roda_rpc::Wire,
    transaction_id: u64,
    user_ref: u64,
    /// Whether the user_ref was made up here (for a cluster).
    user_ref_made_up: bool,
    /// The leader's term (0 from an ee2b042 server).
    term: u64,
    status: String,
    status_code: u8,
    /// The function's own name for the status, from its interface manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    status_name: Option<String>,
    entries: Option<Vec<EntryView>>,
    /// Why a status-5 call failed, when the server says: the function is
    /// not registered there.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// A DUPLICATE's first transaction with the same user_ref (HEAD).
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<u64>,
    /// The status asked for with `--expect` (default NONE).
    expected: String,
    #[serde(skip)]
    expect: Status,
}

impl Outcome for Called {
    fn command(&self) -> &'static str {
        "call"
    }

    fn human(&self) -> String {
        let status = ledger_core::interface::describe(Status::from_code(self.status_code), self.status_name.as_deref());
        let mut out = format!("transaction {}: {status} ({})", self.transaction_id, self.status_code);
        if let Some(first) = self.duplicate_of {
            out.push_str(&format!(
                ", a duplicate of transaction {first} (the user_ref {} was used there)",
                self.user_ref
            ));
        }
        out.push('\n');
        if self.user_ref_made_up {
            out.push_str(&format!(
                "user_ref {} (made up, so that a send to a leader that went away could be repeated safely; to repeat this call, pass --user-ref {})\n",
                self.user_ref, self.user_ref
            ));
        }
        if let Some(note) = &self.note {
            out.push_str(&format!("note: {note}\n"));
        }
        for e in self.entries.iter().flatten() {
            out.push_str(&format!("  {:<6} {:>12} {:>20}  balance {}\n", e.kind, e.account, e.amount, e.balance));
        }
        out
    }

    fn exit_code(&self) -> ExitCode {
        // The RPC worked; whether the transaction did is the exit code.
        if self.status_code == self.expect.code() { ExitCode::Success } else { ExitCode::TransactionFailed }
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<Called, Error> {
    let interface = interface_of(&args.name, args.interface.as_deref())?;
    let params = params(&args.params, interface.as_ref())?;
    let expect = match &args.expect {
        Some(text) => parse_status(text, interface.as_ref()).map_err(Error::Usage)?,
        None => Status::NONE,
    };
    let (server, wire, user_ref, result, entries, note) = block_on(async {
        let endpoints = args.endpoint.endpoints_here()?;
        let several = endpoints.len() > 1;
        let user_ref = match (args.user_ref, several) {
            (0, true) => random_user_ref(),
            (given, _) => given,
        };
        let cluster = roda_rpc::cluster::Cluster::connect(endpoints).await?;
        let op = Operation::Function { name: args.name.clone(), params: params.clone(), user_ref };
        let result = cluster.submit(&op, args.wait.level()).await?;
        let client = cluster.client().await?;
        let entries = match (args.show_entries, &result.transaction) {
            (false, _) => None,
            (true, Some(transaction)) => Some(transaction.entries().copied().collect()),
            (true, None) => Some(client.entries(result.tx_id).await?),
        };
        let note = match result.status == Status::INVALID_OPERATION
            && !client.list().await?.iter().any(|f| f.name == args.name)
        {
            true => Some(format!(
                "`{}` is not registered on {}{}",
                args.name,
                client.url(),
                match several {
                    true => " (a cluster does not replicate function binaries: after a failover, deploy again)",
                    false => "; deploy it with `cargo roda deploy`",
                }
            )),
            false => None,
        };
        Ok::<_, Error>((client.url().to_owned(), client.wire(), user_ref, result, entries, note))
    })??;
    let entries = entries.map(|list| {
        list.into_iter()
            .map(|e| EntryView {
                account: e.account_id,
                amount: e.amount,
                kind: match e.kind {
                    EntryKind::Debit => "debit",
                    EntryKind::Credit => "credit",
                },
                balance: e.computed_balance,
            })
            .collect()
    });
    let status: Status = result.status;
    let duplicate_of = result.transaction.as_ref().and_then(roda_rpc::results::CommittedTransaction::duplicate_of);
    let status_name = interface.as_ref().and_then(|i| i.status_name(status)).map(str::to_owned);
    Ok(Called {
        name: args.name,
        server,
        wire,
        transaction_id: result.tx_id,
        user_ref,
        user_ref_made_up: user_ref != args.user_ref,
        term: result.term,
        status: status.to_string(),
        status_name,
        status_code: status.code(),
        entries,
        note,
        duplicate_of,
        expected: expect.to_string(),
        expect,
    })
}

/// A parameter: an `i64`. Account names are a scenario file's (its `open`
/// list); a server knows only ids.
/// Refuses more parameters than a function takes.
pub(super) fn check_param_count(params: &[i64]) -> Result<(), Error> {
    if params.len() > ledger_core::abi::PARAM_COUNT {
        return Err(Error::Usage(format!(
            "{} parameters given; a function takes at most {} (a server would silently drop the rest)",
            params.len(),
            ledger_core::abi::PARAM_COUNT
        )));
    }
    Ok(())
}

/// A call's parameter as the command line gives it.
pub(super) fn parse_param(text: &str) -> Result<i64, String> {
    text.parse().map_err(|_| match text.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
        true => format!("`{text}` is out of range: a parameter is an i64 ({} to {})", i64::MIN, i64::MAX),
        false => format!(
            "`{text}` is not an integer: account names exist in scenario files only (their `open` list); on a server, give the account's id (`cargo roda accounts open` prints the ids it opens)"
        ),
    })
}

/// A status as `--expect` takes it: the function's own name for it, a
/// name of any profile, `USER(n)` or a number.
fn parse_status(text: &str, interface: Option<&Interface>) -> Result<Status, String> {
    interface.and_then(|i| i.status_by_name(text)).or_else(|| Status::parse(text)).ok_or_else(|| {
        let own = interface
            .filter(|i| !i.statuses.is_empty())
            .map(|i| {
                let names: Vec<&str> = i.statuses.iter().map(|s| s.name.as_str()).collect();
                format!(", or one of the function's own: {}", names.join(", "))
            })
            .unwrap_or_default();
        format!("`{text}` is not a status: use a name (NONE, INSUFFICIENT_FUNDS, DUPLICATE, ...), USER(n) or a number 0..=255{own}")
    })
}

/// The interface manifest of the function called: `--interface`'s module,
/// else the project's last build when the project's function is the one
/// called; `None` when there is neither or the module has none.
fn interface_of(name: &str, file: Option<&std::path::Path>) -> Result<Option<Interface>, Error> {
    let read = |path: &std::path::Path| -> Result<Option<Interface>, Error> {
        let bytes = cargo_roda::validate::load_module(path).map_err(|e| Error::Usage(format!("--interface: {e}")))?;
        Interface::from_module(&bytes).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
    };
    if let Some(path) = file {
        return match read(path)? {
            Some(interface) => Ok(Some(interface)),
            None => Err(Error::Usage(format!(
                "{} has no interface manifest (a `roda.interface` section): Rust's `#[execute]` writes one; AssemblyScript and WAT projects declare `[interface]` in Roda.toml",
                path.display()
            ))),
        };
    }
    let project = std::env::current_dir().ok().and_then(|dir| cargo_roda::project::Project::find(&dir).ok());
    let built = project.filter(|p| p.file.function.name == name).map(|p| cargo_roda::builder::last_build(&p));
    match built.filter(|path| path.is_file()) {
        Some(path) => Ok(read(&path).ok().flatten()),
        None => Ok(None),
    }
}

/// The parameters as the command line gives them: integers in slot order,
/// or every one as `name=value` when the function's manifest names them.
fn params(given: &[String], interface: Option<&Interface>) -> Result<Vec<i64>, Error> {
    let named: Vec<(&str, &str)> = given.iter().filter_map(|p| p.split_once('=')).collect();
    if named.is_empty() {
        let params = given.iter().map(|p| parse_param(p)).collect::<Result<Vec<_>, _>>().map_err(Error::Usage)?;
        check_param_count(&params)?;
        return Ok(params);
    }
    if named.len() != given.len() {
        return Err(Error::Usage(
            "give every parameter as `name=value`, or none: a positional one next to named ones has no slot".into(),
        ));
    }
    let Some(interface) = interface else {
        return Err(Error::Usage(
            "parameters by name need the function's interface manifest: pass --interface FILE (its built module), or run this in its project after `cargo roda build`; or give the parameters as integers in slot order".into(),
        ));
    };
    let values = named
        .iter()
        .map(|(name, value)| {
            let number = match *value {
                "true" => Ok(1),
                "false" => Ok(0),
                text => parse_param(text),
            };
            number.map(|n| (*name, n)).map_err(|e| Error::Usage(format!("`{name}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let slots = interface.slots(values).map_err(|e| Error::Usage(e.to_string()))?;
    // A server would run it; the function would refuse it, or worse.
    interface.check_values(&slots).map_err(|e| {
        Error::Usage(format!("{e}; to send it all the same, give the parameters as integers in slot order"))
    })?;
    Ok(slots)
}

/// A non-zero user_ref no one chose: the clock's nanoseconds hashed with a
/// per-process random seed.
fn random_user_ref() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    RandomState::new().hash_one(nanos).max(1)
}
