//! What servers answer, as this crate's client returns it: a submitted
//! operation's result, a committed transaction and its records (a HEAD
//! server's), an account's balance, a node's pipeline.

use ledger_core::{Entry, EntryKind, FunctionInfo, Status, v2};

use crate::client::RpcError;
use crate::{head, proto};

/// What a submitted operation gave: its id and status, with, from a HEAD
/// server, the whole committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    /// Transaction id.
    pub tx_id: u64,
    /// Its status (`fail_reason`).
    pub status: Status,
    /// The leader's term when it answered (0 from an ee2b042 server).
    pub term: u64,
    /// The committed transaction, as a HEAD server returns it with the
    /// result; `None` from an ee2b042 server.
    pub transaction: Option<CommittedTransaction>,
}

/// A committed transaction as a HEAD server reports it (`GetTransaction`,
/// `SubmitAndWaitResult`): the wire's view of the v2 engine's
/// [`v2::Transaction`], with its tag as text and the log's own records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommittedTransaction {
    /// Transaction id.
    pub tx_id: u64,
    /// Its status (the metadata's `fail_reason`).
    pub status: Status,
    /// Its deduplication key.
    pub user_ref: u64,
    /// The metadata's tag as the server shows it (`OPENACC`, `FNREG`, a
    /// function call's `fnw\n` and CRC as text or 16 hex digits).
    pub tag: String,
    /// When it was computed, in nanoseconds since the Unix epoch.
    pub timestamp: u64,
    /// What it recorded, in the server's order.
    pub records: Vec<WalRecord>,
}

impl CommittedTransaction {
    /// The transaction this one duplicates (a DUPLICATE links to the first
    /// transaction with its `user_ref`).
    pub fn duplicate_of(&self) -> Option<u64> {
        self.records.iter().find_map(|record| match record {
            WalRecord::Link { to_tx_id, kind: "duplicate" } => Some(*to_tx_id),
            _ => None,
        })
    }

    /// What the ledger wrote, in order: its records less what only the log
    /// carries (links, registrations, terms).
    pub fn ledger_records(&self) -> impl Iterator<Item = &v2::Record> {
        self.records.iter().filter_map(|record| match record {
            WalRecord::Ledger(record) => Some(record),
            _ => None,
        })
    }

    /// The credits and debits, in order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.records.iter().filter_map(|record| match record {
            WalRecord::Ledger(v2::Record::Entry(entry)) => Some(entry),
            _ => None,
        })
    }

    /// The transaction as the v2 engine keeps it, to restore it into one
    /// ([`v2::Ledger::restore_forked`]): its tag's bytes, its records, the
    /// function a registration or an unregister named, the transaction a
    /// duplicate repeats.
    ///
    /// # Errors
    ///
    /// The tag is neither text of at most 8 bytes nor 16 hex digits.
    pub fn to_engine(&self) -> Result<v2::Transaction, String> {
        let tag = tag_bytes(&self.tag)
            .ok_or_else(|| format!("transaction {}: the tag `{}` is not 8 bytes", self.tx_id, self.tag))?;
        let function = self.records.iter().find_map(|record| match record {
            WalRecord::FunctionRegistered(function) => Some(function.clone()),
            _ => None,
        });
        let records = self.ledger_records().cloned().collect();
        Ok(v2::Transaction {
            tx_id: self.tx_id,
            user_ref: self.user_ref,
            status: self.status,
            tag,
            duplicate_of: self.duplicate_of(),
            records,
            function,
            call: None,
            hazards: v2::Hazards::default(),
        })
    }
}

/// A tag's bytes from the text a server shows: the text itself (NULs
/// trimmed) when it was UTF-8, else 16 hex digits.
///
/// ```
/// # use roda_rpc::results::tag_bytes;
/// assert_eq!(tag_bytes("OPENACC"), Some(*b"OPENACC\0"));
/// assert_eq!(tag_bytes("666e770a56cee68c"), Some(*b"fnw\n\x56\xce\xe6\x8c"));
/// assert_eq!(tag_bytes("a tag too long"), None);
/// ```
pub fn tag_bytes(text: &str) -> Option<[u8; 8]> {
    let mut tag = [0u8; 8];
    if text.len() <= tag.len() {
        tag[..text.len()].copy_from_slice(text.as_bytes());
        return Some(tag);
    }
    if text.len() != 16 {
        return None;
    }
    for (byte, pair) in tag.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(tag)
}

/// A page of a server's log ([`Client::log`](crate::client::Client::log)).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogPage {
    /// Its whole transactions, in order.
    pub transactions: Vec<CommittedTransaction>,
    /// The id to ask for next; 0 when there is no more.
    pub next_tx_id: u64,
    /// The server's last committed transaction when it read the page.
    pub last_commit_tx_id: u64,
}

/// One record of a committed transaction as a HEAD server's log holds
/// it: what the ledger wrote, as the v2 engine writes it (the one record
/// type of the profile, rendered by [`v2::record_text`]), or what only the
/// log carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum WalRecord {
    /// This transaction duplicates (or reverses) another.
    Link {
        /// The other transaction.
        to_tx_id: u64,
        /// `duplicate` or `reversal`.
        kind: &'static str,
    },
    /// A function registered (CRC 0: unregistered).
    FunctionRegistered(FunctionInfo),
    /// A leader's term began (a cluster's log).
    Term {
        /// The term.
        term: u64,
        /// The leader.
        node_id: u64,
    },
    /// An entry, an account opened or linked, a flag update, a KV write or
    /// a constant defined. A KV key's constants are their ids (the log
    /// writes `constant[<id>]`).
    #[serde(untagged)]
    Ledger(v2::Record),
}

/// An account as `GetBalance` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountBalance {
    /// Its balance.
    pub balance: i64,
    /// Its eight flag lanes, lane 0 (the status: 0 none, 1 open, 2
    /// programmed, 3 system) the low byte; `None` from an ee2b042 server.
    pub flags: Option<u64>,
    /// The balances of its linked accounts, by link type.
    pub linked: Vec<LinkedBalance>,
}

/// A linked account's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LinkedBalance {
    /// The link type.
    pub link_type: u16,
    /// Its balance.
    pub balance: i64,
}

/// Where a node's pipeline is, and whether it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PipelineIndex {
    /// Last transaction executed.
    pub compute: u64,
    /// Last transaction durable on this node.
    pub commit: u64,
    /// Last transaction reads see.
    pub snapshot: u64,
    /// The leader's term (0 from an ee2b042 server).
    pub term: u64,
    /// Last transaction durable on a quorum (0 from an ee2b042 server).
    pub cluster_commit: u64,
    /// Whether this node accepts writes (an ee2b042 server always does).
    pub is_leader: bool,
}

pub(crate) fn committed(
    method: &'static str,
    transaction: head::CommitedTransaction,
) -> Result<CommittedTransaction, RpcError> {
    use head::wal_entry::Entry as E;
    let Some(E::Metadata(meta)) = transaction.meta.and_then(|m| m.entry) else {
        return Err(RpcError::Malformed { method, message: "a transaction came back without its metadata".into() });
    };
    let malformed = |message: String| RpcError::Malformed { method, message };
    let ledger = WalRecord::Ledger;
    let records = transaction
        .items
        .into_iter()
        .filter_map(|item| item.entry)
        .map(|item| {
            Ok(match item {
                E::TxEntry(e) => {
                    ledger(v2::Record::Entry(entry(method, e.account_id, e.amount, e.kind, e.computed_balance)?))
                }
                E::Link(l) => WalRecord::Link {
                    to_tx_id: l.to_tx_id,
                    kind: match head::LinkKind::try_from(l.kind) {
                        Ok(head::LinkKind::Reversal) => "reversal",
                        _ => "duplicate",
                    },
                },
                E::FunctionRegistered(f) => {
                    WalRecord::FunctionRegistered(FunctionInfo { name: f.name, version: f.version, crc32c: f.crc32c })
                }
                E::AccountOpened(a) => {
                    ledger(v2::Record::AccountOpened { begin: a.begin_account_id, count: a.count, flags: a.flags })
                }
                E::AccountLinked(a) => ledger(v2::Record::AccountLinked {
                    parent: a.parent_id,
                    link_type: u16::try_from(a.type_id)
                        .map_err(|_| malformed(format!("link type {} is over 16 bits", a.type_id)))?,
                    child: a.child_id,
                }),
                E::AccountFlagsUpdated(a) => {
                    ledger(v2::Record::FlagsUpdated { account_id: a.account_id, prev: a.prev_flags, new: a.new_flags })
                }
                E::Kv(kv) => ledger(kv_record(kv).map_err(malformed)?),
                E::KvConstant(c) => ledger(v2::Record::KvConstant { id: c.key, name: c.value.into_bytes() }),
                E::Term(t) => WalRecord::Term { term: t.term, node_id: t.node_id },
                E::Metadata(_) => {
                    return Err(RpcError::Malformed { method, message: "a second metadata among the items".into() });
                }
            })
        })
        .collect::<Result<_, RpcError>>()?;
    Ok(CommittedTransaction {
        tx_id: meta.tx_id,
        status: Status::from_code(u8::try_from(meta.fail_reason).unwrap_or(u8::MAX)),
        user_ref: meta.user_ref,
        tag: meta.tag,
        timestamp: meta.timestamp,
        records,
    })
}

/// A wire entry as a ledger-core one.
pub(crate) fn entry(
    method: &'static str,
    account_id: u64,
    amount: u64,
    kind: i32,
    computed_balance: i64,
) -> Result<Entry, RpcError> {
    let kind = match proto::EntryKind::try_from(kind) {
        Ok(proto::EntryKind::Credit) => EntryKind::Credit,
        Ok(proto::EntryKind::Debit) => EntryKind::Debit,
        Err(_) => {
            return Err(RpcError::Malformed {
                method,
                message: format!("entry kind {kind} is neither credit nor debit"),
            });
        }
    };
    Ok(Entry { account_id, amount, kind, computed_balance })
}

/// A logged KV write as the engine records it: each key component an
/// integer below 2^31 or `constant[<id>]`, four of them, and an integer
/// value.
fn kv_record(kv: head::WalKvEntry) -> Result<v2::Record, String> {
    use head::wal_kv_value::Kind;
    let path = kv.key.unwrap_or_default();
    let parts: Vec<u32> = path
        .items
        .iter()
        .map(|item| match &item.kind {
            Some(Kind::Integer(i)) => u32::try_from(*i).ok().filter(|i| i & v2::CONSTANT_BIT == 0),
            Some(Kind::Constant(name)) => name
                .strip_prefix("constant[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|id| id.parse::<u32>().ok())
                .map(|id| id | v2::CONSTANT_BIT),
            None => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(|| format!("KV key `{}` is not four integers below 2^31 and constant ids", path.str))?;
    let key: [u32; 4] = parts.try_into().map_err(|_| format!("KV key `{}` does not have four components", path.str))?;
    match kv.value.and_then(|v| v.kind) {
        Some(Kind::Integer(value)) => Ok(v2::Record::Kv { key, value }),
        _ => Err(format!("KV write to `{}` without an integer value (e14b146 writes integers only)", path.str)),
    }
}
