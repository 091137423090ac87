//! The command line: GNU long options through clap, and dig's own language
//! (`@server`, `-p`, `-t`, `+option`, free names, types and classes)
//! through a small classifier. Pure: no environment, no I/O.
//!
//! Stage one of two (as ripgrep does it): [`parse`] only splits and checks
//! the words; `config` then turns them into a validated plan, reading
//! /etc/resolv.conf and the terminal where needed.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::dns::name::Name;
use crate::dns::types::{self, parse_class, parse_type};

/// GNU-style options. dig-style words are collected separately.
///
/// `-h` shows the first line of each help text and only the common
/// options; `--help` shows the long texts, every option and (from
/// [`crate::generate::help_footer`]) every `+option` of [`PLUS_OPTIONS`].
#[derive(Parser, Debug, Default, Clone)]
#[command(
    name = "qtap",
    version,
    about = "dig-style DNS lookups, recorded as dnstap; and a renderer for any dnstap file",
    long_about = "dig-style DNS lookups, recorded as dnstap; and a renderer for any dnstap file.\n\n\
                  qtap reads its arguments as dig does: @server, names, types, classes, +options and \
                  dig's -p -4 -6 -t -c -x -q flags, in any order, several lookups per run. It prints \
                  the answers in dig's layout. --tap FILE also records every message sent and received \
                  as a dnstap trace; --read FILE renders any dnstap trace (qtap's, kdig's, Knot's, \
                  Unbound's or BIND's) in the same layout, byte for byte as it was shown live.",
    override_usage = "qtap [@server] [-p port] [-4|-6] [-t type] [-c class] [-x addr] [-q name] \
                      [name] [type] [class] [+option...] [--tap FILE]\n       \
                      qtap --read FILE... [+option...]"
)]
pub struct Cli {
    /// Query over TCP (+tcp).
    #[arg(long, help_heading = "Transport options")]
    pub tcp: bool,
    /// Query over DNS-over-TLS, port 853 (+tls).
    ///
    /// RFC 7858, ALPN "dot". The server certificate is verified against the system's roots
    /// (see the TLS options); there is never a silent plaintext fallback.
    #[arg(long, help_heading = "Transport options")]
    pub tls: bool,
    /// Query over DNS-over-HTTPS, port 443 (+https).
    ///
    /// RFC 8484: POST to PATH (default /dns-query), HTTP/2 with an HTTP/1.1 fallback (same as
    /// +https[=PATH]). @https://host/path sets the server and the path at once.
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = DEFAULT_DOH_PATH, require_equals = true, help_heading = "Transport options")]
    pub https: Option<String>,
    /// DNS-over-HTTPS with GET instead of POST (+https-get).
    #[arg(long, hide_short_help = true, help_heading = "Transport options")]
    pub https_get: bool,
    /// Query over DNS-over-QUIC, port 853 (+quic).
    ///
    /// RFC 9250, ALPN "doq", message ID 0.
    #[arg(long, help_heading = "Transport options")]
    pub quic: bool,
    /// Verify the server certificate against this CA file (PEM) instead of the system roots.
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS options"
    )]
    pub tls_ca: Option<PathBuf>,
    /// The name the server certificate must carry (default: the server's name or address).
    #[arg(
        long,
        value_name = "NAME",
        hide_short_help = true,
        help_heading = "TLS options"
    )]
    pub tls_hostname: Option<String>,
    /// The name to send in the TLS SNI extension.
    #[arg(
        long,
        value_name = "NAME",
        hide_short_help = true,
        help_heading = "TLS options"
    )]
    pub tls_sni: Option<String>,
    /// Accept the server if its key has this SPKI SHA-256 pin (base64; may repeat).
    ///
    /// RFC 7858 §4.2. A pin alone is enough to accept the server; with --tls-ca both must hold.
    #[arg(
        long,
        value_name = "BASE64",
        hide_short_help = true,
        help_heading = "TLS options"
    )]
    pub tls_pin: Vec<String>,
    /// Client certificate chain (PEM).
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS options"
    )]
    pub tls_certfile: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "TLS options"
    )]
    pub tls_keyfile: Option<PathBuf>,
    /// Accept any server certificate (insecure; announced with a warning).
    #[arg(long, hide_short_help = true, help_heading = "TLS options")]
    pub tls_insecure: bool,
    /// Show the negotiated TLS version, cipher suite, ALPN and the server key pin.
    ///
    /// Shown on stderr (same as +tlsinfo; also implied by +qr).
    #[arg(long, hide_short_help = true, help_heading = "TLS options")]
    pub tls_info: bool,
    /// Reuse one connection for all queries of the run (+keepopen).
    #[arg(long, hide_short_help = true, help_heading = "Transport options")]
    pub keepopen: bool,
    /// Record every message sent and received in this dnstap file ("-" for stdout).
    ///
    /// With "-" the text goes to stderr. The file is written beside the target and renamed into
    /// place when complete, with a STOP frame, also after a timeout, an error or Ctrl-C.
    /// qtap --read shows exactly what was shown live; kdig -G, dnstap-read and fstrm_dump read
    /// it too. See "TRACE FILES" in the man page before sharing one.
    #[arg(long, value_name = "FILE", help_heading = "Trace options")]
    pub tap: Option<PathBuf>,
    /// dnstap message types to record: stub (STUB_QUERY/RESPONSE) or tool (TOOL_*, like kdig).
    #[arg(long, value_enum, default_value_t = TapType::Stub, value_name = "TYPE", hide_short_help = true, help_heading = "Trace options")]
    pub tap_type: TapType,
    /// Set Dnstap.identity in recorded frames (left out by default, since traces get shared).
    #[arg(
        long,
        value_name = "NAME",
        hide_short_help = true,
        help_heading = "Trace options"
    )]
    pub tap_identity: Option<String>,
    /// Render dnstap files instead of querying ("-" for stdin).
    ///
    /// Any Frame Streams file of protobuf:dnstap.Dnstap, from qtap, kdig, Knot, Unbound or BIND,
    /// every message type. Responses are paired with their queries; +qr shows the queries too.
    /// Damaged input is reported with its byte offset and the rest is still shown (exit
    /// status 8).
    #[arg(long, value_name = "FILE", num_args = 1.., help_heading = "Trace options")]
    pub read: Vec<PathBuf>,
    /// Seconds to wait for each reply (+timeout).
    #[arg(long, value_name = "SECS", help_heading = "Transport options")]
    pub timeout: Option<u32>,
    /// Number of UDP tries (+tries).
    #[arg(
        long,
        value_name = "N",
        hide_short_help = true,
        help_heading = "Transport options"
    )]
    pub tries: Option<u32>,
    /// Output format: text (dig's layout) or short (+short).
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Output options")]
    pub format: Format,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output options")]
    pub color: ColorChoice,
    /// Write the man page or a shell completion script to stdout.
    #[arg(long, hide = true, value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,
    /// Largest data frame accepted by --read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, hide_short_help = true, help_heading = "Trace options")]
    pub max_frame_size: usize,
}

/// Which dnstap message types live mode records.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TapType {
    /// STUB_QUERY / STUB_RESPONSE.
    #[default]
    Stub,
    /// TOOL_QUERY / TOOL_RESPONSE, as kdig -E writes.
    Tool,
}

/// What `--generate` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generate {
    /// The roff man page (man/qtap.1).
    Man,
    /// bash completion (completions/qtap.bash).
    Bash,
    /// zsh completion (completions/qtap.zsh).
    Zsh,
    /// fish completion (completions/qtap.fish).
    Fish,
}

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// dig's text layout.
    #[default]
    Text,
    /// Answer RDATA only (same as +short).
    Short,
    /// A JSON array of RFC 8427 objects, one per DNS message, with the dnstap context.
    Json,
    /// The same objects as JSON Lines, one per line.
    Jsonl,
    /// YAML laid out like the Go `dnstap -y` tool.
    Yaml,
}

/// `--color`.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, NO_COLOR is unset and TERM is not dumb.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// A usage error: the message names the offending word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// `--help` or `--version`: not an error; the text is to be printed.
    #[error("{0}")]
    Help(String),
    /// clap rejected a long option (its text is kept, already formatted).
    #[error("{0}")]
    Clap(String),
    /// A `+option` qtap does not know.
    #[error("invalid option: {0}")]
    UnknownOption(String),
    /// A `+option` with a bad or missing value.
    #[error("bad value for {option}: {reason}")]
    BadValue {
        /// The option as typed.
        option: String,
        /// What is wrong.
        reason: String,
    },
    /// A `-x` flag with a flag that needs an argument but has none.
    #[error("option {0} needs an argument")]
    MissingArgument(String),
    /// An unknown `-x` flag.
    #[error("invalid flag: {0}")]
    UnknownFlag(String),
    /// A type after -t that is not a type.
    #[error("invalid type: {0}")]
    BadType(String),
    /// A class after -c that is not a class.
    #[error("invalid class: {0}")]
    BadClass(String),
    /// A name that is not a valid domain name.
    #[error("invalid name {name:?}: {reason}")]
    BadName {
        /// The name as typed.
        name: String,
        /// Why.
        reason: String,
    },
    /// -p with something that is not a port.
    #[error("invalid port: {0}")]
    BadPort(String),
    /// A batch-file line that names a server or port.
    #[error("batch line {0:?}: @server, -p, -4 and -6 belong on the command line")]
    BatchServer(String),
    /// A query word or `--tap` together with `--read`.
    #[error("{0} cannot be used with --read (it renders files; only +options apply)")]
    ReadConflict(String),
    /// -x with something that is not an address.
    #[error("invalid address for -x: {0}")]
    BadAddress(String),
}

/// Transport of one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP, falling back to TCP on TC=1.
    Udp,
    /// TCP.
    Tcp,
    /// DNS over TLS (RFC 7858).
    Tls,
    /// DNS over HTTPS (RFC 8484).
    Https {
        /// The URI path (default `/dns-query`).
        path: String,
        /// GET with a `dns=` parameter instead of POST.
        get: bool,
    },
    /// DNS over QUIC (RFC 9250).
    Quic,
}

impl Transport {
    /// The port used when `-p` is not given.
    pub fn default_port(&self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 53,
            Transport::Tls | Transport::Quic => 853,
            Transport::Https { .. } => 443,
        }
    }

    /// True for the transports that run over TLS.
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self,
            Transport::Tls | Transport::Https { .. } | Transport::Quic
        )
    }
}

/// The default DoH path (RFC 8484 §4.1 example, used by dig and kdig).
pub const DEFAULT_DOH_PATH: &str = "/dns-query";

/// TLS settings for DoT, DoH and DoQ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOpts {
    /// `+tls-ca`: Some(None) = system roots (the default anyway), Some(Some(file)) = this CA.
    pub ca: Option<Option<PathBuf>>,
    /// `+tls-hostname`: the name the certificate must carry.
    pub hostname: Option<String>,
    /// `+tls-sni`: the name sent in the TLS SNI extension.
    pub sni: Option<String>,
    /// `+tls-pin`: accepted SPKI SHA-256 pins, base64.
    pub pins: Vec<String>,
    /// `+tls-certfile`: client certificate chain (PEM).
    pub certfile: Option<PathBuf>,
    /// `+tls-keyfile`: client private key (PEM).
    pub keyfile: Option<PathBuf>,
    /// `+tls-insecure`: accept any certificate (announced with a warning).
    pub insecure: bool,
    /// `+tlsinfo`: show the negotiated TLS parameters.
    pub info: bool,
}

/// Per-query protocol settings (dig's lookup options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOpts {
    /// UDP or TCP.
    pub transport: Transport,
    /// RD flag (`+rec`).
    pub rd: bool,
    /// DO bit (`+dnssec`).
    pub dnssec: bool,
    /// CD flag (`+cdflag`).
    pub cd: bool,
    /// AD flag (`+adflag`, on by default like dig 9.18).
    pub ad: bool,
    /// AA flag (`+aaflag`).
    pub aa: bool,
    /// EDNS version, None for `+noedns`.
    pub edns: Option<u8>,
    /// EDNS UDP payload size (`+bufsize`).
    pub bufsize: u16,
    /// Send a client COOKIE (`+cookie`), optionally a given one.
    pub cookie: Option<Option<Vec<u8>>>,
    /// Ask for NSID (`+nsid`).
    pub nsid: bool,
    /// `+subnet=ADDR[/LEN]`: CLIENT-SUBNET.
    pub subnet: Option<(IpAddr, u8)>,
    /// `+expire`.
    pub expire: bool,
    /// `+keepalive`.
    pub keepalive: bool,
    /// `+padding=N`: pad queries to blocks of N bytes.
    pub padding: Option<u16>,
    /// `+ednsopt=CODE[:HEX]`, in order.
    pub ednsopts: Vec<(u16, Vec<u8>)>,
    /// `+ednsflags=N`: extra EDNS flag bits.
    pub ednsflags: u16,
    /// `+zflag`: set the header's Z bit.
    pub zflag: bool,
    /// `+parallel=N`: run up to N lookups of the run at once (output and
    /// trace still in input order).
    pub parallel: u16,
    /// Seconds to wait per try.
    pub timeout: u32,
    /// UDP tries.
    pub tries: u32,
    /// `+ignore`: do not retry over TCP on TC=1.
    pub ignore_tc: bool,
    /// `+keepopen`: reuse one TCP/TLS/HTTPS/QUIC connection for the run.
    pub keepopen: bool,
    /// TLS settings.
    pub tls: TlsOpts,
}

impl Default for QueryOpts {
    fn default() -> Self {
        QueryOpts {
            transport: Transport::Udp,
            rd: true,
            dnssec: false,
            cd: false,
            ad: true,
            aa: false,
            edns: Some(0),
            bufsize: 1232,
            cookie: Some(None),
            nsid: false,
            subnet: None,
            expire: false,
            keepalive: false,
            padding: None,
            ednsopts: Vec::new(),
            ednsflags: 0,
            zflag: false,
            parallel: 1,
            timeout: 5,
            tries: 3,
            ignore_tc: false,
            keepopen: false,
            tls: TlsOpts::default(),
        }
    }
}

/// One lookup: what to ask and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuerySpec {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
    /// For IXFR (`IXFR=N`): the serial the client has.
    pub ixfr_serial: Option<u32>,
    /// Protocol settings.
    pub opts: QueryOpts,
}

/// Everything on the command line, checked but not yet interpreted
/// against the environment.
#[derive(Clone, Debug, Default)]
pub struct Args {
    /// The GNU options.
    pub cli: Cli,
    /// `@server` as typed.
    pub server: Option<String>,
    /// `-p`.
    pub port: Option<u16>,
    /// True when `@server` came after the last `-p`: a port in the server
    /// text (`@host#port`) then wins over `-p`, as in kdig.
    pub server_after_port: bool,
    /// `-4` (Some(4)) or `-6` (Some(6)).
    pub family: Option<u8>,
    /// The lookups, in order (empty: the root NS query is implied).
    pub queries: Vec<QuerySpec>,
    /// Options that apply to the implied query when no name was given.
    pub default_opts: QueryOpts,
    /// Display settings.
    pub display: crate::render::DisplayOpts,
    /// True when `-h` was given (show short help).
    pub help: bool,
    /// `-f FILE`: a batch file of lookups, one per line.
    pub batch: Option<PathBuf>,
    /// No name was given: the root NS query was implied.
    pub implied_root: bool,
}

/// Long options that take a value in the next word when not written `--opt=value`.
const LONG_WITH_VALUE: &[&str] = &[
    "--tls-ca",
    "--tls-hostname",
    "--tls-sni",
    "--tls-pin",
    "--tls-certfile",
    "--tls-keyfile",
    "--tap",
    "--tap-type",
    "--tap-identity",
    "--read",
    "--timeout",
    "--tries",
    "--format",
    "--color",
    "--max-frame-size",
    "--generate",
];

/// The clap command with the help footers: `-h` lists the dig words and
/// the common `+options`, `--help` every one of [`PLUS_OPTIONS`] (see
/// [`crate::generate::help_footer`]).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
        .after_help(crate::generate::help_footer(false))
        .after_long_help(crate::generate::help_footer(true))
}

/// Splits argv into the words for clap and the dig words, then parses both.
/// `argv` includes the program name.
pub fn parse<I, T>(argv: I) -> Result<Args, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let argv: Vec<String> = argv
        .into_iter()
        .map(|a| a.into().to_string_lossy().into_owned())
        .collect();
    let mut gnu = vec![argv.first().cloned().unwrap_or_else(|| "qtap".into())];
    let mut dig = Vec::new();
    let mut words = argv.into_iter().skip(1);
    let mut in_read = false;
    while let Some(word) = words.next() {
        if word.starts_with("--") {
            in_read = word == "--read" || word.starts_with("--read=");
            let takes_value = LONG_WITH_VALUE.contains(&word.as_str());
            gnu.push(word);
            if takes_value {
                if let Some(v) = words.next() {
                    gnu.push(v);
                }
            }
        } else if word == "-h" || word == "-V" {
            gnu.push(word);
        } else if in_read && !word.starts_with('+') && !word.starts_with('-') {
            // Further files after --read FILE.
            gnu.push(word);
        } else {
            in_read = false;
            dig.push(word);
        }
    }
    // The help footers (every +option) are only built when help is asked
    // for: they were a quarter of qtap's own start-up work.
    let wants_help = gnu.iter().skip(1).any(|a| a == "-h" || a == "--help");
    let cmd = if wants_help {
        command()
    } else {
        <Cli as clap::CommandFactory>::command()
    };
    let parsed = cmd
        .try_get_matches_from(&gnu)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = parsed.map_err(|e| match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            CliError::Help(e.to_string())
        }
        _ => {
            // clap's message is several lines; keep the one that names the problem.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad option");
            CliError::Clap(first.trim_start_matches("error: ").to_owned())
        }
    })?;
    let mut args = Args {
        cli,
        ..Args::default()
    };
    let dig = idn_to_ascii(dig)?;
    parse_dig_words(&mut args, &dig)?;
    if !args.cli.read.is_empty() {
        // --read renders files: query words would be silently ignored.
        let query_word = dig.iter().find(|w| !w.starts_with('+'));
        if let Some(word) = query_word {
            return Err(CliError::ReadConflict(word.clone()));
        }
        if args.cli.tap.is_some() {
            return Err(CliError::ReadConflict("--tap".into()));
        }
    }
    Ok(args)
}

/// With `+idn` (the last of `+idn`/`+noidn` wins), words with non-ASCII
/// characters are names typed in Unicode: send them as A-labels (IDNA 2008
/// via the `idna` crate, UTS #46 processing).
fn idn_to_ascii(words: Vec<String>) -> Result<Vec<String>, CliError> {
    let on = words
        .iter()
        .rev()
        .find(|w| *w == "+idn" || *w == "+noidn")
        .is_some_and(|w| w == "+idn");
    if !on {
        return Ok(words);
    }
    words
        .into_iter()
        .map(|w| {
            if w.is_ascii() || w.starts_with('+') {
                return Ok(w);
            }
            let (prefix, name) = match w.strip_prefix('@') {
                Some(rest) => ("@", rest),
                None => ("", w.as_str()),
            };
            idna::domain_to_ascii(name)
                .map(|ascii| format!("{prefix}{ascii}"))
                .map_err(|e| CliError::BadName {
                    name: w.clone(),
                    reason: format!("not a valid internationalized name ({e})"),
                })
        })
        .collect()
}

/// dig's word classifier.
/// Query defaults from the GNU long options.
fn cli_defaults(c: &Cli) -> QueryOpts {
    let mut defaults = QueryOpts::default();
    if c.tcp {
        defaults.transport = Transport::Tcp;
    }
    if c.tls {
        defaults.transport = Transport::Tls;
    }
    if let Some(path) = &c.https {
        defaults.transport = Transport::Https {
            path: path.clone(),
            get: c.https_get,
        };
    } else if c.https_get {
        defaults.transport = Transport::Https {
            path: DEFAULT_DOH_PATH.into(),
            get: true,
        };
    }
    if c.quic {
        defaults.transport = Transport::Quic;
    }
    if let Some(ca) = &c.tls_ca {
        defaults.tls.ca = Some(Some(ca.clone()));
    }
    defaults.tls.hostname = c.tls_hostname.clone();
    defaults.tls.sni = c.tls_sni.clone();
    defaults.tls.pins = c.tls_pin.clone();
    defaults.tls.certfile = c.tls_certfile.clone();
    defaults.tls.keyfile = c.tls_keyfile.clone();
    defaults.tls.insecure = c.tls_insecure;
    defaults.tls.info = c.tls_info;
    defaults.keepopen = c.keepopen;
    if let Some(t) = c.timeout {
        defaults.timeout = t.max(1);
    }
    if let Some(t) = c.tries {
        defaults.tries = t.max(1);
    }
    defaults
}

fn parse_dig_words(args: &mut Args, words: &[String]) -> Result<(), CliError> {
    let defaults = cli_defaults(&args.cli);
    let implied = parse_words_with(args, words, defaults)?;
    args.implied_root = implied;
    Ok(())
}

/// A line of a batch file (`-f`): dig words, with the command line's
/// options as defaults. Server, port and display options are the command
/// line's; a line cannot change them.
pub fn parse_batch_line(base: &Args, line: &str) -> Result<Vec<QuerySpec>, CliError> {
    let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    // Scratch space: the classifier reads neither the GNU options nor the
    // display settings (a line's display options are dropped), so neither
    // is copied for every line.
    let mut scratch = Args::default();
    parse_words_with(&mut scratch, &words, base.default_opts.clone())?;
    if scratch.server.is_some() || scratch.port.is_some() || scratch.family.is_some() {
        return Err(CliError::BatchServer(line.trim().to_owned()));
    }
    Ok(scratch.queries)
}

/// The word classifier proper; returns true when no name was given (the
/// root NS query was implied).
fn parse_words_with(
    args: &mut Args,
    words: &[String],
    mut defaults: QueryOpts,
) -> Result<bool, CliError> {
    // The lookup being built, and whether its type/class came from the user.
    let mut current: Option<(QuerySpec, bool, bool)> = None;
    let mut pending_type: Option<(u16, Option<u32>)> = None;
    let mut pending_class: Option<u16> = None;
    let mut it = words.iter();
    let finish = |args: &mut Args, current: &mut Option<(QuerySpec, bool, bool)>| {
        if let Some((q, _, _)) = current.take() {
            args.queries.push(q);
        }
    };
    while let Some(word) = it.next() {
        if let Some(server) = word.strip_prefix('@') {
            args.server = Some(server.to_owned());
            args.server_after_port = true;
        } else if let Some(opt) = word.strip_prefix('+') {
            let target = match current.as_mut() {
                Some((q, _, _)) => &mut q.opts,
                None => &mut defaults,
            };
            apply_plus(opt, word, target, &mut args.display)?;
        } else if word.len() >= 2 && word.starts_with('-') {
            // Split after the flag's letter, which need not be ASCII ("-é").
            let split = word.char_indices().nth(2).map_or(word.len(), |(i, _)| i);
            let (flag, inline) = word.split_at(split);
            let value = |it: &mut std::slice::Iter<'_, String>| -> Result<String, CliError> {
                if !inline.is_empty() {
                    Ok(inline.to_owned())
                } else {
                    it.next()
                        .cloned()
                        .ok_or_else(|| CliError::MissingArgument(flag.to_owned()))
                }
            };
            match flag {
                "-4" if inline.is_empty() => args.family = Some(4),
                "-6" if inline.is_empty() => args.family = Some(6),
                "-p" => {
                    let v = value(&mut it)?;
                    args.port = Some(v.parse().map_err(|_| CliError::BadPort(v))?);
                    args.server_after_port = false;
                }
                "-t" => {
                    let v = value(&mut it)?;
                    let t = parse_qtype(&v).ok_or(CliError::BadType(v))?;
                    match current.as_mut() {
                        Some((q, typed, _)) if !*typed => {
                            (q.qtype, q.ixfr_serial) = t;
                            *typed = true;
                        }
                        _ => pending_type = Some(t),
                    }
                }
                "-c" => {
                    let v = value(&mut it)?;
                    let c = parse_class(&v).ok_or(CliError::BadClass(v))?;
                    match current.as_mut() {
                        Some((q, _, classed)) if !*classed => {
                            q.qclass = c;
                            *classed = true;
                        }
                        _ => pending_class = Some(c),
                    }
                }
                "-q" => {
                    let v = value(&mut it)?;
                    finish(args, &mut current);
                    current = Some(new_query(
                        &v,
                        &defaults,
                        &mut pending_type,
                        &mut pending_class,
                    )?);
                }
                "-f" => {
                    args.batch = Some(PathBuf::from(value(&mut it)?));
                }
                "-x" => {
                    let v = value(&mut it)?;
                    let addr: IpAddr = v.parse().map_err(|_| CliError::BadAddress(v.clone()))?;
                    finish(args, &mut current);
                    let q = QuerySpec {
                        name: Name::reverse(addr),
                        qtype: types::PTR,
                        qclass: pending_class.take().unwrap_or(types::IN),
                        ixfr_serial: None,
                        opts: defaults.clone(),
                    };
                    current = Some((q, true, false));
                }
                _ => return Err(CliError::UnknownFlag(word.clone())),
            }
        } else {
            // A free word: a type or class for the current lookup, else a name.
            if let Some((q, typed, classed)) = current.as_mut() {
                if !*typed {
                    if let Some(t) = parse_qtype(word) {
                        (q.qtype, q.ixfr_serial) = t;
                        *typed = true;
                        continue;
                    }
                }
                if !*classed {
                    if let Some(c) = parse_class(word) {
                        q.qclass = c;
                        *classed = true;
                        continue;
                    }
                }
            }
            finish(args, &mut current);
            current = Some(new_query(
                word,
                &defaults,
                &mut pending_type,
                &mut pending_class,
            )?);
        }
    }
    finish(args, &mut current);
    let implied = args.queries.is_empty();
    if implied {
        let (qtype, ixfr_serial) = pending_type.unwrap_or((types::NS, None));
        args.queries.push(QuerySpec {
            name: Name::root(),
            qtype,
            qclass: pending_class.unwrap_or(types::IN),
            ixfr_serial,
            opts: defaults.clone(),
        });
    }
    // Zone transfers run over a stream, as in dig.
    for q in &mut args.queries {
        if crate::dns::xfr::is_xfr(q.qtype) && q.opts.transport == Transport::Udp {
            q.opts.transport = Transport::Tcp;
        }
    }
    args.default_opts = defaults;
    Ok(implied)
}

/// A query type: a mnemonic, TYPEnnn, or dig's `IXFR=serial`.
fn parse_qtype(text: &str) -> Option<(u16, Option<u32>)> {
    if let Some((name, serial)) = text.split_once('=') {
        if name.eq_ignore_ascii_case("IXFR") {
            return serial.parse().ok().map(|s| (types::IXFR, Some(s)));
        }
        return None;
    }
    parse_type(text).map(|t| (t, None))
}

fn new_query(
    text: &str,
    defaults: &QueryOpts,
    pending_type: &mut Option<(u16, Option<u32>)>,
    pending_class: &mut Option<u16>,
) -> Result<(QuerySpec, bool, bool), CliError> {
    let name = Name::from_text(text).map_err(|e| CliError::BadName {
        name: text.to_owned(),
        reason: e.to_string(),
    })?;
    let typed = pending_type.is_some();
    let classed = pending_class.is_some();
    let (qtype, ixfr_serial) = pending_type.take().unwrap_or((types::A, None));
    Ok((
        QuerySpec {
            name,
            qtype,
            qclass: pending_class.take().unwrap_or(types::IN),
            ixfr_serial,
            opts: defaults.clone(),
        },
        typed,
        classed,
    ))
}

/// What kind of `+option` an entry of [`PLUS_OPTIONS`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlusKind {
    /// `+name` / `+noname`.
    Flag,
    /// `+name=value` (`+noname` resets where that makes sense).
    Value,
    /// `+name`, `+noname` or `+name=value`.
    FlagOrValue,
}

/// Every `+option` qtap knows, with a one-line description: the parser,
/// `--help` and the man page all read this table.
pub const PLUS_OPTIONS: &[(&str, PlusKind, &str)] = &[
    ("tcp", PlusKind::Flag, "query over TCP"),
    ("vc", PlusKind::Flag, "query over TCP (virtual circuit)"),
    (
        "recurse",
        PlusKind::Flag,
        "set the RD (recursion desired) flag",
    ),
    ("dnssec", PlusKind::Flag, "set the DO bit (DNSSEC OK)"),
    (
        "cdflag",
        PlusKind::Flag,
        "set the CD (checking disabled) flag",
    ),
    ("adflag", PlusKind::Flag, "set the AD (authentic data) flag"),
    ("aaflag", PlusKind::Flag, "set the AA flag in the query"),
    (
        "bufsize",
        PlusKind::Value,
        "EDNS UDP payload size (0-65535)",
    ),
    (
        "edns",
        PlusKind::FlagOrValue,
        "use EDNS, optionally with a version",
    ),
    ("qr", PlusKind::Flag, "show the query as it is sent"),
    ("short", PlusKind::Flag, "show answer RDATA only"),
    ("timeout", PlusKind::Value, "seconds to wait for a reply"),
    ("tries", PlusKind::Value, "number of UDP tries"),
    (
        "retry",
        PlusKind::Value,
        "number of UDP retries (tries - 1)",
    ),
    (
        "ignore",
        PlusKind::Flag,
        "do not retry over TCP when truncated",
    ),
    ("comments", PlusKind::Flag, "show comment lines"),
    ("question", PlusKind::Flag, "show the question section"),
    ("answer", PlusKind::Flag, "show the answer section"),
    ("authority", PlusKind::Flag, "show the authority section"),
    ("additional", PlusKind::Flag, "show the additional section"),
    (
        "stats",
        PlusKind::Flag,
        "show query time, server, when and size",
    ),
    ("cmd", PlusKind::Flag, "show the banner line"),
    ("all", PlusKind::Flag, "set or clear all display flags"),
    (
        "cookie",
        PlusKind::FlagOrValue,
        "send a client COOKIE, optionally a given one (hex)",
    ),
    ("nsid", PlusKind::Flag, "ask for the server's NSID"),
    (
        "subnet",
        PlusKind::Value,
        "send CLIENT-SUBNET for ADDR[/LEN]",
    ),
    ("expire", PlusKind::Flag, "ask for the zone's EXPIRE timer"),
    (
        "keepalive",
        PlusKind::Flag,
        "ask for the TCP KEEPALIVE timeout",
    ),
    (
        "padding",
        PlusKind::Value,
        "pad queries to blocks of N bytes (RFC 8467)",
    ),
    (
        "ednsopt",
        PlusKind::Value,
        "send EDNS option CODE[:HEX] (+noednsopt clears them)",
    ),
    (
        "ednsflags",
        PlusKind::Value,
        "set extra EDNS flag bits (decimal or 0x hex)",
    ),
    (
        "zflag",
        PlusKind::Flag,
        "set the reserved Z bit in the query header",
    ),
    (
        "multiline",
        PlusKind::Flag,
        "long records over several lines, with comments",
    ),
    (
        "parallel",
        PlusKind::Value,
        "run up to N lookups at once (output and trace stay in input order)",
    ),
    (
        "idn",
        PlusKind::Flag,
        "IDN: names typed in Unicode are sent as A-labels, A-labels shown in Unicode",
    ),
    (
        "json",
        PlusKind::Flag,
        "JSON output (same as --format json)",
    ),
    (
        "yaml",
        PlusKind::Flag,
        "YAML output (same as --format yaml)",
    ),
    ("ttlid", PlusKind::Flag, "show the TTL column"),
    ("class", PlusKind::Flag, "show the class column"),
    ("crypto", PlusKind::Flag, "show key and signature material"),
    (
        "rrcomments",
        PlusKind::Flag,
        "show per-record comments (DNSKEY role, algorithm, key id)",
    ),
    (
        "split",
        PlusKind::Value,
        "split base64/hex fields into chunks of W characters (0: never)",
    ),
    (
        "unknownformat",
        PlusKind::Flag,
        "print every RDATA in the RFC 3597 generic form",
    ),
    ("tls", PlusKind::Flag, "query over DNS-over-TLS (port 853)"),
    (
        "https",
        PlusKind::FlagOrValue,
        "query over DNS-over-HTTPS (port 443), POST to the path",
    ),
    (
        "https-get",
        PlusKind::FlagOrValue,
        "DNS-over-HTTPS with GET, to the path",
    ),
    (
        "https-post",
        PlusKind::FlagOrValue,
        "DNS-over-HTTPS with POST (the default), to the path",
    ),
    (
        "quic",
        PlusKind::Flag,
        "query over DNS-over-QUIC (port 853)",
    ),
    (
        "tls-ca",
        PlusKind::FlagOrValue,
        "verify against the system roots, or this CA file",
    ),
    (
        "tls-hostname",
        PlusKind::Value,
        "the name the server certificate must carry",
    ),
    ("tls-sni", PlusKind::Value, "the name sent in TLS SNI"),
    (
        "tls-pin",
        PlusKind::Value,
        "accept a server key with this SPKI SHA-256 pin (base64)",
    ),
    (
        "tls-certfile",
        PlusKind::Value,
        "client certificate chain (PEM)",
    ),
    ("tls-keyfile", PlusKind::Value, "client private key (PEM)"),
    (
        "tls-insecure",
        PlusKind::Flag,
        "accept any server certificate (insecure)",
    ),
    (
        "tlsinfo",
        PlusKind::Flag,
        "show TLS version, cipher, ALPN and the server key pin",
    ),
    (
        "keepopen",
        PlusKind::Flag,
        "reuse one connection for all queries",
    ),
];

/// dig accepts unambiguous abbreviations of some long options.
fn canonical(name: &str) -> Option<&'static str> {
    let aliases: &[(&str, &str)] = &[
        ("rec", "recurse"),
        ("cd", "cdflag"),
        ("ad", "adflag"),
        ("aa", "aaflag"),
        ("aaonly", "aaflag"),
        ("time", "timeout"),
        ("try", "tries"),
        ("add", "additional"),
        ("auth", "authority"),
        ("ans", "answer"),
        ("ques", "question"),
        ("comm", "comments"),
        ("buf", "bufsize"),
        ("cl", "class"),
        ("multi", "multiline"),
    ];
    if let Some((_, c)) = aliases.iter().find(|(a, _)| *a == name) {
        return Some(c);
    }
    PLUS_OPTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
}

fn required(word: &str, value: Option<&str>) -> Result<String, CliError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(CliError::BadValue {
            option: word.to_owned(),
            reason: "a value is required".into(),
        }),
    }
}

fn number<T: std::str::FromStr>(word: &str, value: Option<&str>) -> Result<T, CliError> {
    let v = value.ok_or_else(|| CliError::BadValue {
        option: word.to_owned(),
        reason: "a value is required".into(),
    })?;
    v.parse().map_err(|_| CliError::BadValue {
        option: word.to_owned(),
        reason: format!("{v:?} is not a valid number"),
    })
}

fn parse_hex(word: &str, text: &str) -> Result<Vec<u8>, CliError> {
    let bad = || CliError::BadValue {
        option: word.to_owned(),
        reason: "expected an even number of hex digits".into(),
    };
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

/// The valid `+option` spelling nearest to an unknown one (`name` without
/// `+` or `=value`), for "did you mean" hints: the table's names and, for
/// options that can be switched off, their `no` forms. The closest by edit
/// distance (typos, a missing or extra letter, two swapped letters) within
/// a limit growing with the length; else the only name the word begins.
fn nearest_plus_option(name: &str) -> Option<String> {
    let typed = name.to_ascii_lowercase();
    if typed.is_empty() {
        return None;
    }
    let candidates: Vec<String> = PLUS_OPTIONS
        .iter()
        .flat_map(|(n, kind, _)| {
            let no = (*kind != PlusKind::Value).then(|| format!("no{n}"));
            std::iter::once((*n).to_owned()).chain(no)
        })
        .collect();
    let limit = match typed.chars().count() {
        0..=3 => 1,
        4..=6 => 2,
        _ => 3,
    };
    let best = candidates
        .iter()
        .map(|c| (edit_distance(&typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d);
    if let Some((_, c)) = best {
        return Some(c.clone());
    }
    let mut prefixed = candidates
        .iter()
        .filter(|c| typed.chars().count() >= 3 && c.starts_with(&typed));
    match (prefixed.next(), prefixed.next()) {
        (Some(only), None) => Some(only.clone()),
        _ => None,
    }
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and transpositions of adjacent characters each cost 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j] = distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        if let Some(first) = row.first_mut() {
            *first = i;
        }
    }
    if let Some(top) = rows.first_mut() {
        for (j, cell) in top.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// Applies one `+option` (without its `+`).
fn apply_plus(
    opt: &str,
    word: &str,
    q: &mut QueryOpts,
    d: &mut crate::render::DisplayOpts,
) -> Result<(), CliError> {
    let (raw_name, value) = match opt.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (opt, None),
    };
    let (on, bare) = match raw_name.strip_prefix("no") {
        Some(rest) if canonical(rest).is_some() => (false, rest),
        _ => (true, raw_name),
    };
    let name = canonical(bare).ok_or_else(|| {
        CliError::UnknownOption(match nearest_plus_option(raw_name) {
            Some(near) => format!("{word} (did you mean +{near}?)"),
            None => word.to_owned(),
        })
    })?;
    let kind = PLUS_OPTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(PlusKind::Flag, |(_, k, _)| *k);
    if kind == PlusKind::Flag && value.is_some() {
        return Err(CliError::BadValue {
            option: word.to_owned(),
            reason: "takes no value".into(),
        });
    }
    match name {
        "tcp" | "vc" => {
            q.transport = if on { Transport::Tcp } else { Transport::Udp };
        }
        "recurse" => q.rd = on,
        "dnssec" => {
            q.dnssec = on;
            if on && q.edns.is_none() {
                q.edns = Some(0);
            }
        }
        "cdflag" => q.cd = on,
        "adflag" => q.ad = on,
        "aaflag" => q.aa = on,
        "bufsize" => {
            if on {
                q.bufsize = number(word, value)?;
                if q.edns.is_none() {
                    q.edns = Some(0);
                }
            } else {
                q.bufsize = 1232;
            }
        }
        "edns" => {
            q.edns = if !on {
                None
            } else {
                match value {
                    Some(_) => Some(number(word, value)?),
                    None => Some(0),
                }
            };
        }
        "timeout" => q.timeout = number::<u32>(word, value)?.max(1),
        "tries" => q.tries = number::<u32>(word, value)?.max(1),
        "retry" => q.tries = number::<u32>(word, value)?.saturating_add(1),
        "ignore" => {
            q.ignore_tc = on;
        }
        "cookie" => {
            q.cookie = if !on {
                None
            } else {
                match value {
                    Some(hex) => {
                        let bytes = parse_hex(word, hex)?;
                        if !(8..=40).contains(&bytes.len()) {
                            return Err(CliError::BadValue {
                                option: word.to_owned(),
                                reason: "a cookie is 8 to 40 bytes".into(),
                            });
                        }
                        Some(Some(bytes))
                    }
                    None => Some(None),
                }
            };
        }
        "tls" => {
            q.transport = if on { Transport::Tls } else { Transport::Udp };
        }
        "https" | "https-post" | "https-get" => {
            q.transport = if on {
                let path = match value {
                    Some(p) if p.starts_with('/') => p.to_owned(),
                    Some(p) => {
                        return Err(CliError::BadValue {
                            option: word.to_owned(),
                            reason: format!("{p:?} is not a path starting with /"),
                        })
                    }
                    None => DEFAULT_DOH_PATH.to_owned(),
                };
                Transport::Https {
                    path,
                    get: name == "https-get",
                }
            } else {
                Transport::Udp
            };
        }
        "quic" => {
            q.transport = if on { Transport::Quic } else { Transport::Udp };
        }
        "tls-ca" => {
            q.tls.ca = if on {
                Some(value.map(PathBuf::from))
            } else {
                None
            };
        }
        "tls-hostname" => q.tls.hostname = on.then(|| required(word, value)).transpose()?,
        "tls-sni" => q.tls.sni = on.then(|| required(word, value)).transpose()?,
        "tls-pin" => {
            if on {
                let pin = required(word, value)?;
                let ok = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &pin)
                    .is_ok_and(|b| b.len() == 32);
                if !ok {
                    return Err(CliError::BadValue {
                        option: word.to_owned(),
                        reason: "a pin is the base64 of a 32-byte SHA-256 digest".into(),
                    });
                }
                q.tls.pins.push(pin);
            } else {
                q.tls.pins.clear();
            }
        }
        "tls-certfile" => {
            q.tls.certfile = on
                .then(|| required(word, value).map(PathBuf::from))
                .transpose()?;
        }
        "tls-keyfile" => {
            q.tls.keyfile = on
                .then(|| required(word, value).map(PathBuf::from))
                .transpose()?;
        }
        "tls-insecure" => q.tls.insecure = on,
        "tlsinfo" => q.tls.info = on,
        "keepopen" => q.keepopen = on,
        "subnet" => {
            q.subnet = if on {
                let text = required(word, value)?;
                let bad = || CliError::BadValue {
                    option: word.to_owned(),
                    reason: format!("{text:?} is not ADDR[/LEN]"),
                };
                let (addr, len) = match text.split_once('/') {
                    Some((a, l)) => (a, Some(l)),
                    None => (text.as_str(), None),
                };
                let addr: IpAddr = addr.parse().map_err(|_| bad())?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let len = match len {
                    Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max).ok_or_else(bad)?,
                    None => max,
                };
                Some((addr, len))
            } else {
                None
            };
            if on && q.edns.is_none() {
                q.edns = Some(0);
            }
        }
        "expire" => q.expire = on,
        "keepalive" => q.keepalive = on,
        "padding" => q.padding = if on { Some(number(word, value)?) } else { None },
        "ednsflags" => {
            let text = required(word, value)?;
            let n = match text.strip_prefix("0x").or(text.strip_prefix("0X")) {
                Some(hex) => u16::from_str_radix(hex, 16).ok(),
                None => text.parse().ok(),
            };
            // DO is +dnssec; the other 15 bits are what this sets.
            q.ednsflags = n.ok_or_else(|| CliError::BadValue {
                option: word.to_owned(),
                reason: format!("{text:?} is not a 16-bit number"),
            })? & 0x7fff;
        }
        "ednsopt" => match (on, value) {
            (false, _) => q.ednsopts.clear(),
            (true, None) => {
                return Err(CliError::BadValue {
                    option: word.to_owned(),
                    reason: "expected CODE[:HEX]".into(),
                })
            }
            (true, Some(v)) => {
                let (code, hex) = match v.split_once(':') {
                    Some((c, h)) => (c, h),
                    None => (v, ""),
                };
                let code: u16 = code.parse().map_err(|_| CliError::BadValue {
                    option: word.to_owned(),
                    reason: format!("{code:?} is not an option code (0-65535)"),
                })?;
                q.ednsopts.push((code, parse_hex(word, hex)?));
            }
        },
        "zflag" => q.zflag = on,
        "parallel" => {
            let n: u16 = number(word, value)?;
            q.parallel = n.max(1);
        }
        "multiline" => d.multiline = on,
        "idn" => d.idn = on,
        "json" => d.format = if on { Some(Format::Json) } else { None },
        "yaml" => d.format = if on { Some(Format::Yaml) } else { None },
        "ttlid" => d.ttlid = on,
        "class" => d.class = on,
        "crypto" => d.crypto = on,
        "rrcomments" => d.rrcomments = Some(on),
        "unknownformat" => d.rdata.unknown_format = on,
        "split" => {
            // dig rounds the width up to a multiple of 4.
            let w: usize = number(word, value)?;
            d.rdata.split = w.div_ceil(4) * 4;
        }
        "nsid" => {
            q.nsid = on;
            if on && q.edns.is_none() {
                q.edns = Some(0);
            }
        }
        "qr" => d.qr = on,
        "short" => d.short = on,
        "comments" => d.comments = on,
        "question" => d.question = on,
        "answer" => d.answer = on,
        "authority" => d.authority = on,
        "additional" => d.additional = on,
        "stats" => d.stats = on,
        "cmd" => d.cmd = on,
        "all" => {
            d.cmd = on;
            d.comments = on;
            d.question = on;
            d.answer = on;
            d.authority = on;
            d.additional = on;
            d.stats = on;
        }
        other => return Err(CliError::UnknownOption(format!("+{other}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(words: &[&str]) -> Args {
        let mut argv = vec!["qtap"];
        argv.extend_from_slice(words);
        parse(argv).unwrap()
    }

    fn perr(words: &[&str]) -> CliError {
        let mut argv = vec!["qtap"];
        argv.extend_from_slice(words);
        parse(argv).unwrap_err()
    }

    #[test]
    fn name_type_class_and_server() {
        let a = p(&["@192.0.2.53", "example.com", "AAAA", "CH"]);
        assert_eq!(a.server.as_deref(), Some("192.0.2.53"));
        assert_eq!(a.queries.len(), 1);
        let q = &a.queries[0];
        assert_eq!(q.name.to_string(), "example.com.");
        assert_eq!(q.qtype, types::AAAA);
        assert_eq!(q.qclass, types::CH);
    }

    #[test]
    fn several_queries_in_one_run() {
        let a = p(&["a.example", "A", "b.example", "MX", "c.example"]);
        let got: Vec<(String, u16)> = a
            .queries
            .iter()
            .map(|q| (q.name.to_string(), q.qtype))
            .collect();
        assert_eq!(
            got,
            [
                ("a.example.".into(), types::A),
                ("b.example.".into(), types::MX),
                ("c.example.".into(), types::A)
            ]
        );
    }

    #[test]
    fn dash_flags() {
        let a = p(&["-p", "5353", "-t", "TXT", "-c", "IN", "-q", "mx", "-6"]);
        assert_eq!(a.port, Some(5353));
        assert_eq!(a.family, Some(6));
        assert_eq!(a.queries[0].name.to_string(), "mx.");
        assert_eq!(a.queries[0].qtype, types::TXT);
        let a = p(&["example.com", "-tMX", "-p53"]);
        assert_eq!(a.queries[0].qtype, types::MX);
        assert_eq!(a.port, Some(53));
        let a = p(&["-t", "TYPE65400", "x.example"]);
        assert_eq!(a.queries[0].qtype, 65400);
    }

    #[test]
    fn zone_transfers_use_tcp_and_ixfr_takes_a_serial() {
        let a = p(&["example.com", "AXFR", "example.org", "ixfr=2024"]);
        assert_eq!(a.queries[0].qtype, types::AXFR);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert_eq!(a.queries[1].qtype, types::IXFR);
        assert_eq!(a.queries[1].ixfr_serial, Some(2024));
        assert_eq!(a.queries[1].opts.transport, Transport::Tcp);
        let a = p(&["-t", "IXFR=7", "example.com", "+tls"]);
        assert_eq!(a.queries[0].ixfr_serial, Some(7));
        assert_eq!(a.queries[0].opts.transport, Transport::Tls);
        assert!(matches!(perr(&["-t", "IXFR=x"]), CliError::BadType(_)));
    }

    #[test]
    fn reverse_lookup() {
        let a = p(&["-x", "192.0.2.1"]);
        assert_eq!(a.queries[0].name.to_string(), "1.2.0.192.in-addr.arpa.");
        assert_eq!(a.queries[0].qtype, types::PTR);
    }

    #[test]
    fn no_name_means_root_ns() {
        let a = p(&[]);
        assert_eq!(a.queries[0].name, Name::root());
        assert_eq!(a.queries[0].qtype, types::NS);
    }

    #[test]
    fn plus_options_before_a_name_are_defaults_after_it_are_local() {
        let a = p(&["+tcp", "a.example", "+norec", "b.example"]);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert!(!a.queries[0].opts.rd);
        assert_eq!(a.queries[1].opts.transport, Transport::Tcp);
        assert!(a.queries[1].opts.rd);
    }

    #[test]
    fn plus_option_values_and_edns() {
        let a = p(&[
            "x.example",
            "+bufsize=4096",
            "+dnssec",
            "+tries=2",
            "+timeout=1",
        ]);
        let o = &a.queries[0].opts;
        assert_eq!(o.bufsize, 4096);
        assert!(o.dnssec);
        assert_eq!(o.tries, 2);
        assert_eq!(o.timeout, 1);
        let a = p(&["x.example", "+noedns", "+retry=0", "+nocookie"]);
        let o = &a.queries[0].opts;
        assert_eq!(o.edns, None);
        assert_eq!(o.tries, 1);
        assert_eq!(o.cookie, None);
        let a = p(&["x.example", "+cookie=0102030405060708"]);
        assert_eq!(
            a.queries[0].opts.cookie,
            Some(Some(vec![1, 2, 3, 4, 5, 6, 7, 8]))
        );
    }

    #[test]
    fn edns_options() {
        let a = p(&[
            "x.example",
            "+subnet=192.0.2.9/24",
            "+expire",
            "+keepalive",
            "+padding=128",
            "+ednsopt=65001:abcd",
            "+ednsopt=10",
            "+ednsflags=0x10",
            "+zflag",
        ]);
        let o = &a.queries[0].opts;
        assert_eq!(o.subnet, Some(("192.0.2.9".parse().unwrap(), 24)));
        assert!(o.expire && o.keepalive && o.zflag);
        assert_eq!(o.padding, Some(128));
        assert_eq!(o.ednsopts, [(65001, vec![0xab, 0xcd]), (10, vec![])]);
        assert_eq!(o.ednsflags, 0x10);
        let a = p(&["x.example", "+subnet=2001:db8::1"]);
        assert_eq!(a.queries[0].opts.subnet.unwrap().1, 128);
        assert!(matches!(
            perr(&["+subnet=192.0.2.0/33"]),
            CliError::BadValue { .. }
        ));
        assert!(matches!(
            perr(&["+ednsopt=x:00"]),
            CliError::BadValue { .. }
        ));
        assert!(matches!(
            perr(&["+ednsopt=1:0g"]),
            CliError::BadValue { .. }
        ));
        assert!(matches!(
            perr(&["+ednsflags=70000"]),
            CliError::BadValue { .. }
        ));
    }

    #[test]
    fn display_flags_are_global() {
        let a = p(&["x.example", "+short", "+noall", "+answer", "+qr"]);
        assert!(a.display.short && a.display.answer && a.display.qr);
        assert!(!a.display.comments && !a.display.stats && !a.display.cmd);
    }

    #[test]
    fn long_options_mix_with_dig_words() {
        let a = p(&[
            "example.com",
            "--tap",
            "t.fstrm",
            "MX",
            "--tcp",
            "--timeout=2",
        ]);
        assert_eq!(a.cli.tap.as_deref(), Some(std::path::Path::new("t.fstrm")));
        assert_eq!(a.queries[0].qtype, types::MX);
        assert_eq!(a.queries[0].opts.transport, Transport::Tcp);
        assert_eq!(a.queries[0].opts.timeout, 2);
        let a = p(&["--read", "a.fstrm", "b.fstrm", "+qr"]);
        assert_eq!(a.cli.read.len(), 2);
        assert!(a.display.qr);
    }

    #[test]
    fn usage_errors_name_the_word() {
        assert_eq!(
            perr(&["x.example", "+bogus"]),
            CliError::UnknownOption("+bogus".into())
        );
        assert!(matches!(perr(&["-t", "NOTATYPE"]), CliError::BadType(_)));
        assert!(matches!(perr(&["-p", "99999"]), CliError::BadPort(_)));
        assert!(matches!(perr(&["-x", "nope"]), CliError::BadAddress(_)));
        assert!(matches!(perr(&["-z"]), CliError::UnknownFlag(_)));
        assert!(matches!(perr(&["-p"]), CliError::MissingArgument(_)));
        assert!(matches!(perr(&["+bufsize=big"]), CliError::BadValue { .. }));
        assert!(matches!(perr(&["+tcp=1"]), CliError::BadValue { .. }));
        assert!(matches!(perr(&["--bogus"]), CliError::Clap(_)));
        assert!(matches!(perr(&["+cookie=0102"]), CliError::BadValue { .. }));
    }

    #[test]
    fn unknown_plus_options_suggest_the_nearest_valid_one() {
        let cases = [
            ("+tcpp", "+tcpp (did you mean +tcp?)"),
            ("+tpc", "+tpc (did you mean +tcp?)"),
            ("+notcpp", "+notcpp (did you mean +notcp?)"),
            ("+dnsec", "+dnsec (did you mean +dnssec?)"),
            ("+TCP", "+TCP (did you mean +tcp?)"),
            ("+bufsiz=4096", "+bufsiz=4096 (did you mean +bufsize?)"),
            (
                "+tls-hostnme=x",
                "+tls-hostnme=x (did you mean +tls-hostname?)",
            ),
            ("+addit", "+addit (did you mean +additional?)"),
            ("+nocomment", "+nocomment (did you mean +nocomments?)"),
            ("+tls-", "+tls- (did you mean +tls?)"),
        ];
        for (word, message) in cases {
            assert_eq!(
                perr(&["x.example", word]),
                CliError::UnknownOption(message.into()),
                "{word}"
            );
        }
        // Nothing near: no hint, rather than a wild guess.
        for word in ["+bogus", "+x", "+zzzzzzzz"] {
            assert_eq!(
                perr(&[word]),
                CliError::UnknownOption(word.into()),
                "{word}"
            );
        }
        assert_eq!(
            perr(&["+tcpp"]).to_string(),
            "invalid option: +tcpp (did you mean +tcp?)"
        );
    }

    #[test]
    fn every_suggestion_is_itself_a_valid_option() {
        for word in [
            "tc",
            "tlss",
            "quick",
            "noedn",
            "cookies",
            "https-gett",
            "keepopn",
        ] {
            let near = nearest_plus_option(word).unwrap_or_else(|| panic!("{word}"));
            assert!(
                parse(["qtap", &format!("+{near}")]).is_ok(),
                "{word} -> {near}"
            );
        }
    }

    #[test]
    fn edit_distance_counts_each_kind_of_edit() {
        assert_eq!(edit_distance("tcp", "tcp"), 0);
        assert_eq!(edit_distance("tcp", "tcpp"), 1);
        assert_eq!(edit_distance("tcp", "tp"), 1);
        assert_eq!(edit_distance("tcp", "tcq"), 1);
        assert_eq!(edit_distance("tcp", "tpc"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn short_help_lists_common_options_and_long_help_every_one() {
        let short = command().render_help().to_string();
        let long = command().render_long_help().to_string();
        for common in [
            "--tcp", "--tls", "--tap", "--read", "+short", "-x ADDR", "--help",
        ] {
            assert!(short.contains(common), "-h lacks {common}:\n{short}");
        }
        for rare in ["--tls-pin", "--max-frame-size", "+tls-keyfile"] {
            assert!(!short.contains(rare), "-h shows {rare}");
            assert!(long.contains(rare), "--help lacks {rare}");
        }
        // clap may re-wrap the footer on a narrow terminal: compare words.
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let long_words = words(&long);
        for (name, _, help) in PLUS_OPTIONS {
            assert!(
                long.contains(&format!("+{name}")) || long.contains(&format!("+[no]{name}")),
                "--help lacks +{name}"
            );
            assert!(
                long_words.contains(&words(help)),
                "--help lacks the text of +{name}"
            );
        }
        assert!(short.lines().count() < long.lines().count() / 2);
    }

    #[test]
    fn batch_lines_use_the_command_line_defaults() {
        let base = p(&["+tcp", "-f", "batch.txt"]);
        assert_eq!(
            base.batch.as_deref(),
            Some(std::path::Path::new("batch.txt"))
        );
        assert!(base.implied_root);
        let q = parse_batch_line(&base, "a.example MX b.example +notcp").unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(
            (q[0].qtype, &q[0].opts.transport),
            (types::MX, &Transport::Tcp)
        );
        assert_eq!(q[1].opts.transport, Transport::Udp);
        assert!(matches!(
            parse_batch_line(&base, "@192.0.2.1 a.example"),
            Err(CliError::BatchServer(_))
        ));
        assert!(parse_batch_line(&base, "a.example +bogus").is_err());
        let named = p(&["x.example", "-f", "b"]);
        assert!(!named.implied_root);
    }

    #[test]
    fn idn_names_become_a_labels_only_with_idn() {
        let a = p(&["bücher.example", "+idn"]);
        assert_eq!(a.queries[0].name.to_string(), "xn--bcher-kva.example.");
        assert!(a.display.idn);
        let a = p(&["bücher.example"]);
        assert_eq!(a.queries[0].name.to_string(), "b\\195\\188cher.example.");
        let a = p(&["+idn", "bücher.example", "+noidn"]);
        assert!(!a.display.idn);
    }

    #[test]
    fn read_mode_takes_only_display_options() {
        assert!(matches!(
            perr(&["example.com", "--read", "t.fstrm"]),
            CliError::ReadConflict(_)
        ));
        assert!(matches!(
            perr(&["--read", "t.fstrm", "--tap", "u"]),
            CliError::ReadConflict(_)
        ));
        assert!(matches!(
            perr(&["@192.0.2.1", "--read", "t"]),
            CliError::ReadConflict(_)
        ));
        assert_eq!(p(&["--read", "t.fstrm", "+qr", "+short"]).cli.read.len(), 1);
    }

    #[test]
    fn verify_clap_definition() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
