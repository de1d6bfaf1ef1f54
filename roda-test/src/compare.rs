//! What two ledgers answered for the same step, compared: the simulator
//! and a live server (`cargo roda test --server`), or an old and a new
//! binary (`cargo roda diff`).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::KeySpec;
use crate::run::{Answer, View};

/// What is read of both ledgers after a step.
#[derive(Debug, Clone, Copy)]
pub struct Reads<'a> {
    /// Accounts whose balance and flag lanes are compared.
    pub accounts: &'a BTreeSet<u64>,
    /// KV keys whose values are compared.
    pub keys: &'a BTreeSet<KeySpec>,
    /// Links (parent, link type) whose child is compared.
    pub links: &'a BTreeSet<(u64, u16)>,
}

/// One thing two ledgers answered differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What was read (`status`, `balance of 2`, `records`, `kv counter/1`).
    pub what: String,
    /// The first ledger's answer.
    pub left: String,
    /// The second ledger's answer.
    pub right: String,
}

/// Where the second ledger's answer to a step, and its state after it,
/// differ from the first's: status, entries, records, then each account's
/// balance and flag lanes, each key's value and each link that `reads`
/// names (what the second view cannot read is left out).
///
/// ```
/// use std::collections::BTreeSet;
/// use roda_test::compare::{Reads, differences};
/// use roda_test::{Answer, View};
/// use roda_test::model::KeySpec;
///
/// struct Balances(i64);
/// impl View for Balances {
///     fn balance(&self, _: u64) -> i64 { self.0 }
///     fn flag(&self, _: u64, _: u8) -> u8 { 0 }
///     fn kv(&self, _: &KeySpec) -> Result<i64, String> { Ok(0) }
///     fn linked(&self, _: u64, _: u16) -> Option<u64> { None }
/// }
/// let answer = Answer::default();
/// let accounts = BTreeSet::from([1]);
/// let reads = Reads { accounts: &accounts, keys: &BTreeSet::new(), links: &BTreeSet::new() };
/// let found = differences((&answer, &Balances(5)), (&answer, &Balances(6)), reads);
/// assert_eq!((found[0].what.as_str(), found[0].left.as_str(), found[0].right.as_str()), ("balance of 1", "5", "6"));
/// ```
pub fn differences(left: (&Answer, &dyn View), right: (&Answer, &dyn View), reads: Reads<'_>) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut differ = |what: String, left: String, right: String| {
        if left != right {
            found.push(Difference { what, left, right });
        }
    };
    let ((left_answer, left), (right_answer, right)) = (left, right);
    differ("status".into(), left_answer.status.to_string(), right_answer.status.to_string());
    let entries = |answer: &Answer| format!("{:?}", answer.entries);
    differ("entries".into(), entries(left_answer), entries(right_answer));
    differ("records".into(), left_answer.records.join(", "), right_answer.records.join(", "));
    for &account in reads.accounts.iter().filter(|&&account| right.reads_account(account)) {
        differ(format!("balance of {account}"), left.balance(account).to_string(), right.balance(account).to_string());
        if right.reads_flags(account) {
            let lanes =
                |view: &dyn View| (0..8).map(|lane| view.flag(account, lane).to_string()).collect::<Vec<_>>().join(" ");
            differ(format!("flag lanes of {account}"), lanes(left), lanes(right));
        }
    }
    for key in reads.keys {
        let value = |view: &dyn View| match view.kv(key) {
            Ok(value) => value.to_string(),
            Err(name) => format!("no constant `{name}`"),
        };
        differ(format!("kv {key}"), value(left), value(right));
    }
    for &(parent, link_type) in reads.links {
        let child = |view: &dyn View| format!("{:?}", view.linked(parent, link_type));
        differ(format!("link {parent} type {link_type}"), child(left), child(right));
    }
    found
}
