//! Generates the gRPC client and server from `proto/` with a pure-Rust
//! proto compiler, so building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let ledger = protox::compile(["proto/ledger.proto"], ["proto"])?;
    // The descriptors the dev servers answer reflection with, as the servers do.
    std::fs::write(out.join("ledger_descriptor.bin"), prost::Message::encode_to_vec(&ledger))?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(ledger)?;
    // HEAD's shapes share the package name, so they go to their own directory.
    let head_dir = out.join("head");
    std::fs::create_dir_all(&head_dir)?;
    let head = protox::compile(["proto/head.proto"], ["proto"])?;
    std::fs::write(out.join("head_descriptor.bin"), prost::Message::encode_to_vec(&head))?;
    tonic_prost_build::configure().build_client(true).build_server(true).out_dir(&head_dir).compile_fds(head)?;
    Ok(())
}
