//! Compiles `proto/dnstap.proto` into Rust with prost, using protox as a
//! pure-Rust protobuf compiler so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/dnstap.proto");
    let fds = protox::compile(["proto/dnstap.proto"], ["proto/"])?;
    // Bytes fields decode as `bytes::Bytes`, so payloads and DNS messages are
    // slices of the frame buffer rather than copies.
    prost_build::Config::new().bytes(["."]).compile_fds(fds)?;
    Ok(())
}
