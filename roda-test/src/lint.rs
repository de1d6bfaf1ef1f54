//! Lints: what a server accepts without a word but that hurts a production
//! ledger. One function reads them off a call's report, for scenarios and
//! the fuzzer alike.

use std::fmt;

use ledger_core::abi::{Profile, V1};
use ledger_core::{CallOutcome, CallReport, Status};
use serde::ser::SerializeStruct;

/// A problem the server would not report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lint {
    /// The call ran out of fuel: on a server, which has no time limit, it
    /// would block every later transaction.
    OutOfFuel {
        /// Fuel used before it stopped.
        fuel_used: u64,
    },
    /// `execute` returned a value outside 0..=255; the server keeps the low
    /// byte, so 256 commits.
    StatusOutOfRange {
        /// The value returned.
        returned: i32,
    },
    /// `execute` returned one of 8..=127, reserved for the ledger.
    ReservedStatus {
        /// The value returned.
        returned: i32,
    },
    /// The result depended on state left by an earlier call.
    CarriedState,
    /// A credit or debit had an amount of 2^63 or more.
    WrappedAmount,
    /// The memory guard stopped the call: on a server, which has no memory
    /// limit, it would have grown and carried on.
    MemoryGuard {
        /// Bytes the module asked for.
        requested_bytes: usize,
        /// The guard's limit.
        limit_bytes: usize,
    },
    /// The module's `start` function credited or debited: a server applies
    /// those moves to its live ledger, outside any transaction.
    StartMoves {
        /// How many credits and debits.
        moves: usize,
    },
    /// v2: a KV key used a constant id this call did not look up.
    ConstantCached {
        /// How many key components.
        uses: u32,
    },
    /// v2: `kv_set` wrote the value the key already held.
    UnchangedKvWrite {
        /// How many writes.
        writes: u32,
    },
    /// v2: a flag verb with a lane of 8 or more.
    FlagLaneWrapped {
        /// How many calls.
        calls: u32,
    },
    /// v2: `set_flag` on an account that does not exist.
    FlagOnMissingAccount {
        /// How many writes.
        writes: u32,
    },
    /// v2: the call failed and a server's rollback leaves part of it.
    InexactRollback,
    /// v2: the call wrote more records than a server's transaction ring
    /// holds: its transactor panics.
    RingOverflow,
}

impl Lint {
    /// The stable code, as `lint[code]` shows it.
    pub fn code(&self) -> &'static str {
        match self {
            Lint::OutOfFuel { .. } => "out-of-fuel",
            Lint::StatusOutOfRange { .. } => "status-out-of-range",
            Lint::ReservedStatus { .. } => "reserved-status",
            Lint::CarriedState => "carried-state",
            Lint::WrappedAmount => "wrapped-amount",
            Lint::MemoryGuard { .. } => "memory-guard",
            Lint::StartMoves { .. } => "start-moves",
            Lint::ConstantCached { .. } => "constant-cached",
            Lint::UnchangedKvWrite { .. } => "unchanged-kv-write",
            Lint::FlagLaneWrapped { .. } => "flag-lane-wrapped",
            Lint::FlagOnMissingAccount { .. } => "flag-on-missing-account",
            Lint::InexactRollback => "inexact-rollback",
            Lint::RingOverflow => "ring-overflow",
        }
    }
}

impl Lint {
    /// Every lint, with example values: what the documentation lists
    /// (`docs/troubleshooting.md`).
    ///
    /// ```
    /// let codes: Vec<&str> = roda_test::Lint::catalog().iter().map(|lint| lint.code()).collect();
    /// assert!(codes.contains(&"carried-state"));
    /// ```
    pub fn catalog() -> Vec<Lint> {
        let all = vec![
            Lint::OutOfFuel { fuel_used: 10_000_000 },
            Lint::StatusOutOfRange { returned: 256 },
            Lint::ReservedStatus { returned: 42 },
            Lint::CarriedState,
            Lint::WrappedAmount,
            Lint::MemoryGuard { requested_bytes: 128 << 20, limit_bytes: 64 << 20 },
            Lint::StartMoves { moves: 2 },
            Lint::ConstantCached { uses: 1 },
            Lint::UnchangedKvWrite { writes: 1 },
            Lint::FlagLaneWrapped { calls: 1 },
            Lint::FlagOnMissingAccount { writes: 1 },
            Lint::InexactRollback,
            Lint::RingOverflow,
        ];
        // A lint added to the enum fails to compile here until it is listed above.
        for lint in &all {
            match lint {
                Lint::OutOfFuel { .. }
                | Lint::StatusOutOfRange { .. }
                | Lint::ReservedStatus { .. }
                | Lint::CarriedState
                | Lint::WrappedAmount
                | Lint::MemoryGuard { .. }
                | Lint::StartMoves { .. }
                | Lint::ConstantCached { .. }
                | Lint::UnchangedKvWrite { .. }
                | Lint::FlagLaneWrapped { .. }
                | Lint::FlagOnMissingAccount { .. }
                | Lint::InexactRollback
                | Lint::RingOverflow => {}
            }
        }
        all
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lint::OutOfFuel { fuel_used } => write!(
                f,
                "ran out of fuel after {fuel_used} units: it would block the ledger, since the server has no time limit"
            ),
            Lint::StatusOutOfRange { returned } => write!(
                f,
                "returned {returned}, outside 0..=255: the server keeps the low byte ({}), so 256 commits",
                Status::from_execute_return(*returned)
            ),
            Lint::ReservedStatus { returned } => {
                write!(f, "returned {returned}: 8..=127 are reserved for the ledger's future reasons; use 128..=255")
            }
            Lint::CarriedState => f.write_str(
                "the result depended on state left by an earlier call (a mutable global or memory): the server reuses one instance per function, so results drift between calls and reset on restart",
            ),
            Lint::WrappedAmount => f.write_str(
                "a credit or debit had an amount of 2^63 or more: the server casts it to a negative i64, so the balance moves the other way",
            ),
            Lint::MemoryGuard { requested_bytes, limit_bytes } => write!(
                f,
                "the memory guard stopped it when it asked for {requested_bytes} bytes (limit {limit_bytes}): a server has no limit and would have grown and carried on, so its status there may differ; use less memory, or raise --max-instance-memory if this is expected"
            ),
            Lint::ConstantCached { uses } => write!(
                f,
                "{uses} KV key component(s) named a constant this call did not look up with kv_get_constant: its id was kept from an earlier call or written into the code; ids differ between ledgers and a server drops a function's instance on restart, so look constants up in every call"
            ),
            Lint::UnchangedKvWrite { writes } => write!(
                f,
                "{writes} kv_set call(s) wrote the value the key already held: each still records a write on the server (and counts towards the 65,535 a transaction may record); compare first"
            ),
            Lint::FlagLaneWrapped { calls } => write!(
                f,
                "{calls} flag call(s) named a lane of 8 or more: the ledger uses lane % 8, so lane 8 is lane 0, the account's status; use lanes 1 to 7"
            ),
            Lint::FlagOnMissingAccount { writes } => write!(
                f,
                "{writes} set_flag call(s) wrote on an account that does not exist: a server drops the write without a record when the id is beyond its account array (which holds the ids issued so far, grown by 1.75x), and keeps it inside, where the account later opened or linked under that id starts with it; open (or link) the account first"
            ),
            Lint::InexactRollback => f.write_str(
                "the call failed and a real server's rollback leaves part of it behind (one account's flags written twice, a flag on an account this call linked, an account opened over flags left on its id, or a saturated balance): here the ledger shows what the server would; avoid those writes in a call that can fail"
            ),
            Lint::RingOverflow => write!(
                f,
                "the call wrote more than {} records: a server's transactor panics when its transaction ring (that many records) fills, before the transaction can fail with ENTRY_LIMIT_EXCEEDED, and the server stops processing; here it failed with status 4; write fewer than 65,536 records a call",
                ledger_core::abi::V2_RING_RECORDS
            ),
            Lint::StartMoves { moves } => write!(
                f,
                "its `start` function made {moves} credit(s) or debit(s) when the module was instantiated: a server makes them on its live ledger outside your transaction's rules (at ee2b042 the first call then failed with ZERO_SUM_VIOLATION and one move stayed, not rolled back); here they were dropped; move that work into `execute`"
            ),
        }
    }
}

/// `{"code": ..., "message": ...}`.
impl serde::Serialize for Lint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut lint = serializer.serialize_struct("Lint", 2)?;
        lint.serialize_field("code", self.code())?;
        lint.serialize_field("message", &self.to_string())?;
        lint.end()
    }
}

/// The lints a function call raises.
///
/// ```
/// use ledger_core::{CallOutcome, CallReport};
/// use roda_test::{Lint, lints};
///
/// let report = CallReport {
///     version: Some(1),
///     crc32c: 0,
///     outcome: CallOutcome::Returned(256),
///     fuel_used: 3,
///     wrapped_amount: false,
///     carried_state: None,
///     start_moves: 0,
/// };
/// assert_eq!(lints(&report), [Lint::StatusOutOfRange { returned: 256 }]);
/// ```
pub fn lints(report: &CallReport) -> Vec<Lint> {
    lints_for(report, &V1)
}

/// The lints v2 hazards raise.
pub fn hazard_lints(hazards: &ledger_core::v2::Hazards) -> Vec<Lint> {
    let counted = [
        (hazards.cached_constants, Lint::ConstantCached { uses: hazards.cached_constants }),
        (hazards.unchanged_kv_writes, Lint::UnchangedKvWrite { writes: hazards.unchanged_kv_writes }),
        (hazards.wrapped_lanes, Lint::FlagLaneWrapped { calls: hazards.wrapped_lanes }),
        (hazards.flags_on_missing_accounts, Lint::FlagOnMissingAccount { writes: hazards.flags_on_missing_accounts }),
    ];
    let mut lints: Vec<Lint> = counted.into_iter().filter(|(count, _)| *count > 0).map(|(_, lint)| lint).collect();
    if hazards.inexact_rollback {
        lints.push(Lint::InexactRollback);
    }
    if hazards.ring_overflow {
        lints.push(Lint::RingOverflow);
    }
    lints
}

/// The lints a call on a ledger of `profile` raises: its statuses decide
/// which returns are reserved.
pub fn lints_for<R>(report: &CallReport<R>, profile: &Profile) -> Vec<Lint> {
    let mut lints = Vec::new();
    match report.outcome {
        CallOutcome::OutOfFuel => lints.push(Lint::OutOfFuel { fuel_used: report.fuel_used }),
        CallOutcome::MemoryLimit { requested_bytes, limit_bytes } => {
            lints.push(Lint::MemoryGuard { requested_bytes, limit_bytes })
        }
        CallOutcome::Returned(returned) if !(0..=255).contains(&returned) => {
            lints.push(Lint::StatusOutOfRange { returned })
        }
        CallOutcome::Returned(returned) if profile.is_reserved(Status::from_execute_return(returned)) => {
            lints.push(Lint::ReservedStatus { returned })
        }
        _ => {}
    }
    if report.carried_state.is_some() {
        lints.push(Lint::CarriedState);
    }
    if report.wrapped_amount {
        lints.push(Lint::WrappedAmount);
    }
    if report.start_moves > 0 {
        lints.push(Lint::StartMoves { moves: report.start_moves });
    }
    lints
}
