//! Message selection for `--read`, `--write`, `--stats` and the collector:
//! the `--qname`, `--qtype`, `--addr`, ... options, parsed into a
//! [`Filter`], and the streaming [`Selector`] that keeps a query and its
//! response together.
//!
//! The rule: the same option given twice means *any of* its values;
//! different options mean *all of* them. Options are tested against an
//! exchange, not a lone frame: an exchange (a query and its response, or a
//! frame that carries both) is selected when every option is satisfied by
//! at least one of its messages, so `--rcode NXDOMAIN --msg-type
//! CLIENT_QUERY` selects the client queries that got NXDOMAIN, and both of
//! their frames. A query that satisfies every option on its own is passed
//! at once (and its response follows it); one that does not waits for its
//! response, and then goes out just before it, or is dropped. At most
//! [`WAITING_MAX`] queries wait; past that the oldest is dropped, and its
//! response, if one comes, is judged alone. Pure: no I/O, no clock (the
//! caller passes "now" for relative times).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use bytes::Bytes;

use crate::dns::name::Name;
use crate::dns::wire::{first_question, Header, Message};
use crate::pair::Key;
use crate::tap::event::{Direction, Event, MessageType, Protocol, Timestamp};

/// How many queries may wait for their response before the oldest goes.
pub const WAITING_MAX: usize = 10_000;

/// Compiled size limit of one `--qname-regex` (the `regex` crate matches in
/// linear time; this bounds its memory too).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The selection options, by their long names (without `--`), and whether
/// they take a value.
pub const OPTIONS: &[(&str, bool)] = &[
    ("qname", true),
    ("qname-regex", true),
    ("qtype", true),
    ("rcode", true),
    ("msg-type", true),
    ("addr", true),
    ("port", true),
    ("proto", true),
    ("since", true),
    ("until", true),
    ("slower-than", true),
    ("tc", false),
    ("do", false),
    ("identity", true),
];

/// A selection option with a value that cannot be used. Display gives one
/// line naming the option and the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("--{option} \"{}\": {reason}", crate::render::escaped(.value.as_bytes()))]
pub struct SelectError {
    /// The option, without `--`.
    pub option: String,
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One `--msg-type` value: an exact type or a family (query and response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TypeSel {
    Exact(MessageType),
    Family(i32),
}

/// An address prefix (`--addr 192.0.2.0/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// Parses `ADDR` or `ADDR/LEN`.
    pub fn parse(text: &str) -> Result<Prefix, String> {
        let (a, l) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| "not an IPv4 or IPv6 address".to_string())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix length must be 0 to {max}")),
            },
        };
        Ok(Prefix { addr, len })
    }

    /// True when `addr` lies in the prefix (same family only).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                (u32::from(p) ^ u32::from(a)) & mask == 0
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                (u128::from(p) ^ u128::from(a)) & mask == 0
            }
            _ => false,
        }
    }
}

/// The alternatives of one option (values of the same option: any of).
#[derive(Clone, Debug)]
enum Clause {
    Qname(Vec<Vec<Vec<u8>>>),
    QnameRegex(Vec<regex::Regex>),
    Qtype(Vec<u16>),
    Rcode(Vec<u16>),
    MsgType(Vec<TypeSel>),
    Addr(Vec<Prefix>),
    Port(Vec<u16>),
    Proto(Vec<Protocol>),
    /// `--since` and `--until` together: one window, tested per message
    /// (an exchange is in it when one of its messages is).
    Window {
        since: Vec<Timestamp>,
        until: Vec<Timestamp>,
    },
    SlowerThan(Vec<u128>),
    Tc,
    Do,
    Identity(Vec<Vec<u8>>),
}

impl Clause {
    fn option(&self) -> &'static str {
        match self {
            Clause::Qname(_) => "qname",
            Clause::QnameRegex(_) => "qname-regex",
            Clause::Qtype(_) => "qtype",
            Clause::Rcode(_) => "rcode",
            Clause::MsgType(_) => "msg-type",
            Clause::Addr(_) => "addr",
            Clause::Port(_) => "port",
            Clause::Proto(_) => "proto",
            Clause::Window { .. } => "since/until",
            Clause::SlowerThan(_) => "slower-than",
            Clause::Tc => "tc",
            Clause::Do => "do",
            Clause::Identity(_) => "identity",
        }
    }

    /// Adds the alternatives of `other` (same option) to this one.
    fn merge(&mut self, other: Clause) {
        match (self, other) {
            (Clause::Qname(a), Clause::Qname(b)) => a.extend(b),
            (Clause::QnameRegex(a), Clause::QnameRegex(b)) => a.extend(b),
            (Clause::Qtype(a), Clause::Qtype(b)) => a.extend(b),
            (Clause::Rcode(a), Clause::Rcode(b)) => a.extend(b),
            (Clause::MsgType(a), Clause::MsgType(b)) => a.extend(b),
            (Clause::Addr(a), Clause::Addr(b)) => a.extend(b),
            (Clause::Port(a), Clause::Port(b)) => a.extend(b),
            (Clause::Proto(a), Clause::Proto(b)) => a.extend(b),
            (
                Clause::Window { since, until },
                Clause::Window {
                    since: s2,
                    until: u2,
                },
            ) => {
                since.extend(s2);
                until.extend(u2);
            }
            (Clause::SlowerThan(a), Clause::SlowerThan(b)) => a.extend(b),
            (Clause::Identity(a), Clause::Identity(b)) => a.extend(b),
            _ => {}
        }
    }
}

/// The selection options given, parsed. An empty filter selects everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    clauses: Vec<Clause>,
}

/// Parses a duration: a number with `ns`, `us`, `ms`, `s`, `m`, `h` or `d`
/// (`250ms`, `1.5s`, `10m`); nanoseconds.
pub fn parse_duration(text: &str) -> Result<u128, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| "a unit is needed: ns, us, ms, s, m, h or d".to_string())?;
    let (num, unit) = text.split_at(split);
    let scale: f64 = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        "d" => 86400e9,
        _ => return Err(format!("unknown unit {unit:?}: ns, us, ms, s, m, h or d")),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| "not a number followed by a unit".to_string())?;
    let nanos = n * scale;
    if !nanos.is_finite() || nanos > 1e20 {
        return Err("too large".into());
    }
    Ok(nanos as u128)
}

/// Parses `--since`/`--until`: RFC 3339 (`2026-12-02T20:52:00Z`), or
/// relative to `now` (`-10m`, `-1.5h`).
pub fn parse_time(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Some(rel) = text.strip_prefix('-') {
        let back = parse_duration(rel)?;
        let now_ns = u128::from(now.sec) * 1_000_000_000 + u128::from(now.nsec);
        let t = now_ns.saturating_sub(back);
        return Ok(Timestamp {
            sec: u64::try_from(t / 1_000_000_000).unwrap_or(u64::MAX),
            nsec: (t % 1_000_000_000) as u32,
        });
    }
    parse_rfc3339(text).ok_or_else(|| {
        "not an RFC 3339 time (2026-12-02T20:52:00Z) nor a relative one such as -10m".into()
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), or None before 1970.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<u64> {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u64::try_from(era * 146_097 + doe - 719_468).ok()
}

/// Parses an RFC 3339 date-time (`2026-12-02T20:52:00Z`,
/// `2026-12-02 21:52:00.25+01:00`); None if malformed or before 1970.
fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut pos = 19;
    let mut nsec: u32 = 0;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start {
            return None;
        }
        let digits = &text[start..end.min(start + 9)];
        nsec = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
        pos = end;
    }
    let offset: i64 = match b.get(pos)? {
        b'Z' | b'z' if pos + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if pos + 6 == b.len() && b[pos + 3] == b':' => {
            let (h, m) = (num(pos + 1..pos + 3)?, num(pos + 4..pos + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = i64::try_from(days_from_civil(year, month, day)?).ok()?;
    let t = days * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(Timestamp {
        sec: u64::try_from(t).ok()?,
        nsec,
    })
}

fn parse_msg_type(text: &str) -> Result<TypeSel, String> {
    use crate::tap::pb::message::Type;
    let upper = text.to_ascii_uppercase();
    if let Some(t) = Type::from_str_name(&upper) {
        return Ok(TypeSel::Exact(MessageType(t as i32)));
    }
    let family = [
        ("AUTH", Type::AuthQuery),
        ("RESOLVER", Type::ResolverQuery),
        ("CLIENT", Type::ClientQuery),
        ("FORWARDER", Type::ForwarderQuery),
        ("STUB", Type::StubQuery),
        ("TOOL", Type::ToolQuery),
        ("UPDATE", Type::UpdateQuery),
    ]
    .iter()
    .find(|(n, _)| *n == upper)
    .map(|(_, t)| MessageType(*t as i32).family());
    family.map(TypeSel::Family).ok_or_else(|| {
        "not a dnstap message type (CLIENT_QUERY, ...) nor a family (auth, resolver, client, \
         forwarder, stub, tool, update)"
            .to_string()
    })
}

fn parse_rcode(text: &str) -> Result<u16, String> {
    if let Ok(n) = text.parse::<u16>() {
        if n < 4096 {
            return Ok(n);
        }
    }
    (0u16..4096)
        .find(|&n| {
            let name = crate::render::dig::rcode_name(n);
            name.eq_ignore_ascii_case(text) && name.parse::<u16>().is_err()
        })
        .ok_or_else(|| "not an rcode name (NOERROR, NXDOMAIN, ...) or number 0-4095".into())
}

fn parse_proto(text: &str) -> Result<Protocol, String> {
    match text.to_ascii_lowercase().as_str() {
        "udp" => Ok(Protocol::Udp),
        "tcp" => Ok(Protocol::Tcp),
        "dot" | "tls" => Ok(Protocol::Dot),
        "doh" | "https" => Ok(Protocol::Doh),
        "doq" | "quic" => Ok(Protocol::Doq),
        _ => Err("expected udp, tcp, dot, doh or doq".into()),
    }
}

/// Labels of a name, lowercased, from the root down.
fn labels_from_root(name: &Name) -> Vec<Vec<u8>> {
    let mut labels: Vec<Vec<u8>> = name.labels().map(|l| l.to_ascii_lowercase()).collect();
    labels.reverse();
    labels
}

impl Filter {
    /// True when no option was given.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Adds one option (`name` without `--`; `value` empty for `--tc` and
    /// `--do`). `now` anchors relative times.
    pub fn add(&mut self, name: &str, value: &str, now: Timestamp) -> Result<(), SelectError> {
        let fail = |reason: String| SelectError {
            option: name.to_string(),
            value: value.to_string(),
            reason,
        };
        let clause = match name {
            "qname" => {
                let n = Name::from_text(value).map_err(|e| fail(e.to_string()))?;
                Clause::Qname(vec![labels_from_root(&n)])
            }
            "qname-regex" => {
                let re = regex::RegexBuilder::new(value)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .nest_limit(64)
                    .build()
                    .map_err(|e| {
                        // The regex crate explains over several lines.
                        let text = e.to_string();
                        let last = text.lines().last().unwrap_or("invalid").trim().to_string();
                        fail(last)
                    })?;
                Clause::QnameRegex(vec![re])
            }
            "qtype" => Clause::Qtype(vec![crate::dns::types::parse_type(value)
                .ok_or_else(|| fail("not a record type (A, AAAA, TYPE65, ...)".into()))?]),
            "rcode" => Clause::Rcode(vec![parse_rcode(value).map_err(fail)?]),
            "msg-type" => Clause::MsgType(vec![parse_msg_type(value).map_err(fail)?]),
            "addr" => Clause::Addr(vec![Prefix::parse(value).map_err(fail)?]),
            "port" => Clause::Port(vec![value
                .parse::<u16>()
                .map_err(|_| fail("not a port number (0-65535)".into()))?]),
            "proto" => Clause::Proto(vec![parse_proto(value).map_err(fail)?]),
            "since" => Clause::Window {
                since: vec![parse_time(value, now).map_err(fail)?],
                until: Vec::new(),
            },
            "until" => Clause::Window {
                since: Vec::new(),
                until: vec![parse_time(value, now).map_err(fail)?],
            },
            "slower-than" => Clause::SlowerThan(vec![parse_duration(value).map_err(fail)?]),
            "tc" => Clause::Tc,
            "do" => Clause::Do,
            "identity" => Clause::Identity(vec![value.as_bytes().to_vec()]),
            _ => return Err(fail("not a selection option".into())),
        };
        match self
            .clauses
            .iter_mut()
            .find(|c| c.option() == clause.option())
        {
            Some(c) => c.merge(clause),
            None => self.clauses.push(clause),
        }
        Ok(())
    }

    /// Builds a filter from `(option, value)` pairs, in order.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: Timestamp,
    ) -> Result<Filter, SelectError> {
        let mut f = Filter::default();
        for (name, value) in pairs {
            f.add(name, value, now)?;
        }
        Ok(f)
    }

    /// Whether any option needs response latency (pairing).
    pub fn needs_latency(&self) -> bool {
        self.clauses
            .iter()
            .any(|c| matches!(c, Clause::SlowerThan(_)))
    }

    /// The mask of every option: an exchange is selected when the masks of
    /// its messages together equal it.
    fn all(&self) -> u32 {
        (1u32 << self.clauses.len().min(31)) - 1
    }

    /// Which options `event` satisfies (bit i for option i). `latency`:
    /// nanoseconds from query to response, when known.
    fn mask(&self, event: &Event, latency: Option<u128>) -> u32 {
        let messages = [
            event.query_message.as_deref(),
            event.response_message.as_deref(),
        ];
        let question = || messages.iter().flatten().find_map(|m| first_question(m));
        let mut mask = 0;
        for (i, clause) in self.clauses.iter().enumerate() {
            let hit = match clause {
                Clause::Qname(names) => question().is_some_and(|q| {
                    let labels = labels_from_root(&q.name);
                    names.iter().any(|n| {
                        n.len() <= labels.len() && n.iter().zip(&labels).all(|(a, b)| a == b)
                    })
                }),
                Clause::QnameRegex(res) => question().is_some_and(|q| {
                    let text = q.name.to_string();
                    res.iter().any(|r| r.is_match(&text))
                }),
                Clause::Qtype(types) => question().is_some_and(|q| types.contains(&q.qtype)),
                Clause::Rcode(codes) => event.response_message.as_deref().is_some_and(|m| {
                    Message::parse(m).is_ok_and(|msg| codes.contains(&msg.rcode()))
                }),
                Clause::MsgType(sel) => sel.iter().any(|s| match s {
                    TypeSel::Exact(t) => *t == event.mtype,
                    TypeSel::Family(f) => *f == event.mtype.family(),
                }),
                Clause::Addr(prefixes) => [event.query_addr, event.response_addr]
                    .iter()
                    .flatten()
                    .any(|a| prefixes.iter().any(|p| p.contains(*a))),
                Clause::Port(ports) => [event.query_port, event.response_port]
                    .iter()
                    .flatten()
                    .any(|p| ports.contains(p)),
                Clause::Proto(protos) => event.protocol.is_some_and(|p| protos.contains(&p)),
                Clause::Window { since, until } => event_time(event).is_some_and(|t| {
                    (since.is_empty() || since.iter().any(|s| t >= *s))
                        && (until.is_empty() || until.iter().any(|u| t <= *u))
                }),
                Clause::SlowerThan(limits) => {
                    latency.is_some_and(|l| limits.iter().any(|lim| l > *lim))
                }
                Clause::Tc => messages
                    .iter()
                    .flatten()
                    .any(|m| Header::parse(m).is_ok_and(|h| h.tc())),
                Clause::Do => messages.iter().flatten().any(|m| {
                    Message::parse(m)
                        .ok()
                        .and_then(|msg| msg.opt().map(|o| o.ttl & 0x8000 != 0))
                        .unwrap_or(false)
                }),
                Clause::Identity(ids) => event
                    .identity
                    .as_deref()
                    .is_some_and(|id| ids.iter().any(|w| w == id)),
            };
            if hit && i < 31 {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// True when one event on its own satisfies every option (no pairing).
    pub fn matches_event(&self, event: &Event) -> bool {
        let latency = match (event.query_time, event.response_time) {
            (Some(q), Some(r)) if event.response_message.is_some() => r.nanos_since(&q),
            _ => None,
        };
        self.mask(event, latency) == self.all()
    }
}

/// When a message was recorded: the response time for responses, else the
/// query time.
pub fn event_time(event: &Event) -> Option<Timestamp> {
    match event.direction() {
        Some(Direction::Response) => event.response_time.or(event.query_time),
        _ => event.query_time.or(event.response_time),
    }
}

/// Anything the selector can pass along: an event, or an event with the
/// frame it came from.
pub trait HasEvent {
    /// The event.
    fn event(&self) -> &Event;
    /// Gives the item its own copy of its bytes, so that it no longer pins
    /// the buffer it was read into (the reader calls it before it reuses
    /// that buffer, through [`Selector::detach`]).
    fn detach(&mut self) {}
}

impl HasEvent for Event {
    fn event(&self) -> &Event {
        self
    }
    fn detach(&mut self) {
        for b in [
            &mut self.identity,
            &mut self.version,
            &mut self.query_message,
            &mut self.response_message,
            &mut self.query_zone,
        ]
        .into_iter()
        .flatten()
        {
            *b = Bytes::copy_from_slice(b);
        }
    }
}

impl HasEvent for (Event, bytes::Bytes) {
    fn event(&self) -> &Event {
        &self.0
    }
}

struct Waiting<T> {
    seq: u64,
    mask: u32,
    item: T,
}

/// Applies a [`Filter`] to a stream of events, keeping each query with its
/// response (see the module documentation). Bounded by [`WAITING_MAX`].
pub struct Selector<T> {
    filter: Filter,
    all: u32,
    next_seq: u64,
    /// Queries not selected on their own, waiting for their response.
    waiting: HashMap<Key, Waiting<T>, foldhash::fast::RandomState>,
    /// Queries selected on their own: their responses pass too (value:
    /// the query asks for a zone transfer, so several responses come).
    passed: HashMap<Key, (u64, bool), foldhash::fast::RandomState>,
    order: VecDeque<(u64, Key)>,
    capacity: usize,
}

impl<T: HasEvent> Selector<T> {
    /// A selector for `filter`.
    pub fn new(filter: Filter) -> Selector<T> {
        Selector::with_capacity(filter, WAITING_MAX)
    }

    /// A selector remembering at most `capacity` queries (at least 1).
    pub fn with_capacity(filter: Filter, capacity: usize) -> Selector<T> {
        Selector {
            all: filter.all(),
            filter,
            next_seq: 0,
            waiting: HashMap::default(),
            passed: HashMap::default(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// The filter applied.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Takes one item; appends what is selected now to `out`, in order.
    pub fn push(&mut self, item: T, out: &mut Vec<T>) {
        if self.filter.is_empty() {
            out.push(item);
            return;
        }
        let event = item.event();
        match event.direction() {
            Some(Direction::Query) => {
                let key = event
                    .query_message
                    .as_deref()
                    .and_then(|m| Key::of(event, m));
                let mask = self.filter.mask(event, None);
                let Some(key) = key else {
                    if mask == self.all {
                        out.push(item);
                    }
                    return;
                };
                let seq = self.next_seq;
                self.next_seq += 1;
                self.waiting.remove(&key);
                self.passed.remove(&key);
                if mask == self.all {
                    let xfr = event
                        .query_message
                        .as_deref()
                        .and_then(crate::dns::wire::first_qtype)
                        .is_some_and(crate::dns::xfr::is_xfr);
                    self.passed.insert(key.clone(), (seq, xfr));
                    out.push(item);
                } else {
                    // A waiting query gets its own bytes: it must not pin
                    // the reader's buffer (queries are small).
                    let mut item = item;
                    item.detach();
                    self.waiting
                        .insert(key.clone(), Waiting { seq, mask, item });
                }
                self.order.push_back((seq, key));
                self.bound();
            }
            Some(Direction::Response) => {
                let key = event
                    .response_message
                    .as_deref()
                    .or(event.query_message.as_deref())
                    .and_then(|m| Key::of(event, m));
                if let Some(key) = key {
                    if let Some(&(_, xfr)) = self.passed.get(&key) {
                        if !xfr {
                            self.passed.remove(&key);
                        }
                        out.push(item);
                        return;
                    }
                    if let Some(w) = self.waiting.remove(&key) {
                        let latency = latency(w.item.event(), event);
                        let mask = self.filter.mask(event, latency);
                        if w.mask | mask == self.all {
                            out.push(w.item);
                            out.push(item);
                        }
                        return;
                    }
                }
                if self.filter.matches_event(event) {
                    out.push(item);
                }
            }
            None => {
                if self.filter.matches_event(event) {
                    out.push(item);
                }
            }
        }
    }

    /// Gives every waiting query its own copy of its bytes.
    pub fn detach(&mut self) {
        for w in self.waiting.values_mut() {
            w.item.detach();
        }
    }

    /// Forgets the oldest queries past the capacity, and compacts the queue.
    fn bound(&mut self) {
        while self.waiting.len() + self.passed.len() > self.capacity {
            let Some((seq, key)) = self.order.pop_front() else {
                break;
            };
            if self.waiting.get(&key).is_some_and(|w| w.seq == seq) {
                self.waiting.remove(&key);
            } else if self.passed.get(&key).is_some_and(|p| p.0 == seq) {
                self.passed.remove(&key);
            }
        }
        let live = self.waiting.len() + self.passed.len();
        if self.order.len() > 2 * live + 64 {
            let (waiting, passed) = (&self.waiting, &self.passed);
            self.order.retain(|(seq, key)| {
                waiting.get(key).is_some_and(|w| w.seq == *seq)
                    || passed.get(key).is_some_and(|p| p.0 == *seq)
            });
        }
    }

    /// Ends the stream. Queries still waiting were not selected on their
    /// own and got no response: they are dropped.
    pub fn finish(self, _out: &mut Vec<T>) {}
}

/// Latency of an exchange from its query event and response event.
fn latency(query: &Event, response: &Event) -> Option<u128> {
    let sent = response.query_time.or(query.query_time)?;
    let got = response.response_time?;
    got.nanos_since(&sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    const NOW: Timestamp = Timestamp {
        sec: 1_800_000_000,
        nsec: 0,
    };

    fn query_msg(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        m.extend_from_slice(Name::from_text(name).unwrap().as_wire());
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m
    }

    fn response_msg(id: u16, name: &str, qtype: u16, rcode: u8, tc: bool) -> Vec<u8> {
        let mut m = query_msg(id, name, qtype);
        m[2] = 0x81 | if tc { 0x02 } else { 0 };
        m[3] = 0x80 | rcode;
        m
    }

    fn ev(mtype: MessageType, port: u16, t: u64, q: Option<Vec<u8>>, r: Option<Vec<u8>>) -> Event {
        Event {
            offset: None,
            identity: Some(Bytes::from_static(b"ns1")),
            version: None,
            mtype,
            family: Some(1),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some("192.0.2.7".parse().unwrap()),
            query_port: Some(port),
            response_addr: Some("198.51.100.53".parse().unwrap()),
            response_port: Some(53),
            connection: None,
            query_time: q.as_ref().map(|_| Timestamp { sec: t, nsec: 0 }),
            response_time: r.as_ref().map(|_| Timestamp {
                sec: t,
                nsec: 5_000_000,
            }),
            query_message: q.map(Bytes::from),
            response_message: r.map(Bytes::from),
            query_zone: None,
        }
    }

    const CQ: MessageType = MessageType(5);
    const CR: MessageType = MessageType(6);

    fn filter(pairs: &[(&str, &str)]) -> Filter {
        Filter::from_pairs(pairs.iter().copied(), NOW).unwrap()
    }

    fn run(f: Filter, events: Vec<Event>) -> Vec<(MessageType, u16)> {
        let mut sel = Selector::new(f);
        let mut out = Vec::new();
        for e in events {
            sel.push(e, &mut out);
        }
        sel.finish(&mut out);
        out.iter()
            .map(|e| (e.mtype, e.query_port.unwrap()))
            .collect()
    }

    /// Two exchanges: example.com A answered NOERROR, ample.com AAAA
    /// answered NXDOMAIN, interleaved.
    fn two_exchanges() -> Vec<Event> {
        vec![
            ev(
                CQ,
                1000,
                10,
                Some(query_msg(1, "www.Example.com.", 1)),
                None,
            ),
            ev(CQ, 2000, 11, Some(query_msg(2, "ample.com.", 28)), None),
            ev(
                CR,
                1000,
                12,
                None,
                Some(response_msg(1, "www.example.com.", 1, 0, false)),
            ),
            ev(
                CR,
                2000,
                14,
                None,
                Some(response_msg(2, "ample.com.", 28, 3, true)),
            ),
        ]
    }

    #[test]
    fn qname_is_label_wise_and_case_insensitive() {
        let got = run(filter(&[("qname", "example.COM")]), two_exchanges());
        assert_eq!(got, vec![(CQ, 1000), (CR, 1000)]);
        let got = run(filter(&[("qname", "ample.com")]), two_exchanges());
        assert_eq!(got, vec![(CQ, 2000), (CR, 2000)]);
        let got = run(filter(&[("qname", "com")]), two_exchanges());
        assert_eq!(got.len(), 4);
        let got = run(filter(&[("qname", "mple.com")]), two_exchanges());
        assert!(got.is_empty());
    }

    #[test]
    fn a_response_match_brings_its_query_along_just_before_it() {
        let got = run(filter(&[("rcode", "nxdomain")]), two_exchanges());
        assert_eq!(got, vec![(CQ, 2000), (CR, 2000)]);
        let got = run(filter(&[("tc", "")]), two_exchanges());
        assert_eq!(got, vec![(CQ, 2000), (CR, 2000)]);
    }

    #[test]
    fn different_options_need_all_same_option_any() {
        let got = run(
            filter(&[("rcode", "NXDOMAIN"), ("msg-type", "CLIENT_QUERY")]),
            two_exchanges(),
        );
        assert_eq!(got, vec![(CQ, 2000), (CR, 2000)]);
        let got = run(
            filter(&[("rcode", "NXDOMAIN"), ("qtype", "A")]),
            two_exchanges(),
        );
        assert!(got.is_empty());
        let got = run(
            filter(&[("qtype", "A"), ("qtype", "AAAA")]),
            two_exchanges(),
        );
        assert_eq!(got.len(), 4);
        let got = run(filter(&[("msg-type", "client_response")]), two_exchanges());
        assert_eq!(got.len(), 4, "responses bring their queries");
        let got = run(filter(&[("msg-type", "auth")]), two_exchanges());
        assert!(got.is_empty());
        let got = run(filter(&[("msg-type", "client")]), two_exchanges());
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn addresses_ports_protocols_identity_times() {
        assert_eq!(
            run(filter(&[("addr", "192.0.2.0/24")]), two_exchanges()).len(),
            4
        );
        assert_eq!(
            run(filter(&[("addr", "198.51.100.53")]), two_exchanges()).len(),
            4
        );
        assert!(run(filter(&[("addr", "192.0.3.0/24")]), two_exchanges()).is_empty());
        assert!(run(filter(&[("addr", "::/0")]), two_exchanges()).is_empty());
        assert_eq!(
            run(filter(&[("addr", "0.0.0.0/0")]), two_exchanges()).len(),
            4
        );
        assert_eq!(run(filter(&[("port", "2000")]), two_exchanges()).len(), 2);
        assert_eq!(run(filter(&[("port", "53")]), two_exchanges()).len(), 4);
        assert_eq!(run(filter(&[("proto", "UDP")]), two_exchanges()).len(), 4);
        assert!(run(filter(&[("proto", "tcp")]), two_exchanges()).is_empty());
        assert_eq!(
            run(filter(&[("identity", "ns1")]), two_exchanges()).len(),
            4
        );
        assert!(run(filter(&[("identity", "ns2")]), two_exchanges()).is_empty());
        let got = run(
            filter(&[("since", "1970-01-01T00:00:11Z")]),
            two_exchanges(),
        );
        assert_eq!(got.len(), 4, "each exchange has a message at or after 11 s");
        let got = run(
            filter(&[
                ("since", "1970-01-01T00:00:11Z"),
                ("until", "1970-01-01T00:00:11.5Z"),
            ]),
            two_exchanges(),
        );
        assert_eq!(got, vec![(CQ, 2000), (CR, 2000)]);
        assert!(run(filter(&[("since", "-10m")]), two_exchanges()).is_empty());
    }

    #[test]
    fn slower_than_uses_the_pair() {
        assert_eq!(
            run(filter(&[("slower-than", "1.5s")]), two_exchanges()).len(),
            4
        );
        let got = run(filter(&[("slower-than", "2500ms")]), two_exchanges());
        assert_eq!(got, vec![(CQ, 2000), (CR, 2000)], "3.005 s against 2.005 s");
        assert!(run(filter(&[("slower-than", "1h")]), two_exchanges()).is_empty());
    }

    #[test]
    fn do_bit_is_read_from_the_opt_record() {
        let mut m = query_msg(9, "example.com.", 1);
        m[11] = 1; // ARCOUNT 1
        m.extend_from_slice(&[0, 0, 41, 4, 208, 0, 0, 0x80, 0, 0, 0]);
        let events = vec![ev(CQ, 3000, 1, Some(m), None)];
        assert_eq!(run(filter(&[("do", "")]), events).len(), 1);
        assert!(run(filter(&[("do", "")]), two_exchanges()).is_empty());
    }

    #[test]
    fn self_contained_frames_are_judged_whole() {
        let e = ev(
            CR,
            4000,
            1,
            Some(query_msg(5, "a.example.", 1)),
            Some(response_msg(5, "a.example.", 1, 2, false)),
        );
        let got = run(
            filter(&[("rcode", "SERVFAIL"), ("slower-than", "1ms")]),
            vec![e],
        );
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn unanswered_queries_that_do_not_match_alone_are_dropped_and_memory_is_bounded() {
        let mut sel = Selector::with_capacity(filter(&[("rcode", "NXDOMAIN")]), 100);
        let mut out = Vec::new();
        for i in 0..10_000u16 {
            sel.push(ev(CQ, i, 1, Some(query_msg(i, "x.", 1)), None), &mut out);
        }
        assert!(out.is_empty());
        assert!(sel.waiting.len() <= 100);
        assert!(sel.order.len() <= 2 * 100 + 64 + 1);
        // The newest is still waiting; its NXDOMAIN brings it.
        sel.push(
            ev(
                CR,
                9999,
                2,
                None,
                Some(response_msg(9999, "x.", 1, 3, false)),
            ),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        // The oldest was forgotten: its response is judged alone.
        sel.push(
            ev(CR, 0, 2, None, Some(response_msg(0, "x.", 1, 3, false))),
            &mut out,
        );
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn bad_values_give_one_line_naming_the_option() {
        let bad = [
            ("qname", "a..b"),
            ("qname-regex", "("),
            ("qtype", "NOPE"),
            ("rcode", "WHAT"),
            ("msg-type", "RESOLVER"),
            ("addr", "10.0.0.0/33"),
            ("addr", "host.example"),
            ("port", "65536"),
            ("proto", "sctp"),
            ("since", "yesterday"),
            ("until", "-5parsecs"),
            ("slower-than", "5"),
            ("slower-than", "1e400s"),
        ];
        for (opt, value) in bad {
            if opt == "msg-type" && value == "RESOLVER" {
                assert!(Filter::from_pairs([(opt, value)], NOW).is_ok());
                continue;
            }
            let e = Filter::from_pairs([(opt, value)], NOW).unwrap_err();
            let line = e.to_string();
            assert!(line.starts_with(&format!("--{opt} ")), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn hostile_regexes_are_refused_or_run_in_linear_time() {
        // Too big once compiled: refused with one line.
        let e = Filter::from_pairs([("qname-regex", "(\\w{100}){100}")], NOW).unwrap_err();
        assert!(e.to_string().starts_with("--qname-regex"), "{e}");
        assert!(!e.to_string().contains('\n'));
        // Catastrophic for a backtracking engine; linear here.
        let f = filter(&[("qname-regex", "^(a+)+$")]);
        let long = format!("{}b.", "a.".repeat(60));
        let events = vec![ev(CQ, 1, 1, Some(query_msg(1, &long, 1)), None)];
        assert!(run(f, events).is_empty());
        let f = filter(&[("qname-regex", "^www\\.example\\.com\\.$")]);
        assert_eq!(run(f, two_exchanges()).len(), 2);
    }

    #[test]
    fn durations_and_times_parse() {
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000_000));
        assert!(parse_duration("ms").is_err());
        assert_eq!(
            parse_time("-10m", NOW),
            Ok(Timestamp {
                sec: NOW.sec - 600,
                nsec: 0
            })
        );
        assert_eq!(
            parse_time("2027-01-15T08:00:00.25+01:00", NOW),
            parse_time("2027-01-15T07:00:00.25Z", NOW)
        );
        assert_eq!(
            parse_time("1970-01-01T00:01:00.5Z", NOW),
            Ok(Timestamp {
                sec: 60,
                nsec: 500_000_000
            })
        );
        assert!(parse_time("1969-12-31T23:59:59Z", NOW).is_err());
        for bad in [
            "2026-12-02",
            "2026-12-02T20:52:00",
            "2026-13-02T20:52:00Z",
            "2026-12-02T20:52:00.Z",
            "2026-12-02T20:52:00+0100",
            "2026-12-02X20:52:00Z",
            "2026-12-02T20:52:00Zjunk",
            "２026-12-02T20:52:00Z",
        ] {
            assert!(parse_time(bad, NOW).is_err(), "{bad}");
        }
        // Against chrono, across the years.
        for sec in (0..4_000_000_000u64).step_by(7_777_777) {
            let text = chrono::DateTime::from_timestamp(sec as i64, 123_000_000)
                .unwrap()
                .to_rfc3339();
            assert_eq!(
                parse_time(&text, NOW),
                Ok(Timestamp {
                    sec,
                    nsec: 123_000_000
                }),
                "{text}"
            );
        }
    }
}
