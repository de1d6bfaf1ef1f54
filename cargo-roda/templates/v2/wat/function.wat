;; A roda-ledger function for ABI v2 (roda-ledger e14b146), by hand.
;;
;; Transfer `amount` (param 2) from `sender` (param 0) to `receiver`
;; (param 1) unless the amount is negative (status 254, NEGATIVE_AMOUNT),
;; the sender is frozen (flag lane 1 is 1: status 200) or cannot pay
;; (status 1), and count the sender's transfers in KV under the
;; constant `transfers` (key transfers/<sender>/0/0).
(module
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (import "ledger" "get_balance" (func $get_balance (param i64) (result i64)))
  (import "ledger" "has_flag" (func $has_flag (param i64 i32 i32) (result i32)))
  (import "ledger" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i64)))
  (import "ledger" "kv_set" (func $kv_set (param i32 i32 i32 i32 i64)))
  (import "ledger" "kv_register_constant" (func $kv_register_constant (param i32)))
  (import "ledger" "kv_get_constant" (func $kv_get_constant (param i32) (result i32)))
  ;; The ledger reads constant names from the exported `memory`.
  (memory (export "memory") 1)
  (data (i32.const 16) "transfers\00")
  ;; Runs once, at registration: defines the constant.
  (func (export "register")
    (call $kv_register_constant (i32.const 16)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (local $transfers i32)
    ;; The ledger takes amounts as i64: a negative one moves value the
    ;; other way.
    (if (i64.lt_s (local.get 2) (i64.const 0))
      (then (return (i32.const 254))))
    (if (call $has_flag (local.get 0) (i32.const 1) (i32.const 1))
      (then (return (i32.const 200))))
    (if (i64.lt_s (call $get_balance (local.get 0)) (local.get 2))
      (then (return (i32.const 1))))
    ;; A KV key component is below 2^31: bit 31 marks a constant.
    (if (i64.ge_u (local.get 0) (i64.const 0x80000000))
      (then (return (i32.const 5))))
    (call $credit (local.get 0) (local.get 2))
    (call $debit (local.get 1) (local.get 2))
    (local.set $transfers (call $kv_get_constant (i32.const 16)))
    (call $kv_set (local.get $transfers) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0)
      (i64.add
        (call $kv_get (local.get $transfers) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0))
        (i64.const 1)))
    (i32.const 0)))
