(module (memory 1)
  (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1))) i32.const 0))
