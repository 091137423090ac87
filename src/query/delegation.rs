//! The pure half of `+trace` and `+nssearch`: what one response of a
//! delegation chase means ([`judge`]: an answer, a referral to follow, or a
//! lame server) with the warnings it deserves (out-of-bailiwick referrals
//! and glue, lame servers), bailiwick tests on names, and root hints (the
//! built-in IANA set and the hints-file reader). No I/O: the driver
//! (`iterate.rs`) sends the queries, and the renderer calls [`judge`] on
//! the recorded responses, so `--read` shows the same warnings as the live
//! run.

use std::net::IpAddr;

use crate::dns::name::{read_name, Name};
use crate::dns::types;
use crate::dns::wire::Message;

/// A server named in a referral, with the addresses the response gave
/// for it (in-bailiwick glue only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsServer {
    /// The NS name.
    pub name: Name,
    /// Its glue addresses.
    pub addrs: Vec<IpAddr>,
}

/// What a response of the chase means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The end of the chase: an answer (records for the name, a CNAME, an
    /// authoritative NXDOMAIN or no-data).
    Answer,
    /// A referral to the servers of `zone`, below the zone asked.
    Referral {
        /// The zone the servers are for.
        zone: Name,
        /// Its servers, in the order the response gave them.
        servers: Vec<NsServer>,
    },
    /// The server gave no usable answer (lame, refused, or a referral
    /// that goes sideways or up): ask another server of the same zone.
    Lame,
}

/// A [`Verdict`] and what is wrong with the response, as comment lines
/// (without `;; `; names escaped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    /// What to do next.
    pub verdict: Verdict,
    /// Warnings, one per line.
    pub warnings: Vec<String>,
}

/// Whether `name` is `zone` or below it (case-insensitive).
pub fn is_at_or_below(name: &Name, zone: &Name) -> bool {
    let n: Vec<&[u8]> = name.labels().collect();
    let z: Vec<&[u8]> = zone.labels().collect();
    z.len() <= n.len()
        && n[n.len() - z.len()..]
            .iter()
            .zip(&z)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

/// Whether `name` is strictly below `zone`.
pub fn is_below(name: &Name, zone: &Name) -> bool {
    is_at_or_below(name, zone) && name.label_count() > zone.label_count()
}

/// The name as dig shows it, escaped for the terminal.
pub fn show(name: &Name) -> String {
    name.to_string()
}

/// The name without its final dot, as dig names a server (`ns.example`).
pub fn server_name(name: &Name) -> String {
    let text = show(name);
    match text.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => text,
    }
}

/// The RCODE mnemonic (dig's spelling), or the number.
fn rcode_text(rcode: u16) -> String {
    crate::render::dig::rcode_name(rcode).into_owned()
}

/// Reads what a response to `qname` from a server of `asked` means.
/// `asked`: the zone whose servers were asked (None for a recursive
/// resolver, whose answers are taken as they come).
pub fn judge(asked: Option<&Name>, qname: &Name, msg: &Message<'_>) -> Judged {
    let mut warnings = Vec::new();
    let rcode = msg.rcode();
    let Some(asked) = asked else {
        return Judged {
            verdict: Verdict::Answer,
            warnings,
        };
    };
    if rcode != 0 && rcode != 3 {
        warnings.push(format!(
            "WARNING: lame server for {}: status {}",
            show(asked),
            rcode_text(rcode)
        ));
        return Judged {
            verdict: Verdict::Lame,
            warnings,
        };
    }
    let answers_name = msg.answer.iter().any(|r| r.name.eq_ignore_case(qname));
    if answers_name || (msg.header.aa() && msg.answer.is_empty() && !has_ns(msg)) {
        return Judged {
            verdict: Verdict::Answer,
            warnings,
        };
    }
    if msg.header.aa() && !answers_name && !msg.answer.is_empty() {
        // An authoritative answer about other names only.
        return Judged {
            verdict: Verdict::Answer,
            warnings,
        };
    }
    let ns: Vec<(&crate::dns::wire::Record, Name)> = msg
        .authority
        .iter()
        .filter(|r| r.rtype == types::NS)
        .filter_map(|r| {
            read_name(msg.bytes, r.rdata.start)
                .ok()
                .map(|(n, _)| (r, n))
        })
        .collect();
    let Some((first, _)) = ns.first() else {
        if msg.header.aa() {
            return Judged {
                verdict: Verdict::Answer,
                warnings,
            };
        }
        warnings.push(format!(
            "WARNING: lame server for {}: no answer, no referral and no AA flag",
            show(asked)
        ));
        return Judged {
            verdict: Verdict::Lame,
            warnings,
        };
    };
    let zone = first.name.clone();
    if msg.header.aa() && zone.eq_ignore_case(asked) {
        // The zone's own NS set beside an authoritative no-data answer.
        return Judged {
            verdict: Verdict::Answer,
            warnings,
        };
    }
    if !is_below(&zone, asked) || !is_at_or_below(qname, &zone) {
        warnings.push(if !is_below(&zone, asked) {
            format!(
                "WARNING: out-of-bailiwick referral from a server of {} to {} (not below {}): ignored",
                show(asked),
                show(&zone),
                show(asked)
            )
        } else {
            format!(
                "WARNING: bad referral from a server of {} to {} (not above {}): ignored",
                show(asked),
                show(&zone),
                show(qname)
            )
        });
        return Judged {
            verdict: Verdict::Lame,
            warnings,
        };
    }
    let mut servers: Vec<NsServer> = Vec::new();
    for (r, name) in &ns {
        if !r.name.eq_ignore_case(&zone) {
            warnings.push(format!(
                "WARNING: NS record for {} beside a referral to {}: ignored",
                show(&r.name),
                show(&zone)
            ));
            continue;
        }
        if !servers.iter().any(|s| s.name.eq_ignore_case(name)) {
            servers.push(NsServer {
                name: name.clone(),
                addrs: Vec::new(),
            });
        }
    }
    for r in &msg.additional {
        let addr = match glue_addr(msg, r) {
            Some(a) => a,
            None => continue,
        };
        let Some(server) = servers.iter_mut().find(|s| s.name.eq_ignore_case(&r.name)) else {
            continue;
        };
        if !is_at_or_below(&r.name, asked) {
            warnings.push(format!(
                "WARNING: out-of-bailiwick glue for {} ({addr}) from a server of {}: ignored",
                show(&r.name),
                show(asked)
            ));
            continue;
        }
        if !server.addrs.contains(&addr) {
            server.addrs.push(addr);
        }
    }
    Judged {
        verdict: Verdict::Referral { zone, servers },
        warnings,
    }
}

fn has_ns(msg: &Message<'_>) -> bool {
    msg.authority.iter().any(|r| r.rtype == types::NS)
}

/// The address of an A or AAAA record, if it is one with a well-formed RDATA.
pub fn glue_addr(msg: &Message<'_>, r: &crate::dns::wire::Record) -> Option<IpAddr> {
    let rdata = msg.rdata(r);
    match r.rtype {
        types::A => <[u8; 4]>::try_from(rdata).ok().map(IpAddr::from),
        types::AAAA => <[u8; 16]>::try_from(rdata).ok().map(IpAddr::from),
        _ => None,
    }
}

/// The IANA root servers (root hints as of 2023, when b.root-servers.net
/// was renumbered), in the root hints file format.
pub const BUILT_IN_HINTS: &str = "\
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
";

/// The most servers a hints file may name.
const MAX_HINT_SERVERS: usize = 64;

/// Reads root hints (the `named.root` format: `. NS name` and `name A|AAAA
/// addr` lines, optional TTL and class, `;` comments, `$` directives
/// ignored): the root servers with their addresses, in file order. Fails,
/// saying the line, on anything else, and when no server has an address.
pub fn parse_hints(text: &str) -> Result<Vec<NsServer>, String> {
    let mut servers: Vec<NsServer> = Vec::new();
    let mut addrs: Vec<(Name, IpAddr)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(';').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('$') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("line {}: not a root hint", n + 1);
        let owner = Name::from_text(words.first().ok_or_else(bad)?).map_err(|_| bad())?;
        let mut rest = &words[1..];
        if rest.first().is_some_and(|w| w.parse::<u32>().is_ok()) {
            rest = &rest[1..];
        }
        if rest.first().is_some_and(|w| w.eq_ignore_ascii_case("IN")) {
            rest = &rest[1..];
        }
        match rest {
            [t, name] if t.eq_ignore_ascii_case("NS") && owner.is_root() => {
                let name = Name::from_text(name).map_err(|_| bad())?;
                if !servers.iter().any(|s| s.name.eq_ignore_case(&name)) {
                    servers.push(NsServer {
                        name,
                        addrs: Vec::new(),
                    });
                }
            }
            [t, addr] if t.eq_ignore_ascii_case("A") || t.eq_ignore_ascii_case("AAAA") => {
                let ip: IpAddr = addr.parse().map_err(|_| bad())?;
                if ip.is_ipv4() != t.eq_ignore_ascii_case("A") {
                    return Err(bad());
                }
                addrs.push((owner, ip));
            }
            _ => return Err(bad()),
        }
        if servers.len() > MAX_HINT_SERVERS || addrs.len() > 4 * MAX_HINT_SERVERS {
            return Err(format!("more than {MAX_HINT_SERVERS} servers"));
        }
    }
    for (name, ip) in addrs {
        if let Some(s) = servers.iter_mut().find(|s| s.name.eq_ignore_case(&name)) {
            s.addrs.push(ip);
        }
    }
    servers.retain(|s| !s.addrs.is_empty());
    if servers.is_empty() {
        return Err("no root server with an address".into());
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(t: &str) -> Name {
        Name::from_text(t).unwrap()
    }

    #[test]
    fn bailiwick_tests_compare_whole_labels_without_case() {
        assert!(is_at_or_below(&name("www.Lab.test."), &name("lab.TEST.")));
        assert!(is_below(&name("lab.test."), &name(".")));
        assert!(!is_below(&name("test."), &name("test.")));
        assert!(!is_at_or_below(&name("xlab.test."), &name("lab.test.")));
        assert!(!is_at_or_below(&name("test."), &name("lab.test.")));
    }

    type Rr = (String, u16, Vec<u8>);

    /// A response to `qname` A with these flags and sections.
    fn response(aa: bool, rcode: u8, qname: &str, sections: [&[Rr]; 3]) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, if aa { 0x84 } else { 0x80 }, rcode, 0, 1];
        for s in &sections {
            m.extend(u16::try_from(s.len()).unwrap().to_be_bytes());
        }
        m.extend(name(qname).as_wire());
        m.extend([0, 1, 0, 1]);
        for (owner, rtype, rdata) in sections.iter().flat_map(|s| s.iter()) {
            m.extend(name(owner).as_wire());
            m.extend(rtype.to_be_bytes());
            m.extend([0, 1, 0, 0, 14, 16]);
            m.extend(u16::try_from(rdata.len()).unwrap().to_be_bytes());
            m.extend(rdata);
        }
        m
    }

    fn ns(owner: &str, target: &str) -> Rr {
        (owner.to_owned(), types::NS, name(target).as_wire().to_vec())
    }

    fn a(owner: &str, last: u8) -> Rr {
        (owner.to_owned(), types::A, vec![192, 0, 2, last])
    }

    /// A referral-shaped response to `qname` (not authoritative, NOERROR,
    /// no answer): `authority` and `additional` as given.
    fn referral(qname: &str, authority: &[Rr], additional: &[Rr]) -> Vec<u8> {
        response(false, 0, qname, [&[], authority, additional])
    }

    fn judged(asked: &str, qname: &str, bytes: &[u8]) -> Judged {
        judge(
            Some(&name(asked)),
            &name(qname),
            &Message::parse(bytes).unwrap(),
        )
    }

    #[test]
    fn a_referral_down_with_glue_is_followed_silently() {
        let m = referral(
            "www.lab.test.",
            &[
                ns("lab.test.", "ns1.lab.test."),
                ns("lab.test.", "ns.elsewhere."),
            ],
            &[a("ns1.lab.test.", 1)],
        );
        let j = judged("test.", "www.lab.test.", &m);
        assert!(j.warnings.is_empty(), "{:?}", j.warnings);
        let Verdict::Referral { zone, servers } = j.verdict else {
            panic!("{:?}", j.verdict)
        };
        assert_eq!(zone.to_string(), "lab.test.");
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].addrs, vec![IpAddr::from([192, 0, 2, 1])]);
        assert!(servers[1].addrs.is_empty(), "glueless");
    }

    #[test]
    fn glue_outside_the_zone_asked_is_flagged_and_dropped() {
        let m = referral(
            "www.lab.test.",
            &[ns("lab.test.", "ns.elsewhere.")],
            &[a("ns.elsewhere.", 9)],
        );
        let j = judged("test.", "www.lab.test.", &m);
        assert_eq!(
            j.warnings,
            ["WARNING: out-of-bailiwick glue for ns.elsewhere. (192.0.2.9) from a server of test.: ignored"]
        );
        let Verdict::Referral { servers, .. } = j.verdict else {
            panic!()
        };
        assert!(servers[0].addrs.is_empty());
    }

    #[test]
    fn referrals_sideways_up_or_away_from_the_name_are_not_followed() {
        let sideways = referral("www.test.", &[ns("test.", "ns.test.")], &[]);
        let j = judged("test.", "www.test.", &sideways);
        assert_eq!(j.verdict, Verdict::Lame);
        assert!(
            j.warnings[0].contains("out-of-bailiwick referral"),
            "{:?}",
            j.warnings
        );
        let up = referral("www.lab.test.", &[ns(".", "a.root.")], &[]);
        assert_eq!(
            judged("lab.test.", "www.lab.test.", &up).verdict,
            Verdict::Lame
        );
        let away = referral("www.lab.test.", &[ns("other.test.", "ns.x.")], &[]);
        let j = judged("test.", "www.lab.test.", &away);
        assert_eq!(j.verdict, Verdict::Lame);
        assert!(
            j.warnings[0].starts_with("WARNING: bad referral"),
            "{:?}",
            j.warnings
        );
    }

    #[test]
    fn lame_servers_and_answers_are_told_apart() {
        let refused = response(false, 5, "www.lab.test.", [&[], &[], &[]]);
        let j = judged("lab.test.", "www.lab.test.", &refused);
        assert_eq!(j.verdict, Verdict::Lame);
        assert_eq!(
            j.warnings,
            ["WARNING: lame server for lab.test.: status REFUSED"]
        );
        let empty = response(false, 0, "www.lab.test.", [&[], &[], &[]]);
        assert_eq!(
            judged("lab.test.", "www.lab.test.", &empty).verdict,
            Verdict::Lame
        );
        let nxdomain = response(true, 3, "nx.lab.test.", [&[], &[], &[]]);
        assert_eq!(
            judged("lab.test.", "nx.lab.test.", &nxdomain).verdict,
            Verdict::Answer
        );
        let answer = response(
            false,
            0,
            "www.lab.test.",
            [&[a("www.lab.test.", 80)], &[], &[]],
        );
        let j = judged("lab.test.", "www.lab.test.", &answer);
        assert_eq!((j.verdict, j.warnings.len()), (Verdict::Answer, 0));
    }

    #[test]
    fn the_built_in_hints_name_thirteen_servers_with_both_families() {
        let hints = parse_hints(BUILT_IN_HINTS).unwrap();
        assert_eq!(hints.len(), 13);
        assert!(hints.iter().all(|s| s.addrs.len() == 2));
        assert_eq!(hints[0].addrs[0], "198.41.0.4".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_hints_file_with_junk_is_refused_with_its_line() {
        let e = parse_hints(". NS a.root.\na.root. A 127.0.0.2\nwhat is this\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(parse_hints(". NS a.root.\n").is_err(), "no address");
        assert!(parse_hints("a.root. A ::1\n. NS a.root.\n").is_err());
        let ok = parse_hints("$TTL 1\n; c\n. 1 IN NS a.root.\na.root. IN A 127.0.0.2\n").unwrap();
        assert_eq!(ok[0].addrs, vec!["127.0.0.2".parse::<IpAddr>().unwrap()]);
    }
}
