//! `counter_v2` written against the raw v2 imports, by hand.
#![no_std]

#[link(wasm_import_module = "ledger")]
unsafe extern "C" {
    fn credit(account_id: u64, amount: u64);
    fn debit(account_id: u64, amount: u64);
    fn kv_get(key0: u32, key1: u32, key2: u32, key3: u32) -> i64;
    fn kv_set(key0: u32, key1: u32, key2: u32, key3: u32, value: i64);
    fn kv_register_constant(name_ptr: u32);
    fn kv_get_constant(name_ptr: u32) -> u32;
}

#[unsafe(no_mangle)]
pub extern "C" fn register() {
    unsafe { kv_register_constant(c"counter".as_ptr() as u32) }
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn execute(account: i64, _: i64, _: i64, _: i64, _: i64, _: i64, _: i64, _: i64) -> i32 {
    if account as u64 >= 1 << 31 {
        return 5;
    }
    unsafe {
        let counter = kv_get_constant(c"counter".as_ptr() as u32);
        let next = kv_get(counter, account as u32, 0, 0) + 1;
        kv_set(counter, account as u32, 0, 0, next);
        debit(0, next as u64);
        credit(account as u64, next as u64);
    }
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
