//! The commands against a HEAD (e14b146) server, here `cargo roda dev --abi
//! v2` as a real process: accounts, KV, transactions, balances with flags
//! and linked accounts, the wire in `--output json`; clusters (a follower
//! and a leader); and what an ee2b042 server cannot do, said clearly.

mod support;

use support::dev::{DevServer, against};
use support::roda;

/// `roda-rpc/tests/head_checks`' counter (see the file).
fn counter() -> std::path::PathBuf {
    support::repo_root().join("roda-rpc/tests/head_checks/counter.wat")
}

#[test]
fn accounts_kv_transactions_and_balances() {
    let dir = tempfile::tempdir().unwrap();
    let wat = counter();
    let server = DevServer::start(&["--abi", "v2"]);
    assert!(server.wait_for_stderr("ABI").contains("ABI v2, serving the head wire"));
    let url = server.url.clone();
    let run = |args: &[&str]| against(dir.path(), &url, args);

    let deployed = run(&["deploy", wat.to_str().unwrap(), "--name", "counter", "--abi", "v2", "--output", "json"]);
    assert_eq!((deployed.code, deployed.json()["wire"].as_str()), (0, Some("head")), "{deployed:?}");
    let opened = run(&["accounts", "open", "3", "--output", "json"]);
    assert_eq!((opened.json()["first"].as_u64(), opened.json()["count"].as_u64()), (Some(1), Some(3)), "{opened:?}");
    assert_eq!(run(&["accounts", "open"]).stdout, "opened account 4 (transaction 3)\n");
    let funded = run(&["deposit", "2", "100", "--output", "json"]).json();
    assert_eq!(funded["status"], "NONE", "{funded:#}");
    let unopened = run(&["deposit", "50", "1", "--output", "json"]).json();
    assert_eq!(unopened["status"], "ACCOUNT_NOT_FOUND", "an account exists once opened");

    let called = run(&["call", "counter", "1", "--show-entries", "--output", "json"]).json();
    assert_eq!(
        (called["status"].as_str(), called["wire"].as_str(), called["term"].as_u64()),
        (Some("NONE"), Some("head"), Some(1))
    );
    assert_eq!(called["user_ref"], 0, "one server: no user_ref is made up");
    assert_eq!(called["entries"][0], serde_json::json!({ "account": 1, "amount": 1, "kind": "debit", "balance": 1 }));

    let padded = run(&["kv", "get", "counter/1", "--output", "json"]).json();
    assert_eq!((padded["key"].as_str(), padded["value"].as_i64()), (Some("counter/1/0/0"), Some(1)), "{padded:#}");
    let exact = run(&["kv", "get", "counter/1", "--exact", "--output", "json"]).json();
    assert_eq!((exact["found"].as_bool(), exact["value"].is_null()), (Some(false), true), "the server does not pad");
    for (bad, why) in [("counter//1", "empty component"), ("a/1/2/3/4", "5 components")] {
        let run = run(&["kv", "get", bad]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(why), "{run:?}");
    }

    let balance = run(&["balance", "1", "--output", "json"]).json();
    let account = &balance["balances"][0];
    assert_eq!((account["status"].as_str(), account["flags"].as_u64()), (Some("open"), Some(458_753)), "{balance:#}");
    assert_eq!(account["linked"], serde_json::json!([{ "link_type": 1, "balance": 0 }]));
    let programmed = run(&["balance", "5"]);
    assert_eq!(programmed.code, 6, "{programmed:?}");
    assert!(programmed.stderr.contains("shows under its parent's"), "{programmed:?}");

    let tx = run(&["tx", &called["transaction_id"].to_string(), "--output", "json"]).json();
    assert_eq!(tx["status_name"], "NONE");
    let records: Vec<&str> = tx["records"].as_array().unwrap().iter().map(|r| r["record"].as_str().unwrap()).collect();
    assert_eq!(records, ["kv", "flags_updated", "account_opened", "account_linked", "entry", "entry"], "{tx:#}");
    let human = run(&["tx", &called["transaction_id"].to_string()]).stdout;
    // Records print as a scenario's `records = [...]` spells them.
    assert!(human.contains("\n  link 1 type 1 -> 5\n") && human.contains("\n  flags 1: 0x1 -> 0x70001\n"), "{human}");

    let failed = run(&["call", "missing", "--output", "json"]).json();
    assert_eq!(failed["status_code"], 5);
    assert!(failed["note"].as_str().unwrap().contains("`missing` is not registered"), "{failed:#}");
    let listed = run(&["list", "--output", "json"]).json();
    assert_eq!((listed["wire"].as_str(), listed["functions"][0]["name"].as_str()), (Some("head"), Some("counter")));
}

/// Writes go to the node that leads, whatever the order given; deploy says
/// which nodes lack the function (binaries are not replicated); a call
/// without a user_ref gets one, so that a resend is deduplicated; with no
/// leader, the error says what each node is.
#[test]
fn a_cluster_writes_to_its_leader() {
    let dir = tempfile::tempdir().unwrap();
    let wat = counter();
    let follower = DevServer::start(&["--abi", "v2", "--follower"]);
    let leader = DevServer::start(&["--abi", "v2"]);
    let nodes = format!("{},{}", follower.url, leader.url);
    let run = |args: &[&str]| against(dir.path(), &nodes, args);

    let deployed = run(&["deploy", wat.to_str().unwrap(), "--name", "counter", "--abi", "v2", "--output", "json"]);
    let json = deployed.json();
    assert_eq!(json["server"].as_str(), Some(leader.url.as_str()), "{deployed:?}");
    assert_eq!(json["nodes"][0], serde_json::json!({ "url": follower.url, "has_it": false }));
    assert_eq!(json["nodes"][1], serde_json::json!({ "url": leader.url, "has_it": true }));
    assert!(deployed.stderr.contains("does not replicate function binaries"), "{deployed:?}");

    assert_eq!(run(&["accounts", "open", "2"]).code, 0);
    let called = run(&["call", "counter", "1", "--wait", "cluster-commit", "--output", "json"]).json();
    assert_eq!((called["status"].as_str(), called["server"].as_str()), (Some("NONE"), Some(leader.url.as_str())));
    assert_ne!(called["user_ref"], 0, "made up, so a resend is deduplicated");
    let given = run(&["call", "counter", "1", "--user-ref", "77", "--output", "json"]).json();
    assert_eq!(given["user_ref"], 77);
    let again = run(&["call", "counter", "1", "--user-ref", "77", "--output", "json"]);
    assert_eq!(again.code, 7, "a failed transaction: {again:?}");
    assert_eq!(again.json()["status"], "DUPLICATE");
    assert_eq!(again.json()["duplicate_of"], given["transaction_id"], "{again:?}");
    let expected = run(&["call", "counter", "1", "--user-ref", "77", "--expect", "DUPLICATE"]);
    assert_eq!(expected.code, 0, "as --expect'ed: {expected:?}");
    let first = given["transaction_id"].as_u64().unwrap();
    assert!(expected.stdout.contains(&format!("a duplicate of transaction {first}")), "{expected:?}");
    let made_up = run(&["call", "counter", "1"]);
    assert_eq!(made_up.code, 0, "{made_up:?}");
    assert!(made_up.stdout.contains("user_ref ") && made_up.stdout.contains("(made up"), "{made_up:?}");
    assert_eq!(run(&["call", "counter", "1", "--expect", "MAYBE"]).code, 2);

    // Every node answers reads; `list --nodes` shows which lack a binary.
    for read in [&["list"][..], &["balance", "1"], &["kv", "get", "counter/1"]] {
        let answered = against(dir.path(), &follower.url, read);
        assert_eq!(answered.code, 0, "a follower answers {read:?}: {answered:?}");
    }
    // (This follower is a dev server of its own, which has replicated nothing.)
    let missing = against(dir.path(), &follower.url, &["tx", "999"]);
    assert_eq!(missing.code, 6, "{missing:?}");
    assert!(missing.stderr.contains("this node has no such transaction"), "{missing:?}");
    assert!(!missing.stderr.contains("cargo roda list"), "{missing:?}");
    let listed = run(&["list", "--nodes", "--output", "json"]).json();
    assert_eq!(listed["nodes"][0]["server"].as_str(), Some(follower.url.as_str()));
    assert_eq!(listed["nodes"][0]["functions"], serde_json::json!([]));
    assert_eq!(listed["nodes"][1]["functions"][0]["name"], "counter");
    let human = run(&["list", "--nodes"]);
    assert!(human.stdout.contains(&format!("{}: no functions registered", follower.url)), "{human:?}");

    // --timeout bounds the search for a leader: a follower alone never becomes one.
    let alone = against(dir.path(), &follower.url, &["accounts", "open", "--timeout", "3"]);
    assert_eq!(alone.code, 6, "{alone:?}");
    assert!(alone.stderr.contains("no node leads") && alone.stderr.contains("a follower in term 1"), "{alone:?}");
    let refused = roda(dir.path(), &["accounts", "open", "--server", "http://127.0.0.1:9", "--retries", "0"]);
    assert_eq!(refused.code, 6, "{refused:?}");
}

/// A profile lists a cluster's nodes with `servers`; one that names none is
/// refused.
#[test]
fn a_profile_names_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let leader = DevServer::start(&["--abi", "v2"]);
    let follower = DevServer::start(&["--abi", "v2", "--follower"]);
    let toml = format!(
        "[function]\nname = \"f\"\nlanguage = \"wat\"\nabi = \"v2\"\n\n[profiles.prod]\nservers = [\"{}\", \"{}\"]\n\n[profiles.empty]\n",
        follower.url, leader.url
    );
    std::fs::write(dir.path().join("Roda.toml"), toml).unwrap();
    let opened = roda(dir.path(), &["accounts", "open", "--profile", "prod", "--output", "json"]);
    assert_eq!((opened.code, opened.json()["server"].as_str()), (0, Some(leader.url.as_str())), "{opened:?}");
    let empty = roda(dir.path(), &["list", "--profile", "empty"]);
    assert_eq!(empty.code, 1, "{empty:?}");
    assert!(empty.stderr.contains("profile `empty` in Roda.toml names no server"), "{empty:?}");
}

/// An ee2b042 server has no accounts to open, no KV, no whole transactions
/// and no cluster: each command says so instead of failing on the wire.
#[test]
fn an_ee2b042_server_says_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let server = DevServer::start(&[]);
    for args in [
        &["accounts", "open"][..],
        &["kv", "get", "counter/1"],
        &["tx", "1"],
        &["call", "f", "--wait", "cluster-commit"],
    ] {
        let run = against(dir.path(), &server.url, args);
        assert_eq!(run.code, 6, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("needs a roda-ledger HEAD server") && run.stderr.contains("ee2b042 wire"),
            "{run:?}"
        );
    }
    let balance = against(dir.path(), &server.url, &["balance", "1", "--output", "json"]).json();
    assert_eq!(balance["wire"], "ee2b042");
    assert!(balance["balances"][0].get("flags").is_none(), "{balance:#}");
}

/// `cargo roda new` writes for ABI v2 unless told otherwise, and `cargo
/// roda dev` serves the ABI of the project it runs in.
#[test]
fn new_writes_v2_and_dev_serves_the_projects_abi() {
    let root = tempfile::tempdir().unwrap();
    assert_eq!(roda(root.path(), &["new", "f", "--lang", "wat"]).code, 0);
    let toml = std::fs::read_to_string(root.path().join("f/Roda.toml")).unwrap();
    assert!(toml.contains("abi = \"v2\""), "{toml}");

    let command = support::command(&root.path().join("f"), &["dev", "--listen", "127.0.0.1:0"]);
    let server = DevServer::spawn(command).unwrap();
    assert!(server.wait_for_stderr("ABI").contains("ABI v2, serving the head wire"));
    let outside = tempfile::tempdir().unwrap();
    let server = DevServer::spawn(support::command(outside.path(), &["dev", "--listen", "127.0.0.1:0"])).unwrap();
    assert!(server.wait_for_stderr("ABI").contains("ABI v1, serving the ee2b042 wire"));
}

/// `work(n)` spins n times: slow on one node, a quick one under the same
/// name on the other.
const SPIN: &str = r#"(module
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (loop $spin
      (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
      (br_if $spin (i64.gt_s (local.get 0) (i64.const 0))))
    (i32.const 0)))"#;

const QUICK: &str = r#"(module
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#;

/// The leader dies while a call runs on it: without a user_ref the call is
/// not sent again (it may have been applied), and the error says so; with
/// one it goes to the node that leads next, whose answer is the call's.
#[test]
fn a_leader_lost_mid_call() {
    use ledger_core::v2::Operation;
    use roda_rpc::client::{Client, Endpoint, RpcError, WaitLevel};
    use roda_rpc::cluster::Cluster;

    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let register = |url: &str, wat: &str| {
        let binary = wat::parse_str(wat).unwrap();
        runtime().block_on(async {
            Client::connect(&Endpoint::new(url)).await.unwrap().register("work", &binary, false).await
        })
    };
    let next = DevServer::start(&["--abi", "v2"]);
    register(&next.url, QUICK).unwrap();
    let call = |urls: Vec<String>, user_ref: u64| {
        std::thread::spawn(move || {
            runtime().block_on(async move {
                let cluster = Cluster::connect(urls.iter().map(|u| Endpoint::new(u.as_str())).collect()).await?;
                let op = Operation::Function { name: "work".into(), params: vec![i64::MAX], user_ref };
                cluster.submit(&op, WaitLevel::Snapshot).await
            })
        })
    };
    for user_ref in [0, 9] {
        let doomed = DevServer::start(&["--abi", "v2", "--fuel", "18000000000000000000"]);
        register(&doomed.url, SPIN).unwrap();
        let running = call(vec![doomed.url.clone(), next.url.clone()], user_ref);
        doomed.wait_for_stderr("calling `work`");
        doomed.kill9();
        match (user_ref, running.join().unwrap()) {
            (0, Err(RpcError::WriteUncertain { .. })) => {}
            (0, other) => panic!("without a user_ref: {other:?}"),
            (_, Ok(result)) => assert!(result.status.is_success(), "{result:?}"),
            (_, Err(error)) => panic!("with a user_ref: {error}"),
        }
    }
}

/// `cargo roda dev --fork URL[@TX]` serves the live ledger's state: its
/// balances, flags, KV and functions at its last transaction or an earlier
/// one; the binaries given run there (the live ledger does not change), a
/// function without one is listed and fails with 5.
#[test]
fn a_fork_serves_the_live_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let functions = dir.path().join("functions");
    std::fs::create_dir(&functions).unwrap();
    let counter_wasm = functions.join("counter.wasm");
    std::fs::write(&counter_wasm, wat::parse_file(counter()).unwrap()).unwrap();
    let other_wasm = dir.path().join("other.wasm");
    let other =
        r#"(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#;
    std::fs::write(&other_wasm, wat::parse_str(other).unwrap()).unwrap();
    let live = DevServer::start(&["--abi", "v2"]);
    let run = |url: &str, args: &[&str]| against(dir.path(), url, args);
    for (file, name) in [(&counter_wasm, "counter"), (&other_wasm, "other")] {
        let deployed = run(&live.url, &["deploy", file.to_str().unwrap(), "--name", name, "--abi", "v2"]);
        assert_eq!(deployed.code, 0, "{deployed:?}");
    }
    run(&live.url, &["accounts", "open", "3"]);
    assert_eq!(run(&live.url, &["deposit", "2", "100"]).code, 0);
    assert_eq!(run(&live.url, &["call", "counter", "1"]).code, 0);

    let fork = DevServer::start(&["--fork", &live.url, "--functions", functions.to_str().unwrap()]);
    let forked = fork.wait_for_stderr("a fork of");
    assert!(forked.ends_with("at transaction 5"), "two registrations, an open, a deposit, a call: {forked}");
    assert!(fork.wait_for_stderr("warning").contains("no binary given for `other` version 1"));
    let balance =
        |url: &str, account: &str| run(url, &["balance", account, "--output", "json"]).json()["balances"][0].clone();
    assert_eq!(balance(&fork.url, "2")["balance"], 100);
    assert_eq!(balance(&fork.url, "1")["flags"], 458_753);
    let kv = |url: &str| run(url, &["kv", "get", "counter/1", "--output", "json"]).json()["value"].as_i64();
    assert_eq!(kv(&fork.url), Some(1));
    assert_eq!(run(&fork.url, &["call", "counter", "1"]).code, 0, "the binary given runs on the fork");
    assert_eq!((kv(&fork.url), kv(&live.url)), (Some(2), Some(1)), "the live ledger does not change");
    let missing = run(&fork.url, &["call", "other", "--output", "json"]).json();
    assert_eq!(missing["status_code"], 5, "{missing:#}");
    fork.stop();

    let earlier = DevServer::start(&["--fork", &format!("{}@3", live.url)]);
    assert_eq!(balance(&earlier.url, "2")["balance"], 0, "before the deposit");
    earlier.stop();

    let refused = |args: &[&str]| DevServer::try_start(args, &[]).err().expect("it must not start");
    let beyond = refused(&["--fork", &format!("{}@99", live.url)]);
    assert!(beyond.contains("cannot fork: transaction 99 is not committed on the server (its last is 5)"), "{beyond}");
    let v1 = refused(&["--fork", &live.url, "--abi", "v1"]);
    assert!(v1.contains("--fork serves a fork of a HEAD (e14b146) ledger"), "{v1}");
    let huge = refused(&["--fork", &format!("{}@99999999999999999999999", live.url)]);
    assert!(huge.contains("transaction 99999999999999999999999 is too large"), "{huge}");
    let no_dir = refused(&["--fork", &live.url, "--functions", "/nonexistent"]);
    assert!(no_dir.contains("cannot read the directory /nonexistent"), "{no_dir}");
    let bad_wat = dir.path().join("bad.wat");
    std::fs::write(&bad_wat, "(module").unwrap();
    let unparsed = refused(&["--fork", &live.url, "--wasm", bad_wat.to_str().unwrap()]);
    assert!(unparsed.contains("bad.wat"), "{unparsed}");
}

/// A HEAD dev server with the counter deployed, accounts 1 and 2 open and
/// one call of the counter on account 1: a directory to run in, the
/// server, and the call's transaction id.
fn counter_called() -> (tempfile::TempDir, DevServer, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = DevServer::start(&["--abi", "v2"]);
    let run = |args: &[&str]| against(dir.path(), &server.url, args);
    assert_eq!(run(&["deploy", counter().to_str().unwrap(), "--name", "counter", "--abi", "v2"]).code, 0);
    assert_eq!(run(&["accounts", "open", "2"]).code, 0);
    let id = run(&["call", "counter", "1", "--output", "json"]).json()["transaction_id"].to_string();
    (dir, server, id)
}

/// `tx --explain` names the function a call's CRC belongs to (the version
/// the log registered before it) and decodes flags, lane by lane.
#[test]
fn tx_explain_names_the_function_and_decodes_flags() {
    let (dir, server, id) = counter_called();
    let run = |args: &[&str]| against(dir.path(), &server.url, args);

    let human = run(&["tx", &id, "--explain"]).stdout;
    assert!(human.contains("  ran `counter` v1 (crc32c "), "{human}");
    assert!(human.contains("    lane 2: 0 -> 7\n"), "{human}");
    assert!(human.contains("    status programmed\n"), "{human}");
    assert!(human.contains("\n  kv counter/1/0/0 = 1\n"), "constants by name: {human}");
    assert!(
        human.ends_with(
            "  accounts just before:\n    0: system, balance 0\n    1: open, balance 0\n    3: opened here, balance 0\n"
        ),
        "{human}"
    );
    let json = run(&["tx", &id, "--explain", "--output", "json"]).json();
    assert_eq!(json["explained"]["functions"][0]["name"], "counter", "{json:#}");
    let notes = json["explained"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), json["records"].as_array().unwrap().len(), "one note per record");
    let plain = run(&["tx", "2", "--explain", "--output", "json"]).json();
    assert_eq!(plain["explained"]["functions"], serde_json::json!([]), "an open runs no function");
    assert!(run(&["tx", &id, "--output", "json"]).json().get("explained").is_none(), "only when asked");
}

/// `cargo roda replay` runs a committed call again on the ledger as it was
/// before it: the same records (exit 0), or the first that differs with a
/// new version (exit 5); the parameters are asked for, the log lacks them.
#[test]
fn replay_reproduces_a_call_or_shows_the_first_difference() {
    let (dir, server, id) = counter_called();
    let run = |args: &[&str]| against(dir.path(), &server.url, args);
    let wat = counter();
    let wat = wat.to_str().unwrap();

    let same = run(&["replay", &id, "--params", "1", "--wasm", wat]);
    assert_eq!(same.code, 0, "{same:?}");
    assert!(same.stdout.contains("same: the 6 records the server committed"), "{same:?}");
    let eight = dir.path().join("eight.wat");
    let source = std::fs::read_to_string(counter()).unwrap();
    std::fs::write(&eight, source.replace("(i32.const 2) (i32.const 7)", "(i32.const 2) (i32.const 8)")).unwrap();
    let changed = run(&["replay", &id, "--params", "1", "--instead", eight.to_str().unwrap()]);
    assert_eq!(changed.code, 5, "{changed:?}");
    assert!(
        changed.stdout.contains(
            "differs at record 1:\n  committed: flags 1: 0x1 -> 0x70001\n  replayed:  flags 1: 0x1 -> 0x80001\n"
        ),
        "{changed:?}"
    );
    // The status a version returns, by its own name when its manifest names it.
    let refusing = dir.path().join("refusing.wat");
    let named = source.replacen(
        "(module",
        r#"(module (@custom "roda.interface" "{\"roda.interface\":1}\n{\"status\":\"SHORT\",\"code\":140}")"#,
        1,
    );
    std::fs::write(&refusing, named.replace("    (i32.const 0)))", "    (i32.const 140)))")).unwrap();
    let refused = run(&["replay", &id, "--params", "1", "--instead", refusing.to_str().unwrap()]);
    assert!(refused.stdout.contains(": USER(140) = SHORT (committed NONE)\n"), "{refused:?}");
    let traced = run(&["replay", &id, "--params", "1", "--wasm", wat, "--trace"]);
    assert!(traced.stdout.contains("\n  set_flag(1, 2, 7)  (fuel "), "{traced:?}");
    assert!(traced.stdout.contains("\n  linked_account(1, 1) = 3  (fuel "), "{traced:?}");
    assert!(!same.stdout.contains("set_flag("), "a trace only when asked");
    let json = run(&["replay", &id, "--params", "1", "--instead", eight.to_str().unwrap(), "--output", "json"]).json();
    assert!(json.get("host_calls").is_none(), "{json:#}");
    assert_eq!((json["same"].as_bool(), json["first_difference"].as_u64()), (Some(false), Some(1)), "{json:#}");

    let saved = dir.path().join("incident.toml");
    let saving = run(&["replay", &id, "--params", "1", "--wasm", wat, "--save-scenario", saved.to_str().unwrap()]);
    assert_eq!(saving.code, 0, "{saving:?}");
    assert!(saving.stdout.contains("saved as a scenario: "), "{saving:?}");
    let scenario = std::fs::read_to_string(&saved).unwrap();
    assert!(scenario.contains("open = [\"a1\"]\n"), "{scenario}");
    assert!(
        scenario.contains("{ call = \"counter\", params = [\"a1\"], records = [\"kv counter/1/0/0 = 1\""),
        "{scenario}"
    );
    let regression = run(&["test", "--wasm", wat, "--name", "counter", "--abi", "v2", saved.to_str().unwrap()]);
    assert_eq!(regression.code, 0, "the saved call passes on a fresh ledger: {regression:?}\n{scenario}");
    let again = run(&["replay", &id, "--params", "1", "--wasm", wat, "--save-scenario", saved.to_str().unwrap()]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("the file exists; name another, or remove it first"), "{again:?}");
    let second = run(&["call", "counter", "1", "--output", "json"]).json()["transaction_id"].to_string();
    let linked = dir.path().join("linked.toml");
    let noted = run(&[
        "replay",
        &second,
        "--params",
        "1",
        "--wasm",
        wat,
        "--save-scenario",
        linked.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let notes = noted.json()["saved"]["notes"].clone();
    assert!(notes[0].as_str().unwrap().starts_with("account 1 was linked to 3 (type 1) before the call"), "{notes:#}");
    let linked = std::fs::read_to_string(&linked).unwrap();
    assert!(linked.contains("# Note: account 1 was linked to 3"), "{linked}");
    assert!(linked.contains("flags = { a1 = { 2 = 7 } }\nkv = { \"counter/a1/0/0\" = 1 }\n"), "{linked}");

    let no_params = run(&["replay", &id, "--wasm", wat]);
    assert_eq!(no_params.code, 2, "{no_params:?}");
    assert!(no_params.stderr.contains("a server's log does not keep a call's parameters"), "{no_params:?}");
    let no_binary = run(&["replay", &id, "--params", "1"]);
    assert_eq!(no_binary.code, 6, "{no_binary:?}");
    assert!(no_binary.stderr.contains("no binary given has that CRC"), "{no_binary:?}");
}

/// Inside a project, a fork runs the project's build: the function it
/// deployed is matched without naming a file.
#[test]
fn a_fork_inside_a_project_runs_its_build() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "mover", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.path().join("mover");
    let live = DevServer::start(&["--abi", "v2"]);
    let deployed = against(&project, &live.url, &["deploy"]);
    assert_eq!(deployed.code, 0, "{deployed:?}");
    let fork = DevServer::spawn(support::command(&project, &["dev", "--fork", &live.url, "--listen", "127.0.0.1:0"]))
        .unwrap_or_else(|stderr| panic!("the fork did not start:\n{stderr}"));
    assert!(fork.wait_for_stderr("a fork of").ends_with("at transaction 1"));
    let (_, stderr) = fork.stop_with_stderr();
    assert!(!stderr.iter().any(|line| line.contains("no binary given")), "{stderr:?}");
}

/// `cargo roda test --server URL` runs the project's scenarios on a live
/// server beside the simulator (exit 5 when one fails there); `--fork
/// URL[@TX]` runs them on a fork of it, where a scenario names the
/// accounts it holds. `RODA_SERVER` alone never sends scenarios anywhere.
#[test]
fn scenarios_run_on_a_live_server_and_on_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(roda(dir.path(), &["new", "mover", "--lang", "wat", "--abi", "v2"]).code, 0);
    let project = dir.path().join("mover");
    let live = DevServer::start(&["--abi", "v2"]);
    let run = |args: &[&str]| against(&project, &live.url, args);

    let local = run(&["test"]);
    assert_eq!(local.code, 0, "{local:?}");
    assert!(!local.stdout.contains("on the server"), "RODA_SERVER does not make a test live: {local:?}");
    let on_server = run(&["test", "--server", &live.url]);
    assert_eq!(on_server.code, 0, "{on_server:?}");
    assert!(on_server.stdout.contains("deployed mover as mover_"), "{on_server:?}");
    assert!(on_server.stdout.contains("  not run a frozen account sends nothing (0 step(s))\n       cannot be run on a live server: its starting flags"), "{on_server:?}");
    assert!(on_server.stdout.contains("; on the server 0 failed, 1 could not be run there\n"), "{on_server:?}");
    let json = run(&["test", "--server", &live.url, "--output", "json"]).json();
    let outcomes: Vec<&str> = json["live"]["files"][0]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["passed", "passed", "not_reproducible", "passed"], "{json:#}");
    assert_eq!(
        run(&["list", "--output", "json"]).json()["functions"],
        serde_json::json!([]),
        "deployed names are gone"
    );

    let wrong = project.join("tests/wrong.toml");
    std::fs::write(
        &wrong,
        "version = 2\n[[scenario]]\nname = \"wrong\"\nopen = [\"alice\", \"bob\"]\nbalances = { alice = 10 }\nsteps = [{ call = \"mover\", params = [\"alice\", \"bob\", 4], balances = { bob = 5 } }]\n",
    )
    .unwrap();
    let failed = run(&["test", "--server", &live.url, wrong.to_str().unwrap()]);
    assert_eq!(failed.code, 5, "{failed:?}");
    assert!(
        failed.stdout.contains("expectation not met: {\"kind\":\"balance\",\"account\":2,\"expected\":5,\"actual\":4}"),
        "{failed:?}"
    );

    // A fork: the live ledger holds the project's function and a treasury.
    assert_eq!(run(&["deploy"]).code, 0);
    assert_eq!(run(&["accounts", "open", "3"]).code, 0);
    let treasury = run(&["accounts", "open", "--output", "json"]).json()["first"].as_u64();
    let treasury = treasury.map_or_else(|| panic!("no id"), |id| id.to_string());
    assert_eq!(run(&["deposit", &treasury, "500"]).code, 0);
    let on_fork = project.join("fork.toml");
    std::fs::write(
        &on_fork,
        format!(
            "version = 2\n[[scenario]]\nname = \"pays out of the treasury\"\naccounts = {{ treasury = {treasury} }}\nopen = [\"alice\"]\nsteps = [{{ call = \"mover\", params = [\"treasury\", \"alice\", 40], balances = {{ treasury = \"-40\", alice = 40 }} }}]\n"
        ),
    )
    .unwrap();
    let forked = run(&["test", "--fork", &live.url, on_fork.to_str().unwrap()]);
    assert_eq!(forked.code, 0, "{forked:?}");
    assert!(forked.stdout.starts_with(&format!("on a fork of {} at transaction ", live.url)), "{forked:?}");
    assert!(forked.stderr.contains("cargo roda test: forking"), "{forked:?}");
    assert_eq!(
        run(&["balance", &treasury, "--output", "json"]).json()["balances"][0]["balance"],
        500,
        "the live ledger is untouched"
    );
    let fresh = run(&["test", on_fork.to_str().unwrap()]);
    assert_eq!(fresh.code, 5, "{fresh:?}");
    assert!(
        fresh.stdout.contains("run it on a fork of the ledger that does (`cargo roda test --fork URL`)"),
        "{fresh:?}"
    );
    let on_live = run(&["test", "--server", &live.url, on_fork.to_str().unwrap()]);
    assert!(on_live.stdout.contains("cannot be run on a live server: it names existing accounts"), "{on_live:?}");

    assert_eq!(roda(dir.path(), &["new", "older", "--lang", "wat", "--abi", "v1"]).code, 0);
    let v1 = against(&dir.path().join("older"), &live.url, &["test", "--fork", &live.url]);
    assert_eq!(v1.code, 2, "{v1:?}");
    assert!(v1.stderr.contains("--fork runs on a fork of a HEAD (e14b146) ledger, on ABI v2"), "{v1:?}");
    let both = run(&["test", "--server", &live.url, "--fuzz"]);
    assert_eq!(both.code, 2, "{both:?}");
    assert!(both.stderr.contains("cannot be used with"), "{both:?}");
}
