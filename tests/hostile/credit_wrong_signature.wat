(module (import "ledger" "credit" (func (param i32 i64))) (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))
