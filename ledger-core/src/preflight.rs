//! What registering a module would set off on a server, found before it is
//! sent: a server checks neither `start` nor (at ee2b042) anything beyond
//! the entry point, and has no fuel limit, so a `start` or `register()` that
//! never finishes freezes it for good.

use crate::abi::Profile;
use crate::{CallOutcome, IfRegistered, Ledger, LedgerConfig, Limits, RegistryError, Status, v2};

/// Why registering a module would hurt a server of its profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRisk {
    /// The module's `start` function does not finish.
    #[error("{}", start_risk(.profile, .outcome))]
    Start {
        /// The profile's name (`v1`, `v2`).
        profile: &'static str,
        /// How `start` ended in the simulator (a [`CallOutcome::StartFailed`]).
        outcome: CallOutcome,
    },
    /// v2's `register()` does not finish, or fails.
    #[error("{}", register_risk(*.status, .outcome.as_ref()))]
    Register {
        /// The status the registration fails with (5 for a trap or no
        /// finish, 8 for a verb the register phase refuses, 10 for a long
        /// constant name).
        status: Status,
        /// How `register()` ended, when it did not return.
        outcome: Option<CallOutcome>,
    },
}

fn start_risk(profile: &str, outcome: &CallOutcome) -> String {
    let what = match outcome {
        CallOutcome::StartFailed(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let server = match (profile, outcome) {
        ("v1", CallOutcome::StartFailed(inner)) if **inner == CallOutcome::OutOfFuel => {
            "a roda-ledger ee2b042 server registers it and runs `start` at the first call, which then never returns: the server accepts no write again until it is killed"
        }
        ("v1", _) => "a roda-ledger ee2b042 server registers it all the same, and every call fails with status 5",
        (_, CallOutcome::StartFailed(inner)) if **inner == CallOutcome::OutOfFuel => {
            "a roda-ledger e14b146 server runs `start` inside the registration, which then never finishes: the server accepts no write again until it is killed"
        }
        _ => "a roda-ledger e14b146 server registers it all the same, and every call fails with status 5",
    };
    format!("its `start` function {what}: {server}")
}

fn register_risk(status: Status, outcome: Option<&CallOutcome>) -> String {
    match outcome {
        Some(CallOutcome::OutOfFuel) => "`register()` ran out of fuel: a roda-ledger e14b146 server (no fuel limit) answers the registration as a success, then runs `register()` forever and accepts no write again until it is killed (observed)".into(),
        Some(outcome) => format!(
            "`register()` {outcome}: a roda-ledger e14b146 server refuses the registration with INTERNAL \"function registration failed: FailReason({})\"",
            status.code()
        ),
        None => format!(
            "`register()` fails with {} ({}): a roda-ledger e14b146 server refuses the registration with INTERNAL \"function registration failed: FailReason({})\"",
            crate::abi::V2.status_name(status),
            status.code(),
            status.code()
        ),
    }
}

/// Registers `binary` as `name` in a fresh simulator of `profile`, running
/// its `start` (and v2's `register()`) under `limits` as a server would
/// when it registers it or first calls it. `Ok` when nothing goes wrong, or
/// when the registration is refused for a reason the server itself gives
/// (a bad name or binary): the server says so then.
///
/// ```
/// use ledger_core::{Limits, abi::V1, preflight::{RegistrationRisk, preflight}};
///
/// let looping_start = wat::parse_str(r#"(module
///   (func $init (loop br 0)) (start $init)
///   (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))"#).unwrap();
/// let risk = preflight(&V1, "f", &looping_start, Limits::default()).unwrap_err();
/// assert!(matches!(risk, RegistrationRisk::Start { .. }));
/// assert!(risk.to_string().contains("accepts no write again"), "{risk}");
/// ```
///
/// # Errors
///
/// [`RegistrationRisk`] for a `start` or `register()` that does not finish
/// or fails.
pub fn preflight(profile: &'static Profile, name: &str, binary: &[u8], limits: Limits) -> Result<(), RegistrationRisk> {
    let config = LedgerConfig { limits, keep_history: false, ..LedgerConfig::default() };
    let start = |outcome: CallOutcome| RegistrationRisk::Start { profile: profile.name, outcome };
    if profile.name == crate::abi::V1.name {
        let Ok(mut ledger) = Ledger::new(config) else { return Ok(()) };
        if ledger.register_function(name, binary, IfRegistered::Refuse).is_err() {
            return Ok(());
        }
        return match ledger.instantiate_function(name) {
            Err(outcome @ CallOutcome::StartFailed(_)) => Err(start(outcome)),
            _ => Ok(()),
        };
    }
    let Ok(mut ledger) = v2::Ledger::new(config) else { return Ok(()) };
    match ledger.register_function(name, binary, IfRegistered::Refuse) {
        Ok(registration) => match registration.not_instantiable {
            Some(outcome @ CallOutcome::StartFailed(_)) => Err(start(outcome)),
            _ => Ok(()),
        },
        Err(RegistryError::RegisterFailed { status, outcome, live_until_restart: false }) => {
            Err(RegistrationRisk::Register { status: Status::from_code(status), outcome })
        }
        // The `start` function's moves failed on this empty ledger; on the
        // server's, whose accounts are not these, they may not (the
        // validator's `start-function` error speaks of `start`).
        Err(RegistryError::RegisterFailed { live_until_restart: true, .. }) => Ok(()),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v2 `start` whose moves fail on the empty ledger a preflight uses
    /// says nothing about the server's, whose accounts are others; a
    /// `register()` that fails does.
    #[test]
    fn only_register_failures_are_risks_of_a_v2_registration() {
        let module = |extra: &str| {
            wat::parse_str(format!(
                r#"(module
                     (import "ledger" "credit" (func $credit (param i64 i64)))
                     {extra}
                     (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) (i32.const 0)))"#
            ))
            .unwrap()
        };
        let start = module("(func $start (call $credit (i64.const 7) (i64.const 1))) (start $start)");
        assert_eq!(preflight(&crate::abi::V2, "s", &start, Limits::default()), Ok(()));
        let register = module(r#"(func (export "register") (call $credit (i64.const 0) (i64.const 1)))"#);
        let risk = preflight(&crate::abi::V2, "r", &register, Limits::default()).unwrap_err();
        assert!(matches!(risk, RegistrationRisk::Register { status: Status::PROHIBITED_HOST_CALL, .. }), "{risk}");
    }
}
