//! The seed's fee transfer as the seed writes it, by hand: the size
//! `#[execute]` must not exceed.
#![no_std]

#[link(wasm_import_module = "ledger")]
unsafe extern "C" {
    fn credit(account_id: u64, amount: u64);
    fn debit(account_id: u64, amount: u64);
    fn get_balance(account_id: u64) -> i64;
}

#[unsafe(no_mangle)]
pub extern "C" fn execute(
    param0: i64,
    param1: i64,
    param2: i64,
    param3: i64,
    param4: i64,
    _p5: i64,
    _p6: i64,
    _p7: i64,
) -> i32 {
    let sender = param0 as u64;
    let receiver = param1 as u64;
    let fee_acct = param2 as u64;
    let amount = param3 as u64;
    let fee_bps = param4 as u64;
    let fee = amount * fee_bps / 10_000;
    unsafe {
        if get_balance(sender) < (amount + fee) as i64 {
            return 1; // INSUFFICIENT_FUNDS
        }
        credit(sender, amount + fee);
        debit(receiver, amount);
        debit(fee_acct, fee);
    }
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
