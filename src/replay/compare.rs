//! Compares a recorded response with a new one to the same query: rcode,
//! opcode and header flags, EDNS (COOKIE and PADDING aside: they differ by
//! design), and each record section as a set of RRsets (order-insensitive;
//! TTLs ignored unless asked; RRSIG validity times and signatures ignored on
//! request). The message IDs are never compared. TSIG records are left out
//! (their MAC and time differ by design).
//!
//! Each difference is a [`Diff`] of a [`Kind`] with its dig-style lines:
//! `-` for what was recorded, `+` for what came back now, a space for
//! context (the section header). Pure: bytes in, text out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::dns::name::write_name;
use crate::dns::types::{OPT, RRSIG, TSIG};
use crate::dns::wire::{Message, Record, Section, HEADER_LEN};
use crate::render::dig::{opcode_name, rcode_name, write_rdata_or_generic, write_record};
use crate::render::DisplayOpts;

/// EDNS option codes left out of the comparison (RFC 7873 COOKIE, RFC
/// 7830 PADDING): each exchange's own by design.
const IGNORED_OPTIONS: [u16; 2] = [10, 12];

/// What is compared and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompareOpts {
    /// Compare TTLs too (`--compare-ttl`).
    pub ttl: bool,
    /// Leave out RRSIG inception, expiration and signature
    /// (`--ignore-rrsig-times`): a re-signed zone then compares equal.
    pub ignore_rrsig_times: bool,
}

/// The kinds of difference, in the order they are shown and counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The response code (with EDNS's extended bits).
    Rcode,
    /// The opcode or a header flag (QR AA TC RD RA Z AD CD).
    Flags,
    /// The answer section's RRsets.
    Answer,
    /// The authority section's RRsets.
    Authority,
    /// The additional section's RRsets (OPT and TSIG aside).
    Additional,
    /// The OPT record: presence, version, flags, UDP size, options.
    Edns,
    /// One message parsed only in part (the other fully).
    Malformed,
    /// With `-y`/`-k`: the new response's TSIG did not verify (found by
    /// the lookup, not by [`compare`]).
    Tsig,
}

impl Kind {
    /// Every kind, in order.
    pub const ALL: [Kind; 8] = [
        Kind::Rcode,
        Kind::Flags,
        Kind::Answer,
        Kind::Authority,
        Kind::Additional,
        Kind::Edns,
        Kind::Malformed,
        Kind::Tsig,
    ];

    /// The kind's name in summaries and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Rcode => "rcode",
            Kind::Flags => "flags",
            Kind::Answer => "answer",
            Kind::Authority => "authority",
            Kind::Additional => "additional",
            Kind::Edns => "edns",
            Kind::Malformed => "malformed",
            Kind::Tsig => "tsig",
        }
    }
}

/// One difference between the recorded and the new response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diff {
    /// What differs.
    pub kind: Kind,
    /// The dig-style lines (without newlines): `-` recorded, `+` new,
    /// ` ` context.
    pub lines: Vec<String>,
}

/// The differences between `recorded` and `new` (empty: the same). A
/// message whose header does not parse differs in everything: one
/// [`Kind::Malformed`] difference.
pub fn compare(recorded: &[u8], new: &[u8], opts: CompareOpts) -> Vec<Diff> {
    // The common case, short-cut: the same bytes but the ID (which is
    // never compared) are the same message, whatever the options. Parsing
    // both and writing every record as text was a tenth of a replay's
    // time (`perf`, BENCHMARKS.md). A header too short to parse is left to
    // the full comparison, which says so.
    if recorded.len() >= HEADER_LEN && recorded.get(2..) == new.get(2..) {
        return Vec::new();
    }
    compare_parsed(recorded, new, opts)
}

/// The full comparison (no short cut).
fn compare_parsed(recorded: &[u8], new: &[u8], opts: CompareOpts) -> Vec<Diff> {
    let (old, now) = match (Message::parse(recorded), Message::parse(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            let state = |ok: bool| if ok { "parsed" } else { "no DNS header" };
            return vec![Diff {
                kind: Kind::Malformed,
                lines: vec![
                    format!("-;; message: {}", state(a.is_ok())),
                    format!("+;; message: {}", state(b.is_ok())),
                ],
            }];
        }
    };
    let mut diffs = Vec::new();
    if old.rcode() != now.rcode() {
        let line = |m: &Message<'_>| {
            format!(
                ";; ->>HEADER<<- opcode: {}, status: {}",
                opcode_name(m.header.opcode()),
                rcode_name(m.rcode())
            )
        };
        diffs.push(pair(Kind::Rcode, line(&old), line(&now)));
    }
    if flags_text(&old) != flags_text(&now) {
        let line = |m: &Message<'_>| format!(";; flags: {}", flags_text(m));
        diffs.push(pair(Kind::Flags, line(&old), line(&now)));
    }
    for (kind, section, title) in [
        (Kind::Answer, Section::Answer, "ANSWER"),
        (Kind::Authority, Section::Authority, "AUTHORITY"),
        (Kind::Additional, Section::Additional, "ADDITIONAL"),
    ] {
        let lines = section_diff(&old, &now, section, opts);
        if !lines.is_empty() {
            let mut all = vec![format!(" ;; {title} SECTION:")];
            all.extend(lines);
            diffs.push(Diff { kind, lines: all });
        }
    }
    let (e_old, e_new) = (edns_lines(&old), edns_lines(&now));
    if e_old != e_new {
        let mut lines = vec![" ;; OPT PSEUDOSECTION:".to_owned()];
        lines.extend(e_old.iter().map(|l| format!("-{l}")));
        lines.extend(e_new.iter().map(|l| format!("+{l}")));
        diffs.push(Diff {
            kind: Kind::Edns,
            lines,
        });
    }
    if old.error.is_some() != now.error.is_some() {
        let state = |m: &Message<'_>| match &m.error {
            Some(e) => format!(";; message: parsed in part: {e}"),
            None => ";; message: parsed".to_owned(),
        };
        diffs.push(pair(Kind::Malformed, state(&old), state(&now)));
    }
    diffs
}

fn pair(kind: Kind, old: String, new: String) -> Diff {
    Diff {
        kind,
        lines: vec![format!("-{old}"), format!("+{new}")],
    }
}

/// Opcode and flags, dig's way (`QUERY: qr aa rd`).
fn flags_text(m: &Message<'_>) -> String {
    let h = &m.header;
    let mut s = format!("{};", opcode_name(h.opcode()));
    for (on, name) in [
        (h.qr(), "qr"),
        (h.aa(), "aa"),
        (h.tc(), "tc"),
        (h.rd(), "rd"),
        (h.ra(), "ra"),
        (h.z(), "z"),
        (h.ad(), "ad"),
        (h.cd(), "cd"),
    ] {
        if on {
            s.push(' ');
            s.push_str(name);
        }
    }
    s
}

/// The OPT record in comparable lines: version, flags and UDP size, then
/// each option but COOKIE and PADDING (code and hex value).
fn edns_lines(m: &Message<'_>) -> Vec<String> {
    let Some(opt) = m.opt() else {
        return vec!["; EDNS: none".to_owned()];
    };
    let version = (opt.ttl >> 16) & 0xff;
    let flags = opt.ttl & 0xffff;
    let mut first = format!("; EDNS: version: {version}, flags:");
    if flags & 0x8000 != 0 {
        first.push_str(" do");
    }
    if flags & 0x7fff != 0 {
        let _ = write!(first, " MBZ: {:#06x}", flags & 0x7fff);
    }
    let _ = write!(first, "; udp: {}", opt.class);
    let mut lines = vec![first];
    let mut rdata = m.rdata(opt);
    while let [c0, c1, l0, l1, rest @ ..] = rdata {
        let code = u16::from_be_bytes([*c0, *c1]);
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let Some(value) = rest.get(..len) else {
            lines.push("; OPT: truncated option".to_owned());
            break;
        };
        if !IGNORED_OPTIONS.contains(&code) {
            let mut line = format!("; OPT={code}: ");
            for b in value {
                let _ = write!(line, "{b:02x}");
            }
            lines.push(line);
        }
        rdata = rest.get(len..).unwrap_or(&[]);
    }
    lines
}

/// An RRset's identity: owner (lower case), type, class.
type SetKey = (String, u16, u16);

/// One section's RRsets: each key with its records' comparable forms
/// (sorted, deduplicated) and the indexes of its records for display.
fn rrsets<'m>(
    m: &'m Message<'_>,
    section: Section,
    opts: CompareOpts,
) -> BTreeMap<SetKey, (Vec<String>, Vec<&'m Record>)> {
    let display = DisplayOpts::default();
    let mut sets: BTreeMap<SetKey, (Vec<String>, Vec<&'m Record>)> = BTreeMap::new();
    for rr in m.section(section) {
        if rr.rtype == OPT || rr.rtype == TSIG {
            continue;
        }
        let mut owner = String::new();
        write_name(&mut owner, &rr.name);
        owner.make_ascii_lowercase();
        let mut rdata = String::new();
        write_rdata_or_generic(&mut rdata, m, rr, &display);
        if rr.rtype == RRSIG && opts.ignore_rrsig_times {
            rdata = without_rrsig_times(&rdata);
        }
        if opts.ttl {
            rdata = format!("{} {rdata}", rr.ttl);
        }
        let entry = sets.entry((owner, rr.rtype, rr.class)).or_default();
        entry.0.push(rdata);
        entry.1.push(rr);
    }
    for (forms, _) in sets.values_mut() {
        forms.sort();
        forms.dedup();
    }
    sets
}

/// RRSIG presentation text without its expiration, inception and
/// signature (RFC 4034 §3.2: fields 5, 6 and 9 on): type covered,
/// algorithm, labels, original TTL, key tag and signer stay.
fn without_rrsig_times(text: &str) -> String {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let keep = [0usize, 1, 2, 3, 6, 7];
    keep.iter()
        .filter_map(|&i| fields.get(i).copied())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `-`/`+` record lines of the RRsets that differ in one section.
fn section_diff(
    old: &Message<'_>,
    now: &Message<'_>,
    section: Section,
    opts: CompareOpts,
) -> Vec<String> {
    let (a, b) = (rrsets(old, section, opts), rrsets(now, section, opts));
    let display = DisplayOpts::default();
    let line = |m: &Message<'_>, rr: &Record, sign: char| {
        let mut s = String::new();
        write_record(&mut s, m, rr, &display);
        let s = s.trim_end_matches('\n');
        format!("{sign}{s}")
    };
    let mut keys: Vec<&SetKey> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut lines = Vec::new();
    for key in keys {
        let (sa, sb) = (a.get(key), b.get(key));
        if sa.map(|s| &s.0) == sb.map(|s| &s.0) {
            continue;
        }
        for rr in sa.map(|s| s.1.as_slice()).unwrap_or_default() {
            lines.push(line(old, rr, '-'));
        }
        for rr in sb.map(|s| s.1.as_slice()).unwrap_or_default() {
            lines.push(line(now, rr, '+'));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `www.example. A` (ID `id`, flags `flags`), with the
    /// answers given as (TTL, IPv4 last byte), an OPT record with `opts`.
    fn response(id: u16, flags: u16, answers: &[(u32, u8)], opt: Option<&[u8]>) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        m.extend_from_slice(&0u16.to_be_bytes());
        m.extend_from_slice(&u16::from(opt.is_some()).to_be_bytes());
        m.extend_from_slice(b"\x03www\x07example\x00\x00\x01\x00\x01");
        for (ttl, last) in answers {
            m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
            m.extend_from_slice(&ttl.to_be_bytes());
            m.extend_from_slice(&[0, 4, 192, 0, 2, *last]);
        }
        if let Some(options) = opt {
            m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0]);
            m.extend_from_slice(&(options.len() as u16).to_be_bytes());
            m.extend_from_slice(options);
        }
        m
    }

    const NOERROR: u16 = 0x8580; // qr aa rd ra

    fn kinds(d: &[Diff]) -> Vec<Kind> {
        d.iter().map(|d| d.kind).collect()
    }

    #[test]
    fn the_short_cut_for_identical_bytes_agrees_with_the_full_comparison() {
        let whole = response(1, NOERROR, &[(300, 1), (300, 2)], Some(&[0, 3, 0, 0]));
        let mut cases = vec![
            whole.clone(),
            whole[..12].to_vec(),
            b"\x00\x01\x81".to_vec(),
        ];
        // Parsed in part: the last answer cut short.
        cases.push(whole[..whole.len() - 20].to_vec());
        for opts in [
            CompareOpts::default(),
            CompareOpts {
                ttl: true,
                ignore_rrsig_times: true,
            },
        ] {
            for case in &cases {
                let mut other_id = case.clone();
                if let Some(b) = other_id.get_mut(..2) {
                    b.copy_from_slice(&[0xab, 0xcd]);
                }
                assert_eq!(
                    compare(case, &other_id, opts),
                    compare_parsed(case, &other_id, opts),
                    "{case:02x?}"
                );
            }
        }
        // Too short for a header: malformed either way, not "the same".
        assert_eq!(
            kinds(&compare(
                b"\x00\x01\x81",
                b"\x00\x02\x81",
                CompareOpts::default()
            )),
            [Kind::Malformed]
        );
    }

    #[test]
    fn ids_order_ttls_cookies_and_padding_do_not_count() {
        let cookie_a = [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        let cookie_b = [0, 10, 0, 8, 9, 9, 9, 9, 9, 9, 9, 9, 0, 12, 0, 2, 0, 0];
        let a = response(1, NOERROR, &[(300, 1), (300, 2)], Some(&cookie_a));
        let b = response(2, NOERROR, &[(60, 2), (60, 1)], Some(&cookie_b));
        assert_eq!(compare(&a, &b, CompareOpts::default()), vec![]);
        let with_ttl = CompareOpts {
            ttl: true,
            ..CompareOpts::default()
        };
        assert_eq!(kinds(&compare(&a, &b, with_ttl)), [Kind::Answer]);
    }

    #[test]
    fn each_kind_of_difference_is_named_with_its_lines() {
        let a = response(1, NOERROR, &[(300, 1)], Some(&[]));
        let b = response(1, 0x8183, &[(300, 9)], None); // NXDOMAIN, no aa
        let d = compare(&a, &b, CompareOpts::default());
        assert_eq!(
            kinds(&d),
            [Kind::Rcode, Kind::Flags, Kind::Answer, Kind::Edns]
        );
        assert_eq!(
            d[0].lines,
            [
                "-;; ->>HEADER<<- opcode: QUERY, status: NOERROR",
                "+;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN"
            ]
        );
        assert_eq!(
            d[1].lines,
            [
                "-;; flags: QUERY; qr aa rd ra",
                "+;; flags: QUERY; qr rd ra"
            ]
        );
        assert_eq!(d[2].lines[0], " ;; ANSWER SECTION:");
        assert!(d[2].lines[1].starts_with("-www.example.") && d[2].lines[1].ends_with("192.0.2.1"));
        assert!(d[2].lines[2].starts_with("+www.example.") && d[2].lines[2].ends_with("192.0.2.9"));
        assert_eq!(d[3].lines[1], "-; EDNS: version: 0, flags: do; udp: 1232");
        assert_eq!(d[3].lines[2], "+; EDNS: none");
    }

    #[test]
    fn other_edns_options_count() {
        let a = response(1, NOERROR, &[], Some(&[0, 3, 0, 1, 0xaa]));
        let b = response(1, NOERROR, &[], Some(&[0, 3, 0, 1, 0xbb]));
        let d = compare(&a, &b, CompareOpts::default());
        assert_eq!(kinds(&d), [Kind::Edns]);
        assert!(d[0].lines.contains(&"-; OPT=3: aa".to_owned()));
    }

    #[test]
    fn rrsig_times_are_left_out_on_request() {
        let rrsig = |exp: &str, inc: &str, sig: &str| {
            format!("A 13 2 300 {exp} {inc} 12345 example. {sig}")
        };
        let a = without_rrsig_times(&rrsig("20300101000000", "20200101000000", "AAAA"));
        let b = without_rrsig_times(&rrsig("20310101000000", "20210101000000", "BBBB"));
        assert_eq!(a, b);
        assert_eq!(a, "A 13 2 300 12345 example.");
    }

    #[test]
    fn garbage_differs_without_panicking() {
        let a = response(1, NOERROR, &[(300, 1)], None);
        assert_eq!(
            kinds(&compare(&a, b"xy", CompareOpts::default())),
            [Kind::Malformed]
        );
        let mut cut = a.clone();
        cut.truncate(cut.len() - 3);
        let d = compare(&a, &cut, CompareOpts::default());
        assert!(d.iter().any(|d| d.kind == Kind::Malformed), "{d:?}");
    }
}
