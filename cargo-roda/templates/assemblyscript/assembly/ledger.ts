// The roda-ledger host API for AssemblyScript functions.
//
// credit subtracts, debit adds; neither fails on its own; balances saturate.
// get_balance includes this transaction's own moves.

@external("ledger", "credit")
export declare function credit(account_id: u64, amount: u64): void;

@external("ledger", "debit")
export declare function debit(account_id: u64, amount: u64): void;

@external("ledger", "get_balance")
export declare function get_balance(account_id: u64): i64;

// Standard statuses. Your own codes are 128..=255; 8..=127 are reserved.
export const NONE: i32 = 0;
export const INSUFFICIENT_FUNDS: i32 = 1;
export const ACCOUNT_NOT_FOUND: i32 = 2;
export const ZERO_SUM_VIOLATION: i32 = 3;
export const ENTRY_LIMIT_EXCEEDED: i32 = 4;
export const INVALID_OPERATION: i32 = 5;
export const ACCOUNT_LIMIT_EXCEEDED: i32 = 6;
export const DUPLICATE: i32 = 7;
