//! A committed call allocates nothing once the ledger's buffers have grown:
//! `process` writes the transaction into a reused slot (history off), the
//! registry finds the function by a handle, and v2 names are read in place.
//! Counted by a global allocator, on this test's thread only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ledger_core::{Engine, IfRegistered, LedgerConfig, Operation, Status, v2};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations `work` makes on this thread.
fn allocations(work: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    work();
    COUNTING.with(|on| on.set(false));
    ALLOCATIONS.with(Cell::get)
}

const FEE_TRANSFER: &str = include_str!("../../cargo-roda/templates/wat/function.wat");

const V2_COUNTER: &str = include_str!("../../tests/scenarios/v2_counter.wat");

#[test]
fn a_committed_call_allocates_nothing_once_warm() {
    let config = LedgerConfig { keep_history: false, ..LedgerConfig::default() };

    let mut v1 = ledger_core::Ledger::new(config.clone()).unwrap();
    v1.register_function("fee_transfer", &wat::parse_str(FEE_TRANSFER).unwrap(), IfRegistered::Refuse).unwrap();
    v1.process(&Operation::Deposit { account: 101, amount: 1 << 40, user_ref: 0 });
    let call =
        Operation::Function { name: "fee_transfer".into(), params: vec![101, 202, 999, 10_000, 50], user_ref: 0 };
    assert_eq!(v1.process(&call).status, Status::NONE, "warm: instantiated, buffers grown");
    let made = allocations(|| {
        for _ in 0..100 {
            assert_eq!(v1.process(&call).entries.len(), 3);
        }
    });
    assert_eq!(made, 0, "v1 fee transfer");

    let mut v2 = v2::Ledger::new(config).unwrap();
    v2.register_function("counter", &wat::parse_str(V2_COUNTER).unwrap(), IfRegistered::Refuse).unwrap();
    v2.process(&v2::Operation::OpenAccount { count: 1, user_ref: 0 });
    let call = v2::Operation::Function { name: "counter".into(), params: vec![1, 1], user_ref: 0 };
    assert_eq!(v2.process(&call).status, Status::NONE);
    let made = allocations(|| {
        for _ in 0..100 {
            assert_eq!(Engine::process(&mut v2, &call).records.len(), 3);
        }
    });
    assert_eq!(made, 0, "v2 KV counter");
}
