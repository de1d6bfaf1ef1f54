import { credit, debit, get_balance, INSUFFICIENT_FUNDS, NONE } from "./ledger";

// Transfer `amount` from `sender` to `receiver`, taking a `fee_bps` (basis
// points, 50 = 0.5%) fee into `fee_account`.
export function execute(
  sender: i64, receiver: i64, fee_account: i64, amount: i64,
  fee_bps: i64, _p5: i64, _p6: i64, _p7: i64,
): i32 {
  const fee = <u64>amount * <u64>fee_bps / 10_000;
  const total = <u64>amount + fee;
  if (get_balance(<u64>sender) < <i64>total) {
    return INSUFFICIENT_FUNDS;
  }
  credit(<u64>sender, total);
  debit(<u64>receiver, <u64>amount);
  debit(<u64>fee_account, fee);
  return NONE;
}
