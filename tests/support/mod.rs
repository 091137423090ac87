//! Test support shared by the integration modules: an in-process
//! hickory-server serving the qtap.test zone (`server`), a scripted hostile
//! responder (`hostile`) and a few helpers to run qtap and pick its output
//! apart.
//!
//! Nothing here asserts on qtap's behaviour; the test modules do that.

#![allow(dead_code)]

pub mod hostile;
pub mod server;

use std::time::Duration;

pub use hostile::{Hostile, Reply};
pub use server::TestServer;

/// The qtap binary from a scrubbed environment (only PATH, TZ=UTC) with
/// `--color=never`, and a generous timeout so a hang fails the test instead
/// of the whole run.
pub fn qtap_cmd() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("qtap").expect("qtap binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TZ", "UTC")
        .timeout(Duration::from_secs(60))
        .arg("--color=never");
    cmd
}

/// qtap aimed at `@127.0.0.1 -p <port>`.
pub fn qtap_at(port: &str) -> assert_cmd::Command {
    let mut cmd = qtap_cmd();
    cmd.args(["@127.0.0.1", "-p", port]);
    cmd
}

/// What a finished qtap run produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to completion.
    pub fn of(cmd: &mut assert_cmd::Command) -> Run {
        let out = cmd.output().expect("run qtap");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The lines of the section headed `;; <name> SECTION:` in the `nth`
    /// message (0-based), up to the blank line that ends it.
    pub fn section(&self, nth: usize, name: &str) -> Vec<&str> {
        section(&self.stdout, nth, name)
    }

    /// The `;; flags: ...` lines, in order.
    pub fn flags_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(";; flags:"))
            .collect()
    }

    /// The `;; ->>HEADER<<-` lines, in order.
    pub fn headers(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(";; ->>HEADER<<-"))
            .collect()
    }
}

/// The lines of the `nth` (0-based) `;; <name> SECTION:` block of `text`.
pub fn section<'a>(text: &'a str, nth: usize, name: &str) -> Vec<&'a str> {
    let heading = format!(";; {name} SECTION:");
    let mut lines = text.lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        if line == heading {
            if seen == nth {
                return lines.by_ref().take_while(|l| !l.is_empty()).collect();
            }
            seen += 1;
        }
    }
    Vec::new()
}

/// The flag words of a `;; flags: qr aa rd; QUERY: ...` line.
pub fn flags_of(line: &str) -> Vec<&str> {
    line.strip_prefix(";; flags:")
        .and_then(|rest| rest.split(';').next())
        .map(|f| f.split_whitespace().collect())
        .unwrap_or_default()
}
