//! Fuzz target: the dig-syntax command-line parser on arbitrary word
//! lists (the input split at NUL bytes), then `Config::plan` on what
//! parses. Nothing may panic: bad words must be a `CliError`. The plan
//! opens no file the words name (`-k`, `+tls-ca`, `--scrub-key`: a FIFO
//! there would block the fuzzer); `Plan::load` reads those and is not
//! fuzzed here.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let words = std::iter::once("qtap".to_owned()).chain(
        data.split(|&b| b == 0)
            .take(64)
            .map(|w| String::from_utf8_lossy(w).into_owned()),
    );
    if let Ok(args) = qtap::cli::parse(words) {
        // A resolv.conf that does not exist: the config falls back, no I/O
        // beyond the failed open.
        let _ = qtap::config::Config::plan(args, std::path::Path::new("no-such-resolv.conf"));
    }
});
