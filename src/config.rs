//! Stage two of the command line: a validated plan for the run.
//!
//! [`Config::from_args`] turns [`crate::cli::Args`] into what `app` needs:
//! the mode (query or read), the server to ask, display options, the trace
//! target. This is where the environment is consulted (/etc/resolv.conf,
//! whether stdout is a terminal, NO_COLOR), so `cli` can stay pure.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::path::PathBuf;

use crate::cli::{Args, ColorChoice, Format, QuerySpec, TapType};
use crate::render::DisplayOpts;

/// The default DNS port.
pub const DNS_PORT: u16 = 53;

/// Where queries go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerSpec {
    /// An address (with the port already applied).
    Addr(SocketAddr),
    /// A host name to resolve with the system resolver, and the port.
    Host(String, u16),
}

impl ServerSpec {
    /// The server as the user named it (for the SERVER line and messages).
    pub fn label(&self) -> String {
        match self {
            ServerSpec::Addr(a) => a.ip().to_string(),
            ServerSpec::Host(h, _) => h.clone(),
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

/// Parses `@server` text: an address (IPv6 may have a scope) or a host name.
pub fn parse_server(text: &str, port: u16) -> ServerSpec {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return ServerSpec::Addr(SocketAddr::new(ip, port));
    }
    if let Some(addr) = first_nameserver(&format!("nameserver {bare}"), None, interface_index) {
        return ServerSpec::Addr(SocketAddr::new(addr.ip(), port)).with_scope(addr);
    }
    ServerSpec::Host(bare.to_owned(), port)
}

impl ServerSpec {
    fn with_scope(self, from: SocketAddr) -> ServerSpec {
        match (self, from) {
            (ServerSpec::Addr(SocketAddr::V6(a)), SocketAddr::V6(f)) => ServerSpec::Addr(
                SocketAddr::V6(SocketAddrV6::new(*a.ip(), a.port(), 0, f.scope_id())),
            ),
            (s, _) => s,
        }
    }
}

impl Config {
    /// Builds the plan, reading `resolv_conf` (normally /etc/resolv.conf)
    /// when no server was given.
    pub fn from_args(args: Args, resolv_conf: &std::path::Path) -> Config {
        let d = &args.display;
        let display = DisplayOpts {
            cmd: d.cmd,
            comments: d.comments,
            question: d.question,
            answer: d.answer,
            authority: d.authority,
            additional: d.additional,
            stats: d.stats,
            qr: d.qr,
            short: d.short || args.cli.format == Format::Short,
            ignore_tc: d.ignore_tc,
            rdata: Default::default(),
        };
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
        let port = args.port.unwrap_or(DNS_PORT);
        let mut warning = None;
        let server = match &args.server {
            Some(text) => parse_server(text, port),
            None => {
                let text = std::fs::read_to_string(resolv_conf).unwrap_or_default();
                match first_nameserver(&text, args.family, interface_index) {
                    Some(addr) => {
                        ServerSpec::Addr(SocketAddr::new(addr.ip(), port)).with_scope(addr)
                    }
                    None => {
                        warning = Some(format!(
                            ";; WARNING: no nameserver found in {}, using 127.0.0.1",
                            resolv_conf.display()
                        ));
                        ServerSpec::Addr(SocketAddr::new([127, 0, 0, 1].into(), port))
                    }
                }
            }
        };
        let tap = args.cli.tap.clone().map(|path| TapTarget {
            path,
            kind: args.cli.tap_type,
            identity: args.cli.tap_identity.clone(),
        });
        Config {
            mode: Mode::Query {
                server,
                family: args.family,
                queries: args.queries,
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
        assert_eq!(
            parse_server("::1", 5353),
            ServerSpec::Addr("[::1]:5353".parse().unwrap())
        );
        assert_eq!(
            parse_server("[2001:db8::1]", 53),
            ServerSpec::Addr("[2001:db8::1]:53".parse().unwrap())
        );
        assert_eq!(
            parse_server("ns.example", 53),
            ServerSpec::Host("ns.example".into(), 53)
        );
    }

    #[test]
    fn missing_resolv_conf_falls_back_with_a_warning() {
        let args = crate::cli::parse(["qtap", "example.com"]).unwrap();
        let c = Config::from_args(args, std::path::Path::new("/nonexistent/resolv.conf"));
        match c.mode {
            Mode::Query {
                server, warning, ..
            } => {
                assert_eq!(server, ServerSpec::Addr("127.0.0.1:53".parse().unwrap()));
                assert!(warning.unwrap().contains("127.0.0.1"));
            }
            Mode::Read { .. } => panic!("query mode expected"),
        }
    }
}
