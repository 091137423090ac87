//! `--rrsets`: a passive-DNS view of a trace. Every RRset seen in a
//! response (answer, authority and additional sections; OPT left out) is
//! kept once per owner, type, class, bailiwick and set of RDATA, with when
//! it was first and last seen and how often. Text in DNSDB's layout, or
//! JSON Lines in the passive-DNS common output format (rrname, rrtype,
//! bailiwick, rdata, time_first, time_last, count).
//!
//! The bailiwick is dnstap's `query_zone` when the frame has one (a
//! resolver's upstream query); else the zone the response speaks for: the
//! owner of the SOA, else of the NS records, of its authority section; else
//! the question's name. Which one it was is said (`bailiwick_source`). An
//! RRset whose owner is not at or below the bailiwick is flagged: a server
//! sent records it has no authority for.
//!
//! Signatures: as in DNSDB and the common output format, where `rrtype` is
//! the record's own type, RRSIG records are RRsets of their own (`rrtype`
//! "RRSIG"), but one per type they cover: the RRSIGs of an owner's A and
//! AAAA records are two entries, not one. Each comes right after the RRset
//! it covers (same owner, class and bailiwick), in text and in JSON Lines.
//!
//! Memory: at most [`RRSETS_MAX`] distinct RRsets are kept; RRsets first
//! seen past that are counted as left out and reported, never stored.
//! Pure: fed events, no I/O.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::dns::name::{write_name, Name};
use crate::dns::types::{type_name, OPT, RRSIG};
use crate::dns::wire::{Message, Section};
use crate::render::dig::write_rdata_or_generic;
use crate::render::DisplayOpts;
use crate::tap::event::{Direction, Event};

/// Distinct RRsets kept.
pub const RRSETS_MAX: usize = 1_000_000;

/// Where a bailiwick came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BailiwickSource {
    /// dnstap's `query_zone`.
    QueryZone,
    /// The owner of the SOA record in the authority section.
    Soa,
    /// The owner of the NS records in the authority section.
    Ns,
    /// The question's name (nothing better was in the response).
    Question,
}

impl BailiwickSource {
    fn name(self) -> &'static str {
        match self {
            BailiwickSource::QueryZone => "query_zone",
            BailiwickSource::Soa => "SOA in authority",
            BailiwickSource::Ns => "NS in authority",
            BailiwickSource::Question => "question name",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    rrname: String,
    rrtype: u16,
    /// For RRSIG: the type covered (RFC 4034 §3.1.1), else None.
    covers: Option<u16>,
    class: u16,
    bailiwick: String,
    rdata: Vec<String>,
}

impl Key {
    /// The order of the listing: by owner, type (a signature sorts as the
    /// type it covers), class and bailiwick, the RRsets before their
    /// signatures, then by RDATA.
    fn order(&self) -> impl Ord + '_ {
        (
            &self.rrname,
            self.covers.unwrap_or(self.rrtype),
            self.class,
            &self.bailiwick,
            self.covers.is_some(),
            &self.rdata,
        )
    }
}

#[derive(Clone, Debug)]
struct Seen {
    source: BailiwickSource,
    out_of_bailiwick: bool,
    first: u64,
    last: u64,
    count: u64,
}

/// The RRsets of a run; see the module documentation.
#[derive(Debug, Default)]
pub struct RrSets {
    sets: HashMap<Key, Seen, foldhash::fast::RandomState>,
    /// RRsets not kept because the table was full.
    pub left_out: u64,
    display: DisplayOpts,
    max: usize,
}

fn name_text(name: &Name) -> String {
    let mut s = String::new();
    write_name(&mut s, name);
    s.make_ascii_lowercase();
    s
}

/// True when `name` is `zone` or below it (label-wise, any case).
fn is_at_or_below(name: &Name, zone: &Name) -> bool {
    let n: Vec<&[u8]> = name.labels().collect();
    let z: Vec<&[u8]> = zone.labels().collect();
    z.len() <= n.len()
        && n.iter()
            .rev()
            .zip(z.iter().rev())
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

impl RrSets {
    /// An empty table.
    pub fn new() -> RrSets {
        RrSets::with_limit(RRSETS_MAX)
    }

    /// An empty table keeping at most `max` RRsets.
    pub fn with_limit(max: usize) -> RrSets {
        RrSets {
            // Whole keys and signatures, unsplit: one RDATA, one string.
            display: DisplayOpts {
                crypto: true,
                rdata: crate::render::rdata::RdataStyle {
                    split: 0,
                    ..crate::render::rdata::RdataStyle::default()
                },
                ..DisplayOpts::default()
            },
            max,
            ..RrSets::default()
        }
    }

    /// Takes one event: its response message, if any.
    pub fn push(&mut self, event: &Event) {
        if event.direction() != Some(Direction::Response) {
            return;
        }
        let Some(bytes) = event.response_message.as_deref() else {
            return;
        };
        let Ok(msg) = Message::parse(bytes) else {
            return;
        };
        let when = event
            .response_time
            .or(event.query_time)
            .map_or(0, |t| t.sec);
        let authority = msg.section(Section::Authority);
        let zone = event
            .query_zone
            .as_deref()
            .and_then(|z| Name::from_wire(z).ok())
            .map(|n| (n, BailiwickSource::QueryZone))
            .or_else(|| {
                authority
                    .iter()
                    .find(|r| r.rtype == crate::dns::types::SOA)
                    .map(|r| (r.name.clone(), BailiwickSource::Soa))
            })
            .or_else(|| {
                authority
                    .iter()
                    .find(|r| r.rtype == crate::dns::types::NS)
                    .map(|r| (r.name.clone(), BailiwickSource::Ns))
            })
            .or_else(|| {
                msg.first_question()
                    .map(|q| (q.name.clone(), BailiwickSource::Question))
            });
        let Some((zone, source)) = zone else {
            return;
        };
        let bailiwick = name_text(&zone);
        // Gather the RRsets of the message: records of one owner, type
        // and class, in any section.
        let mut sets: Vec<(Key, bool)> = Vec::new();
        for section in [Section::Answer, Section::Authority, Section::Additional] {
            for rr in msg.section(section) {
                if rr.rtype == OPT {
                    continue;
                }
                let rrname = name_text(&rr.name);
                let mut rdata = String::new();
                write_rdata_or_generic(&mut rdata, &msg, rr, &self.display);
                // A signature too short to say what it covers groups with
                // the other such ones.
                let covers = (rr.rtype == RRSIG).then(|| match msg.rdata(rr) {
                    [a, b, ..] => u16::from_be_bytes([*a, *b]),
                    _ => 0,
                });
                match sets.iter_mut().find(|(k, _)| {
                    k.rrname == rrname
                        && k.rrtype == rr.rtype
                        && k.covers == covers
                        && k.class == rr.class
                }) {
                    Some((k, _)) => k.rdata.push(rdata),
                    None => sets.push((
                        Key {
                            rrname,
                            rrtype: rr.rtype,
                            covers,
                            class: rr.class,
                            bailiwick: bailiwick.clone(),
                            rdata: vec![rdata],
                        },
                        !is_at_or_below(&rr.name, &zone),
                    )),
                }
            }
        }
        for (mut key, out) in sets {
            key.rdata.sort();
            key.rdata.dedup();
            if let Some(seen) = self.sets.get_mut(&key) {
                seen.first = seen.first.min(when);
                seen.last = seen.last.max(when);
                seen.count += 1;
            } else if self.sets.len() < self.max {
                self.sets.insert(
                    key,
                    Seen {
                        source,
                        out_of_bailiwick: out,
                        first: when,
                        last: when,
                        count: 1,
                    },
                );
            } else {
                self.left_out += 1;
            }
        }
    }

    fn sorted(&self) -> Vec<(&Key, &Seen)> {
        let mut v: Vec<(&Key, &Seen)> = self.sets.iter().collect();
        v.sort_by(|a, b| a.0.order().cmp(&b.0.order()));
        v
    }

    /// DNSDB's text layout.
    pub fn text(&self) -> String {
        let time = |t: u64| {
            crate::civil::utc_text(t)
                .map(|d| format!("{d} -0000"))
                .unwrap_or_else(|| t.to_string())
        };
        let mut o = String::new();
        for (k, s) in self.sorted() {
            let _ = writeln!(o, ";; bailiwick: {}", k.bailiwick);
            let _ = writeln!(o, ";; bailiwick from: {}", s.source.name());
            if s.out_of_bailiwick {
                let _ = writeln!(
                    o,
                    ";; OUT OF BAILIWICK: {} is not at or below {}",
                    k.rrname, k.bailiwick
                );
            }
            let _ = writeln!(o, ";;      count: {}", s.count);
            let _ = writeln!(o, ";; first seen: {}", time(s.first));
            let _ = writeln!(o, ";;  last seen: {}", time(s.last));
            let class = crate::dns::types::class_name(k.class);
            for r in &k.rdata {
                let _ = writeln!(o, "{} {} {} {}", k.rrname, class, type_name(k.rrtype), r);
            }
            o.push('\n');
        }
        o
    }

    /// JSON Lines in the passive-DNS common output format, with
    /// `bailiwick_source` and `out_of_bailiwick` added.
    pub fn json_lines(&self) -> String {
        let mut o = String::new();
        for (k, s) in self.sorted() {
            let v = serde_json::json!({
                "count": s.count,
                "time_first": s.first,
                "time_last": s.last,
                "rrname": k.rrname,
                "rrtype": type_name(k.rrtype),
                "bailiwick": k.bailiwick,
                "rdata": k.rdata,
                "bailiwick_source": s.source.name(),
                "out_of_bailiwick": s.out_of_bailiwick,
            });
            o.push_str(&v.to_string());
            o.push('\n');
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::event::{MessageType, Timestamp};
    use bytes::Bytes;

    /// A response for www.example.com A: two A records, an NS in the
    /// authority (example.com.), and an additional A for evil.test
    /// (out of bailiwick).
    fn response(second_a: u8) -> Vec<u8> {
        let mut m = vec![0, 1, 0x84, 0, 0, 1, 0, 2, 0, 1, 0, 1];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        for last in [1, second_a] {
            m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, last]);
        }
        m.extend_from_slice(&[
            0xc0, 16, 0, 2, 0, 1, 0, 0, 0, 60, 0, 6, 3, b'n', b's', b'1', 0xc0, 16,
        ]);
        m.extend_from_slice(
            b"\x04evil\x04test\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xcb\x00\x71\x07",
        );
        m
    }

    fn ev(m: Vec<u8>, sec: u64, zone: Option<&'static [u8]>) -> Event {
        Event {
            offset: None,
            identity: None,
            version: None,
            mtype: MessageType(4),
            family: None,
            protocol: None,
            http_protocol: None,
            query_addr: None,
            query_port: None,
            response_addr: None,
            response_port: None,
            connection: None,
            query_time: None,
            response_time: Some(Timestamp { sec, nsec: 0 }),
            query_message: None,
            response_message: Some(Bytes::from(m)),
            query_zone: zone.map(Bytes::from_static),
        }
    }

    #[test]
    fn rrsets_are_merged_counted_and_flagged() {
        let mut r = RrSets::new();
        r.push(&ev(response(2), 100, None));
        r.push(&ev(response(2), 50, None));
        r.push(&ev(response(3), 200, None));
        let lines: Vec<serde_json::Value> = r
            .json_lines()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let www: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|v| v["rrname"] == "www.example.com.")
            .collect();
        assert_eq!(www.len(), 2, "two different RDATA sets");
        let first = www.iter().find(|v| v["rdata"][1] == "192.0.2.2").unwrap();
        assert_eq!(
            (
                first["count"].as_u64(),
                first["time_first"].as_u64(),
                first["time_last"].as_u64()
            ),
            (Some(2), Some(50), Some(100))
        );
        assert_eq!(first["bailiwick"], "example.com.");
        assert_eq!(first["bailiwick_source"], "NS in authority");
        assert_eq!(first["out_of_bailiwick"], false);
        let evil = lines.iter().find(|v| v["rrname"] == "evil.test.").unwrap();
        assert_eq!(evil["out_of_bailiwick"], true);
        assert_eq!(evil["count"], 3);
        let text = r.text();
        assert!(text.contains(";; bailiwick: example.com.\n"), "{text}");
        assert!(
            text.contains(";; first seen: 1970-01-01 00:00:50 -0000"),
            "{text}"
        );
        assert!(
            text.contains("www.example.com. IN A 192.0.2.1\nwww.example.com. IN A 192.0.2.2\n"),
            "{text}"
        );
        assert!(text.contains(";; OUT OF BAILIWICK: evil.test."), "{text}");
    }

    /// An RRSIG record over `covered` at www.example.com, signed by
    /// example.com.
    fn rrsig(covered: u16, sig: u8) -> Vec<u8> {
        let mut rdata = covered.to_be_bytes().to_vec();
        rdata.extend_from_slice(&[13, 3, 0, 0, 0, 60]);
        rdata.extend_from_slice(&[0x67, 0, 0, 0, 0x66, 0, 0, 0, 0x12, 0x34]);
        rdata.extend_from_slice(&[0xc0, 16, sig, sig, sig]);
        let mut rr = vec![0xc0, 12, 0, 46, 0, 1, 0, 0, 0, 60];
        rr.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        rr.extend_from_slice(&rdata);
        rr
    }

    #[test]
    fn each_signature_follows_the_rrset_it_covers() {
        // Answer: A, AAAA, then the RRSIGs over A and over AAAA, with an
        // SOA in the authority section.
        let mut m = vec![0, 1, 0x84, 0, 0, 1, 0, 4, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\xff\x00\x01");
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        m.extend_from_slice(&[0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
        m.extend_from_slice(&[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        m.extend(rrsig(1, 0xa1));
        m.extend(rrsig(28, 0xa2));
        let mut r = RrSets::new();
        r.push(&ev(m, 7, None));
        let lines: Vec<serde_json::Value> = r
            .json_lines()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let listed: Vec<(String, String)> = lines
            .iter()
            .map(|v| {
                let rdata = v["rdata"][0].as_str().unwrap();
                (
                    v["rrtype"].as_str().unwrap().to_owned(),
                    rdata.split(' ').next().unwrap().to_owned(),
                )
            })
            .collect();
        let want = [("A", "192.0.2.1"), ("RRSIG", "A"), ("AAAA", "2001:db8::1")];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .chain([("RRSIG".to_owned(), "AAAA".to_owned())])
            .collect();
        assert_eq!(listed, want, "one RRSIG set per covered type, after it");
        assert!(lines
            .iter()
            .all(|v| v["rdata"].as_array().unwrap().len() == 1));
        // The text view lists them in the same order.
        let text = r.text();
        let records: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(";;") && !l.is_empty())
            .collect();
        assert_eq!(records.len(), 4, "{text}");
        assert!(
            records[1].starts_with("www.example.com. IN RRSIG A 13 3 60 "),
            "{text}"
        );
        assert!(
            records[3].starts_with("www.example.com. IN RRSIG AAAA 13 3 60 "),
            "{text}"
        );
    }

    #[test]
    fn query_zone_wins_and_is_said() {
        let mut r = RrSets::new();
        r.push(&ev(response(2), 1, Some(b"\x03com\x00")));
        let text = r.text();
        assert!(
            text.contains(";; bailiwick: com.\n;; bailiwick from: query_zone"),
            "{text}"
        );
        assert!(!text.contains("OUT OF BAILIWICK: www"), "{text}");
    }

    #[test]
    fn memory_is_bounded_and_broken_messages_are_skipped() {
        let mut r = RrSets::new();
        let mut m = response(2);
        m.truncate(20);
        r.push(&ev(m, 1, None));
        r.push(&ev(vec![1, 2], 1, None));
        assert!(r.sets.len() <= 1);
        // Past the limit: counted, not kept.
        let mut r = RrSets::with_limit(2);
        r.push(&ev(response(2), 1, None));
        assert_eq!((r.sets.len(), r.left_out), (2, 1), "three RRsets, two kept");
    }
}
