//! The thread-local slot a mock ledger's state lives in, for the v1 and v2
//! mocks alike: the host bindings reach it with no handle, and a test gets
//! a clear panic when there is none, or already one.

use core::cell::RefCell;
use std::thread::LocalKey;

/// A thread's mock state of type `S`.
pub(crate) struct Slot<S: 'static> {
    key: &'static LocalKey<RefCell<Option<S>>>,
    /// What the messages call the mock (`MockLedger`, `v2 MockLedger`).
    mock: &'static str,
    /// How a test creates one.
    constructor: &'static str,
}

impl<S> Slot<S> {
    pub(crate) const fn new(
        key: &'static LocalKey<RefCell<Option<S>>>,
        mock: &'static str,
        constructor: &'static str,
    ) -> Slot<S> {
        Slot { key, mock, constructor }
    }

    /// Runs `f` on the thread's state.
    ///
    /// # Panics
    ///
    /// When the thread has no mock, saying how to create one.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut S) -> T) -> T {
        self.key.with(|current| {
            let mut current = current.borrow_mut();
            let state = current.as_mut().unwrap_or_else(|| {
                panic!(
                    "a ledger_guest host call ran with no {} on this thread: create one with `{}` at the start of the test",
                    self.mock, self.constructor
                )
            });
            f(state)
        })
    }

    /// Makes `state` the thread's.
    ///
    /// # Panics
    ///
    /// When the thread already has one.
    pub(crate) fn install(&self, state: S) {
        self.key.with(|current| {
            let mut current = current.borrow_mut();
            assert!(current.is_none(), "this thread already has a {}: use that one, or drop it first", self.mock);
            *current = Some(state);
        });
    }

    /// Removes the thread's state, if any.
    pub(crate) fn remove(&self) {
        // `try_with`: during thread teardown the slot may already be gone.
        let _ = self.key.try_with(|current| current.borrow_mut().take());
    }
}
