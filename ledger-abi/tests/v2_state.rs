//! Properties of v2's arithmetic over random calls: a committed call's
//! entries balance; a failed call leaves no trace in balances, flags,
//! links, KV, constants or the account allocator, wherever upstream's
//! rollback is exact. It is not when a move saturated (the inverse move
//! saturates too), when one account's flags were written twice (any lanes),
//! or when a flag was written on an account the same call linked: upstream
//! restores flags in call order, each update to the flags before it, so the
//! first update's value survives, and a linked account whose flag was set
//! comes back PROGRAMMED after its rollback, with no link.

use ledger_abi::v2::{CallEnd, CallPhase, Record, State};
use ledger_abi::{Status, ZeroSum};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Verb {
    Credit(u64, u64),
    Debit(u64, u64),
    Link(u64, u32),
    SetFlag(u64, u32, u32),
    KvSet(u32, i64),
    Register(u8),
    Constant(u8),
}

fn verb() -> impl Strategy<Value = Verb> {
    let account = 0u64..12;
    let amount = prop_oneof![0u64..1_000, Just(u64::MAX / 2)];
    prop_oneof![
        (account.clone(), amount.clone()).prop_map(|(a, n)| Verb::Credit(a, n)),
        (account.clone(), amount).prop_map(|(a, n)| Verb::Debit(a, n)),
        (account.clone(), 0u32..3).prop_map(|(a, t)| Verb::Link(a, t)),
        (account, 1u32..4, any::<u32>()).prop_map(|(a, l, v)| Verb::SetFlag(a, l, v)),
        (0u32..4, any::<i64>()).prop_map(|(k, v)| Verb::KvSet(k, v)),
        (0u8..3).prop_map(Verb::Register),
        (0u8..3).prop_map(Verb::Constant),
    ]
}

/// Everything a rollback must restore, as seen from outside.
fn snapshot(state: &State) -> (Vec<i64>, Vec<[u8; 8]>, u64, Vec<i64>) {
    let accounts = 0..24u64;
    let balances = accounts.clone().map(|a| state.balance(a)).collect();
    let flags = accounts.map(|a| core::array::from_fn(|lane| state.flag(a, lane as u8))).collect();
    let kv = (0..4).map(|k| state.kv_value([k, 0, 0, 0])).collect();
    (balances, flags, state.next_account(), kv)
}

fn run(state: &mut State, phase: CallPhase, verbs: &[Verb], returned: i32) -> Status {
    state.begin(phase);
    for verb in verbs {
        let trapped = match *verb {
            Verb::Credit(a, n) => {
                state.credit(a, n);
                false
            }
            Verb::Debit(a, n) => {
                state.debit(a, n);
                false
            }
            Verb::Link(a, t) => {
                state.linked_account(a, t);
                false
            }
            Verb::SetFlag(a, l, v) => {
                state.set_flag(a, l, v);
                false
            }
            Verb::KvSet(k, v) => {
                state.kv_set([k, 0, 0, 0], v);
                false
            }
            Verb::Register(n) => state.kv_register_constant(&[b'c', n]).is_err(),
            // As the runtime reads it: in memory, to its NUL.
            Verb::Constant(n) => state.kv_get_constant_at(&[b'c', n, 0, b'c']).is_err(),
        };
        if trapped {
            state.end_call(CallEnd::Trapped);
            return state.settle();
        }
    }
    state.end_call(CallEnd::Returned(returned));
    state.settle()
}

proptest! {
    #[test]
    fn committed_calls_balance_and_failed_calls_leave_no_trace(
        setup in proptest::collection::vec(verb(), 0..20),
        calls in proptest::collection::vec((proptest::collection::vec(verb(), 0..12), prop_oneof![Just(0), Just(1), Just(200)], any::<bool>()), 1..8),
    ) {
        let mut state = State::new();
        state.begin(CallPhase::Execute);
        state.open_accounts(6);
        prop_assert_eq!(state.settle(), Status::NONE);
        run(&mut state, CallPhase::Register, &setup, 0);
        // After an inexact rollback the cells hold what no call committed
        // (a ghost PROGRAMMED account, say): later rollbacks restore that,
        // so later calls are not compared.
        let mut clean = true;
        for (verbs, returned, register) in calls {
            let phase = if register { CallPhase::Register } else { CallPhase::Execute };
            let before = snapshot(&state);
            let constants_before: Vec<bool> = (0..3u8).map(|n| {
                let mut probe = state.clone();
                probe.begin(CallPhase::Execute);
                probe.kv_get_constant(&[b'c', n]).is_ok()
            }).collect();
            let status = run(&mut state, phase, &verbs, returned);
            if status.is_success() {
                let entries = state.records().iter().filter_map(|r| match r { Record::Entry(e) => Some(e), _ => None });
                prop_assert_eq!(ZeroSum::of(entries).status(), Status::NONE);
                continue;
            }
            prop_assert!(state.records().is_empty(), "a failed call keeps no record");
            // Where upstream's rollback is not exact (see the top), the
            // state says so: no hazard reported means an exact rollback.
            if clean && !state.hazards().inexact_rollback {
                prop_assert_eq!(snapshot(&state), before, "no inexact-rollback hazard, yet a trace: {:?}", verbs);
            }
            clean &= !state.hazards().inexact_rollback;
            let constants_after: Vec<bool> = (0..3u8).map(|n| {
                let mut probe = state.clone();
                probe.begin(CallPhase::Execute);
                probe.kv_get_constant(&[b'c', n]).is_ok()
            }).collect();
            prop_assert_eq!(constants_after, constants_before, "constants of a failed call are dropped");
        }
    }
}

proptest! {
    /// What a server's snapshot reads (`GetBalance`) is what its committed
    /// records say, whatever a failed call's rollback left in the ledger:
    /// the snapshot view equals a replay of every committed transaction.
    #[test]
    fn the_snapshot_view_is_a_replay_of_the_committed_records(
        calls in proptest::collection::vec((proptest::collection::vec(verb(), 0..12), prop_oneof![Just(0), Just(1)]), 1..10),
    ) {
        let mut state = State::new();
        let mut replayed = State::new();
        state.begin(CallPhase::Execute);
        state.open_accounts(6);
        prop_assert_eq!(state.settle(), Status::NONE);
        replayed.replay(state.records());
        for (verbs, returned) in calls {
            if run(&mut state, CallPhase::Execute, &verbs, returned).is_success() {
                replayed.replay(state.records());
            }
            for account in 0..24u64 {
                prop_assert_eq!(state.snapshot_balance(account), replayed.balance(account), "balance {} after {:?}", account, verbs);
                prop_assert_eq!(state.snapshot_flags(account), replayed.flags(account), "flags {} after {:?}", account, verbs);
            }
        }
    }
}

proptest! {
    /// A move takes the inlined path when the transaction's buffers have
    /// room, else the out-of-line one: the same calls read the same on a
    /// state whose buffers are warm (every move inlined) and on a new one
    /// (the moves that grow a buffer out of line).
    #[test]
    fn calls_read_the_same_with_warm_or_new_buffers(
        calls in proptest::collection::vec((proptest::collection::vec(verb(), 0..12), prop_oneof![Just(0), Just(1)]), 1..6),
    ) {
        let open = |state: &mut State| {
            state.begin(CallPhase::Execute);
            state.open_accounts(6);
            state.settle()
        };
        let mut new = State::new();
        let mut warm = State::new();
        prop_assert_eq!(open(&mut new), Status::NONE);
        prop_assert_eq!(open(&mut warm), Status::NONE);
        // A trapped call of many moves leaves no trace but its buffers' room.
        warm.begin(CallPhase::Execute);
        for _ in 0..64 {
            warm.credit(1, 1);
        }
        warm.end_call(CallEnd::Trapped);
        prop_assert_eq!(warm.settle(), Status::INVALID_OPERATION);
        prop_assert_eq!(snapshot(&warm), snapshot(&new));
        for (verbs, returned) in calls {
            let status = run(&mut new, CallPhase::Execute, &verbs, returned);
            prop_assert_eq!(run(&mut warm, CallPhase::Execute, &verbs, returned), status, "{:?}", verbs);
            prop_assert_eq!(warm.records(), new.records());
            prop_assert_eq!(snapshot(&warm), snapshot(&new));
        }
    }
}

/// A verb that writes and does not move money: calls of these commit
/// unless a phase refuses one.
fn write() -> impl Strategy<Value = Verb> {
    verb().prop_filter("a move", |verb| !matches!(verb, Verb::Credit(..) | Verb::Debit(..)))
}

proptest! {
    /// A fuzzer starts every case by copying one state over the ledger's
    /// (`clone_from`), which reuses the maps' nodes when they hold the
    /// copy's keys and more: a state copied over again and again, between
    /// calls that add links, KV keys and constants, reads exactly as a new
    /// copy.
    #[test]
    fn a_state_copied_over_reads_as_a_new_copy(
        setups in proptest::collection::vec((proptest::collection::vec(write(), 0..6), any::<bool>()), 1..4),
        steps in proptest::collection::vec((0usize..4, proptest::collection::vec(write(), 0..6), any::<bool>()), 1..12),
    ) {
        let mut snapshots = Vec::new();
        let mut state = State::new();
        state.begin(CallPhase::Execute);
        state.open_accounts(6);
        prop_assert_eq!(state.settle(), Status::NONE);
        for (verbs, register) in &setups {
            let phase = if *register { CallPhase::Register } else { CallPhase::Execute };
            run(&mut state, phase, verbs, 0);
            snapshots.push(state.clone());
        }
        for (n, verbs, register) in steps {
            let source = &snapshots[n % snapshots.len()];
            state.clone_from(source);
            prop_assert_eq!(format!("{state:?}"), format!("{:?}", source.clone()));
            let phase = if register { CallPhase::Register } else { CallPhase::Execute };
            run(&mut state, phase, &verbs, 0);
        }
    }
}
