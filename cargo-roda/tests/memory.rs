//! A guest cannot take `cargo roda dev` down: modules built to exhaust
//! memory stay within the server's budget, measured on the real process.

mod support;

use ledger_core::{Operation, Status};
use roda_rpc::client::{Client, Endpoint, WaitLevel};
use support::dev::DevServer;

/// The dev server's resident memory, from /proc.
fn resident_mib(server: &DevServer) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib >> 10
}

/// A function whose memory of `pages` pages is all written on every call,
/// so it is resident for as long as the instance lives.
fn toucher(pages: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module (memory {pages})
             (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
               (memory.fill (i32.const 0) (i32.const 1) (i32.const {bytes}))
               i32.const 0))"#,
        bytes = pages * 65536
    ))
    .unwrap()
}

#[test]
fn functions_built_to_exhaust_memory_stay_within_the_budget() {
    // 8 functions of 32 MiB each, written in full: 256 MiB if every instance
    // stayed cached, as on a server. The budget holds them to 64 MiB.
    // memory.fill costs fuel per byte: give it plenty.
    let server =
        DevServer::start(&["--max-instance-memory", "32", "--max-cached-memory", "64", "--fuel", "100000000000"]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let before = resident_mib(&server);
    let mut peak = before;
    runtime.block_on(async {
        let client = Client::connect(&Endpoint::new(server.url.clone())).await.unwrap();
        let toucher = toucher(512);
        for i in 0..8 {
            client.register(&format!("big{i}"), &toucher, false).await.unwrap();
        }
        for round in 0..2 {
            for i in 0..8 {
                let op = Operation::Function { name: format!("big{i}"), params: vec![], user_ref: 0 };
                let result = client.submit(&op, WaitLevel::Committed).await.unwrap();
                assert_eq!(result.status, Status::NONE, "round {round}, big{i}");
                peak = peak.max(resident_mib(&server));
            }
        }
        // A memory.grow bomb is stopped at the instance limit, status 5.
        let bomb = wat::parse_str(
            r#"(module (memory 1)
                 (func (export "execute") (param i64 i64 i64 i64 i64 i64 i64 i64) (result i32)
                   (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) i32.const 0))"#,
        )
        .unwrap();
        client.register("bomb", &bomb, false).await.unwrap();
        let op = Operation::Function { name: "bomb".into(), params: vec![], user_ref: 0 };
        assert_eq!(client.submit(&op, WaitLevel::Committed).await.unwrap().status, Status::INVALID_OPERATION);
        peak = peak.max(resident_mib(&server));
    });
    let grown = peak - before;
    eprintln!("resident: {before} MiB at start, peak {peak} MiB (+{grown} MiB)");
    // The budget (64 MiB) plus compiled code and buffers, far below the
    // 256 MiB the instances would hold without it.
    assert!(grown < 64 + 48, "the dev server grew by {grown} MiB: over its 64 MiB budget");
    assert_eq!(server.stop().code(), Some(0));
}
