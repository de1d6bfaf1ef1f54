//! Drawing a fuzz case: every parameter slot and starting balance from one
//! strategy, whose tree shrinks each value in place. Proptest's strategy per
//! slot boxed a tree per value and a vector of trees per case, which took
//! most of a fuzz case's time (a call on the ledger took a tenth).

use std::rc::Rc;

use proptest::prelude::Rng;
use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::model::{FuzzSpec, Slot};

/// A fuzz case: the parameters and the starting balances drawn.
pub(crate) type Case = (Vec<i64>, Vec<i64>);

/// How the values of a case are drawn: one per parameter slot, then one
/// per starting balance.
#[derive(Debug)]
pub(crate) struct Draws {
    values: Vec<Draw>,
    params: usize,
}

#[derive(Debug)]
enum Draw {
    /// One of these (an account slot), shrunk towards the first.
    Pick(Rc<[i64]>),
    /// A number in `low..=high`, or one of `edges` one draw in four; shrunk
    /// towards the in-range value nearest 0.
    Number { low: i64, high: i64, edges: Rc<[i64]> },
    /// Always this value.
    Value(i64),
}

impl Draws {
    /// The draws `spec` asks for.
    pub(crate) fn of(spec: &FuzzSpec) -> Draws {
        let slot = |slot: &Slot| match slot {
            Slot::Accounts(accounts) => Draw::Pick(accounts.as_slice().iter().map(|&a| a as i64).collect()),
            Slot::Range { range, .. } => {
                Draw::Number { low: range.low(), high: range.high(), edges: slot.edges().into() }
            }
            Slot::Value(value) => Draw::Value(*value),
        };
        let mut values: Vec<Draw> = spec.params.as_slice().iter().map(slot).collect();
        let params = values.len();
        if let Some(balances) = &spec.balances {
            let (low, high) = (balances.range.low(), balances.range.high());
            values.extend(balances.accounts.iter().map(|_| Draw::Number { low, high, edges: Rc::from([]) }));
        }
        Draws { values, params }
    }
}

impl Strategy for Draws {
    type Tree = CaseTree;
    type Value = Case;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let rng = runner.rng();
        let values = self
            .values
            .iter()
            .map(|draw| match draw {
                Draw::Pick(choices) => {
                    let index = uniform(rng, 0, choices.len() as i64 - 1);
                    Shrink::Pick(choices.clone(), Toward::new(0, index))
                }
                Draw::Number { low, high, edges } => {
                    // One draw in four is an edge value: a range of amounts
                    // from 0 would otherwise never try a negative one.
                    let value = match edges.is_empty() || !rng.next_u32().is_multiple_of(4) {
                        true => uniform(rng, *low, *high),
                        false => edges[uniform(rng, 0, edges.len() as i64 - 1) as usize],
                    };
                    Shrink::Number(Toward::new(0i64.clamp(*low, *high), value))
                }
                Draw::Value(value) => Shrink::Fixed(*value),
            })
            .collect();
        Ok(CaseTree { values, params: self.params, shrinking: 0, last: None })
    }
}

/// A uniform draw from `low..=high`.
fn uniform(rng: &mut impl Rng, low: i64, high: i64) -> i64 {
    let span = (i128::from(high) - i128::from(low) + 1) as u128;
    // Lemire's multiply-shift: the bias is at most span / 2^64.
    let offset = (u128::from(rng.next_u64()) * span) >> 64;
    (i128::from(low) + offset as i128) as i64
}

/// A case's values as they shrink: one value at a time, in order, each as
/// far as the case still fails (proptest's order for a tuple).
#[derive(Debug)]
pub(crate) struct CaseTree {
    values: Vec<Shrink>,
    params: usize,
    /// The value being shrunk.
    shrinking: usize,
    /// The value the last simplification changed, to undo it.
    last: Option<usize>,
}

#[derive(Debug)]
enum Shrink {
    Pick(Rc<[i64]>, Toward),
    Number(Toward),
    Fixed(i64),
}

impl Shrink {
    fn current(&self) -> i64 {
        match self {
            Shrink::Pick(choices, index) => choices[index.current() as usize],
            Shrink::Number(number) => number.current(),
            Shrink::Fixed(value) => *value,
        }
    }

    fn search(&mut self) -> Option<&mut Toward> {
        match self {
            Shrink::Pick(_, search) | Shrink::Number(search) => Some(search),
            Shrink::Fixed(_) => None,
        }
    }
}

impl ValueTree for CaseTree {
    type Value = Case;

    fn current(&self) -> Case {
        let (params, balances) = self.values.split_at(self.params);
        (params.iter().map(Shrink::current).collect(), balances.iter().map(Shrink::current).collect())
    }

    fn simplify(&mut self) -> bool {
        while let Some(value) = self.values.get_mut(self.shrinking) {
            if value.search().is_some_and(Toward::simplify) {
                self.last = Some(self.shrinking);
                return true;
            }
            self.shrinking += 1;
        }
        false
    }

    fn complicate(&mut self) -> bool {
        let Some(last) = self.last else { return false };
        if self.values[last].search().is_some_and(Toward::complicate) {
            return true;
        }
        self.last = None;
        false
    }
}

/// A binary search from a value towards `target`, on the distance between
/// them: a simplification halves the distance, a complication (the
/// simpler value passed) searches the upper half.
#[derive(Debug, Clone, Copy)]
struct Toward {
    target: i64,
    /// Whether the start is below the target.
    below: bool,
    lo: u64,
    curr: u64,
    hi: u64,
}

impl Toward {
    fn new(target: i64, start: i64) -> Toward {
        let distance = start.abs_diff(target);
        Toward { target, below: start < target, lo: 0, curr: distance, hi: distance }
    }

    fn current(&self) -> i64 {
        let distance = i128::from(self.curr);
        (i128::from(self.target) + if self.below { -distance } else { distance }) as i64
    }

    fn reposition(&mut self) -> bool {
        let mid = self.lo + (self.hi - self.lo) / 2;
        let moved = mid != self.curr;
        self.curr = mid;
        moved
    }

    fn simplify(&mut self) -> bool {
        if self.hi <= self.lo {
            return false;
        }
        self.hi = self.curr;
        self.reposition()
    }

    fn complicate(&mut self) -> bool {
        if self.hi <= self.lo {
            return false;
        }
        self.lo = self.curr + 1;
        self.reposition()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountSet, FuzzBalances, InclusiveRange, Params};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng};

    /// Shrinks `tree` the way proptest's runner does, while `fails` holds.
    fn shrink(tree: &mut CaseTree, fails: impl Fn(&Case) -> bool) -> Case {
        let mut last = tree.current();
        if tree.simplify() {
            loop {
                let case = tree.current();
                let more = if fails(&case) {
                    last = case;
                    tree.simplify()
                } else {
                    tree.complicate()
                };
                if !more {
                    break;
                }
            }
        }
        last
    }

    fn runner(seed: u8) -> TestRunner {
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::XorShift, &[seed; 16]))
    }

    /// From any start, on either side of the target and as far as the
    /// ends of `i64`, a search stops at the failing value nearest the
    /// target.
    #[test]
    fn a_search_finds_the_failing_value_nearest_the_target() {
        for (target, start, threshold) in [(0, 1_000_000, 1001), (0, -77, -5), (10, i64::MAX, 12), (0, i64::MIN, -1)] {
            let fails = |v: i64| if threshold >= target { v >= threshold } else { v <= threshold };
            let number = Shrink::Number(Toward::new(target, start));
            let mut tree = CaseTree { values: vec![number], params: 1, shrinking: 0, last: None };
            assert_eq!(
                shrink(&mut tree, |(params, _)| fails(params[0])).0,
                [threshold],
                "from {start} towards {target}"
            );
        }
    }

    #[test]
    fn draws_stay_in_their_slots_and_shrink_to_the_simplest_failing_case() {
        let spec = FuzzSpec {
            call: None,
            params: Params::new(vec![
                Slot::Accounts(AccountSet::new(vec![101, 102]).unwrap()),
                Slot::Range { range: InclusiveRange::new(1, 1_000_000).unwrap(), exact: true },
                Slot::Value(9),
            ])
            .unwrap(),
            balances: Some(FuzzBalances { accounts: vec![5], range: InclusiveRange::new(0, 100).unwrap() }),
            allowed: None,
            never_negative: Vec::new(),
        };
        let draws = Draws::of(&spec);
        let mut runner = runner(3);
        for _ in 0..1000 {
            let (params, balances) = draws.new_tree(&mut runner).unwrap().current();
            assert!([101, 102].contains(&params[0]) && (1..=1_000_000).contains(&params[1]) && params[2] == 9);
            assert!((0..=100).contains(&balances[0]));
        }
        let mut tree = loop {
            let tree = draws.new_tree(&mut runner).unwrap();
            let (params, _) = tree.current();
            if params[0] == 102 && params[1] > 5000 {
                break tree;
            }
        };
        let shrunk = shrink(&mut tree, |(params, _)| params[1] > 1000);
        assert_eq!(shrunk, (vec![101, 1001, 9], vec![0]));
    }
}
