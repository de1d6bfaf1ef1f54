(module (memory (export "execute") 1))
