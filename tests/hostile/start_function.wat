(module (func $init unreachable) (start $init) (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32) i32.const 0))
