//! A v2 mock ledger behind the v2 bindings, for native unit tests.
//!
//! Off wasm32 the functions of [`ledger_guest::v2`](crate::v2) act on the
//! thread's [`MockLedger`], whose ledger is the same
//! [`State`](ledger_abi::v2::State) the simulator runs v2 host calls on:
//! accounts must be opened, data verbs inside `register()` set status 8,
//! constants are looked up by name, a failed transaction rolls back
//! balances, opened and linked accounts, flags and KV as a server does.
//!
//! ```
//! use ledger_guest::v2::testing::MockLedger;
//! use ledger_guest::v2::{Lane, Status, get_flag, set_flag};
//!
//! const FROZEN: Lane = Lane::new(1);
//! let mut ledger = MockLedger::new();
//! let account = ledger.open_accounts(1);
//! assert_eq!(ledger.execute(|| set_flag(account, FROZEN, 1)), Status::NONE);
//! assert_eq!(ledger.flag(account, FROZEN), 1);
//! // A failed call leaves no flag behind.
//! assert_eq!(ledger.execute(|| { set_flag(account, Lane::new(2), 1); Status::user(200) }), Status::user(200));
//! assert_eq!(ledger.flag(account, Lane::new(2)), 0);
//! ```

use core::cell::RefCell;
use core::ffi::CStr;
use core::marker::PhantomData;
use std::string::String;
use std::vec::Vec;

pub use ledger_abi::v2::{AccountStatus, Hazards, Record};
use ledger_abi::v2::{CallEnd, CallPhase, HostTrap, State};

use super::{Key, KeyPart, Lane, LinkType};
use crate::slot::Slot;
use crate::{AccountId, IntoStatus, Status};

std::thread_local! {
    static CURRENT: RefCell<Option<State>> = const { RefCell::new(None) };
}

static SLOT: Slot<State> = Slot::new(&CURRENT, "v2 MockLedger", "ledger_guest::v2::testing::MockLedger::new()");

/// Runs `f` on the thread's mock ledger.
pub(crate) fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    SLOT.with(f)
}

/// Runs a constant verb; when the ledger would stop the function, panics
/// with what happened (the mock's `execute` turns the panic into the
/// status the verb set, as a trap is on the ledger).
pub(crate) fn stop_on_trap<T>(import: &str, name: &CStr, verb: impl FnOnce(&mut State) -> Result<T, HostTrap>) -> T {
    match with_state(verb) {
        Ok(value) => value,
        Err(HostTrap(status)) => {
            let name = String::from_utf8_lossy(name.to_bytes());
            panic!("`{import}` of `{name}` stopped the function with status {} {}", status.code(), status.name())
        }
    }
}

/// A v2 mock ledger for this thread, fresh for each test: account 0 is the
/// system account, none is open. Dropping it removes it.
///
/// # Panics
///
/// [`MockLedger::new`] panics if the thread already has one.
pub struct MockLedger {
    _thread_bound: PhantomData<*const ()>,
}

impl MockLedger {
    /// An empty v2 ledger.
    pub fn new() -> MockLedger {
        SLOT.install(State::new());
        MockLedger { _thread_bound: PhantomData }
    }

    /// Opens `count` accounts (0 opens one), as the built-in `OpenAccount`
    /// does; returns the first id.
    pub fn open_accounts(&mut self, count: u32) -> AccountId {
        with_state(|state| {
            state.begin(CallPhase::Execute);
            let first = state.open_accounts(count);
            state.settle();
            AccountId::new(first)
        })
    }

    /// The built-in Deposit: `amount` into an OPEN account.
    pub fn deposit(&mut self, account: AccountId, amount: u64) -> Status {
        with_state(|state| {
            state.begin(CallPhase::Execute);
            state.deposit(account.get(), amount);
            state.settle()
        })
    }

    /// Sets a balance directly, outside any transaction (the account
    /// array grows to hold the id).
    pub fn set_balance(&mut self, account: AccountId, balance: i64) {
        with_state(|state| state.seed_balance(account.get(), balance))
    }

    /// Runs `function` as v2's `register()` does, and returns the status:
    /// anything but NONE means the ledger refuses the registration.
    pub fn register(&mut self, function: impl FnOnce()) -> Status {
        self.run(CallPhase::Register, || {
            function();
            Status::NONE
        })
    }

    /// Runs `function` as one transaction under the ledger's rules and
    /// returns the status the ledger would record. A panic is a trap: the
    /// status a host call set (2, 8, 9, 10), else 5.
    pub fn execute<R: IntoStatus>(&mut self, function: impl FnOnce() -> R) -> Status {
        self.run(CallPhase::Execute, function)
    }

    /// Calls an `#[execute]` function through its `execute_slots` entry
    /// point with `params` as the ledger passes them.
    pub fn call(&mut self, entry_point: fn([i64; ledger_abi::PARAM_COUNT]) -> Status, params: &[i64]) -> Status {
        let slots = ledger_abi::param_slots(params);
        self.execute(|| entry_point(slots))
    }

    fn run<R: IntoStatus>(&mut self, phase: CallPhase, function: impl FnOnce() -> R) -> Status {
        with_state(|state| state.begin(phase));
        let end = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(function)) {
            Ok(returned) => CallEnd::Returned(i32::from(returned.into_status().code())),
            Err(_) => CallEnd::Trapped,
        };
        with_state(|state| {
            state.end_call(end);
            state.settle()
        })
    }

    /// An account's balance.
    pub fn balance(&self, account: AccountId) -> i64 {
        with_state(|state| state.balance(account.get()))
    }

    /// Whether and how an account exists.
    pub fn account_status(&self, account: AccountId) -> AccountStatus {
        with_state(|state| state.account_status(account.get()))
    }

    /// A flag lane's value.
    pub fn flag(&self, account: AccountId, lane: Lane) -> u8 {
        with_state(|state| state.flag(account.get(), lane.index()))
    }

    /// The account linked to `parent` under `link`, if one was created.
    pub fn linked(&self, parent: AccountId, link: LinkType) -> Option<AccountId> {
        with_state(|state| {
            state
                .linked_accounts(parent.get())
                .find(|(link_type, _)| *link_type == link.0)
                .map(|(_, child)| AccountId::new(child))
        })
    }

    /// The value under a key; 0 when none.
    pub fn kv(&self, key: Key) -> i64 {
        with_state(|state| state.kv_value(key.raw()))
    }

    /// Every KV entry, by key (each component as the ledger holds it).
    pub fn kv_entries(&self) -> Vec<([u32; 4], i64)> {
        with_state(|state| state.kv_entries().collect())
    }

    /// The id the next opened or linked account gets.
    pub fn next_account(&self) -> AccountId {
        with_state(|state| AccountId::new(state.next_account()))
    }

    /// A constant a `register()` defined, as a key component.
    pub fn constant(&self, name: &CStr) -> Option<KeyPart> {
        with_state(|state| state.constant(name.to_bytes())).map(|id| KeyPart(id | super::CONSTANT_BIT))
    }

    /// What the last transaction did that a server accepts but that hurts:
    /// a constant id kept between calls, KV writes of unchanged values,
    /// flag lanes of 8 or more, flags on accounts that do not exist, a
    /// failure upstream's rollback does not undo entirely.
    pub fn hazards(&self) -> Hazards {
        with_state(|state| state.hazards())
    }

    /// What the last transaction committed, in call order (none if it
    /// failed).
    pub fn records(&self) -> Vec<Record> {
        with_state(|state| state.records().to_vec())
    }
}

impl Default for MockLedger {
    fn default() -> Self {
        MockLedger::new()
    }
}

impl Drop for MockLedger {
    fn drop(&mut self) {
        SLOT.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2::{constant, credit, debit, get_balance, key, kv_get, kv_set, linked_account, register_constant};

    #[test]
    #[should_panic(expected = "no v2 MockLedger on this thread")]
    fn a_host_call_without_a_mock_panics_with_a_fix() {
        get_balance(AccountId::new(1));
    }

    #[test]
    fn register_allows_constants_only() {
        let mut ledger = MockLedger::new();
        assert_eq!(ledger.register(|| credit(AccountId::SYSTEM, 1)), Status::PROHIBITED_HOST_CALL);
        assert_eq!(
            ledger.register(|| {
                let _ = constant(c"x");
            }),
            Status::PROHIBITED_HOST_CALL
        );
        assert_eq!(
            ledger.register(|| register_constant(c"a_name_that_is_forty_bytes_long_________")),
            Status::CONSTANT_NAME_TOO_LONG
        );
        assert_eq!(ledger.register(|| panic!("trap")), Status::INVALID_OPERATION);
        assert_eq!(ledger.execute(|| register_constant(c"x")), Status::PROHIBITED_HOST_CALL);
        assert_eq!(
            ledger.execute(|| {
                let _ = constant(c"x");
            }),
            Status::CONSTANT_NOT_FOUND
        );
        assert_eq!(ledger.register(|| register_constant(c"x")), Status::NONE);
        assert!(ledger.constant(c"x").is_some_and(KeyPart::is_constant));
    }

    #[test]
    fn a_failed_call_leaves_no_trace() {
        let mut ledger = MockLedger::new();
        let account = ledger.open_accounts(2);
        let status = ledger.execute(|| {
            let child = linked_account(account, LinkType(1));
            kv_set(key([KeyPart::int(1).unwrap()]), 5);
            credit(account, 3);
            debit(child, 3);
            assert_eq!(kv_get(key([KeyPart::int(1).unwrap()])), 5);
            credit(AccountId::new(99), 1);
        });
        assert_eq!(status, Status::ACCOUNT_NOT_FOUND);
        assert!(ledger.records().is_empty());
        assert_eq!(ledger.linked(account, LinkType(1)), None);
        assert_eq!(ledger.kv(key([KeyPart::int(1).unwrap()])), 0);
        assert_eq!(ledger.balance(account), 0);
    }

    #[test]
    fn hazards_are_counted_as_the_engine_counts_them() {
        use crate::v2::{Lane, set_flag};
        let mut ledger = MockLedger::new();
        assert_eq!(ledger.register(|| register_constant(c"c")), Status::NONE);
        let account = ledger.open_accounts(1);
        let status = ledger.execute(|| {
            kv_set(key([KeyPart::int(1).unwrap()]), 0);
            set_flag(AccountId::new(9), Lane::new(1), 1);
            set_flag(account, Lane::new(2), 1);
            set_flag(account, Lane::new(2), 2);
            Status::user(130)
        });
        assert_eq!(status, Status::user(130));
        let hazards = ledger.hazards();
        assert_eq!((hazards.unchanged_kv_writes, hazards.flags_on_missing_accounts), (1, 1));
        assert!(hazards.inexact_rollback, "lane 2 written twice: the first write survives");
        assert_eq!(ledger.flag(account, Lane::new(2)), 1);
    }

    #[test]
    fn key_parts_refuse_integers_that_would_read_as_constants() {
        assert_eq!(KeyPart::int(1 << 31), Err(super::super::KeyPartTooLarge(1 << 31)));
        assert_eq!(Status::from(KeyPart::account(AccountId::new(u64::MAX)).unwrap_err()), Status::INVALID_OPERATION);
        assert_eq!(KeyPart::int((1 << 31) - 1).map(KeyPart::raw), Ok(0x7FFF_FFFF));
    }
}
