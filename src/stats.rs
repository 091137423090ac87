//! `--stats`: the shape of a trace at a glance. Counts frames and messages
//! by dnstap type, transport, rcode, qtype and opcode; answered and
//! unanswered queries and unsolicited responses; damage; the top query
//! names and clients; exact latency percentiles per server and transport
//! from paired messages, with a histogram. Text for people, JSON for
//! machines. Pure: fed paired [`Item`]s and warnings, no I/O.
//!
//! Memory: counters are small; query names and clients are counted exactly
//! up to [`DISTINCT_MAX`] distinct values each, after which new values are
//! counted together as "(other)"; latencies are kept exactly up to
//! [`SAMPLES_MAX`] samples in all, after which further samples count in
//! `n` and `max` but not in the percentiles (the output says so).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::dns::name::write_name;
use crate::dns::wire::{first_question, Header, Message};
use crate::pair::Item;
use crate::tap::event::{Direction, Event, MessageType, Protocol};

/// Distinct query names (and, apart, clients) counted one by one.
pub const DISTINCT_MAX: usize = 1_000_000;
/// Latency samples kept for exact percentiles.
pub const SAMPLES_MAX: usize = 16_000_000;
/// Servers (address, port, transport) given latency rows of their own;
/// the latencies of any more go to one "(other)" row.
pub const LATENCY_GROUPS_MAX: usize = 10_000;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A latency group: server address, port, transport.
type Server = (Option<IpAddr>, Option<u16>, Option<Protocol>);

/// Latencies of one server and transport.
#[derive(Debug, Default)]
struct Latencies {
    samples: Vec<u64>,
    n: u64,
    max: u64,
}

/// The counts of a run; see the module documentation.
#[derive(Debug, Default)]
pub struct Stats {
    frames: u64,
    messages: u64,
    /// A selection option is in force: `frames` counts every frame read,
    /// the rest only what was selected.
    selection: bool,
    by_type: Map<i32, u64>,
    /// By `socket_protocol` value.
    by_proto: Map<Option<i32>, u64>,
    by_rcode: Map<u16, u64>,
    by_qtype: Map<u16, u64>,
    by_opcode: Map<u8, u64>,
    answered: u64,
    unanswered: u64,
    unsolicited: u64,
    /// Damage by kind: reader warnings, undecodable frames, malformed
    /// DNS messages.
    damage: Map<String, u64>,
    /// Query names, lowercased wire form.
    qnames: Map<Vec<u8>, u64>,
    qnames_other: u64,
    clients: Map<IpAddr, u64>,
    clients_other: u64,
    latency: Map<Server, Latencies>,
    /// Servers past [`LATENCY_GROUPS_MAX`], and in the output those past
    /// the top rows.
    latency_other: Latencies,
    samples: usize,
    dropped_samples: u64,
}

fn proto_name(p: Option<Protocol>) -> String {
    match p {
        Some(Protocol::Udp) => "udp".into(),
        Some(Protocol::Tcp) => "tcp".into(),
        Some(Protocol::Dot) => "dot".into(),
        Some(Protocol::Doh) => "doh".into(),
        Some(Protocol::Doq) => "doq".into(),
        Some(Protocol::DnsCryptUdp) => "dnscrypt-udp".into(),
        Some(Protocol::DnsCryptTcp) => "dnscrypt-tcp".into(),
        Some(Protocol::Other(n)) => format!("protocol{n}"),
        None => "-".into(),
    }
}

/// Exact percentile (nearest rank) of sorted samples; `per_mille` is the
/// percentile times ten (999 for p99.9), in integers so that no rounding
/// moves the rank.
fn percentile(sorted: &[u64], per_mille: usize) -> u64 {
    let rank = (per_mille * sorted.len()).div_ceil(1000);
    match sorted.get(rank.clamp(1, sorted.len().max(1)) - 1) {
        Some(v) => *v,
        None => 0,
    }
}

/// Milliseconds with three decimals.
fn ms(nanos: u64) -> String {
    format!("{}.{:03}", nanos / 1_000_000, (nanos / 1000) % 1000)
}

impl Stats {
    /// Counts a reader warning or a frame that could not be decoded.
    pub fn damage(&mut self, kind: &str) {
        *self.damage.entry(kind.to_string()).or_default() += 1;
    }

    /// Says that a selection option is in force (the summary then tells
    /// frames read from messages selected).
    pub fn selection(&mut self, on: bool) {
        self.selection = on;
    }

    /// Counts one data frame (before decoding).
    pub fn frame(&mut self) {
        self.frames += 1;
    }

    fn message(&mut self, bytes: &[u8], event: &Event, is_query: bool) {
        self.messages += 1;
        let Ok(header) = Header::parse(bytes) else {
            self.damage("DNS message shorter than its header");
            return;
        };
        *self.by_opcode.entry(header.opcode()).or_default() += 1;
        let question = first_question(bytes);
        if header.qr() {
            // The full rcode needs the OPT record; parse only when the
            // message has an additional section.
            let rcode = if header.arcount > 0 {
                match Message::parse(bytes) {
                    Ok(m) => {
                        if m.error.is_some() {
                            self.damage("malformed DNS message");
                        }
                        m.rcode()
                    }
                    Err(_) => header.rcode(),
                }
            } else {
                header.rcode()
            };
            *self.by_rcode.entry(rcode).or_default() += 1;
        }
        if header.qdcount > 0 && question.is_none() {
            self.damage("malformed DNS message");
        }
        if let Some(q) = &question {
            *self.by_qtype.entry(q.qtype).or_default() += 1;
            if is_query {
                let key = q.name.as_wire().to_ascii_lowercase();
                if let Some(n) = self.qnames.get_mut(&key) {
                    *n += 1;
                } else if self.qnames.len() < DISTINCT_MAX {
                    self.qnames.insert(key, 1);
                } else {
                    self.qnames_other += 1;
                }
            }
        }
        if is_query {
            if let Some(c) = event.query_addr {
                if let Some(n) = self.clients.get_mut(&c) {
                    *n += 1;
                } else if self.clients.len() < DISTINCT_MAX {
                    self.clients.insert(c, 1);
                } else {
                    self.clients_other += 1;
                }
            }
        }
    }

    fn event(&mut self, event: &Event) {
        *self.by_type.entry(event.mtype.0).or_default() += 1;
        *self
            .by_proto
            .entry(event.protocol.map(Protocol::to_pb))
            .or_default() += 1;
        let dir = event.direction();
        if let Some(q) = event.query_message.as_deref() {
            // A response frame that carries its query: the query counts
            // too, but its name and client only once (here).
            self.message(q, event, true);
        }
        if let Some(r) = event.response_message.as_deref() {
            if dir != Some(Direction::Query) {
                self.message(r, event, false);
            }
        }
    }

    /// Counts one paired item.
    pub fn push(&mut self, item: &Item) {
        match item {
            Item::Query(e) => self.event(e),
            Item::Unanswered(_) => self.unanswered += 1,
            Item::Response {
                event,
                query_time,
                query_seen,
            } => {
                self.event(event);
                if event.direction() != Some(Direction::Response) {
                    return;
                }
                if *query_seen || event.query_message.is_some() || query_time.is_some() {
                    self.answered += 1;
                } else {
                    self.unsolicited += 1;
                }
                let latency = match (query_time, event.response_time) {
                    (Some(q), Some(r)) => r.nanos_since(q),
                    _ => None,
                };
                if let Some(l) = latency {
                    let l = u64::try_from(l).unwrap_or(u64::MAX);
                    let key = (event.response_addr, event.response_port, event.protocol);
                    let group = if self.latency.len() < LATENCY_GROUPS_MAX
                        || self.latency.contains_key(&key)
                    {
                        self.latency.entry(key).or_default()
                    } else {
                        &mut self.latency_other
                    };
                    group.n += 1;
                    group.max = group.max.max(l);
                    if self.samples < SAMPLES_MAX {
                        group.samples.push(l);
                        self.samples += 1;
                    } else {
                        self.dropped_samples += 1;
                    }
                }
            }
        }
    }

    /// Entries by count, largest first; ties in key order (so the output
    /// does not depend on hashing).
    fn sorted<K: Clone + Ord>(map: &Map<K, u64>) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = map.iter().map(|(k, n)| (k.clone(), *n)).collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    fn name_text(wire: &[u8]) -> String {
        match crate::dns::name::Name::from_wire(wire) {
            Ok(n) => {
                let mut s = String::new();
                write_name(&mut s, &n);
                s
            }
            Err(_) => "(bad name)".into(),
        }
    }

    /// The `top` busiest latency groups with sorted samples, busiest
    /// first, then one "(other)" row for the rest (their samples are moved
    /// into it, so each sample is in one group still).
    fn latency_rows(&mut self, top: usize) -> Vec<(String, String, u64, [u64; 5])> {
        let mut keys: Vec<(u64, Server)> = self.latency.iter().map(|(k, l)| (l.n, *k)).collect();
        let server_name = |(addr, port, _): &Server| match (addr, port) {
            (Some(a), Some(p)) => format!("{a}#{p}"),
            (Some(a), None) => a.to_string(),
            _ => "-".into(),
        };
        keys.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| server_name(&a.1).cmp(&server_name(&b.1)))
                .then_with(|| proto_name(a.1 .2).cmp(&proto_name(b.1 .2)))
        });
        let row = |server: String, proto: String, l: &mut Latencies| {
            l.samples.sort_unstable();
            let s = &l.samples;
            (
                server,
                proto,
                l.n,
                [
                    percentile(s, 500),
                    percentile(s, 900),
                    percentile(s, 990),
                    percentile(s, 999),
                    l.max,
                ],
            )
        };
        let mut rows = Vec::new();
        for (i, (_, key)) in keys.iter().enumerate() {
            let Some(mut l) = self.latency.remove(key) else {
                continue;
            };
            if i < top {
                rows.push(row(server_name(key), proto_name(key.2), &mut l));
                self.latency.insert(*key, l);
            } else {
                let other = &mut self.latency_other;
                other.n += l.n;
                other.max = other.max.max(l.max);
                other.samples.append(&mut l.samples);
            }
        }
        if self.latency_other.n > 0 {
            rows.push(row("(other)".into(), "-".into(), &mut self.latency_other));
        }
        rows
    }

    /// Counts of all latencies by power-of-two microsecond bucket.
    fn histogram(&self) -> Vec<(u64, u64)> {
        let mut buckets = [0u64; 40];
        for l in self.latency.values().chain([&self.latency_other]) {
            for &s in &l.samples {
                let us = (s / 1000).max(1);
                let b = (63 - us.leading_zeros()) as usize;
                buckets[b.min(39)] += 1;
            }
        }
        let first = buckets.iter().position(|&n| n > 0).unwrap_or(0);
        let last = buckets.iter().rposition(|&n| n > 0).unwrap_or(0);
        (first..=last)
            .filter(|_| buckets.iter().any(|&n| n > 0))
            .map(|b| (1u64 << b, buckets[b]))
            .collect()
    }

    /// The summary as text, `top` rows in the top lists.
    pub fn text(&mut self, top: usize) -> String {
        let mut o = String::new();
        let total_damage: u64 = self.damage.values().sum();
        let _ = if self.selection {
            writeln!(
                o,
                ";; frames read: {}, DNS messages selected: {}",
                self.frames, self.messages
            )
        } else {
            writeln!(
                o,
                ";; frames: {}, DNS messages: {}",
                self.frames, self.messages
            )
        };
        let _ = writeln!(
            o,
            ";; answered queries: {}, unanswered queries: {}, unsolicited responses: {}",
            self.answered, self.unanswered, self.unsolicited
        );
        let _ = writeln!(o, ";; damage found: {total_damage}");
        for (kind, n) in Self::sorted(&self.damage) {
            let _ = writeln!(o, ";;   {n:>10}  {kind}");
        }
        let section = |o: &mut String, title: &str, rows: Vec<(String, u64)>, total: u64| {
            let _ = writeln!(o, "\n;; {title}:");
            for (name, n) in rows {
                let share = if total > 0 {
                    100.0 * n as f64 / total as f64
                } else {
                    0.0
                };
                let _ = writeln!(o, ";;   {n:>10} {share:>6.2}%  {name}");
            }
        };
        let types = Self::sorted(&self.by_type)
            .into_iter()
            .map(|(t, n)| (MessageType(t).name().into_owned(), n))
            .collect();
        section(&mut o, "frames by message type", types, self.frames);
        let protos = Self::sorted(&self.by_proto)
            .into_iter()
            .map(|(p, n)| (proto_name(p.map(Protocol::from_pb)), n))
            .collect();
        section(&mut o, "frames by transport", protos, self.frames);
        let rcodes: Vec<(String, u64)> = Self::sorted(&self.by_rcode)
            .into_iter()
            .map(|(r, n)| (crate::render::dig::rcode_name(r).into_owned(), n))
            .collect();
        let responses = rcodes.iter().map(|r| r.1).sum();
        section(&mut o, "responses by rcode", rcodes, responses);
        let qtypes = Self::sorted(&self.by_qtype)
            .into_iter()
            .map(|(t, n)| (crate::dns::types::type_name(t).into_owned(), n))
            .collect();
        section(&mut o, "messages by qtype", qtypes, self.messages);
        let opcodes = Self::sorted(&self.by_opcode)
            .into_iter()
            .map(|(op, n)| (crate::render::dig::opcode_name(op).into_owned(), n))
            .collect();
        section(&mut o, "messages by opcode", opcodes, self.messages);
        let queries: u64 = self.qnames.values().sum::<u64>() + self.qnames_other;
        let mut names: Vec<(String, u64)> = Self::sorted(&self.qnames)
            .into_iter()
            .take(top)
            .map(|(w, n)| (Self::name_text(&w), n))
            .collect();
        if self.qnames_other > 0 {
            names.push(("(other)".into(), self.qnames_other));
        }
        section(&mut o, &format!("top {top} query names"), names, queries);
        let asked: u64 = self.clients.values().sum::<u64>() + self.clients_other;
        let mut clients: Vec<(String, u64)> = Self::sorted(&self.clients)
            .into_iter()
            .take(top)
            .map(|(a, n)| (a.to_string(), n))
            .collect();
        if self.clients_other > 0 {
            clients.push(("(other)".into(), self.clients_other));
        }
        section(&mut o, &format!("top {top} clients"), clients, asked);
        let rows = self.latency_rows(top);
        let _ = writeln!(
            o,
            "\n;; latency in ms (from paired messages), top {top} servers and transports:"
        );
        let _ = writeln!(
            o,
            ";;   {:<40} {:<5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "server", "proto", "n", "p50", "p90", "p99", "p99.9", "max"
        );
        for (server, proto, n, p) in rows {
            let _ = writeln!(
                o,
                ";;   {:<40} {:<5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
                server,
                proto,
                n,
                ms(p[0]),
                ms(p[1]),
                ms(p[2]),
                ms(p[3]),
                ms(p[4])
            );
        }
        if self.dropped_samples > 0 {
            let _ = writeln!(
                o,
                ";;   ({} samples past the first {SAMPLES_MAX} count in n and max only)",
                self.dropped_samples
            );
        }
        let hist = self.histogram();
        let peak = hist.iter().map(|h| h.1).max().unwrap_or(0);
        if peak > 0 {
            let _ = writeln!(o, "\n;; latency histogram (all servers):");
            for (us, n) in hist {
                let bar = (n * 50).div_ceil(peak) as usize;
                let label = if us >= 1000 {
                    format!(">= {} ms", us / 1000)
                } else {
                    format!(">= {us} us")
                };
                let _ = writeln!(o, ";;   {label:>12} {n:>10} {}", "#".repeat(bar));
            }
        }
        o
    }

    /// The summary as one JSON object (and a newline).
    pub fn json(&mut self, top: usize) -> String {
        use serde_json::{json, Map as JMap, Value};
        fn obj(rows: Vec<(String, u64)>) -> Value {
            let mut m = JMap::new();
            for (k, n) in rows {
                m.insert(k, json!(n));
            }
            Value::Object(m)
        }
        let rows = self.latency_rows(top);
        let latency: Vec<Value> = rows
            .into_iter()
            .map(|(server, proto, n, p)| {
                json!({"server": server, "transport": proto, "n": n,
                       "p50_ns": p[0], "p90_ns": p[1], "p99_ns": p[2], "p999_ns": p[3],
                       "max_ns": p[4]})
            })
            .collect();
        let hist: Vec<Value> = self
            .histogram()
            .into_iter()
            .map(|(us, n)| json!({"from_us": us, "count": n}))
            .collect();
        let v = json!({
            "frames": self.frames,
            "selection": self.selection,
            "messages": self.messages,
            "answered_queries": self.answered,
            "unanswered_queries": self.unanswered,
            "unsolicited_responses": self.unsolicited,
            "damage": obj(Self::sorted(&self.damage)),
            "message_types": obj(Self::sorted(&self.by_type).into_iter()
                .map(|(t, n)| (MessageType(t).name().into_owned(), n)).collect()),
            "transports": obj(Self::sorted(&self.by_proto).into_iter()
                .map(|(p, n)| (proto_name(p.map(Protocol::from_pb)), n)).collect()),
            "rcodes": obj(Self::sorted(&self.by_rcode).into_iter()
                .map(|(r, n)| (crate::render::dig::rcode_name(r).into_owned(), n)).collect()),
            "qtypes": obj(Self::sorted(&self.by_qtype).into_iter()
                .map(|(t, n)| (crate::dns::types::type_name(t).into_owned(), n)).collect()),
            "opcodes": obj(Self::sorted(&self.by_opcode).into_iter()
                .map(|(o, n)| (crate::render::dig::opcode_name(o).into_owned(), n)).collect()),
            "top_qnames": Self::sorted(&self.qnames).into_iter().take(top)
                .map(|(w, n)| json!({"name": Self::name_text(&w), "count": n}))
                .collect::<Vec<_>>(),
            "other_qnames": self.qnames_other,
            "top_clients": Self::sorted(&self.clients).into_iter().take(top)
                .map(|(a, n)| json!({"address": a.to_string(), "count": n}))
                .collect::<Vec<_>>(),
            "other_clients": self.clients_other,
            "latency": latency,
            "latency_samples_not_in_percentiles": self.dropped_samples,
            "latency_histogram": hist,
        });
        let mut s = v.to_string();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pair::Pairer;
    use crate::tap::event::Timestamp;
    use bytes::Bytes;

    fn msg(id: u16, response: bool, name: &[u8], rcode: u8) -> Bytes {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&[
            if response { 0x80 } else { 0 },
            rcode,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        m.extend_from_slice(name);
        m.extend_from_slice(&[0, 28, 0, 1]);
        Bytes::from(m)
    }

    fn ev(mtype: i32, id: u16, client: &str, ns: u64, m: Bytes) -> Event {
        let q = mtype % 2 == 1;
        Event {
            offset: None,
            identity: None,
            version: None,
            mtype: MessageType(mtype),
            family: None,
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some(client.parse().unwrap()),
            query_port: Some(1000 + id),
            response_addr: Some("192.0.2.53".parse().unwrap()),
            response_port: Some(53),
            connection: None,
            query_time: q.then_some(Timestamp { sec: 0, nsec: 0 }),
            response_time: (!q).then_some(Timestamp {
                sec: 0,
                nsec: ns as u32,
            }),
            query_message: q.then(|| m.clone()),
            response_message: (!q).then_some(m),
            query_zone: None,
        }
    }

    fn stats_of(events: Vec<Event>) -> Stats {
        let mut pairer = Pairer::default();
        let mut stats = Stats::default();
        let mut items = Vec::new();
        for e in events {
            stats.frame();
            pairer.push(e, &mut items);
        }
        pairer.finish(&mut items);
        for i in &items {
            stats.push(i);
        }
        stats
    }

    #[test]
    fn latency_rows_past_the_top_and_the_cap_go_to_one_other_row() {
        let mut events = Vec::new();
        // Server k answers k+1 queries, each in (k+1) ms; then more
        // servers than the cap, one query each.
        let mut id = 0u16;
        let mut answer = |events: &mut Vec<Event>, server: String, ms: u64| {
            id = id.wrapping_add(1);
            let name: &[u8] = b"\x01a\x07example\x00";
            let mut q = ev(5, id, "198.51.100.1", 0, msg(id, false, name, 0));
            let mut r = ev(
                6,
                id,
                "198.51.100.1",
                ms * 1_000_000,
                msg(id, true, name, 0),
            );
            q.response_addr = Some(server.parse().unwrap());
            r.response_addr = q.response_addr;
            events.push(q);
            events.push(r);
        };
        for k in 0..3u64 {
            for _ in 0..=k {
                answer(&mut events, format!("192.0.2.{k}"), k + 1);
            }
        }
        let mut s = stats_of(events);
        let rows = s.latency_rows(2);
        let names: Vec<(&str, u64)> = rows.iter().map(|r| (r.0.as_str(), r.2)).collect();
        assert_eq!(
            names,
            [("192.0.2.2#53", 3), ("192.0.2.1#53", 2), ("(other)", 1)]
        );
        assert_eq!(rows[2].3[4], 1_000_000, "the other row's max");
        // Each sample is counted once in the histogram still.
        assert_eq!(s.histogram().iter().map(|h| h.1).sum::<u64>(), 6);

        let mut events = Vec::new();
        for i in 0..(LATENCY_GROUPS_MAX as u32 + 5) {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            answer(&mut events, a.to_string(), 1);
        }
        let mut s = stats_of(events);
        assert_eq!(s.latency.len(), LATENCY_GROUPS_MAX);
        assert_eq!(s.latency_other.n, 5);
        let rows = s.latency_rows(3);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3].0, "(other)");
        assert_eq!(rows[3].2, LATENCY_GROUPS_MAX as u64 + 5 - 3);
    }

    #[test]
    fn counts_pairs_latency_and_tops() {
        let mut events = Vec::new();
        // 100 answered queries, latencies 1..=100 ms; names alternate.
        for i in 0..100u16 {
            let name: &[u8] = if i % 4 == 0 {
                b"\x01a\x07EXAMPLE\x00"
            } else {
                b"\x01b\x07example\x00"
            };
            events.push(ev(5, i, "198.51.100.1", 0, msg(i, false, name, 0)));
            let rcode = if i < 10 { 3 } else { 0 };
            let ns = u64::from(i + 1) * 1_000_000;
            events.push(ev(6, i, "198.51.100.1", ns, msg(i, true, name, rcode)));
        }
        // One unanswered, one unsolicited, one broken message.
        events.push(ev(
            5,
            500,
            "198.51.100.2",
            0,
            msg(500, false, b"\x01c\x00", 0),
        ));
        events.push(ev(
            6,
            600,
            "198.51.100.3",
            5,
            msg(600, true, b"\x01d\x00", 0),
        ));
        events.push(ev(
            5,
            700,
            "198.51.100.4",
            0,
            Bytes::from_static(b"\x00\x01"),
        ));
        let mut s = stats_of(events);
        assert_eq!(s.frames, 203);
        assert_eq!((s.answered, s.unanswered, s.unsolicited), (100, 2, 1));
        assert_eq!(s.by_rcode[&3], 10);
        assert_eq!(s.by_rcode[&0], 91);
        assert_eq!(s.damage["DNS message shorter than its header"], 1);
        let rows = s.latency_rows(10);
        assert_eq!(rows.len(), 1);
        let (_, proto, n, p) = &rows[0];
        assert_eq!((proto.as_str(), *n), ("udp", 100));
        assert_eq!(
            p,
            &[50_000_000, 90_000_000, 99_000_000, 100_000_000, 100_000_000]
        );
        let text = s.text(1);
        assert!(text.contains("b.example."), "{text}");
        assert!(!text.contains("a.example."), "top 1 only: {text}");
        assert!(text.contains("198.51.100.1"), "{text}");
        assert!(text.contains("50.000"), "{text}");
        assert!(text.contains("NXDOMAIN"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&s.json(5)).unwrap();
        assert_eq!(v["top_qnames"][1]["name"], "a.example.", "lowercased: {v}");
        assert_eq!(v["top_qnames"][1]["count"], 25);
        assert_eq!(v["latency"][0]["p99_ns"], 99_000_000);
        assert_eq!(v["rcodes"]["NXDOMAIN"], 10);
        assert_eq!(v["unanswered_queries"], 2);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let s: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&s, 500), 500);
        assert_eq!(percentile(&s, 999), 999);
        assert_eq!(percentile(&s, 1000), 1000);
        assert_eq!(percentile(&[7], 0), 7);
        assert_eq!(percentile(&[], 500), 0);
    }

    #[test]
    fn names_from_the_wire_are_escaped() {
        let mut s = stats_of(vec![ev(
            5,
            1,
            "198.51.100.1",
            0,
            msg(1, false, b"\x03\x1b[2\x00", 0),
        )]);
        let text = s.text(3);
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("\\027[2."), "{text}");
    }
}
