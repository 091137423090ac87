//! The GNU long options (`--tcp`, `--tap FILE`, `--read`, ...), declared
//! for clap, and the query defaults they set. dig's own words are read by
//! `words` and `plus`; clap never sees them.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::CliError;
use crate::query::spec::{QueryOpts, TapType, Transport, DEFAULT_DOH_PATH};
use crate::render::Format;

/// GNU-style options. dig-style words are collected separately.
///
/// `-h` shows the first line of each help text and only the common
/// options; `--help` shows the long texts, every option and (from
/// [`super::doc::help_footer`]) every `+option` of [`super::plus::TABLE`].
#[derive(Parser, Debug, Default, Clone)]
#[command(
    name = "qtap",
    version,
    about = "dig-style DNS lookups, recorded as dnstap; and a renderer for any dnstap file",
    long_about = "dig-style DNS lookups, recorded as dnstap; and a renderer for any dnstap file.\n\n\
                  qtap reads its arguments as dig does: @server, names, types, classes, +options and \
                  dig's -p -4 -6 -t -c -x -q -y -k flags, in any order, several lookups per run. It prints \
                  the answers in dig's layout. --tap FILE also records every message sent and received \
                  as a dnstap trace; --read FILE renders any dnstap trace (qtap's, kdig's, Knot's, \
                  Unbound's or BIND's) in the same layout, byte for byte as it was shown live.",
    override_usage = "qtap [@server] [-p port] [-4|-6] [-t type] [-c class] [-x addr] [-q name] \
                      [-y [alg:]name:secret | -k keyfile] [name] [type] [class] [+option...] \
                      [--tap FILE]\n       \
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
    /// unix:PATH or tcp:ADDR:PORT streams the records to a Frame Streams collector instead
    /// (fstrm_capture, dnstap -u/-l, qtap --read unix:...), with the bidirectional handshake;
    /// an absent or refusing collector stops the run before any query (exit status 11).
    /// With "-" the text goes to stderr. The file is written beside the target and renamed into
    /// place when complete, with a STOP frame, also after a timeout, an error, SIGINT, SIGTERM,
    /// SIGHUP or SIGQUIT; devices, FIFOs and symbolic links are written through (see TRACE FILES).
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
    /// Render dnstap files instead of querying ("-" for stdin); unix:PATH or tcp:ADDR:PORT listens.
    ///
    /// Any Frame Streams file of protobuf:dnstap.Dnstap, from qtap, kdig, Knot, Unbound or BIND,
    /// every message type. Responses are paired with their queries; +qr shows the queries too.
    /// Damaged input is reported with its byte offset and the rest is still shown (exit
    /// status 8). unix:PATH and tcp:ADDR:PORT make qtap a live collector: servers (Knot
    /// mod-dnstap, Unbound, BIND, dnsdist) connect and each message is shown as it arrives,
    /// until SIGINT, SIGTERM, SIGHUP or SIGQUIT (exit status 0, or 8 if frames were lost;
    /// SIGHUP ignored at start, as under nohup, stays ignored); see --write.
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
    /// Output format: text (dig's layout), short (+short), json (an array of RFC 8427 objects),
    /// jsonl (one object a line) or yaml (the Go dnstap tool's layout); live or with --read.
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Output options")]
    pub format: Format,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output options")]
    pub color: ColorChoice,
    /// Write the man page or a shell completion script to stdout.
    #[arg(long, hide = true, value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,
    /// Select exchanges about NAME or any name below it (label by label, any case; may repeat).
    ///
    /// Selection options pick exchanges for --read, --write and --stats. The same option
    /// repeated means any of its values; different options must all hold. Each option is
    /// tested against the query and the response of an exchange together, and a query and its
    /// response are kept or left out together (a query kept only because of its response comes
    /// out just before it).
    #[arg(long, value_name = "NAME", help_heading = "Selection options")]
    pub qname: Vec<String>,
    /// Select exchanges whose query name, as shown (e.g. www.example.com.), matches RE.
    ///
    /// Rust regex syntax (linear time, size-limited); add (?i) for any case.
    #[arg(
        long,
        value_name = "RE",
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub qname_regex: Vec<String>,
    /// Select exchanges whose question has this type (A, AAAA, TYPE65, ...).
    #[arg(long, value_name = "TYPE", help_heading = "Selection options")]
    pub qtype: Vec<String>,
    /// Select exchanges answered with this rcode (NXDOMAIN, SERVFAIL, 3, ...).
    #[arg(long, value_name = "RCODE", help_heading = "Selection options")]
    pub rcode: Vec<String>,
    /// Select by dnstap message type (CLIENT_QUERY, ...) or family (auth, resolver, client,
    /// forwarder, stub, tool, update).
    #[arg(
        long,
        value_name = "TYPE",
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub msg_type: Vec<String>,
    /// Select exchanges with this address, or one in this prefix, on either side.
    #[arg(long, value_name = "ADDR[/LEN]", help_heading = "Selection options")]
    pub addr: Vec<String>,
    /// Select exchanges with this port on either side.
    #[arg(
        long,
        value_name = "N",
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub port: Vec<String>,
    /// Select by transport: udp, tcp, dot, doh or doq.
    #[arg(
        long,
        value_name = "PROTO",
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub proto: Vec<String>,
    /// Select messages recorded at or after TIME (RFC 3339, or relative: -10m, -2h).
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub since: Vec<String>,
    /// Select messages recorded at or before TIME (RFC 3339, or relative: -10m, -2h).
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub until: Vec<String>,
    /// Select exchanges whose response took longer than DURATION (250ms, 1.5s, ...).
    #[arg(long, value_name = "DURATION", help_heading = "Selection options")]
    pub slower_than: Vec<String>,
    /// Select exchanges with a truncated (TC) message.
    #[arg(long, hide_short_help = true, help_heading = "Selection options")]
    pub tc: bool,
    /// Select exchanges with the DNSSEC OK (DO) bit set.
    #[arg(
        long = "do",
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub do_bit: bool,
    /// Select frames with this dnstap identity.
    #[arg(
        long,
        value_name = "NAME",
        hide_short_help = true,
        help_heading = "Selection options"
    )]
    pub identity: Vec<String>,
    /// With --read: save the selected frames as a dnstap file ("-" for stdout) instead of
    /// rendering them; with a collector (--read unix:PATH or tcp:ADDR:PORT), save what it
    /// receives while showing it.
    ///
    /// A valid Frame Streams file (START, the frames byte for byte unless --scrub, STOP), read
    /// by kdig -G, dnstap-read, the Go dnstap tool and qtap; renamed into place complete, also
    /// on SIGINT and SIGTERM. OUT may not be one of the inputs. For a collector, a name with %
    /// is a strftime pattern (cap-%Y%m%d-%H%M%S.fstrm), expanded for each new file.
    #[arg(long, value_name = "OUT", help_heading = "Sharing options")]
    pub write: Option<PathBuf>,
    /// Make the trace safe to share: pseudonymous addresses, no identity, version, ECS,
    /// cookies, NSID or padding (see "SHARING A TRACE SAFELY").
    #[arg(long, help_heading = "Sharing options")]
    pub scrub: bool,
    /// Key for --scrub's address pseudonyms: a file of 32 bytes or 64 hex digits (default: a
    /// random key for this run only).
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "Sharing options"
    )]
    pub scrub_key: Option<PathBuf>,
    /// With --scrub: replace ports too (a keyed permutation).
    #[arg(long, hide_short_help = true, help_heading = "Sharing options")]
    pub scrub_ports: bool,
    /// With --scrub: replace each label of question and owner names by a keyed hash of the same
    /// length (names inside RDATA stay).
    #[arg(long, hide_short_help = true, help_heading = "Sharing options")]
    pub scrub_names: bool,
    /// With --read: a summary instead of the messages (counts, pairs, top names and clients,
    /// latency percentiles); --format json for machines.
    #[arg(long, help_heading = "Sharing options")]
    pub stats: bool,
    /// With --read: the unique RRsets seen in responses, passive-DNS style (DNSDB's text
    /// layout, or with --format jsonl/json the common output format as JSON Lines).
    ///
    /// Each RRset with its bailiwick (dnstap's query_zone, else the zone of the SOA or NS
    /// records of the response's authority section, else the question; said which), first and
    /// last seen and count; records outside the bailiwick are flagged. At most 1,000,000
    /// RRsets are kept; more are counted on stderr.
    #[arg(long, help_heading = "Sharing options")]
    pub rrsets: bool,
    /// Send every query of a dnstap trace to the server again and show what changed ("-" for
    /// stdin).
    ///
    /// Each query (query frames, or the query message inside a response frame) goes to @server with
    /// its recorded bytes apart from the ID and TSIG (-y/-k signs afresh), over the transport
    /// recorded unless +tcp, +tls, +https, +quic or a scheme://server chooses one; +timeout, +tries
    /// and +parallel=N apply; with +proxy each query's PROXY v2 header carries the client address
    /// recorded with it. Each new response is compared with the recorded one (rcode, flags, EDNS
    /// but COOKIE and PADDING, each section as a set of RRsets, TTLs ignored) and classed as same,
    /// differs, no recorded response or no new response; differences are shown dig-style (-
    /// recorded, + new), then a summary. Exit status 12 when any response differs or is missing.
    /// unix:PATH or tcp:ADDR:PORT listens as the collector does and replays the queries as they
    /// arrive, until SIGINT or SIGTERM. See "REPLAYING A TRACE" in the man page.
    #[arg(long, value_name = "FILE", help_heading = "Replay options")]
    pub replay: Option<PathBuf>,
    /// With --replay: send at most QPS queries per second.
    #[arg(long, value_name = "QPS", help_heading = "Replay options")]
    pub rate: Option<f64>,
    /// With --replay: pace the queries by their recorded times, N times faster than recorded
    /// (1: real time).
    #[arg(long, value_name = "N", help_heading = "Replay options")]
    pub speed: Option<f64>,
    /// With --replay: compare TTLs too.
    #[arg(long, hide_short_help = true, help_heading = "Replay options")]
    pub compare_ttl: bool,
    /// With --replay: leave RRSIG expiration, inception and signature out of the comparison (a
    /// re-signed zone compares equal).
    #[arg(long, hide_short_help = true, help_heading = "Replay options")]
    pub ignore_rrsig_times: bool,
    /// With --replay: write the recorded query and response and the new response of every
    /// query that differs to this dnstap file, ready to attach to a bug report.
    #[arg(long, value_name = "FILE", help_heading = "Replay options")]
    pub mismatches: Option<PathBuf>,
    /// With --replay: the queries' EDNS: keep (as recorded), fresh-cookie (a new client cookie
    /// instead of the recorded one), no-cookie, none (no OPT record).
    #[arg(long, value_enum, default_value_t = crate::replay::rewrite::EdnsMode::Keep, value_name = "MODE", hide_short_help = true, help_heading = "Replay options")]
    pub replay_edns: crate::replay::rewrite::EdnsMode,
    /// Rows in the top lists of --stats and of --replay's summary.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10,
        hide_short_help = true,
        help_heading = "Sharing options"
    )]
    pub top: usize,
    /// Render DNS messages given as hex or base64 ("-": one per line from stdin).
    #[arg(long, value_name = "HEX", num_args = 1.., help_heading = "Sharing options")]
    pub hex: Vec<String>,
    /// Render the DNS message in FILE (raw bytes; "-" for stdin).
    #[arg(
        long,
        value_name = "FILE",
        hide_short_help = true,
        help_heading = "Sharing options"
    )]
    pub wire: Option<PathBuf>,
    /// Largest data frame accepted by --read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, hide_short_help = true, help_heading = "Trace options")]
    pub max_frame_size: usize,
    /// Start a new --write file once it holds this many bytes (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, hide_short_help = true, help_heading = "Collector options")]
    pub rotate_size: Option<u64>,
    /// Start a new --write file at each multiple of this interval on the clock (90, 15m, 1h, 1d).
    ///
    /// SIGUSR1 starts a new file at once.
    #[arg(long, value_name = "TIME", value_parser = parse_interval, hide_short_help = true, help_heading = "Collector options")]
    pub rotate_interval: Option<std::time::Duration>,
    /// Keep only the last N --write files of the run; older ones are removed.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..),
        hide_short_help = true,
        help_heading = "Collector options"
    )]
    pub rotate_keep: Option<u32>,
    /// Permission bits of a --read or --replay unix: socket file, in octal (e.g. 660).
    #[arg(long, value_name = "MODE", value_parser = parse_mode, hide_short_help = true, help_heading = "Collector options")]
    pub socket_mode: Option<u32>,
    /// Owner of a --read or --replay unix: socket file: USER[:GROUP], names or numbers.
    #[arg(
        long,
        value_name = "USER[:GROUP]",
        hide_short_help = true,
        help_heading = "Collector options"
    )]
    pub socket_owner: Option<String>,
    /// Memory a collector's queue holds for rendering and saving, for all senders together
    /// (suffixes K, M, G; default 16M).
    ///
    /// The frames go in runs, each counted by the memory it holds: a run under 32 KiB is copied
    /// out and counts its length, a larger one keeps its whole read buffer (about 64 KiB, more
    /// for a larger frame) and counts that, so fewer frame bytes than SIZE may be queued; a run
    /// larger than SIZE still goes through, alone. When the queue is full qtap stops reading from
    /// the senders until there is room (backpressure: qtap never drops a frame it has read); each
    /// connection also holds at most one frame being received (--max-frame-size) and a 64 KiB
    /// read buffer.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, hide_short_help = true, help_heading = "Collector options")]
    pub collector_buffer: Option<u64>,
    /// Senders a collector serves at once (default 64); more are refused, reported on stderr,
    /// and make the exit code 8.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=65535),
        hide_short_help = true,
        help_heading = "Collector options"
    )]
    pub max_connections: Option<u32>,
    /// With --read or --replay unix:PATH or tcp:ADDR:PORT: end once every sender that connected
    /// has closed its connection (after the first), not only on a signal.
    #[arg(long, hide_short_help = true, help_heading = "Collector options")]
    pub until_closed: bool,
    /// Show nothing of what a collector receives (with --write: a capture daemon).
    #[arg(long, hide_short_help = true, help_heading = "Collector options")]
    pub no_output: bool,
}

/// `--rotate-size`: bytes, with an optional K, M or G (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(format!("unknown unit in {text:?} (use K, M or G)")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 1048576, 512K, 100M)"))?;
    n.checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// `--rotate-interval`: seconds, or a number with s, m, h or d.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return Err(format!("unknown unit in {text:?} (use s, m, h or d)")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a time (e.g. 3600, 15m, 1h)"))?;
    n.checked_mul(per)
        .filter(|&s| s > 0)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// `--socket-mode`: octal permission bits (read, write, execute for
/// user, group and others; set-ID and sticky bits mean nothing on a
/// socket and are refused).
fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{text:?} is not an octal permission mode (0 to 777, e.g. 660)"))
}

impl Cli {
    /// The selection options given, as `(option, value)` pairs for
    /// [`crate::select::Filter::from_pairs`].
    pub fn selection(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let lists: [(&'static str, &Vec<String>); 12] = [
            ("qname", &self.qname),
            ("qname-regex", &self.qname_regex),
            ("qtype", &self.qtype),
            ("rcode", &self.rcode),
            ("msg-type", &self.msg_type),
            ("addr", &self.addr),
            ("port", &self.port),
            ("proto", &self.proto),
            ("since", &self.since),
            ("until", &self.until),
            ("slower-than", &self.slower_than),
            ("identity", &self.identity),
        ];
        for (name, values) in lists {
            pairs.extend(values.iter().map(|v| (name, v.clone())));
        }
        if self.tc {
            pairs.push(("tc", String::new()));
        }
        if self.do_bit {
            pairs.push(("do", String::new()));
        }
        pairs
    }
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

/// The long options whose value may be the next word (`--tap FILE`, not
/// `--https[=PATH]`), read from the clap definition.
pub(super) fn long_options_with_value(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| a.get_action().takes_values() && !a.is_require_equals_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// Query defaults from the GNU long options.
pub(super) fn cli_defaults(c: &Cli) -> Result<QueryOpts, CliError> {
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
    for pin in &c.tls_pin {
        super::plus::check_pin("--tls-pin", pin)?;
    }
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
    Ok(defaults)
}
