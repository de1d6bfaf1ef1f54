import { credit, debit, get_balance, INSUFFICIENT_FUNDS, NEGATIVE_AMOUNT, NONE } from "./ledger";

// A fee above 100% (10_000 basis points).
export const FEE_TOO_HIGH: i32 = 201;
// The most a balance holds: a total beyond it cannot be paid.
const MAX_AMOUNT: u64 = <u64>i64.MAX_VALUE;

// Transfer `amount` from `sender` to `receiver`, taking a `fee_bps` (basis
// points, 50 = 0.5%) fee into `fee_account`.
export function execute(
  sender: i64, receiver: i64, fee_account: i64, amount: i64,
  fee_bps: i64, _p5: i64, _p6: i64, _p7: i64,
): i32 {
  // A negative amount would move value the other way (the ledger takes
  // amounts as i64): refuse it.
  if (amount < 0) {
    return NEGATIVE_AMOUNT;
  }
  if (<u64>fee_bps > 10_000) {
    return FEE_TOO_HIGH;
  }
  // amount * fee_bps / 10_000, in two parts so that nothing overflows.
  const fee = <u64>amount / 10_000 * <u64>fee_bps + <u64>amount % 10_000 * <u64>fee_bps / 10_000;
  const total = <u64>amount + fee;
  if (total > MAX_AMOUNT || get_balance(<u64>sender) < <i64>total) {
    return INSUFFICIENT_FUNDS;
  }
  credit(<u64>sender, total);
  debit(<u64>receiver, <u64>amount);
  debit(<u64>fee_account, fee);
  return NONE;
}
