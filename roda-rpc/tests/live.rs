//! Scenarios on a live server (`roda_rpc::live`), where the dev servers
//! alone can show it: a server that answers otherwise than the simulator,
//! what a live server cannot reproduce, and a function it refuses. That
//! real servers answer as the simulator does is `head_checks`'
//! `scenarios_run_on_the_server_as_in_the_simulator` (e14b146) and `wire`'s
//! `scenarios_run_on_the_scenarios_ids` (ee2b042).

use ledger_core::v2::Operation;
use ledger_core::{LedgerConfig, Limits};
use roda_rpc::Wire;
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::dev::{self, DevConfig};
use roda_rpc::live::{LiveError, LiveOutcome, LiveRun, run};
use roda_test::{Runner, ScenarioFile};

fn on_a_new_server<F: Future<Output = ()>>(config: DevConfig, check: impl FnOnce(Client) -> F) {
    let server = dev::start(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { check(Client::connect(&Endpoint::new(server.url())).await.unwrap()).await });
    server.shutdown().unwrap();
}

/// Spends fuel on a loop of p0 turns, then moves p1 from the system account
/// to p2.
const SPENDER: &str = r#"
  (module
    (import "ledger" "credit" (func $credit (param i64 i64)))
    (import "ledger" "debit" (func $debit (param i64 i64)))
    (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
      (loop $spin
        (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
        (br_if $spin (i64.gt_s (local.get 0) (i64.const 0))))
      (call $credit (i64.const 0) (local.get 1))
      (call $debit (local.get 2) (local.get 1))
      (i32.const 0)))
"#;

fn head() -> DevConfig {
    DevConfig { wire: Wire::Head, ..DevConfig::default() }
}

/// Runs the scenarios of `text` (a file at `origin`) on the server, with
/// `SPENDER` under test.
async fn run_spender(client: &Client, text: &str, origin: &std::path::Path, run_id: u32) -> Result<LiveRun, LiveError> {
    let file = ScenarioFile::from_str(text, origin).unwrap();
    let runner = Runner::new(wat::parse_str(SPENDER).unwrap(), "spender").with_profile(&roda_test::abi::V2);
    run(client, &runner, std::slice::from_ref(&file), run_id).await
}

/// A server whose calls get less fuel than the simulator's answers a long
/// call otherwise: the step is a disagreement, with both answers, and the
/// run stops the scenario there.
#[test]
fn a_server_that_answers_otherwise_is_a_disagreement() {
    let stingy =
        LedgerConfig { limits: Limits { fuel_per_call: 1_000, ..Limits::default() }, ..LedgerConfig::default() };
    on_a_new_server(DevConfig { ledger: stingy, ..head() }, |client| async move {
        let text = r#"
            version = 2
            [[scenario]]
            name = "a long call"
            open = ["alice"]
            steps = [
              { call = "spender", params = [1, 5, "alice"], balances = { alice = 5 } },
              { call = "spender", params = [100000, 5, "alice"], balances = { alice = 10 } },
              { call = "spender", params = [1, 5, "alice"], balances = { alice = 15 } },
            ]
            "#;
        let live = run_spender(&client, text, "long.toml".as_ref(), 7).await.unwrap();
        let scenario = live.scenarios().next().unwrap();
        assert_eq!(scenario.outcome, LiveOutcome::Disagreed { step: 2 }, "{live}");
        assert_eq!(scenario.steps.len(), 2);
        let status = &scenario.steps[1].differences[0];
        assert_eq!((status.what.as_str(), status.simulator.as_str()), ("status", "NONE"), "{live}");
        assert_ne!(status.server, "NONE");
        assert!(live.to_string().contains("the server and the simulator disagree (a fidelity bug"), "{live}");
        assert_eq!(live.failed(), 1);
    });
}

/// What a HEAD server cannot be brought to is said, scenario by scenario:
/// starting flags, existing accounts, and a number that names an account
/// the server holds where the simulator's fresh ledger holds none.
#[test]
fn what_a_live_server_cannot_reproduce_is_said() {
    on_a_new_server(head(), |client| async move {
        client.submit(Operation::OpenAccount { count: 12, user_ref: 0 }, WaitLevel::Snapshot).await.unwrap();
        let text = r#"
            version = 2
            [[scenario]]
            name = "flags to start"
            open = ["alice"]
            flags = { alice = { 1 = 1 } }
            [[scenario]]
            name = "existing accounts"
            accounts = { treasury = 3 }
            [[scenario]]
            name = "an account that does not exist"
            open = ["alice"]
            steps = [{ call = "spender", params = [1, 5, 9], expect = "ACCOUNT_NOT_FOUND" }]
            "#;
        let live = run_spender(&client, text, "odd.toml".as_ref(), 1).await.unwrap();
        let reasons: Vec<String> = live
            .scenarios()
            .map(|s| match &s.outcome {
                LiveOutcome::NotReproducible { reason } => reason.clone(),
                other => panic!("{other:?}: {live}"),
            })
            .collect();
        assert!(reasons[0].contains("starting flags"), "{}", reasons[0]);
        assert!(reasons[1].contains("--fork"), "{}", reasons[1]);
        assert!(
            reasons[2].starts_with("step 1: params[1] = 5, params[2] = 9 name(s) an account open on the server"),
            "{}",
            reasons[2]
        );
        assert_eq!(live.failed(), 0);
        assert!(live.to_string().contains("not run an account that does not exist"), "{live}");
    });
}

/// A function the server refuses stops the run, naming both names; the
/// names deployed before it are unregistered.
#[test]
fn a_refused_function_stops_the_run() {
    on_a_new_server(head(), |client| async move {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.wat"), "(module)").unwrap();
        let text = "version = 2\nfunctions = { broken = \"broken.wat\" }\n[[scenario]]\nname = \"x\"\n";
        let refused = run_spender(&client, text, &dir.path().join("x.toml"), 0xab).await;
        let Err(error @ LiveError::Deploy { .. }) = refused else { panic!("{:?}", refused.map(|r| r.to_string())) };
        assert!(error.to_string().starts_with("deploying `broken` as `broken_000000ab`: "), "{error}");
        assert!(client.list().await.unwrap().is_empty(), "spender_000000ab is unregistered");
    });
}
