//! Stage two of the command line: a validated plan for the run.
//!
//! [`Config::from_args`] turns [`crate::cli::Args`] into what `app` needs:
//! the mode (query or read), the server to ask, display options, the trace
//! target. This is where the environment is consulted (/etc/resolv.conf,
//! whether stdout is a terminal, NO_COLOR), so `cli` can stay pure.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::path::PathBuf;

use crate::cli::{Args, ColorChoice};
use crate::query::spec::{QuerySpec, TapType, Transport};
use crate::render::DisplayOpts;
use crate::render::Format;

/// The default DNS port.
pub const DNS_PORT: u16 = 53;

/// Where queries go: an address or a host name, and the port if one was
/// given (else each query uses its transport's default port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    /// The host.
    pub host: ServerHost,
    /// `-p`, or the port of an `@https://host:port/` URL.
    pub port: Option<u16>,
}

/// The server's host part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerHost {
    /// An address; for IPv6 the scope id is kept in the `SocketAddr` (port unused).
    Addr(SocketAddr),
    /// A host name, resolved with the system resolver.
    Name(String),
}

impl ServerSpec {
    /// The server as the user named it.
    pub fn label(&self) -> String {
        match &self.host {
            ServerHost::Addr(a) => a.ip().to_string(),
            ServerHost::Name(h) => h.clone(),
        }
    }

    /// The host name, if the server was given by name (used to verify TLS).
    pub fn name(&self) -> Option<&str> {
        match &self.host {
            ServerHost::Name(h) => Some(h),
            ServerHost::Addr(_) => None,
        }
    }
}

/// The trace to write in live mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapTarget {
    /// File path; `-` means standard output.
    pub path: PathBuf,
    /// STUB_* or TOOL_*.
    pub kind: TapType,
    /// Dnstap.identity, if the user asked for one.
    pub identity: Option<String>,
}

/// What the run does.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Send queries.
    Query {
        /// The server.
        server: ServerSpec,
        /// `-4` / `-6`.
        family: Option<u8>,
        /// The lookups.
        queries: Vec<QuerySpec>,
        /// The trace, if any.
        tap: Option<TapTarget>,
        /// A warning to show first (e.g. no resolv.conf).
        warning: Option<String>,
    },
    /// Render dnstap files.
    Read {
        /// The files; `-` is standard input.
        files: Vec<PathBuf>,
        /// Largest data frame to accept.
        max_frame: usize,
    },
}

/// The validated run plan.
#[derive(Clone, Debug)]
pub struct Config {
    /// Query or read.
    pub mode: Mode,
    /// Display options.
    pub display: DisplayOpts,
    /// Whether to colour the output.
    pub color: bool,
}

/// The first usable `nameserver` of a resolv.conf text, if any. IPv6
/// addresses may carry a scope (`fe80::1%eth0` or `%2`); `scope_index`
/// turns an interface name into its index.
pub fn first_nameserver(
    text: &str,
    family: Option<u8>,
    scope_index: impl Fn(&str) -> Option<u32>,
) -> Option<SocketAddr> {
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        let Some(value) = words.next() else { continue };
        let (addr_text, scope) = match value.split_once('%') {
            Some((a, s)) => (a, Some(s)),
            None => (value, None),
        };
        let Ok(ip) = addr_text.parse::<IpAddr>() else {
            continue;
        };
        let addr = match ip {
            IpAddr::V4(_) if family == Some(6) => continue,
            IpAddr::V6(_) if family == Some(4) => continue,
            IpAddr::V4(_) => SocketAddr::new(ip, DNS_PORT),
            IpAddr::V6(v6) => {
                let scope_id = match scope {
                    Some(s) => match s.parse::<u32>() {
                        Ok(n) => n,
                        Err(_) => scope_index(s).unwrap_or(0),
                    },
                    None => 0,
                };
                SocketAddr::V6(SocketAddrV6::new(v6, DNS_PORT, 0, scope_id))
            }
        };
        return Some(addr);
    }
    None
}

fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (index != 0).then_some(index)
}

/// Parses `@server` text: an address (IPv6 may have a scope, and may be in
/// brackets) or a host name.
pub fn parse_server(text: &str, port: Option<u16>) -> ServerSpec {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let host = match bare.parse::<IpAddr>() {
        Ok(ip) => ServerHost::Addr(SocketAddr::new(ip, 0)),
        Err(_) => match first_nameserver(&format!("nameserver {bare}"), None, interface_index) {
            Some(addr) => ServerHost::Addr(addr),
            None => ServerHost::Name(bare.to_owned()),
        },
    };
    ServerSpec { host, port }
}

/// Splits `https://host[:port]/path` into host, port and path.
pub fn parse_https_url(url: &str) -> Option<(String, Option<u16>, String)> {
    let rest = url.strip_prefix("https://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, crate::cli::DEFAULT_DOH_PATH.to_owned()),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p.parse().ok()?)),
            None => (authority.to_owned(), None),
        }
    };
    (!host.is_empty()).then_some((host, port, path))
}

/// Reads the `-f` batch file: its lookup lines (dig's syntax), each with
/// its line number; blank lines and `;`/`#` comments are skipped. The
/// words are parsed by the command line layer ([`crate::cli::add_batch`]).
pub fn read_batch(path: &std::path::Path) -> Result<Vec<(usize, String)>, crate::error::Error> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::error::Error::Batch {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        lines.push((n + 1, line.to_owned()));
    }
    Ok(lines)
}

impl Config {
    /// Builds the plan, reading `resolv_conf` (normally /etc/resolv.conf)
    /// when no server was given.
    pub fn from_args(args: Args, resolv_conf: &std::path::Path) -> Config {
        let mut display = args.display.clone();
        if display.format.is_none() && args.cli.format != Format::Text {
            display.format = Some(args.cli.format);
        }
        display.short |= display.format == Some(Format::Short);
        let color = resolve_color(args.cli.color);
        if !args.cli.read.is_empty() {
            return Config {
                mode: Mode::Read {
                    files: args.cli.read.clone(),
                    max_frame: args.cli.max_frame_size,
                },
                display,
                color,
            };
        }
        let mut warning = None;
        let mut queries = args.queries;
        let server = match &args.server {
            Some(text) if text.starts_with("https://") => match parse_https_url(text) {
                Some((host, url_port, path)) => {
                    for q in &mut queries {
                        if q.opts.transport == Transport::Udp {
                            q.opts.transport = Transport::Https {
                                path: path.clone(),
                                get: false,
                            };
                        }
                    }
                    parse_server(&host, args.port.or(url_port))
                }
                None => parse_server(text, args.port),
            },
            Some(text) => parse_server(text, args.port),
            None => {
                let text = std::fs::read_to_string(resolv_conf).unwrap_or_default();
                match first_nameserver(&text, args.family, interface_index) {
                    Some(addr) => ServerSpec {
                        host: ServerHost::Addr(addr),
                        port: args.port,
                    },
                    None => {
                        warning = Some(format!(
                            ";; WARNING: no nameserver found in {}, using 127.0.0.1",
                            resolv_conf.display()
                        ));
                        ServerSpec {
                            host: ServerHost::Addr(SocketAddr::new([127, 0, 0, 1].into(), 0)),
                            port: args.port,
                        }
                    }
                }
            }
        };
        if display.qr {
            // +qr shows what was negotiated too, as kdig does.
            for q in &mut queries {
                q.opts.tls.info = true;
            }
        }
        if queries
            .iter()
            .any(|q| q.opts.tls.insecure && q.opts.transport.is_encrypted())
        {
            warning = Some(
                ";; WARNING: +tls-insecure: the server certificate is NOT verified".to_owned(),
            );
        }
        let tap = args.cli.tap.clone().map(|path| TapTarget {
            path,
            kind: args.cli.tap_type,
            identity: args.cli.tap_identity.clone(),
        });
        Config {
            mode: Mode::Query {
                server,
                family: args.family,
                queries,
                tap,
                warning,
            },
            display,
            color,
        }
    }
}

/// `auto`: stdout is a terminal, NO_COLOR is unset or empty, TERM is not dumb.
fn resolve_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<u32> {
        None
    }

    #[test]
    fn resolv_conf_first_nameserver() {
        let text = "# comment\nsearch example\nnameserver 192.0.2.1\nnameserver 2001:db8::1\n";
        assert_eq!(
            first_nameserver(text, None, none),
            Some("192.0.2.1:53".parse().unwrap())
        );
        assert_eq!(
            first_nameserver(text, Some(6), none),
            Some("[2001:db8::1]:53".parse().unwrap())
        );
        assert_eq!(first_nameserver("nameserver bogus\n", None, none), None);
        assert_eq!(first_nameserver("", None, none), None);
    }

    #[test]
    fn resolv_conf_scope_ids() {
        let got = first_nameserver("nameserver fe80::1%eth7\n", None, |n| {
            (n == "eth7").then_some(7)
        });
        match got {
            Some(SocketAddr::V6(a)) => assert_eq!(a.scope_id(), 7),
            other => panic!("{other:?}"),
        }
        match first_nameserver("nameserver fe80::1%3\n", None, none) {
            Some(SocketAddr::V6(a)) => assert_eq!(a.scope_id(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_text() {
        let addr = |s: &str| ServerHost::Addr(s.parse().unwrap());
        assert_eq!(parse_server("::1", Some(5353)).host, addr("[::1]:0"));
        assert_eq!(parse_server("::1", Some(5353)).port, Some(5353));
        assert_eq!(
            parse_server("[2001:db8::1]", None).host,
            addr("[2001:db8::1]:0")
        );
        assert_eq!(
            parse_server("ns.example", None).host,
            ServerHost::Name("ns.example".into())
        );
    }

    #[test]
    fn https_urls() {
        assert_eq!(
            parse_https_url("https://dns.example/q"),
            Some(("dns.example".into(), None, "/q".into()))
        );
        assert_eq!(
            parse_https_url("https://127.0.0.1:8443"),
            Some(("127.0.0.1".into(), Some(8443), "/dns-query".into()))
        );
        assert_eq!(
            parse_https_url("https://[::1]:443/dns"),
            Some(("::1".into(), Some(443), "/dns".into()))
        );
        assert_eq!(parse_https_url("https://:1/"), None);
        assert_eq!(parse_https_url("http://x/"), None);
        let args = crate::cli::parse(["qtap", "@https://127.0.0.1:8443/q", "x.example"]).unwrap();
        let c = Config::from_args(args, std::path::Path::new("/nonexistent"));
        match c.mode {
            Mode::Query {
                server, queries, ..
            } => {
                assert_eq!(server.port, Some(8443));
                assert_eq!(
                    queries[0].opts.transport,
                    Transport::Https {
                        path: "/q".into(),
                        get: false
                    }
                );
            }
            Mode::Read { .. } => panic!("query mode expected"),
        }
    }

    #[test]
    fn missing_resolv_conf_falls_back_with_a_warning() {
        let args = crate::cli::parse(["qtap", "example.com"]).unwrap();
        let c = Config::from_args(args, std::path::Path::new("/nonexistent/resolv.conf"));
        match c.mode {
            Mode::Query {
                server, warning, ..
            } => {
                assert_eq!(
                    server.host,
                    ServerHost::Addr("127.0.0.1:0".parse().unwrap())
                );
                assert!(warning.unwrap().contains("127.0.0.1"));
            }
            Mode::Read { .. } => panic!("query mode expected"),
        }
    }
}
