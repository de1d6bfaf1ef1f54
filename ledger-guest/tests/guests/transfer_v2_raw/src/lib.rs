//! `transfer_v2` written against the raw v2 imports, by hand.
#![no_std]

#[link(wasm_import_module = "ledger")]
unsafe extern "C" {
    fn credit(account_id: u64, amount: u64);
    fn debit(account_id: u64, amount: u64);
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn execute(from: i64, amount: i64, to: i64, _: i64, _: i64, _: i64, _: i64, _: i64) -> i32 {
    unsafe {
        debit(from as u64, amount as u64);
        credit(to as u64, amount as u64);
    }
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
