//! Counts calls per account in KV under the constant `calls`, and takes one
//! unit from the account into the system account for each call.

use roda_wasm_abi::{credit, debit, execute, key, kv_get, kv_get_constant, kv_register_constant, kv_set, register, Status};

register!(|| {
    kv_register_constant(c"calls");
});

execute!(|p| {
    let account = p.account(0);
    let calls = key!(kv_get_constant(c"calls"), account);
    kv_set(calls, kv_get(calls) + 1);
    credit(account, 1);
    debit(0, 1);
    Status::OK
});
