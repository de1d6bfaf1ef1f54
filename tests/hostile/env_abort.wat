;; What AssemblyScript emits for `assert` without `--use abort=`.
(module (import "env" "abort" (func (param i32 i32 i32 i32))) (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))
