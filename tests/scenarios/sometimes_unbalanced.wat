;; A fee transfer that pays the fee account one unit too much when the fee
;; is exactly 77 bps on more than 1000: only the fuzzer finds it.
(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (import "ledger" "get_balance" (func $get_balance (param i64) (result i64)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (local $fee i64)
    (local.set $fee (i64.div_u (i64.mul (local.get 3) (local.get 4)) (i64.const 10000)))
    (if (i64.lt_s (call $get_balance (local.get 0)) (i64.add (local.get 3) (local.get $fee)))
      (then (return (i32.const 1))))
    (call $credit (local.get 0) (i64.add (local.get 3) (local.get $fee)))
    (call $debit (local.get 1) (local.get 3))
    (if (i32.and (i64.eq (local.get 4) (i64.const 77)) (i64.gt_u (local.get 3) (i64.const 1000)))
      (then (local.set $fee (i64.add (local.get $fee) (i64.const 1)))))
    (call $debit (local.get 2) (local.get $fee))
    (i32.const 0)))
