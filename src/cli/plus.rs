//! dig's `+options`: ONE table ([`TABLE`]) whose entries carry the name,
//! the aliases, the kind of value, the help text and the function that
//! applies the option. The parser, `--help`, the man page's DIG OPTIONS and
//! the completion scripts all read it, so none can drift from another.
//!
//! Name rule (dig's): an option may be abbreviated to any prefix that names
//! only one option (`+mul`, `+nostat`, `+tri=1`). dig's parser decides by
//! fixed letters per option, so a prefix naming several options is refused
//! there too ("invalid option"); qtap lists the candidates. The names dig
//! has and qtap lacks ([`DIG_ONLY`]) take part in that test, so a prefix
//! means the same option in both tools, and naming one of them says it is
//! not supported by qtap. A few short forms dig resolves although they are
//! prefixes of several names are aliases here (`+ttl` is `+ttlid`, `+ad`
//! is `+adflag`, `+do` is `+dnssec`, `+i` is `+ignore`). Names are case-sensitive. `+noNAME` switches an option off.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::CliError;
use crate::query::spec::{Chase, Hints, Proxy, ProxyAddrs, QueryOpts, Transport, DEFAULT_DOH_PATH};
use crate::render::options::ChaseLayout;
use crate::render::{DisplayOpts, Format};

/// `+trace` / `+nssearch` on or off (as in dig, the later one wins).
fn set_chase(on: bool, chase: Chase, layout: ChaseLayout, q: &mut QueryOpts, d: &mut DisplayOpts) {
    if on {
        q.chase = Some(chase);
        d.chase = Some(layout);
    } else if q.chase == Some(chase) {
        q.chase = None;
        d.chase = None;
    }
}

/// What an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlusKind {
    /// `+name` / `+noname`.
    Flag,
    /// `+name=value` (`+noname` resets where that makes sense).
    Value,
    /// `+name`, `+noname` or `+name=value`.
    FlagOrValue,
}

/// One use of an option, as the apply function sees it.
#[derive(Clone, Copy, Debug)]
pub struct Given<'a> {
    /// The word as typed, for messages.
    pub word: &'a str,
    /// False for `+noNAME`.
    pub on: bool,
    /// The text after `=`.
    pub value: Option<&'a str>,
}

/// What an option changes: the lookup's settings or the run's display.
type Apply = fn(Given<'_>, &mut QueryOpts, &mut DisplayOpts) -> Result<(), CliError>;

/// One entry of the `+option` table.
pub struct PlusOption {
    /// The name, as help texts show it.
    pub name: &'static str,
    /// Other spellings dig accepts (never shown).
    pub aliases: &'static [&'static str],
    /// Flag, value or both.
    pub kind: PlusKind,
    /// The placeholder for the value in help texts (`N`, `FILE`...).
    pub value_name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Applies the option.
    pub apply: Apply,
}

/// A flag entry.
const fn flag(name: &'static str, help: &'static str, apply: Apply) -> PlusOption {
    PlusOption {
        name,
        aliases: &[],
        kind: PlusKind::Flag,
        value_name: "",
        help,
        apply,
    }
}

/// A flag entry that only turns one switch on or off: a field of the
/// display options (`d.field`) or of the query's (`q.field`).
macro_rules! switch {
    ($name:literal, $help:literal, d.$field:ident) => {
        flag($name, $help, |g, _, d| {
            d.$field = g.on;
            Ok(())
        })
    };
    ($name:literal, $help:literal, q.$field:ident) => {
        flag($name, $help, |g, q, _| {
            q.$field = g.on;
            Ok(())
        })
    };
}

/// An entry taking a value (`kind` Value or FlagOrValue).
const fn valued(
    name: &'static str,
    kind: PlusKind,
    value_name: &'static str,
    help: &'static str,
    apply: Apply,
) -> PlusOption {
    PlusOption {
        name,
        aliases: &[],
        kind,
        value_name,
        help,
        apply,
    }
}

impl PlusOption {
    /// The same entry with dig's other spellings.
    const fn aka(self, aliases: &'static [&'static str]) -> PlusOption {
        PlusOption { aliases, ..self }
    }
}

use PlusKind::{FlagOrValue, Value};

/// Every `+option` qtap knows, in the order help texts list them.
pub static TABLE: &[PlusOption] = &[
    flag("tcp", "query over TCP", |g, q, _| {
        q.transport = if g.on { Transport::Tcp } else { Transport::Udp };
        q.udp_asked = !g.on;
        Ok(())
    }),
    flag("vc", "query over TCP (virtual circuit)", |g, q, _| {
        q.transport = if g.on { Transport::Tcp } else { Transport::Udp };
        q.udp_asked = !g.on;
        Ok(())
    }),
    switch!("recurse", "set the RD (recursion desired) flag", q.rd)
    .aka(&["rec", "rdflag"]),
    flag("dnssec", "set the DO bit (DNSSEC OK)", |g, q, _| {
        q.dnssec = g.on;
        edns_on(g, q);
        Ok(())
    })
    .aka(&["do"]),
    switch!("cdflag", "set the CD (checking disabled) flag", q.cd)
    .aka(&["cd"]),
    switch!("adflag", "set the AD (authentic data) flag", q.ad)
    .aka(&["ad"]),
    switch!("aaflag", "set the AA flag in the query", q.aa)
    .aka(&["aa", "aaonly"]),
    valued(
        "bufsize",
        Value,
        "N",
        "EDNS UDP payload size (0-65535)",
        |g, q, _| {
            if g.on {
                q.bufsize = number(g)?;
                edns_on(g, q);
            } else {
                q.bufsize = 1232;
            }
            Ok(())
        },
    )
    .aka(&["buf"]),
    valued(
        "edns",
        FlagOrValue,
        "VERSION",
        "use EDNS, optionally with a version",
        |g, q, _| {
            q.edns = match (g.on, g.value) {
                (false, _) => None,
                (true, Some(_)) => Some(number(g)?),
                (true, None) => Some(0),
            };
            Ok(())
        },
    ),
    switch!("qr", "show the query as it is sent", d.qr),
    switch!("short", "show answer RDATA only", d.short),
    valued(
        "timeout",
        Value,
        "SECS",
        "seconds to wait for a reply",
        |g, q, _| {
            q.timeout = number::<u32>(g)?.max(1);
            Ok(())
        },
    )
    .aka(&["time"]),
    valued("tries", Value, "N", "number of UDP tries", |g, q, _| {
        q.tries = number::<u32>(g)?.max(1);
        Ok(())
    })
    .aka(&["try"]),
    valued(
        "retry",
        Value,
        "N",
        "number of UDP retries (tries - 1)",
        |g, q, _| {
            q.tries = number::<u32>(g)?.saturating_add(1);
            Ok(())
        },
    )
    .aka(&["retries"]),
    switch!("ignore", "do not retry over TCP when truncated", q.ignore_tc)
    .aka(&["i"]),
    switch!("comments", "show comment lines", d.comments)
    .aka(&["comm"]),
    switch!("question", "show the question section", d.question)
    .aka(&["ques"]),
    switch!("answer", "show the answer section", d.answer)
    .aka(&["ans"]),
    switch!("authority", "show the authority section", d.authority)
    .aka(&["auth"]),
    switch!("additional", "show the additional section", d.additional)
    .aka(&["add"]),
    switch!("stats", "show query time, server, when and size", d.stats),
    switch!("cmd", "show the banner line", d.cmd),
    flag("all", "set or clear all display flags", |g, _, d| {
        d.cmd = g.on;
        d.comments = g.on;
        d.question = g.on;
        d.answer = g.on;
        d.authority = g.on;
        d.additional = g.on;
        d.stats = g.on;
        Ok(())
    }),
    valued(
        "cookie",
        FlagOrValue,
        "HEX",
        "send a client COOKIE, optionally a given one (hex)",
        |g, q, _| {
            q.cookie = match (g.on, g.value) {
                (false, _) => None,
                (true, None) => Some(None),
                (true, Some(hex)) => {
                    let bytes = parse_hex(g.word, hex)?;
                    if !(8..=40).contains(&bytes.len()) {
                        return Err(bad(g, "a cookie is 8 to 40 bytes"));
                    }
                    Some(Some(bytes))
                }
            };
            Ok(())
        },
    ),
    flag("nsid", "ask for the server's NSID", |g, q, _| {
        q.nsid = g.on;
        edns_on(g, q);
        Ok(())
    }),
    valued(
        "subnet",
        Value,
        "ADDR/LEN",
        "send CLIENT-SUBNET for ADDR[/LEN]",
        |g, q, _| {
            q.subnet = if g.on { Some(subnet(g)?) } else { None };
            edns_on(g, q);
            Ok(())
        },
    ),
    switch!("expire", "ask for the zone's EXPIRE timer", q.expire),
    switch!("keepalive", "ask for the TCP KEEPALIVE timeout", q.keepalive),
    valued(
        "padding",
        Value,
        "N",
        "pad queries to blocks of N bytes (RFC 8467; 0-512, as dig)",
        |g, q, _| {
            q.padding = match g.on {
                true => Some(number(g).and_then(|n| at_most(g, n, MAX_PADDING))?),
                false => None,
            };
            Ok(())
        },
    ),
    valued(
        "ednsopt",
        Value,
        "CODE:HEX",
        "send EDNS option CODE[:HEX] (+noednsopt clears them)",
        |g, q, _| {
            let Some(v) = g.value.filter(|_| g.on) else {
                if g.on {
                    return Err(bad(g, "expected CODE[:HEX]"));
                }
                q.ednsopts.clear();
                return Ok(());
            };
            let (code, hex) = v.split_once(':').unwrap_or((v, ""));
            let code: u16 = unsigned(code)
                .ok_or_else(|| bad(g, &format!("{code:?} is not an option code (0-65535)")))?;
            q.ednsopts.push((code, parse_hex(g.word, hex)?));
            Ok(())
        },
    ),
    valued(
        "ednsflags",
        Value,
        "N",
        "set extra EDNS flag bits (decimal or 0x hex)",
        |g, q, _| {
            let text = required(g)?;
            let n = match text.strip_prefix("0x").or(text.strip_prefix("0X")) {
                Some(hex) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u16::from_str_radix(hex, 16).ok()
                }
                Some(_) => None,
                None => unsigned(&text),
            };
            // DO is +dnssec; the other 15 bits are what this sets.
            q.ednsflags =
                n.ok_or_else(|| bad(g, &format!("{text:?} is not a 16-bit number")))? & 0x7fff;
            Ok(())
        },
    ),
    switch!("zflag", "set the reserved Z bit in the query header", q.zflag),
    switch!("multiline", "long records over several lines, with comments", d.multiline)
    .aka(&["multi"]),
    valued(
        "parallel",
        Value,
        "N",
        "run up to N lookups at once (output and trace stay in input order)",
        |g, q, _| {
            let n = number::<u16>(g)?;
            if n == 0 {
                return Err(bad(g, "\"0\" is out of range (at least 1)"));
            }
            q.parallel = n;
            Ok(())
        },
    ),
    switch!(
        "idn",
        "IDN: names typed in Unicode are sent as A-labels, A-labels shown in Unicode",
        d.idn
    ),
    flag("json", "JSON output (same as --format json)", |g, _, d| {
        d.format = g.on.then_some(Format::Json);
        Ok(())
    }),
    flag("yaml", "YAML output (same as --format yaml)", |g, _, d| {
        d.format = g.on.then_some(Format::Yaml);
        Ok(())
    }),
    switch!("ttlid", "show the TTL column", d.ttlid)
    .aka(&["ttl"]),
    switch!("class", "show the class column", d.class)
    .aka(&["cl"]),
    switch!("crypto", "show key and signature material", d.crypto),
    flag(
        "rrcomments",
        "show per-record comments (DNSKEY role, algorithm, key id)",
        |g, _, d| {
            d.rrcomments = Some(g.on);
            Ok(())
        },
    ),
    valued(
        "split",
        Value,
        "W",
        "split base64/hex fields into chunks of W characters (0: never)",
        |g, _, d| {
            // dig rounds the width up to a multiple of 4.
            let w: usize = number(g)?;
            d.rdata.split = w.div_ceil(4) * 4;
            Ok(())
        },
    ),
    flag(
        "unknownformat",
        "print every RDATA in the RFC 3597 generic form",
        |g, _, d| {
            d.rdata.unknown_format = g.on;
            Ok(())
        },
    ),
    flag("tls", "query over DNS-over-TLS (port 853)", |g, q, _| {
        q.transport = if g.on { Transport::Tls } else { Transport::Udp };
        Ok(())
    }),
    valued(
        "https",
        FlagOrValue,
        "PATH",
        "query over DNS-over-HTTPS (port 443), POST to the path",
        |g, q, _| https(g, q, false),
    ),
    valued(
        "https-get",
        FlagOrValue,
        "PATH",
        "DNS-over-HTTPS with GET, to the path",
        |g, q, _| https(g, q, true),
    ),
    valued(
        "https-post",
        FlagOrValue,
        "PATH",
        "DNS-over-HTTPS with POST (the default), to the path",
        |g, q, _| https(g, q, false),
    ),
    flag("quic", "query over DNS-over-QUIC (port 853)", |g, q, _| {
        q.transport = if g.on {
            Transport::Quic
        } else {
            Transport::Udp
        };
        Ok(())
    }),
    valued(
        "tls-ca",
        FlagOrValue,
        "FILE",
        "verify against the system roots, or this CA file",
        |g, q, _| {
            q.tls.ca = g.on.then(|| g.value.map(PathBuf::from));
            Ok(())
        },
    ),
    valued(
        "tls-hostname",
        Value,
        "NAME",
        "the name the server certificate must carry",
        |g, q, _| {
            q.tls.hostname = g.on.then(|| required(g)).transpose()?;
            Ok(())
        },
    ),
    valued(
        "tls-sni",
        Value,
        "NAME",
        "the name sent in TLS SNI",
        |g, q, _| {
            q.tls.sni = g.on.then(|| required(g)).transpose()?;
            Ok(())
        },
    ),
    valued(
        "tls-pin",
        Value,
        "BASE64",
        "accept a server key with this SPKI SHA-256 pin (base64)",
        |g, q, _| {
            if g.on {
                let pin = required(g)?;
                check_pin(g.word, &pin)?;
                q.tls.pins.push(pin);
            } else {
                q.tls.pins.clear();
            }
            Ok(())
        },
    ),
    valued(
        "tls-certfile",
        Value,
        "FILE",
        "client certificate chain (PEM)",
        |g, q, _| {
            q.tls.certfile = g.on.then(|| required(g).map(PathBuf::from)).transpose()?;
            Ok(())
        },
    ),
    valued(
        "tls-keyfile",
        Value,
        "FILE",
        "client private key (PEM)",
        |g, q, _| {
            q.tls.keyfile = g.on.then(|| required(g).map(PathBuf::from)).transpose()?;
            Ok(())
        },
    ),
    flag(
        "tls-insecure",
        "accept any server certificate (insecure)",
        |g, q, _| {
            q.tls.insecure = g.on;
            Ok(())
        },
    ),
    flag(
        "tlsinfo",
        "show TLS version, cipher, ALPN and the server key pin",
        |g, q, _| {
            q.tls.info = g.on;
            Ok(())
        },
    ),
    switch!("keepopen", "reuse one connection for all queries", q.keepopen),
    valued(
        "proxy",
        FlagOrValue,
        "SRC[#PORT]-DST[#PORT]",
        "send a PROXY v2 header (LOCAL without addresses; with --replay, the recorded client)",
        |g, q, _| {
            q.proxy = match g.on {
                true => Some(Proxy {
                    addrs: proxy_addrs(g)?,
                    plain: q.proxy.is_some_and(|p| p.plain),
                }),
                false => None,
            };
            Ok(())
        },
    ),
    valued(
        "proxy-plain",
        FlagOrValue,
        "SRC[#PORT]-DST[#PORT]",
        "+proxy, sent before the TLS handshake",
        |g, q, _| {
            match (g.on, &mut q.proxy) {
                (true, _) => {
                    q.proxy = Some(Proxy {
                        addrs: proxy_addrs(g)?,
                        plain: true,
                    })
                }
                (false, Some(p)) => p.plain = false,
                (false, None) => {}
            }
            Ok(())
        },
    ),
    valued(
        "qid",
        Value,
        "N",
        "send this message ID instead of a random one",
        |g, q, _| {
            q.qid = if g.on { Some(number(g)?) } else { None };
            Ok(())
        },
    ),
    flag(
        "header-only",
        "send a query with a header and no question",
        |g, q, _| {
            q.header.header_only = g.on;
            Ok(())
        },
    ),
    valued(
        "opcode",
        Value,
        "OPCODE",
        "the query's OPCODE: QUERY, IQUERY, STATUS, NOTIFY, UPDATE or 0-15",
        |g, q, _| {
            q.header.opcode = if g.on { opcode(g)? } else { 0 };
            Ok(())
        },
    ),
    flag("raflag", "set the RA flag in the query", |g, q, _| {
        q.header.ra = g.on;
        Ok(())
    }),
    flag("tcflag", "set the TC flag in the query", |g, q, _| {
        q.header.tc = g.on;
        Ok(())
    }),
    flag(
        "ednsnegotiation",
        "accepted for dig; qtap never renegotiates the EDNS version (no effect)",
        |_, _, _| Ok(()),
    ),
    flag(
        "fail",
        "accepted for dig; qtap asks one server, so a SERVFAIL always ends the lookup",
        |_, _, _| Ok(()),
    ),
    flag(
        "besteffort",
        "accepted for dig; qtap always shows what it can of a malformed reply",
        |_, _, _| Ok(()),
    ),
    flag(
        "showbadcookie",
        "accepted for dig; qtap does not retry after BADCOOKIE, so that reply is shown",
        |_, _, _| Ok(()),
    ),
    switch!(
        "identify",
        "with +short, show the server and query time after each answer; with +nostats, a \
         ;; Received line instead of the statistics",
        d.identify
    ),
    flag(
        "ttlunits",
        "show TTLs in units (1h30m) rather than seconds",
        |g, _, d| {
            d.ttlunits = g.on;
            if g.on {
                d.ttlid = true;
            }
            Ok(())
        },
    ),
    switch!("expandaaaa", "show AAAA addresses with every digit", d.expandaaaa),
    switch!(
        "onesoa",
        "in a full zone transfer (AXFR), show the opening SOA record only",
        d.onesoa
    ),
    flag(
        "trace",
        "chase the delegation from the root, showing each step (with +dnssec)",
        |g, q, d| {
            set_chase(g.on, Chase::Trace, ChaseLayout::Trace, q, d);
            if g.on {
                // dig 9.18's trace defaults; options after +trace change them.
                q.dnssec = true;
                d.identify = true;
                d.comments = false;
                d.rrcomments = Some(false);
                d.stats = false;
                d.question = false;
                d.authority = true;
                d.additional = false;
            }
            Ok(())
        },
    ),
    flag(
        "nssearch",
        "find the zone's servers from the root and show the SOA record of each",
        |g, q, d| {
            set_chase(g.on, Chase::NsSearch, ChaseLayout::NsSearch, q, d);
            Ok(())
        },
    ),
    valued(
        "hints",
        Value,
        "FILE",
        "+trace, +nssearch: root hints file replacing the built-in root servers (no resolver asked)",
        |g, q, _| {
            q.hints = match (g.on, g.value) {
                (true, Some(path)) if !path.is_empty() => Some(Hints {
                    path: PathBuf::from(path),
                    servers: Vec::new(),
                }),
                (false, _) => None,
                _ => {
                    return Err(CliError::BadValue {
                        option: g.word.to_owned(),
                        reason: "a file name is needed".into(),
                    })
                }
            };
            Ok(())
        },
    ),
    switch!("idnout", "show A-labels in Unicode (+idn does this and more)", d.idn),
];

/// dig 9.18's `+options` that qtap does not have: named, they get "not
/// supported by qtap" rather than "invalid option", and they take part in
/// the prefix rule.
pub const DIG_ONLY: &[&str] = &[
    "badcookie",
    "defname",
    "dns64prefix",
    "domain",
    "dscp",
    "http-plain",
    "http-plain-get",
    "http-plain-post",
    "idnin",
    "mapped",
    "ndots",
    "search",
    "showsearch",
    "sigchase",
    "topdown",
    "trusted-key",
    "unexpected",
];

/// What a typed option name (without `+`, `no` or `=value`) stands for.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// One of qtap's options.
    Option(&'static PlusOption),
    /// One of dig's that qtap lacks.
    DigOnly(&'static str),
    /// A prefix of several options: their names.
    Ambiguous(Vec<&'static str>),
    /// Nothing.
    Unknown,
}

impl PartialEq for PlusOption {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for PlusOption {}
impl std::fmt::Debug for PlusOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "+{}", self.name)
    }
}

/// Looks `name` up: an exact name or alias first, else a prefix that
/// names one option only (counting dig's options qtap lacks).
fn find(name: &str) -> Found {
    if name.is_empty() {
        return Found::Unknown;
    }
    if let Some(o) = TABLE
        .iter()
        .find(|o| o.name == name || o.aliases.contains(&name))
    {
        return Found::Option(o);
    }
    if let Some(d) = DIG_ONLY.iter().find(|d| **d == name) {
        return Found::DigOnly(d);
    }
    let ours: Vec<&'static PlusOption> = TABLE
        .iter()
        .filter(|o| o.name.starts_with(name) || o.aliases.iter().any(|a| a.starts_with(name)))
        .collect();
    let theirs: Vec<&'static str> = DIG_ONLY
        .iter()
        .copied()
        .filter(|d| d.starts_with(name))
        .collect();
    match (ours.as_slice(), theirs.as_slice()) {
        ([], []) => Found::Unknown,
        ([only], []) => Found::Option(only),
        ([], [only]) => Found::DigOnly(only),
        _ => {
            let mut names: Vec<&'static str> = ours.iter().map(|o| o.name).collect();
            names.extend(theirs);
            names.sort_unstable();
            Found::Ambiguous(names)
        }
    }
}

/// Applies one `+option` (`opt` is the word without its `+`).
pub(super) fn apply_plus(
    opt: &str,
    word: &str,
    q: &mut QueryOpts,
    d: &mut DisplayOpts,
) -> Result<(), CliError> {
    let (raw_name, value) = match opt.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (opt, None),
    };
    let (on, found) = match raw_name.strip_prefix("no").map(find) {
        Some(f) if f != Found::Unknown => (false, f),
        _ => (true, find(raw_name)),
    };
    let option = match found {
        Found::Option(o) => o,
        Found::DigOnly(name) => return Err(CliError::NotSupported(format!("+{name}"))),
        Found::Ambiguous(names) => {
            let names: Vec<String> = names.iter().map(|n| format!("+{n}")).collect();
            return Err(CliError::UnknownOption(format!(
                "{word} (ambiguous: {})",
                names.join(", ")
            )));
        }
        Found::Unknown => {
            return Err(CliError::UnknownOption(
                match nearest_plus_option(raw_name) {
                    Some(near) => format!("{word} (did you mean +{near}?)"),
                    None => word.to_owned(),
                },
            ))
        }
    };
    if option.kind == PlusKind::Flag && value.is_some() {
        return Err(CliError::BadValue {
            option: word.to_owned(),
            reason: "takes no value".into(),
        });
    }
    (option.apply)(Given { word, on, value }, q, d)
}

/// Options that need EDNS turn it on (`+nsid`, `+dnssec`, ...).
fn edns_on(g: Given<'_>, q: &mut QueryOpts) {
    if g.on && q.edns.is_none() {
        q.edns = Some(0);
    }
}

fn bad(g: Given<'_>, reason: &str) -> CliError {
    CliError::BadValue {
        option: g.word.to_owned(),
        reason: reason.to_owned(),
    }
}

fn required(g: Given<'_>) -> Result<String, CliError> {
    match g.value {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(bad(g, "a value is required")),
    }
}

/// A number written with decimal digits only: no sign, no spaces (Rust's
/// `parse` would take a leading `+`).
pub(super) fn unsigned<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The largest `+padding` block: dig 9.18 refuses more (a block that size
/// would pad most queries beyond a 512-byte UDP message).
const MAX_PADDING: u16 = 512;

/// `n`, or dig's out-of-range error when it is above `max`.
fn at_most<T: PartialOrd + std::fmt::Display>(g: Given<'_>, n: T, max: T) -> Result<T, CliError> {
    match n > max {
        true => Err(bad(g, &format!("\"{n}\" is out of range (at most {max})"))),
        false => Ok(n),
    }
}

fn number<T: std::str::FromStr>(g: Given<'_>) -> Result<T, CliError> {
    let v = g.value.ok_or_else(|| bad(g, "a value is required"))?;
    unsigned(v).ok_or_else(
        || match !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            // All digits, yet no T: too large for this option (dig says so too).
            true => bad(g, &format!("{v:?} is out of range")),
            false => bad(g, &format!("{v:?} is not a valid number")),
        },
    )
}

/// Hex digits, two per byte; nothing else (no sign, no `0x`).
fn parse_hex(word: &str, text: &str) -> Result<Vec<u8>, CliError> {
    let bad = || CliError::BadValue {
        option: word.to_owned(),
        reason: "expected an even number of hex digits".into(),
    };
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// Checks a TLS key pin: the base64 of a 32-byte SHA-256 digest.
/// `option` names the option in the message (`+tls-pin=...`, `--tls-pin`).
pub(super) fn check_pin(option: &str, pin: &str) -> Result<(), CliError> {
    let ok = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, pin)
        .is_ok_and(|b| b.len() == 32);
    if ok {
        Ok(())
    } else {
        Err(CliError::BadValue {
            option: option.to_owned(),
            reason: "a pin is the base64 of a 32-byte SHA-256 digest".into(),
        })
    }
}

/// `+subnet=ADDR[/LEN]`.
fn subnet(g: Given<'_>) -> Result<(IpAddr, u8), CliError> {
    let text = required(g)?;
    let fail = || bad(g, &format!("{text:?} is not ADDR[/LEN]"));
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text.as_str(), None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| fail())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => unsigned::<u8>(l).filter(|l| *l <= max).ok_or_else(fail)?,
        None => max,
    };
    Ok((addr, len))
}

/// `+proxy[=SRC[#PORT]-DST[#PORT]]`: the addresses a PROXY header
/// reports, of one family; None (the LOCAL command) without a value. As in
/// dig, the source port defaults to 0 and the destination port to 53.
fn proxy_addrs(g: Given<'_>) -> Result<Option<ProxyAddrs>, CliError> {
    let Some(text) = g.value else {
        return Ok(None);
    };
    let fail = || bad(g, &format!("{text:?} is not SRC[#PORT]-DST[#PORT]"));
    let endpoint = |part: &str, default: u16| -> Option<SocketAddr> {
        let (addr, port) = match part.split_once('#') {
            Some((a, p)) => (a, unsigned::<u16>(p)?),
            None => (part, default),
        };
        let addr = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        Some(SocketAddr::new(addr.parse().ok()?, port))
    };
    let (src, dst) = text.split_once('-').ok_or_else(fail)?;
    let source = endpoint(src, 0).ok_or_else(fail)?;
    let destination = endpoint(dst, 53).ok_or_else(fail)?;
    ProxyAddrs::new(source, destination)
        .map(Some)
        .map_err(|e| bad(g, &e))
}

/// `+https[=PATH]`, `+https-get`, `+https-post`.
fn https(g: Given<'_>, q: &mut QueryOpts, get: bool) -> Result<(), CliError> {
    q.transport = if g.on {
        let path = match g.value {
            Some(p) if p.starts_with('/') => p.to_owned(),
            Some(p) => return Err(bad(g, &format!("{p:?} is not a path starting with /"))),
            None => DEFAULT_DOH_PATH.to_owned(),
        };
        Transport::Https { path, get }
    } else {
        Transport::Udp
    };
    Ok(())
}

/// dig's OPCODE names (RFC 1035 §4.1.1, RFC 1996, RFC 2136), by number.
const OPCODES: &[&str] = &["QUERY", "IQUERY", "STATUS", "", "NOTIFY", "UPDATE"];

/// `+opcode=NAME` or a number 0-15.
fn opcode(g: Given<'_>) -> Result<u8, CliError> {
    let text = required(g)?;
    if let Some(i) = OPCODES
        .iter()
        .position(|n| !n.is_empty() && n.eq_ignore_ascii_case(&text))
    {
        return u8::try_from(i).map_err(|_| bad(g, "bad opcode"));
    }
    unsigned::<u8>(&text)
        .filter(|n| *n <= 15)
        .ok_or_else(|| bad(g, &format!("{text:?} is not an opcode name or 0-15")))
}

/// The valid `+option` spelling nearest to an unknown one (`name` without
/// `+` or `=value`), for "did you mean" hints: the table's names and, for
/// options that can be switched off, their `no` forms. The closest by edit
/// distance (typos, a missing or extra letter, two swapped letters) within
/// a limit growing with the length.
pub(super) fn nearest_plus_option(name: &str) -> Option<String> {
    let typed = name.to_ascii_lowercase();
    if typed.is_empty() {
        return None;
    }
    let candidates: Vec<String> = TABLE
        .iter()
        .flat_map(|o| {
            let no = (o.kind != PlusKind::Value).then(|| format!("no{}", o.name));
            std::iter::once(o.name.to_owned()).chain(no)
        })
        .collect();
    let limit = match typed.chars().count() {
        0..=3 => 1,
        4..=6 => 2,
        _ => 3,
    };
    candidates
        .iter()
        .map(|c| (edit_distance(&typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and transpositions of adjacent characters each cost 1.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
