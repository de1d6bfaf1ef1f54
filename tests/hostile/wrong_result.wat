(module (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i64) i64.const 0))
