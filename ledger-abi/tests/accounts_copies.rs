//! A ledger state copied over again and again (a fuzzer restarts every case
//! from one copy) keeps the slots a longer state grew and zeroes only those
//! written since: it must read exactly as a new copy of the same state.

use ledger_abi::Accounts;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Credit(u64, u64),
    Debit(u64, u64),
    Seed(u64, i64),
    Settle,
    /// Copy snapshot `n` over the state.
    Restart(usize),
}

fn step() -> impl Strategy<Value = Step> {
    // Ids past every snapshot's slots and past the smaller account limit.
    let account = prop_oneof![0u64..8, 8u64..40, Just(63), Just(64)];
    prop_oneof![
        (account.clone(), 0u64..100).prop_map(|(a, n)| Step::Credit(a, n)),
        (account.clone(), 0u64..100).prop_map(|(a, n)| Step::Debit(a, n)),
        (account, -50i64..50).prop_map(|(a, b)| Step::Seed(a, b)),
        Just(Step::Settle),
        (0usize..3).prop_map(Step::Restart),
    ]
}

fn run(state: &mut Accounts, step: &Step, snapshots: &[Accounts]) {
    match *step {
        Step::Credit(a, n) => state.credit(a, n),
        Step::Debit(a, n) => state.debit(a, n),
        Step::Seed(a, b) => state.set_balance(a, b),
        Step::Settle => {
            state.settle();
            state.begin();
        }
        Step::Restart(n) => state.clone_from(&snapshots[n]),
    }
}

proptest! {
    #[test]
    fn a_state_copied_over_reads_as_a_new_copy(steps in proptest::collection::vec(step(), 1..80)) {
        // Snapshots of different lengths and account limits.
        let snapshots: Vec<Accounts> = [(4u64, 64u64), (20, 64), (2, 40)]
            .into_iter()
            .map(|(len, max)| {
                let mut s = Accounts::new(max);
                for id in 0..len {
                    s.set_balance(id, id as i64 * 10 - 7);
                }
                s.begin();
                s
            })
            .collect();
        let mut reused = snapshots[1].clone();
        let mut fresh = snapshots[1].clone();
        for step in &steps {
            run(&mut reused, step, &snapshots);
            match step {
                // A new state each time, copied from the snapshot.
                Step::Restart(n) => fresh = snapshots[*n].clone(),
                other => run(&mut fresh, other, &snapshots),
            }
            for id in 0..70 {
                prop_assert_eq!(reused.get_balance(id), fresh.get_balance(id), "account {} after {:?}", id, step);
            }
            prop_assert_eq!(reused.entries(), fresh.entries());
            prop_assert_eq!(reused.failure(), fresh.failure());
        }
    }
}

/// More writes past a copy than slots kept stop being listed: the next
/// copy zeroes every kept slot instead.
#[test]
fn many_writes_past_a_copy_are_zeroed_by_the_next() {
    let short = Accounts::new(100);
    let mut state = Accounts::new(100);
    state.set_balance(9, 1);
    state.clone_from(&short);
    for round in 0..50 {
        state.set_balance(round % 10, round as i64 + 1);
        state.credit(5, 1);
    }
    state.clone_from(&short);
    assert!((0..100).all(|id| state.get_balance(id) == 0), "{:?}", state.balances());
}
