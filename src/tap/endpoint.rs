//! Where Frame Streams go over a socket: `unix:PATH` or `tcp:ADDR:PORT`
//! ([`Endpoint`]), as `--read`, `--replay` and `--tap` take them, and the
//! mode and owner of a Unix socket file qtap creates ([`SocketOpts`]).
//! Pure: parsing and display only.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where a collector listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:PATH`: a Unix stream socket at PATH.
    Unix(PathBuf),
    /// `tcp:ADDR:PORT`: a TCP socket (`tcp:[::1]:6000` for IPv6).
    Tcp(SocketAddr),
}

impl Endpoint {
    /// `unix:PATH` or `tcp:ADDR:PORT`; None for anything else (a file).
    /// Err for a `tcp:` or `unix:` form that does not parse.
    pub fn parse(text: &std::ffi::OsStr) -> Option<Result<Endpoint, String>> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = text.as_bytes();
        if let Some(path) = bytes.strip_prefix(b"unix:") {
            if path.is_empty() {
                return Some(Err("unix: needs a socket path".to_owned()));
            }
            return Some(Ok(Endpoint::Unix(PathBuf::from(
                std::ffi::OsStr::from_bytes(path),
            ))));
        }
        let addr = bytes.strip_prefix(b"tcp:")?;
        let parsed = std::str::from_utf8(addr)
            .ok()
            .and_then(|a| a.parse::<SocketAddr>().ok());
        Some(parsed.map(Endpoint::Tcp).ok_or_else(|| {
            format!(
                "bad address \"{}\" (tcp:ADDR:PORT, e.g. tcp:127.0.0.1:6000 or tcp:[::1]:6000)",
                crate::render::escaped(bytes)
            )
        }))
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::os::unix::ffi::OsStrExt;
        match self {
            Endpoint::Unix(p) => write!(
                f,
                "unix:{}",
                crate::render::escaped(p.as_os_str().as_bytes())
            ),
            Endpoint::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// Mode and owner of a Unix socket file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketOpts {
    /// Permission bits (e.g. 0o660); None: what the umask gives.
    pub mode: Option<u32>,
    /// Owner user id; None: unchanged.
    pub uid: Option<u32>,
    /// Owner group id; None: unchanged.
    pub gid: Option<u32>,
}
