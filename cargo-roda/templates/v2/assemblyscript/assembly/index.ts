import {
  credit, debit, get_balance, has_flag, kv_get, kv_set, kv_get_constant, kv_register_constant,
  INSUFFICIENT_FUNDS, INVALID_OPERATION, NEGATIVE_AMOUNT, NONE,
} from "./ledger";

// Lane 1 of an account's flags: 1 while the account is frozen.
const FROZEN_LANE: u32 = 1;
// What a transfer out of a frozen account fails with.
const ACCOUNT_FROZEN: i32 = 200;

// The constant's name, "transfers" in UTF-8 and NUL-terminated, in a static
// data segment where the ledger reads it (a string built at run time would
// need a `start` function, which a ledger runs outside any transaction).
const TRANSFERS: usize = memory.data<u8>([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72, 0x73, 0x00]);

// Defines the constant the transfer counters are kept under, once, when the
// function is registered.
export function register(): void {
  kv_register_constant(<u32>TRANSFERS);
}

// Transfer `amount` from `sender` to `receiver`, unless it is negative,
// `sender` is frozen or cannot pay; count the sender's transfers in KV (`transfers/<sender>`).
export function execute(
  sender: i64, receiver: i64, amount: i64, _p3: i64,
  _p4: i64, _p5: i64, _p6: i64, _p7: i64,
): i32 {
  // A negative amount would move value the other way (the ledger takes
  // amounts as i64): refuse it.
  if (amount < 0) {
    return NEGATIVE_AMOUNT;
  }
  if (has_flag(<u64>sender, FROZEN_LANE, 1) != 0) {
    return ACCOUNT_FROZEN;
  }
  if (get_balance(<u64>sender) < amount) {
    return INSUFFICIENT_FUNDS;
  }
  // A KV key component is below 2^31: bit 31 marks a constant.
  if (<u64>sender >= 0x8000_0000) {
    return INVALID_OPERATION;
  }
  credit(<u64>sender, <u64>amount);
  debit(<u64>receiver, <u64>amount);
  const transfers = kv_get_constant(<u32>TRANSFERS);
  kv_set(transfers, <u32>sender, 0, 0, kv_get(transfers, <u32>sender, 0, 0) + 1);
  return NONE;
}
