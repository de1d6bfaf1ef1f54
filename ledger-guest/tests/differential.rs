//! One long sequence of operations run three ways: in the simulator
//! (ledger-core, the guest compiled to wasm), against the dev server over
//! gRPC (the same wasm, a data directory, restarted halfway), and natively
//! on the guest's `MockLedger` (the same Rust source). After every step the
//! status, the committed entries and the balances must agree.
//!
//! Built-in operations (deposit, withdrawal, transfer) and duplicates run
//! in the simulator and the dev server only: the mock runs functions. It is
//! handed the simulator's balances after each of them.

mod support;

#[path = "guests/rules/src/rules.rs"]
mod rules;

use ledger_core::{Entry, EntryKind, IfRegistered, Ledger, LedgerConfig, Operation, Status};
use ledger_guest::AccountId;
use ledger_guest::testing::{self, MockLedger};
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use roda_rpc::dev::{self, DevConfig, DevHandle};

/// Accounts the sequence touches: the system account, four users, and one
/// id past the default account range.
const ACCOUNTS: [u64; 6] = [0, 1, 2, 3, 4, 1_000_000];

/// xorshift64*: the sequence is the same on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn account(&mut self) -> u64 {
        match self.below(40) {
            0 => 1_000_000,
            1 => 0,
            _ => 1 + self.below(4),
        }
    }

    fn amount(&mut self) -> u64 {
        match self.below(20) {
            0 => 0,
            1 => 1 << 63,
            _ => self.below(3_000),
        }
    }

    /// A user_ref: mostly none, sometimes new, sometimes one used before.
    fn user_ref(&mut self, used: &mut Vec<u64>) -> u64 {
        match self.below(10) {
            0 if !used.is_empty() => used[self.below(used.len() as u64) as usize],
            1 | 2 => {
                used.push(self.next() | 1);
                *used.last().expect("pushed")
            }
            _ => 0,
        }
    }

    fn operation(&mut self, used: &mut Vec<u64>) -> Operation {
        let user_ref = self.user_ref(used);
        match self.below(8) {
            0 => Operation::Deposit { account: self.account(), amount: self.amount(), user_ref },
            1 => Operation::Withdrawal { account: self.account(), amount: self.amount(), user_ref },
            2 => Operation::Transfer { from: self.account(), to: self.account(), amount: self.amount(), user_ref },
            _ => {
                let mode = self.below(7) as i64;
                let amount = if mode == 4 { 250 + self.below(10) } else { self.amount() };
                let params = vec![
                    self.account() as i64,
                    self.account() as i64,
                    amount as i64,
                    mode,
                    self.below(2) as i64,
                    self.below(3) as i64 - 1,
                ];
                Operation::Function { name: "rules".into(), params, user_ref }
            }
        }
    }
}

fn mock_entries(mock: &MockLedger) -> Vec<Entry> {
    let kind = |kind| if kind == testing::EntryKind::Credit { EntryKind::Credit } else { EntryKind::Debit };
    mock.entries()
        .iter()
        .map(|e| Entry {
            account_id: e.account.get(),
            amount: e.amount,
            kind: kind(e.kind),
            computed_balance: e.computed_balance,
        })
        .collect()
}

fn start(data: &std::path::Path) -> DevHandle {
    dev::start(DevConfig { data_dir: Some(data.to_path_buf()), ..DevConfig::default() }).unwrap()
}

#[test]
fn the_simulator_the_dev_server_and_the_mock_agree_step_by_step() {
    const STEPS: usize = 400;
    let wasm = support::guest_wasm("rules");
    let mut simulator = Ledger::new(LedgerConfig::default()).unwrap();
    simulator.register_function("rules", &wasm, IfRegistered::Refuse).unwrap();
    let mut mock = MockLedger::new();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let endpoint = |server: &DevHandle| Endpoint { retries: 0, ..Endpoint::new(server.url()) };
    let mut client = runtime.block_on(async {
        let client = Client::connect(&endpoint(&server)).await.unwrap();
        client.register("rules", &wasm, false).await.unwrap();
        client
    });

    let mut draw = Draw(0x5EED_0F1E_D6E5);
    let mut used = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for step in 0..STEPS {
        if step == STEPS / 2 {
            server.shutdown().unwrap();
            server = start(dir.path());
            client = runtime.block_on(Client::connect(&endpoint(&server))).unwrap();
        }
        let op = draw.operation(&mut used);
        let simulated = simulator.submit(&op);
        let (served, served_entries, served_balances) = runtime.block_on(async {
            let result = client.submit(&op, WaitLevel::Committed).await.unwrap();
            let entries = client.entries(result.tx_id).await.unwrap();
            (result, entries, client.balances(&ACCOUNTS).await.unwrap())
        });
        let at = format!("step {step}: {op:?}");
        assert_eq!(served.tx_id, simulated.tx_id, "{at}");
        assert_eq!(served.status, simulated.status, "{at}");
        assert_eq!(served_entries, simulated.entries, "{at}");
        let simulated_balances: Vec<i64> = ACCOUNTS.iter().map(|a| simulator.balance(*a)).collect();
        assert_eq!(served_balances, simulated_balances, "{at}");
        seen.insert(simulated.status.code());

        match (&op, simulated.duplicate_of) {
            (Operation::Function { params, .. }, None) => {
                let status = mock.call(rules::execute_slots, params);
                assert_eq!(status, simulated.status, "{at}: mock");
                assert_eq!(mock_entries(&mock), simulated.entries, "{at}: mock entries");
                let mock_balances: Vec<i64> = ACCOUNTS.iter().map(|a| mock.balance(AccountId::new(*a))).collect();
                assert_eq!(mock_balances, simulated_balances, "{at}: mock balances");
            }
            _ => {
                for (account, balance) in ACCOUNTS.iter().zip(&simulated_balances) {
                    mock.set_balance(AccountId::new(*account), *balance);
                }
            }
        }
    }
    server.shutdown().unwrap();
    // The sequence reaches every status the rules guest and the built-ins can give.
    let expected = [Status::NONE, Status::INSUFFICIENT_FUNDS, Status::ZERO_SUM_VIOLATION, Status::ENTRY_LIMIT_EXCEEDED];
    let expected = expected.into_iter().chain([
        Status::INVALID_OPERATION,
        Status::ACCOUNT_LIMIT_EXCEEDED,
        Status::DUPLICATE,
        rules::OVER_LIMIT,
    ]);
    for status in expected {
        assert!(seen.contains(&status.code()), "the sequence never reached {status}: {seen:?}");
    }
}
