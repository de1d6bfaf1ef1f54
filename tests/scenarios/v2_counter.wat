;; ABI v2: a per-account counter in KV under the constant `counter`
;; (defined in register()), moving param 1 from account param 0 to the
;; system account. Shared by ledger-core's bench and allocation test and
;; roda-test's fuzz bench.
(module
  (import "ledger" "kv_register_constant" (func $define (param i32)))
  (import "ledger" "kv_get_constant" (func $constant (param i32) (result i32)))
  (import "ledger" "kv_get" (func $get (param i32 i32 i32 i32) (result i64)))
  (import "ledger" "kv_set" (func $set (param i32 i32 i32 i32 i64)))
  (import "ledger" "credit" (func $credit (param i64 i64)))
  (import "ledger" "debit" (func $debit (param i64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "counter\00")
  (func (export "register") (call $define (i32.const 16)))
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (local $c i32)
    (local.set $c (call $constant (i32.const 16)))
    (call $set (local.get $c) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0)
      (i64.add (call $get (local.get $c) (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 0)) (i64.const 1)))
    (call $debit (local.get 0) (local.get 1))
    (call $credit (i64.const 0) (local.get 1))
    (i32.const 0)))
