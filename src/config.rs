//! Stage two of the command line: a validated plan for the run.
//!
//! [`Config::from_args`] turns [`crate::cli::Args`] into what `app` needs:
//! the mode (query or read), the server to ask, display options, the trace
//! target. This is where the environment is consulted (/etc/resolv.conf,
//! whether stdout is a terminal, NO_COLOR), so `cli` can stay pure.
//!
//! It runs in two steps: [`Config::plan`] validates and opens no file the
//! user named, [`Plan::load`] then reads those (`-k`, `+tls-ca` and the
//! other TLS files, `--scrub-key`). The first step can be fuzzed: a FIFO
//! named on the command line cannot block it.

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
    /// Listen for live dnstap (`--read unix:…`/`tcp:…`), render what
    /// arrives, save it with `--write`.
    Collect {
        /// The `--read` inputs: endpoints and files, in order.
        inputs: Vec<PathBuf>,
        /// Largest data frame to accept.
        max_frame: usize,
        /// `--write` and its rotation.
        output: crate::run::collect::Output,
        /// Mode and owner of Unix socket files.
        socket: crate::tap::endpoint::SocketOpts,
        /// False with `--no-output`.
        render: bool,
        /// `--max-connections`.
        max_connections: usize,
        /// `--collector-buffer`: memory the queued reads hold at most.
        queue_bytes: usize,
        /// `--until-closed`: end once every sender has left.
        until_closed: bool,
    },
    /// Render dnstap files.
    Read {
        /// The files; `-` is standard input.
        files: Vec<PathBuf>,
        /// Largest data frame to accept.
        max_frame: usize,
        /// The selection options.
        filter: crate::select::Filter,
        /// `--scrub`, with its key.
        scrub: Option<ScrubSpec>,
        /// What to make of the selected frames.
        output: ReadOutput,
    },
    /// `--replay`: send a trace's queries again and compare.
    Replay {
        /// The server.
        server: ServerSpec,
        /// `-4` / `-6`.
        family: Option<u8>,
        /// The lookup settings every replayed query takes (transport,
        /// limits, TLS); its question is replaced by each query's.
        template: Box<QuerySpec>,
        /// `--tap`: the replay's own exchanges.
        tap: Option<TapTarget>,
        /// A warning to show first.
        warning: Option<String>,
        /// The replay's own options.
        opts: crate::replay::ReplayOpts,
    },
    /// `--hex`: render DNS messages given as text (`-`: from stdin).
    Hex(Vec<String>),
    /// `--wire FILE`: render the DNS message in FILE.
    Wire(PathBuf),
}

pub use crate::run::view::ReadOutput;
pub use crate::scrub::ScrubSpec;

/// Reads `--scrub-key FILE`.
fn read_scrub_key(path: &std::path::Path) -> Result<[u8; 32], crate::error::Error> {
    use std::io::Read;
    let name = || crate::render::escaped(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(1024).read_to_end(&mut bytes))
        .map_err(|e| crate::error::Error::Config(format!("--scrub-key {}: {e}", name())))?;
    crate::scrub::key_from_bytes(&bytes)
        .map_err(|e| crate::error::Error::Config(format!("--scrub-key {}: {e}", name())))
}

/// The files a command line names, read by [`Plan::load`].
#[derive(Clone, Debug, Default)]
struct NamedFiles {
    /// `-k FILE`: the TSIG key of every query.
    tsig: Option<PathBuf>,
    /// The TLS settings whose CA, certificate and key files are checked.
    tls: Vec<crate::query::spec::TlsOpts>,
    /// `--scrub-key FILE`.
    scrub_key: Option<PathBuf>,
    /// `-f FILE` (already read: named here so no output overwrites it).
    batch: Option<PathBuf>,
}

/// A [`Config`] validated without reading the files the command line
/// names; [`Plan::load`] reads them.
#[derive(Clone, Debug)]
pub struct Plan {
    config: Config,
    files: NamedFiles,
}

impl Plan {
    /// Reads the named files into the configuration: the `-k` key goes to
    /// every query, the `+hints` files and the TLS files are parsed (so a missing, huge or
    /// malformed one is a usage error before any network work and before
    /// the async runtime, where a long read would block signals), the
    /// scrub key goes to the scrubber. Each file is read with a size cap.
    pub fn load(self) -> Result<Config, crate::error::Error> {
        let Plan { mut config, files } = self;
        {
            use std::io::IsTerminal;
            use std::os::fd::AsFd;
            let stdout = std::io::stdout();
            let stdout_file = stdout
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .and_then(|fd| std::fs::File::from(fd).metadata().ok());
            check_outputs(&config, &files, stdout.is_terminal(), stdout_file.as_ref())?;
        }
        if let Some(path) = &files.tsig {
            let key = tsig_key_file(path).map_err(crate::error::Error::Config)?;
            match &mut config.mode {
                Mode::Query { queries, .. } => {
                    for q in queries {
                        q.opts.tsig = Some(key.clone());
                    }
                }
                Mode::Replay { template, .. } => template.opts.tsig = Some(key),
                _ => {}
            }
        }
        if let Mode::Query { queries, .. } = &mut config.mode {
            for q in queries {
                load_hints(&mut q.opts)?;
            }
        }
        for tls in &files.tls {
            crate::query::tls::check_files(tls).map_err(crate::error::Error::Config)?;
        }
        if let Some(path) = &files.scrub_key {
            let key = read_scrub_key(path)?;
            match &mut config.mode {
                Mode::Read {
                    scrub: Some(spec), ..
                } => spec.key = Some(key),
                Mode::Collect { output, .. } => {
                    if let Some(spec) = output.scrub.as_mut() {
                        spec.key = Some(key);
                    }
                }
                _ => {}
            }
        }
        Ok(config)
    }
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
    /// A warning about the command line, shown before anything else.
    pub notice: Option<String>,
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
    crate::sys::if_nametoindex(name)
}

/// The transport an `@scheme://` server URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `udp://`
    Udp,
    /// `tcp://`
    Tcp,
    /// `tls://` (DNS over TLS)
    Tls,
    /// `https://` (DNS over HTTPS)
    Https,
    /// `quic://` (DNS over QUIC)
    Quic,
}

/// `@server` text taken apart: the host, the port it names (if any), and
/// for URL forms the scheme and the DoH path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerText {
    /// The host, without brackets.
    pub host: String,
    /// `#port`, `:port`, `@port` or the URL's port.
    pub port: Option<u16>,
    /// The URL scheme, if the server was written as a URL.
    pub scheme: Option<Scheme>,
    /// For `https://`, the path and query (default `/dns-query`).
    pub path: Option<String>,
}

fn parse_port(text: &str, server: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .map_err(|_| format!("invalid port {text:?} in server {server:?}"))
}

/// Splits `@server` text (without the `@`). The forms, as kdig and the URL
/// tools (q, doggo) take them:
///
/// - `host`, `192.0.2.1`, `2001:db8::1`, `fe80::1%eth0`, `[2001:db8::1]`
/// - `host#port`, `[2001:db8::1]#port`, `2001:db8::1#port`, `host@port`
/// - `host:port` (one colon only), `[2001:db8::1]:port`
/// - `udp://`, `tcp://`, `tls://`, `quic://host[:port]`, and
///   `https://host[:port][/path]`, parsed as URIs; a `user@` part is refused.
///
/// Host names are not checked here (the resolver does that).
pub fn split_server(text: &str) -> Result<ServerText, String> {
    if let Some((scheme, _)) = text.split_once("://") {
        return split_url(text, scheme);
    }
    let bad = |why: &str| format!("bad server {text:?}: {why}");
    // `#port` (kdig, dig's own output) and kdig's `@port`.
    let (host, port) = match text.rsplit_once(['#', '@']) {
        Some((h, p)) => (h, Some(parse_port(p, text)?)),
        None => (text, None),
    };
    let (host, port) = if let Some(inner) = host.strip_prefix('[') {
        let (h, after) = inner
            .split_once(']')
            .ok_or_else(|| bad("'[' without ']'"))?;
        match (after, port) {
            ("", p) => (h, p),
            (p, None) if p.starts_with(':') => (h, Some(parse_port(&p[1..], text)?)),
            _ => return Err(bad("text after ']'")),
        }
    } else if port.is_none() && host.matches(':').count() == 1 {
        // `host:port`; two colons or more is an IPv6 address.
        let (h, p) = host.split_once(':').unwrap_or((host, ""));
        (h, Some(parse_port(p, text)?))
    } else {
        (host, port)
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if host.contains(['[', ']', '#', '@', '/']) {
        return Err(bad("unexpected character in the host"));
    }
    Ok(ServerText {
        host: host.to_owned(),
        port,
        scheme: None,
        path: None,
    })
}

fn split_url(text: &str, scheme: &str) -> Result<ServerText, String> {
    let bad = |why: String| format!("bad server URL {text:?}: {why}");
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "udp" => Scheme::Udp,
        "tcp" => Scheme::Tcp,
        "tls" => Scheme::Tls,
        "https" => Scheme::Https,
        "quic" => Scheme::Quic,
        other => {
            return Err(bad(format!(
                "unknown scheme {other:?} (use udp, tcp, tls, https or quic)"
            )))
        }
    };
    let uri: http::Uri = text.parse().map_err(|e| bad(format!("{e}")))?;
    let authority = uri.authority().ok_or_else(|| bad("no host".into()))?;
    if let Some((userinfo, _)) = authority.as_str().rsplit_once('@') {
        // Not echoed as typed: a password there is a secret.
        let shown = match userinfo.split_once(':') {
            Some((user, _)) => text.replacen(userinfo, &format!("{user}:***"), 1),
            None => text.to_owned(),
        };
        return Err(format!(
            "bad server URL {shown:?}: a user name (user@) is not allowed in a server URL"
        ));
    }
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad("no host".into()));
    }
    let host = url_zone(host).map_err(bad)?;
    // Not `Authority::port`, which says None for a port out of range.
    let port = match authority.as_str().rsplit_once(':') {
        Some((_, p)) if !p.contains(']') => Some(parse_port(p, text)?),
        _ => None,
    };
    // The parser makes "/" of a missing path; only a path typed counts.
    let typed_path = text
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains(['/', '?']));
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| typed_path && !p.is_empty());
    let path = match scheme {
        Scheme::Https => {
            let path = path.unwrap_or(crate::cli::DEFAULT_DOH_PATH);
            check_doh_path(path).map_err(bad)?;
            Some(path.to_owned())
        }
        _ if path.is_some_and(|p| p != "/") => {
            return Err(bad("only https:// takes a path".into()));
        }
        _ => None,
    };
    Ok(ServerText {
        host,
        port,
        scheme: Some(scheme),
        path,
    })
}

/// A URL's IPv6 host with its zone ID decoded (RFC 6874: `fe80::1%25eth0`
/// is `fe80::1` on `eth0`; the zone itself may be percent-encoded). A bare
/// `%` (`fe80::1%eth0`, which RFC 6874 does not allow) is taken as it is.
fn url_zone(host: &str) -> Result<String, String> {
    let Some((addr, zone)) = host.split_once("%25") else {
        return Ok(host.to_owned());
    };
    if addr.parse::<std::net::Ipv6Addr>().is_err() {
        return Ok(host.to_owned());
    }
    let bad = || format!("bad zone ID {zone:?} (RFC 6874: %25 then the interface)");
    let mut bytes = Vec::with_capacity(zone.len());
    let mut rest = zone.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    match String::from_utf8(bytes) {
        Ok(z) if !z.is_empty() && !z.contains(['%', '/']) && !z.chars().any(char::is_control) => {
            Ok(format!("{addr}%{z}"))
        }
        _ => Err(bad()),
    }
}

/// Refuses a DoH path that could not go into a request line as it is:
/// control characters (CR, LF, ...), spaces, or anything else a URI may
/// not hold.
pub fn check_doh_path(path: &str) -> Result<(), String> {
    if let Some(c) = path.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "the DoH path contains {:?}, which cannot go into a request",
            c
        ));
    }
    if !path.starts_with('/') {
        return Err(format!("the DoH path {path:?} does not start with /"));
    }
    path.parse::<http::uri::PathAndQuery>()
        .map_err(|e| format!("the DoH path {path:?} is not valid in a URI: {e}"))?;
    Ok(())
}

/// Refuses a link-local server whose `%scope` names no network interface
/// (`@fe80::1%eth9`): the address would go out with scope 0, and the
/// kernel's "Invalid argument" would not say why.
fn check_scope(
    text: &str,
    host: &str,
    scope_index: impl Fn(&str) -> Option<u32>,
) -> Result<(), String> {
    let Some((addr, scope)) = host.split_once('%') else {
        return Ok(());
    };
    if addr.parse::<std::net::Ipv6Addr>().is_err() || scope.parse::<u32>().is_ok() {
        return Ok(());
    }
    match scope_index(scope) {
        Some(_) => Ok(()),
        None => Err(format!(
            "bad server {text:?}: no network interface named {scope:?}"
        )),
    }
}

/// Parses a host: an address (IPv6 may have a scope) or a host name.
pub fn parse_server(host: &str, port: Option<u16>) -> ServerSpec {
    let host = match host.parse::<IpAddr>() {
        Ok(ip) => ServerHost::Addr(SocketAddr::new(ip, 0)),
        Err(_) => match first_nameserver(&format!("nameserver {host}"), None, interface_index) {
            Some(addr) => ServerHost::Addr(addr),
            None => ServerHost::Name(host.to_owned()),
        },
    };
    ServerSpec { host, port }
}

/// Largest `-f` batch file read.
pub const BATCH_FILE_MAX: u64 = 16 << 20;

/// Longest line of a batch file.
pub const BATCH_LINE_MAX: usize = 64 << 10;

/// Largest TSIG key file read (`-k`): a key statement is a few hundred bytes.
pub const KEY_FILE_MAX: u64 = 64 << 10;

/// Reads the key of a `-k` file, with a size cap. The error names the file
/// and what is wrong, never the secret.
fn tsig_key_file(path: &std::path::Path) -> Result<crate::dns::tsig::Key, String> {
    let shown = crate::render::text::escaped(path.as_os_str().as_encoded_bytes());
    let bytes = crate::fsutil::read_bounded(path, KEY_FILE_MAX).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            format!(
                "TSIG key file {shown}: larger than {} KiB",
                KEY_FILE_MAX >> 10
            )
        } else {
            format!("TSIG key file {shown}: {e}")
        }
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("TSIG key file {shown}: not UTF-8 text"))?;
    crate::dns::tsig::Key::from_file_text(&text).map_err(|e| format!("TSIG key file {shown}: {e}"))
}

/// Largest resolv.conf read (the rest is ignored).
const RESOLV_CONF_MAX: u64 = 1 << 20;

/// Reads the `-f` batch file: its lookup lines (dig's syntax), each with
/// its line number; blank lines and `;`/`#` comments are skipped. The file
/// is read a line at a time, at most [`BATCH_FILE_MAX`] bytes in all and
/// [`BATCH_LINE_MAX`] per line. The words are parsed by the command line
/// layer ([`crate::cli::add_batch`]).
pub fn read_batch(path: &std::path::Path) -> Result<Vec<(usize, String)>, crate::error::Error> {
    use std::io::{BufRead, Read};
    let fail = |reason: String| crate::error::Error::Batch {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut reader = std::io::BufReader::new(file.take(BATCH_FILE_MAX + 1));
    let mut lines = Vec::new();
    let mut raw = Vec::new();
    let mut total = 0u64;
    for n in 1.. {
        raw.clear();
        let got = (&mut reader)
            .take(BATCH_LINE_MAX as u64 + 1)
            .read_until(b'\n', &mut raw)
            .map_err(|e| fail(e.to_string()))?;
        if got == 0 {
            break;
        }
        total += got as u64;
        if total > BATCH_FILE_MAX {
            return Err(fail(format!("larger than {} MiB", BATCH_FILE_MAX >> 20)));
        }
        if raw.len() > BATCH_LINE_MAX {
            return Err(fail(format!(
                "line {n}: longer than {} KiB",
                BATCH_LINE_MAX >> 10
            )));
        }
        let line = std::str::from_utf8(&raw)
            .map_err(|_| fail(format!("line {n}: not UTF-8 text")))?
            .trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        lines.push((n, line.to_owned()));
    }
    Ok(lines)
}

impl Config {
    /// Builds the plan, reading `resolv_conf` (normally /etc/resolv.conf)
    /// when no server was given, and the files the command line names
    /// ([`Config::plan`], then [`Plan::load`]).
    pub fn from_args(
        args: Args,
        resolv_conf: &std::path::Path,
    ) -> Result<Config, crate::error::Error> {
        Config::plan(args, resolv_conf)?.load()
    }

    /// Validates `args` without opening any file the command line names
    /// (`resolv_conf` is read when no server was given).
    pub fn plan(args: Args, resolv_conf: &std::path::Path) -> Result<Plan, crate::error::Error> {
        let mut files = NamedFiles {
            batch: args.batch.clone(),
            ..NamedFiles::default()
        };
        let mut display = args.display.clone();
        if display.format.is_none() && args.cli.format != Format::Text {
            display.format = Some(args.cli.format);
        }
        display.short |= display.format == Some(Format::Short);
        let color = resolve_color(args.cli.color);
        if args.cli.replay.is_some() {
            let mode = replay_mode(args, &display, resolv_conf, &mut files)?;
            return Ok(Plan {
                config: Config {
                    mode,
                    display,
                    color,
                    notice: None,
                },
                files,
            });
        }
        replay_options_alone(&args.cli)?;
        let rendering = match collector_mode(&args.cli, &display, &mut files)? {
            Some(mode) => Some(mode),
            None => file_mode(&args.cli, &display, &mut files)?,
        };
        let (mode, notice) = match rendering {
            Some(mode) => {
                let notice = lookup_only_notice(&args.lookup_only, &mode);
                (mode, notice)
            }
            None => (query_mode(args, &display, resolv_conf, &mut files)?, None),
        };
        Ok(Plan {
            config: Config {
                mode,
                display,
                color,
                notice,
            },
            files,
        })
    }
}

/// `--tap`'s file, as an output of [`check_outputs`].
fn tap_of(t: &Option<TapTarget>) -> Option<(&'static str, &std::path::Path)> {
    t.as_ref().map(|t| ("--tap", t.path.as_path()))
}

/// The files a run writes, checked before anything is sent or read: no
/// binary trace goes to a terminal (`-` with stdout on one: the server's
/// bytes would reach it raw), and none is one of the run's inputs (the
/// trace it replays, a key, the batch file, the hints) or another of its
/// outputs: writing it would destroy what the run was given, silently.
/// The same file is told by device and inode, through links.
fn check_outputs(
    config: &Config,
    files: &NamedFiles,
    stdout_is_terminal: bool,
    stdout: Option<&std::fs::Metadata>,
) -> Result<(), crate::error::Error> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::fs::MetadataExt;
    let is_file = |p: &std::path::Path| {
        p.as_os_str() != "-" && crate::tap::endpoint::Endpoint::parse(p.as_os_str()).is_none()
    };
    // Whether the text goes to stdout next to the trace (not with
    // --write, which replaces it).
    let text_on_stdout = matches!(config.mode, Mode::Query { .. } | Mode::Replay { .. });
    let mut outputs: Vec<(&str, &std::path::Path)> = Vec::new();
    let mut inputs: Vec<(&str, &std::path::Path)> = Vec::new();
    match &config.mode {
        Mode::Query { queries, tap, .. } => {
            outputs.extend(tap_of(tap));
            for q in queries {
                if let Some(h) = &q.opts.hints {
                    inputs.push(("+hints", &h.path));
                }
            }
        }
        Mode::Replay { tap, opts, .. } => {
            outputs.extend(tap_of(tap));
            outputs.extend(opts.mismatches.as_deref().map(|p| ("--mismatches", p)));
            if opts.live.is_none() {
                inputs.push(("--replay", &opts.file));
            }
        }
        // --write checks its inputs itself (also when they are many).
        Mode::Read {
            output: ReadOutput::Write(dest),
            ..
        } if dest.as_os_str() == "-" => outputs.push(("--write", dest)),
        _ => {}
    }
    inputs.extend(files.tsig.as_deref().map(|p| ("-k", p)));
    inputs.extend(files.scrub_key.as_deref().map(|p| ("--scrub-key", p)));
    inputs.extend(files.batch.as_deref().map(|p| ("-f", p)));
    let shown = |p: &std::path::Path| crate::render::escaped(p.as_os_str().as_bytes());
    // Where "-" (stdout) is not offered: a file named "-" would be made.
    let dash_refused = match &config.mode {
        Mode::Replay { opts, .. } => opts.mismatches.as_deref().map(|p| ("--mismatches", p)),
        Mode::Collect { output, .. } => output.write.as_deref().map(|p| ("--write", p)),
        _ => None,
    };
    if let Some((what, _)) = dash_refused.filter(|(_, p)| p.as_os_str() == "-") {
        return Err(crate::error::Error::Config(format!(
            "{what} -: writes files only here; name one (./- for a file called -)"
        )));
    }
    for (i, (what, path)) in outputs.iter().enumerate() {
        if path.as_os_str() == "-" {
            if stdout_is_terminal {
                return Err(crate::error::Error::Config(format!(
                    "{what} -: not writing a binary dnstap trace to a terminal; redirect stdout or name a file"
                )));
            }
            continue;
        }
        if !is_file(path) {
            continue;
        }
        let out = std::fs::metadata(path).ok();
        // `--tap /dev/stdout` (or the file stdout is redirected to): the
        // trace would be mixed into the text, or copied over it. A
        // character device other than a terminal (/dev/null) is harmless.
        let is_stdout = out
            .as_ref()
            .zip(stdout)
            .is_some_and(|(o, s)| o.dev() == s.dev() && o.ino() == s.ino());
        if is_stdout && stdout_is_terminal {
            return Err(crate::error::Error::Config(format!(
                "{what} {}: not writing a binary dnstap trace to a terminal; redirect stdout or name a file",
                shown(path)
            )));
        }
        if is_stdout && text_on_stdout && !stdout.is_some_and(|s| s.file_type().is_char_device()) {
            return Err(crate::error::Error::Config(format!(
                "{what} {}: is standard output, where the text goes; use {what} - (the text then goes to stderr)",
                shown(path)
            )));
        }
        let same = |p: &std::path::Path| {
            is_file(p)
                && (p == *path
                    || out.as_ref().is_some_and(|out| {
                        std::fs::metadata(p)
                            .is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino())
                    }))
        };
        if let Some((input, _)) = inputs.iter().find(|(_, p)| same(p)) {
            return Err(crate::error::Error::Config(format!(
                "{what} {}: is also the {input} file; write to another file",
                shown(path)
            )));
        }
        if let Some((other, _)) = outputs[i + 1..].iter().find(|(_, p)| same(p)) {
            return Err(crate::error::Error::Config(format!(
                "{what} and {other}: both name {}; give each its own file",
                shown(path)
            )));
        }
    }
    Ok(())
}

/// The warning for `+options` that change only how lookups are made,
/// given to a mode that renders messages it does not send (`--read`,
/// `--hex`, `--wire`): they do nothing there. A warning, not an error, so
/// that a live command line can be replayed on its recording as it is.
fn lookup_only_notice(words: &[String], mode: &Mode) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let what = match mode {
        Mode::Hex(_) => "--hex",
        Mode::Wire(_) => "--wire",
        _ => "--read",
    };
    let mut seen: Vec<String> = Vec::new();
    for w in words {
        let w = crate::render::escaped(w.as_bytes());
        if !seen.contains(&w) {
            seen.push(w);
        }
    }
    Some(format!(
        ";; WARNING: {what} sends no query: {} ignored (only display options apply)",
        seen.join(" "),
    ))
}

/// `--replay`, `--stats` and `--rrsets` print text or JSON: a YAML or
/// short format asked for there would be ignored, so it is refused.
fn summary_format(display: &DisplayOpts, what: &str) -> Result<(), crate::error::Error> {
    match display.format {
        Some(f @ (Format::Yaml | Format::Short)) => Err(crate::error::Error::Config(format!(
            "{what} prints text, json or jsonl, not {}",
            match f {
                Format::Yaml => "yaml",
                _ => "short",
            }
        ))),
        _ => Ok(()),
    }
}

/// The options that need `--replay`, given without it: a usage error.
fn replay_options_alone(c: &crate::cli::Cli) -> Result<(), crate::error::Error> {
    let given = [
        (c.rate.is_some(), "--rate"),
        (c.speed.is_some(), "--speed"),
        (c.compare_ttl, "--compare-ttl"),
        (c.ignore_rrsig_times, "--ignore-rrsig-times"),
        (c.mismatches.is_some(), "--mismatches"),
        (
            c.replay_edns != crate::replay::rewrite::EdnsMode::Keep,
            "--replay-edns",
        ),
    ];
    let listens = c
        .read
        .iter()
        .any(|f| crate::tap::endpoint::Endpoint::parse(f.as_os_str()).is_some());
    if c.until_closed && !listens {
        return Err(crate::error::Error::Config(
            "--until-closed: only with --read or --replay unix:PATH or tcp:ADDR:PORT".into(),
        ));
    }
    match given.iter().find(|(on, _)| *on) {
        Some((_, what)) => Err(crate::error::Error::Config(format!(
            "{what}: only with --replay FILE"
        ))),
        None => Ok(()),
    }
}

/// `--replay FILE`: the server and lookup settings as for queries, the
/// replay's own options checked.
fn replay_mode(
    args: Args,
    display: &DisplayOpts,
    resolv_conf: &std::path::Path,
    files: &mut NamedFiles,
) -> Result<Mode, crate::error::Error> {
    let c = &args.cli;
    let conflicts = [
        (!c.read.is_empty(), "--read"),
        (!c.hex.is_empty(), "--hex"),
        (c.wire.is_some(), "--wire"),
        (c.write.is_some(), "--write"),
        (c.stats, "--stats"),
        (c.rrsets, "--rrsets"),
        (args.batch.is_some(), "-f"),
        (!args.implied_root, "a query name"),
        (!c.selection().is_empty(), "selection options"),
        (
            c.rotate_size.is_some() || c.rotate_interval.is_some() || c.rotate_keep.is_some(),
            "--rotate-size, --rotate-interval or --rotate-keep",
        ),
        (c.no_output, "--no-output"),
    ];
    if let Some((_, what)) = conflicts.iter().find(|(on, _)| *on) {
        return Err(crate::error::Error::Config(format!(
            "--replay: not with {what}"
        )));
    }
    let positive = |v: Option<f64>, what: &str| match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(crate::error::Error::Config(format!(
            "{what}: must be a number above 0, not {x}"
        ))),
        _ => Ok(v),
    };
    if let Some(tap) = &c.tap {
        if tap.as_os_str() == "-"
            || crate::tap::endpoint::Endpoint::parse(tap.as_os_str()).is_some()
        {
            return Err(crate::error::Error::Config(
                "--replay: --tap takes a file here (not - or a collector)".into(),
            ));
        }
    }
    let file = c.replay.clone().unwrap_or_default();
    let live = match crate::tap::endpoint::Endpoint::parse(file.as_os_str()) {
        Some(endpoint) => {
            let endpoint =
                endpoint.map_err(|e| crate::error::Error::Config(format!("--replay: {e}")))?;
            let (socket, max_connections, queue_bytes) = collector_settings(c)?;
            Some(crate::replay::Live {
                endpoint,
                socket,
                max_connections,
                queue_bytes,
                until_closed: c.until_closed,
            })
        }
        None => {
            let collector_option = [
                ("--socket-mode", c.socket_mode.is_some()),
                ("--socket-owner", c.socket_owner.is_some()),
                ("--collector-buffer", c.collector_buffer.is_some()),
                ("--max-connections", c.max_connections.is_some()),
                ("--until-closed", c.until_closed),
            ];
            if let Some((name, _)) = collector_option.iter().find(|(_, on)| *on) {
                return Err(crate::error::Error::Config(format!(
                    "{name} needs a collector: --replay unix:PATH or --replay tcp:ADDR:PORT"
                )));
            }
            None
        }
    };
    if live.is_some() && c.speed.is_some() {
        return Err(crate::error::Error::Config(
            "--speed: not with a live --replay (the queries go out as they arrive)".into(),
        ));
    }
    let rate = positive(c.rate, "--rate")?;
    let speed = positive(c.speed, "--speed")?;
    let forced_by_scheme = args
        .server
        .as_deref()
        .is_some_and(|s| s.to_ascii_lowercase().contains("://"));
    summary_format(display, "--replay")?;
    let mut opts = crate::replay::ReplayOpts {
        file,
        live,
        max_frame: c.max_frame_size,
        compare: crate::replay::compare::CompareOpts {
            ttl: c.compare_ttl,
            ignore_rrsig_times: c.ignore_rrsig_times,
        },
        rate,
        speed,
        mismatches: c.mismatches.clone(),
        edns: c.replay_edns,
        transport_forced: forced_by_scheme,
        json: match display.format {
            Some(Format::Json) => Some(false),
            Some(Format::Jsonl) => Some(true),
            _ => None,
        },
        top: c.top,
    };
    match query_mode(args, display, resolv_conf, files)? {
        Mode::Query {
            server,
            family,
            mut queries,
            tap,
            warning,
        } => {
            let template = queries.pop().ok_or_else(|| {
                crate::error::Error::Internal("--replay: no lookup settings".into())
            })?;
            if template.opts.chase.is_some() {
                return Err(crate::error::Error::Config(
                    "--replay: not with +trace or +nssearch".into(),
                ));
            }
            opts.transport_forced |= template.opts.transport != Transport::Udp;
            Ok(Mode::Replay {
                server,
                family,
                template: Box::new(template),
                tap,
                warning,
                opts,
            })
        }
        _ => Err(crate::error::Error::Internal(
            "--replay: unexpected mode".into(),
        )),
    }
}

/// The listening socket's settings, the connections taken at once and
/// the queue's bytes (`--socket-mode`, `--socket-owner`,
/// `--max-connections`, `--collector-buffer`).
fn collector_settings(
    c: &crate::cli::Cli,
) -> Result<(crate::tap::endpoint::SocketOpts, usize, usize), crate::error::Error> {
    let (uid, gid) = match &c.socket_owner {
        Some(o) => crate::run::collect::parse_owner(o, std::path::Path::new("/etc"))
            .map_err(|e| crate::error::Error::Config(format!("--socket-owner: {e}")))?,
        None => (None, None),
    };
    let unix = c.read.iter().chain(c.replay.iter()).any(|p| {
        matches!(
            crate::tap::endpoint::Endpoint::parse(p.as_os_str()),
            Some(Ok(crate::tap::endpoint::Endpoint::Unix(_)))
        )
    });
    if !unix && (c.socket_mode.is_some() || c.socket_owner.is_some()) {
        let what = match c.socket_mode {
            Some(_) => "--socket-mode",
            None => "--socket-owner",
        };
        return Err(crate::error::Error::Config(format!(
            "{what} sets a socket file's mode or owner: only with unix:PATH"
        )));
    }
    let defaults = crate::run::collect::CollectOptions::default();
    let queue_bytes = match c.collector_buffer {
        None => defaults.queue_bytes,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|&n| u32::try_from(n).is_ok())
            .ok_or_else(|| {
                crate::error::Error::Config("--collector-buffer: at most 4G-1 bytes".into())
            })?,
    };
    let socket = crate::tap::endpoint::SocketOpts {
        mode: c.socket_mode,
        uid,
        gid,
    };
    let max_connections = c
        .max_connections
        .map_or(defaults.max_connections, |n| n as usize);
    Ok((socket, max_connections, queue_bytes))
}

/// `--read unix:`/`tcp:` inputs: the live collector and its options; the
/// collector's own options without one are a usage error.
fn collector_mode(
    c: &crate::cli::Cli,
    display: &DisplayOpts,
    files: &mut NamedFiles,
) -> Result<Option<Mode>, crate::error::Error> {
    let listens = c
        .read
        .iter()
        .any(|f| crate::tap::endpoint::Endpoint::parse(f.as_os_str()).is_some());
    let collector_option = [
        ("--rotate-size", c.rotate_size.is_some()),
        ("--rotate-interval", c.rotate_interval.is_some()),
        ("--rotate-keep", c.rotate_keep.is_some()),
        ("--socket-mode", c.socket_mode.is_some()),
        ("--socket-owner", c.socket_owner.is_some()),
        ("--no-output", c.no_output),
        ("--collector-buffer", c.collector_buffer.is_some()),
        ("--max-connections", c.max_connections.is_some()),
    ]
    .into_iter()
    .find(|(_, set)| *set);
    if listens {
        for input in &c.read {
            if let Some(Err(e)) = crate::tap::endpoint::Endpoint::parse(input.as_os_str()) {
                return Err(crate::error::Error::Config(format!("--read: {e}")));
            }
        }
        let (socket, max_connections, queue_bytes) = collector_settings(c)?;
        let rotates =
            c.rotate_size.is_some() || c.rotate_interval.is_some() || c.rotate_keep.is_some();
        if rotates && c.write.is_none() {
            return Err(crate::error::Error::Config(
                "--rotate-size, --rotate-interval and --rotate-keep need --write".into(),
            ));
        }
        if let Some(w) = &c.write {
            crate::run::capture::expand(w, crate::run::capture::unix_now())
                .map_err(crate::error::Error::Config)?;
        }
        let (filter, scrub, what) = selection_output(c, display, files)?;
        let summary =
            matches!(what, ReadOutput::Stats { .. } | ReadOutput::Rrsets { .. }).then_some(what);
        return Ok(Some(Mode::Collect {
            inputs: c.read.clone(),
            max_frame: c.max_frame_size,
            output: crate::run::collect::Output {
                filter,
                scrub,
                summary,
                write: c.write.clone(),
                rotation: crate::run::capture::Rotation {
                    size: c.rotate_size,
                    interval: c.rotate_interval,
                    keep: c.rotate_keep.map(|k| k as usize),
                },
            },
            socket,
            render: !c.no_output,
            max_connections,
            queue_bytes,
            until_closed: c.until_closed,
        }));
    }
    if let Some((name, _)) = collector_option {
        return Err(crate::error::Error::Config(format!(
            "{name} needs a collector: --read unix:PATH or --read tcp:ADDR:PORT"
        )));
    }
    Ok(None)
}

/// `--hex`, `--wire` and `--read FILE`: with selection, `--write`,
/// `--scrub`, `--stats` or `--rrsets`.
fn file_mode(
    c: &crate::cli::Cli,
    display: &DisplayOpts,
    files: &mut NamedFiles,
) -> Result<Option<Mode>, crate::error::Error> {
    let selection = c.selection();
    let reading_only = [
        (
            !selection.is_empty(),
            "selection options (--qname, --qtype, ...)",
        ),
        (c.write.is_some(), "--write"),
        (c.stats, "--stats"),
        (c.rrsets, "--rrsets"),
    ];
    if !c.hex.is_empty() || c.wire.is_some() {
        if !c.read.is_empty() || (!c.hex.is_empty() && c.wire.is_some()) {
            return Err(crate::error::Error::Config(
                "--hex, --wire and --read cannot be combined".into(),
            ));
        }
        if let Some((_, what)) = reading_only.iter().find(|(given, _)| *given) {
            return Err(crate::error::Error::Config(format!(
                "{what}: only with --read FILE (\"-\" for stdin)"
            )));
        }
        let mode = match &c.wire {
            Some(w) => Mode::Wire(w.clone()),
            None => Mode::Hex(c.hex.clone()),
        };
        return Ok(Some(mode));
    }
    if c.read.is_empty() {
        let scrub_only = [
            (c.scrub, "--scrub"),
            (c.scrub_key.is_some(), "--scrub-key"),
            (c.scrub_ports, "--scrub-ports"),
            (c.scrub_names, "--scrub-names"),
        ];
        if let Some((_, what)) = reading_only
            .iter()
            .chain(scrub_only.iter())
            .find(|(given, _)| *given)
        {
            return Err(crate::error::Error::Config(format!(
                "{what}: only with --read FILE (\"-\" for stdin)"
            )));
        }
    }
    if !c.read.is_empty() {
        let (filter, scrub, output) = selection_output(c, display, files)?;
        return Ok(Some(Mode::Read {
            files: c.read.clone(),
            max_frame: c.max_frame_size,
            filter,
            scrub,
            output,
        }));
    }
    Ok(None)
}

/// The selection options, `--scrub`, and what to make of the selected
/// frames (`--write`, `--stats`, `--rrsets` or rendering): the same rules
/// for files and the collector.
fn selection_output(
    c: &crate::cli::Cli,
    display: &DisplayOpts,
    files: &mut NamedFiles,
) -> Result<(crate::select::Filter, Option<ScrubSpec>, ReadOutput), crate::error::Error> {
    let selection = c.selection();
    let now = {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        crate::tap::event::Timestamp {
            sec: d.as_secs(),
            nsec: d.subsec_nanos(),
        }
    };
    let filter =
        crate::select::Filter::from_pairs(selection.iter().map(|(n, v)| (*n, v.as_str())), now)
            .map_err(|e| crate::error::Error::Config(e.to_string()))?;
    let scrub = scrub_spec(c, files)?;
    if [c.write.is_some(), c.stats, c.rrsets]
        .iter()
        .filter(|b| **b)
        .count()
        > 1
    {
        return Err(crate::error::Error::Config(
            "--write, --stats and --rrsets cannot be combined".into(),
        ));
    }
    if c.rrsets || c.stats {
        summary_format(display, if c.rrsets { "--rrsets" } else { "--stats" })?;
    }
    let json = matches!(display.format, Some(Format::Json | Format::Jsonl));
    let output = if c.rrsets {
        if scrub.is_some() {
            return Err(crate::error::Error::Config(
                "--scrub goes with --write or rendering, not --rrsets".into(),
            ));
        }
        ReadOutput::Rrsets { json }
    } else if c.stats {
        if scrub.is_some() {
            return Err(crate::error::Error::Config(
                "--scrub goes with --write or rendering, not --stats".into(),
            ));
        }
        ReadOutput::Stats { top: c.top, json }
    } else if let Some(w) = &c.write {
        ReadOutput::Write(w.clone())
    } else {
        ReadOutput::Render
    };
    Ok((filter, scrub, output))
}

/// `--scrub` and its options (which need it); the key file is read later.
fn scrub_spec(
    c: &crate::cli::Cli,
    files: &mut NamedFiles,
) -> Result<Option<ScrubSpec>, crate::error::Error> {
    if (c.scrub_key.is_some() || c.scrub_ports || c.scrub_names) && !c.scrub {
        return Err(crate::error::Error::Config(
            "--scrub-key, --scrub-ports and --scrub-names go with --scrub".into(),
        ));
    }
    if !c.scrub {
        return Ok(None);
    }
    files.scrub_key.clone_from(&c.scrub_key);
    Ok(Some(ScrubSpec {
        key: None,
        ports: c.scrub_ports,
        names: c.scrub_names,
    }))
}

/// Lookups: the server (given, or resolv.conf's), TSIG, DoH paths checked
/// before any network work, and the trace; the `-k` and TLS files go to
/// `files`.
fn query_mode(
    args: Args,
    display: &DisplayOpts,
    resolv_conf: &std::path::Path,
    files: &mut NamedFiles,
) -> Result<Mode, crate::error::Error> {
    let mut warning = None;
    let mut queries = args.queries;
    match &args.tsig {
        Some(crate::cli::TsigArg::Key(key)) => {
            for q in &mut queries {
                q.opts.tsig = Some(key.clone());
            }
        }
        Some(crate::cli::TsigArg::File(path)) => files.tsig = Some(path.clone()),
        None => {}
    }
    let server = match &args.server {
        Some(text) => {
            let parsed = split_server(text).map_err(crate::error::Error::Config)?;
            check_scope(text, &parsed.host, interface_index)
                .map_err(crate::error::Error::Config)?;
            if let Some(scheme) = parsed.scheme {
                // The URL's scheme is the default transport: a query's
                // own +tcp, +tls, ... still wins.
                let transport = match scheme {
                    Scheme::Udp => Transport::Udp,
                    Scheme::Tcp => Transport::Tcp,
                    Scheme::Tls => Transport::Tls,
                    Scheme::Quic => Transport::Quic,
                    Scheme::Https => Transport::Https {
                        path: parsed
                            .path
                            .clone()
                            .unwrap_or_else(|| crate::cli::DEFAULT_DOH_PATH.to_owned()),
                        get: false,
                    },
                };
                for q in &mut queries {
                    if q.opts.transport == Transport::Udp {
                        q.opts.transport = transport.clone();
                    }
                }
            }
            // As in kdig, the later of `-p` and the server's own port wins.
            let port = match (parsed.port, args.port) {
                (Some(own), Some(p)) => Some(if args.server_after_port { own } else { p }),
                (own, p) => own.or(p),
            };
            parse_server(&parsed.host, port)
        }
        None => {
            let text = crate::fsutil::read_bounded(resolv_conf, RESOLV_CONF_MAX)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            match first_nameserver(&text, args.family, interface_index) {
                Some(addr) => ServerSpec {
                    host: ServerHost::Addr(addr),
                    port: args.port,
                },
                None => {
                    // As dig: the loopback address of the family asked for.
                    let (loopback, which): (IpAddr, &str) = match args.family {
                        Some(6) => (std::net::Ipv6Addr::LOCALHOST.into(), "IPv6 "),
                        Some(4) => (std::net::Ipv4Addr::LOCALHOST.into(), "IPv4 "),
                        _ => (std::net::Ipv4Addr::LOCALHOST.into(), ""),
                    };
                    // A chase from hints never asks this server (only its
                    // port is used): no warning then.
                    let asked = queries.iter().any(|q| q.opts.hints.is_none());
                    if asked {
                        warning = Some(format!(
                            ";; WARNING: no {which}nameserver found in {}, using {loopback}",
                            crate::render::escaped(resolv_conf.as_os_str().as_encoded_bytes())
                        ));
                    }
                    ServerSpec {
                        host: ServerHost::Addr(SocketAddr::new(loopback, 0)),
                        port: args.port,
                    }
                }
            }
        }
    };
    // Checked now, before any network work, so a bad setting is a usage
    // error (exit 1); the TLS files are read by `Plan::load`, before the
    // async runtime starts.
    for q in &queries {
        if let Transport::Https { path, .. } = &q.opts.transport {
            check_doh_path(path).map_err(crate::error::Error::Config)?;
        }
        if q.opts.proxy.is_some() && q.opts.transport == Transport::Quic {
            return Err(crate::error::Error::Config(
                "+proxy is not supported over DoQ (no DoQ server defines where the header goes)"
                    .into(),
            ));
        }
        if q.opts.transport.is_encrypted() && !files.tls.contains(&q.opts.tls) {
            files.tls.push(q.opts.tls.clone());
        }
    }
    for q in &mut queries {
        check_hints(&q.opts)?;
        q.opts.family = args.family;
    }
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
        warning =
            Some(";; WARNING: +tls-insecure: the server certificate is NOT verified".to_owned());
    }
    let tap = args.cli.tap.clone().map(|path| TapTarget {
        path,
        kind: args.cli.tap_type,
        identity: args.cli.tap_identity.clone(),
    });
    Ok(Mode::Query {
        server,
        family: args.family,
        queries,
        tap,
        warning,
    })
}

/// The most bytes a `+hints` file may hold (IANA's named.root is 3 KB).
const HINTS_MAX: u64 = 1 << 20;

/// Refuses `+hints` without `+trace` or `+nssearch`.
fn check_hints(opts: &crate::query::spec::QueryOpts) -> Result<(), crate::error::Error> {
    match &opts.hints {
        Some(hints) if opts.chase.is_none() => Err(crate::error::Error::Config(format!(
            "+hints {}: goes with +trace or +nssearch",
            crate::render::escaped(hints.path.as_os_str().as_encoded_bytes())
        ))),
        _ => Ok(()),
    }
}

/// Reads and checks a `+hints` file (size-capped, before any network work:
/// a bad file is a usage error) into the servers of the chase.
fn load_hints(opts: &mut crate::query::spec::QueryOpts) -> Result<(), crate::error::Error> {
    let Some(hints) = opts.hints.as_mut().filter(|h| h.servers.is_empty()) else {
        return Ok(());
    };
    let what = format!(
        "+hints {}",
        crate::render::escaped(hints.path.as_os_str().as_encoded_bytes())
    );
    let text = crate::fsutil::read_bounded(&hints.path, HINTS_MAX)
        .map_err(|e| crate::error::Error::Config(format!("{what}: {e}")))?;
    let text = String::from_utf8(text)
        .map_err(|_| crate::error::Error::Config(format!("{what}: not text")))?;
    hints.servers = crate::query::delegation::parse_hints(&text)
        .map_err(|e| crate::error::Error::Config(format!("{what}: {e}")))?;
    Ok(())
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

/// The whole command line to a [`Config`]: parses `args` (the program name
/// first), prints `--help`, `--version` and `--generate` output on `out`
/// (None: nothing left to run), reads the `-f` batch file and
/// /etc/resolv.conf.
pub fn from_command_line(
    args: impl IntoIterator<Item = std::ffi::OsString>,
    out: &mut dyn std::io::Write,
) -> Result<Option<Config>, crate::error::Error> {
    let mut args = match crate::cli::parse(args) {
        Ok(args) => args,
        // --help and --version are "errors" to clap; they print and exit 0.
        Err(crate::cli::CliError::Help(text)) => {
            out.write_all(text.as_bytes())?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(what) = args.cli.generate {
        crate::cli::doc::generate(what, out)?;
        return Ok(None);
    }
    if let Some(path) = args.batch.clone() {
        let lines = read_batch(&path)?;
        crate::cli::add_batch(&mut args, &lines).map_err(|(n, e)| crate::error::Error::Batch {
            path,
            reason: format!("line {n}: {e}"),
        })?;
    }
    Config::from_args(args, std::path::Path::new("/etc/resolv.conf")).map(Some)
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

    fn split(text: &str) -> (String, Option<u16>, Option<Scheme>, Option<String>) {
        let t = split_server(text).unwrap();
        (t.host, t.port, t.scheme, t.path)
    }

    fn plain(
        host: &str,
        port: Option<u16>,
    ) -> (String, Option<u16>, Option<Scheme>, Option<String>) {
        (host.into(), port, None, None)
    }

    #[test]
    fn server_text() {
        let addr = |s: &str| ServerHost::Addr(s.parse().unwrap());
        assert_eq!(parse_server("::1", Some(5353)).host, addr("[::1]:0"));
        assert_eq!(parse_server("::1", Some(5353)).port, Some(5353));
        assert_eq!(
            parse_server("ns.example", None).host,
            ServerHost::Name("ns.example".into())
        );
    }

    #[test]
    fn server_forms_without_a_port() {
        assert_eq!(split("192.0.2.1"), plain("192.0.2.1", None));
        assert_eq!(split("ns.example"), plain("ns.example", None));
        assert_eq!(split("2001:db8::1"), plain("2001:db8::1", None));
        assert_eq!(split("[2001:db8::1]"), plain("2001:db8::1", None));
        assert_eq!(split("fe80::1%eth0"), plain("fe80::1%eth0", None));
    }

    #[test]
    fn server_forms_with_a_port() {
        assert_eq!(split("192.0.2.1#5353"), plain("192.0.2.1", Some(5353)));
        assert_eq!(split("ns.example#53"), plain("ns.example", Some(53)));
        assert_eq!(split("192.0.2.1@5353"), plain("192.0.2.1", Some(5353)));
        assert_eq!(split("192.0.2.1:5353"), plain("192.0.2.1", Some(5353)));
        assert_eq!(split("ns.example:853"), plain("ns.example", Some(853)));
        assert_eq!(split("[::1]:5353"), plain("::1", Some(5353)));
        assert_eq!(split("[::1]#5353"), plain("::1", Some(5353)));
        assert_eq!(split("::1#5353"), plain("::1", Some(5353)));
        assert_eq!(split("fe80::1%eth0#53"), plain("fe80::1%eth0", Some(53)));
    }

    #[test]
    fn bad_server_forms_are_refused_with_the_text_intact() {
        for bad in [
            "[::1",
            "[::1]x",
            "[::1]:",
            "host#",
            "host#99999",
            "h:x",
            "#53",
            "[]:53",
        ] {
            let err = split_server(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn a_scope_that_names_no_interface_is_refused() {
        let index = |name: &str| (name == "eth0").then_some(2);
        assert_eq!(check_scope("fe80::1%eth0", "fe80::1%eth0", index), Ok(()));
        assert_eq!(check_scope("fe80::1%3", "fe80::1%3", index), Ok(()));
        assert_eq!(check_scope("[::1]:53", "::1", index), Ok(()));
        assert_eq!(
            check_scope("[fe80::1%eth9]#53", "fe80::1%eth9", index),
            Err("bad server \"[fe80::1%eth9]#53\": no network interface named \"eth9\"".into())
        );
    }

    #[test]
    fn url_zone_ids_are_decoded_as_rfc_6874_says() {
        let host = |s: &str| split_server(s).map(|t| t.host);
        assert_eq!(host("udp://[fe80::1%25eth0]:53"), Ok("fe80::1%eth0".into()));
        assert_eq!(host("tls://[fe80::1%251]"), Ok("fe80::1%1".into()));
        assert_eq!(host("tcp://[fe80::1%25en%301]"), Ok("fe80::1%en01".into()));
        assert_eq!(
            host("https://[fe80::1%25eth0]/dns-query"),
            Ok("fe80::1%eth0".into())
        );
        // The bare form, as before.
        assert_eq!(host("udp://[fe80::1%eth0]"), Ok("fe80::1%eth0".into()));
        for bad in [
            "udp://[fe80::1%25]",
            "udp://[fe80::1%25e%2]",
            "udp://[fe80::1%25a%00]",
        ] {
            let e = host(bad).unwrap_err();
            assert!(e.contains("bad zone ID"), "{bad}: {e}");
        }
        // The decoded zone names the interface, and is checked as such.
        let index = |name: &str| (name == "eth0").then_some(2);
        let t = split_server("udp://[fe80::1%25eth9]").unwrap();
        assert_eq!(
            check_scope("udp://[fe80::1%25eth9]", &t.host, index),
            Err(
                "bad server \"udp://[fe80::1%25eth9]\": no network interface named \"eth9\"".into()
            )
        );
        let t = split_server("udp://[fe80::1%25eth0]").unwrap();
        assert_eq!(check_scope("", &t.host, index), Ok(()));
    }

    #[test]
    fn server_urls() {
        let url = |s: &str| split_server(s).unwrap();
        let t = url("udp://192.0.2.1");
        assert_eq!(
            (t.host.as_str(), t.port, t.scheme),
            ("192.0.2.1", None, Some(Scheme::Udp))
        );
        let t = url("tcp://[::1]:5353");
        assert_eq!(
            (t.host.as_str(), t.port, t.scheme),
            ("::1", Some(5353), Some(Scheme::Tcp))
        );
        let t = url("tls://dns.example:853/");
        assert_eq!(
            (t.host.as_str(), t.port, t.scheme),
            ("dns.example", Some(853), Some(Scheme::Tls))
        );
        let t = url("quic://dns.example");
        assert_eq!((t.scheme, t.path), (Some(Scheme::Quic), None));
        let t = url("https://dns.example/q?x=1");
        assert_eq!(
            (t.host.as_str(), t.port, t.scheme, t.path.as_deref()),
            ("dns.example", None, Some(Scheme::Https), Some("/q?x=1"))
        );
        let t = url("HTTPS://127.0.0.1:8443");
        assert_eq!(
            (t.port, t.path.as_deref()),
            (Some(8443), Some("/dns-query"))
        );
        let t = url("https://[::1]:443/dns");
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(443)));
    }

    #[test]
    fn bad_server_urls_are_refused() {
        let err = split_server("https://user@evil.example/dns-query").unwrap_err();
        assert!(err.contains("user name"), "{err}");
        // The password is not echoed back.
        assert_eq!(
            split_server("https://a:s3cret@evil.example/").unwrap_err(),
            "bad server URL \"https://a:***@evil.example/\": \
             a user name (user@) is not allowed in a server URL"
        );
        assert!(split_server("http://x/")
            .unwrap_err()
            .contains("unknown scheme"));
        assert!(split_server("https://:1/").is_err());
        assert!(split_server("tls://x/path")
            .unwrap_err()
            .contains("only https://"));
        assert!(split_server("https://x:99999/").is_err());
    }

    #[test]
    fn doh_paths_with_control_characters_are_refused() {
        assert!(check_doh_path("/dns-query?x=1").is_ok());
        for bad in ["/a\r\nHost: evil", "/a b", "/a\tb", "/\u{7f}", "dns-query"] {
            assert!(check_doh_path(bad).is_err(), "{bad:?}");
        }
        let args = crate::cli::parse(["qtap", "+https=/x\r\nEvil: 1", "x.example"]).unwrap();
        let err = Config::from_args(args, std::path::Path::new("/nonexistent")).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exits::USAGE);
    }

    fn config_of(argv: &[&str]) -> Result<Config, crate::error::Error> {
        let args = crate::cli::parse(argv.iter().copied()).unwrap();
        Config::from_args(args, std::path::Path::new("/nonexistent"))
    }

    #[test]
    fn socket_inputs_make_a_collector_and_its_options_need_one() {
        let c = config_of(&[
            "qtap",
            "--read",
            "unix:/tmp/x.sock",
            "old.fstrm",
            "tcp:[::1]:6000",
            "--write",
            "cap-%H.fstrm",
            "--rotate-size",
            "10M",
            "--rotate-interval",
            "1h",
            "--rotate-keep",
            "5",
            "--socket-mode",
            "660",
            "--socket-owner",
            "0:0",
            "--no-output",
        ])
        .unwrap();
        let Mode::Collect {
            inputs,
            output,
            socket,
            render,
            ..
        } = c.mode
        else {
            panic!("collector expected");
        };
        assert_eq!(inputs.len(), 3);
        assert_eq!(output.rotation.size, Some(10 << 20));
        assert_eq!(
            output.rotation.interval,
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(output.rotation.keep, Some(5));
        assert_eq!(
            (socket.mode, socket.uid, socket.gid),
            (Some(0o660), Some(0), Some(0))
        );
        assert!(!render);
        // Plain files stay --read.
        assert!(matches!(
            config_of(&["qtap", "--read", "a.fstrm"]).unwrap().mode,
            Mode::Read { .. }
        ));
        // --write of a file reading saves the selection; only the
        // collector's own options need a collector.
        assert!(matches!(
            config_of(&["qtap", "--read", "a.fstrm", "--write", "x.fstrm"])
                .unwrap()
                .mode,
            Mode::Read {
                output: ReadOutput::Write(_),
                ..
            }
        ));
        // Selection, --scrub, --stats and --rrsets work on the collector.
        let Mode::Collect { output, .. } =
            config_of(&["qtap", "--read", "unix:/tmp/x", "--qtype", "A", "--stats"])
                .unwrap()
                .mode
        else {
            panic!("not a collector");
        };
        assert!(!output.filter.is_empty());
        assert!(matches!(output.summary, Some(ReadOutput::Stats { .. })));
        let Mode::Collect { output, .. } = config_of(&[
            "qtap",
            "--read",
            "unix:/tmp/x",
            "--scrub",
            "--write",
            "w.fstrm",
        ])
        .unwrap()
        .mode
        else {
            panic!("not a collector");
        };
        assert!(output.scrub.is_some() && output.write.is_some() && output.summary.is_none());
        for bad in [
            &["qtap", "x.example", "--no-output"][..],
            &["qtap", "--read", "a.fstrm", "--rotate-size", "1M"],
            &["qtap", "--read", "unix:/tmp/x", "--stats", "--write", "x"],
            &["qtap", "--read", "unix:/tmp/x", "--qtype", "NOPE"],
            &["qtap", "--read", "unix:/tmp/x", "--rotate-size", "1M"],
            &["qtap", "--read", "tcp:nohost", "--write", "x"],
            &["qtap", "--read", "unix:/tmp/x", "--write", "x%Y\u{0}"],
            &["qtap", "--read", "t.fstrm", "--stats", "--format", "yaml"],
            &["qtap", "--read", "t.fstrm", "--rrsets", "--format", "short"],
            &[
                "qtap",
                "--replay",
                "t.fstrm",
                "@127.0.0.1",
                "--format",
                "yaml",
            ],
            &[
                "qtap",
                "--read",
                "tcp:127.0.0.1:6000",
                "--socket-mode",
                "600",
            ],
            &[
                "qtap",
                "--read",
                "tcp:127.0.0.1:6000",
                "--socket-owner",
                "root",
            ],
        ] {
            let e = config_of(bad).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::exits::USAGE, "{bad:?}: {e}");
        }
        for bad in [
            &["qtap", "--read", "unix:/x", "--rotate-size", "10X"][..],
            &["qtap", "--read", "unix:/x", "--rotate-interval", "0"],
            &["qtap", "--read", "unix:/x", "--socket-mode", "999"],
            &["qtap", "--read", "unix:/x", "--socket-mode", "4777"],
            &["qtap", "--read", "unix:/x", "--rotate-keep", "0"],
        ] {
            assert!(crate::cli::parse(bad.iter().copied()).is_err(), "{bad:?}");
        }
    }

    fn query_mode(argv: &[&str]) -> (ServerSpec, Vec<QuerySpec>) {
        let args = crate::cli::parse(argv.iter().copied()).unwrap();
        match Config::from_args(args, std::path::Path::new("/nonexistent"))
            .unwrap()
            .mode
        {
            Mode::Query {
                server, queries, ..
            } => (server, queries),
            _ => panic!("query mode expected"),
        }
    }

    #[test]
    fn url_schemes_set_the_transport_unless_a_query_chose_one() {
        let (server, queries) = query_mode(&["qtap", "@https://127.0.0.1:8443/q", "x.example"]);
        assert_eq!(server.port, Some(8443));
        assert_eq!(
            queries[0].opts.transport,
            Transport::Https {
                path: "/q".into(),
                get: false
            }
        );
        let (server, queries) =
            query_mode(&["qtap", "@tls://[::1]", "x.example", "y.example", "+tcp"]);
        assert_eq!(server.host, ServerHost::Addr("[::1]:0".parse().unwrap()));
        assert_eq!(server.port, None);
        assert_eq!(queries[0].opts.transport, Transport::Tls);
        assert_eq!(queries[1].opts.transport, Transport::Tcp);
        let (_, queries) = query_mode(&["qtap", "@quic://127.0.0.1", "x.example"]);
        assert_eq!(queries[0].opts.transport, Transport::Quic);
    }

    #[test]
    fn the_later_of_p_and_the_server_port_wins_as_in_kdig() {
        let (s, _) = query_mode(&["qtap", "@127.0.0.1#5301", "-p", "5302", "x.example"]);
        assert_eq!(s.port, Some(5302));
        let (s, _) = query_mode(&["qtap", "-p", "5302", "@127.0.0.1#5301", "x.example"]);
        assert_eq!(s.port, Some(5301));
        let (s, _) = query_mode(&["qtap", "-p", "5302", "@127.0.0.1", "x.example"]);
        assert_eq!(s.port, Some(5302));
        let (s, _) = query_mode(&["qtap", "@[::1]:5301", "x.example"]);
        assert_eq!(
            (s.host, s.port),
            (ServerHost::Addr("[::1]:0".parse().unwrap()), Some(5301))
        );
    }

    #[test]
    fn tsig_key_reaches_every_query_and_files_are_checked() {
        let (_, queries) = query_mode(&["qtap", "@127.0.0.1", "-y", "k.:AQID", "a.", "b."]);
        assert!(queries.iter().all(|q| q.opts.tsig.is_some()));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.key");
        std::fs::write(
            &file,
            "key \"k.\" { algorithm hmac-md5; secret \"AQID\"; };\n",
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let (_, queries) = query_mode(&["qtap", "@127.0.0.1", "-k", f, "a."]);
        let key = queries[0].opts.tsig.clone().unwrap();
        assert_eq!(key.algorithm, crate::dns::tsig::Algorithm::HmacMd5);
        assert_eq!(key.secret(), &[1, 2, 3]);
        let config = |argv: &[&str]| {
            let args = crate::cli::parse(argv.iter().copied()).unwrap();
            Config::from_args(args, std::path::Path::new("/nonexistent")).unwrap_err()
        };
        let err = config(&["qtap", "@127.0.0.1", "-k", "/dev/zero", "a."]);
        assert!(err.to_string().contains("larger than 64 KiB"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exits::USAGE);
        std::fs::write(
            &file,
            "key \"k.\" { algorithm hmac-md5; secret \"SECRET*\"; };",
        )
        .unwrap();
        let err = config(&["qtap", "@127.0.0.1", "-k", f, "a."]).to_string();
        assert!(
            err.ends_with("k.key: the secret is not valid base64"),
            "{err}"
        );
        assert!(!err.contains("SECRET"), "{err}");
        let err = config(&["qtap", "@127.0.0.1", "-k", "/nonexistent/k.key", "a."]);
        assert!(err.to_string().contains("/nonexistent/k.key"), "{err}");
    }

    #[test]
    fn tls_files_are_read_with_a_size_cap() {
        let args = crate::cli::parse(["qtap", "+tls", "+tls-ca=/dev/zero", "x.example"]).unwrap();
        let err = Config::from_args(args, std::path::Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exits::USAGE);
    }

    #[test]
    fn plan_opens_no_named_file_and_load_reports_what_from_args_did() {
        let missing = "/nonexistent/named.file";
        let tls_ca = format!("+tls-ca={missing}");
        let tls_cert = format!("+tls-certfile={missing}");
        let argvs: [&[&str]; 4] = [
            &["qtap", "@127.0.0.1", "-k", missing, "a."],
            &["qtap", "@127.0.0.1", "+tls", &tls_ca, "a."],
            &["qtap", "@127.0.0.1", "+https", &tls_cert, "a."],
            &[
                "qtap",
                "--read",
                "t.fstrm",
                "--scrub",
                "--scrub-key",
                missing,
            ],
        ];
        for argv in argvs {
            let args = || crate::cli::parse(argv.iter().copied()).unwrap();
            let resolv = std::path::Path::new("/nonexistent");
            // The plan names the file without opening it.
            let plan = Config::plan(args(), resolv).unwrap();
            let loaded = plan.load().unwrap_err();
            let whole = Config::from_args(args(), resolv).unwrap_err();
            assert_eq!(loaded.to_string(), whole.to_string(), "{argv:?}");
            assert!(loaded.to_string().contains(missing), "{loaded}");
            assert_eq!(loaded.exit_code(), crate::error::exits::USAGE);
        }
    }

    #[test]
    fn the_scrub_key_file_reaches_the_scrubber() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scrub.key");
        std::fs::write(&file, [7u8; 32]).unwrap();
        let f = file.to_str().unwrap();
        let args =
            crate::cli::parse(["qtap", "--read", "t.fstrm", "--scrub", "--scrub-key", f]).unwrap();
        let c = Config::from_args(args, std::path::Path::new("/nonexistent")).unwrap();
        match c.mode {
            Mode::Read {
                scrub: Some(spec), ..
            } => assert_eq!(
                spec.key,
                Some(crate::scrub::key_from_bytes(&[7u8; 32]).unwrap())
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_resolv_conf_falls_back_with_a_warning() {
        let args = crate::cli::parse(["qtap", "example.com"]).unwrap();
        let c = Config::from_args(args, std::path::Path::new("/nonexistent/resolv.conf")).unwrap();
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
            _ => panic!("query mode expected"),
        }
    }

    #[test]
    fn minus_6_without_an_ipv6_nameserver_falls_back_to_the_ipv6_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let resolv = dir.path().join("resolv.conf");
        std::fs::write(&resolv, "nameserver 192.0.2.1\n").unwrap();
        let server = |argv: &[&str]| {
            let args = crate::cli::parse(argv.iter().copied()).unwrap();
            match Config::from_args(args, &resolv).unwrap().mode {
                Mode::Query {
                    server, warning, ..
                } => (server.host, warning),
                _ => panic!("query mode expected"),
            }
        };
        // As dig: -6 asks ::1 when resolv.conf names IPv4 servers only.
        let (host, warning) = server(&["qtap", "-6", "example.com"]);
        assert_eq!(host, ServerHost::Addr("[::1]:0".parse().unwrap()));
        assert!(
            warning.unwrap().contains("no IPv6 nameserver found in"),
            "the warning says which family"
        );
        // A chase from hints never asks it: no warning.
        let hints = dir.path().join("hints");
        std::fs::write(&hints, ". NS a.root.\na.root. AAAA ::1\n").unwrap();
        let h = format!("+hints={}", hints.display());
        let (host, warning) = server(&["qtap", "-6", "+trace", &h, "example.com"]);
        assert_eq!(host, ServerHost::Addr("[::1]:0".parse().unwrap()));
        assert_eq!(warning, None);
    }
}
